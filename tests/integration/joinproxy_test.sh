#!/usr/bin/env bash
# Stateless join proxying with real processes on loopback: the registrar announces its JPY
# port in discovery; `concierge joinproxy` relays 10 pledges' DTLS to it and they enroll
# (LDevIDs checked by openssl); stateful mode, chosen by discovery, with its limits; the
# proxy's memory with 1 and 1,000 handshakes under way; a proxy restarted mid-handshake with
# its kept key lets the handshake go on; a flood from one source is limited while another
# pledge enrolls; the JPY front's and a device proxy's counts as Prometheus metrics. The namespace test (joinproxy_netns_test.sh)
# adds link-local addressing and multicast discovery.
source "$(dirname "$0")/lib.sh"
command -v coap-client-openssl >/dev/null || fail "coap-client-openssl missing (libcoap3-bin)"
command -v promtool >/dev/null || fail "promtool is missing (scripts/install-deps installs prometheus)"
WIRE="$(dirname "$0")/jpy_wire.py"

M=$WORK/maker
S=$WORK/site
P=$WORK/proxy
step "maker, site, the MASA, and the site controller with CoAPS, JPY and discovery"
"$BIN" maker init --dir "$M" --name "Lumen Valves" >/dev/null
"$BIN" site init --dir "$S" --name "Plant Room" >/dev/null
"$BIN" site trust-maker --dir "$S" --ca "$M/ca.pem" >/dev/null
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
rm -f "$S/coap.addr"
start_server registrar "$S" serve --dir "$S" --listen 127.0.0.1:0 --coaps-listen 127.0.0.1:0 \
  --jpy-listen 127.0.0.1:0 --coap-discovery 127.0.0.1:0 --metrics-listen 127.0.0.1:0
for _ in $(seq 1 50); do [ -s "$S/coap.addr" ] && break; sleep 0.1; done
[ -s "$S/coap.addr" ] || fail "no coap.addr"
MASA=$(cat "$M/listen.addr")
JPY=$(cat "$S/jpy.addr")
COAPS=$(cat "$S/coaps.addr")
has "stateless join proxies on jpy://$JPY" <"$WORK/registrar.log" || fail "no JPY banner"

step "discovery: the registrar's JPY endpoint, as a stateless proxy asks for it"
coap-client-openssl -B 10 -m get "coap://$(cat "$S/coap.addr")/.well-known/core?rt=brski.rjp" \
  2>&1 | tee "$WORK/rjp.txt"
has -x "<jpy://$JPY>;rt=brski.rjp" <"$WORK/rjp.txt" || fail "no rt=brski.rjp link"

# start_proxy: the join proxy on PROXY_PORT, answering discovery on PROXY_DISCOVERY (0 the
# first time: ports it picks), keeping its key in $P.
start_proxy() {
  rm -f "$P/joinproxy.addr"
  : >"$WORK/proxy.log"
  "$BIN" joinproxy --dir "$P" --listen "127.0.0.1:${PROXY_PORT:-0}" --registrar "jpy://$JPY" \
    --discovery "127.0.0.1:${PROXY_DISCOVERY:-0}" >>"$WORK/proxy.log" 2>&1 &
  PROXY=$!
  PIDS+=("$PROXY")
  for _ in $(seq 1 50); do
    [ -s "$P/joinproxy.addr" ] && has "answering discovery" <"$WORK/proxy.log" && break
    sleep 0.1
  done
  [ -s "$P/joinproxy.addr" ] || { cat "$WORK/proxy.log"; fail "the proxy did not start"; }
  PROXY_PORT=$(sed 's/.*://' "$P/joinproxy.addr")
  PROXY_DISCOVERY=$(sed -n 's|^answering discovery (brski-jp) on coap://127.0.0.1:||p' "$WORK/proxy.log")
}
step "the join proxy, and 10 pledges enrolling through it at once"
start_proxy
[ "$(stat -c %a "$P/joinproxy.key")" = 600 ] || fail "the key file is not private"
pids=()
for i in $(seq -w 1 10); do
  "$BIN" maker mint --dir "$M" --serial "LV-10$i" --masa-url "$MASA" --out "$WORK/dev$i" >/dev/null
  "$BIN" device enroll --identity "$WORK/dev$i" --registrar "coaps://127.0.0.1:$PROXY_PORT" \
    >"$WORK/enroll$i.log" 2>&1 &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { cat "$WORK/enroll$(printf %02d $((i + 1))).log"; fail "enrollment $((i + 1))"; }
