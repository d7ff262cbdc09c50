#!/usr/bin/env bash
# Onboarding figures on each storage backend: `lab onboard` with N pledges on SQLite and on a
# PostgreSQL cluster of its own (tests/integration/postgres.sh: fsync and synchronous commit on,
# as a real server), with 1, 2 and 4 site controllers; prints one line per run.
# Usage: bench/storage_figures.sh PATH_TO_CONCIERGE [DEVICES]   (default 5000)
source "$(dirname "$0")/../tests/integration/lib.sh"
source "$(dirname "$0")/../tests/integration/postgres.sh"
DEVICES=${2:-5000}
pg_start "$WORK/pg"
printf '%-11s %-11s %8s %8s %8s %9s %12s\n' backend controllers enrolled "per s" "p50 ms" "p99 ms" "MB per 100k"
for backend in sqlite postgresql; do
  for controllers in 1 2 4; do
    db=()
    [ "$backend" = postgresql ] && db=(--db "$PG_URI")
    "$BIN" lab onboard --devices "$DEVICES" --controllers "$controllers" "${db[@]}" --json \
      >"$WORK/run.json"
    python3 - "$backend" "$controllers" "$WORK/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[3]))
print(f"{sys.argv[1]:<11} {sys.argv[2]:<11} {r['enrolled']:>8} {r['enrollments_per_s']:>8.1f} "
      f"{r['latency_p50_ms']:>8.1f} {r['latency_p99_ms']:>9.1f} {r['database_mb_per_100k']:>12.1f}")
PY
  done
done
