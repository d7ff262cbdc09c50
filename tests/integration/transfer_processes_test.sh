#!/usr/bin/env bash
# Orderly transfer with real processes: a maker's MASA, an old and a new site controller, and
# devices, over TLS on loopback. The old site exports, the new imports, each device checks in,
# moves, proves its new LDevID and only then drops the old domain; the old site's CRL lists
# the old certificates and the old owner can neither reclaim nor instruct the moved devices.
source "$(dirname "$0")/lib.sh"

M=$WORK/maker
OLD=$WORK/old
NEW=$WORK/new
step "a maker, two sites, three devices enrolled at the old site"
"$BIN" maker init --dir "$M" --name "Acme Sensors" >/dev/null
"$BIN" site init --dir "$OLD" --name "Old Owner" >/dev/null
"$BIN" site init --dir "$NEW" --name "New Owner" >/dev/null
"$BIN" site trust-maker --dir "$OLD" --ca "$M/ca.pem" >/dev/null
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
start_server old "$OLD" serve --dir "$OLD" --listen 127.0.0.1:0
start_server new "$NEW" serve --dir "$NEW" --listen 127.0.0.1:0
MASA=$(cat "$M/listen.addr")
OLD_URL=https://$(cat "$OLD/listen.addr")
NEW_URL=https://$(cat "$NEW/listen.addr")
for i in 1 2 3; do
  "$BIN" maker mint --dir "$M" --serial TR-000$i --masa-url "$MASA" --out "$WORK/dev$i" >/dev/null
  "$BIN" device enroll --identity "$WORK/dev$i" --registrar "$OLD_URL" >/dev/null
  cp "$WORK/dev$i/ldevid.pem" "$WORK/old-ldevid-$i.pem"
done
"$BIN" device check-in --identity "$WORK/dev1" | has "nothing to do" ||
  fail "a device with no instruction did something"

step "tenants: each operates only its own devices, never transfers; delegations end"
"$BIN" tenant keygen --out "$WORK/flat1" >/dev/null
"$BIN" tenant keygen --out "$WORK/flat2" >/dev/null
"$BIN" tenant grant --dir "$OLD" --name "Flat 1" --key "$WORK/flat1.pub.pem" --devices TR-0001 \
  --days 30 >/dev/null
# Flat 2's delegation ends 10 s from now: long enough for its one check under a sanitizer on a
# loaded machine; the expiry check below waits until that moment has passed, not a fixed time.
flat2_until=$(($(date +%s) + 10))
"$BIN" tenant grant --dir "$OLD" --name "Flat 2" --key "$WORK/flat2.pub.pem" --devices TR-0002 \
  --until "$(date -u -d "@$flat2_until" +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
ask() {
  local who=$1
  shift
  "$BIN" tenant request --key "$WORK/$who.key" --site "$OLD_URL" --site-ca "$OLD/domain-ca.pem" "$@"
}
ask flat2 --operation list | has '"TR-0002"' || fail "Flat 2 does not see its device"
ask flat1 --operation list --json >"$WORK/flat1.json"
grep -q '"TR-0001"' "$WORK/flat1.json" || fail "Flat 1 does not see its device"
if grep -q '"TR-0002"\|"TR-0003"' "$WORK/flat1.json"; then fail "Flat 1 sees devices not its own"; fi
ask flat1 --operation status --device TR-0001 | has enrolled || fail "Flat 1 cannot read status"
expect_exit 1 "not delegated to this tenant" ask flat1 --operation status --device TR-0002
expect_exit 1 "stays with the owner" ask flat1 --operation transfer --device TR-0001
while (($(date +%s) <= flat2_until)); do sleep 0.5; done
expect_exit 1 "delegation expired" ask flat2 --operation list
expect_exit 1 "already has delegation 1 in force" "$BIN" tenant grant --dir "$OLD" \
  --name "Flat 1" --key "$WORK/flat1.pub.pem" --devices TR-0001 --days 1
"$BIN" tenant grant --dir "$OLD" --name "Flat 2" --key "$WORK/flat2.pub.pem" --devices TR-0002 \
  --from "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --days 1 >/dev/null
