#!/usr/bin/env bash
# Constrained onboarding figures (docs/constrained.md): `lab onboard` over coaps and over https
# with the same N pledges, one after the other; the registrar's memory per DTLS session with
# 1 and SESSIONS sessions held open (bench/coaps_sessions); and one enrollment through a
# counting UDP relay (tests/integration/coaps_wire.py).
# Usage: bench/constrained_figures.sh PATH_TO_CONCIERGE PATH_TO_COAPS_SESSIONS [DEVICES] [SESSIONS]
set -euo pipefail
SESSIONS_BIN=${2:?usage: bench/constrained_figures.sh CONCIERGE COAPS_SESSIONS [DEVICES] [SESSIONS]}
source "$(dirname "$0")/../tests/integration/lib.sh" "$1"
DEVICES=${3:-2000}
SESSIONS=${4:-1000}

printf '%-6s %8s %8s %8s %8s %14s\n' via enrolled "per s" "p50 ms" "p99 ms" "lo bytes/enr"
for via in coaps https; do
  "$BIN" lab onboard --devices "$DEVICES" --via "$via" --json >"$WORK/$via.json"
  python3 - "$via" "$WORK/$via.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
print(f"{sys.argv[1]:<6} {r['enrolled']:>8} {r['enrollments_per_s']:>8.1f} "
      f"{r['latency_p50_ms']:>8.1f} {r['latency_p99_ms']:>8.1f} "
      f"{r['loopback_bytes_per_enrollment']:>14.0f}")
PY
done

M=$WORK/maker
S=$WORK/site
"$BIN" maker init --dir "$M" --name "Figures Maker" >/dev/null
"$BIN" site init --dir "$S" --name "Figures Site" >/dev/null
"$BIN" site trust-maker --dir "$S" --ca "$M/ca.pem" >/dev/null
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
rm -f "$S/coaps.addr"
start_server registrar "$S" serve --dir "$S" --listen 127.0.0.1:0 --coaps-listen 127.0.0.1:0
for _ in $(seq 1 50); do [ -s "$S/coaps.addr" ] && break; sleep 0.1; done
COAPS=$(cat "$S/coaps.addr")
SERVER_PID=${PIDS[1]}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=probe -days 1 \
  -keyout "$WORK/probe.key" -out "$WORK/probe.pem" 2>/dev/null
for n in 1 "$SESSIONS"; do
  "$SESSIONS_BIN" "$COAPS" "$SERVER_PID" "$n" "$WORK/probe.pem" "$WORK/probe.key"
done
"$BIN" maker mint --dir "$M" --serial FIG-1 --masa-url "$(cat "$M/listen.addr")" \
  --out "$WORK/dev" >/dev/null
python3 "$(dirname "$0")/../tests/integration/coaps_wire.py" relay 127.0.0.1 "${COAPS##*:}" -- \
  "$BIN" device enroll --identity "$WORK/dev" --registrar "coaps://127.0.0.1:{port}" \
  >"$WORK/wire.json"
python3 - "$WORK/wire.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
print(f"one enrollment: {w['sessions']} DTLS sessions, "
      f"{w['to_server']['datagrams'] + w['to_client']['datagrams']} datagrams, "
      f"{w['to_server']['bytes']} bytes from the pledge, {w['to_client']['bytes']} to it")
print("datagrams (session, direction, bytes):", w["datagrams"])
PY
