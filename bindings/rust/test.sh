#!/usr/bin/env bash
# Checks and tests the Rust binding against a liblane build tree.
#   bindings/rust/test.sh [BUILD_DIR]     (default: ../../build from this script)
# Runs cargo fmt --check, clippy (all targets and features, warnings are
# errors), cargo doc (warnings are errors), cargo test --all-features (through the `dynamic` loader, with
# tokio), cargo test --features tokio (linked), and the scenarios with only
# LANE_LIBRARY naming the library (no LD_LIBRARY_PATH), and lane-sys's tests
# linked through pkg-config alone. Exits non-zero on
# the first failure. Needs crates.io (or a warm cargo cache) for its few
# dependencies, pinned in Cargo.lock.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
build="$(cd "$build" && pwd)"
include="$(cd "$here/../../include" && pwd)"
if [ ! -e "$build/liblane.so" ]; then
  echo "rust binding: no liblane.so in $build (build liblane first)" >&2
  exit 1
fi
[ -d "$HOME/.cargo/bin" ] && export PATH="$PATH:$HOME/.cargo/bin"
if ! command -v cargo >/dev/null 2>&1; then
  echo "rust binding: 'cargo' not found in PATH" >&2
  exit 1
fi
# rustfmt and clippy: install only if missing, and only if rustup can.
for comp in rustfmt clippy; do
  probe=$([ "$comp" = rustfmt ] && echo "cargo fmt --version" || echo "cargo clippy --version")
  if ! $probe >/dev/null 2>&1; then
    if command -v rustup >/dev/null 2>&1; then
      rustup component add "$comp"
    else
      echo "rust binding: $comp missing and no rustup to add it" >&2
      exit 1
    fi
  fi
done

export LANE_LIB_DIR="$build"
export LANE_INCLUDE_DIR="$include"
export PKG_CONFIG_PATH="$build/meson-uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CARGO_TERM_COLOR=never
cd "$here"

echo "rust binding: cargo fmt --check"
cargo fmt --all --check
echo "rust binding: cargo clippy"
cargo clippy --locked --all-targets --all-features -- -D warnings
echo "rust binding: cargo doc (broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --all-features
echo "rust binding: cargo test --all-features (dynamic loading, tokio)"
cargo test --locked --all-features
echo "rust binding: cargo test --features tokio (linked)"
cargo test --locked --features lane/tokio
echo "rust binding: dynamic feature, library named by LANE_LIBRARY only"
env -u LD_LIBRARY_PATH LANE_LIBRARY="$build/liblane.so" \
  cargo test --locked --features lane/dynamic,lane/tokio -p lane --test scenarios --test async_jobs
env -u LD_LIBRARY_PATH LANE_LIBRARY="$build/liblane.so" \
  cargo test --locked --features dynamic -p lane-sys --test dynamic
echo "rust binding: lane-sys found through pkg-config only (lane-uninstalled.pc)"
env -u LANE_LIB_DIR cargo test --locked -p lane-sys
echo "rust binding: ok"
