#!/usr/bin/env bash
# Prometheus metrics: the site controller and the MASA serve /metrics; promtool accepts a live
# scrape of each, and the counters move when a device enrolls.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool is missing (scripts/install-deps installs prometheus)"

M=$WORK/maker
S=$WORK/site
"$BIN" maker init --dir "$M" --name "Acme Sensors" >/dev/null
"$BIN" site init --dir "$S" --name "Metrics Site" >/dev/null
"$BIN" site trust-maker --dir "$S" --ca "$M/ca.pem" >/dev/null
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0
start_server registrar "$S" serve --dir "$S" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0
for _ in $(seq 1 50); do [ -s "$S/metrics.addr" ] && [ -s "$M/metrics.addr" ] && break; sleep 0.1; done
MASA=$(cat "$M/listen.addr")

scrape_site() { curl -sf --cacert "$S/domain-ca.pem" "https://$(cat "$S/metrics.addr")/metrics"; }
scrape_masa() { curl -sf --cacert "$M/ca.pem" "https://$(cat "$M/metrics.addr")/metrics"; }
value() { awk -v series="$1" '$1 == series { print $2 }'; }

step "promtool accepts a scrape of each before anything happened"
scrape_site >"$WORK/site-0.txt" || fail "the site controller's /metrics does not answer"
promtool check metrics <"$WORK/site-0.txt" || fail "promtool refuses the site controller's metrics"
grep -q '^concierge_approval_queue_devices 0$' "$WORK/site-0.txt" || fail "no approval queue gauge"
grep -q '^concierge_certificates_expiring{within="30d"} 0$' "$WORK/site-0.txt" ||
  fail "no certificate expiry gauge"
[ -z "$(value 'concierge_enrollments_total{result="enrolled"}' <"$WORK/site-0.txt")" ] ||
  fail "an enrollment counted before any device enrolled"

step "a device enrolls; the counters move"
"$BIN" maker mint --dir "$M" --serial MET-0001 --masa-url "$MASA" --out "$WORK/dev1" >/dev/null
"$BIN" device enroll --identity "$WORK/dev1" --registrar "https://$(cat "$S/listen.addr")" >/dev/null
scrape_site >"$WORK/site-1.txt"
promtool check metrics <"$WORK/site-1.txt" || fail "promtool refuses the metrics after enrolling"
[ "$(value 'concierge_enrollments_total{result="enrolled"}' <"$WORK/site-1.txt")" = 1 ] ||
  { grep enrollments "$WORK/site-1.txt"; fail "the enrollment was not counted"; }
[ "$(value 'concierge_voucher_requests_total{result="vouchered"}' <"$WORK/site-1.txt")" = 1 ] ||
  fail "the voucher request was not counted"
[ "$(value 'concierge_masa_call_duration_seconds_count{call="requestvoucher",result="ok"}' \
  <"$WORK/site-1.txt")" = 1 ] || fail "the MASA call was not timed"
grep -q '^concierge_http_request_duration_seconds_count{server="registrar",endpoint="/.well-known/est/simpleenroll"} 1$' \
  "$WORK/site-1.txt" || fail "the enrollment's latency was not recorded per endpoint"
grep -q '^concierge_certificates_expiring{within="90d"} 0$' "$WORK/site-1.txt" ||
  fail "a year-long LDevID counted as expiring within 90 days"

step "the MASA's metrics"
scrape_masa >"$WORK/masa.txt" || fail "the MASA's /metrics does not answer"
promtool check metrics <"$WORK/masa.txt" || fail "promtool refuses the MASA's metrics"
[ "$(value 'concierge_masa_vouchers_total{format="cms",result="issued"}' <"$WORK/masa.txt")" = 1 ] ||
  fail "the MASA did not count its voucher"

step "a refusal is counted by its reason, and the metrics listener serves nothing else"
curl -sk -o /dev/null "https://$(cat "$S/listen.addr")/.well-known/est/simpleenroll" \
  -H "content-type: application/pkcs10" --data-binary "not a csr" || true
scrape_site | has '^concierge_enrollments_total{result="refused",reason="' || fail "the refusal was not counted"
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://$(cat "$S/metrics.addr")/api/v1/devices")
[ "$code" = 404 ] || fail "the metrics listener answered $code for another path"
echo "ok: metrics scraped, checked by promtool, and counting"
