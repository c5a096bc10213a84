#!/usr/bin/env bash
# Deploy mock-idp to a Raspberry Pi (or any 64-bit ARM Linux host) over ssh,
# as a systemd service (default) or as a container (--docker).
# DEV / TEST ONLY: whoever reaches the port can mint tokens.
# Docs: docs/small-hosts.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/raspberry-pi/deploy.sh [--dry-run] [--docker] [--env-file FILE] HOST

Deploys mock-idp to HOST over ssh as PI_USER (default: pi; HOST may also be
user@host) and waits until `mock-idp healthcheck` passes there.

  default      builds the arm64 binary (scripts/build-arm64.sh) unless
               MOCK_IDP_BIN is set, copies it and deploy/systemd/mock-idp.service
               over scp, installs them with sudo to /usr/local/bin/mock-idp and
               /etc/systemd/system/, then systemctl daemon-reload, enable, restart
  --docker     builds the arm64 image (Dockerfile.dev, target host-binary) from
               that binary, streams it with `docker save | ssh docker load`, and
               runs it with `docker run -d --restart unless-stopped` and the
               named volume mock-idp-keys for the signing key
  --env-file F settings (KEY=value lines, e.g. HOST=0.0.0.0, ISSUER=...):
               installed as /etc/default/mock-idp, or given to docker run
               --env-file; without it an existing /etc/default/mock-idp stays
  --dry-run    prints every command, runs none (builds nothing)
  -h, --help   this text

Environment:
  PI_USER            ssh user when HOST has none (default: pi)
  SSH_PORT           ssh port (default: 22)
  SSH_OPTS           extra options for ssh and scp, space-separated
                     (e.g. "-i ~/.ssh/pi_ed25519 -o StrictHostKeyChecking=accept-new")
  MOCK_IDP_BIN       deploy this binary instead of building one
  MOCK_IDP_IMAGE     image tag for --docker (default: mock-idp:arm64)
  MOCK_IDP_PLATFORM  image platform for --docker (default: linux/arm64)
  MOCK_IDP_PUBLISH   docker run -p value (default: 127.0.0.1:8081:8081;
                     8081:8081 makes it reachable from the LAN; "" for no -p)
  MOCK_IDP_DOCKER_ARGS  more docker run arguments, space-separated (e.g.
                     "-v /home/pi/users.yaml:/config/users.yaml:ro")
  LOCAL_DOCKER       docker client for the build and `docker save`; the build
                     runs with DOCKER_BUILDKIT=1 (default: docker)
  HEALTH_TIMEOUT     seconds to wait for the health check (default: 60)
  Remote side (defaults suit Raspberry Pi OS; tests point them elsewhere):
  REMOTE_SUDO        prefix for privileged commands (default: sudo; "" for none)
  REMOTE_SYSTEMCTL   systemctl command (default: systemctl)
  REMOTE_DOCKER      docker command, run after REMOTE_SUDO (default: docker)
  REMOTE_ROOT        prefix of the install paths, like DESTDIR (default: none)
  REMOTE_STAGING     upload directory, relative to the remote home unless
                     absolute; removed after the install (default: .mock-idp-deploy)

Exit status: 0 deployed and healthy, 1 a step failed, 2 usage error.
EOF
}

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
UNIT_FILE="$REPO_ROOT/deploy/systemd/mock-idp.service"

DRY_RUN=0
DOCKER=0
ENV_FILE=""
HOST=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --docker) DOCKER=1 ;;
    --env-file)
      [ $# -ge 2 ] || { echo "deploy.sh: --env-file needs a FILE" >&2; usage >&2; exit 2; }
      ENV_FILE="$2"; shift ;;
    --env-file=*) ENV_FILE="${1#--env-file=}" ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "deploy.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *)
      [ -z "$HOST" ] || { echo "deploy.sh: one HOST only (got '$HOST' and '$1')" >&2; usage >&2; exit 2; }
      HOST="$1" ;;
  esac
  shift
