#!/usr/bin/env bash
# Builds the API-sequence fuzzer with clang's libFuzzer (Debian: clang,
# libclang-rt-14-dev) in build-fuzz/ and runs it on tests/fuzz/corpus.
#   scripts/fuzz.sh [SECONDS]     (default 60; CI runs a short budget)
# New inputs that reach new code are added to the corpus folder; commit the
# interesting ones. A failure leaves its input as crash-* in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ -n "${missing[*]:-}" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Ddemo=false -Db_sanitize=address,undefined \
    -Db_lundef=false >/dev/null
fi
meson compile -C build-fuzz tests/fuzz/api_fuzz >/dev/null
mkdir -p build-fuzz/new-corpus
cd build-fuzz
ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/api_fuzz -max_total_time="$seconds" -max_len=512 -timeout=20 \
  -print_final_stats=1 new-corpus ../tests/fuzz/corpus 2>&1 | tail -n 12
