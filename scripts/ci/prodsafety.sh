#!/usr/bin/env bash
# CI stage "prodsafety": production safety for the services that use mock-idp
# (docs/production-safety.md), checked for real:
#
#   1. scripts/forbid-mock-idp-in-prod.sh on fixture trees built here: clean
#      (0), each kind of reference (1, file and line named), binary files,
#      names and symlink targets, a symlink loop, spaces, --exclude, .git,
#      usage errors (2), --help (0), a 100,000-file tree (time reported; bounded)
#   2. examples/resource-server against a real mock-idp and a plain JWKS
#      server (python http.server, no marker): exit 78 with one line naming
#      JWKS_URL in production; outside production no request at startup and
#      a token verifies; in production against the plain server exactly one
#      request at startup; unreachable -> starts, and a mock-idp that appears
#      later is refused on the first JWKS fetch; a JWKS_URL that never answers
#      costs at most the 3 s timeout
#   3. the snippets in docs/production-safety.md: the Node block equals
#      prod-guard.mjs, every snippet passes the gate, Python (alone, FastAPI
#      under uvicorn, Django), Go (golang-go, GOPATH mode) and Java (javac;
#      Spring stand-ins) run against mock-idp and the plain JWKS server
#   4. off-the-shelf clients ignore the marker: openid-client discovery, jose
#      createRemoteJWKSet, PyJWT PyJWKClient
#
# Usage: bash scripts/ci/prodsafety.sh   (MOCK_IDP_BIN=... skips the build)
# Environment: GATE_MAX_SECONDS (default 120) bounds the 100k-file scan: a
# guard against pathological scans (following a symlink loop, quadratic
# work), not a benchmark (1-2 s on an idle machine, reported in the summary).

# shellcheck source=scripts/ci/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
set +e

GATE="$REPO_ROOT/scripts/forbid-mock-idp-in-prod.sh"
RS_DIR="$REPO_ROOT/examples/resource-server"
DOC="$REPO_ROOT/docs/production-safety.md"
GATE_MAX_SECONDS="${GATE_MAX_SECONDS:-120}"
# Not named after mock-idp: absolute symlink targets under it are scanned.
W=$(mktemp -d /tmp/prodsafety-ci.XXXXXX)
PIDS=()
PASSED=0
FAILED=0
SUMMARY=()

cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  rm -rf "$W"
  [ "${BIG_PARENT:-$W}" = "$W" ] || rm -rf "$BIG_PARENT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# check DESCRIPTION FUNCTION [ARGS...]: run one check; its output is shown
# only when it fails. A check function returns non-zero on failure.
check() {
  local desc="$1" t0 took; shift
  t0=$(date +%s%N)
  "$@" >"$W/check.log" 2>&1
  local rc=$?
  took=$((($(date +%s%N) - t0) / 100000000))
  took="$((took / 10)).$((took % 10)) s"
  if [ "$rc" = 0 ]; then
    PASSED=$((PASSED + 1)); printf '  ok - %s (%s)\n' "$desc" "$took" >&2
  else
    FAILED=$((FAILED + 1)); printf '  FAIL - %s (%s)\n' "$desc" "$took" >&2
    if [ "$(wc -l <"$W/check.log")" -gt 40 ]; then
      { head -n 15 "$W/check.log"; echo "... ($(wc -l <"$W/check.log") lines)"; tail -n 25 "$W/check.log"; } | sed 's/^/      | /' >&2
    else
      sed 's/^/      | /' "$W/check.log" >&2
    fi
  fi
}

# bg LOGFILE CMD...: start CMD in the background (killed on exit); sets BG_PID.
bg() {
  local logf="$1"; shift
  "$@" >"$logf" 2>&1 &
  BG_PID=$!
  PIDS+=("$BG_PID")
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 0; }

