#!/usr/bin/env bash
# CI stage: verify minted tokens from Python (PyJWT PyJWKClient), an
# independent verifier from another ecosystem, against a real release binary.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

apt_install curl
"$(ci_python)" -c "import jwt, cryptography" 2>/dev/null || pip_install 'pyjwt[crypto]>=2.8'

BIN="$(release_binary)"
OUT="$(mktemp)"
ISSUER=http://issuer.e2e USERS_FILE="$REPO_ROOT/tests/e2e/users.yaml" PORT=0 "$BIN" >"$OUT" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -f "$OUT"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$OUT" && break; sleep 0.05; done
BASE="$(sed -n 's/^mock-idp listening on \(http[^ ]*\).*/\1/p' "$OUT")"
[ -n "$BASE" ] || { cat "$OUT"; die "mock-idp did not start"; }
wait_http "$BASE/health" 10
log "PyJWT e2e against $BASE"
"$(ci_python)" "$REPO_ROOT/tests/e2e/verify_pyjwt.py" "$BASE"
