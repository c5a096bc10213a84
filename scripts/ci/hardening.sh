#!/usr/bin/env bash
# CI stage `hardening` (issue 10): the release binary under attack, as real
# processes on 127.0.0.1. See docs/reliability.md.
#
#   bash scripts/test.sh hardening                       # the stage
#   HARDENING_STEPS="probes" bash scripts/ci/hardening.sh  # some steps only
#   bash scripts/ci/hardening/probe.py drain replay      # some probe groups (needs MOCK_IDP_BIN)
#
# Steps (each prints one pass/fail line per check):
#   probes   scripts/ci/hardening/probe.py: stalled, idle and slow clients
#            (HEADER_TIMEOUT_SEC/IDLE_TIMEOUT_SEC), MAX_CONNECTIONS, SIGTERM
#            drain, the two replay-set attacks, JSON errors and ~60 malformed
#            requests, a hostile federation peer, and a 30 s soak (SOAK_SEC)
#            with RSS and fd counts from /proc;
#   keyrace  scripts/ci/keyrace.sh: PID-1 replicas racing on one key volume
#            (also `bash scripts/test.sh keyrace`);
#   fuzz     scripts/ci/fuzz.sh: every cargo-fuzz target for FUZZ_SECONDS
#            (15) each on nightly; skipped, saying so, without nightly (the
#            rust stage replays the corpus on stable: tests/fuzz_replay.rs).
# MOCK_IDP_BIN selects the binary (default: the release build).
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
cd "$REPO_ROOT" || exit 1

STEPS="${HARDENING_STEPS:-probes keyrace fuzz}"
MOCK_IDP_BIN="$(release_binary)"
export MOCK_IDP_BIN
[ -x "$MOCK_IDP_BIN" ] || die "no mock-idp binary at $MOCK_IDP_BIN"

run_step() {
  case "$1" in
    probes)
      # PyJWT verifies the soak's sampled tokens against the served JWKS.
      pip_install pyjwt cryptography || { echo "  FAIL: cannot install PyJWT into the CI venv"; return 1; }
      log "hardening: probes against $MOCK_IDP_BIN"
      "$(ci_python)" scripts/ci/hardening/probe.py
      ;;
    keyrace)
      log "hardening: key creation races"
      bash scripts/ci/keyrace.sh
      ;;
    fuzz)
      log "hardening: fuzz smoke run"
      bash scripts/ci/fuzz.sh
      ;;
    *) echo "unknown hardening step: $1 (steps: probes keyrace fuzz)" >&2; return 2 ;;
  esac
}

results=()
failed=0
for step in $STEPS; do
  start=$SECONDS
  rc=0
  run_step "$step" || rc=$?
  took=$((SECONDS - start))
  if [ "$rc" -eq 0 ]; then
    results+=("$(printf 'pass: %-8s %4d s' "$step" "$took")")
  else
    failed=$((failed + 1))
    results+=("$(printf 'FAIL: %-8s %4d s' "$step" "$took")")
  fi
done

echo
echo "hardening steps:"
printf '  %s\n' "${results[@]}"
echo "hardening: $(( ${#results[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
