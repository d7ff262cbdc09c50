#!/usr/bin/env bash
# The exposure analyzer against a real scanner. Namespaces made here: a router running the
# site's nftables policy; three cameras listening on the telnet ports (23, 2323) and a video port;
# a fourth camera playing the infected one, running nmap; a C&C/loader host at the edge of the
# LAN; and a cloud host. The cameras' MUD file is in the experiment's relaxed form (TCP on any
# port within the local network): nmap finds the telnet ports and the C&C answers. After
# `exposure tighten --apply`, nmap finds nothing and the C&C is unreachable, while every flow
# the MUD file declares (the cloud on 443, the video port between cameras) still passes.
source "$(dirname "$0")/lib.sh"

require_netns nc nmap timeout

NS=cx$$
HOSTS=(router cam1 cam2 cam3 bot cnc cloud)
start_namespaces
step "namespaces: router + 6 hosts, one link each"
link cam1 10.88.1
link cam2 10.88.2
link cam3 10.88.3
link bot 10.88.4
link cnc 10.88.9
link cloud 172.30.9

step "services: listeners on the telnet ports 23 and 2323 and 8554 on each camera; C&C, report, loader; cloud"
listen() {
  ip netns exec "$NS-$1" nc -lk "$2" >/dev/null 2>&1 &
  PIDS+=($!)
  wait_listening "$1" tcp "$2"
}
for cam in cam1 cam2 cam3; do
  listen "$cam" 23  # Debian's busybox has no telnetd: a listener stands in for it
  listen "$cam" 2323
  listen "$cam" 8554
done
listen cnc 2030
listen cnc 48101
listen cnc 80
listen cloud 443

step "the maker's MUD file, signed; the site trusts it and manages four cameras"
cat >"$WORK/camera.json" <<'JSON'
{
  "ietf-mud:mud": {
    "mud-version": 1, "mud-url": "https://mud.cams.example/camera.json",
    "last-update": "2026-11-20T09:00:00+00:00", "cache-validity": 48, "is-supported": true,
    "systeminfo": "Test camera, MUD file widened as the INXU experiment did", "mfg-name": "Cams",
    "from-device-policy": {"access-lists": {"access-list": [{"name": "out"}]}},
    "to-device-policy": {"access-lists": {"access-list": [{"name": "in"}]}}
  },
  "ietf-access-control-list:acls": {"acl": [
    {"name": "out", "type": "ipv4-acl-type", "aces": {"ace": [
      {"name": "cloud", "matches": {"ipv4": {"protocol": 6, "destination-ipv4-network": "172.30.9.2/32"},
        "tcp": {"destination-port": {"operator": "eq", "port": 443}}}, "actions": {"forwarding": "accept"}},
      {"name": "lan", "matches": {"ietf-mud:mud": {"local-networks": [null]}, "ipv4": {"protocol": 6}},
        "actions": {"forwarding": "accept"}}]}},
    {"name": "in", "type": "ipv4-acl-type", "aces": {"ace": [
      {"name": "cloud", "matches": {"ipv4": {"protocol": 6, "source-ipv4-network": "172.30.9.2/32"},
        "tcp": {"source-port": {"operator": "eq", "port": 443}}}, "actions": {"forwarding": "accept"}},
      {"name": "lan", "matches": {"ietf-mud:mud": {"local-networks": [null]}, "ipv4": {"protocol": 6}},
        "actions": {"forwarding": "accept"}}]}}
  ]}
}
JSON
"$BIN" maker init --dir "$WORK/maker" --name "Cams" >/dev/null
"$BIN" maker mud-sign --dir "$WORK/maker" --file "$WORK/camera.json" >/dev/null
SITE="$WORK/site"
"$BIN" site init --dir "$SITE" --name "Test Site" >/dev/null
"$BIN" mud trust mud.cams.example --ca "$WORK/maker/ca.pem" --dir "$SITE" >/dev/null
"$BIN" policy fact add local-network 10.88.0.0/16 --dir "$SITE" >/dev/null
"$BIN" mud load --file "$WORK/maker/mud/camera.json" --signature "$WORK/maker/mud/camera.p7s" \
  --dir "$SITE" >/dev/null
for i in 1 2 3 4; do
  "$BIN" mud assign "cam-$i" https://mud.cams.example/camera.json --address "10.88.$i.2" \
    --dir "$SITE" >/dev/null
  "$BIN" exposure mark "cam-$i" factory-credentials --dir "$SITE" >/dev/null
