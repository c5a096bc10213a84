#!/usr/bin/env bash
# CI stage "smallhost": the arm64 build, the systemd unit and the Raspberry Pi
# deploy script (docs/small-hosts.md), on an x86-64 Debian machine with
# neither an ARM CPU, a running systemd nor a Raspberry Pi.
#
#   1. scripts/build-arm64.sh: a static aarch64 ELF (`file`), build time shown
#   2. that binary under qemu-user (qemu-aarch64, called explicitly: no binfmt
#      needed): serves; a minted token verifies with PyJWT against the served
#      JWKS; `healthcheck` exits 0, and 1 with nothing listening; the prod
#      guard exits 78 and a bad option 2 (the unit's RestartPreventExitStatus)
#   3. the arm64 image: Dockerfile.dev --target host-binary built with BuildKit
#      for linux/arm64 on a private dockerd: platform, user, and /mock-idp is
#      byte for byte the arm64 binary
#   4. deploy/systemd/mock-idp.service: `systemd-analyze verify` silent in a
#      temporary root holding the binary (and a broken copy is not silent),
#      `systemd-analyze security --offline` exposure <= 2.0, key settings;
#      then under a real systemd 252 booted by systemd-nspawn (this host's /usr,
#      tmpfs root, private network): enable --now, dynamic user, env file,
#      token verified against the served JWKS, key 0600 in the state
#      directory, a crash restarted with the same key, exit 78 not restarted
#   5. deploy/raspberry-pi/deploy.sh: usage errors exit 2; --dry-run with and
#      without --docker prints the build, scp/ssh, install, systemctl and
#      health-check commands with host and user, and builds nothing
#   6. deploy.sh for real over ssh to an sshd started here on 127.0.0.1
#      (throwaway host and client keys). The "Pi" is this x86-64 host, so the
#      x86-64 release binary is deployed, under REMOTE_ROOT (a temporary
#      directory instead of /), with REMOTE_SUDO="" and REMOTE_SYSTEMCTL set to
#      a test double that logs its calls and, on restart, runs the installed
#      unit's ExecStart with its Environment/EnvironmentFile. Real: ssh, scp,
#      install, the env file, the bounded health-check wait (and its failure),
#      a token from the deployed service, a re-deploy keeping the key.
#      Not exercised: sudo, systemd itself and its sandboxing (see 4).
#   7. deploy.sh --docker for real over the same ssh into the private dockerd
#      (docker save | ssh docker load, docker run, docker exec healthcheck),
#      with an amd64 image of a static x86-64 binary (the container stage's
#      musl build, or MOCK_IDP_STATIC_BIN): skipped, and said so, without one.
#
# Usage: bash scripts/ci/smallhost.sh
# Environment:
#   MOCK_IDP_BIN         x86-64 release binary for step 6 (default: built)
#   MOCK_IDP_STATIC_BIN  static x86-64 binary for step 7 (default:
#                        target/x86_64-unknown-linux-musl/release/mock-idp)
#   ARM64_FAST=1         build the arm64 binary without LTO and with 16 codegen
#                        units (measured no faster on 2 cores, ~10% more CPU:
#                        docs/small-hosts.md; off, so CI tests the shipped profile)

# shellcheck source=scripts/ci/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DEPLOY="$REPO_ROOT/deploy/raspberry-pi/deploy.sh"
UNIT="$REPO_ROOT/deploy/systemd/mock-idp.service"
STAGE_T0=$SECONDS
PASSED=0
SKIPPED=0
SUMMARY=()
PIDS=()
DOCKERD_PID=""
WORK="$(mktemp -d /tmp/mock-idp-smallhost.XXXXXX)"

pass() { PASSED=$((PASSED + 1)); printf '  ok - %s\n' "$*" >&2; }
skip() { SKIPPED=$((SKIPPED + 1)); printf '  SKIPPED - %s\n' "$*" >&2; }
fail() { printf '  FAILED - %s\n' "$*" >&2; exit 1; }

