#!/usr/bin/env bash
# Join proxying across network namespaces, as root: pledges in a namespace whose only link is
# to the proxy's, by link-local addresses; the proxy in the middle; the registrar and MASA in a
# third, reached from the proxy over a ULA link. The proxy finds the registrar's JPY port by
# multicast (ff05::fd, rt=brski.rjp); 50 pledges find the proxy by multicast (ff02::fd,
# brski-jp) and enroll through it; their LDevIDs verify with openssl; the pledges' namespace
# never receives a packet from the registrar's address; and tshark, on a capture of the first
# wave, reads DTLS between pledges and proxy and CBOR (JPY) between proxy and registrar; and
# DNS-SD over multicast DNS leads a second proxy to the registrar and five pledges to it.
source "$(dirname "$0")/lib.sh"

require_netns ss tshark

NS=cj$$
HOSTS=(pledges proxy site)
trap 'cleanup_netns; cleanup' EXIT
for host in "${HOSTS[@]}"; do
  ip netns add "$NS-$host"
  # Addresses usable at once: duplicate address detection would hold them for a second or two.
  in_ns "$host" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  in_ns "$host" ip link set lo up
done
step "links: pledges -- proxy by link-local addresses only; proxy -- site over fd00:5::/64"
ip link add eth0 netns "$NS-pledges" type veth peer name down0 netns "$NS-proxy"
ip link add up0 netns "$NS-proxy" type veth peer name eth0 netns "$NS-site"
in_ns pledges ip link set eth0 up
in_ns proxy ip link set down0 up
in_ns proxy ip link set up0 up
in_ns proxy ip addr add fd00:5::2/64 dev up0 nodad
in_ns site ip link set eth0 up
in_ns site ip addr add fd00:5::1/64 dev eth0 nodad
for _ in $(seq 1 50); do
  in_ns pledges ip -6 addr show dev eth0 scope link | has "inet6 fe80" && break
  sleep 0.1
done
in_ns pledges ip -6 route show | has "fd00" && fail "the pledges have a route beyond their link"

M=$WORK/maker
S=$WORK/site
P=$WORK/proxy
step "maker, site and the MASA; the site controller on CoAPS, JPY and discovery (multicast on eth0)"
"$BIN" maker init --dir "$M" --name "Lumen Valves" >/dev/null
"$BIN" site init --dir "$S" --name "Plant Room" >/dev/null
"$BIN" site trust-maker --dir "$S" --ca "$M/ca.pem" >/dev/null
rm -f "$M/listen.addr" "$S/coap.addr"
in_ns site "$BIN" maker serve --dir "$M" --listen 127.0.0.1:0 >"$WORK/masa.log" 2>&1 &
for _ in $(seq 1 100); do [ -s "$M/listen.addr" ] && break; sleep 0.1; done
in_ns site "$BIN" serve --dir "$S" --listen 127.0.0.1:0 --coaps-listen '[::]:5684' \
  --jpy-listen '[::]:5685' --coap-discovery '[::]:5683' --coap-multicast-interface eth0 \
  --dns-sd-interface eth0 --jpy-allow fd00:5::/64 --jpy-allow fe80::/10 \
  >"$WORK/registrar.log" 2>&1 &
for _ in $(seq 1 100); do [ -s "$S/coap.addr" ] && break; sleep 0.1; done
[ -s "$S/coap.addr" ] || { cat "$WORK/registrar.log"; fail "the site controller did not start"; }
MASA=$(cat "$M/listen.addr")
has -x "stateless join proxies on jpy://\[::\]:5685, only from fd00:5::/64, fe80::/10" \
  <"$WORK/registrar.log" || { cat "$WORK/registrar.log"; fail "the JPY port is not kept to the proxies' network"; }

step "the proxy finds the registrar by multicast (ff05::fd on up0) and answers pledges on down0"
# ip netns exec (not the in_ns function) so that $! is the proxy itself, for its counters.
ip netns exec "$NS-proxy" "$BIN" joinproxy --dir "$P" --listen '[::]:5690' \
  --registrar 'coap://[ff05::fd%up0]' --discovery '[::]:5683' --multicast-interface down0 \
  >"$WORK/proxy.log" 2>&1 &
PROXY=$!
for _ in $(seq 1 100); do [ -s "$P/joinproxy.addr" ] && break; sleep 0.1; done
[ -s "$P/joinproxy.addr" ] || { cat "$WORK/proxy.log"; fail "the proxy did not start"; }
sleep 0.2
cat "$WORK/proxy.log"
has "relaying to jpy://\[fd00:5::1\]:5685" <"$WORK/proxy.log" || fail "the proxy found no registrar"
wait_listening proxy udp 5683

