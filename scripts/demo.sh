#!/usr/bin/env bash
# Installs what is missing, builds liblane and runs the demo (two contended lanes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build lane-demo >/dev/null
exec ./build/examples/demo/lane-demo "$@"
