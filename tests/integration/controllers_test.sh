#!/usr/bin/env bash
# Several site controllers on one PostgreSQL database: three `serve` processes, each with its own
# copy of one site directory, enroll pledges spread across them; one is killed with SIGKILL
# midway and started again. Afterwards every pledge is enrolled exactly once: no certificate
# serial twice, no device left pending beside its enrolled self, one audit chain that verifies.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postgres.sh"
PLEDGES=${CONTROLLERS_PLEDGES:-3000}

step "a PostgreSQL cluster of the test's own, a maker, a site on it, three copies of the site"
pg_start "$WORK/pg"
M=$WORK/maker
"$BIN" maker init --dir "$M" --name "Acme Sensors" >/dev/null
"$BIN" site init --dir "$WORK/site-1" --name "Campus" --db "$PG_URI" >/dev/null
"$BIN" site trust-maker --dir "$WORK/site-1" --ca "$M/ca.pem" >/dev/null
grep -q '"database": "postgresql://' "$WORK/site-1/site.json" || fail "site.json names no database"
cp -r "$WORK/site-1" "$WORK/site-2"
cp -r "$WORK/site-1" "$WORK/site-3"

step "the MASA and three site controllers"
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
MASA=$(cat "$M/listen.addr")
CONTROLLER_PIDS=()
for i in 1 2 3; do
  start_server "controller-$i" "$WORK/site-$i" serve --dir "$WORK/site-$i" --listen 127.0.0.1:0
  CONTROLLER_PIDS+=("${PIDS[-1]}")
done
REGISTRARS=()
for i in 1 2 3; do REGISTRARS+=(--registrar "$(cat "$WORK/site-$i/listen.addr")"); done

enrolled() { psql_at "$PG_URI" "SELECT count(*) FROM devices WHERE state = 'enrolled'"; }

step "$PLEDGES pledges spread over the three; controller 2 is killed a third of the way in"
"$BIN" lab onboard --devices "$PLEDGES" --concurrency 24 "${REGISTRARS[@]}" --maker "$M" \
  --masa-url "$MASA" --json >"$WORK/lab.json" 2>"$WORK/lab.err" &
LAB=$!
PIDS+=("$LAB")
until [ "$(enrolled)" -ge $((PLEDGES / 3)) ]; do
  kill -0 "$LAB" 2>/dev/null || { cat "$WORK/lab.err"; fail "the lab ended early"; }
  sleep 0.1
done
kill -KILL "${CONTROLLER_PIDS[1]}"
echo "killed controller 2 with $(enrolled) enrolled"
start_server controller-2-again "$WORK/site-2" serve --dir "$WORK/site-2" --listen 127.0.0.1:0
wait "$LAB" || { cat "$WORK/lab.err"; fail "the lab failed"; }
cat "$WORK/lab.json"
grep -q "\"enrolled\": $PLEDGES," "$WORK/lab.json" || fail "not every pledge enrolled"
grep -q '"failed": 0,' "$WORK/lab.json" || fail "some pledges failed"

step "the restarted controller enrolls a device of its own"
"$BIN" maker mint --dir "$M" --serial AFTER-0001 --masa-url "$MASA" --out "$WORK/after" >/dev/null
"$BIN" device enroll --identity "$WORK/after" --registrar "https://$(cat "$WORK/site-2/listen.addr")" \
  >/dev/null || fail "the restarted controller does not enroll"
openssl verify -CAfile "$WORK/site-1/domain-ca.pem" "$WORK/after/ldevid.pem" >/dev/null ||
  fail "its LDevID does not verify"

step "every device once, every serial once, one chain"
TOTAL=$((PLEDGES + 1))
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
echo "ok: $TOTAL enrolled through three controllers, one of them killed and restarted"
