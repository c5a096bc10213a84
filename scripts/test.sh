#!/usr/bin/env bash
# The whole test suite. Installs what it needs first (apt/npm/PyPI packages,
# Rust tools, dockerd), so it runs on a fresh Debian machine. See TESTPLAN.md.
#
#   bash scripts/test.sh              # every stage, in two parallel lanes
#   bash scripts/test.sh rust pyjwt   # only the named stages, one after another
#   bash scripts/test.sh --list       # the stages
#
# Every stage writes its output to target/ci-logs/<stage>.log; a failed
# stage's log tail is printed at the end, followed by a table of the stages
# and their times. Exit status 0 only when every stage passed.
set -uo pipefail
source "$(dirname "$0")/ci/common.sh"
set +e
cd "$REPO_ROOT"

stage_rust() {
  command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
  cargo fmt --check &&
    cargo clippy --locked --all-targets --quiet -- -D warnings &&
    cargo nextest run --locked --all-targets --no-fail-fast &&
    cargo test --locked --doc --features testing --quiet
}
# (The layering of the core is checked by the unit test `layering` in src/lib.rs.)

stage_federation() { bash scripts/ci/federation.sh; }
# The declared rust-version (Cargo.toml) builds the crate: the toolchain the
# code claims to need really is enough (let-chains need 1.88).
stage_msrv() {
  local msrv
  msrv="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"
  [ -n "$msrv" ] || { echo "msrv: no rust-version in Cargo.toml"; return 1; }
  rustup toolchain list | grep -q "^$msrv" || rustup toolchain install "$msrv" --profile minimal
  cargo "+$msrv" check --locked --all-features --lib --bins
}
stage_pyjwt() { bash scripts/ci/e2e-pyjwt.sh; }
stage_oidc() { bash scripts/ci/oidc-e2e.sh; }
stage_playwright() { bash scripts/ci/playwright.sh; }
stage_container() { bash scripts/ci/container.sh; }
stage_bench() { bash scripts/ci/bench-smoke.sh; }
stage_helpers() { bash scripts/ci/helpers.sh; }
stage_hardening() { bash scripts/ci/hardening.sh; }
# Part of `hardening`; still runnable on their own by name.
stage_keyrace() { bash scripts/ci/keyrace.sh; }
stage_fuzz() { bash scripts/ci/fuzz.sh; }
stage_prodsafety() { bash scripts/ci/prodsafety.sh; }
stage_smallhost() { bash scripts/ci/smallhost.sh; }
stage_workbench() { bash scripts/ci/workbench.sh; }
stage_toolkit() { bash scripts/ci/toolkit.sh; }
stage_profiles() { bash scripts/ci/profiles.sh; }
stage_lifecycle() { bash scripts/ci/lifecycle.sh; }
stage_java() { bash scripts/ci/java.sh; }

# The parallel run: lane A holds the stages that compile (Rust debug and
# cross builds, the container's dockerd), lane B the end-to-end stages that
# mostly wait on browsers, package managers and servers. Lane B starts by
# installing every Debian package and building the one static release binary
# all its stages share (MOCK_IDP_BIN).
# hardening reuses the rust stage's test build (its fuzz step) and runs
# keyrace as one of its steps.
LANE_A=(rust federation smallhost container bench hardening msrv)
LANE_B=(pyjwt oidc playwright helpers workbench profiles toolkit lifecycle java prodsafety)
ALL_STAGES=("${LANE_A[@]}" "${LANE_B[@]}")

# Debian packages the stages install one by one; installed together first
# (one apt transaction is much faster than many).
APT_PACKAGES=(curl ca-certificates file iproute2 python3-venv util-linux openssl
  chromium docker.io docker-compose musl-tools golang-go openjdk-17-jdk-headless
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user openssh-server openssh-client
  systemd-container wrk golang-github-golang-jwt-jwt-dev
  libgoogle-oauth-client-java libgoogle-http-client-java apache2 libapache2-mod-auth-openidc)

LOG_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/ci-logs"
mkdir -p "$LOG_DIR"
RESULTS="$LOG_DIR/results.tsv"

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${ALL_STAGES[@]}"
  exit 0