done
cat >"$WORK/threats.json" <<'JSON'
{"threats": [
  {"name": "mirai-telnet", "kind": "exploit", "protocol": "tcp", "ports": [23, 2323],
   "weakness": "factory-credentials", "weight": 10, "explanation": "telnet login with factory credentials"},
  {"name": "mirai-report", "kind": "operation", "protocol": "tcp", "ports": [48101],
   "peers": ["10.88.9.2"], "weight": 5, "explanation": "cracked logins reported"},
  {"name": "mirai-loader", "kind": "operation", "protocol": "tcp", "ports": [80],
   "peers": ["10.88.9.2"], "weight": 5, "explanation": "the bot fetched from the loader"},
  {"name": "mirai-cnc", "kind": "operation", "protocol": "tcp", "ports": [2030],
   "peers": ["10.88.9.2"], "weight": 8, "explanation": "orders from the C&C"}]}
JSON
"$BIN" exposure knowledge --threats "$WORK/threats.json" --dir "$SITE" >/dev/null
echo '{"threats": [{"name": "x", "kind": "exploit", "protocol": "tcp", "ports": [0], "weakness": "w"}]}' \
  >"$WORK/bad-threats.json"
expect_exit 2 "threats\[0\].ports\[0\]" "$BIN" exposure knowledge --dir "$SITE" --threats "$WORK/bad-threats.json"
in_ns router "$BIN" policy apply --dir "$SITE" >/dev/null

scan() {  # prints the open telnet ports nmap finds from the infected camera
  in_ns bot nmap -n -Pn -sT --max-retries 1 --host-timeout 20s -p 23,2323 \
    10.88.1.2 10.88.2.2 10.88.3.2 -oG - | grep -o '[0-9]*/open' | sort | uniq -c || true
}
reach() { in_ns "$1" timeout 3 nc -z -w 2 "$2" "$3"; }

step "under the relaxed MUD policy the scanner finds telnet on every camera, and the C&C answers"
scan | tee "$WORK/before.txt"
grep -q "3 23/open" "$WORK/before.txt" || fail "nmap did not find telnet open on the three cameras"
grep -q "3 2323/open" "$WORK/before.txt" || fail "nmap did not find 2323 open on the three cameras"
reach bot 10.88.9.2 2030 || fail "the C&C should be reachable before tightening"

step "the analyzer: show, explain, tighten (dry run), then apply"
"$BIN" exposure show --dir "$SITE" | tee "$WORK/show.txt"
grep -q "mirai-telnet reachable" "$WORK/show.txt" || fail "show lacks the telnet exposure"
"$BIN" exposure explain cam-2 --dir "$SITE" | tee "$WORK/explain.txt"
grep -q "in/lan allows" "$WORK/explain.txt" || fail "explain does not say which entry lets telnet in"
"$BIN" exposure tighten --dir "$SITE" --json >"$WORK/dry.json"
grep -q '"legit_flows_blocked": 0' "$WORK/dry.json" || fail "tightening would break a declared flow"
before=$(in_ns router nft list table inet concierge | sha256sum)
[ "$before" = "$(in_ns router nft list table inet concierge | sha256sum)" ] || fail "a dry run changed the ruleset"
in_ns router "$BIN" exposure tighten --apply --dir "$SITE" | tee "$WORK/tighten.txt"
grep -q "in one transaction" "$WORK/tighten.txt" || fail "tighten --apply did not apply"
in_ns router nft list chain inet concierge exposure >/dev/null || fail "no exposure chain in the table"

step "after tightening: the scanner finds nothing, the C&C, report server and loader are cut"
scan | tee "$WORK/after.txt"
[ ! -s "$WORK/after.txt" ] || fail "nmap still finds open telnet ports"
for port in 2030 48101 80; do
  ! reach bot 10.88.9.2 "$port" || fail "the bot still reaches 10.88.9.2:$port"
done

step "every declared flow still passes"
reach cam1 172.30.9.2 443 || fail "cam1 lost its cloud"
reach cam3 172.30.9.2 443 || fail "cam3 lost its cloud"
reach cam1 10.88.2.2 8554 || fail "cam1 lost the video port of cam2"
reach bot 10.88.3.2 8554 || fail "the fourth camera lost the video port of cam3"

step "re-applying is a no-op; policy apply keeps the blocks; the audit records the tightening"
in_ns router "$BIN" exposure tighten --apply --dir "$SITE" | has "^unchanged" || fail "re-apply changed the ruleset"
in_ns router "$BIN" policy apply --dir "$SITE" | has "^unchanged" || fail "policy apply dropped the blocks"
"$BIN" audit show --dir "$SITE" | has "exposure.tightening" || fail "no exposure.tightening audit event"
"$BIN" audit verify --dir "$SITE" >/dev/null || fail "audit chain broken"

step "the picture"
"$BIN" exposure graph --dir "$SITE" --format svg --out "$WORK/exposure.svg" >/dev/null
grep -q "<svg" "$WORK/exposure.svg" || fail "no SVG written"

step "tightening off restores the relaxed policy"
in_ns router "$BIN" exposure tighten --off --dir "$SITE" >/dev/null
scan | has "23/open" || fail "telnet should be reachable again with tightening off"
echo "PASS"
