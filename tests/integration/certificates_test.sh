#!/usr/bin/env bash
# Every kind of certificate Concierge issues, checked with openssl against RFC 5280 and the
# IEEE 802.1AR profile: it parses (`x509 -text`), verifies under `-x509_strict` for its
# purpose, is version 3 with a positive serial of at most 20 octets, carries a subject key
# identifier and an authority key identifier that is not empty and names its issuer's key,
# repeats no subjectAltName, and has the basic constraints, key usage and extended key usage
# of its role. IDevIDs keep 802.1AR's 99991231235959Z and the subject serialNumber. The CRL
# verifies against the domain CA.
source "$(dirname "$0")/lib.sh"

M=$WORK/maker
S=$WORK/site
D=$WORK/device
step "a maker, a site (extra registrar names repeating the defaults), a device, a MUD signer"
"$BIN" maker init --dir "$M" --name "Profile Maker" --masa-url 127.0.0.1:0 >/dev/null
"$BIN" site init --dir "$S" --name "Profile Site" \
  --registrar-names "DNS:localhost,IP:127.0.0.1,DNS:registrar.example" >/dev/null
"$BIN" site trust-maker --dir "$S" --ca "$M/ca.pem" >/dev/null
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
start_server registrar "$S" serve --dir "$S" --listen 127.0.0.1:0
"$BIN" maker mint --dir "$M" --serial PROFILE-1 --masa-url "$(cat "$M/listen.addr")" --out "$D" >/dev/null
"$BIN" device enroll --identity "$D" --registrar "https://$(cat "$S/listen.addr")" >/dev/null
cat >"$WORK/mud.json" <<'EOF'
{"ietf-mud:mud": {"mud-version": 1, "mud-url": "https://127.0.0.1/mud/profile.json",
  "last-update": "2026-11-01T10:00:00Z", "cache-validity": 48, "is-supported": true,
  "systeminfo": "profile test", "from-device-policy": {"access-lists": {"access-list": []}},
  "to-device-policy": {"access-lists": {"access-list": []}}}}
EOF
"$BIN" maker mud-sign --dir "$M" --file "$WORK/mud.json" >/dev/null

ext() {  # ext CERT NAME: the extension's openssl text, without its header line
  openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null | tail -n +2 | sed 's/^ *//'
}

