#!/usr/bin/env bash
# CI stage: the test-author toolkit's token side (issue 11) against the
# release binary, with independent verifier libraries from other ecosystems,
# each against the JWKS the server serves:
#   - Python: PyJWT (+ cryptography, PyJWKClient) and Authlib's joserfc
#   - Node:   panva's jose, auth0's jsonwebtoken + jwks-rsa
#   - Go:     golang-jwt v4 (Debian's golang-github-golang-jwt-jwt-dev, GOPATH mode)
# Checks: every algorithm on the root and a named issuer (JWK shapes, keys
# published only once used, HS256 never published), the 12 token variants
# (each refused for its reason by each library, the control accepted), typ
# at+jwt, and the key rotation drill against caching JWKS clients (jose
# createRemoteJWKSet, jwks-rsa, PyJWKClient), and the test controls (faults,
# clock, ledger, reset, personas, ADMIN_TOKEN) seen by the same clients.
# See docs/testing-toolkit.md.
#
#   scripts/ci/toolkit.sh                 # MOCK_IDP_BIN=/path/to/mock-idp to skip the build
#
# One PASS/FAIL line per check, then "toolkit: N passed, N failed".
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DIR="$REPO_ROOT/tests/e2e/toolkit"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then die "node and npm (>= 20) are needed"; fi
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || die "node >= 20 is needed, found $(node --version)"

apt_install curl ca-certificates golang-go golang-github-golang-jwt-jwt-dev
log "npm ci (tests/e2e/toolkit)"
(cd "$DIR" && timeout 600 npm ci --no-audit --no-fund --loglevel=error)
log "pip install (tests/e2e/toolkit/requirements.txt)"
pip_install -r "$DIR/requirements.txt"
PY="$(ci_python)"

BIN="$(release_binary)"
[ -x "$BIN" ] || die "mock-idp binary not found at $BIN"

WORK="$(mktemp -d -t mock-idp-toolkit.XXXXXX)"
IDP_PID=""
stop_idp() {
  stop_pid "$IDP_PID"
  rm -rf "$WORK"
}
trap stop_idp EXIT

# Fresh HS256 secrets each run, handed to the verifiers by environment only
# (never printed). Issuers: `partner` signs ES256 by default and has its own
# HS256 secret; `ves` is a one-key (ES256) issuer for the no_kid variant;
# `short` (2 s tokens) is for the refresh-token-across-rotation drill.
ROOT_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
ADMIN_TOKEN_VALUE="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
PARTNER_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
umask 077
cat >"$WORK/config.yaml" <<EOF
audience: api
issuers:
  partner:
    alg: ES256
    hs256_secret: $PARTNER_SECRET
  ves:
    alg: ES256
  short:
    token_ttl: 2
EOF

PORT="$(free_port)"
URL="http://127.0.0.1:$PORT"
ROOT_ISS="https://issuer.toolkit.test"
log "start mock-idp on $URL"
# Flags, not env, so a stray ISSUER/PORT in the environment cannot win; the
# env -u drops the variables a flag does not cover.
env -u USERS_FILE -u PEERS -u PEERS_DNS -u PUBLIC_URL -u AUDIENCE -u ALG -u KID -u INSTANCE_ID \
  -u PERSIST_KEYS_DIR -u DYNAMIC_ISSUERS -u ADMIN_TOKEN -u TOKEN_TTL -u NODE_ENV -u APP_ENV \
  HS256_SECRET="$ROOT_SECRET" ADMIN_TOKEN="$ADMIN_TOKEN_VALUE" \
  "$BIN" serve --host 127.0.0.1 --port "$PORT" --issuer "$ROOT_ISS" --config "$WORK/config.yaml" \
  >"$WORK/mock-idp.log" 2>&1 &
IDP_PID=$!
for _ in $(seq 200); do
  curl -fsS -o /dev/null "$URL/health" 2>/dev/null && break
  kill -0 "$IDP_PID" 2>/dev/null || break
  sleep 0.1
