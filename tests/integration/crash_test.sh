#!/usr/bin/env bash
# Kills `concierge serve` with SIGKILL at random moments while many pledges enroll against it,
# restarts it on the same port, and lets the pledges finish. Then: every device is enrolled,
# no certificate serial appears twice, no device is both enrolled and without a certificate
# (or pending), every LDevID verifies, and the audit chain is intact.
source "$(dirname "$0")/lib.sh"

DEVICES=${CRASH_DEVICES:-40}
KILLS=${CRASH_KILLS:-5}
M=$WORK/maker
S=$WORK/site
"$BIN" maker init --dir "$M" --name "Crash Maker" >/dev/null
"$BIN" site init --dir "$S" --name "Crash Site" >/dev/null
"$BIN" site trust-maker --dir "$S" --ca "$M/ca.pem" >/dev/null
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
start_server registrar "$S" serve --dir "$S" --listen 127.0.0.1:0
ADDR=$(cat "$S/listen.addr")
REG_PID=${PIDS[-1]}
"$BIN" maker mint --dir "$M" --serial CRASH --count "$DEVICES" --masa-url "$(cat "$M/listen.addr")" \
  --out "$WORK/devices" >/dev/null

step "$DEVICES pledges enroll while the registrar is killed $KILLS times"
pledge_pids=()
for dir in "$WORK"/devices/*; do
  "$BIN" device enroll --identity "$dir" --registrar "https://$ADDR" --retry-for 120 \
    >"$dir.log" 2>&1 &
  pledge_pids+=($!)
done
for i in $(seq 1 "$KILLS"); do
  sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
  kill -9 "$REG_PID" 2>/dev/null || true
  wait "$REG_PID" 2>/dev/null || true
  echo "killed the registrar (round $i)"
  start_server "registrar$i" "$S" serve --dir "$S" --listen "$ADDR"
  REG_PID=${PIDS[-1]}
done

failed=0
for pid in "${pledge_pids[@]}"; do
  wait "$pid" || failed=$((failed + 1))
done
if [ "$failed" -ne 0 ]; then
  grep -h "error" "$WORK"/devices/*.log | sort | uniq -c >&2
  fail "$failed pledge(s) did not finish enrolling"
fi

step "invariants after the crashes"
DB=$S/site.db
q() { sqlite3 "$DB" "$1"; }
[ "$(q "SELECT count(*) FROM devices")" = "$DEVICES" ] || fail "expected $DEVICES devices, found $(q "SELECT count(*) FROM devices")"
[ -z "$(q "SELECT serial FROM certificates GROUP BY serial HAVING count(*) > 1")" ] || fail "duplicate certificate serials"
[ "$(q "SELECT count(*) FROM devices WHERE state != 'enrolled'")" = 0 ] || fail "devices not enrolled: $(q "SELECT serial, state FROM devices WHERE state != 'enrolled'")"
[ "$(q "SELECT count(*) FROM devices d WHERE NOT EXISTS (SELECT 1 FROM certificates c WHERE c.device_id = d.id)")" = 0 ] ||
  fail "an enrolled device has no certificate"
[ "$(q "SELECT count(*) FROM devices d WHERE NOT EXISTS (SELECT 1 FROM vouchers v WHERE v.device_id = d.id)")" = 0 ] ||
  fail "an enrolled device has no voucher"
for dir in "$WORK"/devices/*/; do
  openssl verify -CAfile "$S/domain-ca.pem" "$dir/ldevid.pem" >/dev/null || fail "LDevID in $dir"
done
"$BIN" audit verify --dir "$S"
echo "certificates issued: $(q "SELECT count(*) FROM certificates") for $DEVICES devices"
echo "PASS: crash_test"
