#!/usr/bin/env bash
# CI stage `lifecycle`: the token lifecycle service (issue 13, profile
# `jwt-auth-service`) end to end with independent Python clients:
# requests for the API, httpx-sse for the Server-Sent Events stream, PyJWT
# verifying every token against the JWKS the issuer serves. Also validates
# examples/envoy/*.yaml (examples/envoy/validate.py) and replays the check
# request Envoy builds from them against the server (test_envoy_example.py).
#
#   scripts/ci/lifecycle.sh                      # the whole suite
#   scripts/ci/lifecycle.sh -m "not proposal"    # extra arguments go to pytest
#
# Installs its Python packages into the CI venv (pinned in
# tests/e2e/lifecycle/requirements.txt), builds or locates the release binary
# (MOCK_IDP_BIN overrides), starts it on a free 127.0.0.1 port with
# tests/e2e/lifecycle/config.yaml (issuers jas, jas2, jasm; renewal threshold
# 3 s, worker interval 1 s), runs pytest (bounded to 5 minutes), stops it.
# The expected behaviour is docs/lifecycle.md.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SUITE="$REPO_ROOT/tests/e2e/lifecycle"

command -v python3 >/dev/null || die "python3 (>= 3.9) is needed"
apt_install curl ca-certificates

log "pip install (tests/e2e/lifecycle)"
pip_install -r "$SUITE/requirements.txt"

log "mock-idp release binary"
MOCK_IDP_BIN="$(release_binary)"
[ -x "$MOCK_IDP_BIN" ] || die "mock-idp binary not found at $MOCK_IDP_BIN"

LOG="$(mktemp -t mock-idp-lifecycle.XXXXXX.log)"
log "start mock-idp (config tests/e2e/lifecycle/config.yaml)"
# Port 0 and the startup line give the URL without a race for a free port.
# Flags, not env, for what the suite depends on; env -u drops the variables
# that would change the named issuers' iss or the root's defaults, and the
# production guard's.
env -u ISSUER -u PUBLIC_URL -u AUDIENCE -u PROFILE -u USERS_FILE -u PEERS -u PEERS_DNS \
  -u ADMIN_TOKEN -u DYNAMIC_ISSUERS -u CONFIG_FILE -u NODE_ENV -u APP_ENV \
  "$MOCK_IDP_BIN" serve --host 127.0.0.1 --port 0 --config "$SUITE/config.yaml" >"$LOG" 2>&1 &
IDP_PID=$!
trap 'stop_pid "$IDP_PID"' EXIT

URL=""
for _ in $(seq 200); do
  URL="$(sed -n 's/^mock-idp listening on \(http[^ ]*\).*/\1/p' "$LOG" | head -1)"
  [ -n "$URL" ] && break
  kill -0 "$IDP_PID" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$URL" ]; then
  cat "$LOG" >&2
  die "mock-idp did not start (see its output above)"
fi
if ! (wait_http "$URL/jas/.well-known/jwks.json" 20); then
  tail -n 20 "$LOG" >&2
  die "the issuer jas is not served: does this mock-idp implement issuers and the jwt-auth-service profile?"
fi

status=0
log "examples/envoy: schema and consistency (envoy-data-plane, no Envoy binary)"
"$(ci_python)" "$REPO_ROOT/examples/envoy/validate.py" "$REPO_ROOT"/examples/envoy/*.yaml || status=1

log "pytest tests/e2e/lifecycle against $URL"
(cd "$SUITE" && MOCK_IDP_URL="$URL" PYTHONDONTWRITEBYTECODE=1 \
  timeout 300 "$(ci_python)" -m pytest -v -p no:cacheprovider "$@") || status=1

if [ "$status" -ne 0 ]; then
  log "mock-idp log (last 50 lines)"
  tail -n 50 "$LOG" >&2
fi
exit "$status"
