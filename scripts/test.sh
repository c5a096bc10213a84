#!/usr/bin/env bash
# The whole test suite. Installs what it needs first (apt/npm/PyPI packages,
# Rust tools, dockerd), so it runs on a fresh Debian machine. See TESTPLAN.md.
#
#   bash scripts/test.sh              # every stage
#   bash scripts/test.sh rust pyjwt   # only the named stages
set -uo pipefail
source "$(dirname "$0")/ci/common.sh"
set +e
cd "$REPO_ROOT"

stage_rust() {
  command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
  cargo fmt --check &&
    cargo clippy --locked --all-targets --quiet -- -D warnings &&
    cargo nextest run --locked --all-targets --no-fail-fast
}
stage_federation() { bash scripts/ci/federation.sh; }
stage_pyjwt() { bash scripts/ci/e2e-pyjwt.sh; }
stage_oidc() { bash scripts/ci/oidc-e2e.sh; }
stage_playwright() { bash scripts/ci/playwright.sh; }
stage_container() { bash scripts/ci/container.sh; }
stage_bench() { bash scripts/ci/bench-smoke.sh; }
stage_helpers() { bash scripts/ci/helpers.sh; }
stage_keyrace() { bash scripts/ci/keyrace.sh; }
stage_prodsafety() { bash scripts/ci/prodsafety.sh; }
stage_smallhost() { bash scripts/ci/smallhost.sh; }
stage_toolkit() { bash scripts/ci/toolkit.sh; }
# Not in ALL_STAGES until mock-idp implements issues 12 and 13 (run them by name).
stage_profiles() { bash scripts/ci/profiles.sh; }
stage_lifecycle() { bash scripts/ci/lifecycle.sh; }

ALL_STAGES=(rust federation pyjwt oidc playwright helpers container bench keyrace prodsafety smallhost toolkit)
STAGES=("${@:-${ALL_STAGES[@]}}")
for stage in "${STAGES[@]}"; do
  if ! declare -F "stage_$stage" >/dev/null; then
    echo "unknown stage: $stage; the stages are: ${ALL_STAGES[*]}" >&2
    exit 2
  fi
done

passed=0 failed=0 failed_names=() timings=()
for stage in "${STAGES[@]}"; do
  log "stage: $stage"
  start=$SECONDS
  if "stage_$stage"; then
    passed=$((passed + 1)); log "stage $stage passed ($((SECONDS - start)) s)"
    timings+=("$(printf '%-12s passed %5d s' "$stage" $((SECONDS - start)))")
  else
    failed=$((failed + 1)); failed_names+=("$stage"); log "stage $stage FAILED ($((SECONDS - start)) s)"
    timings+=("$(printf '%-12s FAILED %5d s' "$stage" $((SECONDS - start)))")
  fi
done

echo
printf '%s\n' "${timings[@]}"
echo "total: $SECONDS s"
[ "$failed" -eq 0 ] || echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
