#!/usr/bin/env bash
# MUD enforcement with real traffic. The test makes its own network namespaces: a router that
# runs the site's nftables policy, a managed device, its controller, another local device, a
# DNS server (dnsmasq) and an "internet" host, each on its own link to the router. TCP, UDP
# and ICMP flows must pass or drop exactly as the device's MUD file says, including a DNS name
# whose address changes after its TTL and `direction-initiated` rules; refused MUD files must
# leave the policy in force untouched.
source "$(dirname "$0")/lib.sh"

require_netns nc ping dnsmasq timeout busybox

NS=cc$$
HOSTS=(router dev ctl peer dns inet)
start_namespaces
step "namespaces: router + 5 hosts, one link each"
link dev 10.77.1
link ctl 10.77.2
link peer 10.77.3
link dns 10.77.4
link inet 172.31.9
in_ns inet ip addr add 172.31.9.3/24 dev eth0   # the api name's second address

step "services: listeners on the hosts, dnsmasq answering api.test.example with TTL 2"
listen() {
  in_ns "$1" nc -lk "$2" >/dev/null 2>&1 &
  PIDS+=($!)
  wait_listening "$1" tcp "$2"
}
listen inet 443
listen inet 80
listen ctl 8080
listen ctl 8081
listen ctl 23
listen dev 2222
listen dev 9999
start_dns() {
  # Not through in_ns: a backgrounded function would be a subshell, and $! its pid.
  ip netns exec "$NS-dns" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --listen-address=10.77.4.2 --bind-interfaces --local=/test.example/ --local-ttl=2 --user=root \
    --pid-file="$WORK/dnsmasq.pid" --host-record="api.test.example,$1" \
      >>"$WORK/dnsmasq.log" 2>&1 &
  DNS_PID=$!
  PIDS+=($DNS_PID)
  wait_listening dns udp 53
}
start_dns 172.31.9.2

step "maker signs the device's MUD file; the site trusts the maker for mud.test.example"
cat >"$WORK/sensor.json" <<'JSON'
{
  "ietf-mud:mud": {
    "mud-version": 1, "mud-url": "https://mud.test.example/sensor.json",
    "last-update": "2026-11-20T09:00:00+00:00", "cache-validity": 48, "is-supported": true,
    "systeminfo": "Test sensor", "mfg-name": "Test",
    "from-device-policy": {"access-lists": {"access-list": [{"name": "out"}]}},
    "to-device-policy": {"access-lists": {"access-list": [{"name": "in"}]}}
  },
  "ietf-access-control-list:acls": {"acl": [
    {"name": "out", "type": "ipv4-acl-type", "aces": {"ace": [
      {"name": "api", "matches": {"ipv4": {"protocol": 6, "ietf-acldns:dst-dnsname": "api.test.example"},
        "tcp": {"destination-port": {"operator": "eq", "port": 443},
                "ietf-mud:direction-initiated": "from-device"}}, "actions": {"forwarding": "accept"}},
      {"name": "hub", "matches": {"ietf-mud:mud": {"controller": "urn:test:hub"},
        "tcp": {"destination-port": {"operator": "eq", "port": 8080}}}, "actions": {"forwarding": "accept"}},
      {"name": "console-replies", "matches": {"ietf-mud:mud": {"my-controller": [null]},
        "tcp": {"source-port": {"operator": "eq", "port": 2222},
                "ietf-mud:direction-initiated": "to-device"}}, "actions": {"forwarding": "accept"}},
      {"name": "coap", "matches": {"ietf-mud:mud": {"local-networks": [null]},
        "udp": {"destination-port": {"operator": "eq", "port": 5683}}}, "actions": {"forwarding": "accept"}},
      {"name": "ping", "matches": {"ietf-mud:mud": {"local-networks": [null]}, "ipv4": {"protocol": 1},
        "icmp": {"type": 8}}, "actions": {"forwarding": "accept"}}]}},
    {"name": "in", "type": "ipv4-acl-type", "aces": {"ace": [
      {"name": "api", "matches": {"ipv4": {"protocol": 6, "ietf-acldns:src-dnsname": "api.test.example"},
        "tcp": {"source-port": {"operator": "eq", "port": 443},
                "ietf-mud:direction-initiated": "from-device"}}, "actions": {"forwarding": "accept"}},
      {"name": "hub", "matches": {"ietf-mud:mud": {"controller": "urn:test:hub"},
        "tcp": {"source-port": {"operator": "eq", "port": 8080}}}, "actions": {"forwarding": "accept"}},
      {"name": "console", "matches": {"ietf-mud:mud": {"my-controller": [null]},
        "tcp": {"destination-port": {"operator": "eq", "port": 2222},
                "ietf-mud:direction-initiated": "to-device"}}, "actions": {"forwarding": "accept"}},
      {"name": "coap", "matches": {"ietf-mud:mud": {"local-networks": [null]},
        "udp": {"source-port": {"operator": "eq", "port": 5683}}}, "actions": {"forwarding": "accept"}},
      {"name": "pong", "matches": {"ietf-mud:mud": {"local-networks": [null]}, "ipv4": {"protocol": 1},
        "icmp": {"type": 0}}, "actions": {"forwarding": "accept"}}]}}
  ]}
}
JSON
"$BIN" maker init --dir "$WORK/maker" --name "Test Maker" >/dev/null
"$BIN" maker mud-sign --dir "$WORK/maker" --file "$WORK/sensor.json" >/dev/null
MUD="$WORK/maker/mud/sensor.json"
SIG="$WORK/maker/mud/sensor.p7s"
SITE="$WORK/site"
"$BIN" site init --dir "$SITE" --name "Test Site" >/dev/null
"$BIN" mud trust mud.test.example --ca "$WORK/maker/ca.pem" --dir "$SITE" >/dev/null

