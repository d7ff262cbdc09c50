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
