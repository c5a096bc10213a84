#!/usr/bin/env bash
# CI stage: benchmark harness smoke check (issue 6).
# Installs its own dependencies (wrk, openssl, the pinned oauth2-mock-server),
# builds the release binary (or uses MOCK_IDP_BIN), runs one short round of every
# measurement against mock-idp and oauth2-mock-server on 127.0.0.1, and fails if
# any figure did not parse as a positive number. Targets MISSed do not fail it.
# Under 2 minutes on a warm machine.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

log "bench smoke"
bash "$REPO_ROOT/bench/run.sh" --smoke