ask flat2 --operation list | has '"TR-0002"' || fail "Flat 2's renewed delegation does not work"
"$BIN" tenant revoke --dir "$OLD" 1 >/dev/null
expect_exit 1 "delegation revoked" ask flat1 --operation list

step "refused: a bundle for another owner, a transfer of a device the site does not have"
expect_exit 1 "no device NOPE-1" "$BIN" transfer export --dir "$OLD" --to "$NEW/domain-ca.pem" \
  --registrar "$NEW_URL" --devices NOPE-1 --out "$WORK/none.json"
expect_exit 2 "name the devices" "$BIN" transfer export --dir "$OLD" --to "$NEW/domain-ca.pem" \
  --registrar "$NEW_URL" --out "$WORK/none.json"

step "the old site exports devices 1 and 2 to the new owner; the new site imports them"
"$BIN" transfer export --dir "$OLD" --to "$NEW/domain-ca.pem" --registrar "$NEW_URL" \
  --devices TR-0001,TR-0002 --out "$WORK/bundle.json"
# What the old owner keeps after handing over: a backup of its site as it was.
cp -r "$OLD" "$WORK/old-backup"
sqlite3 "$OLD/site.db" ".backup '$WORK/old-backup/site.db'"
rm -f "$WORK/old-backup"/site.db-wal "$WORK/old-backup"/site.db-shm
expect_exit 1 "another owner" "$BIN" transfer import --dir "$OLD" "$WORK/bundle.json"

step "before the import the move fails and the device keeps its old credentials (rollback)"
expect_exit 1 "old credentials kept" "$BIN" device check-in --identity "$WORK/dev1"
cmp -s "$WORK/dev1/ldevid.pem" "$WORK/old-ldevid-1.pem" || fail "a failed move changed credentials"
openssl verify -CAfile "$OLD/domain-ca.pem" "$WORK/dev1/ldevid.pem" >/dev/null

"$BIN" transfer import --dir "$NEW" "$WORK/bundle.json" | tee "$WORK/import.txt"
grep -q "2 device(s)" "$WORK/import.txt" || fail "import did not record both devices"
"$BIN" transfer import --dir "$NEW" "$WORK/bundle.json" | has "2 device(s)" ||
  fail "importing the same bundle again is not harmless"

step "each device checks in, moves, and drops the old domain"
for i in 1 2; do
  "$BIN" device check-in --identity "$WORK/dev$i" --json >"$WORK/move$i.json"
  grep -q '"moved": true' "$WORK/move$i.json" || fail "device $i did not move"
  grep -q '"old_domain_told": true' "$WORK/move$i.json" || fail "device $i did not tell the old site"
  openssl verify -CAfile "$NEW/domain-ca.pem" "$WORK/dev$i/ldevid.pem" >/dev/null ||
    fail "device $i's new LDevID does not verify against the new domain CA"
  if openssl verify -CAfile "$OLD/domain-ca.pem" "$WORK/dev$i/ldevid.pem" >/dev/null 2>&1; then
    fail "device $i's new LDevID verifies against the old domain CA"
  fi
  cmp -s "$WORK/dev$i/domain-ca.pem" "$NEW/domain-ca.pem" || fail "device $i still trusts the old CA"
  [ "$(ls -d "$WORK/dev$i"/domain.* | wc -l)" = 1 ] || fail "device $i kept the old credential set"
done
"$BIN" device check-in --identity "$WORK/dev1" | has "nothing to do" ||
  fail "a moved device was told to move again"

step "the old domain's CRL lists the old certificates; openssl rejects them with it"
"$BIN" crl --dir "$OLD" --out "$WORK/old-crl.pem" >/dev/null
for i in 1 2; do
  serial=$(openssl x509 -in "$WORK/old-ldevid-$i.pem" -noout -serial | cut -d= -f2)
  openssl crl -in "$WORK/old-crl.pem" -noout -text | has -i "$serial" ||
    fail "old certificate $i is not in the CRL"
  if openssl verify -crl_check -CRLfile "$WORK/old-crl.pem" -CAfile "$OLD/domain-ca.pem" \
    "$WORK/old-ldevid-$i.pem" >/dev/null 2>&1; then
    fail "old certificate $i still verifies with the CRL"
  fi
