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
#   fuzz     the fuzz targets for about a minute. By default on stable:
#            tests/it/fuzz_replay.rs (the committed corpus, then random
#            mutations of it, 15 s per target; the test binary is the one the
#            rust stage already built). HARDENING_FUZZ=nightly runs
#            scripts/ci/fuzz.sh instead: cargo-fuzz, coverage-guided, 15 s
#            per target, skipped with a message when no nightly can be
#            installed. Not the default because its cold cost (cargo-fuzz
#            install + a nightly build of the whole dependency tree with
#            coverage instrumentation) is over 4 minutes on a fresh 2-core
#            machine; see docs/reliability.md#fuzzing for the figures.
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
      if [ "${HARDENING_FUZZ:-stable}" = nightly ]; then
        log "hardening: fuzz smoke run (cargo-fuzz on nightly)"
        bash scripts/ci/fuzz.sh
      else
        log "hardening: fuzz smoke run on stable (tests/it/fuzz_replay.rs, ${FUZZ_SECONDS:-15} s per target)"
        FUZZ_REPLAY_SEED="${FUZZ_REPLAY_SEED:-$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')}" \
          FUZZ_REPLAY_MUTATIONS="${FUZZ_REPLAY_MUTATIONS:-10000000}" FUZZ_REPLAY_SECS="${FUZZ_SECONDS:-15}" \
          cargo test --locked --quiet --test it fuzz_replay:: -- --test-threads 2 --nocapture 2>&1 |
          sed -n -E 's/.*(token_request|oauth_form|users_config|peer_jwks): ([0-9]+ inputs.*)/  pass: fuzz (stable) \1: \2/p; /panicked|FAILED|^test result/p'
        return "${PIPESTATUS[0]}"
      fi
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