step "the pledges' namespace counts what it receives from the registrar's address, and from the proxy"
in_ns pledges nft -f - <<'NFT'
table inet watch {
  chain in {
    type filter hook prerouting priority -300;
    ip6 saddr fd00:5::1 counter name from_registrar
    ip6 saddr fe80::/64 udp sport 5690 counter name from_proxy
  }
  counter from_registrar { }
  counter from_proxy { }
}
NFT

step "50 pledges find the proxy by multicast (ff02::fd on eth0) and enroll through it, in waves of 10"
for i in $(seq -w 1 50); do
  "$BIN" maker mint --dir "$M" --serial "LV-50$i" --masa-url "$MASA" --out "$WORK/dev$i" >/dev/null
done
# capture SIDE INTERFACE FILTER: dumpcap (tshark's capture engine) in the proxy's namespace,
# also catching UDP port 9, where stop_capture sends its last packet.
capture() {
  : >"$WORK/$1.capture.log"
  ip netns exec "$NS-proxy" dumpcap -q -i "$2" -f "($3) or udp port 9" -w "$WORK/$1.pcapng" \
    >"$WORK/$1.capture.log" 2>&1 &
  eval "CAPTURE_$(tr - _ <<<"$1")=$!"
  PIDS+=($!)
  for _ in $(seq 1 100); do has "Capturing on" <"$WORK/$1.capture.log" && return; sleep 0.1; done
  cat "$WORK/$1.capture.log"
  fail "dumpcap did not start capturing on $2"
}
# stop_capture SIDE ADDRESS INTERFACE: a last datagram to ADDRESS port 9 out of INTERFACE; once
# it is in the file, so is everything before it, and the capture stops.
stop_capture() {
  ip netns exec "$NS-proxy" python3 -c '
import socket, sys
sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
sock.sendto(b"end", (sys.argv[1], 9, 0, socket.if_nametoindex(sys.argv[2])))' "$2" "$3"
  for _ in $(seq 1 100); do
    [ "$(frames "$1" -Y "udp.dstport == 9")" -ge 1 ] && break
    sleep 0.1
  done
  local pid_name="CAPTURE_$(tr - _ <<<"$1")"
  kill -INT "${!pid_name}"
  wait "${!pid_name}" || true
}
# frames SIDE [ARGS...]: how many frames of the side's capture tshark shows with ARGS.
frames() {
  local side=$1
  shift
  tshark -r "$WORK/$side.pcapng" "$@" 2>/dev/null | wc -l
}
capture pledge-side down0 "udp port 5690"
capture registrar-side up0 "udp port 5685"
for wave in 0 1 2 3 4; do
  if [ "$wave" = 1 ]; then
    stop_capture pledge-side ff02::1 down0
    stop_capture registrar-side fd00:5::1 up0
  fi
  pids=()
  for n in $(seq 1 10); do
    i=$(printf %02d $((wave * 10 + n)))
    in_ns pledges "$BIN" device enroll --identity "$WORK/dev$i" \
      --registrar 'coap://[ff02::fd%eth0]' --retry-for 30 --json >"$WORK/enroll$i.json" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
done
enrolled=0
for i in $(seq -w 1 50); do
  if openssl verify -CAfile "$S/domain-ca.pem" "$WORK/dev$i/ldevid.pem" >/dev/null 2>&1; then
    enrolled=$((enrolled + 1))
  else
    cat "$WORK/enroll$i.json"
  fi
done
echo "  $enrolled of 50 LDevIDs verify"
[ "$enrolled" = 50 ] || fail "only $enrolled of 50 pledges enrolled"
has '"registrar": "coaps://\[fe80::[0-9a-f:]*%eth0\]:5690"' <"$WORK/enroll01.json" ||
  fail "the pledge did not enroll through the proxy's link-local address: $(cat "$WORK/enroll01.json")"

step "tshark reads the first wave: DTLS from pledge to proxy, CBOR [header, content] from proxy to registrar"
pledge_frames=$(frames pledge-side -Y "udp.port == 5690")
pledge_dtls=$(frames pledge-side -d udp.port==5690,dtls -Y dtls)
hellos=$(frames pledge-side -d udp.port==5690,dtls -Y "dtls.handshake.type == 1")
application=$(frames pledge-side -d udp.port==5690,dtls -Y "dtls.record.content_type == 23")
tshark -r "$WORK/pledge-side.pcapng" -d udp.port==5690,dtls -c 4 2>/dev/null
echo "  pledge side: $pledge_frames frames, $pledge_dtls DTLS ($hellos ClientHello, $application with application data)"
[ "$pledge_frames" -gt 100 ] && [ "$pledge_dtls" = "$pledge_frames" ] ||
  fail "the pledge side is not all DTLS: $pledge_dtls of $pledge_frames"
