#!/usr/bin/env bash
# Join proxying across network namespaces, as root: pledges in a namespace whose only link is
# to the proxy's, by link-local addresses; the proxy in the middle; the registrar and MASA in a
# third, reached from the proxy over a ULA link. The proxy finds the registrar's JPY port by
# multicast (ff05::fd, rt=brski.rjp); 50 pledges find the proxy by multicast (ff02::fd,
# brski-jp) and enroll through it; their LDevIDs verify with openssl; and the pledges'
# namespace never receives a packet from the registrar's address.
source "$(dirname "$0")/lib.sh"

require_netns ss

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
  >"$WORK/registrar.log" 2>&1 &
for _ in $(seq 1 100); do [ -s "$S/coap.addr" ] && break; sleep 0.1; done
[ -s "$S/coap.addr" ] || { cat "$WORK/registrar.log"; fail "the site controller did not start"; }
MASA=$(cat "$M/listen.addr")

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
for wave in 0 1 2 3 4; do
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
