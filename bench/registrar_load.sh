#!/usr/bin/env bash
# Drives a real `concierge serve` process with N separate `device enroll` processes (P at a
# time) and reports the registrar's peak resident memory (VmHWM) and the wall time. Unlike
# `lab onboard`, the registrar runs alone in its process, so its memory is its own.
# Usage: bench/registrar_load.sh BUILD_DIR [N] [P]
set -euo pipefail
BIN=${1:?usage: bench/registrar_load.sh BUILD_DIR [N] [P]}/src/app/concierge
N=${2:-2000}
P=${3:-16}
WORK=$(mktemp -d /tmp/concierge-load-XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
wait_listen() { for _ in $(seq 1 100); do [ -s "$1/listen.addr" ] && return; sleep 0.1; done; exit 1; }

"$BIN" maker init --dir "$WORK/maker" --name "Load Maker" >/dev/null
"$BIN" site init --dir "$WORK/site" --name "Load Site" >/dev/null
"$BIN" site trust-maker --dir "$WORK/site" --ca "$WORK/maker/ca.pem" >/dev/null
"$BIN" maker serve --dir "$WORK/maker" --listen 127.0.0.1:0 >/dev/null 2>&1 &
pids+=($!)
"$BIN" serve --dir "$WORK/site" --listen 127.0.0.1:0 >/dev/null 2>"$WORK/registrar.err" &
registrar=$!
pids+=($registrar)
wait_listen "$WORK/maker"
wait_listen "$WORK/site"
"$BIN" maker mint --dir "$WORK/maker" --serial LOAD --count "$N" \
  --masa-url "$(cat "$WORK/maker/listen.addr")" --out "$WORK/devices" >/dev/null
url=https://$(cat "$WORK/site/listen.addr")
start=$(date +%s.%N)
ls -d "$WORK"/devices/*/ | xargs -P "$P" -I{} "$BIN" device enroll --identity {} --registrar "$url" \
  >/dev/null
end=$(date +%s.%N)
enrolled=$("$BIN" devices list --dir "$WORK/site" --state enrolled --json | grep -c '"serial"')
hwm=$(grep VmHWM "/proc/$registrar/status" | awk '{print $2}')
echo "devices $N, enrolled $enrolled, seconds $(awk "BEGIN {print $end - $start}"), registrar peak RSS $((hwm / 1024)) MB"