[ "$hellos" -ge 10 ] && [ "$application" -gt 0 ] || fail "no handshakes or application data"
# JPY has no port of its own to tshark, so a line of Lua tells it the JPY port carries CBOR.
echo 'DissectorTable.get("udp.port"):add(5685, Dissector.get("cbor"))' >"$WORK/jpy.lua"
registrar_frames=$(frames registrar-side -Y "udp.port == 5685")
registrar_jpy=$(frames registrar-side -X "lua_script:$WORK/jpy.lua" -Y cbor)
tshark -r "$WORK/registrar-side.pcapng" -X "lua_script:$WORK/jpy.lua" -c 4 2>/dev/null
tshark -r "$WORK/registrar-side.pcapng" -X "lua_script:$WORK/jpy.lua" -V -c 1 2>/dev/null |
  sed -n '/^Concise Binary Object Representation/,$p' | head -12 | tee "$WORK/jpy-frame.txt"
echo "  registrar side: $registrar_frames frames, $registrar_jpy read as CBOR"
# One JPY message for each pledge datagram, each way, but for any the proxy drops.
[ "$registrar_frames" -le "$pledge_frames" ] &&
  [ "$registrar_frames" -ge $((pledge_frames * 9 / 10)) ] ||
  fail "the proxy relayed $registrar_frames datagrams for $pledge_frames on the pledge side"
[ "$registrar_jpy" = "$registrar_frames" ] || fail "not every JPY datagram is CBOR"
has "Array: (2 items)" <"$WORK/jpy-frame.txt" || fail "the first JPY message is not a two-item array"

step "DNS-SD: a second proxy finds the registrar (_brski-rjp._udp on up0) and is found (_brski-proxy._udp on down0)"
: >"$WORK/proxy2.log"
ip netns exec "$NS-proxy" "$BIN" joinproxy --listen '[::]:5695' --registrar dns-sd:up0 \
  --dns-sd-interface down0 >"$WORK/proxy2.log" 2>&1 &
PROXY2=$!
PIDS+=("$PROXY2")
for _ in $(seq 1 100); do has "DNS-SD" <"$WORK/proxy2.log" && break; sleep 0.1; done
cat "$WORK/proxy2.log"
has -x "join proxy (stateless) on udp \[::\]:5695, relaying to jpy://\[fe80::[0-9a-f:]*%up0\]:5685" \
  <"$WORK/proxy2.log" || fail "the second proxy found no registrar by DNS-SD"
has -x "DNS-SD (_brski-proxy._udp) on down0" <"$WORK/proxy2.log" || fail "the proxy does not announce itself"
pids=()
for i in 1 2 3 4 5; do
  "$BIN" maker mint --dir "$M" --serial "LV-600$i" --masa-url "$MASA" --out "$WORK/sd$i" >/dev/null
  in_ns pledges "$BIN" device enroll --identity "$WORK/sd$i" --registrar dns-sd:eth0 --json \
    >"$WORK/sd$i.json" 2>&1 &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { cat "$WORK/sd$((i + 1)).json"; fail "DNS-SD enrollment $((i + 1))"; }
done
for i in 1 2 3 4 5; do
  openssl verify -CAfile "$S/domain-ca.pem" "$WORK/sd$i/ldevid.pem" >/dev/null ||
    fail "LDevID LV-600$i does not verify"
done
has '"registrar": "coaps://\[fe80::[0-9a-f:]*%eth0\]:5695"' <"$WORK/sd1.json" ||
  fail "the pledge did not enroll through the proxy it found by DNS-SD: $(cat "$WORK/sd1.json")"
echo "  5 of 5 pledges found the proxy by DNS-SD and enrolled through it"

step "the pledges' namespace never saw a packet from the registrar's address"
counters=$(in_ns pledges nft list counters table inet watch)
from_registrar=$(awk '/counter from_registrar/ { getline; print $2 }' <<<"$counters")
from_proxy=$(awk '/counter from_proxy/ { getline; print $2 }' <<<"$counters")
echo "  packets from the registrar's address: $from_registrar; from the proxy's join port: $from_proxy"
[ "$from_registrar" = 0 ] || fail "the pledges saw $from_registrar packet(s) from the registrar"
[ "$from_proxy" -gt 500 ] || fail "the counters did not count the proxy's packets"
kill -TERM "$PROXY"
wait "$PROXY" || true
tail -1 "$WORK/proxy.log"
echo "join proxy namespace test passed"
