#!/usr/bin/env bash
# CI stage `profiles`: provider profiles (issue 12) proven with each
# provider's own SDK, offline, against one mock-idp serving every profile
# (tests/e2e/profiles/config.yaml; the spec is docs/profiles-spec.md):
#   - Node (tests/e2e/profiles/node, node --test):
#       clerk     @clerk/backend        authenticateRequest/verifyToken + has()
#       auth0     express-oauth2-jwt-bearer  auth() + requiredScopes/claimIncludes
#       keycloak  keycloak-connect      grantManager + protect()
#       entra     @azure/msal-node (token acquisition) + jose (validation)
#       google    google-auth-library   OAuth2Client.verifyIdToken
#       cognito   aws-jwt-verify        CognitoJwtVerifier
#       generic   jose                  plain, jwt-auth-service, key isolation
#   - Python (tests/e2e/profiles/python, pytest):
#       google-auth (verify_oauth2_token), python-keycloak, msal + PyJWT
#
#   scripts/ci/profiles.sh
#   PROFILES="clerk auth0" scripts/ci/profiles.sh   # only these suites
#   PROFILES_CONFIG=/path/other.yaml ...            # another config (server and expectations)
#   MOCK_IDP_BIN=/work/bin/mock-idp ...             # a prebuilt binary
#
# Installs its own dependencies (npm ci, pip into the CI venv), starts the
# release binary on a free loopback port with --issuer/--public-url = its own
# URL, runs both suites (a pass/fail line per check), stops the server.
# Every SDK stays on 127.0.0.1: both suites refuse any other connection.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DIR="$REPO_ROOT/tests/e2e/profiles"
CONFIG="${PROFILES_CONFIG:-$DIR/config.yaml}"
ALL_SUITES=(clerk auth0 keycloak entra google cognito generic)
read -r -a SUITES <<<"${PROFILES:-${ALL_SUITES[*]}}"

command -v node >/dev/null && command -v npm >/dev/null || die "node and npm (>= 20) are needed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "node >= 20 is needed, found $(node --version)"
command -v python3 >/dev/null || die "python3 (>= 3.9) is needed"
[ -f "$CONFIG" ] || die "PROFILES_CONFIG: no file $CONFIG"
apt_install curl ca-certificates

log "npm ci (tests/e2e/profiles/node)"
(cd "$DIR/node" && timeout 600 npm ci --no-audit --no-fund --loglevel=error)

log "pip install (tests/e2e/profiles/python)"
pip_install -r "$DIR/python/requirements.txt"

log "mock-idp release binary"
MOCK_IDP_BIN="$(release_binary)"
[ -x "$MOCK_IDP_BIN" ] || die "mock-idp binary not found at $MOCK_IDP_BIN"

# Chosen before start: the root issuer and PUBLIC_URL contain the port.
PORT="$(free_port)"
URL="http://127.0.0.1:$PORT"
LOG="$(mktemp -t mock-idp-profiles.XXXXXX.log)"

log "start mock-idp on $URL with $CONFIG"
# Flags, not env, so nothing in the caller's environment changes the
# issuers; the env -u drops what a flag does not cover.
env -u USERS_FILE -u PEERS -u PEERS_DNS -u AUDIENCE -u CORS_ORIGINS -u NODE_ENV -u APP_ENV \
  -u PROFILE -u AUTHORIZED_PARTY -u DYNAMIC_ISSUERS -u ALG -u ADMIN_TOKEN -u TOKEN_TTL -u KID \
  -u INSTANCE_ID -u PERSIST_KEYS_DIR -u CONFIG_FILE \
  "$MOCK_IDP_BIN" serve --host 127.0.0.1 --port "$PORT" --issuer "$URL" --public-url "$URL" \
  --config "$CONFIG" >"$LOG" 2>&1 &
IDP_PID=$!
trap 'stop_pid "$IDP_PID"' EXIT
# Up to 20 s for /health; a server that exits (e.g. refusing the config) fails at once.
for _ in $(seq 200); do
  curl -fsS -o /dev/null "$URL/health" 2>/dev/null && break
  if ! kill -0 "$IDP_PID" 2>/dev/null; then cat "$LOG" >&2; die "mock-idp exited before serving"; fi
  sleep 0.1
done
curl -fsS -o /dev/null "$URL/health" 2>/dev/null || { cat "$LOG" >&2; die "$URL/health did not answer within 20 s"; }

export MOCK_IDP_URL="$URL" PROFILES_CONFIG="$CONFIG"
# Belt and braces: Clerk's SDK must not phone home (the tests disable it too).
export CLERK_TELEMETRY_DISABLED=1

status=0
node_files=() py_files=()
for s in "${SUITES[@]}"; do
  case " ${ALL_SUITES[*]} " in *" $s "*) ;; *) die "PROFILES: unknown suite $s; the suites are: ${ALL_SUITES[*]}" ;; esac
  node_files+=("$s.test.mjs")
  [ -f "$DIR/python/test_$s.py" ] && py_files+=("test_$s.py")
done

log "Node: ${node_files[*]}"
(cd "$DIR/node" && timeout 300 node --test --test-reporter=spec "${node_files[@]}") || status=1

if [ ${#py_files[@]} -gt 0 ]; then
  log "Python: ${py_files[*]}"
  (cd "$DIR/python" && PYTHONDONTWRITEBYTECODE=1 timeout 300 "$(ci_python)" -m pytest -v -p no:cacheprovider "${py_files[@]}") || status=1
fi

if [ "$status" -ne 0 ]; then
  log "mock-idp log (last 50 lines)"
  tail -n 50 "$LOG" >&2
fi
exit "$status"
