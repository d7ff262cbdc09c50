#!/usr/bin/env bash
# Constrained onboarding with real processes over DTLS on loopback: libcoap's own coap-client
# (a CoAP implementation Concierge did not write) reads the registrar's resources; 20
# `device enroll --registrar coaps://` processes enroll at once; their LDevIDs verify with
# openssl, and they join the same registry, MUD policy and transfers as HTTPS devices; bad
# requests get a CoAP error and store nothing.
source "$(dirname "$0")/lib.sh"
command -v coap-client-openssl >/dev/null || fail "coap-client-openssl missing (libcoap3-bin)"

M=$WORK/maker
S=$WORK/site
step "maker, site, trust; the MASA, and the site controller with a CoAPS listener"
"$BIN" maker init --dir "$M" --name "Lumen Valves" >/dev/null
"$BIN" site init --dir "$S" --name "Plant Room" >/dev/null
"$BIN" site trust-maker --dir "$S" --ca "$M/ca.pem" >/dev/null
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
rm -f "$S/coaps.addr"
rm -f "$S/coaps.addr" "$S/coap.addr"
start_server registrar "$S" serve --dir "$S" --listen 127.0.0.1:0 --coaps-listen 127.0.0.1:0 \
  --coap-discovery 127.0.0.1:0
for _ in $(seq 1 50); do [ -s "$S/coap.addr" ] && break; sleep 0.1; done
[ -s "$S/coap.addr" ] || fail "no coap.addr"
MASA=$(cat "$M/listen.addr")
COAPS=$(cat "$S/coaps.addr")
DISCOVERY=$(cat "$S/coap.addr")
has "constrained onboarding on coaps://$COAPS" <"$WORK/registrar.log" || fail "no CoAPS banner"
has "discovery on coap://$DISCOVERY" <"$WORK/registrar.log" || fail "no discovery banner"

for i in $(seq -w 1 20); do
  "$BIN" maker mint --dir "$M" --serial "LV-00$i" --masa-url "$MASA" --out "$WORK/dev$i" \
    --mud-url https://lumen.example/mud/valve.json >/dev/null
done

# coap GET|POST PATH [coap-client options...]: one request as the first device, printing
# libcoap's trace of the exchange (-v 6: each message's code and options).
coap() {
  local method=$1 path=$2
  shift 2
  coap-client-openssl -v 6 -B 10 -c "$WORK/dev01/idevid.pem" -j "$WORK/dev01/idevid.key" \
    -m "$method" "$@" "coaps://$COAPS$path" 2>&1
}
answer() { grep -a "^v:1 t:ACK\|^v:1 t:CON c:[245]\.\|^v:1 t:NON c:[245]\." || true; }

step "coap-client reads /.well-known/core in CoRE link format (40), filtered by rt"
coap get /.well-known/core | answer >"$WORK/core.txt"
has 'c:2.05.*Content-Format:application/link-format' <"$WORK/core.txt" || fail "core: $(cat "$WORK/core.txt")"
has '</.well-known/brski/rv>;rt=brski.rv;ct=836' <"$WORK/core.txt" || fail "no brski.rv link"
has '</.well-known/est/crts>;rt=ace.est.crts;ct="62 281 287"' <"$WORK/core.txt" || fail "no crts link"
coap get '/.well-known/core?rt=brski*' | answer >"$WORK/brski.txt"
has 'brski.vs' <"$WORK/brski.txt" && ! has 'ace.est' <"$WORK/brski.txt" || fail "rt filter: $(cat "$WORK/brski.txt")"
# The DTLS version, a deviation from the draft, is in the discovery answer, not hidden.
has '</.well-known/brski>;rt=brski;dtls="1.2"' <"$WORK/brski.txt" || fail "no DTLS version"

step "coap-client reads /.well-known/est/crts as multipart-core (62), PKCS#7 (281), one certificate (287)"
coap get /.well-known/est/crts -A 62 | answer | has 'c:2.05.*Content-Format:62' || fail "crts 62"
coap get /.well-known/est/crts -A 281 | answer | has 'c:2.05.*Content-Format:281' || fail "crts 281"
coap-client-openssl -B 10 -c "$WORK/dev01/idevid.pem" -j "$WORK/dev01/idevid.key" -m get -A 287 \
  -o "$WORK/ca.der" "coaps://$COAPS/.well-known/est/crts" >/dev/null 2>&1
openssl x509 -inform DER -in "$WORK/ca.der" -noout -subject | has "Plant Room Domain CA" ||
  fail "crts 287 is not the domain CA"
