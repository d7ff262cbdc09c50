#!/usr/bin/env bash
# Three real processes (maker serve, serve, device enroll) over TLS on loopback: a device
# onboards, its LDevID verifies with openssl, its voucher verifies with openssl cms; then each
# kind of bad request is refused with a clear error and nothing wrong is stored.
source "$(dirname "$0")/lib.sh"

M=$WORK/maker
S=$WORK/site
step "maker, site, trust"
"$BIN" maker init --dir "$M" --name "Acme Sensors" >/dev/null
"$BIN" site init --dir "$S" --name "Integration Site" >/dev/null
"$BIN" site trust-maker --dir "$S" --ca "$M/ca.pem" >/dev/null

step "start the MASA and the site controller on port 0"
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
start_server registrar "$S" serve --dir "$S" --listen 127.0.0.1:0
MASA=$(cat "$M/listen.addr")
REGISTRAR=https://$(cat "$S/listen.addr")

step "mint and enroll one device"
"$BIN" maker mint --dir "$M" --serial IT-0001 --masa-url "$MASA" --out "$WORK/dev1" \
  --mud-url https://acme.example/mud/sensor.json >/dev/null
"$BIN" device enroll --identity "$WORK/dev1" --registrar "$REGISTRAR" | tee "$WORK/enroll.txt"
grep -q "enrolled IT-0001" "$WORK/enroll.txt" || fail "enroll did not report success"

step "openssl verifies the LDevID against the domain CA and the voucher against the maker CA"
openssl verify -CAfile "$S/domain-ca.pem" "$WORK/dev1/ldevid.pem"
openssl cms -verify -inform DER -in "$WORK/dev1/voucher.cms" -CAfile "$M/ca.pem" -binary \
  -out "$WORK/voucher.json" 2>"$WORK/cms.txt" || { cat "$WORK/cms.txt"; fail "voucher CMS"; }
grep -q '"serial-number":"IT-0001"' "$WORK/voucher.json" || fail "voucher names another serial"
if openssl verify -CAfile "$M/ca.pem" "$WORK/dev1/ldevid.pem" 2>/dev/null; then
  fail "the LDevID must not verify against the maker CA"
fi
openssl x509 -in "$WORK/dev1/ldevid.pem" -noout -text | has "acme.example/mud" ||
  fail "LDevID lacks the MUD URL"

step "the voucher is id-ct-animaJSONVoucher (RFC 8366 §5.3); EST cacerts carries no eContent"
# OpenSSL 3.0 has no name for the OID; the project's names file gives it one.
OPENSSL_CONF="$(dirname "$0")/../../data/openssl/oids.cnf" \
  openssl cms -cmsout -print -inform DER -in "$WORK/dev1/voucher.cms" >"$WORK/voucher-cms.txt"
grep -Ex " *eContentType: id-ct-animaJSONVoucher \(1\.2\.840\.113549\.1\.9\.16\.1\.40\)" \
  "$WORK/voucher-cms.txt" ||
  { grep eContentType "$WORK/voucher-cms.txt"; fail "voucher eContentType"; }
curl -sk --cacert "$S/domain-ca.pem" "$REGISTRAR/.well-known/est/cacerts" | base64 -d >"$WORK/cacerts.p7"
openssl pkcs7 -print -inform DER -in "$WORK/cacerts.p7" >"$WORK/cacerts.txt"
grep -A2 "contents:" "$WORK/cacerts.txt" | has "d.data: <ABSENT>" ||
  { cat "$WORK/cacerts.txt"; fail "certs-only cacerts must have no eContent"; }

"$BIN" devices list --dir "$S" --json >"$WORK/devices.json"
grep -q '"state": "enrolled"' "$WORK/devices.json" || fail "device not enrolled in inventory"
grep -q '"enroll_status": "ok"' "$WORK/devices.json" || fail "enrollstatus not recorded"
grep -q '"address": "127.0.0.1"' "$WORK/devices.json" || fail "enrolment address not recorded"
"$BIN" audit verify --dir "$S"

step "the MUD manager takes the device's MUD URL from its IDevID, not its loopback address"
"$BIN" mud show IT-0001 --dir "$S" --json >"$WORK/mud.json"
grep -q '"mud_url": "https://acme.example/mud/sensor.json"' "$WORK/mud.json" || fail "no MUD URL"
grep -q '"url_source": "idevid"' "$WORK/mud.json" || fail "MUD URL not from the IDevID"
# A device enrolling from 127.0.0.1 runs on this host; that is not its address on the network.
grep -q '"addresses": \[\]' "$WORK/mud.json" || fail "a loopback enrolment address was taken"

step "refused: unknown maker"
R=$WORK/rogue
"$BIN" maker init --dir "$R" --name "Rogue Devices" >/dev/null
"$BIN" maker mint --dir "$R" --serial ROGUE-1 --masa-url "$MASA" --out "$WORK/rogue1" >/dev/null
before=$(device_count "$S")
expect_exit 1 "unknown maker" "$BIN" device enroll --identity "$WORK/rogue1" --registrar "$REGISTRAR"
[ "$(device_count "$S")" = "$before" ] || fail "a refused device was stored"