cleanup() {
  local rc=$? p
  set +e
  # The service the systemctl test double started (its PID file).
  [ -f "$WORK/state/mock-idp.pid" ] && stop_pid "$(cat "$WORK/state/mock-idp.pid")"
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    timeout 20 docker rm -f mock-idp >/dev/null 2>&1
    stop_pid "$DOCKERD_PID"; wait "$DOCKERD_PID" 2>/dev/null
    awk -v d="$WORK/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
      while read -r m; do umount -l "$m" 2>/dev/null; done
  fi
  rm -rf "$WORK"
  printf '  %s\n' "${SUMMARY[@]}" >&2
  if [ "$rc" = 0 ]; then
    log "smallhost stage passed in $((SECONDS - STAGE_T0)) s"
    echo "smallhost: $PASSED passed, 0 failed, $SKIPPED skipped"
  else
    echo "smallhost: $PASSED passed, 1 failed, $SKIPPED skipped" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# verify_token URL TOKEN SUB ISSUER: PyJWT checks TOKEN against URL's served
# JWKS (signature, kid in the set, iss, sub, exp); prints the kid.
verify_token() {
  BASE="$1" TOKEN="$2" WANT_SUB="$3" ISSUER="$4" "$(ci_python)" - <<'PY'
import os, sys
import jwt

base, token = os.environ["BASE"], os.environ["TOKEN"]
client = jwt.PyJWKClient(base + "/.well-known/jwks.json", cache_keys=False, timeout=10)
kid = jwt.get_unverified_header(token).get("kid")
kids = [k.key_id for k in client.get_jwk_set().keys]
if kid not in kids:
    sys.exit(f"kid {kid!r} is not in the served JWKS {kids}")
key = client.get_signing_key_from_jwt(token)
claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=os.environ["ISSUER"],
                    options={"verify_aud": False, "require": ["iss", "sub", "exp", "iat"]})
if claims["sub"] != os.environ["WANT_SUB"]:
    sys.exit(f"sub {claims['sub']!r}, want {os.environ['WANT_SUB']!r}")
print(kid)
PY
}
# mint BASE JSON: POST /token, print the access token.
mint() {
  curl -fsS --max-time 20 -X POST "$1/token" -H 'content-type: application/json' -d "$2" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# ---------------------------------------------------------------- 0. tools
log "install: cross toolchain, qemu-user, openssh, systemd (for systemd-analyze), PyJWT"
apt_install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user openssh-server openssh-client \
  systemd file curl ca-certificates
pip_install 'PyJWT[crypto]'
QEMU="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
[ -n "$QEMU" ] || die "qemu-user is installed but there is no qemu-aarch64"

# ---------------------------------------------------------------- 1. arm64 build
log "arm64: scripts/build-arm64.sh"
t0=$SECONDS
if [ "${ARM64_FAST:-0}" = 1 ]; then
  export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
fi
ARM_BIN="$(bash "$REPO_ROOT/scripts/build-arm64.sh" | tail -n 1)"
unset CARGO_PROFILE_RELEASE_LTO CARGO_PROFILE_RELEASE_CODEGEN_UNITS
SUMMARY+=("arm64 build: $((SECONDS - t0)) s${ARM64_FAST:+ (ARM64_FAST=$ARM64_FAST)}")
[ "$ARM_BIN" = "${CARGO_TARGET_DIR:-$REPO_ROOT/target}/aarch64-unknown-linux-musl/release/mock-idp" ] ||
  fail "build-arm64.sh printed '$ARM_BIN', not the documented path"
info="$(file -bL "$ARM_BIN")"
case "$info" in
  *"ARM aarch64"*"statically linked"* | *"ARM aarch64"*"static-pie linked"*) ;;
  *) fail "not a static aarch64 ELF: $info" ;;
esac
case "$info" in *interpreter*) fail "it names a dynamic loader: $info" ;; esac
pass "static aarch64 binary ${ARM_BIN#"$REPO_ROOT"/} ($(du -h "$ARM_BIN" | cut -f1); $(printf '%s' "$info" | cut -d, -f1-2,4))"
t0=$SECONDS
bash "$REPO_ROOT/scripts/build-arm64.sh" >/dev/null 2>&1 || fail "build-arm64.sh failed on the second run"
[ $((SECONDS - t0)) -le 30 ] || fail "build-arm64.sh took $((SECONDS - t0)) s with nothing to do"
pass "build-arm64.sh again with nothing to do: $((SECONDS - t0)) s"

# ---------------------------------------------------------------- 2. qemu
log "arm64 under $QEMU"
"$QEMU" "$ARM_BIN" --version | grep -q '^mock-idp ' || fail "'mock-idp --version' under qemu"
QPORT="$(free_port)"
QBASE="http://127.0.0.1:$QPORT"
QISSUER="http://arm64.test"
"$QEMU" "$ARM_BIN" --port "$QPORT" --issuer "$QISSUER" >"$WORK/qemu.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do
  grep -q "listening on" "$WORK/qemu.log" && break
  kill -0 "${PIDS[-1]}" 2>/dev/null || break
  sleep 0.1
done
grep -q "^mock-idp listening on $QBASE " "$WORK/qemu.log" || { cat "$WORK/qemu.log" >&2; fail "the arm64 binary did not start under qemu"; }
pass "arm64 binary serves under qemu-aarch64 on $QBASE"
TOKEN="$(mint "$QBASE" '{"sub":"user_arm64","org_id":"org_1","org_role":"admin"}')"
kid="$(verify_token "$QBASE" "$TOKEN" user_arm64 "$QISSUER")" ||
  fail "the arm64-minted token does not verify against $QBASE/.well-known/jwks.json"
pass "POST /token on arm64: RS256 token verifies with PyJWT against the served JWKS (iss, sub, kid $kid)"
PORT="$QPORT" "$QEMU" "$ARM_BIN" healthcheck || fail "'mock-idp healthcheck' under qemu exited $?"
pass "'mock-idp healthcheck' under qemu exits 0"
stop_pid "${PIDS[-1]}"
set +e
PORT="$QPORT" "$QEMU" "$ARM_BIN" healthcheck 2>/dev/null; rc_dead=$?
NODE_ENV=production "$QEMU" "$ARM_BIN" --port 0 >/dev/null 2>&1; rc_prod=$?
"$QEMU" "$ARM_BIN" --token-ttl soon >/dev/null 2>&1; rc_bad=$?
set -e
[ "$rc_dead" = 1 ] || fail "healthcheck with nothing listening exited $rc_dead, want 1"
[ "$rc_prod" = 78 ] || fail "NODE_ENV=production exited $rc_prod, want 78"
[ "$rc_bad" = 2 ] || fail "--token-ttl soon exited $rc_bad, want 2"
pass "under qemu: healthcheck 1 with nothing listening, prod guard 78, bad option 2"

