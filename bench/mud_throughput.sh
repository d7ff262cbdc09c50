#!/usr/bin/env bash
# Per-packet cost of MUD enforcement: one flow through a router namespace whose nftables policy
# covers 10 or 10,000 devices, dispatched by address maps (what the site runs) or by a linear
# per-device rule list, all in one run. The flow's device is last in every list, so the linear
# layout is measured at its worst, as it is for traffic of devices outside the policy.
#
#   sudo bench/mud_throughput.sh [BUILD_DIR] [SECONDS]
#
# Prints one line per configuration: TCP stream throughput, and UDP packets per second with
# 64-byte datagrams (where per-packet cost shows; TCP rides on 64 KB segments).
set -euo pipefail
BUILD=${1:-build}
SECONDS_PER_RUN=${2:-5}
BIN=$BUILD/src/app/concierge
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "iperf3 missing (scripts/install-deps)" >&2; exit 1; }

NS=bench$$
cleanup() {
  for pid in $(ip netns pids "$NS-server" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  for host in router client server; do ip netns del "$NS-$host" 2>/dev/null || true; done
}
trap cleanup EXIT
for host in router client server; do ip netns add "$NS-$host"; done
ip netns exec "$NS-router" sysctl -qw net.ipv4.ip_forward=1
link() {
  local host=$1 prefix=$2
  ip link add "b-$host-$$" netns "$NS-router" type veth peer name eth0 netns "$NS-$host"
  ip netns exec "$NS-router" ip addr add "$prefix.1/24" dev "b-$host-$$"
  ip netns exec "$NS-router" ip link set "b-$host-$$" up
  ip netns exec "$NS-$host" ip addr add "$prefix.2/24" dev eth0
  ip netns exec "$NS-$host" ip link set eth0 up
  ip netns exec "$NS-$host" ip link set lo up
  ip netns exec "$NS-$host" ip route add default via "$prefix.1"
}
link client 10.200.1
link server 172.30.2
ip netns exec "$NS-server" iperf3 -s -D --pidfile "/tmp/$NS-iperf.pid" >/dev/null
sleep 0.5

measure() {  # prints "tcp_gbps udp_kpps"
  local tcp udp
  # The "end" section's summaries: TCP from sum_received, UDP from sum (packets - lost).
  tcp=$(ip netns exec "$NS-client" iperf3 -c 172.30.2.2 -t "$SECONDS_PER_RUN" -J |
        awk '/"end":/ {e=1} e && /"sum_received":/ {s=1} s && /"bits_per_second":/ {
             gsub(/[^0-9.]/, ""); print; exit }')
  udp=$(ip netns exec "$NS-client" iperf3 -c 172.30.2.2 -u -b 0 -l 64 -t "$SECONDS_PER_RUN" -J |
        awk '/"end":/ {e=1} e && /"sum":/ {s=1}
             s && /"lost_packets":/ {gsub(/[^0-9]/, ""); l=$0}
             s && /"packets":/ {gsub(/[^0-9]/, ""); p=$0}
             s && /}/ {print p - l; exit}')
  awk -v t="$tcp" -v u="$udp" -v s="$SECONDS_PER_RUN" \
    'BEGIN { printf "%.2f %.1f", t / 1e9, u / s / 1000 }'
}

printf "%-22s %12s %14s %12s\n" "policy" "TCP Gbit/s" "UDP kpkt/s" "apply ms"
run() {  # run LABEL [lab policy args...]
  local label=$1
  shift
  local apply_ms="-"
  if [ $# -gt 0 ]; then
    apply_ms=$(ip netns exec "$NS-router" "$BIN" lab policy "$@" --apply --client 10.200.1.2 \
               --server 172.30.2.2 --json | awk '/"apply_ms"/ {gsub(/[^0-9.]/, ""); printf "%.0f", $0}')
  else
    ip netns exec "$NS-router" nft flush ruleset
  fi
  read -r tcp udp <<<"$(measure)"
  printf "%-22s %12s %14s %12s\n" "$label" "$tcp" "$udp" "$apply_ms"
}
run "none"
run "maps, 10 devices" --devices 10
run "maps, 10000 devices" --devices 10000
run "linear, 10 devices" --devices 10 --linear
run "linear, 10000 devices" --devices 10000 --linear