step "refused: device not minted by the MASA it names"
"$BIN" site trust-maker --dir "$S" --ca "$R/ca.pem" >/dev/null
expect_exit 1 "does not chain" "$BIN" device enroll --identity "$WORK/rogue1" --registrar "$REGISTRAR"
[ "$(device_count "$S")" = "$before" ] || fail "a device refused by its MASA was stored"

step "refused at the HTTP layer: EST without voucher, malformed CMS, oversize, wrong type"
"$BIN" maker mint --dir "$M" --serial IT-0002 --masa-url "$MASA" --out "$WORK/dev2" >/dev/null
D2=$WORK/dev2
curl_registrar() {
  curl -sk --cert "$D2/idevid.pem" --key "$D2/idevid.key" -o "$WORK/body.txt" \
    -w '%{http_code}' "$@"
}
openssl req -new -key "$D2/idevid.key" -subj "/serialNumber=IT-0002/CN=IT-0002" -outform DER \
  -out "$WORK/csr.der" 2>/dev/null
base64 "$WORK/csr.der" >"$WORK/csr.b64"
code=$(curl_registrar -H 'Content-Type: application/pkcs10' --data-binary @"$WORK/csr.b64" \
  "$REGISTRAR/.well-known/est/simpleenroll")
[ "$code" = 403 ] && grep -q "no successful voucher" "$WORK/body.txt" || fail "EST without voucher: $code $(cat "$WORK/body.txt")"
code=$(curl_registrar -H 'Content-Type: application/voucher-cms+json' --data-binary 'garbage' \
  "$REGISTRAR/.well-known/brski/requestvoucher")
[ "$code" = 400 ] || fail "malformed CMS answered $code"
head -c 300000 /dev/zero >"$WORK/big.bin"
code=$(curl_registrar -H 'Content-Type: application/voucher-cms+json' --data-binary @"$WORK/big.bin" \
  "$REGISTRAR/.well-known/brski/requestvoucher")
[ "$code" = 413 ] || fail "oversize body answered $code"
code=$(curl_registrar -H 'Content-Type: text/plain' --data-binary 'x' \
  "$REGISTRAR/.well-known/brski/requestvoucher")
[ "$code" = 415 ] || fail "wrong content type answered $code"
code=$(curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/voucher-cms+json' \
  --data-binary @"$WORK/csr.der" "$REGISTRAR/.well-known/brski/requestvoucher")
[ "$code" = 403 ] || fail "no client certificate answered $code"
[ "$(device_count "$S")" = "$before" ] || fail "refused requests stored a device"

step "manual approval: the device waits (202) until an operator approves it"
A=$WORK/careful
"$BIN" maker init --dir "$A" --name "Careful Co" >/dev/null
"$BIN" site trust-maker --dir "$S" --ca "$A/ca.pem" --approval manual >/dev/null
start_server masa2 "$A" maker serve --dir "$A" --listen 127.0.0.1:0
"$BIN" maker mint --dir "$A" --serial CAREFUL-1 --masa-url "$(cat "$A/listen.addr")" \
  --out "$WORK/careful1" >/dev/null
"$BIN" device enroll --identity "$WORK/careful1" --registrar "$REGISTRAR" >"$WORK/careful.txt" 2>&1 &
enroll_pid=$!
for _ in $(seq 1 50); do
  "$BIN" devices list --dir "$S" --json | has '"state": "pending"' && break
  sleep 0.1
done
id=$("$BIN" devices list --dir "$S" --json | tr -d ' \n' |
  grep -o '{[^{}]*"serial":"CAREFUL-1"[^{}]*}' | grep -o '"id":[0-9]*' | tr -dc 0-9)
[ -n "$id" ] || fail "pending device not listed"
"$BIN" devices approve --dir "$S" "$id"
wait "$enroll_pid" || { cat "$WORK/careful.txt"; fail "approved device did not enroll"; }
openssl verify -CAfile "$S/domain-ca.pem" "$WORK/careful1/ldevid.pem"

step "bad usage exits 2"
expect_exit 2 "" "$BIN" device enroll --identity "$WORK/dev1"
expect_exit 2 "address" "$BIN" serve --dir "$S" --listen nonsense
expect_exit 2 "" "$BIN" no-such-command

step "audit verify catches a tampered chain"
"$BIN" audit verify --dir "$S"
cp -r "$S" "$WORK/tampered"
sqlite3 "$WORK/tampered/site.db" "UPDATE audit_events SET detail = '{}' WHERE seq = 3"
expect_exit 1 "audit record 3" "$BIN" audit verify --dir "$WORK/tampered"
# The maker's chain too: every mint and voucher (the MASA is idle: a copy is consistent).
"$BIN" maker audit verify --dir "$M" | has "audit chain intact: [1-9][0-9]* events" ||
  fail "the maker's chain does not verify"
cp -r "$M" "$WORK/tampered-maker"
sqlite3 "$WORK/tampered-maker/maker.db" "UPDATE audit_events SET subject = 'x' WHERE seq = 2"
expect_exit 1 "audit record 2" "$BIN" maker audit verify --dir "$WORK/tampered-maker"

echo "PASS: brski_processes_test"