# check KIND CERT ISSUER_CERT PURPOSE ROLE: ROLE is ca or leaf.
check() {
  local kind=$1 cert=$2 issuer=$3 purpose=$4 role=$5
  step "$kind ($(basename "$cert"))"
  openssl x509 -in "$cert" -noout -text >"$WORK/text.txt" || fail "$kind: openssl cannot parse it"
  grep -q "Version: 3 (0x2)" "$WORK/text.txt" || fail "$kind: not version 3"
  local verify=(openssl verify -x509_strict -CAfile "$issuer")
  [ -n "$purpose" ] && verify+=(-purpose "$purpose")
  "${verify[@]}" "$cert" >"$WORK/verify.txt" 2>&1 || { cat "$WORK/verify.txt"; fail "$kind: strict verification"; }
  local serial
  serial=$(openssl x509 -in "$cert" -noout -serial | cut -d= -f2)
  [ ${#serial} -le 40 ] || fail "$kind: serial of more than 20 octets ($serial)"
  case "$serial" in [89A-F]*) [ ${#serial} -lt 40 ] || fail "$kind: negative serial $serial" ;; esac
  local ski aki issuer_ski
  ski=$(ext "$cert" subjectKeyIdentifier)
  aki=$(ext "$cert" authorityKeyIdentifier | sed 's/^keyid://')
  issuer_ski=$(ext "$issuer" subjectKeyIdentifier)
  [ -n "$ski" ] || fail "$kind: no subject key identifier"
  [ -n "$aki" ] || fail "$kind: authority key identifier missing or empty"
  [ "$aki" = "$issuer_ski" ] || fail "$kind: authority key identifier $aki is not the issuer's $issuer_ski"
  local names duplicates
  names=$(ext "$cert" subjectAltName | tr ',' '\n' | sed 's/^ *//')
  duplicates=$(sort <<<"$names" | uniq -d)
  [ -z "$duplicates" ] || fail "$kind: subjectAltName repeats $duplicates"
  local constraints usage
  constraints=$(openssl x509 -in "$cert" -noout -ext basicConstraints 2>/dev/null)
  usage=$(openssl x509 -in "$cert" -noout -ext keyUsage 2>/dev/null)
  grep -q "critical" <<<"$constraints" || fail "$kind: basicConstraints not critical"
  if [ "$role" = ca ]; then
    grep -q "CA:TRUE" <<<"$constraints" || fail "$kind: not a CA"
    grep -q "critical" <<<"$usage" && grep -q "Certificate Sign" <<<"$usage" ||
      fail "$kind: keyUsage must be critical with keyCertSign"
  else
    grep -q "CA:FALSE" <<<"$constraints" || fail "$kind: an end entity must say CA:FALSE"
    grep -q "Digital Signature" <<<"$usage" || fail "$kind: keyUsage lacks digitalSignature"
    ! grep -q "Certificate Sign" <<<"$usage" || fail "$kind: an end entity must not sign certificates"
  fi
}

check "maker CA (self-signed)" "$M/ca.pem" "$M/ca.pem" "" ca
check "MASA voucher signer" "$M/masa-signer.pem" "$M/ca.pem" smimesign leaf
check "MASA TLS server" "$M/masa-tls.pem" "$M/ca.pem" sslserver leaf
check "IDevID" "$D/idevid.pem" "$M/ca.pem" sslclient leaf
check "MUD signer" "$M/mud-signer/127.0.0.1.pem" "$M/ca.pem" smimesign leaf
check "domain CA (self-signed)" "$S/domain-ca.pem" "$S/domain-ca.pem" "" ca
check "registrar" "$S/registrar.pem" "$S/domain-ca.pem" sslserver leaf
check "LDevID" "$D/ldevid.pem" "$S/domain-ca.pem" sslclient leaf

step "802.1AR: the IDevID never expires (GeneralizedTime 99991231235959Z) and names its serial"
openssl asn1parse -in "$D/idevid.pem" | has "GENERALIZEDTIME *:99991231235959Z" ||
  fail "IDevID notAfter is not 99991231235959Z"
openssl x509 -in "$D/idevid.pem" -noout -subject | has "serialNumber = PROFILE-1" ||
  fail "IDevID subject lacks serialNumber"
openssl x509 -in "$D/ldevid.pem" -noout -subject | has "serialNumber = PROFILE-1" ||
  fail "LDevID subject lacks serialNumber"
openssl x509 -in "$D/idevid.pem" -noout -text | has "1.3.6.1.5.5.7.1.32" ||
  fail "IDevID lacks the MASA URL extension"

step "the registrar may act as an RA (id-kp-cmcRA) and names each host once"
ext "$S/registrar.pem" extendedKeyUsage | has "CMC Registration Authority" || fail "registrar lacks cmcRA"
[ "$(ext "$S/registrar.pem" subjectAltName | tr ',' '\n' | grep -c "registrar.example")" = 1 ] ||
  fail "registrar lacks its extra name"

step "the CRL verifies against the domain CA"
"$BIN" crl --dir "$S" --out "$WORK/crl.pem" >/dev/null
openssl crl -in "$WORK/crl.pem" -CAfile "$S/domain-ca.pem" -noout 2>&1 | has "verify OK" ||
  fail "CRL does not verify"
[ -n "$(openssl crl -in "$WORK/crl.pem" -noout -text | grep -A1 "Authority Key Identifier" | tail -1)" ] ||
  fail "CRL lacks an authority key identifier"

echo "PASS: certificates_test"