done
openssl verify -crl_check -CRLfile "$WORK/old-crl.pem" -CAfile "$OLD/domain-ca.pem" \
  "$WORK/dev3/ldevid.pem" >/dev/null || fail "the device that stayed is revoked"
"$BIN" devices list --dir "$OLD" --json >"$WORK/old-devices.json"
[ "$(grep -c '"departure": "transferred"' "$WORK/old-devices.json")" = 2 ] ||
  fail "the old site does not list two transferred devices"

step "refused: the old owner tries to reclaim after the transfer"
"$BIN" site init --dir "$WORK/thief" --name "Thief" >/dev/null
expect_exit 1 "records another owner" "$BIN" transfer export --dir "$WORK/old-backup" \
  --to "$WORK/thief/domain-ca.pem" --registrar "$OLD_URL" --devices TR-0001 --out "$WORK/steal.json"
expect_exit 1 "already transferred" "$BIN" transfer export --dir "$OLD" \
  --to "$WORK/thief/domain-ca.pem" --registrar "$OLD_URL" --devices TR-0001 --out "$WORK/steal.json"
# The device reset to its IDevID and brought back to the old registrar gets no voucher.
cp -r "$WORK/dev1" "$WORK/dev1-reset"
expect_exit 1 "owned by another domain" \
  "$BIN" device enroll --identity "$WORK/dev1-reset" --registrar "$OLD_URL"
# The moved device trusts only the new domain: the old registrar cannot even talk to it.
cp -r "$WORK/dev1" "$WORK/dev1-old"
echo "$OLD_URL" >"$WORK/dev1-old/domain/registrar.url"
expect_exit 1 "TLS server certificate not trusted" "$BIN" device check-in --identity "$WORK/dev1-old"

step "the new site's inventory and audit log"
"$BIN" devices list --dir "$NEW" --json >"$WORK/new-devices.json"
[ "$(grep -c '"state": "enrolled"' "$WORK/new-devices.json")" = 2 ] ||
  fail "the new site does not list two enrolled devices"
"$BIN" audit verify --dir "$OLD" >/dev/null
"$BIN" audit verify --dir "$NEW" >/dev/null
"$BIN" audit show --dir "$OLD" --device 1 | tee "$WORK/audit1.txt"
grep -q "transfer.exported" "$WORK/audit1.txt" || fail "no export event"
grep -q "device.transferred" "$WORK/audit1.txt" || fail "no transferred event"
"$BIN" audit show --dir "$NEW" --device TR-0001 >"$WORK/audit-new.txt"
grep -q "transfer.imported" "$WORK/audit-new.txt" && grep -q "certificate.issued" "$WORK/audit-new.txt" ||
  fail "the new site's log lacks the import or the enrollment"

step "decommission: the MASA releases the device, it resets at check-in, its LDevID is revoked"
cp "$WORK/dev3/ldevid.pem" "$WORK/old-ldevid-3.pem"
"$BIN" decommission --dir "$OLD" --devices TR-0003 | tee "$WORK/decommission.txt"
grep -q "released" "$WORK/decommission.txt" || fail "the MASA did not release the device"
"$BIN" device check-in --identity "$WORK/dev3" | tee "$WORK/reset.txt"
grep -q "back to the IDevID" "$WORK/reset.txt" || fail "the device did not reset"
[ ! -e "$WORK/dev3/ldevid.pem" ] || fail "the reset device kept its LDevID"
"$BIN" crl --dir "$OLD" --out "$WORK/old-crl2.pem" >/dev/null
if openssl verify -crl_check -CRLfile "$WORK/old-crl2.pem" -CAfile "$OLD/domain-ca.pem" \
  "$WORK/old-ldevid-3.pem" >/dev/null 2>&1; then
  fail "the decommissioned device's LDevID still verifies with the CRL"
fi
"$BIN" audit show --dir "$OLD" --device TR-0003 | has "device.decommissioned" ||
  fail "no decommissioned event"
expect_exit 1 "already decommissioned" "$BIN" decommission --dir "$OLD" --devices TR-0003
step "released, the device is the next owner's to claim"
"$BIN" device enroll --identity "$WORK/dev3" --registrar "$NEW_URL" >/dev/null
openssl verify -CAfile "$NEW/domain-ca.pem" "$WORK/dev3/ldevid.pem" >/dev/null
echo "transfer test passed"
