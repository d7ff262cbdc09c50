#!/usr/bin/env bash
# Several site controllers on one PostgreSQL database: three `serve` processes, each with its own
# copy of one site directory, enroll pledges spread across them; one is killed with SIGKILL
# midway and started again. The maker runs two MASA processes on a database of its own, and
# half the pledges name each. Afterwards every pledge is enrolled exactly once: no
# certificate serial twice, no device left pending beside its enrolled self, one audit chain
# that verifies, and no voucher request's nonce recorded twice by the MASAs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postgres.sh"
PLEDGES=${CONTROLLERS_PLEDGES:-3000}

step "a PostgreSQL cluster of the test's own, a maker and a site on it, copies of both"
pg_start "$WORK/pg"
psql_at "$PG_URI" "CREATE DATABASE maker" >/dev/null
MAKER_URI=${PG_URI/\/postgres?/\/maker?}
M=$WORK/maker
"$BIN" maker init --dir "$M" --name "Acme Sensors" --db "$MAKER_URI" >/dev/null
cp -r "$M" "$WORK/maker-2"
"$BIN" site init --dir "$WORK/site-1" --name "Campus" --db "$PG_URI" >/dev/null
"$BIN" site trust-maker --dir "$WORK/site-1" --ca "$M/ca.pem" >/dev/null
grep -q '"database": "postgresql://' "$WORK/site-1/site.json" || fail "site.json names no database"
cp -r "$WORK/site-1" "$WORK/site-2"
cp -r "$WORK/site-1" "$WORK/site-3"

step "two MASA processes and three site controllers"
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
start_server masa-2 "$WORK/maker-2" maker serve --dir "$WORK/maker-2" --listen 127.0.0.1:0
MASA=$(cat "$M/listen.addr")
MASA_2=$(cat "$WORK/maker-2/listen.addr")
CONTROLLER_PIDS=()
for i in 1 2 3; do
  start_server "controller-$i" "$WORK/site-$i" serve --dir "$WORK/site-$i" --listen 127.0.0.1:0
  CONTROLLER_PIDS+=("${PIDS[-1]}")
done
REGISTRARS=()
for i in 1 2 3; do REGISTRARS+=(--registrar "$(cat "$WORK/site-$i/listen.addr")"); done

enrolled() { psql_at "$PG_URI" "SELECT count(*) FROM devices WHERE state = 'enrolled'"; }

step "$PLEDGES pledges spread over the three; controller 2 is killed a third of the way in"
HALF=$((PLEDGES / 2))
LABS=()
for i in 1 2; do
  masa=$MASA
  [ "$i" = 2 ] && masa=$MASA_2
  "$BIN" lab onboard --devices "$HALF" --concurrency 12 "${REGISTRARS[@]}" --maker "$M" \
    --masa-url "$masa" --json >"$WORK/lab-$i.json" 2>"$WORK/lab-$i.err" &
  LABS+=($!)
  PIDS+=($!)
done
until [ "$(enrolled)" -ge $((PLEDGES / 3)) ]; do
  kill -0 "${LABS[0]}" 2>/dev/null || { cat "$WORK/lab-1.err"; fail "a lab ended early"; }
  sleep 0.1
done
kill -KILL "${CONTROLLER_PIDS[1]}"
echo "killed controller 2 with $(enrolled) enrolled"
start_server controller-2-again "$WORK/site-2" serve --dir "$WORK/site-2" --listen 127.0.0.1:0
for i in 1 2; do
  wait "${LABS[$((i - 1))]}" || { cat "$WORK/lab-$i.err"; fail "lab $i failed"; }
  cat "$WORK/lab-$i.json"
  grep -q "\"enrolled\": $HALF," "$WORK/lab-$i.json" || fail "not every pledge of lab $i enrolled"
  grep -q '"failed": 0,' "$WORK/lab-$i.json" || fail "some pledges of lab $i failed"
done

step "the restarted controller enrolls a device of its own"
"$BIN" maker mint --dir "$M" --serial AFTER-0001 --masa-url "$MASA" --out "$WORK/after" >/dev/null
"$BIN" device enroll --identity "$WORK/after" --registrar "https://$(cat "$WORK/site-2/listen.addr")" \
  >/dev/null || fail "the restarted controller does not enroll"
openssl verify -CAfile "$WORK/site-1/domain-ca.pem" "$WORK/after/ldevid.pem" >/dev/null ||
  fail "its LDevID does not verify"

step "every device once, every serial once, one chain"
TOTAL=$((2 * HALF + 1))
[ "$(enrolled)" = "$TOTAL" ] || fail "$(enrolled) enrolled, expected $TOTAL"
[ "$(psql_at "$PG_URI" "SELECT count(*) FROM devices WHERE state <> 'enrolled'")" = 0 ] ||
  fail "devices left pending, approved or vouchered"
[ "$(psql_at "$PG_URI" "SELECT count(*) - count(DISTINCT serial) FROM devices")" = 0 ] ||
  fail "a device recorded twice"
[ "$(psql_at "$PG_URI" "SELECT count(*) - count(DISTINCT serial) FROM certificates")" = 0 ] ||
  fail "a certificate serial issued twice"
[ "$(psql_at "$PG_URI" "SELECT count(DISTINCT device_id) FROM certificates")" = "$TOTAL" ] ||
  fail "not every device holds a certificate"
"$BIN" audit verify --dir "$WORK/site-3" || fail "the audit chain does not verify"
gaps=$(psql_at "$PG_URI" "SELECT count(*) FROM audit_events a WHERE seq > 1 AND NOT EXISTS
  (SELECT 1 FROM audit_events b WHERE b.seq = a.seq - 1)")
[ "$gaps" = 0 ] || fail "the audit chain has $gaps gap(s)"
step "the two MASAs vouched for every device, never twice for one nonce, in one chain"
# A pledge whose controller died after its voucher came asks again with a new nonce.
[ "$(psql_at "$MAKER_URI" "SELECT count(DISTINCT serial) FROM voucher_log")" = "$TOTAL" ] ||
  fail "the MASAs vouched for $(psql_at "$MAKER_URI" "SELECT count(DISTINCT serial) FROM voucher_log") devices"
[ "$(psql_at "$MAKER_URI" "SELECT count(*) - count(DISTINCT nonce) FROM voucher_log")" = 0 ] ||
  fail "a nonce recorded twice"
# The maker's chain: every record follows the one before it (no gap, no fork).
[ "$(psql_at "$MAKER_URI" "SELECT count(*) FROM audit_events a LEFT JOIN audit_events b
    ON b.seq = a.seq - 1 WHERE a.seq > 1 AND (b.seq IS NULL OR a.prev_hash <> b.hash)")" = 0 ] ||
  fail "the maker's audit chain is broken"
[ "$(psql_at "$MAKER_URI" "SELECT max(seq) - count(*) FROM audit_events")" = 0 ] ||
  fail "the maker's audit chain has a gap"
echo "ok: $TOTAL enrolled through three controllers, one of them killed and restarted"
