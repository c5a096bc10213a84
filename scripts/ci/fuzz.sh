#!/usr/bin/env bash
# Bounded libFuzzer run of every fuzz target in fuzz/ (cargo-fuzz, nightly).
# See docs/reliability.md#fuzzing.
#
#   bash scripts/ci/fuzz.sh                  # every target, FUZZ_SECONDS (15) each
#   FUZZ_SECONDS=600 bash scripts/ci/fuzz.sh peer_jwks
#
# Each target starts from its committed seed corpus (fuzz/corpus/<target>,
# read only) plus a scratch corpus in a temporary directory, so a run never
# changes the repository. A crash fails the run and names the input file
# libFuzzer saved (fuzz/artifacts/<target>/); reproduce it with
# `cargo +nightly fuzz run <target> <file>`.
#
# Needs a nightly toolchain: the one rustup has, or `rustup toolchain install
# nightly --profile minimal`. When neither works the run is SKIPPED with a
# message and exit 0: the same targets still run on stable in the rust stage
# (tests/it/fuzz_replay.rs replays the corpus and mutations of it).
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
cd "$REPO_ROOT" || exit 1

SECONDS_EACH="${FUZZ_SECONDS:-15}"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(token_request oauth_form users_config peer_jwks)

if ! cargo +nightly --version >/dev/null 2>&1; then
  log "fuzz: no nightly toolchain; trying rustup toolchain install nightly --profile minimal"
  timeout 300 rustup toolchain install nightly --profile minimal >&2 || true
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "  SKIP: fuzzing (cargo-fuzz needs a nightly toolchain and none could be installed);"
  echo "        the same targets ran on stable in the rust stage (tests/it/fuzz_replay.rs)"
  exit 0
fi
if ! command -v cargo-fuzz >/dev/null; then
  log "fuzz: cargo install --locked cargo-fuzz"
  cargo install --locked cargo-fuzz >&2 || die "cannot install cargo-fuzz"
fi

# No sanitizer: the targets are safe Rust (aws-lc's C is not instrumented by
# rustc anyway), and without ASan they build faster and run ~2x more inputs.
# Debug assertions stay on (cargo-fuzz's default), so overflows panic.
FUZZ_ARGS=(--sanitizer none)
log "fuzz: building ${#TARGETS[@]} targets (cargo +nightly fuzz build)"
build_start=$SECONDS
cargo +nightly fuzz build "${FUZZ_ARGS[@]}" >&2 || die "the fuzz targets do not build"
echo "  info: fuzz build took $((SECONDS - build_start)) s"

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
failed=0
for target in "${TARGETS[@]}"; do
  mkdir -p "$SCRATCH/$target"
  out="$SCRATCH/$target.log"
  if cargo +nightly fuzz run "${FUZZ_ARGS[@]}" "$target" "$SCRATCH/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$out" 2>&1; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)"
    speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out" | tail -1)"
    cov="$(grep -o 'cov: [0-9]*' "$out" | tail -1)"
    echo "  pass: fuzz $target: ${runs:-?} inputs in ${SECONDS_EACH} s (${speed:-?} exec/s, $cov), no crash"
  else
    failed=$((failed + 1))
    echo "  FAIL: fuzz $target crashed or failed; its output:"
    { grep -E 'panicked|ERROR|SUMMARY|Test unit written|^error' "$out" || true; } | head -20 | sed 's/^/    | /'
    tail -5 "$out" | sed 's/^/    | /' || true
  fi
done
[ "$failed" -eq 0 ]
