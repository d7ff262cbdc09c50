#!/usr/bin/env bash
# The TLS policy on every listener and client (docs/tls.md): each cipher OpenSSL knows is
# offered alone to the MASA and the registrar with openssl s_client, and the set each accepts
# is printed and must be the policy's: TLS 1.3's three suites, and in TLS 1.2 only ECDHE with
# AEAD (the listeners' keys are ECDSA, so the ECDSA half). TLS 1.0 and 1.1 are refused. Then
# Concierge's own client (a pledge) refuses a server that offers only a CBC-SHA1 suite.
source "$(dirname "$0")/lib.sh"

M=$WORK/maker
S=$WORK/site
"$BIN" maker init --dir "$M" --name "Policy Maker" >/dev/null
"$BIN" site init --dir "$S" --name "Policy Site" >/dev/null
start_server masa "$M" maker serve --dir "$M" --listen 127.0.0.1:0
start_server registrar "$S" serve --dir "$S" --listen 127.0.0.1:0

# accepts ADDRESS OPTIONS...: does a handshake with these client options succeed?
accepts() {
  local address=$1
  shift
  openssl s_client -connect "$address" -servername localhost "$@" </dev/null >"$WORK/s_client.txt" 2>&1 &&
    grep -q "Cipher is [A-Z0-9]" "$WORK/s_client.txt"
}

expected12="ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305"
expected13="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"
all12=$(openssl ciphers -s -tls1_2 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' | tr ':' '\n' | grep -v '^TLS_' | sort -u)
all13="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256"

for listener in masa registrar; do
  case $listener in masa) address=$(cat "$M/listen.addr") ;; registrar) address=$(cat "$S/listen.addr") ;; esac
  step "$listener at $address accepts"
  got12=()
  for cipher in $all12; do
    if accepts "$address" -tls1_2 -cipher "$cipher:@SECLEVEL=0"; then got12+=("$cipher"); fi
  done
  got13=()
  for suite in $all13; do
    if accepts "$address" -tls1_3 -ciphersuites "$suite"; then got13+=("$suite"); fi
  done
  echo "  TLS 1.3: ${got13[*]}"
  echo "  TLS 1.2: ${got12[*]}   (of $(wc -w <<<"$all12") offered one at a time)"
  [ "$(tr ' ' '\n' <<<"${got13[*]}" | sort | xargs)" = "$(tr ' ' '\n' <<<"$expected13" | sort | xargs)" ] ||
    fail "$listener TLS 1.3 suites: ${got13[*]}"
  [ "$(tr ' ' '\n' <<<"${got12[*]}" | sort | xargs)" = "$(tr ' ' '\n' <<<"$expected12" | sort | xargs)" ] ||
    fail "$listener TLS 1.2 ciphers: ${got12[*]}"
  for old in -tls1 -tls1_1; do
    if accepts "$address" "$old" -cipher 'ALL:@SECLEVEL=0'; then fail "$listener accepts $old"; fi
  done
  echo "  TLS 1.0, 1.1: refused"
done

step "Concierge's client refuses a server that offers only ECDHE-ECDSA-AES128-SHA (CBC, SHA-1)"
"$BIN" maker mint --dir "$M" --serial TLS-1 --masa-url "$(cat "$M/listen.addr")" --out "$WORK/dev" >/dev/null
# s_server cannot take port 0 and say which it got: try free-looking ports until one binds.
port=""
for _ in $(seq 1 20); do
  candidate=$((20000 + RANDOM % 40000))
  openssl s_server -accept "127.0.0.1:$candidate" -cert "$S/registrar.pem" -key "$S/registrar.key" \
    -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0' -quiet >"$WORK/s_server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 50); do
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi  # it exited: the port was taken
    if (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
    sleep 0.1
  done
  if [ -n "$port" ]; then PIDS+=("$server_pid"); break; fi
  kill "$server_pid" 2>/dev/null || true
done
[ -n "$port" ] || fail "openssl s_server did not start: $(cat "$WORK/s_server.log")"
expect_exit 1 "handshake\|no shared cipher\|alert" \
  "$BIN" device enroll --identity "$WORK/dev" --registrar "https://127.0.0.1:$port"
echo "  refused: $(head -1 "$WORK/err.txt")"

echo "PASS: tls_policy_test"
