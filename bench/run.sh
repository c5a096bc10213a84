#!/usr/bin/env bash
# bench/run.sh: mock-idp vs oauth2-mock-server, one command.
#
#   bash bench/run.sh               full run: 3 rounds, 5 s loads, 11 starts each
#   bash bench/run.sh --rounds 5    more rounds
#   bash bench/run.sh --smoke       CI check: 1 round, 1 s loads, 3 starts, asserts
#                                   every figure parsed as a positive number
#
# Other options are passed to bench/bench.py (--duration S, --starts N,
# --retries N, --wait-idle S, --openssl-seconds S, --wrk-threads N, --out DIR);
# see `python3 bench/bench.py -h`. docs/performance.md explains the figures.
#
# Installs what it needs (Debian: wrk, openssl; npm: the oauth2-mock-server
# pinned in bench/package-lock.json), builds the release binary unless
# MOCK_IDP_BIN names one, then measures. Servers listen on 127.0.0.1 only and
# are stopped on exit. Writes bench/results/latest.{md,json} (smoke:
# smoke.{md,json}) and prints the table.
#
# Exit: 0 measured (a target MISS is reported, not a failure); 1 the harness
# broke; 2 figures written but invalid (errors under load).

set -euo pipefail
# shellcheck source=../scripts/ci/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../scripts/ci/common.sh"
BENCH_DIR="$REPO_ROOT/bench"

for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  esac
done

# apt_install, retried while another apt/dpkg holds the lock (bounded).
apt_install_retry() {
  local i
  for i in $(seq 1 30); do
    if (apt_install "$@"); then return 0; fi
    log "apt-get failed (dpkg lock held?); retry $i/30 in 5 s"
    sleep 5
  done
  die "could not install: $*"
}

need_apt=()
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then apt_install_retry "${need_apt[@]}"; fi

# oauth2-mock-server, exactly as pinned in package-lock.json.
want="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packages"]["node_modules/oauth2-mock-server"]["version"])' "$BENCH_DIR/package-lock.json")"
have="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$BENCH_DIR/node_modules/oauth2-mock-server/package.json" 2>/dev/null || true)"
if [ "$have" != "$want" ]; then
  log "npm ci (oauth2-mock-server $want)"
  (cd "$BENCH_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

if [ -z "${MOCK_IDP_BIN:-}" ]; then log "cargo build --release"; fi
BIN="$(release_binary)"
[ -x "$BIN" ] || die "mock-idp binary not found or not executable: $BIN"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mock-idp-bench.XXXXXX")"
PIDFILE="$WORK/servers.pid"
cleanup() {
  # Stop the servers bench.py started, by PID, if it could not (killed).
  if [ -s "$PIDFILE" ]; then
    while read -r pid; do
      [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done <"$PIDFILE"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log "bench: $BIN"
# In the background so a TERM/INT to this script is forwarded at once (bash
# would otherwise run its trap only after the foreground child finished).
python3 "$BENCH_DIR/bench.py" --bin "$BIN" \
  --oms-dir "$BENCH_DIR/node_modules/oauth2-mock-server" \
  --workdir "$WORK" --pidfile "$PIDFILE" "$@" &
PY_PID=$!
trap 'kill -TERM "$PY_PID" 2>/dev/null || true' INT TERM
set +e
while :; do
  wait "$PY_PID"; rc=$?
  kill -0 "$PY_PID" 2>/dev/null || break
done
set -e
exit "$rc"