# ---------------------------------------------------------------- 4. systemd unit
# (before 3: it needs no dockerd)
log "systemd unit: systemd-analyze verify / security --offline"
ROOTFS="$WORK/rootfs"
mkdir -p "$ROOTFS/usr/local/bin" "$ROOTFS/etc/systemd/system" "$ROOTFS/usr/lib/systemd"
install -m 0755 "$ARM_BIN" "$ROOTFS/usr/local/bin/mock-idp"
# The targets the unit's default dependencies name (sysinit.target, ...).
cp -a /usr/lib/systemd/system "$ROOTFS/usr/lib/systemd/system"
verify_unit() { # verify_unit FILE: systemd-analyze verify's output (empty = clean)
  install -m 0644 "$1" "$ROOTFS/etc/systemd/system/mock-idp.service"
  systemd-analyze verify --root="$ROOTFS" mock-idp.service 2>&1 || echo "(exit status $?)"
}
out="$(verify_unit "$UNIT")"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
sed -e 's/^ProtectHome=/ProtectHomeDir=/' -e 's/^RestartSec=.*/RestartSec=soon/' "$UNIT" >"$WORK/broken.service"
out="$(verify_unit "$WORK/broken.service")"
case "$out" in
  *ProtectHomeDir*soon* | *soon*ProtectHomeDir*) ;;
  *) fail "systemd-analyze verify did not report a broken copy of the unit: '$out'" ;;
esac
install -m 0644 "$UNIT" "$ROOTFS/etc/systemd/system/mock-idp.service"
pass "systemd-analyze verify: no finding (a copy with an unknown key and a bad RestartSec is reported)"
exposure="$(systemd-analyze security --offline=yes --root="$ROOTFS" --threshold=20 mock-idp.service 2>&1 | tail -n 1)" ||
  fail "systemd-analyze security: exposure above 2.0: $exposure"
pass "systemd-analyze security --offline: ${exposure#→ }"
for line in 'ExecStart=/usr/local/bin/mock-idp' 'Environment=PERSIST_KEYS_DIR=%S/mock-idp' 'StateDirectory=mock-idp' \
  'EnvironmentFile=-/etc/default/mock-idp' 'Restart=on-failure' 'RestartPreventExitStatus=2 78' \
  'DynamicUser=yes' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes'; do
  grep -qxF "$line" "$UNIT" || fail "$UNIT lacks the line '$line'"
done
pass "unit: ExecStart, PERSIST_KEYS_DIR in StateDirectory, env file, restart policy (not on 2/78), hardening"

# The unit under a real systemd: a throwaway container (systemd-nspawn
# --volatile=yes: a tmpfs root, this host's /usr read-only with an overlay
# holding /usr/local/bin/mock-idp, its own network namespace) boots a target
# that runs check.sh as root. That checks what `systemd-analyze` cannot: the
# hardened sandbox really starts and serves (the x86-64 binary: this host
# cannot boot an ARM userland), enable --now, the env file, the dynamic user
# and the state directory, a restart after a crash keeping the key, and exit
# 78 not restarted.
log "systemd unit: under systemd 252 in a systemd-nspawn container"
apt_install systemd-container
NS="$WORK/nspawn"
mkdir -p "$NS/ci" "$NS/out" "$NS/usr-upper/local/bin"
X86_BIN="$(release_binary)"
install -m 0755 "$X86_BIN" "$NS/usr-upper/local/bin/mock-idp"
NS_PORT=18081
printf 'PORT=%s\nISSUER=http://pi.systemd.test\n' "$NS_PORT" >"$NS/ci/default"
cat >"$NS/ci/mock-idp-ci.target" <<'EOF'
[Unit]
Description=smallhost CI: mock-idp.service under systemd
Requires=mock-idp-ci-check.service
After=mock-idp-ci-check.service
EOF
cat >"$NS/ci/mock-idp-ci-check.service" <<'EOF'
[Unit]
Description=smallhost CI: check mock-idp.service, then power off
SuccessAction=poweroff-force
FailureAction=poweroff-force
[Service]
Type=oneshot
ExecStart=/bin/sh /ci/check.sh
TimeoutStartSec=90
EOF
cat >"$NS/ci/check.sh" <<'EOF'
#!/bin/sh
# In the container, as a oneshot service: results go to /ci/out.
out=/ci/out
exec >"$out/check.log" 2>&1
set -x
show() { systemctl show mock-idp.service -p ActiveState -p SubState -p NRestarts -p ExecMainStatus -p Result -p User --no-pager >"$1"; }
# wait_for CMD...: up to 15 s
wait_for() { i=0; until "$@"; do i=$((i + 1)); [ $i -lt 150 ] || return 1; sleep 0.1; done; }
healthy() { /usr/local/bin/mock-idp healthcheck 2>/dev/null; }
restarted() { [ "$(systemctl show -p NRestarts --value mock-idp.service)" = 1 ] && healthy; }
set -a; . /etc/default/mock-idp; set +a
timeout 30 systemctl enable --now mock-idp.service; echo $? >"$out/enable.rc"
ls /etc/systemd/system/multi-user.target.wants/ >"$out/wants"
wait_for healthy; echo $? >"$out/healthy.rc"
show "$out/show1"
curl -fsS --max-time 10 -X POST "http://127.0.0.1:$PORT/token" -H 'content-type: application/json' \
  -d '{"sub":"user_systemd"}' >"$out/token.json"
