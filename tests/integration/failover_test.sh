#!/usr/bin/env bash
# Failover: the site's PostgreSQL primary streams to a synchronous replica; two site controllers
# reach them through one libpq multi-host URI with target_session_attrs=read-write. While
# pledges enroll, the primary is stopped and the replica promoted: the controllers reconnect on
# their own, say how long the database was gone, and no enrollment is lost or made twice.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postgres.sh"
PLEDGES=${FAILOVER_PLEDGES:-1500}

step "a primary and a synchronous streaming replica"
pg_start "$WORK/pg-a"
PRIMARY=$PG_URI
pg_replica "$WORK/pg-b" "$WORK/pg-a"
for _ in $(seq 1 100); do
  [ "$(psql_at "$PRIMARY" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ] && break
  sleep 0.1
done
# A commit waits until the replica has it, so that a promotion loses no acknowledged write.
psql_at "$PRIMARY" "ALTER SYSTEM SET synchronous_standby_names = '*'" >/dev/null
psql_at "$PRIMARY" "SELECT pg_reload_conf()" >/dev/null
[ "$(psql_at "$PRIMARY" "SELECT sync_state FROM pg_stat_replication")" = sync ] ||
  fail "the replica is not synchronous"
URI="postgresql://concierge@/postgres?host=$WORK/pg-a,$WORK/pg-b&target_session_attrs=read-write"

step "a maker, a site on both, two site controllers"
M=$WORK/maker
"$BIN" maker init --dir "$M" --name "Acme Sensors" >/dev/null
"$BIN" site init --dir "$WORK/site-1" --name "Hospital" --db "$URI" >/dev/null
"$BIN" site trust-maker --dir "$WORK/site-1" --ca "$M/ca.pem" >/dev/null
cp -r "$WORK/site-1" "$WORK/site-2"
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
MASA=$(cat "$M/listen.addr")
REGISTRARS=()
for i in 1 2; do
  start_server "controller-$i" "$WORK/site-$i" serve --dir "$WORK/site-$i" --listen 127.0.0.1:0
  REGISTRARS+=(--registrar "$(cat "$WORK/site-$i/listen.addr")")
done

enrolled() { psql_at "$URI" "SELECT count(*) FROM devices WHERE state = 'enrolled'"; }

step "$PLEDGES pledges; a third of the way in, the primary stops and the replica is promoted"
"$BIN" lab onboard --devices "$PLEDGES" --concurrency 16 "${REGISTRARS[@]}" --maker "$M" \
  --masa-url "$MASA" --attempts 100 --json >"$WORK/lab.json" 2>"$WORK/lab.err" &
LAB=$!
PIDS+=("$LAB")
until [ "$(enrolled)" -ge $((PLEDGES / 3)) ]; do
  kill -0 "$LAB" 2>/dev/null || { cat "$WORK/lab.err"; fail "the lab ended early"; }
  sleep 0.1
done
before=$(enrolled)
pg_stop "$WORK/pg-a" fast
pg_promote "$WORK/pg-b"
echo "primary stopped and replica promoted with $before enrolled"
wait "$LAB" || { cat "$WORK/lab.err"; fail "the lab failed"; }
cat "$WORK/lab.json"
grep -q "\"enrolled\": $PLEDGES," "$WORK/lab.json" || fail "not every pledge enrolled"
grep -q '"failed": 0,' "$WORK/lab.json" || fail "some pledges failed"

step "the controllers reconnected on their own and said how long the database was gone"
for i in 1 2; do
  grep -h "PostgreSQL connection restored after" "$WORK/controller-$i.log" | tail -1 ||
    fail "controller $i did not report its reconnection"
done
sed -n 's/.*"longest_gap_ms": \([0-9.]*\).*/longest pause between enrollments: \1 ms/p' "$WORK/lab.json"

step "on the promoted replica: every device once, every serial once, one chain"
[ "$(psql_at "$URI" "SELECT pg_is_in_recovery()")" = f ] || fail "the URI did not lead to the new primary"
[ "$(enrolled)" = "$PLEDGES" ] || fail "$(enrolled) enrolled, expected $PLEDGES"
[ "$(psql_at "$URI" "SELECT count(*) FROM devices WHERE state <> 'enrolled'")" = 0 ] ||
  fail "devices left half-enrolled"
[ "$(psql_at "$URI" "SELECT count(*) - count(DISTINCT serial) FROM certificates")" = 0 ] ||
  fail "a certificate serial issued twice"
"$BIN" audit verify --dir "$WORK/site-2" || fail "the audit chain does not verify"
echo "ok: $PLEDGES enrolled across a failover"
