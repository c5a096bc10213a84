#!/usr/bin/env bash
# Build a static arm64 (aarch64, musl) mock-idp on an x86-64 Debian/Ubuntu
# host, for a Raspberry Pi 3/4/5 or any 64-bit ARM Linux. Docs:
# docs/small-hosts.md.
#
#   bash scripts/build-arm64.sh        # prints the binary's path last
#
# Output: target/aarch64-unknown-linux-musl/release/mock-idp (under
# CARGO_TARGET_DIR when that is set), a static ELF with no runtime
# dependencies. Quick when nothing changed (cargo's own up-to-date check).
#
# Installs what is missing (needs root or sudo for apt):
#   - the rustup target aarch64-unknown-linux-musl (Rust's musl libc and CRT
#     objects for aarch64 come with it);
#   - Debian's cross C toolchain gcc-aarch64-linux-gnu (+ libc6-dev-arm64-cross
#     for the C headers): it compiles aws-lc-sys's C and assembly through the
#     `cc` crate and links the final binary. Neither CMake, clang nor a musl
#     cross compiler is needed: aws-lc-sys ships pregenerated bindings for
#     this target, and rustc links musl's libc.a from its own sysroot.
#
# Environment:
#   CARGO_TARGET_DIR   where cargo builds (default: target/ in the repository)
#   SKIP_INSTALL=1     never install anything; fail if a tool is missing
#   Any CARGO_* variable reaches cargo, e.g. a faster, less optimised build:
#     CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
set -euo pipefail

TARGET=aarch64-unknown-linux-musl
CROSS=aarch64-linux-gnu
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
BIN="$TARGET_DIR/$TARGET/release/mock-idp"

say() { printf 'build-arm64: %s\n' "$*" >&2; }
die() { printf 'build-arm64: error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# ---------------------------------------------------------------- tools
case "$(uname -m)" in
  x86_64) ;;
  *) die "this script cross-compiles on an x86-64 host; on $(uname -m) build natively (docs/small-hosts.md)" ;;
esac
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  [ "${SKIP_INSTALL:-0}" != 1 ] || die "the Rust target $TARGET is missing: rustup target add $TARGET"
  command -v rustup >/dev/null || die "rustup not found: the $TARGET target is needed (rustup target add $TARGET)"
  say "rustup target add $TARGET"
  rustup target add "$TARGET" >&2
fi

missing=()
command -v "$CROSS-gcc" >/dev/null || missing+=(gcc-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/include/stdio.h ] || missing+=(libc6-dev-arm64-cross)
command -v file >/dev/null || missing+=(file)
if [ ${#missing[@]} -gt 0 ]; then
  [ "${SKIP_INSTALL:-0}" != 1 ] || die "missing Debian packages: ${missing[*]} (apt-get install ${missing[*]})"
  command -v apt-get >/dev/null || die "missing ${missing[*]}; this script installs them with apt-get (Debian/Ubuntu)"
  say "apt-get install ${missing[*]}"
  if [ ! -e /tmp/.mock-idp-apt-updated ]; then
    $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq && touch /tmp/.mock-idp-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------- build
# The cc crate (aws-lc-sys) looks for aarch64-linux-musl-gcc by default, which
# Debian does not have: point it and rustc's linker at the GNU cross gcc.
# Variables already set by the caller win.
export "CC_aarch64_unknown_linux_musl=${CC_aarch64_unknown_linux_musl:-$CROSS-gcc}"
export "AR_aarch64_unknown_linux_musl=${AR_aarch64_unknown_linux_musl:-$CROSS-ar}"
export "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER:-$CROSS-gcc}"

say "cargo build --release --locked --bin mock-idp --target $TARGET"
t0=$SECONDS
(cd "$REPO_ROOT" && cargo build --release --locked --bin mock-idp --target "$TARGET")
say "cargo finished in $((SECONDS - t0)) s"

# ---------------------------------------------------------------- check
[ -x "$BIN" ] || die "cargo succeeded but $BIN is missing"
info="$(file -L "$BIN")"
case "$info" in
  *"ARM aarch64"*) ;;
  *) die "$BIN is not an aarch64 binary: $info" ;;
esac
case "$info" in
  *"statically linked"* | *"static-pie linked"*) ;;
  *) die "$BIN is not statically linked: $info" ;;
esac
case "$info" in
  *interpreter*) die "$BIN asks for a dynamic loader: $info" ;;
esac
say "${info#"$BIN": }"
echo "$BIN"