curl -fsS --max-time 10 "http://127.0.0.1:$PORT/.well-known/jwks.json" >"$out/jwks1.json"
pid=$(systemctl show -p MainPID --value mock-idp.service)
stat -c '%u' "/proc/$pid" >"$out/uid"
stat -c '%u %a' /var/lib/private/mock-idp/private.pem >"$out/key"
# A crash (panic=abort is SIGABRT): restarted, same key.
systemctl kill -s ABRT --kill-who=main mock-idp.service
wait_for restarted; echo $? >"$out/restarted.rc"
show "$out/show2"
curl -fsS --max-time 10 "http://127.0.0.1:$PORT/.well-known/jwks.json" >"$out/jwks2.json"
# The production guard (exit 78): not restarted, even after RestartSec (2 s).
mkdir -p /run/systemd/system/mock-idp.service.d
printf '[Service]\nEnvironment=NODE_ENV=production\n' >/run/systemd/system/mock-idp.service.d/prod.conf
systemctl daemon-reload
systemctl restart mock-idp.service
wait_for [ "$(systemctl show -p ActiveState --value mock-idp.service)" = failed ]
sleep 3
show "$out/show3"
journalctl -u mock-idp.service --no-pager -o cat >"$out/journal"
echo done >"$out/done"
EOF
t0=$SECONDS
timeout 150 systemd-nspawn --quiet --volatile=yes --directory=/ --register=no --keep-unit --private-network \
  --machine="mock-idp-ci-$$" --overlay="/usr:$NS/usr-upper:/usr" \
  --bind="$NS/ci:/ci" --bind="$NS/out:/ci/out" \
  --bind-ro="$UNIT:/etc/systemd/system/mock-idp.service" \
  --bind-ro="$NS/ci/mock-idp-ci.target:/etc/systemd/system/mock-idp-ci.target" \
  --bind-ro="$NS/ci/mock-idp-ci-check.service:/etc/systemd/system/mock-idp-ci-check.service" \
  --bind-ro="$NS/ci/default:/etc/default/mock-idp" \
  --console=pipe --boot systemd.unit=mock-idp-ci.target systemd.firstboot=off systemd.show_status=false \
  </dev/null >"$NS/nspawn.log" 2>&1 || true
ns_fail() {
  { tail -n 25 "$NS/nspawn.log"; tail -n 30 "$NS/out/check.log"; cat "$NS/out/journal"; } 2>/dev/null | sed 's/^/    | /' >&2
  fail "under systemd: $*"
}
[ -f "$NS/out/done" ] || ns_fail "the container did not run its checks to the end"
[ "$(cat "$NS/out/enable.rc")" = 0 ] || ns_fail "systemctl enable --now failed"
grep -qx mock-idp.service "$NS/out/wants" || ns_fail "enable did not link it into multi-user.target.wants"
[ "$(cat "$NS/out/healthy.rc")" = 0 ] || ns_fail "not healthy within 15 s"
if ! grep -qx 'ActiveState=active' "$NS/out/show1" || ! grep -qx 'User=mock-idp' "$NS/out/show1"; then
  ns_fail "$(tr '\n' ' ' <"$NS/out/show1")"
fi
uid="$(cat "$NS/out/uid")"
# systemd's dynamic UID range
{ [ "$uid" -ge 61184 ] && [ "$uid" -le 65519 ]; } ||
  ns_fail "the service runs as UID $uid, not a dynamic user (61184-65519)"
[ "$(cat "$NS/out/key")" = "$uid 600" ] || ns_fail "key file in the state directory: '$(cat "$NS/out/key")', want '$uid 600'"
ns_kid="$(JWKS_FILE="$NS/out/jwks1.json" TOKEN_FILE="$NS/out/token.json" "$(ci_python)" - <<'PY'
import json, os, sys
import jwt
jwks = jwt.PyJWKSet.from_json(open(os.environ["JWKS_FILE"]).read())
token = json.load(open(os.environ["TOKEN_FILE"]))["access_token"]
kid = jwt.get_unverified_header(token)["kid"]
key = next((k for k in jwks.keys if k.key_id == kid), None)
if key is None:
    sys.exit(f"kid {kid} not in the served JWKS")
claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer="http://pi.systemd.test",
                    options={"verify_aud": False, "require": ["iss", "sub", "exp"]})
assert claims["sub"] == "user_systemd", claims
print(kid)
PY
)" || ns_fail "the token does not verify against the JWKS the service served"
pass "under systemd: enable --now starts the hardened unit as dynamic user $uid; env file read; token verifies with PyJWT against the served JWKS; key 0600 in /var/lib/private/mock-idp"
[ "$(cat "$NS/out/restarted.rc")" = 0 ] || ns_fail "not restarted after SIGABRT: $(tr '\n' ' ' <"$NS/out/show2")"
grep -q "\"kid\":\"$ns_kid\"" "$NS/out/jwks2.json" || ns_fail "after the restart the kid changed"
pass "under systemd: a crash (SIGABRT) is restarted (NRestarts=1) with the same key"
for want in ActiveState=failed ExecMainStatus=78 NRestarts=0; do
  grep -qx "$want" "$NS/out/show3" || ns_fail "prod guard: want $want, got $(tr '\n' ' ' <"$NS/out/show3")"
done
pass "under systemd: NODE_ENV=production exits 78 and stays failed (RestartPreventExitStatus), $((SECONDS - t0)) s in all"

# ---------------------------------------------------------------- 3. arm64 image
log "arm64 image: private dockerd, BuildKit --platform linux/arm64"
apt_install docker.io
DOCKER_DIR="$WORK/docker"
mkdir -p "$DOCKER_DIR"
echo '{}' >"$DOCKER_DIR/daemon.json"
dockerd --config-file "$DOCKER_DIR/daemon.json" --data-root "$DOCKER_DIR/data" --exec-root "$DOCKER_DIR/exec" \
  --pidfile "$DOCKER_DIR/dockerd.pid" -H "unix://$DOCKER_DIR/docker.sock" \
  --bridge=none --iptables=false --ip-forward=false --ip-masq=false >"$DOCKER_DIR/dockerd.log" 2>&1 &