cmp <(openssl x509 -inform DER -in "$WORK/ca.der") <(openssl x509 -in "$S/domain-ca.pem") ||
  fail "crts 287 differs from domain-ca.pem"

step "Uri-Path-Abbrev (option 13): 301 is /crts; an unknown value is 4.02, never 4.04"
coap get "" -O 13,0x012d | answer | has 'c:2.05.*Content-Format:62' || fail "abbreviation 301"
coap get "" -O 13,0x03e7 | answer | has 'c:4.02' || fail "unknown abbreviation"

step "20 devices enroll over coaps:// at once"
pids=()
for i in $(seq -w 1 20); do
  "$BIN" device enroll --identity "$WORK/dev$i" --registrar "coaps://$COAPS" --json \
    >"$WORK/enroll$i.json" 2>"$WORK/enroll$i.err" &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { cat "$WORK/enroll$((i + 1)).err" 2>/dev/null; fail "enrollment $((i + 1)) failed"; }
done
for i in $(seq -w 1 20); do
  openssl verify -CAfile "$S/domain-ca.pem" "$WORK/dev$i/ldevid.pem" >/dev/null ||
    fail "device $i's LDevID does not verify"
done
"$BIN" devices list --dir "$S" --json >"$WORK/devices.json"
[ "$(grep -c '"state": "enrolled"' "$WORK/devices.json")" = 20 ] || fail "not 20 enrolled devices"
[ "$(grep -c '"enroll_status": "ok"' "$WORK/devices.json")" = 20 ] || fail "enrollstatus (CBOR) not recorded"
"$BIN" audit verify --dir "$S" >/dev/null

step "the device's voucher is COSE, signed by the MASA, without the MASA's certificate bag"
voucher=$(od -An -tx1 -N7 "$WORK/dev01/voucher.cms" | tr -d ' \n')
[ "$voucher" = "d28443a10126a0" ] ||
  fail "voucher is not COSE_Sign1 ES256 with an empty unprotected header: $voucher"

step "constrained devices get MUD policy like any other"
"$BIN" mud show LV-0001 --dir "$S" --json >"$WORK/mud.json"
has '"mud_url": "https://lumen.example/mud/valve.json"' <"$WORK/mud.json" || fail "no MUD URL"
has '"url_source": "idevid"' <"$WORK/mud.json" || fail "MUD URL not from the IDevID"

step "and are transferred like any other: export to a new owner, import there"
N=$WORK/new-site
"$BIN" site init --dir "$N" --name "New Owner" >/dev/null
"$BIN" site trust-maker --dir "$N" --ca "$M/ca.pem" >/dev/null
"$BIN" transfer export --dir "$S" --to "$N/domain-ca.pem" --registrar "coaps://127.0.0.1:5684" \
  --devices LV-0001,LV-0002 --out "$WORK/bundle.json" >/dev/null
"$BIN" transfer import --dir "$N" "$WORK/bundle.json" | has "2 device(s)" || fail "import"

