#!/usr/bin/env bash
# CI stage: the test helpers, installed the way a user installs them.
#
#   scripts/ci/helpers.sh
#
# @mock-idp/playwright (packages/playwright): `npm pack` in a clean copy (as
# its README says), the tarball installed into a fresh `npm init -y` project
# with @playwright/test (the version examples/playwright pins), then
# scripts/ci/helpers/helpers.spec.ts runs there in Debian's Chromium: mockIdp
# started from MOCK_IDP_BIN, tokenFor, loginAs, start-up errors, and the
# server gone after the run.
#
# pytest-mock-idp (packages/pytest-mock-idp): a wheel built with pip, installed
# into a fresh venv, then scripts/ci/helpers/test_with_pytest_mock_idp.py runs
# there with --mock-idp-config (tokens verified with PyJWT against the served
# JWKS), and the package's own tests (pytester) against the installed wheel.
#
# Prints PASS/FAIL per check; exits non-zero if any failed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HELPERS="$REPO_ROOT/scripts/ci/helpers"
PW_PKG="$REPO_ROOT/packages/playwright"
PY_PKG="$REPO_ROOT/packages/pytest-mock-idp"
EXAMPLE="$REPO_ROOT/examples/playwright"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mock-idp-helpers.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

passed=0 failed=0
# check NAME CMD...: run CMD, print PASS/FAIL NAME.
check() {
  local name="$1"; shift
  if "$@"; then
    echo "PASS $name"; passed=$((passed + 1))
  else
    echo "FAIL $name"; failed=$((failed + 1))
  fi
}

command -v node >/dev/null && command -v npm >/dev/null || die "node and npm (>= 20) are needed"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || die "node >= 20 is needed, found $(node --version)"
apt_install chromium
[ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ] || die "no Chromium at ${CHROMIUM_BIN:-/usr/bin/chromium}"

log "mock-idp release binary"
MOCK_IDP_BIN="$(release_binary)"
[ -x "$MOCK_IDP_BIN" ] || die "mock-idp binary not found at $MOCK_IDP_BIN"
export MOCK_IDP_BIN
# The helpers must start their own mock-idp here.
unset MOCK_IDP_URL MOCK_IDP_CONFIG CONFIG_FILE USERS_FILE

# --- @mock-idp/playwright ----------------------------------------------------

log "npm pack (a clean copy of packages/playwright)"
pack_playwright() {
  # From a clean copy of the package (no node_modules/, no dist/), as in a
  # fresh checkout: `npm pack` alone must build it (its `prepare` script).
  mkdir -p "$WORK/package-src" &&
    tar -C "$PW_PKG" --exclude=./node_modules --exclude=./dist --exclude='./*.tgz' -cf - . |
    tar -C "$WORK/package-src" -xf - &&
    (cd "$WORK/package-src" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 300 \
      npm pack --pack-destination "$WORK" --loglevel=error >"$WORK/pack.out") &&
    TARBALL="$WORK/$(tail -1 "$WORK/pack.out")" && [ -f "$TARBALL" ]
}
check "npm pack @mock-idp/playwright" pack_playwright

tarball_is_clean() {
  local want got
  want="package/README.md
package/dist/index.d.ts
package/dist/index.js
package/dist/server.d.ts
package/dist/server.js
package/package.json"
  got="$(tar tzf "$TARBALL" | sort)"
  [ "$got" = "$want" ] || { printf 'tarball has:\n%s\nexpected:\n%s\n' "$got" "$want"; return 1; }
}
[ -n "${TARBALL:-}" ] && check "tarball holds only dist/, README.md, package.json" tarball_is_clean