fi
for stage in "$@"; do
  if ! declare -F "stage_$stage" >/dev/null; then
    echo "unknown stage: $stage; the stages are: ${ALL_STAGES[*]} (and by name: keyrace fuzz)" >&2
    exit 2
  fi
done

# run_stage NAME: runs one stage with its output in its log; records the result.
run_stage() {
  local stage="$1" start=$SECONDS rc
  local logfile="$LOG_DIR/$stage.log"
  log "stage $stage: started (log: ${logfile#"$REPO_ROOT"/})"
  "stage_$stage" >"$logfile" 2>&1
  rc=$?
  local took=$((SECONDS - start))
  if [ "$rc" -eq 0 ]; then
    log "stage $stage: passed ($took s)"
    printf '%s\tpassed\t%s\n' "$stage" "$took" >>"$RESULTS"
  else
    log "stage $stage: FAILED ($took s, exit $rc)"
    printf '%s\tFAILED\t%s\n' "$stage" "$took" >>"$RESULTS"
  fi
  return "$rc"
}

# The static (musl) release binary every end-to-end stage runs, built once.
build_static_binary() {
  local target=x86_64-unknown-linux-musl
  rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target"
  (cd "$REPO_ROOT" && cargo build --release --locked --quiet --bin mock-idp --target "$target") || return 1
  echo "${CARGO_TARGET_DIR:-$REPO_ROOT/target}/$target/release/mock-idp"
}

prepare_lane_b() {
  local start=$SECONDS
  log "prepare: apt packages"
  apt_install "${APT_PACKAGES[@]}" >"$LOG_DIR/prepare.log" 2>&1 || {
    log "prepare: apt install failed (stages retry their own packages); see prepare.log"
  }
  ci_python >/dev/null 2>&1 || true
  log "prepare: static release binary"
  local bin
  if [ -z "${MOCK_IDP_BIN:-}" ]; then
    bin="$(build_static_binary 2>>"$LOG_DIR/prepare.log")" || {
      log "prepare: the static build failed; falling back to the glibc release binary"
      bin="$(release_binary 2>>"$LOG_DIR/prepare.log")"
    }
    export MOCK_IDP_BIN="$bin"
  fi
  log "prepare: done in $((SECONDS - start)) s (MOCK_IDP_BIN=$MOCK_IDP_BIN)"
}

run_lane() {
  local failed=0 stage
  for stage in "$@"; do
    run_stage "$stage" || failed=1
  done
  return "$failed"
}

: >"$RESULTS"
if [ "$#" -gt 0 ]; then
  run_lane "$@"
else
  # The static binary is shared by both lanes once built (container and
  # bench use it too), so lane A's later stages start after lane B built it.
  ( prepare_lane_b && printf '%s\n' "$MOCK_IDP_BIN" >"$LOG_DIR/bin.path"
    run_lane "${LANE_B[@]}" ) &
  lane_b=$!
  (
    run_stage rust
    # Wait (bounded) for lane B's static binary before the stages that run it.
    for _ in $(seq 1 1800); do [ -s "$LOG_DIR/bin.path" ] && break; sleep 1; done
    [ -s "$LOG_DIR/bin.path" ] && export MOCK_IDP_BIN="$(cat "$LOG_DIR/bin.path")"
    run_lane "${LANE_A[@]:1}"
  ) &
  lane_a=$!
  wait "$lane_a"
  wait "$lane_b"
fi

echo
failed_names=()
while IFS=$'\t' read -r stage result took; do
  [ "$result" = passed ] || failed_names+=("$stage")
done <"$RESULTS"
for stage in "${failed_names[@]}"; do
  echo "======== $stage: last 80 lines of ${LOG_DIR#"$REPO_ROOT"/}/$stage.log ========"
  tail -n 80 "$LOG_DIR/$stage.log"
  echo
done
awk -F'\t' '{ printf "%-12s %-6s %5d s\n", $1, $2, $3 }' "$RESULTS"
echo "total: $SECONDS s"
passed=$(grep -c $'\tpassed\t' "$RESULTS")
failed=${#failed_names[@]}
[ "$failed" -eq 0 ] || echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