DOCKERD_PID=$!
export DOCKER_HOST="unix://$DOCKER_DIR/docker.sock"
for ((i = 0; ; i++)); do
  kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -n 20 "$DOCKER_DIR/dockerd.log" >&2; fail "dockerd exited during startup"; }
  timeout 5 docker version >/dev/null 2>&1 && break
  [ "$i" -lt 300 ] || { tail -n 20 "$DOCKER_DIR/dockerd.log" >&2; fail "dockerd did not answer within 30 s"; }
  sleep 0.1
done
# A client with BuildKit: the buildx plugin, or Debian's docker.io 20.10 client.
DOCKER_CLI=""
for c in docker /usr/bin/docker; do
  if DOCKER_BUILDKIT=1 "$c" build --help >/dev/null 2>&1 &&
    { "$c" buildx version >/dev/null 2>&1 || "$c" version --format '{{.Client.Version}}' 2>/dev/null | grep -q '^20\.'; }; then
    DOCKER_CLI="$c"; break
  fi
done
[ -n "$DOCKER_CLI" ] || fail "no docker client with BuildKit (buildx plugin or docker.io 20.10)"
# The binary must be in the build context on a path .dockerignore lets through.
CONTEXT_BIN=target/aarch64-unknown-linux-musl/release/mock-idp
if ! [ "$ARM_BIN" -ef "$REPO_ROOT/$CONTEXT_BIN" ]; then # CARGO_TARGET_DIR elsewhere
  CONTEXT_BIN=target/container/mock-idp
  mkdir -p "$REPO_ROOT/target/container"
  cp "$ARM_BIN" "$REPO_ROOT/$CONTEXT_BIN"
fi
t0=$SECONDS
env DOCKER_BUILDKIT=1 timeout 300 "$DOCKER_CLI" build --platform linux/arm64 -f "$REPO_ROOT/Dockerfile.dev" \
  --target host-binary --build-arg "MOCK_IDP_BINARY=$CONTEXT_BIN" \
  -t mock-idp:arm64 "$REPO_ROOT" >"$WORK/build.log" 2>&1 ||
  { tail -n 20 "$WORK/build.log" >&2; fail "docker build --platform linux/arm64 failed"; }
meta="$(docker image inspect -f '{{.Os}}/{{.Architecture}} {{.Config.User}} {{json .Config.Entrypoint}}' mock-idp:arm64)"
[ "$meta" = 'linux/arm64 65532:65532 ["/mock-idp"]' ] || fail "arm64 image: $meta"
cid="$(docker create --platform linux/arm64 mock-idp:arm64)"
docker cp "$cid:/mock-idp" "$WORK/image-mock-idp" >/dev/null
docker rm "$cid" >/dev/null
cmp -s "$WORK/image-mock-idp" "$ARM_BIN" || fail "/mock-idp in the arm64 image is not the built arm64 binary"
pass "arm64 image builds without pulling ($((SECONDS - t0)) s): linux/arm64, user 65532, /mock-idp = the arm64 binary"
SUMMARY+=("arm64 image: $(docker image inspect -f '{{.Size}}' mock-idp:arm64) bytes")

# ---------------------------------------------------------------- 5. deploy.sh: usage, dry run
log "deploy.sh: usage and --dry-run"
set +e
bash "$DEPLOY" >"$WORK/out" 2>"$WORK/err"; rc=$?
set -e
[ "$rc" = 2 ] || fail "deploy.sh without HOST exited $rc, want 2"
[ ! -s "$WORK/out" ] || fail "deploy.sh without HOST wrote to stdout"
grep -q '^Usage: .*deploy.sh .*HOST' "$WORK/err" || fail "deploy.sh without HOST: no usage on stderr"
for args in "--bogus pi" "pi1 pi2" "--env-file"; do
  set +e
  # shellcheck disable=SC2086 # word splitting intended
  bash "$DEPLOY" --dry-run $args >/dev/null 2>&1; rc=$?
  set -e
  [ "$rc" = 2 ] || fail "deploy.sh --dry-run $args exited $rc, want 2"
done
set +e
HEALTH_TIMEOUT=1m bash "$DEPLOY" --dry-run pi >/dev/null 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || fail "HEALTH_TIMEOUT=1m exited $rc, want 2"
pass "deploy.sh: no HOST -> usage on stderr, exit 2 (also an unknown option, two hosts, --env-file without a file, HEALTH_TIMEOUT=1m)"

# Dry runs on a checkout where nothing is built: they must print, not build.
EMPTY_TARGET="$WORK/empty-target"
mkdir -p "$EMPTY_TARGET"
printf 'HOST=0.0.0.0\n' >"$WORK/pi.env"
t0=$SECONDS
env -u MOCK_IDP_BIN CARGO_TARGET_DIR="$EMPTY_TARGET" PI_USER=alice SSH_PORT=2222 \
  bash "$DEPLOY" --dry-run --env-file "$WORK/pi.env" pi4.example >"$WORK/dry" 2>"$WORK/dry.err" ||
  { cat "$WORK/dry.err" >&2; fail "deploy.sh --dry-run exited non-zero"; }