done
for i in $(seq -w 1 10); do
  openssl verify -CAfile "$S/domain-ca.pem" "$WORK/dev$i/ldevid.pem" >/dev/null ||
    fail "LDevID $i does not verify"
done
[ "$(device_count "$S")" = 10 ] || fail "expected 10 devices in the registry"
curl -sf --cacert "$S/domain-ca.pem" "https://$(cat "$S/metrics.addr")/metrics" >"$WORK/front.metrics" ||
  fail "no metrics from the site controller"
grep '^concierge_jpy_' "$WORK/front.metrics"
promtool check metrics <"$WORK/front.metrics" || fail "promtool refuses the scrape"
python3 - "$WORK/front.metrics" <<'PY' || fail "the JPY front's metrics do not count the enrollments"
import re, sys
text = open(sys.argv[1]).read()
value = lambda series: float(re.search(re.escape(series) + r" (\S+)", text).group(1))
assert value('concierge_jpy_datagrams_total{result="from_proxy"}') >= 100, text
assert value('concierge_jpy_sessions_total{event="opened"}') >= 10, text
assert value('concierge_jpy_datagrams_total{result="not_allowed"}') == 0, text
PY

step "an enrolled device acts as a join proxy for its neighbours; one that is not, may not"
"$BIN" maker mint --dir "$M" --serial LV-2001 --masa-url "$MASA" --out "$WORK/unenrolled" >/dev/null
expect_exit 1 "LV-2001 is not enrolled" "$BIN" device joinproxy --identity "$WORK/unenrolled" \
  --registrar "jpy://$JPY"
# This one finds the registrar's JPY port by discovery (rt=brski.rjp), as a proxy does.
"$BIN" device joinproxy --identity "$WORK/dev01" --listen 127.0.0.1:0 \
  --registrar "coap://$(cat "$S/coap.addr")" --metrics-listen 127.0.0.1:0 \
  >"$WORK/device-proxy.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do
  [ -s "$WORK/device-proxy.log" ] && has "LV-1001: join proxy" <"$WORK/device-proxy.log" && break
  sleep 0.1
done
neighbour_port=$(sed -n 's/.*on udp 127.0.0.1:\([0-9]*\),.*/\1/p' "$WORK/device-proxy.log")
[ -n "$neighbour_port" ] || { cat "$WORK/device-proxy.log"; fail "the device's proxy did not start"; }
"$BIN" maker mint --dir "$M" --serial LV-2002 --masa-url "$MASA" --out "$WORK/neighbour" >/dev/null
has "relaying to jpy://$JPY" <"$WORK/device-proxy.log" || fail "the proxy discovered no registrar"
"$BIN" device enroll --identity "$WORK/neighbour" --registrar "coaps://127.0.0.1:$neighbour_port" |
  has "enrolled LV-2002" || fail "the neighbour did not enroll through LV-1001"
# The device serves its proxy's metrics over TLS with its LDevID (no name to check: an address).
device_metrics=$(sed -n 's|^metrics on https://\(.*\)/metrics$|\1|p' "$WORK/device-proxy.log")
python3 - "$device_metrics" "$S/domain-ca.pem" <<'PY' || fail "the device proxy's metrics do not count"
import re, ssl, sys, urllib.request
context = ssl.create_default_context(cafile=sys.argv[2])
context.check_hostname = False
text = urllib.request.urlopen(f"https://{sys.argv[1]}/metrics", context=context).read().decode()
relayed = float(re.search(r'concierge_joinproxy_datagrams_total\{result="to_registrar"\} (\S+)', text).group(1))
print(f"  the device's proxy relayed {relayed:.0f} datagrams to the registrar")
assert relayed >= 10, text
PY

step "pledges discover where to enroll (brski-jp): the proxy, the registrar; the next offer when one fails"
"$BIN" maker mint --dir "$M" --serial LV-2005 --masa-url "$MASA" --out "$WORK/via-proxy" >/dev/null
"$BIN" device enroll --identity "$WORK/via-proxy" --registrar "coap://127.0.0.1:$PROXY_DISCOVERY" \
  --json | has "\"registrar\": \"coaps://127.0.0.1:$PROXY_PORT\"" ||
  fail "no enrollment through the proxy it discovered"
