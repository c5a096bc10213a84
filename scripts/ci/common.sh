# shellcheck shell=bash
# Shared helpers for the CI stage scripts in scripts/ci/. Source it, don't run it.
#
# Every stage installs what it needs through these functions, so a stage can be
# run on its own on a fresh machine (Debian, root or passwordless sudo, only the
# package registries reachable) and is quick when everything is already there.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

# Colour only on a terminal: CI logs in files stay readable.
if [ -t 2 ]; then
  log() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
else
  log() { printf '\n==> %s\n' "$*" >&2; }
fi
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# apt_install PKG...: install the Debian packages that are not installed yet.
# Runs `apt-get update` at most once per machine boot.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  # One apt at a time across the parallel lanes of scripts/test.sh.
  exec {apt_lock}>/tmp/.mock-idp-apt.lock
  flock "$apt_lock"
  if [ ! -e /tmp/.mock-idp-apt-updated ]; then
    log "apt-get update"
    $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq && touch /tmp/.mock-idp-apt-updated
  fi
  log "apt-get install ${missing[*]}"
  # Another apt (unattended-upgrades, a parallel stage) may hold the dpkg
  # lock: wait for it up to 5 minutes instead of failing.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
  local rc=$?
  flock -u "$apt_lock"
  exec {apt_lock}>&-
  return "$rc"
}

# The test suite's own Python: a venv under target/, never the global
# interpreter. `ci_python` prints its python3 path, creating it when missing.
CI_VENV="${CI_VENV:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/ci-venv}"
export CI_VENV
ci_python() {
  if [ ! -x "$CI_VENV/bin/python3" ]; then
    mkdir -p "$(dirname "$CI_VENV")"
    python3 -m venv "$CI_VENV" 2>/dev/null || {
      apt_install python3-venv
      python3 -m venv "$CI_VENV"
    }
  fi
  echo "$CI_VENV/bin/python3"
}

# pip_install PKG...: install PyPI packages into the suite's venv (quietly);
# run them with "$(ci_python)".
pip_install() {
  local py; py="$(ci_python)"
  # One pip at a time in the shared venv (parallel lanes of scripts/test.sh).
  (
    flock 9
    "$py" -m pip install -q --disable-pip-version-check "$@"
  ) 9>"$CI_VENV.lock"
}

# free_port: a free TCP port on 127.0.0.1 (bound, read, released).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_mock_idp OUTFILE [ARGS...]: start the release binary on a free port
# (unless PORT is set in the environment) with ARGS, stdout and stderr in
# OUTFILE; sets MOCK_IDP_PID and MOCK_IDP_URL once its startup line is there.
start_mock_idp() {
  local out="$1"; shift
  local bin; bin="$(release_binary)"
  PORT="${PORT:-0}" "$bin" "$@" >"$out" 2>&1 &
  MOCK_IDP_PID=$!
  local i
  for i in $(seq 200); do
    grep -q "listening on" "$out" && break
    kill -0 "$MOCK_IDP_PID" 2>/dev/null || break
    sleep 0.05
  done
  MOCK_IDP_URL="$(sed -n 's/^mock-idp listening on \(http[^ ]*\).*/\1/p' "$out" | head -1)"
  [ -n "$MOCK_IDP_URL" ] || { cat "$out" >&2; die "mock-idp did not start"; }
  export MOCK_IDP_PID MOCK_IDP_URL
}

# stop_pid PID: SIGTERM, up to 10 s to exit, then SIGKILL (only the PID given:
# a process this script started; an empty PID is a no-op).
stop_pid() {
  local pid="$1" i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# release_binary: print the path of the release binary, building it if needed.
# MOCK_IDP_BIN overrides it (e.g. a binary built from another checkout).
release_binary() {
  if [ -n "${MOCK_IDP_BIN:-}" ]; then echo "$MOCK_IDP_BIN"; return 0; fi
  (cd "$REPO_ROOT" && cargo build --release --locked --quiet --bin mock-idp) >&2
  echo "${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/mock-idp"
}

# wait_http URL [TIMEOUT_S]: poll until URL answers 200 (bounded).
wait_http() {
  local url="$1" timeout="${2:-20}" i=0
  while [ "$i" -lt $((timeout * 10)) ]; do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.1; i=$((i + 1))
  done
  die "$url did not answer within ${timeout}s"
}