[ -z "$(ls -A "$EMPTY_TARGET")" ] || fail "deploy.sh --dry-run wrote into CARGO_TARGET_DIR: $(ls -A "$EMPTY_TARGET")"
[ $((SECONDS - t0)) -le 10 ] || fail "deploy.sh --dry-run took $((SECONDS - t0)) s"
sed 's/^/    | /' "$WORK/dry" >&2
expect_line() { # expect_line FILE REGEX WHAT
  grep -Eq -- "$2" "$1" || fail "dry run lacks $3 (/$2/)"
}
A64="$EMPTY_TARGET/aarch64-unknown-linux-musl/release/mock-idp"
expect_line "$WORK/dry" "^bash [^ ]*/scripts/build-arm64\.sh$" "the build command"
expect_line "$WORK/dry" "^ssh .*-p 2222 .*alice@pi4\.example 'uname -m'" "the CPU check"
expect_line "$WORK/dry" "^scp .*-P 2222 .*$A64 [^ ]*/deploy/systemd/mock-idp\.service alice@pi4\.example:" "scp of the binary and the unit"
expect_line "$WORK/dry" "^scp .*$WORK/pi\.env alice@pi4\.example:.*mock-idp\.env$" "scp of the env file"
expect_line "$WORK/dry" "^ssh .*-p 2222 .*alice@pi4\.example '.*sudo install -D -m 0755 [^ ]*/mock-idp /usr/local/bin/mock-idp" "the binary install with sudo"
expect_line "$WORK/dry" "sudo install -D -m 0644 [^ ]*mock-idp\.service /etc/systemd/system/mock-idp\.service" "the unit install"
expect_line "$WORK/dry" "sudo install -D -m 0644 [^ ]*mock-idp\.env /etc/default/mock-idp" "the env file install"
expect_line "$WORK/dry" "alice@pi4\.example 'sudo systemctl daemon-reload && sudo systemctl enable mock-idp\.service && sudo systemctl restart mock-idp\.service'" "systemctl daemon-reload/enable/restart"
expect_line "$WORK/dry" "alice@pi4\.example '.*/usr/local/bin/mock-idp healthcheck'.*at most 60 s" "the bounded health check"
pass "deploy.sh --dry-run: build, CPU check, scp, sudo install, systemctl, healthcheck for alice@pi4.example:2222; nothing built"

env -u MOCK_IDP_BIN CARGO_TARGET_DIR="$EMPTY_TARGET" bash "$DEPLOY" --dry-run --docker raspberrypi.local >"$WORK/dry" 2>"$WORK/dry.err" ||
  { cat "$WORK/dry.err" >&2; fail "deploy.sh --dry-run --docker exited non-zero"; }
[ -z "$(ls -A "$EMPTY_TARGET")" ] || fail "deploy.sh --dry-run --docker wrote into CARGO_TARGET_DIR"
sed 's/^/    | /' "$WORK/dry" >&2
expect_line "$WORK/dry" "^bash [^ ]*/scripts/build-arm64\.sh$" "the build command"
expect_line "$WORK/dry" "docker build --platform linux/arm64 .*--target host-binary .*-t mock-idp:arm64" "the arm64 image build"
expect_line "$WORK/dry" "^docker save mock-idp:arm64 \| ssh .*pi@raspberrypi\.local 'sudo docker load'$" "docker save | ssh docker load (default user pi)"
expect_line "$WORK/dry" "pi@raspberrypi\.local '.*sudo docker run -d --name mock-idp --restart unless-stopped .*-v mock-idp-keys:/keys .*mock-idp:arm64'" "docker run with restart policy and keys volume"
expect_line "$WORK/dry" "pi@raspberrypi\.local 'sudo docker exec mock-idp /mock-idp healthcheck'" "the health check in the container"
pass "deploy.sh --dry-run --docker: build, docker save | ssh docker load, docker run --restart unless-stopped -v mock-idp-keys:/keys, healthcheck (user pi)"

# ---------------------------------------------------------------- 6. deploy.sh over ssh
log "deploy.sh for real: sshd on 127.0.0.1"
SSHD_DIR="$WORK/ssh"
mkdir -p "$SSHD_DIR"
chmod 700 "$SSHD_DIR"
ssh-keygen -q -t ed25519 -N '' -C mock-idp-ci-host -f "$SSHD_DIR/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C mock-idp-ci-client -f "$SSHD_DIR/id_ed25519"
cp "$SSHD_DIR/id_ed25519.pub" "$SSHD_DIR/authorized_keys"
SSH_PORT="$(free_port)"
ME="$(id -un)"
cat >"$SSHD_DIR/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/host_ed25519
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
AllowUsers $ME
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
Subsystem sftp internal-sftp
EOF
[ -d /run/sshd ] || install -d -m 0755 /run/sshd # sshd's privilege separation directory
"$(command -v sshd || echo /usr/sbin/sshd)" -D -e -f "$SSHD_DIR/sshd_config" >"$SSHD_DIR/sshd.log" 2>&1 &
PIDS+=($!)
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$SSHD_DIR/host_ed25519.pub")" >"$SSHD_DIR/known_hosts"
SSH_OPTS="-F /dev/null -i $SSHD_DIR/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$SSHD_DIR/known_hosts -o StrictHostKeyChecking=yes -o LogLevel=ERROR"
export SSH_OPTS SSH_PORT
for ((i = 0; ; i++)); do
  # shellcheck disable=SC2086 # SSH_OPTS is a word list
  if ssh -p "$SSH_PORT" $SSH_OPTS "$ME@127.0.0.1" true 2>/dev/null; then break; fi
  kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$SSHD_DIR/sshd.log" >&2; fail "sshd exited"; }
  [ "$i" -lt 100 ] || { cat "$SSHD_DIR/sshd.log" >&2; fail "no ssh login to 127.0.0.1:$SSH_PORT within 10 s"; }
  sleep 0.1
