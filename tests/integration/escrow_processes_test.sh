#!/usr/bin/env bash
# Disorderly transfer with real processes: the old owner registered two escrow agents, then
# vanished with its CA. Both agents approve (one is not enough), the device is reset by the
# code on its label, and it onboards with the new owner from scratch. Theft is not
# repossession: a device reported stolen gets no voucher for anyone until its owner clears it.
source "$(dirname "$0")/lib.sh"

M=$WORK/maker
OLD=$WORK/old
NEW=$WORK/new
step "a maker, two sites, a heating controller enrolled at the old site"
"$BIN" maker init --dir "$M" --name "Acme Heating" >/dev/null
"$BIN" site init --dir "$OLD" --name "Old Owner" >/dev/null
"$BIN" site init --dir "$NEW" --name "New Owner" >/dev/null
"$BIN" site trust-maker --dir "$OLD" --ca "$M/ca.pem" >/dev/null
"$BIN" site trust-maker --dir "$NEW" --ca "$M/ca.pem" >/dev/null
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
start_server old "$OLD" serve --dir "$OLD" --listen 127.0.0.1:0
MASA=$(cat "$M/listen.addr")
OLD_URL=https://$(cat "$OLD/listen.addr")
"$BIN" maker mint --dir "$M" --serial HEAT-1 --masa-url "$MASA" --out "$WORK/heat" >/dev/null
"$BIN" device enroll --identity "$WORK/heat" --registrar "$OLD_URL" >/dev/null
CODE=$(sed -n 's/^reset code: //p' "$WORK/heat/label.txt")
[ -n "$CODE" ] || fail "the label carries no reset code"

step "the old owner registers two escrow agents, both needed"
"$BIN" ownership agent-key --out "$WORK/notary" >/dev/null
"$BIN" ownership agent-key --out "$WORK/bank" >/dev/null
"$BIN" ownership escrow --dir "$OLD" HEAT-1 --agents "$WORK/notary.pub.pem,$WORK/bank.pub.pem" \
  --threshold 2 | tee "$WORK/escrow.txt"

step "the old owner vanishes: its site controller and its CA are gone"
kill "${PIDS[1]}"
wait "${PIDS[1]}" 2>/dev/null || true
rm -rf "$OLD"
start_server new "$NEW" serve --dir "$NEW" --listen 127.0.0.1:0
NEW_URL=https://$(cat "$NEW/listen.addr")

step "refused: a wrong reset code changes nothing"
expect_exit 1 "not this device's" "$BIN" device reset --identity "$WORK/heat" --code 00000-00000-00000-00000
[ -e "$WORK/heat/ldevid.pem" ] || fail "a wrong code removed the credentials"

step "reset by the label's code: back to the IDevID"
"$BIN" device reset --identity "$WORK/heat" --code "$CODE"
[ ! -e "$WORK/heat/ldevid.pem" ] && [ ! -e "$WORK/heat/domain" ] || fail "credentials survived the reset"

step "refused: one approval of two; the new owner gets no voucher"
approve() {
  "$BIN" ownership approve --key "$1" --masa-url "$MASA" --masa-ca "$M/ca.pem" \
    --to "$NEW/domain-ca.pem" HEAT-1
}
approve "$WORK/notary.key" | tee "$WORK/approve1.txt"
grep -q "1 of 2" "$WORK/approve1.txt" || fail "the first approval was not counted as 1 of 2"
expect_exit 1 "owned by another domain" "$BIN" device enroll --identity "$WORK/heat" \
  --registrar "$NEW_URL"
"$BIN" ownership agent-key --out "$WORK/stranger" >/dev/null
expect_exit 1 "not signed by one of its escrow agents" approve "$WORK/stranger.key"
approve "$WORK/notary.key" | has "1 of 2" || fail "one agent approving twice counted twice"

step "the second approval hands the device to the new owner; it onboards from scratch"
approve "$WORK/bank.key" | tee "$WORK/approve2.txt"
"$BIN" device enroll --identity "$WORK/heat" --registrar "$NEW_URL" | tee "$WORK/enroll.txt"
openssl verify -CAfile "$NEW/domain-ca.pem" "$WORK/heat/ldevid.pem" >/dev/null ||
  fail "the new LDevID does not verify against the new domain CA"
"$BIN" ownership show --dir "$NEW" HEAT-1 | tee "$WORK/chain.txt"
grep -q "escrow" "$WORK/chain.txt" || fail "the chain has no escrow entry"
grep -q "owned by this site" "$WORK/chain.txt" || fail "the new site does not own the device"

step "theft is not repossession: a stolen device gets no voucher, even reset, until cleared"
"$BIN" ownership report-stolen --dir "$NEW" HEAT-1
"$BIN" device reset --identity "$WORK/heat" --code "$CODE" >/dev/null
expect_exit 1 "reported stolen" "$BIN" device enroll --identity "$WORK/heat" --registrar "$NEW_URL"
"$BIN" ownership clear-stolen --dir "$NEW" HEAT-1
"$BIN" device enroll --identity "$WORK/heat" --registrar "$NEW_URL" >/dev/null
"$BIN" audit verify --dir "$NEW" >/dev/null
"$BIN" audit show --dir "$NEW" --device HEAT-1 | has "ownership.report-stolen" ||
  fail "the theft report is not in the site's audit log"
echo "escrow test passed"
