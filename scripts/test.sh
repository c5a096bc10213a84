#!/usr/bin/env bash
# The whole test suite, installing what it needs first (see TESTPLAN.md).
set -euo pipefail
source "$(dirname "$0")/ci/common.sh"
cd "$REPO_ROOT"

log "Rust: unit and integration tests"
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
cargo nextest run --locked --all-targets --no-fail-fast