"$BIN" maker mint --dir "$M" --serial LV-2003 --masa-url "$MASA" --out "$WORK/finder" >/dev/null
"$BIN" device enroll --identity "$WORK/finder" --registrar "coap://$(cat "$S/coap.addr")" --json |
  has "\"registrar\": \"coaps://127.0.0.1:${COAPS##*:}\"" || fail "no enrollment at the discovered registrar"
# Two offers: the first leads nowhere (nothing listens on port 9), the second to the proxy.
python3 "$WIRE" answer "$WORK/answer.port" "<>;brski-jp=9,<>;brski-jp=$neighbour_port" &
PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$WORK/answer.port" ] && break; sleep 0.1; done
"$BIN" maker mint --dir "$M" --serial LV-2004 --masa-url "$MASA" --out "$WORK/failover" >/dev/null
"$BIN" device enroll --identity "$WORK/failover" \
  --registrar "coap://127.0.0.1:$(cat "$WORK/answer.port")" >"$WORK/failover.out" 2>"$WORK/failover.err" ||
  { cat "$WORK/failover.err"; fail "no enrollment after failing over"; }
cat "$WORK/failover.err"
has "coaps://127.0.0.1:9: .*; trying the next" <"$WORK/failover.err" || fail "the first offer was not tried"
has "enrolled LV-2004" <"$WORK/failover.out" || fail "LV-2004 did not enroll"

step "stateful mode, chosen by discovery when the registrar offers only rt=brski; a full table delays, loses nothing"
python3 "$WIRE" answer "$WORK/brski-only.port" "<coaps://127.0.0.1:${COAPS##*:}/b>;rt=brski" &
PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$WORK/brski-only.port" ] && break; sleep 0.1; done
# Pledges on loopback share one address: the per-address limit (2 by default) is raised, and
# the interface's lowered to 3, so 5 pledges at once overflow it.
: >"$WORK/stateful.log"
"$BIN" joinproxy --listen 127.0.0.1:0 --registrar "coap://127.0.0.1:$(cat "$WORK/brski-only.port")" \
  --flows-per-address 10 --flows-per-interface 3 --flow-idle-seconds 2 >"$WORK/stateful.log" 2>&1 &
STATEFUL=$!
PIDS+=("$STATEFUL")
for _ in $(seq 1 50); do has "join proxy (stateful)" <"$WORK/stateful.log" && break; sleep 0.1; done
cat "$WORK/stateful.log"
has -x "join proxy (stateful) on udp 127.0.0.1:[0-9]*, relaying to coaps://$COAPS" \
  <"$WORK/stateful.log" || fail "discovery did not choose stateful mode at the CoAPS endpoint"
stateful_port=$(sed -n 's/.*on udp 127.0.0.1:\([0-9]*\),.*/\1/p' "$WORK/stateful.log")
pids=()
for i in 1 2 3 4 5; do
  "$BIN" maker mint --dir "$M" --serial "LV-400$i" --masa-url "$MASA" --out "$WORK/flow$i" >/dev/null
  "$BIN" device enroll --identity "$WORK/flow$i" --registrar "coaps://127.0.0.1:$stateful_port" \
    >"$WORK/flow$i.log" 2>&1 &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { cat "$WORK/flow$((i + 1)).log"; fail "stateful enrollment $((i + 1))"; }
done
for i in 1 2 3 4 5; do
  openssl verify -CAfile "$S/domain-ca.pem" "$WORK/flow$i/ldevid.pem" >/dev/null ||
    fail "LDevID LV-400$i does not verify"
done
sleep 3 # past the idle time: every flow ends
kill -TERM "$STATEFUL"
wait "$STATEFUL" || true
tail -1 "$WORK/stateful.log"
python3 - "$(tail -1 "$WORK/stateful.log")" <<'PY' || fail "the stateful proxy's counts are wrong"
import re, sys
line = sys.argv[1]
opened = int(re.search(r"(\d+) flow\(s\) opened", line).group(1))
ended = int(re.search(r"(\d+) ended idle", line).group(1))
refused = int(re.search(r"(\d+) datagram\(s\) refused a flow", line).group(1))
assert opened >= 5 and ended == opened, line
assert refused > 0, "five pledges at once never overflowed three flows: " + line
PY