done
[ -n "$HOST" ] || { echo "deploy.sh: HOST is missing" >&2; usage >&2; exit 2; }
if [ -n "$ENV_FILE" ] && [ ! -f "$ENV_FILE" ]; then
  echo "deploy.sh: --env-file '$ENV_FILE' is not a file" >&2; exit 2
fi

case "$HOST" in
  *@*) DEST="$HOST" ;;
  *) DEST="${PI_USER:-pi}@$HOST" ;;
esac
SSH_PORT="${SSH_PORT:-22}"
read -r -a SSH_EXTRA <<<"${SSH_OPTS:-}"
IMAGE="${MOCK_IDP_IMAGE:-mock-idp:arm64}"
PLATFORM="${MOCK_IDP_PLATFORM:-linux/arm64}"
PUBLISH="${MOCK_IDP_PUBLISH-127.0.0.1:8081:8081}"
read -r -a DOCKER_ARGS <<<"${MOCK_IDP_DOCKER_ARGS:-}"
LOCAL_DOCKER="${LOCAL_DOCKER:-docker}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-60}"
for n in SSH_PORT HEALTH_TIMEOUT; do
  case "${!n}" in
    "" | *[!0-9]*) echo "deploy.sh: $n must be a whole number, not '${!n}'" >&2; exit 2 ;;
  esac
done
R_SUDO="${REMOTE_SUDO-sudo}"
R_SYSTEMCTL="${REMOTE_SYSTEMCTL:-systemctl}"
R_DOCKER="${REMOTE_DOCKER:-docker}"
R_ROOT="${REMOTE_ROOT:-}"
R_STAGING="${REMOTE_STAGING:-.mock-idp-deploy}"
R_BIN="$R_ROOT/usr/local/bin/mock-idp"
R_UNIT="$R_ROOT/etc/systemd/system/mock-idp.service"
R_ENV="$R_ROOT/etc/default/mock-idp"
CONTAINER=mock-idp

# q WORD...: the words quoted for a POSIX shell, plain where that is safe.
q() {
  local out="" w
  for w in "$@"; do
    case "$w" in
      "" | *[!A-Za-z0-9_@%+=:,./-]*) w="'${w//\'/\'\\\'\'}'" ;;
    esac
    out="${out:+$out }$w"
  done
  printf '%s' "$out"
}
# sudo_ CMD: CMD behind REMOTE_SUDO (which may be empty).
sudo_() { printf '%s' "${R_SUDO:+$R_SUDO }$*"; }

# run CMD...: print the command (stdout in a dry run, stderr otherwise), then
# run it unless this is a dry run.
run() {
  if [ "$DRY_RUN" = 1 ]; then printf '%s\n' "$(q "$@")"; return 0; fi
  printf '+ %s\n' "$(q "$@")" >&2
  "$@"
}
SSH=(ssh -p "$SSH_PORT" "${SSH_EXTRA[@]}" -o ConnectTimeout=10 "$DEST")
SCP=(scp -q -P "$SSH_PORT" "${SSH_EXTRA[@]}" -o ConnectTimeout=10)
# remote SHELL-COMMAND: run it on HOST through ssh.
# (stdin: /dev/null, so a caller's `while read host` list is not eaten)
remote() { run "${SSH[@]}" "$1" </dev/null; }

note() { printf 'deploy.sh: %s\n' "$*" >&2; }
fail() { printf 'deploy.sh: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- the binary
if [ -n "${MOCK_IDP_BIN:-}" ]; then
  BIN="$MOCK_IDP_BIN"
  [ "$DRY_RUN" = 1 ] || [ -x "$BIN" ] || fail "MOCK_IDP_BIN=$BIN is not an executable file"
elif [ "$DRY_RUN" = 1 ]; then
  run bash "$REPO_ROOT/scripts/build-arm64.sh"
  BIN="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/aarch64-unknown-linux-musl/release/mock-idp"
else
  printf '+ %s\n' "$(q bash "$REPO_ROOT/scripts/build-arm64.sh")" >&2
  BIN="$(bash "$REPO_ROOT/scripts/build-arm64.sh" | tail -n 1)"
  [ -x "$BIN" ] || fail "scripts/build-arm64.sh did not produce a binary"
fi
# bin_arch FILE: FILE's CPU as `uname -m` names it (aarch64, x86_64), or
# nothing when `file` is missing or the CPU is another one.
bin_arch() {
  command -v file >/dev/null || return 0
  case "$(file -bL "$1")" in
    *"ARM aarch64"*) echo aarch64 ;;
    *x86-64*) echo x86_64 ;;
  esac
}
B_ARCH=""
[ "$DRY_RUN" = 1 ] || B_ARCH="$(bin_arch "$BIN")"

