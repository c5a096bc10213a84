# shellcheck shell=bash
# Shared helpers for the CI stage scripts in scripts/ci/. Source it, don't run it.
#
# Every stage installs what it needs through these functions, so a stage can be
# run on its own on a fresh machine (Debian, root or passwordless sudo, only the
# package registries reachable) and is quick when everything is already there.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

log() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
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
  if [ ! -e /tmp/.mock-idp-apt-updated ]; then
    log "apt-get update"
    $SUDO apt-get update -qq && touch /tmp/.mock-idp-apt-updated
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# pip_install PKG...: install PyPI packages for the current python3 (quietly).
pip_install() {
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "$@"
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