step "amplification: a source that never completed a handshake gets no more than 3x its bytes"
port=${COAPS##*:}
python3 "$(dirname "$0")/coaps_wire.py" probe 127.0.0.1 "$port" /.well-known/core \
  /.well-known/brski/rv /.well-known/brski/vs /.well-known/brski/es /.well-known/est/crts \
  /.well-known/est/sen /.well-known/est/sren /.well-known/est/att >"$WORK/amplification.json"
python3 - "$WORK/amplification.json" <<'PY' || fail "amplification over 3x"
import json, sys
probes = json.load(open(sys.argv[1]))
for p in probes:
    print(f"  {p['probe']:40} {p['bytes_in']:4} in {p['bytes_out']:4} out  x{p['factor']:.2f}")
worst = max(p["factor"] for p in probes)
plain = [p for p in probes if p["probe"] != "DTLS ClientHello"]
assert len(probes) == 27 and all(p["bytes_out"] == 0 for p in plain), "plain CoAP was answered"
assert worst <= 3, f"worst factor {worst}"
PY

step "plain CoAP discovery: small answers at once, larger ones only after an Echo (RFC 9175)"
dport=${DISCOVERY##*:}
python3 "$(dirname "$0")/coaps_wire.py" probe 127.0.0.1 "$dport" /.well-known/core \
  /.well-known/brski/rv /.well-known/brski/vs /.well-known/brski/es /.well-known/est/crts \
  /.well-known/est/sen /.well-known/est/sren /.well-known/est/att /nowhere \
  >"$WORK/discovery_amplification.json"
python3 - "$WORK/discovery_amplification.json" <<'PY' || fail "discovery amplification over 3x"
import json, sys
probes = [p for p in json.load(open(sys.argv[1])) if p["probe"] != "DTLS ClientHello"]
for p in probes:
    print(f"  {p['probe']:40} {p['bytes_in']:4} in {p['bytes_out']:4} out  x{p['factor']:.2f}")
assert all(p["bytes_out"] > 0 for p in probes), "a probe got no answer at all"
worst = max(p["factor"] for p in probes)
assert worst <= 3, f"worst factor {worst}"
PY
python3 "$(dirname "$0")/coaps_wire.py" echo 127.0.0.1 "$dport" >"$WORK/echo.json"
python3 - "$WORK/echo.json" "${COAPS##*:}" <<'PY' || fail "Echo round trip: $(cat "$WORK/echo.json")"
import json, sys
e = json.load(open(sys.argv[1]))
print(f"  GET /.well-known/core: {e['request_bytes']} B in, 4.01 with a {e['echo_bytes']}-byte "
      f"Echo: {e['challenge_bytes']} B out; again with it: {e['retry_bytes']} B in, "
      f"{e['answer_code']}: {e['answer_bytes']} B out")
assert e["challenge_code"] == "4.01" and e["echo_bytes"] == 12
assert e["challenge_bytes"] <= 3 * e["request_bytes"]
assert e["answer_code"] == "2.05" and e["answer_bytes"] > 3 * e["request_bytes"]
port = sys.argv[2]
assert e["links"] == f"<>;brski-jp={port},<coaps://127.0.0.1:{port}/.well-known/brski>;rt=brski", e["links"]
PY
# libcoap's client answers the challenge by itself (RFC 9175 §2.3).
coap-client-openssl -v 7 -B 10 -m get "coap://$DISCOVERY/.well-known/core" 2>&1 |
  grep -a "^v:1 " >"$WORK/echo_trace.txt" || true
has 'c:4.01.*Echo:0x' <"$WORK/echo_trace.txt" && has 'c:GET.*Echo:0x' <"$WORK/echo_trace.txt" &&
  has 'c:2.05.*brski-jp=' <"$WORK/echo_trace.txt" || fail "coap-client and Echo: $(cat "$WORK/echo_trace.txt")"
coap-client-openssl -B 10 -m get "coap://$DISCOVERY/.well-known/core?brski-jp=*" 2>&1 |
  has "^<>;brski-jp=${COAPS##*:}\$" || fail "brski-jp query"

step "one enrollment on the wire, through a counting relay"
"$BIN" maker mint --dir "$M" --serial LV-0100 --masa-url "$MASA" --out "$WORK/dev100" >/dev/null
python3 "$(dirname "$0")/coaps_wire.py" relay 127.0.0.1 "$port" -- "$BIN" device enroll \
  --identity "$WORK/dev100" --registrar "coaps://127.0.0.1:{port}" >"$WORK/wire.json" ||
  { cat "$WORK/wire.json"; fail "enrollment through the relay"; }
python3 - "$WORK/wire.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
print(f"  {w['to_server']['datagrams'] + w['to_client']['datagrams']} datagrams in "
      f"{w['sessions']} DTLS sessions: {w['to_server']['bytes']} bytes from the pledge, "
      f"{w['to_client']['bytes']} to it")
PY

step "refused with a CoAP error, nothing stored: wrong content-format, malformed CBOR, oversize"
before=$(device_count "$S")
coap post /.well-known/brski/rv -t 60 -e 'a0' | answer | has 'c:4.15' || fail "wrong format"
coap post /.well-known/brski/rv -t 836 -e 'not cbor' | answer | has 'c:4.00' || fail "malformed CBOR"
# An unsigned voucher-request (CBOR, not COSE_Sign1).
printf '\xa1\x19\x09\xc5\xa2\x01\x02\x0d\x66LV-001' >"$WORK/unsigned.cbor"
coap post /.well-known/brski/rv -t 836 -f "$WORK/unsigned.cbor" | answer | has 'c:4.0[03]' ||
  fail "unsigned request"
# Option 9 is unassigned and, being odd, critical (RFC 7252 §5.4.1).
coap get /.well-known/est/crts -O 9,x | answer | has 'c:4.02' || fail "unknown critical option"
head -c 20000 /dev/zero >"$WORK/big.bin"
coap post /.well-known/est/sen -t 286 -f "$WORK/big.bin" | answer | has 'c:4.13' || fail "oversize body"
[ "$(device_count "$S")" = "$before" ] || fail "a refused request stored a device"
echo "constrained test passed"
