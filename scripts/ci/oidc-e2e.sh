#!/usr/bin/env bash
# CI stage: OAuth 2.0 / OpenID Connect end to end (issue 5) with two
# independent client libraries, each verifying tokens against the served JWKS
# itself:
#   - Node: openid-client v6 + jose    (tests/e2e/oidc-node, node --test)
#   - Python: Authlib + requests       (tests/e2e/oidc_python, pytest)
#   - Apache httpd + mod_auth_openidc  (scripts/ci/oidc-apache.sh: relying
#     party and resource server in front of a configured, a dynamic and a
#     Keycloak-realm issuer)
#
#   scripts/ci/oidc-e2e.sh
#
# Installs its own dependencies (curl via apt, the pinned npm and PyPI
# packages), builds or locates the release binary (MOCK_IDP_BIN overrides),
# starts it on a free 127.0.0.1 port with ISSUER = its own URL and
# tests/e2e/oidc-config.yaml (clients + personas), runs both suites, stops it.
# The browser flow (login page in Chromium) is scripts/ci/playwright.sh.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

E2E="$REPO_ROOT/tests/e2e"

command -v node >/dev/null && command -v npm >/dev/null || die "node and npm (>= 20) are needed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "node >= 20 is needed, found $(node --version)"
command -v python3 >/dev/null || die "python3 (>= 3.9) with pip is needed"
apt_install curl ca-certificates

log "npm ci (tests/e2e/oidc-node)"
(cd "$E2E/oidc-node" && timeout 600 npm ci --no-audit --no-fund --loglevel=error)

log "pip install (tests/e2e/oidc_python)"
pip_install -r "$E2E/oidc_python/requirements.txt"

log "mock-idp release binary"
MOCK_IDP_BIN="$(release_binary)"
[ -x "$MOCK_IDP_BIN" ] || die "mock-idp binary not found at $MOCK_IDP_BIN"

# A free loopback port, chosen before start because ISSUER must contain it.
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
URL="http://127.0.0.1:$PORT"
LOG="$(mktemp -t mock-idp-oidc-e2e.XXXXXX.log)"

log "start mock-idp on $URL"
# Flags, not env, so a stray ISSUER/PORT/USERS_FILE in the environment cannot win;
# the env -u drops the variables a flag does not cover.
env -u USERS_FILE -u PEERS -u PUBLIC_URL -u AUDIENCE -u CORS_ORIGINS -u NODE_ENV -u APP_ENV \
  "$MOCK_IDP_BIN" serve --host 127.0.0.1 --port "$PORT" --issuer "$URL" \
  --config "$E2E/oidc-config.yaml" >"$LOG" 2>&1 &
IDP_PID=$!
trap 'stop_pid "$IDP_PID"' EXIT
if ! (wait_http "$URL/health" 20); then cat "$LOG" >&2; exit 1; fi

status=0
log "Node: openid-client v6"
(cd "$E2E/oidc-node" && MOCK_IDP_URL="$URL" timeout 300 node --test --test-reporter=spec) || status=1

log "Python: Authlib"
(cd "$E2E/oidc_python" && MOCK_IDP_URL="$URL" PYTHONDONTWRITEBYTECODE=1 timeout 300 "$(ci_python)" -m pytest -q -p no:cacheprovider) || status=1

if [ "$status" -ne 0 ]; then
  log "mock-idp log"
  tail -n 50 "$LOG" >&2
fi

log "Apache httpd: mod_auth_openidc"
MOCK_IDP_BIN="$MOCK_IDP_BIN" bash "$REPO_ROOT/scripts/ci/oidc-apache.sh" || status=1
exit "$status"