done
pass "sshd on 127.0.0.1:$SSH_PORT: key login as $ME, host key checked"

# The remote side: an install root instead of /, and a systemctl test double.
RROOT="$WORK/remote-root"
STATE="$WORK/state"
mkdir -p "$RROOT" "$STATE" "$WORK/bin"
cat >"$WORK/bin/systemctl" <<EOF
#!/bin/sh
# Test double for systemctl on the "Pi" (this host, see scripts/ci/smallhost.sh):
# logs each call; "restart mock-idp.service" stops the previous process and
# runs the installed unit's ExecStart with its Environment= lines (%S = the
# state directory root) and then its EnvironmentFile, as systemd would,
# without systemd's sandbox.
set -eu
ROOT='$RROOT'
STATE='$STATE'
echo "\$*" >>"\$STATE/systemctl.log"
case "\$*" in
  daemon-reload | "enable mock-idp.service") exit 0 ;;
  "restart mock-idp.service") ;;
  *) echo "systemctl test double: unexpected call: \$*" >&2; exit 1 ;;
esac
if [ -f "\$STATE/mock-idp.pid" ]; then
  pid=\$(cat "\$STATE/mock-idp.pid"); kill "\$pid" 2>/dev/null || true
  i=0; while kill -0 "\$pid" 2>/dev/null && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
  rm -f "\$STATE/mock-idp.pid"
fi
unit="\$ROOT/etc/systemd/system/mock-idp.service"
exec_start=\$(sed -n 's/^ExecStart=//p' "\$unit")
env_file=\$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "\$unit")
state_dir=\$(sed -n 's/^StateDirectory=//p' "\$unit")
mkdir -p "\$ROOT/var/lib/\$state_dir"
sed -n 's/^Environment=//p' "\$unit" | sed "s|%S|\$ROOT/var/lib|g" >"\$STATE/unit.env"
setsid sh -c 'set -a; . "\$1"; if [ -r "\$2" ]; then . "\$2"; fi; set +a; echo \$\$ >"\$3"; exec "\$4"' \\
  sh "\$STATE/unit.env" "\$ROOT\$env_file" "\$STATE/mock-idp.pid" "\$ROOT\$exec_start" \\
  </dev/null >"\$STATE/mock-idp.log" 2>&1 &
i=0; while [ ! -s "\$STATE/mock-idp.pid" ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i + 1)); done
EOF
chmod 0755 "$WORK/bin/systemctl"

SVC_PORT="$(free_port)"
SVC_BASE="http://127.0.0.1:$SVC_PORT"
printf '# deployed by scripts/ci/smallhost.sh\nPORT=%s\nISSUER=http://pi.test\nUSERS_FILE=%s\n' \
  "$SVC_PORT" "$REPO_ROOT/examples/users.yaml" >"$WORK/deploy.env"
export REMOTE_SUDO="" REMOTE_SYSTEMCTL="$WORK/bin/systemctl" REMOTE_ROOT="$RROOT" REMOTE_STAGING="$WORK/staging" \
  MOCK_IDP_BIN="$X86_BIN" PI_USER="$ME" HEALTH_TIMEOUT=30
t0=$SECONDS
bash "$DEPLOY" --env-file "$WORK/deploy.env" 127.0.0.1 >"$WORK/deploy.out" 2>"$WORK/deploy.err" ||
  { cat "$WORK/deploy.err" >&2; tail -n 20 "$STATE/mock-idp.log" >&2 2>/dev/null; fail "deploy.sh over ssh exited non-zero"; }
sed 's/^/    | /' "$WORK/deploy.err" >&2
grep -q "healthy on 127.0.0.1" "$WORK/deploy.err" || fail "deploy.sh did not report the health check"
pass "deploy.sh 127.0.0.1 over ssh: exit 0 after a passing 'mock-idp healthcheck' over ssh ($((SECONDS - t0)) s)"
cmp -s "$X86_BIN" "$RROOT/usr/local/bin/mock-idp" || fail "the installed binary differs from MOCK_IDP_BIN"
cmp -s "$UNIT" "$RROOT/etc/systemd/system/mock-idp.service" || fail "the installed unit differs"
cmp -s "$WORK/deploy.env" "$RROOT/etc/default/mock-idp" || fail "the installed env file differs"
modes="$(stat -c '%a' "$RROOT/usr/local/bin/mock-idp" "$RROOT/etc/systemd/system/mock-idp.service" "$RROOT/etc/default/mock-idp" | tr '\n' ' ')"
[ "$modes" = "755 644 644 " ] || fail "installed modes: $modes, want 755 644 644"
[ ! -e "$WORK/staging" ] || fail "the staging directory was left behind: $(ls -A "$WORK/staging")"
calls="$(tr '\n' ';' <"$STATE/systemctl.log")"
[ "$calls" = "daemon-reload;enable mock-idp.service;restart mock-idp.service;" ] || fail "systemctl calls: $calls"
pass "installed: binary (755), unit and /etc/default/mock-idp (644) byte for byte; staging removed; systemctl daemon-reload, enable, restart"
TOKEN="$(mint "$SVC_BASE" '{"user":"alice"}')"
kid1="$(verify_token "$SVC_BASE" "$TOKEN" user_alice http://pi.test)" || fail "the deployed service's token does not verify"
[ -f "$RROOT/var/lib/mock-idp/private.pem" ] || fail "no key in the unit's state directory (PERSIST_KEYS_DIR=%S/mock-idp)"
pass "the deployed service (PORT/ISSUER/USERS_FILE from the env file) mints alice's token; PyJWT verifies it; key in %S/mock-idp"