# wait_healthy SHELL-COMMAND: run it on HOST until it exits 0 (bounded).
wait_healthy() {
  local cmd="$1" deadline=$((SECONDS + HEALTH_TIMEOUT)) tries=0
  if [ "$DRY_RUN" = 1 ]; then
    printf '%s   # repeated until it exits 0, at most %s s\n' "$(q "${SSH[@]}" "$cmd")" "$HEALTH_TIMEOUT"
    return 0
  fi
  printf '+ %s   # until it exits 0, at most %s s\n' "$(q "${SSH[@]}" "$cmd")" "$HEALTH_TIMEOUT" >&2
  while :; do
    tries=$((tries + 1))
    if "${SSH[@]}" "$cmd" </dev/null >/dev/null 2>&1; then
      note "healthy on $HOST after $tries check(s)"
      return 0
    fi
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 1
  done
  fail "mock-idp on $HOST did not pass its health check within ${HEALTH_TIMEOUT}s ($tries tries); look at: ${SSH[*]} $1"
}

if [ "$DOCKER" = 0 ]; then
  # ------------------------------------------------------------ systemd
  [ -f "$UNIT_FILE" ] || fail "$UNIT_FILE is missing"
  # The binary must suit the host's CPU (a static aarch64 binary also runs on
  # a 64-bit kernel with a 32-bit userland: uname -m says aarch64 there too).
  if [ "$DRY_RUN" = 1 ]; then
    printf "%s   # must match the binary's CPU\n" "$(q "${SSH[@]}" "uname -m")"
  else
    printf '+ %s\n' "$(q "${SSH[@]}" "uname -m")" >&2
    R_ARCH="$("${SSH[@]}" "uname -m" </dev/null)" || fail "cannot run a command on $DEST over ssh (port $SSH_PORT)"
    if [ -n "$B_ARCH" ] && [ "$R_ARCH" != "$B_ARCH" ]; then
      fail "$HOST runs on $R_ARCH, but $BIN is an $B_ARCH binary (64-bit ARM needs a 64-bit kernel; MOCK_IDP_BIN picks another binary)"
    fi
  fi
  remote "$(q mkdir -p "$R_STAGING")"
  run "${SCP[@]}" "$BIN" "$UNIT_FILE" "$DEST:$R_STAGING/"
  [ -z "$ENV_FILE" ] || run "${SCP[@]}" "$ENV_FILE" "$DEST:$R_STAGING/mock-idp.env"
  install_cmd="$(sudo_ "$(q install -D -m 0755 "$R_STAGING/mock-idp" "$R_BIN")")"
  install_cmd+=" && $(sudo_ "$(q install -D -m 0644 "$R_STAGING/mock-idp.service" "$R_UNIT")")"
  if [ -n "$ENV_FILE" ]; then
    install_cmd+=" && $(sudo_ "$(q install -D -m 0644 "$R_STAGING/mock-idp.env" "$R_ENV")")"
  fi
  install_cmd+=" && $(q rm -rf "$R_STAGING")"
  remote "$install_cmd"
  # restart, not enable --now: on a re-deploy the running old binary must go.
  remote "$(sudo_ "$R_SYSTEMCTL daemon-reload") && $(sudo_ "$R_SYSTEMCTL enable mock-idp.service") && $(sudo_ "$R_SYSTEMCTL restart mock-idp.service")"
  # The health check reads HOST/PORT like the service: from the same file
  # (installed world-readable; it needs no root).
  wait_healthy "set -a; if [ -r $(q "$R_ENV") ]; then . $(q "$R_ENV"); fi; set +a; exec $(q "$R_BIN") healthcheck"
  [ "$DRY_RUN" = 1 ] || note "done: mock-idp runs as the systemd service mock-idp on $HOST (logs: journalctl -u mock-idp)"
