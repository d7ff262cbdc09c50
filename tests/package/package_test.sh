#!/usr/bin/env bash
# The Debian package on this machine, as an operator meets it: lintian reports no errors; it
# installs with dpkg; the installed binary finds its data under /usr/share/concierge; the
# units pass systemd-analyze verify; the site controller starts as the unit says (its user,
# its capability, no --dir: /etc/concierge/concierge.toml names the site) and answers; the
# package purges cleanly. Installs into the system, so scripts/test runs it as its own phase,
# not with ctest.
# Usage: tests/package/package_test.sh concierge_VERSION_ARCH.deb [SOURCE_TREE]
#   With the source tree it was built from, that tree's data/ is hidden while the installed
#   binary reads its data, so that only the prefix's can be found.
set -euo pipefail
DEB=${1:?usage: $0 PACKAGE.deb [SOURCE_TREE]}
SOURCE=${2:-}
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: installing a package needs root"
  exit 77
fi
if dpkg -s concierge >/dev/null 2>&1; then
  fail "a concierge package is installed already; this test installs and purges its own"
fi
WORK=$(mktemp -d /tmp/concierge-package-XXXXXX)
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  dpkg --purge concierge >/dev/null 2>&1 || true
  rm -rf /var/lib/concierge "$WORK"
}
trap cleanup EXIT

step "lintian"
lintian --no-tag-display-limit "$DEB" >"$WORK/lintian.txt" 2>&1 || true
cat "$WORK/lintian.txt"
if grep -q "^E: " "$WORK/lintian.txt"; then fail "lintian reports errors"; fi

step "dpkg -i"
dpkg -i "$DEB" || fail "the package does not install"
version=$(sed -n 's/^Version: //p' <(dpkg-deb -f "$DEB"))
[ "$(/usr/bin/concierge --version)" = "concierge $version" ] || fail "concierge --version"
getent passwd concierge >/dev/null || fail "no concierge user"
[ -f /usr/share/concierge/threats/mirai.json ] || fail "the threat catalogue is not installed"
zcat /usr/share/man/man1/concierge.1.gz | grep -q "trust manager" || fail "no man page"
[ -f /usr/share/doc/concierge/operations.md ] || fail "the operations guide is not installed"
grep -q '^site_dir = "/var/lib/concierge/site"$' /etc/concierge/concierge.toml ||
  fail "no configuration file"

step "systemd-analyze verify"
systemd-analyze verify /lib/systemd/system/concierge.service \
  /lib/systemd/system/concierge-masa.service || fail "systemd-analyze refuses the units"

step "a site for the concierge user, found without --dir"
[ "$(stat -c %U /var/lib/concierge)" = concierge ] || fail "/var/lib/concierge is not the user's"
runuser -u concierge -- concierge site init --name "Packaged Site" ||
  fail "site init without --dir"
[ -f /var/lib/concierge/site/site.json ] || fail "the site is not where the configuration says"

# without_checkout CMD... runs CMD as the concierge user with the checkout's data/ and the
# shared test data beside it hidden (a private mount namespace), as on a machine with only
# the package.
without_checkout() {
  local hide=true
  if [ -n "$SOURCE" ]; then
    hide="mount -t tmpfs hidden '$SOURCE/data'"
    [ -d "$SOURCE/../shared" ] && hide="$hide && mount -t tmpfs hidden '$SOURCE/../shared'"
  fi
  unshare -m sh -c "$hide && exec runuser -u concierge -- \"\$@\"" sh "$@"
}

step "the installed binary reads the threat catalogue from /usr/share/concierge"
without_checkout concierge exposure show >"$WORK/show.txt" 2>&1 ||
  { cat "$WORK/show.txt"; fail "exposure show (the threat catalogue) fails from the package"; }

step "the labs run from the package's own MUD profiles"
(cd /tmp && without_checkout concierge lab policy --devices 30) >"$WORK/policy.txt" 2>&1 ||
  { cat "$WORK/policy.txt"; fail "lab policy fails outside a checkout"; }
grep -q "^devices *30 (3 MUD files" "$WORK/policy.txt" || { cat "$WORK/policy.txt"; fail "not the package's profiles"; }

step "the unit's ExecStart, as its user and with its one capability"
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/concierge.service)
# The unit's data files must come from the prefix, never a source tree: hide this checkout's.
read -r -a command <<<"$exec_start"
setpriv --reuid concierge --regid concierge --init-groups --inh-caps +net_admin \
  --ambient-caps +net_admin --bounding-set -all,+net_admin -- "${command[@]}" \
  >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  [ -s /var/lib/concierge/site/metrics.addr ] && break
  sleep 0.1
done
[ -s /var/lib/concierge/site/metrics.addr ] || { cat "$WORK/serve.log"; fail "serve did not start"; }
CA=/var/lib/concierge/site/domain-ca.pem
curl -sf --cacert "$CA" "https://$(cat /var/lib/concierge/site/metrics.addr)/metrics" \
  >"$WORK/metrics.txt" || fail "no metrics"
grep -q "^# TYPE concierge_approval_queue_devices gauge" "$WORK/metrics.txt" || fail "metrics"
# It listens on every address ([::]); its certificate names localhost.
registrar_port=$(sed 's/.*://' /var/lib/concierge/site/listen.addr)
curl -sf --cacert "$CA" "https://localhost:$registrar_port/.well-known/est/cacerts" >/dev/null ||
  { cat "$WORK/serve.log"; fail "the registrar does not answer"; }
grep -q "^firewall: nftables" "$WORK/serve.log" || { cat "$WORK/serve.log"; fail "banner"; }
# Constrained onboarding on UDP 5684, every address: any certificate opens a DTLS session.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=probe -days 1 \
  -keyout "$WORK/probe.key" -out "$WORK/probe.pem" 2>/dev/null
coap-client-openssl -B 10 -c "$WORK/probe.pem" -j "$WORK/probe.key" -m get \
  "coaps://127.0.0.1:5684/.well-known/core" >"$WORK/core.txt" 2>&1 || true
grep -q "rt=brski.rv" "$WORK/core.txt" ||
  { cat "$WORK/core.txt" "$WORK/serve.log"; fail "the CoAPS listener does not answer"; }
# Discovery on UDP 5683, plain CoAP: a stranger learns where the CoAPS listener is.
coap-client-openssl -B 10 -m get "coap://127.0.0.1:5683/.well-known/core?brski-jp=*" \
  >"$WORK/discovery.txt" 2>&1 || true
grep -q "^<>;brski-jp=5684$" "$WORK/discovery.txt" ||
  { cat "$WORK/discovery.txt" "$WORK/serve.log"; fail "the discovery endpoint does not answer"; }
kill -TERM "$SERVER"
wait "$SERVER" || fail "serve did not stop cleanly on SIGTERM"
SERVER=
grep -q "registrar stopped" "$WORK/serve.log" || fail "serve did not say it stopped"

step "dpkg --purge"
dpkg --purge concierge >/dev/null || fail "the package does not purge"
[ ! -e /usr/bin/concierge ] || fail "/usr/bin/concierge remains"
echo "ok: the package installs, starts the site controller, and purges"