pin() { node -p "require('$EXAMPLE/package.json').devDependencies['$1']"; }
PW_PROJECT="$WORK/playwright-project"
fresh_npm_project() (
  mkdir -p "$PW_PROJECT/tests" && cd "$PW_PROJECT" &&
    npm init -y >/dev/null &&
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 300 npm install --save-dev --no-audit --no-fund --loglevel=error \
      "$TARBALL" "@playwright/test@$(pin @playwright/test)" \
      "typescript@$(pin typescript)" "@types/node@$(pin @types/node)" >/dev/null &&
    cp "$HELPERS/playwright.config.ts" "$HELPERS/tsconfig.json" "$HELPERS/users.yaml" . &&
    cp "$HELPERS/helpers.spec.ts" tests/ &&
    [ -f node_modules/@mock-idp/playwright/dist/index.d.ts ] && [ ! -L node_modules/@mock-idp/playwright ]
)
if [ -n "${TARBALL:-}" ]; then
  log "fresh npm project: the tarball + @playwright/test@$(pin @playwright/test)"
  check "install the tarball into a fresh npm project" fresh_npm_project
  check "the spec type-checks against the package's .d.ts" \
    bash -c "cd '$PW_PROJECT' && timeout 120 ./node_modules/.bin/tsc --noEmit -p ."

  log "playwright test (fresh project; mockIdp starts $MOCK_IDP_BIN)"
  check "spec: mockIdp + tokenFor + loginAs in Chromium" \
    env -C "$PW_PROJECT" USERS_FILE="$PW_PROJECT/users.yaml" MOCK_IDP_URL_FILE="$WORK/pw-url" \
    timeout --kill-after=15 300 ./node_modules/.bin/playwright test
  stopped_after_the_run() {
    local url; url="$(cat "$WORK/pw-url")" || return 1
    [[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || { echo "no mock-idp URL recorded: $url"; return 1; }
    if curl -s -o /dev/null --max-time 2 "$url/health"; then echo "$url still answers"; return 1; fi
  }
  check "the worker's mock-idp is stopped after the run" stopped_after_the_run
fi

# --- pytest-mock-idp ---------------------------------------------------------

log "pip wheel (packages/pytest-mock-idp)"
build_wheel() {
  timeout 300 "$(ci_python)" -m pip wheel -q --disable-pip-version-check --no-deps \
    -w "$WORK/wheel" "$PY_PKG" && WHEEL="$(ls "$WORK"/wheel/pytest_mock_idp-*.whl)"
}
check "build the pytest-mock-idp wheel" build_wheel

wheel_is_clean() {
  "$(ci_python)" - "$WHEEL" <<'EOF'
import sys, zipfile
names = sorted(zipfile.ZipFile(sys.argv[1]).namelist())
pkg = [n for n in names if not n.startswith("pytest_mock_idp-")]
want = ["pytest_mock_idp/__init__.py", "pytest_mock_idp/_server.py", "pytest_mock_idp/plugin.py", "pytest_mock_idp/py.typed"]
assert pkg == want, f"wheel has {pkg}, expected {want}"
import configparser
ep = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
entry_points = configparser.ConfigParser()
entry_points.read_string(zipfile.ZipFile(sys.argv[1]).read(ep).decode())
assert dict(entry_points["pytest11"]) == {"mock_idp": "pytest_mock_idp.plugin"}, dict(entry_points["pytest11"])
EOF
}
[ -n "${WHEEL:-}" ] && check "wheel holds the plugin and its pytest11 entry point" wheel_is_clean

VENV="$WORK/venv"
fresh_venv() {
  { python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$VENV"; }; } &&
    timeout 300 "$VENV/bin/pip" install -q --disable-pip-version-check "$WHEEL" "pyjwt[crypto]" &&
    # Installed from the wheel, not the source tree.
    (cd "$WORK" && "$VENV/bin/python" -c 'import pytest_mock_idp, sys; sys.exit(0 if "/site-packages/" in pytest_mock_idp.__file__ else 1)')
}
if [ -n "${WHEEL:-}" ]; then
  log "fresh venv: the wheel + PyJWT"
  check "pip install the wheel into a fresh venv" fresh_venv

  PY_PROJECT="$WORK/pytest-project"
  mkdir -p "$PY_PROJECT"
  cp "$HELPERS/test_with_pytest_mock_idp.py" "$HELPERS/mock-idp.yaml" "$PY_PROJECT/"
  log "pytest (fresh project, --mock-idp-config mock-idp.yaml)"
  check "pytest: mock_idp fixture, token verified with PyJWT against jwks_url" \
    env -C "$PY_PROJECT" timeout 120 "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rs \
    --mock-idp-config mock-idp.yaml test_with_pytest_mock_idp.py

  log "pytest-mock-idp's own tests, against the installed wheel"
  cp -r "$PY_PKG/tests" "$WORK/own-tests"
  check "pytest-mock-idp's own tests (pytester)" \
    env -C "$WORK/own-tests" timeout 180 "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rs .
fi

echo
echo "helpers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