# up URL PID [SECONDS]: poll URL until it answers 200 while PID lives.
up() {
  local url="$1" pid="$2" n=$((${3:-15} * 20)) i
  for ((i = 0; i < n; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "process $pid exited before $url answered"; return 1; }
    sleep 0.05
  done
  echo "$url did not answer within ${3:-15}s"; return 1
}

# requests LOGFILE: how many GETs the plain JWKS server has logged.
requests() { grep -c '"GET ' "$1" 2>/dev/null || true; }

# ================================================================ 0. tools
STAGE_T0=$SECONDS
log "install: curl, golang-go, a JDK, Python and npm packages"
apt_install curl ca-certificates golang-go
command -v javac >/dev/null || apt_install openjdk-17-jdk-headless
pip_install 'PyJWT[crypto]>=2.8' 'fastapi==0.165.0' 'uvicorn==0.54.0' 'Django==5.2.19'
PY="$(ci_python)"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm (>= 20) are needed"
(cd "$RS_DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci in examples/resource-server failed"
(cd "$REPO_ROOT/tests/e2e/oidc-node" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
  die "npm ci in tests/e2e/oidc-node failed"

SUMMARY+=("installs: $((SECONDS - STAGE_T0)) s")

# ================================================================ 1. the CI gate
log "CI gate: scripts/forbid-mock-idp-in-prod.sh on fixture trees"

# gate_expect RC TEXT ARGS...: the gate's exit code is RC and, unless TEXT is
# empty, its stdout contains TEXT.
gate_expect() {
  local want="$1" text="$2" rc; shift 2
  timeout 60 bash "$GATE" "$@" >"$W/gate.out" 2>"$W/gate.err"; rc=$?
  if [ "$rc" != "$want" ]; then
    echo "gate $* exited $rc, want $want"; echo "stdout:"; cat "$W/gate.out"; echo "stderr:"; cat "$W/gate.err"
    return 1
  fi
  if [ -n "$text" ] && ! grep -qF -- "$text" "$W/gate.out"; then
    echo "gate $* stdout lacks '$text':"; cat "$W/gate.out"; return 1
  fi
  return 0
}

# A tree without any reference, but with every near miss we can think of.
clean_tree() {
  local d="$1"
  mkdir -p "$d/deploy" "$d/dist/assets" "$d/bin"
  cat >"$d/deploy/compose.yaml" <<'EOF'
services:
  api:
    image: registry.example.com/api:1.4.2
    environment:
      JWKS_URL: https://auth.example.com/.well-known/jwks.json
      ISSUER: https://auth.example.com/
      TOKEN_ISSUER_URL: https://auth.example.com/
    ports: ["127.0.0.1:8081:8081"]
  redis:
    image: redis:7
EOF
  cat >"$d/.env.production" <<'EOF'
NODE_ENV=production
AUTH_JWKS_URL=https://idp.example.com/keys
HEALTH_URL=http://localhost:8081/health
METRICS=http://127.0.0.1:8081/metrics?x=1 ADMIN=http://localhost:80810
BIND=localhost:8081
LOCAL_JWKS=http://localhost:8080/.well-known/jwks.json
EOF
  cat >"$d/NOTES.txt" <<'EOF'
We mock the payment gateway in tests; mocking is not mock-ish here.
Our IdP (the idp team) signs tokens; the token issuer rotates keys weekly.
token_issuer, my-token-issuer-svc, issuer.localhost, myissuer.local, mockIdp,
MockIdpGuard, refuseMockIssuerInProduction, idp-mock, mock idp, mock.idp.
EOF
  printf 'const a="mocking";function idp(){return"token issuer"}\n' >"$d/dist/assets/app.min.js"
  printf '\177ELF\0\0\0 plain binary, nothing to see \0\1\2' >"$d/bin/server"
  : >"$d/empty"
}

t_clean() {
  clean_tree "$W/clean"
  gate_expect 0 "" "$W/clean" || return 1
  grep -q 'OK: no reference' "$W/gate.err" || { cat "$W/gate.err"; return 1; }
}
check "clean tree with near misses (mock, idp, token issuer, issuer.localhost, mockIdp, :8081/health): exit 0, OK line" t_clean

# One tree per kind of reference: clean tree + FILE with CONTENT (the match
# on line 3), expected in the output as "FILE:3:".
t_kind() {
  local name="$1" file="$2" content="$3" d="$W/kind-$1"
  clean_tree "$d"
  mkdir -p "$(dirname "$d/$file")"
  printf 'first line\nsecond line\n%s\nlast line\n' "$content" >"$d/$file"
  gate_expect 1 "$d/$file:3: " "$d" || return 1
  [ "$(wc -l <"$W/gate.out")" = 1 ] || { echo "want exactly one reported line:"; cat "$W/gate.out"; return 1; }
  grep -q "FAIL: 1 reference(s) to mock-idp in 1 file(s)" "$W/gate.err" || { cat "$W/gate.err"; return 1; }
}
kinds=(
  "compose-image|deploy/docker-compose.yaml|    image: mock-idp:dev"
  "k8s-image|k8s/deployment.yaml|        - image: registry.example.com/team/mock-idp:1.2.0"
  "npm-package|package.json|    \"@mock-idp/playwright\": \"^0.1.0\","
  "pypi-package|requirements.txt|pytest-mock-idp==0.1.0"
  "crate|Cargo.toml|mock_idp = \"0.1\""
  "compose-service|docker-compose.prod.yaml|  token-issuer:"
  "service-url|.env|JWKS_URL=http://token-issuer:8081/.well-known/jwks.json"
  "mock-hostname|config/prod.json|  \"jwksUri\": \"http://mock-idp.svc.cluster.local/.well-known/jwks.json\","
  "default-issuer|config/auth.json|  \"issuer\": \"https://issuer.local\","
  "loopback-jwks|.env.local|JWKS_URI=http://127.0.0.1:8081/.well-known/jwks.json"
  "loopback-pkeys|settings.ini|keys = http://localhost:8081/api/pkeys"
  "loopback-issuer|.env.prod|EXPECTED_ISSUER=http://localhost:8081"
  "loopback-issuer-json|token.json|{\"iss\": \"http://127.0.0.1:8081/\", \"sub\": \"user_1\"}"
  "compose-default|compose.override.yaml|      ISSUER: \${ISSUER:-http://localhost:8081}"
  "marker-header|captured/response.http|X-Mock-Idp: dev-only"
  "marker-member|captured/discovery.json|{\"issuer\":\"https://auth.example.com\",\"mock_idp\":true}"
  "env-var|Dockerfile|ENV MOCK_IDP_URL=http://idp:8081"
  "image-file-list|image-files.txt|usr/local/bin/mock-idp"
  "uppercase|README.TXT|RUN THE MOCK-IDP CONTAINER FIRST"
  "crlf|win.env|AUTH=http://mock-idp:8081$(printf '\r')"
)
for k in "${kinds[@]}"; do
  IFS='|' read -r kname kfile kcontent <<<"$k"
  check "reference '$kcontent' in $kfile: exit 1, '$kfile:3:' listed" t_kind "$kname" "$kfile" "$kcontent"
done

t_minified() {
  local d="$W/minified"
  clean_tree "$d"
  "$PY" -c 'import sys; sys.stdout.write("var a=1;" * 20000 + "fetch(\"http://mock-idp:8081/.well-known/jwks.json\");" + "var b=2;" * 20000)' >"$d/dist/assets/bundle.js"
  gate_expect 1 "$d/dist/assets/bundle.js:1: " "$d" || return 1
  local len; len=$(wc -c <"$W/gate.out")
  [ "$len" -lt 300 ] || { echo "the excerpt of a 320 kB line should be short, got $len bytes"; return 1; }
  grep -q 'http://mock-idp:8081' "$W/gate.out" || { cat "$W/gate.out"; return 1; }
}
check "a 320 kB minified one-line bundle: listed with a short excerpt around the match" t_minified

t_binary() {
  local d="$W/binary"
  clean_tree "$d"
  mkdir -p "$d/rootfs/usr/local/bin"
  cp "$(release_binary)" "$d/rootfs/usr/local/bin/idp" || return 1
  printf 'ELF\0\0\1\2token-issuer\0\3' >"$d/bin/other"
  gate_expect 1 "$d/rootfs/usr/local/bin/idp: binary file matches: " "$d" || return 1
  grep -qF "$d/bin/other: binary file matches: " "$W/gate.out" || { cat "$W/gate.out"; return 1; }
  [ "$(grep -c 'rootfs/usr/local/bin/idp' "$W/gate.out")" = 1 ] || { echo "a binary is listed once"; cat "$W/gate.out"; return 1; }
  if LC_ALL=C grep -q '[^[:print:]]' "$W/gate.out"; then echo "non-printable bytes in the output"; return 1; fi
}
check "binary files: a copied mock-idp binary and a NUL-laden blob are reported once each, printable" t_binary

t_names() {
  local d="$W/names"
  clean_tree "$d"
  mkdir -p "$d/node_modules/@mock-idp/playwright" "$d/opt"
  echo 'module.exports = {}' >"$d/node_modules/@mock-idp/playwright/index.js"
  : >"$d/opt/mock-idp"
  ln -s /usr/local/lib/mock_idp/bin/server "$d/bin/auth"
  ln -s ./server "$d/bin/harmless-link"
  gate_expect 1 "$d/node_modules/@mock-idp: name matches" "$d" || return 1
  grep -qF "$d/opt/mock-idp: name matches" "$W/gate.out" &&
    grep -qF "$d/bin/auth: symlink to /usr/local/lib/mock_idp/bin/server" "$W/gate.out" ||
    { cat "$W/gate.out"; return 1; }
  if grep -q 'harmless-link\|index.js' "$W/gate.out"; then cat "$W/gate.out"; return 1; fi
}
check "names: a directory @mock-idp, an empty file mock-idp, a symlink to .../mock_idp/...; nothing else" t_names

t_loops() {
  local d="$W/loops" t0 t1
  clean_tree "$d"
  ln -s . "$d/self"
  ln -s .. "$d/deploy/up"
  ln -s "$d/b" "$d/a"
  ln -s "$d/a" "$d/b"
  t0=$(date +%s%N)
  gate_expect 0 "" "$d" || return 1
  t1=$(date +%s%N)
  echo "  $(((t1 - t0) / 1000000)) ms"
  echo 'image: mock-idp:dev' >"$d/deploy/compose.yaml"
  gate_expect 1 "$d/deploy/compose.yaml:1: " "$d" || return 1
  [ "$(wc -l <"$W/gate.out")" = 1 ] || { echo "the file is reached once, not again through a loop:"; cat "$W/gate.out"; return 1; }
}
check "symlink loops (self, parent, a<->b): no hang, clean -> 0, a reference listed once" t_loops

t_spaces() {
  local d="$W/with spaces/my app"
  clean_tree "$d"
  mkdir -p "$d/conf files"
  printf 'a\nb\nAUTH_URL = http://token-issuer:8081\n' >"$d/conf files/prod env.txt"
  printf 'image: mock-idp:dev\n' >"$d/conf files/new"$'\n'"line.yaml"
  gate_expect 1 "$d/conf files/prod env.txt:3: AUTH_URL = http://token-issuer:8081" "$d" || return 1
  grep -qF "$d/conf files/new?line.yaml:1: image: mock-idp:dev" "$W/gate.out" || { cat "$W/gate.out"; return 1; }
}
check "paths with spaces (and a newline in a name, printed as '?')" t_spaces

t_exclude() {
  local d="$W/vendored"
  clean_tree "$d"
  mkdir -p "$d/docs" "$d/scripts" "$d/.git/refs/heads" "$d/sub/docs"
  cp "$DOC" "$d/docs/production-safety.md"
  cp "$GATE" "$d/scripts/forbid-mock-idp-in-prod.sh"
  echo 'ref: refs/heads/try-mock-idp' >"$d/.git/HEAD"
  echo 'see http://mock-idp:8081' >"$d/sub/docs/notes.md"
  # The repository's own script over the tree: the vendored copy is a reference.
  gate_expect 1 "$d/scripts/forbid-mock-idp-in-prod.sh:" --exclude docs "$d" || return 1
  # From here on, the vendored copy runs (as a consumer's CI would): it skips
  # itself, and .git is never scanned.
  local GATE="$d/scripts/forbid-mock-idp-in-prod.sh"
  gate_expect 1 "$d/docs/production-safety.md:" "$d" || return 1
  if grep -qF -e "$d/scripts/" -e "$d/.git" "$W/gate.out"; then
    echo "the running script or .git was reported:"; cat "$W/gate.out"; return 1
  fi
  gate_expect 0 "" --exclude docs "$d" || return 1
  gate_expect 1 "$d/sub/docs/notes.md:1:" --exclude docs/production-safety.md "$d" || return 1
  [ "$(wc -l <"$W/gate.out")" = 1 ] || { cat "$W/gate.out"; return 1; }
  gate_expect 0 "" --exclude docs/production-safety.md --exclude 'sub/*' "$d" || return 1
  gate_expect 0 "" --exclude='*.md' "$d/" || return 1
  gate_expect 0 "" --exclude "$d/docs" --exclude notes.md "$d" || return 1
  (cd "$d" && gate_expect 0 "" --exclude ./docs/production-safety.md --exclude sub/docs/ .) || return 1
}
check "--exclude by name, by path relative to PATH, by whole path, '=' form, from '.'; .git and the running script skipped" t_exclude

t_paths() {
  local a="$W/paths-a" b="$W/paths-b"
  clean_tree "$a"; clean_tree "$b"
  echo 'image: mock-idp:dev' >"$b/one.yaml"
  gate_expect 1 "$b/one.yaml:1:" "$a" "$b" || return 1
  gate_expect 1 "$b/one.yaml:1:" "$b/one.yaml" || return 1
  gate_expect 0 "" "$a" "$a/deploy/compose.yaml" || return 1
  ln -s "$b" "$W/paths-link"
  gate_expect 1 "$W/paths-link/one.yaml:1:" "$W/paths-link" || return 1
  # A PATH that looks like an option, after --.
  mkdir -p "$W/-dash" && echo 'image: mock-idp:dev' >"$W/-dash/c.yaml"
  (cd "$W" && gate_expect 1 "./-dash/c.yaml:1:" -- -dash) || return 1
  # TMPDIR inside the scanned tree: the gate's own scratch files are not scanned.
  mkdir -p "$a/tmp"
  TMPDIR="$a/tmp" gate_expect 0 "" "$a" || return 1
}
check "several PATHs, a single file, a PATH that is a symlink (followed), a PATH named -dash, TMPDIR inside the tree" t_paths

t_usage() {
  gate_expect 2 "" || return 1
  grep -q 'no PATH given' "$W/gate.err" || { cat "$W/gate.err"; return 1; }
  gate_expect 2 "" "$W/does-not-exist" || return 1
  grep -qF "$W/does-not-exist" "$W/gate.err" || { cat "$W/gate.err"; return 1; }
  gate_expect 2 "" --frobnicate "$W/clean" || return 1
  grep -q 'unknown option: --frobnicate' "$W/gate.err" || { cat "$W/gate.err"; return 1; }
  gate_expect 2 "" "$W/clean" --exclude || return 1
  gate_expect 2 "" --exclude= "$W/clean" || return 1
  gate_expect 0 "usage: forbid-mock-idp-in-prod.sh" --help || return 1
  grep -q -- '--exclude GLOB' "$W/gate.out" || return 1
  gate_expect 0 "usage:" -h || return 1
  gate_expect 1 "" -- "$W/kind-crate" || return 1
}
check "usage errors exit 2 naming the problem (no PATH, missing PATH, unknown option, --exclude without GLOB); --help/-h exit 0" t_usage

# The 100k-file tree lives on tmpfs when there is one: creating and deleting
# 100k files on a busy CI disk (ext4 with discard) takes minutes, scanning
# them does not (the files are in the page cache either way).
BIG_PARENT="$W"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then BIG_PARENT=$(mktemp -d /dev/shm/prodsafety-ci.XXXXXX); fi
t_big() {
  local d="$BIG_PARENT/big" t0 t1 ms
  "$PY" - "$d" <<'PY' || return 1
import os, random, sys
root = sys.argv[1]
words = ("service config image redis nginx jwks https auth example com port env production "
         "mock idp token issuer local mocking IdP").split()
rnd = random.Random(16)
for i in range(200):
    sub = os.path.join(root, f"pkg{i}", "lib")
    os.makedirs(sub)
    for j in range(500):
        path = os.path.join(sub if j % 2 else os.path.dirname(sub), f"f{j}.{'js' if j % 3 else 'yaml'}")
        with open(path, "w") as fh:
            for _ in range(rnd.randint(1, 12)):
                fh.write(" ".join(rnd.choice(words) for _ in range(8)) + "\n")
os.symlink("..", os.path.join(root, "pkg7", "lib", "loop"))
with open(os.path.join(root, "pkg123", "lib", "f77.js"), "a") as fh:
    fh.write('const jwks = "http://token-issuer:8081/.well-known/jwks.json";\n')
PY
  local n; n=$(find "$d" -type f | wc -l)
  t0=$(date +%s%N)
  gate_expect 1 "$d/pkg123/lib/f77.js:" "$d" || return 1
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  [ "$(wc -l <"$W/gate.out")" = 1 ] || { cat "$W/gate.out"; return 1; }
  SUMMARY+=("gate over $n files ($(stat -f -c %T "$d")): $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s (limit ${GATE_MAX_SECONDS} s)")
  echo "$n files in $ms ms" >&2
  [ "$ms" -lt $((GATE_MAX_SECONDS * 1000)) ] || { echo "took $ms ms, limit ${GATE_MAX_SECONDS}s"; return 1; }
}
check "100,000-file tree with a symlink loop: the one reference found within ${GATE_MAX_SECONDS}s" t_big
rm -rf "$BIG_PARENT/big"
[ "$BIG_PARENT" = "$W" ] || rmdir "$BIG_PARENT"

# ================================================================ 2. the example resource server
log "examples/resource-server against a real mock-idp"
PORT=$(free_port)
MOCK="http://127.0.0.1:$PORT"
PORT="$PORT" ISSUER="$MOCK" start_mock_idp "$W/mock-idp.log" --host 127.0.0.1 || die "mock-idp did not start"
PIDS+=("$MOCK_IDP_PID")
up "$MOCK/health" "$MOCK_IDP_PID" 10 || die "mock-idp did not answer"
MOCK_JWKS="$MOCK/.well-known/jwks.json"

mint() { curl -fsS --max-time 10 -X POST "$MOCK/token" -H 'content-type: application/json' -d "$1" |
  "$PY" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'; }
TOKEN=$(mint '{"sub":"user_prodsafety"}') || die "could not mint a token"

# The plain JWKS server: mock-idp's key set and a discovery document, served
# as static files by python http.server (no marker header).
mkdir -p "$W/plain/.well-known" "$W/member/.well-known"
curl -fsS "$MOCK_JWKS" >"$W/plain/jwks.json" || die "could not fetch the JWKS"
printf '{"issuer":"%s","jwks_uri":"http://example.invalid/jwks.json"}\n' "$MOCK" >"$W/plain/.well-known/openid-configuration"
# A copy of mock-idp's discovery document, served without the header: only
# the member tells.
curl -fsS "$MOCK/.well-known/openid-configuration" >"$W/member/.well-known/openid-configuration" || die "no discovery"
grep -q '"mock_idp":true' "$W/member/.well-known/openid-configuration" || die "mock-idp's discovery lacks \"mock_idp\":true"
PLAIN_PORT=$(free_port)
PLAIN="http://127.0.0.1:$PLAIN_PORT"
bg "$W/plain.log" "$PY" -u -m http.server --bind 127.0.0.1 --directory "$W/plain" "$PLAIN_PORT"
PLAIN_PID=$BG_PID
up "$PLAIN/jwks.json" "$PLAIN_PID" 10 || die "the plain JWKS server did not start"
MEMBER_PORT=$(free_port)
bg "$W/member.log" "$PY" -u -m http.server --bind 127.0.0.1 --directory "$W/member" "$MEMBER_PORT"
MEMBER_DISCOVERY="http://127.0.0.1:$MEMBER_PORT/.well-known/openid-configuration"
up "$MEMBER_DISCOVERY" "$BG_PID" 10 || die "the member server did not start"
# plain_reset: forget the requests logged so far.
plain_reset() { : >"$W/plain.log"; }

# refuses CMD_DESCRIPTION VAR OUT ERR RC: the refusal contract.
refusal_ok() {
  local rc="$1" out="$2" err="$3" var="$4" url="$5"
  [ "$rc" = 78 ] || { echo "exit $rc, want 78"; echo "stdout: $(cat "$out")"; echo "stderr: $(cat "$err")"; return 1; }
  [ "$(wc -l <"$err")" = 1 ] || { echo "stderr should be one line:"; cat "$err"; return 1; }
  grep -qF "$var=$url" "$err" || { echo "stderr does not name $var=$url:"; cat "$err"; return 1; }
  grep -q '^refusing to start: .*point '"$var"' at your real identity provider' "$err" || { cat "$err"; return 1; }
  return 0
}

# rs_run ENV...: the example in the foreground (bounded), clean environment.
rs_run() {
  env -u NODE_ENV -u APP_ENV HOST=127.0.0.1 PORT="$(free_port)" EXPECTED_ISSUER="$MOCK" "$@" \
    timeout 20 node "$RS_DIR/server.mjs" >"$W/rs.out" 2>"$W/rs.err"
}
t_rs_refuses() {
  local rc
  rs_run "$@"; rc=$?
  local url; url=$(printf '%s\n' "$@" | sed -n 's/^JWKS_URL=//p')
  refusal_ok "$rc" "$W/rs.out" "$W/rs.err" JWKS_URL "$url" || return 1
  [ ! -s "$W/rs.out" ] || { echo "it started listening:"; cat "$W/rs.out"; return 1; }
  cat "$W/rs.err" >&2
}
check "NODE_ENV=production, JWKS_URL=mock-idp's JWKS: exit 78, one line naming JWKS_URL, never listens" \
  t_rs_refuses NODE_ENV=production JWKS_URL="$MOCK_JWKS"
check "APP_ENV=' Prod ' (case, spaces): exit 78" t_rs_refuses "APP_ENV= Prod " JWKS_URL="$MOCK_JWKS"
check "NODE_ENV=PROD, JWKS_URL=a mock-idp 404 (the header is on errors too): exit 78" \
  t_rs_refuses NODE_ENV=PROD JWKS_URL="$MOCK/no/such/path"
t_rs_member() {
  t_rs_refuses NODE_ENV=production JWKS_URL="$MEMBER_DISCOVERY" || return 1
  grep -q 'discovery member "mock_idp": true' "$W/rs.err" || { echo "the refusal does not name the member:"; cat "$W/rs.err"; return 1; }
}
check "NODE_ENV=production, JWKS_URL=a discovery document with only the \"mock_idp\" member (no header): exit 78" t_rs_member

# What the guard costs: the one request, timed in a fresh process (the first
# fetch() of a process includes loading its HTTP client).
t_rs_cost() {
  local ms
  ms=$(cd "$RS_DIR" && JW="$MOCK_JWKS" timeout 20 node --input-type=module -e '
import { probe } from "./prod-guard.mjs";
const t0 = performance.now();
const r = await probe(process.env.JW);
if (!r.mock) throw new Error("mock-idp not detected: " + JSON.stringify(r));
console.log((performance.now() - t0).toFixed(1));
') || return 1
  echo "$ms ms"
  SUMMARY+=("startup guard cost: one GET, $ms ms against a local mock-idp (first fetch of a fresh Node process)")
}
check "the guard's one startup request against a local mock-idp, timed" t_rs_cost

# rs_start ENV...: the example in the background; sets RS_PID, RS.
rs_start() {
  local port; port=$(free_port)
  RS="http://127.0.0.1:$port"
  bg "$W/rs.log" env -u NODE_ENV -u APP_ENV HOST=127.0.0.1 PORT="$port" EXPECTED_ISSUER="$MOCK" "$@" node "$RS_DIR/server.mjs"
  RS_PID=$BG_PID
  up "$RS/health" "$RS_PID" 15 || { cat "$W/rs.log"; return 1; }
}
# me_ok: GET /me with the token answers 200 with its sub.
me_ok() {
  local body
  body=$(curl -sS --max-time 10 -H "Authorization: Bearer $TOKEN" "$RS/me") || { echo "GET /me failed"; return 1; }
  printf '%s' "$body" | "$PY" -c 'import json, sys; b = json.load(sys.stdin); assert b.get("sub") == "user_prodsafety", b' ||
    { echo "GET /me: $body"; return 1; }
}
# wait_requests LOG N: the plain server has logged N GETs (waits up to 2 s for late log lines).
wait_requests() {
  local i
  for ((i = 0; i < 40; i++)); do [ "$(requests "$1")" -ge "$2" ] && break; sleep 0.05; done
  [ "$(requests "$1")" = "$2" ] || { echo "want $2 requests, the server logged $(requests "$1"):"; cat "$1"; return 1; }
}

t_rs_dev_mock() {
  rs_start "$@" JWKS_URL="$MOCK_JWKS" || return 1
  me_ok || return 1
  if [ -s "$W/rs.log" ] && grep -qv 'listening on' "$W/rs.log"; then echo "unexpected output:"; cat "$W/rs.log"; return 1; fi
  stop "$RS_PID"
}
check "no NODE_ENV/APP_ENV, JWKS_URL=mock-idp: starts, verifies a minted token (jose createRemoteJWKSet) as before" t_rs_dev_mock
check "NODE_ENV=development APP_ENV=staging: starts against mock-idp, verifies a token" \
  t_rs_dev_mock NODE_ENV=development APP_ENV=staging

t_rs_dev_no_request() {
  plain_reset
  rs_start NODE_ENV=test JWKS_URL="$PLAIN/jwks.json" || return 1
  sleep 0.3
  wait_requests "$W/plain.log" 0 || { echo "outside production a request was made at startup"; return 1; }
  me_ok || return 1
  wait_requests "$W/plain.log" 1 || return 1
  stop "$RS_PID"
}
check "outside production: no request at startup (plain server log empty until the first token)" t_rs_dev_no_request

t_rs_prod_plain() {
  plain_reset
  rs_start NODE_ENV=production JWKS_URL="$PLAIN/jwks.json" || return 1
  wait_requests "$W/plain.log" 1 || { echo "production: want exactly one request at startup"; return 1; }
  me_ok || return 1
  [ ! -s "$W/rs.log" ] || ! grep -q 'warning\|refusing' "$W/rs.log" || { cat "$W/rs.log"; return 1; }
  stop "$RS_PID"
}
check "NODE_ENV=production, JWKS_URL=a plain JWKS server: starts after exactly one request, verifies the token" t_rs_prod_plain

t_rs_unreachable_then_mock() {
  local port; port=$(free_port)
  local url="http://127.0.0.1:$port/.well-known/jwks.json" rc i
  rs_start NODE_ENV=production JWKS_URL="$url" || return 1
  grep -q "^warning: NODE_ENV=production: could not check JWKS_URL=$url at startup (ECONNREFUSED)" "$W/rs.log" ||
    { echo "want one warning line:"; cat "$W/rs.log"; return 1; }
  # A mock-idp appears at that URL: the first JWKS fetch carries the marker.
  PORT="$port" start_mock_idp "$W/late-mock.log" --host 127.0.0.1 || return 1
  PIDS+=("$MOCK_IDP_PID")
  local late=$MOCK_IDP_PID
  up "http://127.0.0.1:$port/health" "$late" 10 || return 1
  curl -sS --max-time 10 -o /dev/null -H "Authorization: Bearer $TOKEN" "$RS/me"
  for ((i = 0; i < 100; i++)); do kill -0 "$RS_PID" 2>/dev/null || break; sleep 0.05; done
  wait "$RS_PID"; rc=$?
  stop "$late"
  [ "$rc" = 78 ] || { echo "exit $rc, want 78"; cat "$W/rs.log"; return 1; }
  grep -q "^refusing to run: JWKS_URL=$url answers as a dev/test-only mock identity provider" "$W/rs.log" ||
    { cat "$W/rs.log"; return 1; }
}
check "production, JWKS_URL unreachable: starts with one warning; a mock-idp appearing there is refused on the first JWKS fetch (exit 78)" \
  t_rs_unreachable_then_mock

t_rs_blackhole() {
  local port; port=$(free_port)
  bg "$W/blackhole.log" "$PY" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(60)' "$port"
  local hole=$BG_PID t0 t1 ms
  sleep 0.2
  t0=$(date +%s%N)
  rs_start APP_ENV=prod JWKS_URL="http://127.0.0.1:$port/jwks.json" || return 1
  t1=$(date +%s%N); ms=$(((t1 - t0) / 1000000))
  stop "$RS_PID"; stop "$hole"
  grep -q 'no answer within 3000 ms' "$W/rs.log" || { cat "$W/rs.log"; return 1; }
  [ "$ms" -ge 2900 ] && [ "$ms" -lt 8000 ] || { echo "startup took $ms ms, want the 3 s timeout"; return 1; }
  SUMMARY+=("resource-server start with a JWKS_URL that never answers: $ms ms (timeout 3 s)")
}
check "production, JWKS_URL accepts but never answers: starts after the 3 s timeout with a warning" t_rs_blackhole

# ================================================================ 3. the doc's snippets
log "docs/production-safety.md snippets"
SN="$W/snippets"
mkdir -p "$SN"
"$PY" - "$DOC" "$SN" <<'PY' || die "could not extract the snippets"
import os, re, sys
doc, out = sys.argv[1], sys.argv[2]
text = open(doc, encoding="utf-8").read()
blocks = re.findall(r"^<!-- (file|excerpt): (\S+) -->\n```[a-z]*\n(.*?)^```$", text, re.M | re.S)
if len(blocks) < 8:
    sys.exit(f"only {len(blocks)} marked blocks in {doc}")
for kind, name, body in blocks:
    path = os.path.join(out, "excerpts" if kind == "excerpt" else "files", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w", encoding="utf-8").write(body)
    print(kind, name, file=sys.stderr)
PY
F="$SN/files"

t_node_same() {
  cmp "$F/prod-guard.mjs" "$RS_DIR/prod-guard.mjs" || { diff "$F/prod-guard.mjs" "$RS_DIR/prod-guard.mjs" | head -20; return 1; }
  local line absent=0
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    grep -qxF -- "$line" "$RS_DIR/server.mjs" || { echo "not in server.mjs: $line"; absent=1; }
  done <"$SN/excerpts/examples/resource-server/server.mjs"
  return "$absent"
}
check "the doc's Node guard is examples/resource-server/prod-guard.mjs byte for byte; its server.mjs excerpt is in server.mjs" t_node_same

t_snippets_clean() {
  gate_expect 0 "" "$F" "$RS_DIR/prod-guard.mjs" || return 1
  ls -R "$F"
}
check "every guard snippet (and prod-guard.mjs) passes the CI gate" t_snippets_clean

# guard_cases NAME RUNNER...: the four behaviours of a guard. RUNNER is run
# with the environment as arguments (env VAR=... style) and must print
# "started" on stdout when it returns from the guard.
guard_cases() {
  local name="$1" var="$2"; shift 2
  local rc
  # production + mock-idp -> 78, one line naming the variable
  env -u NODE_ENV -u APP_ENV NODE_ENV=production "$var=$MOCK_JWKS" timeout 30 "$@" >"$W/g.out" 2>"$W/g.err"; rc=$?
  refusal_ok "$rc" "$W/g.out" "$W/g.err" "$var" "$MOCK_JWKS" || { echo "($name: production + mock-idp)"; return 1; }
  ! grep -q started "$W/g.out" || { echo "$name: started anyway"; return 1; }
  echo "refusal: $(cat "$W/g.err")"
  # production + discovery with only the member -> 78
  env -u NODE_ENV -u APP_ENV "APP_ENV=PROD " "$var=$MEMBER_DISCOVERY" timeout 30 "$@" >"$W/g.out" 2>"$W/g.err"; rc=$?
  refusal_ok "$rc" "$W/g.out" "$W/g.err" "$var" "$MEMBER_DISCOVERY" || { echo "($name: production + member only)"; return 1; }
  grep -q 'discovery member "mock_idp": true' "$W/g.err" || { cat "$W/g.err"; return 1; }
  # production + plain JWKS -> starts after exactly one request
  plain_reset
  env -u NODE_ENV -u APP_ENV NODE_ENV=production "$var=$PLAIN/jwks.json" timeout 30 "$@" >"$W/g.out" 2>"$W/g.err"; rc=$?
  [ "$rc" = 0 ] && grep -q started "$W/g.out" || { echo "$name: production + plain JWKS: exit $rc"; cat "$W/g.out" "$W/g.err"; return 1; }
  wait_requests "$W/plain.log" 1 || return 1
  # outside production + mock-idp -> starts, no request (counted on the plain server)
  plain_reset
  env -u NODE_ENV -u APP_ENV NODE_ENV=development "$var=$PLAIN/jwks.json" timeout 30 "$@" >"$W/g.out" 2>"$W/g.err"; rc=$?
  [ "$rc" = 0 ] && grep -q started "$W/g.out" || { echo "$name: development: exit $rc"; cat "$W/g.out" "$W/g.err"; return 1; }
  sleep 0.2
  wait_requests "$W/plain.log" 0 || { echo "$name: a request outside production"; return 1; }
  env -u NODE_ENV -u APP_ENV "$var=$MOCK_JWKS" timeout 30 "$@" >"$W/g.out" 2>"$W/g.err"; rc=$?
  [ "$rc" = 0 ] && grep -q started "$W/g.out" || { echo "$name: no env + mock-idp: exit $rc"; cat "$W/g.out" "$W/g.err"; return 1; }
  [ ! -s "$W/g.err" ] || { echo "$name: output outside production:"; cat "$W/g.err"; return 1; }
  # production + unreachable -> starts with one warning line
  env -u NODE_ENV -u APP_ENV NODE_ENV=production "$var=http://127.0.0.1:$(free_port)/jwks.json" timeout 30 "$@" >"$W/g.out" 2>"$W/g.err"; rc=$?
  [ "$rc" = 0 ] && grep -q started "$W/g.out" || { echo "$name: unreachable: exit $rc"; cat "$W/g.out" "$W/g.err"; return 1; }
  grep -q "^warning: NODE_ENV=production: could not check $var=" "$W/g.err" && [ "$(wc -l <"$W/g.err")" = 1 ] ||
    { echo "$name: want one warning line:"; cat "$W/g.err"; return 1; }
}

# --- Python, the module alone
cat >"$W/py_driver.py" <<'PY'
import os
from prod_guard import refuse_mock_issuer_in_production
refuse_mock_issuer_in_production("JWKS_URL", os.environ.get("JWKS_URL"))
print("started")
PY
t_python() { guard_cases python JWKS_URL env PYTHONPATH="$F" "$PY" "$W/py_driver.py"; }
check "Python snippet (stdlib urllib): 78 on mock-idp and on the member, one request in production, none outside, warning when unreachable" t_python

# --- FastAPI under uvicorn
t_fastapi() {
  local port rc
  port=$(free_port)
  (cd "$F" && env -u NODE_ENV -u APP_ENV NODE_ENV=production JWKS_URL="$MOCK_JWKS" \
    timeout 30 "$PY" -m uvicorn fastapi_main:app --host 127.0.0.1 --port "$port" >"$W/fa.out" 2>"$W/fa.err"); rc=$?
  [ "$rc" = 78 ] || { echo "uvicorn exit $rc, want 78"; cat "$W/fa.out" "$W/fa.err"; return 1; }
  [ "$(grep -c 'refusing to start: JWKS_URL=' "$W/fa.err")" = 1 ] || { cat "$W/fa.err"; return 1; }
  if grep -q 'Uvicorn running on\|Traceback' "$W/fa.err"; then echo "it listened or printed a traceback:"; cat "$W/fa.err"; return 1; fi
  port=$(free_port)
  plain_reset
  (cd "$F" && exec env -u NODE_ENV -u APP_ENV NODE_ENV=production JWKS_URL="$PLAIN/jwks.json" \
    "$PY" -m uvicorn fastapi_main:app --host 127.0.0.1 --port "$port") >"$W/fa.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  up "http://127.0.0.1:$port/health" "$pid" 20 || { cat "$W/fa.log"; return 1; }
  [ "$(curl -fsS "http://127.0.0.1:$port/health")" = '{"status":"ok"}' ] || return 1
  wait_requests "$W/plain.log" 1 || return 1
  stop "$pid"
}
check "FastAPI lifespan under uvicorn: exit 78 before listening (no traceback); against the plain JWKS /health answers" t_fastapi

# --- Django AppConfig.ready through django.setup()
mkdir -p "$W/django"
cat >"$W/django/run.py" <<'PY'
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["api.apps.ApiConfig"])
django.setup()  # what manage.py, get_wsgi_application() and get_asgi_application() call
print("started")
PY
: >"$F/api/__init__.py"
t_django() { guard_cases django JWKS_URL env PYTHONPATH="$F" "$PY" "$W/django/run.py"; }
check "Django AppConfig.ready (django.setup()): the same four behaviours" t_django

# --- Go, GOPATH mode, standard library only
GOBIN_OUT="$W/go/guard-demo"
t_go_build() {
  mkdir -p "$W/go/src/demo"
  cp "$F/prodguard.go" "$F/main.go" "$W/go/src/demo/"
  (cd "$W/go/src/demo" && GO111MODULE=off GOPATH="$W/go" GOFLAGS='' \
    GOCACHE="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/prodsafety-gocache" \
    timeout 300 go build -trimpath -o "$GOBIN_OUT" .) || return 1
  go version
}
check "Go snippet builds (go build -trimpath, GO111MODULE=off, $(go version 2>/dev/null | awk '{print $3}'))" t_go_build
t_go() {
  [ -x "$GOBIN_OUT" ] || { echo "not built"; return 1; }
  # The demo prints nothing when it starts: run it in the background and
  # call it "started" once /health answers.
  cat >"$W/go/run.sh" <<'SH'
#!/usr/bin/env bash
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
ADDR="127.0.0.1:$port" "$GOBIN_OUT" &
pid=$!
for _ in $(seq 100); do
  if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/health" 2>/dev/null; then
    echo started; kill "$pid"; wait "$pid" 2>/dev/null; exit 0
  fi
  kill -0 "$pid" 2>/dev/null || { wait "$pid"; exit $?; }
  sleep 0.05
done
kill "$pid"; exit 1
SH
  guard_cases go JWKS_URL env GOBIN_OUT="$GOBIN_OUT" bash "$W/go/run.sh" || return 1
  gate_expect 0 "" "$GOBIN_OUT" || { echo "the Go binary is not clean for the gate"; return 1; }
}
check "Go snippet (net/http): the same four behaviours; the built binary passes the gate" t_go

# --- Java: IssuerGuard with javac; IssuerGuardConfig against Spring stand-ins
t_java_build() {
  local s="$W/java/src"
  mkdir -p "$s/org/springframework/beans/factory/annotation" "$s/org/springframework/boot" \
    "$s/org/springframework/context/annotation" "$W/java/classes"
  cp "$F/IssuerGuard.java" "$F/IssuerGuardConfig.java" "$s/"
  # Stand-ins with the same names and shapes as Spring's (the jars cannot be
  # installed offline): enough to compile the bean and call its runner.
  echo 'package org.springframework.beans.factory.annotation; public @interface Value { String value(); }' \
    >"$s/org/springframework/beans/factory/annotation/Value.java"
  echo 'package org.springframework.context.annotation; public @interface Bean {}' >"$s/org/springframework/context/annotation/Bean.java"
  echo 'package org.springframework.context.annotation; public @interface Configuration {}' \
    >"$s/org/springframework/context/annotation/Configuration.java"
  echo 'package org.springframework.boot; public interface ApplicationArguments {}' >"$s/org/springframework/boot/ApplicationArguments.java"
  echo 'package org.springframework.boot; @FunctionalInterface public interface ApplicationRunner { void run(ApplicationArguments args) throws Exception; }' \
    >"$s/org/springframework/boot/ApplicationRunner.java"
  cat >"$s/GuardDemo.java" <<'JAVA'
public class GuardDemo {
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("spring")) {
      String uri = System.getenv("SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_JWKSETURI");
      new IssuerGuardConfig().refuseMockIssuerInProduction(uri).run(null);
    } else {
      IssuerGuard.refuseMockIssuerInProduction("JWKS_URL", System.getenv("JWKS_URL"), System.getenv());
    }
    System.out.println("started");
  }
}
JAVA
  (cd "$s" && find . -name '*.java' -print0 | xargs -0 timeout 120 javac -Xlint:all -Werror -d "$W/java/classes") || return 1
  javac -version 2>&1
}
check "Java snippets compile (javac -Xlint:all -Werror; Spring stand-ins)" t_java_build
t_java() {
  guard_cases java JWKS_URL java -cp "$W/java/classes" GuardDemo || return 1
  gate_expect 0 "" "$W/java/classes/IssuerGuard.class" "$W/java/classes/IssuerGuardConfig.class" ||
    { echo "the class files are not clean for the gate"; return 1; }
}
check "Java IssuerGuard: the same four behaviours; the class files pass the gate" t_java
t_spring() {
  local v=spring.security.oauth2.resourceserver.jwt.jwk-set-uri rc
  env -u NODE_ENV -u APP_ENV NODE_ENV=production SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_JWKSETURI="$MOCK_JWKS" \
    timeout 30 java -cp "$W/java/classes" GuardDemo spring >"$W/g.out" 2>"$W/g.err"; rc=$?
  refusal_ok "$rc" "$W/g.out" "$W/g.err" "$v" "$MOCK_JWKS" || return 1
  env -u NODE_ENV -u APP_ENV NODE_ENV=production SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_JWKSETURI="$PLAIN/jwks.json" \
    timeout 30 java -cp "$W/java/classes" GuardDemo spring >"$W/g.out" 2>"$W/g.err"; rc=$?
  [ "$rc" = 0 ] && grep -q started "$W/g.out" || { cat "$W/g.out" "$W/g.err"; return 1; }
}
check "Spring ApplicationRunner bean (stand-ins): exit 78 naming the jwk-set-uri property; starts against the plain JWKS" t_spring

# ================================================================ 4. clients ignore the marker
log "off-the-shelf clients with the marker"
t_openid_client() {
  # shellcheck disable=SC2016 # JavaScript template literals, not shell
  (cd "$REPO_ROOT/tests/e2e/oidc-node" && MOCK="$MOCK" TOKEN="$TOKEN" timeout 60 node --input-type=module -e '
import * as client from "openid-client";
import { createRemoteJWKSet, jwtVerify } from "jose";
const issuer = new URL(process.env.MOCK);
const config = await client.discovery(issuer, "prodsafety", undefined, undefined, { execute: [client.allowInsecureRequests] });
const md = config.serverMetadata();
if (md.issuer !== process.env.MOCK) throw new Error(`issuer ${md.issuer}`);
if (md.mock_idp !== true) throw new Error("the discovery document lacks mock_idp: true");
if (!md.token_endpoint || !md.jwks_uri) throw new Error("token_endpoint/jwks_uri missing");
const { payload } = await jwtVerify(process.env.TOKEN, createRemoteJWKSet(new URL(md.jwks_uri)), { issuer: md.issuer });
if (payload.sub !== "user_prodsafety") throw new Error(`sub ${payload.sub}`);
console.log(`openid-client discovery ok (mock_idp=${md.mock_idp}), jose verified sub=${payload.sub}`);
')
}
check "openid-client v6 discovery accepts the \"mock_idp\" member; jose createRemoteJWKSet verifies a token from the advertised jwks_uri" t_openid_client
t_pyjwt() {
  JWKS="$MOCK_JWKS" TOKEN="$TOKEN" ISSUER="$MOCK" "$PY" -c '
import os, jwt
key = jwt.PyJWKClient(os.environ["JWKS"], cache_keys=False, timeout=10).get_signing_key_from_jwt(os.environ["TOKEN"])
claims = jwt.decode(os.environ["TOKEN"], key.key, algorithms=["RS256"], issuer=os.environ["ISSUER"], options={"verify_aud": False})
assert claims["sub"] == "user_prodsafety", claims
print("PyJWKClient ok", claims["sub"])
'
}
check "PyJWT PyJWKClient fetches the JWKS (with the header) and verifies a token" t_pyjwt

# ================================================================ summary
echo >&2
for s in "${SUMMARY[@]}"; do printf '  %s\n' "$s" >&2; done
echo "prodsafety: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