step "site facts, the DHCP hook reports the device with its MUD URL, the file is loaded"
"$BIN" policy fact add local-network 10.77.0.0/16 --dir "$SITE" >/dev/null
"$BIN" policy fact add controller urn:test:hub 10.77.2.2 --dir "$SITE" >/dev/null
"$BIN" policy fact add my-controller https://mud.test.example/sensor.json 10.77.2.2 --dir "$SITE" >/dev/null
"$BIN" policy fact add dns-server 10.77.4.2 --dir "$SITE" >/dev/null
# The router's DHCP server (dnsmasq) hands the device its address; the device sends its MUD
# URL as option 161, and dnsmasq's --dhcp-script hook passes it on (docs/mud.md).
cat >"$WORK/dhcp-hook.sh" <<HOOK
#!/bin/sh
case "\$1" in
  add|old) exec "$(readlink -f "$BIN")" mud seen --dir "$SITE" --mac "\$2" --ip "\$3" \
             \${DNSMASQ_MUD_URL:+--mud-url "\$DNSMASQ_MUD_URL"} >>"$WORK/dhcp-hook.log" 2>&1 ;;
esac
HOOK
chmod +x "$WORK/dhcp-hook.sh"
ip netns exec "$NS-router" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
  --interface="r-dev-$$" --bind-interfaces --dhcp-range=10.77.1.2,10.77.1.2,255.255.255.0,1h \
  --no-ping --log-facility=- --log-dhcp \
  --dhcp-script="$WORK/dhcp-hook.sh" --dhcp-leasefile="$WORK/leases" --user=root \
  --pid-file="$WORK/dhcp.pid" >"$WORK/dhcp.log" 2>&1 &
