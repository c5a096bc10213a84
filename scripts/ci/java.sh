#!/usr/bin/env bash
# CI stage `java`: Google's own Java ID-token verifier against the release
# binary: com.google.api.client.auth.openidconnect.IdTokenVerifier from
# Debian's libgoogle-oauth-client-java (1.34.1) on libgoogle-http-client-java
# (1.42), compiled with javac (OpenJDK 17), no build tool, no Maven.
# tests/e2e/java/VerifyTokens.java checks (one PASS/FAIL line each):
#   - the google profile's ID tokens against /oauth2/v3/certs (JWKS) and
#     /oauth2/v1/certs (kid -> X.509 PEM), claims as the personas;
#   - the 12 token variants as this library treats them (the control accepted);
#     its 300 s default skew; the root issuer's RS256 tokens (/.well-known/jwks.json);
#   - ES256 (JWKS: accepted; PEM map: no certificate);
#   - an RS256 token when the JWKS also holds an ES256, ES384, EdDSA, RS384 or
#     PS256 key (the library fails on every JWK alg but RS256 and ES256);
#   - with OAUTH_CLIENT_SKIP_SIGNATURE unset signatures are verified, and with
#     it set to true the same bad_signature token is accepted (second run).
# See docs/profiles.md ("Java: Google's IdTokenVerifier", in the google section).
#
#   scripts/ci/java.sh                 # MOCK_IDP_BIN=/path/to/mock-idp to skip the build
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SUITE="$REPO_ROOT/tests/e2e/java"
ROOT_ISS="https://root.java.test"

JDK=()
command -v javac >/dev/null || JDK=(openjdk-17-jdk-headless)
apt_install curl ca-certificates libgoogle-oauth-client-java libgoogle-http-client-java "${JDK[@]}"

# Debian's jars carry no Class-Path: the verifier, its HTTP client (NetHttpTransport,
# GsonFactory), and what those load (Guava's cache, Gson, OpenCensus tracing with
# gRPC's Context).
CP=""
for jar in google-oauth-client google-http-client google-http-client-gson gson guava \
  opencensus-api opencensus-contrib-http-util grpc-context; do
  [ -f "/usr/share/java/$jar.jar" ] || die "/usr/share/java/$jar.jar is missing"
  CP="$CP/usr/share/java/$jar.jar:"
done
dpkg-query -W -f='${Package} ${Version}\n' libgoogle-oauth-client-java libgoogle-http-client-java \
  libguava-java libgoogle-gson-java
javac -version 2>&1

MOCK_IDP_BIN="$(release_binary)"
[ -x "$MOCK_IDP_BIN" ] || die "mock-idp binary not found at $MOCK_IDP_BIN"

WORK="$(mktemp -d -t mock-idp-java.XXXXXX)"
IDP_PID=""
cleanup() {
  stop_pid "$IDP_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT

log "javac tests/e2e/java/VerifyTokens.java"
timeout 120 javac -Xlint:all -Werror -cp "$CP" -d "$WORK/classes" "$SUITE/VerifyTokens.java"

log "start mock-idp (config tests/e2e/java/config.yaml, issuer $ROOT_ISS)"
# Flags, not env, for what the checks depend on; env -u drops what would change
# the root's defaults or the named issuers (and the production guard's variables).
env -u ISSUER -u PUBLIC_URL -u AUDIENCE -u PROFILE -u ALG -u KID -u USERS_FILE -u PEERS \
  -u PEERS_DNS -u PERSIST_KEYS_DIR -u ADMIN_TOKEN -u DYNAMIC_ISSUERS -u CONFIG_FILE -u TOKEN_TTL \
  -u AUTHORIZED_PARTY -u NODE_ENV -u APP_ENV \
  "$MOCK_IDP_BIN" serve --host 127.0.0.1 --port 0 --issuer "$ROOT_ISS" --config "$SUITE/config.yaml" \
  >"$WORK/mock-idp.log" 2>&1 &
IDP_PID=$!
URL=""
for _ in $(seq 200); do
  URL="$(sed -n 's/^mock-idp listening on \(http[^ ]*\).*/\1/p' "$WORK/mock-idp.log" | head -1)"
  [ -n "$URL" ] && break
  kill -0 "$IDP_PID" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$URL" ]; then
  cat "$WORK/mock-idp.log" >&2
  die "mock-idp did not start"
fi
wait_http "$URL/google/oauth2/v1/certs" 20

status=0
log "VerifyTokens against $URL (OAUTH_CLIENT_SKIP_SIGNATURE unset)"
env -u OAUTH_CLIENT_SKIP_SIGNATURE -u JAVA_TOOL_OPTIONS -u JDK_JAVA_OPTIONS MOCK_IDP_URL="$URL" \
  ROOT_ISS="$ROOT_ISS" timeout 120 java -cp "$CP$WORK/classes" VerifyTokens || status=1

log "VerifyTokens skip-signature (OAUTH_CLIENT_SKIP_SIGNATURE=true: the switch is real)"
env -u JAVA_TOOL_OPTIONS -u JDK_JAVA_OPTIONS OAUTH_CLIENT_SKIP_SIGNATURE=true MOCK_IDP_URL="$URL" \
  timeout 60 java -cp "$CP$WORK/classes" VerifyTokens skip-signature || status=1

if [ "$status" -ne 0 ]; then
  log "mock-idp log (last 30 lines)"
  tail -n 30 "$WORK/mock-idp.log" >&2
  die "java: some checks failed"
fi
log "java: every check passed"
