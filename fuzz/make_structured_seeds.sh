#!/usr/bin/env bash
# Writes structure-aware seeds for the DER targets (cms_voucher_request, csr_pem) with the
# openssl CLI: every shape of CMS and PKCS#10 a peer may send, each well formed, so that
# libFuzzer's mutations start past OpenSSL's parser and reach Concierge's checks behind it
# (signer, content type, JSON inside, signing time, certificates, extensions). Mutating only
# the project's three artifacts grew these corpora from 3 to 16 and 4 to 20 files in 150 s.
# Usage: fuzz/make_structured_seeds.sh FUZZ_CORPUS_DIR
set -euo pipefail
out=$(realpath "${1:?usage: fuzz/make_structured_seeds.sh FUZZ_CORPUS_DIR}")
cms_dir="$out/cms_voucher_request"
csr_dir="$out/csr_pem"
mkdir -p "$cms_dir" "$csr_dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

voucher_oid=1.2.840.113549.1.9.16.1.40  # id-ct-animaJSONVoucher (RFC 8366)
masa_url_oid=1.3.6.1.5.5.7.1.32         # id-pe-masa-url (RFC 8995)
mud_url_oid=1.3.6.1.5.5.7.1.25          # id-pe-mud-url (RFC 8520)

key() {  # key NAME ALGORITHM [OPTIONS...]
  local name=$1 algorithm=$2
  shift 2
  openssl genpkey -algorithm "$algorithm" "$@" -out "$name.key" 2>/dev/null  # progress dots
}

# A CA and leaves of every key type a peer may use.
key ca EC -pkeyopt ec_paramgen_curve:P-256
openssl req -x509 -new -key ca.key -subj "/O=Seed Maker/CN=Seed Maker CA" -days 3650 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -out ca.pem
leaf() {  # leaf NAME SUBJECT [EXTRA -addext ...]
  local name=$1 subject=$2
  shift 2
  openssl req -new -key "$name.key" -subj "$subject" "$@" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
    -days 365 -copy_extensions copy -out "$name.pem" 2>/dev/null  # "self-signature ok"
}
key p256 EC -pkeyopt ec_paramgen_curve:P-256
key p384 EC -pkeyopt ec_paramgen_curve:P-384
key ed25519 ED25519
key rsa RSA -pkeyopt rsa_keygen_bits:2048
leaf p256 "/O=Seed Maker/CN=SEED-0001/serialNumber=SEED-0001" \
  -addext "$masa_url_oid=ASN1:IA5STRING:https://masa.example:9443" \
  -addext "$mud_url_oid=ASN1:IA5STRING:https://mud.example/seed.json" \
  -addext "subjectAltName=DNS:seed.example,IP:192.0.2.1,IP:2001:db8::1" \
  -addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=clientAuth,serverAuth
leaf p384 "/O=Seed Site/CN=Seed Registrar" -addext extendedKeyUsage=1.3.6.1.5.5.7.3.28
leaf ed25519 "/CN=SEED-0002/serialNumber=SEED-0002"
leaf rsa "/O=Seed Site/CN=RSA signer"

# What goes inside: a voucher, a pledge's request, a registrar's request carrying the pledge's.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
registrar_b64=$(openssl x509 -in p384.pem -outform DER | base64 -w0)
printf '{"ietf-voucher:voucher":{"assertion":"logged","created-on":"%s","expires-on":"%s","serial-number":"SEED-0001","nonce":"CB5rHM3z5b4iwCeLKSAriQ==","pinned-domain-cert":"%s","domain-cert-revocation-checks":false}}' \
  "$now" "$now" "$registrar_b64" >voucher.json
printf '{"ietf-voucher-request:voucher":{"assertion":"proximity","created-on":"%s","serial-number":"SEED-0001","nonce":"CB5rHM3z5b4iwCeLKSAriQ==","proximity-registrar-cert":"%s"}}' \
  "$now" "$registrar_b64" >pvr.json
sign() {  # sign OUT CONTENT SIGNER [OPTIONS...]: an attached CMS SignedData
  local name=$1 content=$2 signer=$3
  shift 3
  openssl cms -sign -binary -nodetach -outform DER -in "$content" -signer "$signer.pem" \
    -inkey "$signer.key" "$@" -out "$cms_dir/structured-$name.cms"
}
sign voucher-p256 voucher.json p256 -econtent_type "$voucher_oid" -certfile ca.pem
sign voucher-p384-sha384 voucher.json p384 -econtent_type "$voucher_oid" -md sha384
sign voucher-rsa voucher.json rsa -econtent_type "$voucher_oid"
sign voucher-rsa-pss voucher.json rsa -econtent_type "$voucher_oid" -keyopt rsa_padding_mode:pss
sign voucher-no-attributes voucher.json p256 -econtent_type "$voucher_oid" -noattr
sign voucher-no-certificates voucher.json p256 -econtent_type "$voucher_oid" -nocerts
sign voucher-id-data voucher.json p256
sign pvr-p256 pvr.json p256 -econtent_type "$voucher_oid"
openssl cms -sign -binary -nodetach -outform DER -in voucher.json -signer p256.pem -inkey p256.key \
  -signer p384.pem -inkey p384.key -econtent_type "$voucher_oid" \
  -out "$cms_dir/structured-two-signers.cms"
