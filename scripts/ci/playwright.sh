#!/usr/bin/env bash
# CI stage: the Playwright example (examples/playwright) in Debian's Chromium.
#
#   scripts/ci/playwright.sh [playwright test args...]
#
# Installs chromium (apt) and the example's pinned npm packages (npm ci, with
# Playwright's own browser download skipped), builds or locates the release
# binary (MOCK_IDP_BIN overrides), then runs `playwright test`, which starts
# mock-idp and the example app on two free 127.0.0.1 ports (MOCK_IDP_PORT and
# APP_PORT override them). `npm ci` also builds @mock-idp/playwright from
# packages/playwright (its `prepare` script), which the example depends on.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

EXAMPLE_DIR="$REPO_ROOT/examples/playwright"

command -v node >/dev/null && command -v npm >/dev/null || die "node and npm (>= 20) are needed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "node >= 20 is needed, found $(node --version)"

apt_install chromium
[ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ] || die "no Chromium at ${CHROMIUM_BIN:-/usr/bin/chromium}"

log "npm ci (examples/playwright)"
(cd "$EXAMPLE_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 600 \
  npm ci --no-audit --no-fund --loglevel=error)

log "typecheck (examples/playwright)"
(cd "$EXAMPLE_DIR" && timeout 120 ./node_modules/.bin/tsc --noEmit)

log "mock-idp release binary"
MOCK_IDP_BIN="$(release_binary)"
[ -x "$MOCK_IDP_BIN" ] || die "mock-idp binary not found at $MOCK_IDP_BIN"
export MOCK_IDP_BIN

MOCK_IDP_PORT="${MOCK_IDP_PORT:-$(free_port)}"
APP_PORT="${APP_PORT:-$(free_port)}"
for _ in 1 2 3; do [ "$APP_PORT" != "$MOCK_IDP_PORT" ] && break; APP_PORT="$(free_port)"; done
export MOCK_IDP_PORT APP_PORT

log "playwright test (mock-idp on 127.0.0.1:$MOCK_IDP_PORT, app on 127.0.0.1:$APP_PORT)"
cd "$EXAMPLE_DIR"
# The config's globalTimeout (5 min) bounds the run; timeout(1) is the backstop.
exec timeout --kill-after=15 600 ./node_modules/.bin/playwright test "$@"
