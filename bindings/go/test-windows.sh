#!/usr/bin/env bash
# The Go binding's tests on Windows: the test binary cross-compiled with
# mingw-w64 against the Windows DLL and run under wine.
#   bindings/go/test-windows.sh [BUILD_WIN_DIR]   (default: ../../build-win)
# BUILD_WIN_DIR is the cross build of scripts/test-windows.sh, which runs
# this script after its own tests: liblane-0.dll and its import library
# liblane.dll.a. The wine prefix is BUILD_WIN_DIR/wineprefix unless
# WINEPREFIX says otherwise (made here if missing).
#
# wine 8 has no bcryptprimitives.dll, which the Go runtime needs at start
# (ProcessPrng); when the prefix lacks it, a stand-in is built from
# testdata/wine/bcryptprimitives.c into the prefix's system32.
#
# Skipped, and said so: the sampler's tests skip themselves (t.Skip) when
# the DLL has no SQLite history, as this build has none; so does the
# sampler's Example, which cannot call t.Skip, by -test.skip below.
#
# Exit status: 0 when every test that ran passed; 1 when the build or a test
# failed; 2 when go, mingw-w64, wine or the cross build is missing. The last
# line is "go windows tests: N passed, N failed".
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build-win}"
include="$(cd "$here/../../include" && pwd)"

missing() {
  echo "go windows tests: $1" >&2
  echo "go windows tests: 0 passed, 0 failed"
  exit 2
}
[ -d "$build" ] || missing "no cross build at $build (run scripts/test-windows.sh)"
build="$(cd "$build" && pwd)"
[ -f "$build/liblane-0.dll" ] && [ -f "$build/liblane.dll.a" ] || missing "no liblane-0.dll / liblane.dll.a in $build"
command -v go >/dev/null 2>&1 || PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || missing "'go' not found in PATH or /usr/local/go/bin"
cc=x86_64-w64-mingw32-gcc-posix
command -v "$cc" >/dev/null 2>&1 || missing "$cc (mingw-w64) not found"
command -v wine >/dev/null 2>&1 || missing "wine not found"

export WINEPREFIX="${WINEPREFIX:-$build/wineprefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
export DISPLAY=
export WINEPATH="Z:$build${WINEPATH:+;$WINEPATH}"  # where the exe finds liblane-0.dll
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "go windows tests: creating the wine prefix $WINEPREFIX"
  wineboot -i >/dev/null 2>&1 || true
fi
out="$build/go"
mkdir -p "$out"

fail() {
  echo "go windows tests: $1" >&2
  echo "go windows tests: 0 passed, 1 failed"
  exit 1
}
sys32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -e "$sys32/bcryptprimitives.dll" ]; then
  echo "go windows tests: this wine has no bcryptprimitives.dll; installing a stand-in into $sys32"
  "$cc" -shared -O2 -Wall -Wextra -Werror -o "$out/bcryptprimitives.dll" "$here/testdata/wine/bcryptprimitives.c" -lbcrypt \
    && cp "$out/bcryptprimitives.dll" "$sys32/" || fail "could not build the bcryptprimitives.dll stand-in"
fi

# winpthread linked in statically: the exe then needs only liblane-0.dll
# (and Windows' own DLLs), like the DLL itself.
start=$(date +%s)
(
  cd "$here"
  export GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC="$cc" GOPROXY=off
  export CGO_CFLAGS="-I$include -Werror"
  export CGO_LDFLAGS="-L$build -Wl,-Bstatic -lwinpthread -Wl,-Bdynamic"
  go vet . && go test -c -o "$out/lane.test.exe" .
) || fail "the cross build of the test binary failed"
built=$(date +%s)

# Not for this build: the Example has no t.Skip.
skip_examples='^ExampleRegistry_NewSampler$'
echo "go windows tests: skipped ExampleRegistry_NewSampler: the DLL has no SQLite history (-Dsqlite=disabled)"
log="$out/test.log"
(cd "$out" && timeout 300 wine ./lane.test.exe -test.v -test.count=1 -test.timeout=240s -test.skip "$skip_examples") \
  >"$log" 2>&1
rc=$?
passed=$(grep -cE '^\s*--- PASS' "$log")
failed=$(grep -cE '^\s*--- FAIL' "$log")
grep -E '^\s*--- FAIL' "$log" >&2
# Every skip with its reason (-test.v prints the reason just before it).
grep -E -B1 '^\s*--- SKIP' "$log" | grep -v '^--$' | sed 's/^/go windows tests: /'
if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then
  # A panic, a timeout or the leak check: no test line says so.
  tail -40 "$log" >&2
  echo "go windows tests: the test binary exited $rc (see $log)" >&2
  failed=1
elif [ $rc -ne 0 ]; then
  echo "go windows tests: see $log" >&2
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  failed=1  # nothing ran: not a pass
fi
echo "go windows tests: $((built - start)) s to build, $(($(date +%s) - built)) s to test"
echo "go windows tests: $passed passed, $failed failed"
[ $rc -eq 0 ] && [ "$failed" -eq 0 ]