pvr_b64=$(base64 -w0 <"$cms_dir/structured-pvr-p256.cms")
printf '{"ietf-voucher-request:voucher":{"assertion":"proximity","created-on":"%s","serial-number":"SEED-0001","nonce":"CB5rHM3z5b4iwCeLKSAriQ==","idevid-issuer":"MAA=","prior-signed-voucher-request":"%s"}}' \
  "$now" "$pvr_b64" >rvr.json
sign rvr-p384 rvr.json p384 -econtent_type "$voucher_oid" -certfile ca.pem
# A detached signature over "{}", the content the target verifies detached signatures against,
# so mutations reach what follows a good signature (a MUD file's .p7s).
printf '{}' >empty.json
openssl cms -sign -binary -outform DER -in empty.json -signer p256.pem -inkey p256.key \
  -out "$cms_dir/structured-detached-over-braces.p7s"
openssl cms -sign -binary -outform DER -in empty.json -signer rsa.pem -inkey rsa.key -noattr \
  -out "$cms_dir/structured-detached-rsa-no-attributes.p7s"
# Certs-only (EST /cacerts): several certificates, and one with a CRL.
cat ca.pem p256.pem p384.pem >bundle.pem
openssl crl2pkcs7 -nocrl -certfile bundle.pem -outform DER -out "$cms_dir/structured-certs-only.p7"
touch index.txt
openssl ca -gencrl -keyfile ca.key -cert ca.pem -out ca.crl 2>/dev/null \
  -config <(printf '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ndefault_md=sha256\ndefault_crl_days=30\n')
openssl crl2pkcs7 -in ca.crl -certfile ca.pem -outform DER -out "$cms_dir/structured-certs-and-crl.p7"
# Other CMS content types a peer might send by mistake.
openssl cms -encrypt -binary -outform DER -in voucher.json -aes256 -recip p256.pem \
  -out "$cms_dir/structured-enveloped.cms"
openssl cms -data_create -binary -outform DER -in voucher.json -out "$cms_dir/structured-data.cms"
openssl cms -digest_create -binary -outform DER -in voucher.json -out "$cms_dir/structured-digested.cms"

# PKCS#10 requests (EST simpleenroll) of every key type and with the attributes pledges send.
request() {  # request NAME KEY SUBJECT [OPTIONS...]
  local name=$1 key=$2 subject=$3
  shift 3
  openssl req -new -key "$key.key" -subj "$subject" "$@" -outform DER \
    -out "$csr_dir/structured-$name.csr.der"
}
request p256-serial p256 "/O=Seed Site/CN=SEED-0001/serialNumber=SEED-0001"
request p384 p384 "/CN=SEED-0003/serialNumber=SEED-0003"
request ed25519 ed25519 "/serialNumber=SEED-0002"
request rsa rsa "/O=Seed Site/CN=SEED-0004/serialNumber=SEED-0004"
request extensions p256 "/CN=SEED-0001/serialNumber=SEED-0001" \
  -addext "subjectAltName=DNS:seed.example,IP:192.0.2.1" -addext keyUsage=critical,digitalSignature \
  -addext extendedKeyUsage=clientAuth -addext "$mud_url_oid=ASN1:IA5STRING:https://mud.example/s.json"
request challenge p256 "/CN=SEED-0001/serialNumber=SEED-0001" \
  -config <(printf '[req]\ndistinguished_name=dn\nattributes=attrs\nprompt=no\n[dn]\nCN=x\n[attrs]\nchallengePassword=seed-challenge\n')
request empty-subject p256 "/"
# A request whose signature is broken (last byte changed), and one in PEM.
cp "$csr_dir/structured-p256-serial.csr.der" bad.der
last=$(($(stat -c %s bad.der) - 1))
printf '\x00' | dd of=bad.der bs=1 seek="$last" conv=notrunc status=none
cp bad.der "$csr_dir/structured-bad-signature.csr.der"
openssl req -in "$csr_dir/structured-extensions.csr.der" -inform DER -out "$csr_dir/structured-extensions.csr.pem"
# Certificates: every leaf above as DER, and PEM chains.
for name in p256 p384 ed25519 rsa; do
  openssl x509 -in "$name.pem" -outform DER -out "$csr_dir/structured-cert-$name.der"
done
cat p256.pem ca.pem >"$csr_dir/structured-chain-p256.pem"
cat rsa.pem ed25519.pem ca.pem >"$csr_dir/structured-chain-mixed.pem"
echo "structured seeds written under $cms_dir and $csr_dir"