done
curl -fsS -o /dev/null "$URL/health" 2>/dev/null || { cat "$WORK/mock-idp.log" >&2; die "mock-idp did not start"; }

export MOCK_IDP_URL="$URL" TOOLKIT_ROOT_ISS="$ROOT_ISS" \
  TOOLKIT_ROOT_SECRET="$ROOT_SECRET" TOOLKIT_PARTNER_SECRET="$PARTNER_SECRET" TOOLKIT_ADMIN_TOKEN="$ADMIN_TOKEN_VALUE" \
  PYTHONDONTWRITEBYTECODE=1

# The rotation drills take ~40 s of wall time (a 30 s grace / cooldown), on
# their own dynamic issuers: they run in the background while the verifiers
# run (verify_py.py first: it checks keys appear only once used).
log "rotation drills (background): jose createRemoteJWKSet, jwks-rsa, PyJWKClient"
(cd "$DIR" && timeout 150 node drill.mjs >"$WORK/drill-node.out" 2>&1; echo $? >"$WORK/drill-node.rc") &
DRILL_NODE=$!
(cd "$DIR" && timeout 150 "$PY" drill_py.py >"$WORK/drill-py.out" 2>&1; echo $? >"$WORK/drill-py.rc") &
DRILL_PY=$!
log "test controls (background): faults, clock, ledger, personas, reset, ADMIN_TOKEN"
(cd "$DIR" && timeout 120 node controls.mjs >"$WORK/controls-node.out" 2>&1; echo $? >"$WORK/controls-node.rc") &
CONTROLS_NODE=$!
(cd "$DIR" && timeout 120 "$PY" controls_py.py >"$WORK/controls-py.out" 2>&1; echo $? >"$WORK/controls-py.rc") &
CONTROLS_PY=$!

status=0
log "algorithms, variants, at+jwt: PyJWT and joserfc"
(cd "$DIR" && timeout 120 "$PY" verify_py.py) | tee "$WORK/verify-py.out" || status=1
log "algorithms, variants, at+jwt: jose and jsonwebtoken + jwks-rsa"
(cd "$DIR" && timeout 120 node verify.mjs) | tee "$WORK/verify-node.out" || status=1
log "algorithms, variants: golang-jwt"
(cd "$DIR" && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS='' timeout 180 go run verify_go.go) |
  tee "$WORK/verify-go.out" || status=1

wait "$DRILL_NODE" "$DRILL_PY" "$CONTROLS_NODE" "$CONTROLS_PY" || true
for d in drill-node drill-py controls-node controls-py; do
  log "$d"
  cat "$WORK/$d.out"
  [ "$(cat "$WORK/$d.rc" 2>/dev/null)" = 0 ] || status=1
done

# No secret in any output or in the server's log.
leaks=()
for name in ROOT_SECRET PARTNER_SECRET ADMIN_TOKEN_VALUE; do
  grep -qF -- "${!name}" "$WORK"/*.out "$WORK/mock-idp.log" && leaks+=("$name")
done
if [ ${#leaks[@]} -eq 0 ]; then
  echo "PASS no secret (the HS256 secrets, ADMIN_TOKEN) in any check's output or the mock-idp log" | tee "$WORK/secrets.out"
else
  echo "FAIL secrets in the output or the mock-idp log: ${leaks[*]}" | tee "$WORK/secrets.out"
fi

passed="$(cat "$WORK"/*.out | grep -c '^PASS ' || true)"
failed="$(cat "$WORK"/*.out | grep -c '^FAIL ' || true)"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
  log "failed checks"
  grep -h '^FAIL ' "$WORK"/*.out >&2 || true
  log "mock-idp log (tail)"
  tail -n 30 "$WORK/mock-idp.log" >&2
  status=1
fi
[ "$passed" -gt 0 ] || status=1
echo "toolkit: $passed passed, $failed failed"
exit "$status"