PIDS+=($!)
wait_listening router udp 67
mud_url_hex=$(printf '%s' https://mud.test.example/sensor.json | od -An -tx1 | tr -d ' \n')
in_ns dev busybox udhcpc -i eth0 -f -q -n -t 5 -T 1 -s /bin/true -x "0xa1:$mud_url_hex" \
  >"$WORK/udhcpc.log" 2>&1 || { cat "$WORK/udhcpc.log" "$WORK/dhcp.log"; fail "no DHCP lease"; }
for _ in $(seq 1 30); do
  grep -q "uses https://mud.test.example/sensor.json" "$WORK/dhcp-hook.log" 2>/dev/null && break
  sleep 0.2
done
cat "$WORK/dhcp-hook.log"
grep -q "device mac-.* at 10.77.1.2 uses https://mud.test.example/sensor.json" "$WORK/dhcp-hook.log" \
  || fail "the DHCP hook did not report the device's MUD URL"
"$BIN" mud load --file "$MUD" --signature "$SIG" --dir "$SITE" >/dev/null

step "apply in the router namespace"
in_ns router "$BIN" policy apply --dir "$SITE" | tee "$WORK/apply.txt"
grep -q "^applied: 1 device(s)" "$WORK/apply.txt" || fail "policy was not applied"
in_ns router "$BIN" policy apply --dir "$SITE" >"$WORK/again.txt"
grep -q "^unchanged" "$WORK/again.txt" || fail "re-applying the same policy was not a no-op"
in_ns router nft list table inet concierge >"$WORK/table.txt"
grep -q "10.77.1.2 : jump" "$WORK/table.txt" || fail "the router's table does not dispatch the device"

tcp_ok() { in_ns "$1" nc -z -w 2 "${@:2}" >/dev/null 2>&1; }
expect_tcp() {  # expect_tcp pass|drop FROM [nc options] HOST PORT  -- why
  local want=$1 from=$2 why=${*: -1}
  local args=("${@:3:$#-3}")
  if tcp_ok "$from" "${args[@]}"; then got=pass; else got=drop; fi
  [ "$got" = "$want" ] || fail "TCP $from -> ${args[*]}: $got, expected $want ($why)"
  echo "  ok: TCP $from -> ${args[*]} $want ($why)"
}
expect_udp() {  # expect_udp pass|drop FROM TO_HOST TO_IP PORT -- why
  local want=$1 from=$2 to=$3 ip=$4 port=$5 why=$6
  rm -f "$WORK/udp.out"
  in_ns "$to" timeout 3 nc -u -l "$port" >"$WORK/udp.out" 2>/dev/null &
  local listener=$!
  wait_listening "$to" udp "$port"
  in_ns "$from" bash -c "echo datagram >/dev/udp/$ip/$port" || true
  wait "$listener" || true
  if grep -q datagram "$WORK/udp.out"; then got=pass; else got=drop; fi
  [ "$got" = "$want" ] || fail "UDP $from -> $ip:$port: $got, expected $want ($why)"
  echo "  ok: UDP $from -> $ip:$port $want ($why)"
}
expect_ping() {
  local want=$1 from=$2 ip=$3 why=$4
  if in_ns "$from" ping -c 1 -W 1 "$ip" >/dev/null 2>&1; then got=pass; else got=drop; fi
  [ "$got" = "$want" ] || fail "ICMP $from -> $ip: $got, expected $want ($why)"
  echo "  ok: ICMP $from -> $ip $want ($why)"
}

step "traffic as the MUD file says"
expect_tcp pass dev 172.31.9.2 443 "api name, initiated by the device"
expect_tcp drop dev 172.31.9.2 80 "port not in the file"
expect_tcp drop dev 172.31.9.3 443 "address the api name does not have yet"
expect_tcp drop inet -p 443 10.77.1.2 9999 "api port, but the internet host initiated"
expect_tcp pass dev 10.77.2.2 8080 "controller class urn:test:hub"
expect_tcp drop dev 10.77.2.2 8081 "controller, other port"
expect_tcp pass ctl 10.77.1.2 2222 "my-controller opens the console"
expect_tcp drop peer 10.77.1.2 2222 "a local device that is not the controller"
expect_tcp drop dev -p 2222 10.77.2.2 8081 "console port, initiated by the device"
expect_udp pass dev peer 10.77.3.2 5683 "CoAP to the local network"
expect_udp drop dev peer 10.77.3.2 5684 "other UDP port"
expect_udp drop dev inet 172.31.9.2 5683 "CoAP to the internet"
expect_ping pass dev 10.77.3.2 "echo to the local network"
expect_ping drop peer 10.77.1.2 "echo request to the device"
expect_ping drop dev 172.31.9.2 "echo to the internet"
expect_tcp pass peer 172.31.9.2 80 "an unmanaged device is not touched"

step "the api name moves to 172.31.9.3; the refresh loop follows it once the TTL runs out"
ip netns exec "$NS-router" "$BIN" mud refresh --every 1 --dir "$SITE" >"$WORK/refresh.txt" 2>&1 &
REFRESH_PID=$!
PIDS+=($REFRESH_PID)
kill "$DNS_PID"; wait "$DNS_PID" 2>/dev/null || true
start_dns 172.31.9.3
for _ in $(seq 1 20); do
  grep -q "1 changed" "$WORK/refresh.txt" && break
  sleep 0.5
done
kill "$REFRESH_PID"; wait "$REFRESH_PID" 2>/dev/null || true
cat "$WORK/refresh.txt"
grep -q "1 changed" "$WORK/refresh.txt" || fail "the new answer was not noticed within 10 s"
grep -q "^applied:" "$WORK/refresh.txt" || fail "the refresh did not re-apply"
expect_tcp pass dev 172.31.9.3 443 "the name's new address"
expect_tcp drop dev 172.31.9.2 443 "the name's old address"

step "refused MUD files leave the policy in force"
before=$(in_ns router nft list table inet concierge | sha256sum)
sed 's/"port": 8080/"port": 23/' "$MUD" >"$WORK/tampered.json"
expect_exit 1 "signature" in_ns router "$BIN" mud load --file "$WORK/tampered.json" --signature "$SIG" --dir "$SITE"
head -c 2000000 /dev/zero | tr '\0' ' ' >"$WORK/huge.json"
expect_exit 2 "" in_ns router "$BIN" mud load --file "$WORK/huge.json" --signature "$SIG" --dir "$SITE"
in_ns router "$BIN" policy apply --dir "$SITE" >"$WORK/again.txt"
grep -q "^unchanged" "$WORK/again.txt" || fail "a refused file changed the policy"
after=$(in_ns router nft list table inet concierge | sha256sum)
[ "$before" = "$after" ] || fail "the kernel's table changed after refusals"
expect_tcp pass dev 10.77.2.2 8080 "still allowed after the refusals"
expect_tcp drop dev 10.77.2.2 23 "the tampered file's port stays closed"

step "audit chain records the policy changes"
applied_events=$("$BIN" audit show --dir "$SITE" | grep -c "policy.applied" || true)
[ "$applied_events" = 2 ] || fail "expected two policy.applied events, found $applied_events"

step "quarantine cuts the device off at once, spares DHCP, and release lets it back"
DEV=$(sed -n 's/.*device \(mac-[^ ]*\) at 10.77.1.2 .*/\1/p' "$WORK/dhcp-hook.log" | head -1)
[ -n "$DEV" ] || fail "no device name in the DHCP hook's log"
in_ns router "$BIN" devices quarantine "$DEV" --reason "scanning the lobby" --dir "$SITE" \
  | tee "$WORK/quarantine.txt"
grep -q "^device $DEV quarantined; policy applied (nftables)" "$WORK/quarantine.txt" \
  || fail "the quarantine was not applied"
in_ns router nft list table inet concierge | has "ip saddr @quarantine_4 counter" \
  || fail "the router's table has no quarantine chain"
expect_tcp drop dev 10.77.2.2 8080 "quarantined: even a flow its MUD file declares"
expect_tcp drop ctl 10.77.1.2 2222 "quarantined: its controller cannot reach it either"
expect_ping drop dev 10.77.3.2 "quarantined"
expect_tcp pass peer 172.31.9.2 80 "another device is not touched"
in_ns dev busybox udhcpc -i eth0 -f -q -n -t 5 -T 1 -s /bin/true >"$WORK/udhcpc2.log" 2>&1 \
  || { cat "$WORK/udhcpc2.log"; fail "a quarantined device lost DHCP"; }
in_ns router "$BIN" devices release "$DEV" --dir "$SITE" | tee "$WORK/release.txt"
grep -q "^device $DEV released; policy applied (nftables)" "$WORK/release.txt" \
  || fail "the release was not applied"
expect_tcp pass dev 10.77.2.2 8080 "released"
expect_tcp pass ctl 10.77.1.2 2222 "released"
"$BIN" audit show --device "$DEV" --dir "$SITE" >"$WORK/trail.txt"
grep -q "device.quarantined" "$WORK/trail.txt" && grep -q "device.released" "$WORK/trail.txt" \
  || { cat "$WORK/trail.txt"; fail "the quarantine is not in the device's audit trail"; }
"$BIN" audit verify --dir "$SITE" >/dev/null || fail "audit chain broken"
echo "PASS"
