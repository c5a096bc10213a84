#!/usr/bin/env bash
# CI stage: the workbench page (GET / with Accept: text/html) in Debian's
# Chromium, driven by Playwright (tests/e2e/workbench).
#
#   scripts/ci/workbench.sh [playwright test args...]
#
# Installs chromium (apt, shared with the playwright stage) and the suite's
# pinned npm packages (npm ci, Playwright's browser download skipped; the same
# @playwright/test version as examples/playwright, so the npm cache is shared),
# builds or locates the release binary (MOCK_IDP_BIN overrides), then runs
# `playwright test`: every feature by role and label, axe-core in light and
# dark, no console errors, no request to another origin, the no-JavaScript
# rendering, and the page on a non-secure origin (WebCrypto off). Screenshots
# are kept under target/workbench-screenshots/.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SUITE_DIR="$REPO_ROOT/tests/e2e/workbench"
SHOTS="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/workbench-screenshots"

command -v node >/dev/null && command -v npm >/dev/null || die "node and npm (>= 20) are needed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "node >= 20 is needed, found $(node --version)"
command -v curl >/dev/null || apt_install curl # the "Copy as curl" spec runs the command

apt_install chromium
[ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ] || die "no Chromium at ${CHROMIUM_BIN:-/usr/bin/chromium}"

log "npm ci (tests/e2e/workbench)"
(cd "$SUITE_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 600 \
  npm ci --no-audit --no-fund --loglevel=error)

log "typecheck (tests/e2e/workbench)"
(cd "$SUITE_DIR" && timeout 120 ./node_modules/.bin/tsc --noEmit)

log "mock-idp release binary"
MOCK_IDP_BIN="$(release_binary)"
[ -x "$MOCK_IDP_BIN" ] || die "mock-idp binary not found at $MOCK_IDP_BIN"
export MOCK_IDP_BIN
MOCK_IDP_PORT="${MOCK_IDP_PORT:-$(free_port)}"
export MOCK_IDP_PORT

rm -rf "$SHOTS"
log "playwright test (mock-idp on 127.0.0.1:$MOCK_IDP_PORT)"
cd "$SUITE_DIR" || die "no $SUITE_DIR"
# The config's globalTimeout (4 min) bounds the run; timeout(1) is the backstop.
status=0
timeout --kill-after=15 420 ./node_modules/.bin/playwright test "$@" || status=$?
for shot in root-light root-dark tenant-a-light tenant-a-dark no-javascript; do
  if [ -s "$SHOTS/$shot.png" ]; then
    printf 'screenshot: %s (%s bytes)\n' "$SHOTS/$shot.png" "$(stat -c %s "$SHOTS/$shot.png")"
  elif [ $# -eq 0 ]; then
    echo "FAIL: screenshot $shot.png was not written" >&2
    status=1
  fi
done
exit "$status"