else
  # ------------------------------------------------------------ docker
  case "$PLATFORM:$B_ARCH" in
    *:"" | linux/arm64*:aarch64 | linux/amd64:x86_64) ;;
    *) fail "$BIN is an $B_ARCH binary, not one for the image platform $PLATFORM (MOCK_IDP_PLATFORM)" ;;
  esac
  # The binary must be inside the build context, on a path .dockerignore lets through.
  rel=""
  if [ -e "$BIN" ] || [ "$DRY_RUN" = 1 ]; then
    abs="$(realpath -m "$BIN")"
    case "${abs#"$(realpath -m "$REPO_ROOT")"/}" in
      target/aarch64-unknown-linux-musl/release/mock-idp | target/x86_64-unknown-linux-musl/release/mock-idp | \
        target/x86_64-unknown-linux-gnu/release/mock-idp | target/container/mock-idp)
        rel="${abs#"$(realpath -m "$REPO_ROOT")"/}" ;;
    esac
  fi
  if [ -z "$rel" ]; then
    rel=target/container/mock-idp
    run mkdir -p "$REPO_ROOT/target/container"
    run cp "$BIN" "$REPO_ROOT/$rel"
  fi
  # BuildKit: the classic builder cannot build FROM scratch for another
  # platform ("does not match the specified platform").
  run env DOCKER_BUILDKIT=1 "$LOCAL_DOCKER" build --platform "$PLATFORM" -f "$REPO_ROOT/Dockerfile.dev" --target host-binary \
    --build-arg "MOCK_IDP_BINARY=$rel" -t "$IMAGE" "$REPO_ROOT"
  load_cmd="$(sudo_ "$R_DOCKER load")"
  if [ "$DRY_RUN" = 1 ]; then
    printf '%s | %s\n' "$(q "$LOCAL_DOCKER" save "$IMAGE")" "$(q "${SSH[@]}" "$load_cmd")"
  else
    printf '+ %s | %s\n' "$(q "$LOCAL_DOCKER" save "$IMAGE")" "$(q "${SSH[@]}" "$load_cmd")" >&2
    "$LOCAL_DOCKER" save "$IMAGE" | "${SSH[@]}" "$load_cmd" >&2
  fi
  env_args=()
  if [ -n "$ENV_FILE" ]; then
    remote "$(q mkdir -p "$R_STAGING")"
    run "${SCP[@]}" "$ENV_FILE" "$DEST:$R_STAGING/mock-idp.env"
    env_args=(--env-file "$R_STAGING/mock-idp.env")
  fi
  run_args=(-d --name "$CONTAINER" --restart unless-stopped)
  [ -z "$PUBLISH" ] || run_args+=(-p "$PUBLISH")
  run_args+=(-e PERSIST_KEYS_DIR=/keys -v mock-idp-keys:/keys "${env_args[@]}" "${DOCKER_ARGS[@]}" "$IMAGE")
  run_cmd="$(sudo_ "$R_DOCKER rm -f $CONTAINER") >/dev/null 2>&1; $(sudo_ "$R_DOCKER run $(q "${run_args[@]}")")"
  [ -z "$ENV_FILE" ] || run_cmd+="; rc=\$?; $(q rm -rf "$R_STAGING"); exit \$rc"
  remote "$run_cmd"
  wait_healthy "$(sudo_ "$R_DOCKER exec $CONTAINER /mock-idp healthcheck")"
  [ "$DRY_RUN" = 1 ] || note "done: mock-idp runs as the container $CONTAINER on $HOST (logs: docker logs $CONTAINER)"
fi
