#!/usr/bin/env bash
# The Windows build: liblane-0.dll cross-compiled with Debian's mingw-w64
# (cross/x86_64-w64-mingw32.txt) and its tests run under wine64 through
# meson's exe_wrapper.
#
#   bash scripts/test-windows.sh
#
# Installs mingw-w64 and wine64 when missing (apt-get, as root only; nothing
# when they are there), sets up build-win/ (-Dsqlite=disabled: Debian has no
# mingw SQLite), builds it, runs the core, capi, abi (with LoadLibrary +
# GetProcAddress), session, stress, registry, sampler (host sinks), fuzz
# (the corpus replay) suites, the examples (suite 'programs') and the demo
# under wine, then the Go binding's tests (bindings/go/test-windows.sh; Go
# must be installed). README's Windows section lists what is left out, and
# why.
#
# LANE_STRESS_SCALE is passed through to the stress suites (default 1, the
# same work as the Linux build).
#
# Exit status: 0 when everything built and every test passed; 1 when the
# build or a test failed (the Go tests included, or Go is missing); 2 when
# mingw-w64 or wine64 is missing and cannot be installed (not root). The
# last line is "windows tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 0 ]; then
  echo "usage: $0" >&2
  exit 2
fi

# ------------------------------------------------------------ packages
need=()
command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 || need+=(mingw-w64)
command -v wine >/dev/null 2>&1 || need+=(wine64)
for p in meson ninja-build doctest-dev libexpected-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-windows: missing ${need[*]} and not root; install them and retry" >&2
    echo "windows tests: 0 passed, 0 failed"
    exit 2
  fi
  echo "test-windows: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${need[@]}" >/dev/null || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; } || {
    echo "test-windows: apt-get install ${need[*]} failed" >&2
    echo "windows tests: 0 passed, 0 failed"
    exit 2
  }
fi

# ------------------------------------------------------------ wine
# A prefix of our own, made once (its first start takes a few seconds), and
# no debug chatter or crash dialogs.
export WINEPREFIX="${WINEPREFIX:-$PWD/build-win/wineprefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
export DISPLAY=
mkdir -p "$(dirname "$WINEPREFIX")"
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "test-windows: creating the wine prefix $WINEPREFIX"
  wineboot -i >/dev/null 2>&1 || true
fi
# One wineserver for every test of the run (not one started per test), ended
# with the run; it serves only this prefix.
wineserver -p >/dev/null 2>&1 || true
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT

# ------------------------------------------------------------ build
# -O1 without debug info: a third of -O2 -g's compile time (doctest is most
# of it), and GCC 12's mingw -O0 breaks the static link (a second
# std::type_info::operator== next to libstdc++.a's). cross/mingw-include
# gives the cross compiler Debian's header-only doctest and tl-expected.
suites=(core capi abi session stress registry sampler fuzz programs demo)
start=$(date +%s)
if [ ! -f build-win/build.ninja ]; then
  meson setup build-win --cross-file cross/x86_64-w64-mingw32.txt -Dsqlite=disabled -Dwerror=true \
    -Doptimization=1 -Ddebug=false "-Dcpp_args=-isystem$PWD/cross/mingw-include" >/dev/null \
    || { echo "windows tests: 0 passed, 1 failed"; exit 1; }
fi
# Only what those suites run (not the C++ wrapper's four builds of its tests).
mapfile -t targets < <(python3 scripts/suite_targets.py build-win "${suites[@]}")
if [ ${#targets[@]} -eq 0 ] || ! ninja -C build-win -j2 "${targets[@]}" >build-win/build.log 2>&1; then
  tail -40 build-win/build.log
  echo "test-windows: the cross build failed (build-win/build.log)" >&2
  echo "windows tests: 0 passed, 1 failed"
  exit 1
fi
built=$(date +%s)

# ------------------------------------------------------------ tests
status=0
export LANE_STRESS_SCALE="${LANE_STRESS_SCALE:-1}"
suite_args=()
for su in "${suites[@]}"; do suite_args+=(--suite "$su"); done
# One at a time: wine on 2 cores is slow enough with one test program.
rm -f build-win/meson-logs/testlog.json
meson test -C build-win --no-rebuild --print-errorlogs --num-processes 1 "${suite_args[@]}" || status=1

passed=0 failed=1
[ -f build-win/meson-logs/testlog.json ] || status=1
if [ -f build-win/meson-logs/testlog.json ]; then
  read -r passed failed < <(python3 - <<'PY'
import json
p = f = 0
for line in open("build-win/meson-logs/testlog.json"):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    else: f += 1  # a SKIP too: nothing here may be skipped silently
print(p, f)
PY
)
fi

# The Go binding's tests against the same DLL (bindings/go/test-windows.sh):
# its counts join the total; its failure, or a missing Go, fails the run.
go_out="$(bash bindings/go/test-windows.sh build-win 2>&1)"
go_rc=$?
printf '%s\n' "$go_out"
read -r go_passed go_failed < <(printf '%s\n' "$go_out" | sed -n 's/^go windows tests: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' | tail -1)
if [ $go_rc -ne 0 ] || [ -z "${go_passed:-}" ]; then
  status=1
  [ "${go_failed:-0}" -eq 0 ] && go_failed=1
fi
passed=$((passed + ${go_passed:-0}))
failed=$((failed + go_failed))

echo "test-windows: $((built - start)) s to build, $(($(date +%s) - built)) s to test"
echo "windows tests: $passed passed, $failed failed"
exit $status