step "zero state per pledge: the proxy's memory with 1 and with 1,000 handshakes under way"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PROXY/status"; }
# hellos COUNT: that many handshakes begun and held (until cleanup); $WORK/helloCOUNT.json
# says how many were answered, once they all were.
hellos() {
  python3 "$WIRE" hellos 127.0.0.1 "$PROXY_PORT" "$1" >"$WORK/hellos$1.json" &
  PIDS+=($!)
  for _ in $(seq 1 400); do [ -s "$WORK/hellos$1.json" ] && break; sleep 0.1; done
}
hellos 1
rss_one=$(rss)
hellos 1000
rss_many=$(rss)
line_one=$(cat "$WORK/hellos1.json")
line_many=$(cat "$WORK/hellos1000.json")
echo "  1 handshake: $line_one, proxy RSS $rss_one kB; 1,000: $line_many, proxy RSS $rss_many kB"
# "none" in sanitizer builds (tests/CMakeLists.txt): the release build checks the budget.
budget=${JOINPROXY_RSS_BUDGET_KB:-1024}
python3 - "$line_one" "$line_many" "$rss_one" "$rss_many" "$budget" <<'PY' || fail "proxy memory"
import json, sys
one, many = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert one["answered"] == 1 and many["answered"] == 1000, (one, many)
grew = int(sys.argv[4]) - int(sys.argv[3])
print(f"  grew by {grew} kB (budget: {sys.argv[5]})")
assert sys.argv[5] == "none" or grew < int(sys.argv[5]), f"grew by {grew} kB"
PY

step "a proxy restarted mid-handshake with its kept key: the handshake goes on"
rm -f "$WORK/cookie-taken" "$WORK/go"
python3 "$WIRE" resume 127.0.0.1 "$PROXY_PORT" "$WORK" >"$WORK/resume.json" &
resume=$!
for _ in $(seq 1 100); do [ -e "$WORK/cookie-taken" ] && break; sleep 0.1; done
[ -e "$WORK/cookie-taken" ] || fail "no HelloVerifyRequest through the proxy"
# Another local address holding the proxy's upstream port (allowed: a different address) must
# not push the restarted proxy to a new port, which the registrar would see as a new proxy.
python3 -c '
import socket, sys, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.77", int(sys.argv[1])))
open(sys.argv[2], "w").close()
time.sleep(120)' "$(cat "$P/joinproxy.upstream")" "$WORK/port-held" &
PIDS+=($!)
for _ in $(seq 1 50); do [ -e "$WORK/port-held" ] && break; sleep 0.1; done
[ -e "$WORK/port-held" ] || fail "could not hold the upstream port on 127.0.0.77"
kill -TERM "$PROXY"
wait "$PROXY" || true
start_proxy
touch "$WORK/go"
wait "$resume" || fail "resume"
cat "$WORK/resume.json"
has '"answer": "ServerHello"' <"$WORK/resume.json" || fail "the handshake did not go on"

step "a flood from one source is limited; a pledge from another enrolls meanwhile"
# 5,000 datagrams a second for 3 s: fifty times the limit, without taking a whole core from
# the tests running beside this one.
python3 - "$PROXY_PORT" <<'PY' &
import socket, sys, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.66", 0))
for burst in range(60):
    for _ in range(250):
        sock.sendto(b"\x16\xfe\xfd" + bytes(60), ("127.0.0.1", int(sys.argv[1])))
    time.sleep(0.05)
PY
flood=$!
"$BIN" maker mint --dir "$M" --serial LV-3001 --masa-url "$MASA" --out "$WORK/during" >/dev/null
"$BIN" device enroll --identity "$WORK/during" --registrar "coaps://127.0.0.1:$PROXY_PORT" |
  has "enrolled LV-3001" || fail "no enrollment during the flood"
wait "$flood"
kill -TERM "$PROXY"
wait "$PROXY" || true
tail -1 "$WORK/proxy.log"
python3 - "$(tail -1 "$WORK/proxy.log")" <<'PY' || fail "the flood was not limited"
import re, sys
limited = int(re.search(r"dropped (\d+) over the rate", sys.argv[1]).group(1))
assert limited > 10000, limited
PY
echo "join proxy test passed"