set +e
MOCK_IDP_BIN="$ARM_BIN" bash "$DEPLOY" 127.0.0.1 >/dev/null 2>"$WORK/deploy.err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "deploying the aarch64 binary to this x86-64 host exited $rc, want 1"
grep -q "127.0.0.1 runs on x86_64, but .* is an aarch64 binary" "$WORK/deploy.err" ||
  fail "no CPU mismatch message: $(tail -n 2 "$WORK/deploy.err")"
cmp -s "$X86_BIN" "$RROOT/usr/local/bin/mock-idp" || fail "the refused deploy still replaced the installed binary"
pass "the aarch64 binary to an x86_64 host: refused before copying (uname -m over ssh), exit 1"

pid1="$(cat "$STATE/mock-idp.pid")"
: >"$STATE/systemctl.log"
bash "$DEPLOY" --env-file "$WORK/deploy.env" 127.0.0.1 >/dev/null 2>"$WORK/deploy.err" ||
  { cat "$WORK/deploy.err" >&2; fail "the second deploy.sh exited non-zero"; }
pid2="$(cat "$STATE/mock-idp.pid")"
[ "$pid1" != "$pid2" ] || fail "re-deploy: the service was not restarted (same PID $pid1)"
! kill -0 "$pid1" 2>/dev/null || fail "re-deploy: the old process ($pid1) still runs"
kid2="$(verify_token "$SVC_BASE" "$TOKEN" user_alice http://pi.test)" || fail "after a re-deploy the earlier token no longer verifies"
[ "$kid1" = "$kid2" ] || fail "re-deploy changed the kid: $kid1 -> $kid2"
pass "re-deploy: the service is restarted (new process), same kid, an earlier token still verifies"

stop_pid "$pid2"
rm -f "$STATE/mock-idp.pid"
t0=$SECONDS
set +e
REMOTE_SYSTEMCTL=true HEALTH_TIMEOUT=3 bash "$DEPLOY" 127.0.0.1 >/dev/null 2>"$WORK/deploy.err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "deploy.sh with a service that never starts exited $rc, want 1"
grep -q "did not pass its health check within 3s" "$WORK/deploy.err" || fail "no health-check failure message: $(tail -n 3 "$WORK/deploy.err")"
[ $((SECONDS - t0)) -le 20 ] || fail "the failing health-check wait took $((SECONDS - t0)) s for HEALTH_TIMEOUT=3"
pass "a service that never becomes healthy: deploy.sh exits 1 after HEALTH_TIMEOUT=3 ($((SECONDS - t0)) s)"

# ---------------------------------------------------------------- 7. deploy.sh --docker over ssh
log "deploy.sh --docker for real (amd64 image, the \"Pi\" is this host)"
STATIC_BIN="${MOCK_IDP_STATIC_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/x86_64-unknown-linux-musl/release/mock-idp}"
if [ -x "$STATIC_BIN" ] && file -bL "$STATIC_BIN" | grep -q 'x86-64.*stati'; then
  DPORT="$(free_port)"
  printf 'HOST=127.0.0.1\nPORT=%s\nISSUER=http://pi-docker.test\n' "$DPORT" >"$WORK/docker.env"
  t0=$SECONDS
  MOCK_IDP_BIN="$STATIC_BIN" MOCK_IDP_PLATFORM=linux/amd64 MOCK_IDP_IMAGE=mock-idp:ci-deploy \
    MOCK_IDP_PUBLISH="" MOCK_IDP_DOCKER_ARGS="--network host" LOCAL_DOCKER="$DOCKER_CLI" \
    REMOTE_DOCKER="$DOCKER_CLI -H $DOCKER_HOST" \
    bash "$DEPLOY" --docker --env-file "$WORK/docker.env" 127.0.0.1 >/dev/null 2>"$WORK/deploy.err" ||
    { cat "$WORK/deploy.err" >&2; docker logs mock-idp 2>&1 | tail -n 20 >&2; fail "deploy.sh --docker over ssh exited non-zero"; }
  sed 's/^/    | /' "$WORK/deploy.err" >&2
  grep -Eq '^\+ .* save mock-idp:ci-deploy \| ssh .* load' "$WORK/deploy.err" || fail "no docker save | ssh docker load"
  [ "$(docker inspect -f '{{.HostConfig.RestartPolicy.Name}} {{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}' mock-idp)" = \
    "unless-stopped mock-idp-keys:/keys" ] || fail "container: restart policy or keys volume wrong"
  TOKEN="$(mint "http://127.0.0.1:$DPORT" '{"sub":"user_docker"}')"
  verify_token "http://127.0.0.1:$DPORT" "$TOKEN" user_docker http://pi-docker.test >/dev/null ||
    fail "the deployed container's token does not verify"
  [ ! -e "$WORK/staging" ] || fail "--docker left the staging directory behind"
  pass "deploy.sh --docker over ssh: image loaded via ssh, container mock-idp (unless-stopped, mock-idp-keys:/keys) healthy, token verifies ($((SECONDS - t0)) s)"
else
  skip "deploy.sh --docker over ssh: no static x86-64 binary at $STATIC_BIN (the container stage builds it; or set MOCK_IDP_STATIC_BIN)"
fi
