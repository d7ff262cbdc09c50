# Shared helpers for the integration tests: a work directory, background servers that are
# always stopped, and assertions that say what failed.
set -euo pipefail

BIN=${1:?usage: $0 PATH_TO_CONCIERGE}
WORK=$(mktemp -d /tmp/concierge-it-XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP_WORK:-}" = "" ]; then rm -rf "$WORK"; else echo "work kept in $WORK"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

step() { echo "--- $*"; }

# CMD | has [GREP_OPTIONS] PATTERN: whether CMD's output matches. It reads the whole output
# first: `CMD | grep -q` stops reading at the first match, and under pipefail the writer's
# SIGPIPE then fails the pipeline whenever the output is longer than one pipe buffer.
has() {
  local text
  text=$(cat)
  grep -q "$@" <<<"$text"
}

# start_server NAME DIR ARGS... starts a server in the background, logging to $WORK/NAME.log,
# and waits until it has written DIR/listen.addr.
start_server() {
  local name=$1 dir=$2
  shift 2
  rm -f "$dir/listen.addr"
  "$BIN" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    [ -s "$dir/listen.addr" ] && return 0
    sleep 0.1
  done
  cat "$WORK/$name.log" >&2
  fail "$name did not start"
}

# expect_exit CODE PATTERN CMD... runs CMD, requires its exit code and PATTERN in its stderr.
expect_exit() {
  local code=$1 pattern=$2
  shift 2
  local actual=0
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || actual=$?
  [ "$actual" = "$code" ] || { cat "$WORK/err.txt" >&2; fail "'$*' exited $actual, expected $code"; }
  grep -q -- "$pattern" "$WORK/err.txt" || { cat "$WORK/err.txt" >&2; fail "'$*' stderr lacks '$pattern'"; }
}

device_count() { "$BIN" devices list --dir "$1" --json | grep -c '"serial"' || true; }

# require_netns TOOL... exits 77 (skip), saying why, unless this runs as root where network
# namespaces and nftables work; a missing tool is a failure (scripts/install-deps installs it).
# Root is not always enough: a container without CAP_SYS_ADMIN, a kernel without nf_tables.
require_netns() {
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root to create network namespaces and load nftables rules"
    exit 77
  fi
  for tool in ip nft "$@"; do
    command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps installs it)"
  done
  local probe=cc-probe-$$
  if ! ip netns add "$probe" 2>"$WORK/probe.txt"; then
    echo "SKIP: cannot create network namespaces: $(cat "$WORK/probe.txt")"
    exit 77
  fi
  if ! ip netns exec "$probe" nft add table inet probe 2>"$WORK/probe.txt"; then
    ip netns del "$probe"
    echo "SKIP: the kernel refuses nftables tables: $(cat "$WORK/probe.txt")"
    exit 77
  fi
  ip netns del "$probe"
}

# Namespace helpers. The caller sets NS (a prefix of its own) and HOSTS (names, "router" among
# them); start_namespaces makes one namespace per host, turns on forwarding in the router, and
# removes them all (and what runs in them) at exit; link gives a host its own /24 to the router
# (router .1, host .2, default route via the router).
in_ns() { local host=$1; shift; ip netns exec "$NS-$host" "$@"; }

cleanup_netns() {
  for host in "${HOSTS[@]}"; do
    for pid in $(ip netns pids "$NS-$host" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  for host in "${HOSTS[@]}"; do ip netns del "$NS-$host" 2>/dev/null || true; done
}

start_namespaces() {
  trap 'cleanup_netns; cleanup' EXIT
  for host in "${HOSTS[@]}"; do ip netns add "$NS-$host"; done
  in_ns router sysctl -qw net.ipv4.ip_forward=1
  in_ns router ip link set lo up
}

link() {  # link HOST SUBNET_PREFIX
  local host=$1 prefix=$2
  ip link add "r-$host-$$" netns "$NS-router" type veth peer name eth0 netns "$NS-$host"
  in_ns router ip addr add "$prefix.1/24" dev "r-$host-$$"
  in_ns router ip link set "r-$host-$$" up
  in_ns "$host" ip addr add "$prefix.2/24" dev eth0
  in_ns "$host" ip link set eth0 up
  in_ns "$host" ip link set lo up
  in_ns "$host" ip route add default via "$prefix.1"
}

# wait_listening HOST tcp|udp PORT waits until a socket in HOST's namespace listens on PORT, so a
# test never probes a listener that has not bound yet (a drop it did not cause would pass).
wait_listening() {
  local host=$1 proto=$2 port=$3 flag=-Hltn
  [ "$proto" = udp ] && flag=-Hlun
  for _ in $(seq 1 100); do
    [ -n "$(in_ns "$host" ss "$flag" "sport = :$port")" ] && return 0
    sleep 0.05
  done
  fail "nothing listens on $proto port $port in $host"
}
