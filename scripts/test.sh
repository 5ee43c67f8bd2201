#!/usr/bin/env bash
# Installs what is missing, then builds liblane four times (plain, release
# -O3, AddressSanitizer+UBSan, ThreadSanitizer; warnings are errors) and runs
# the whole suite in each, the C and C++ suites once more under valgrind, and
# the Go binding's tests (race detector, cgocheck2), the Rust binding's (fmt,
# clippy, tests linked and loaded at run time) and the Python binding's (mypy
# --strict, pytest in a fresh virtual environment) against the plain build,
# the mingw-w64 cross build's suites under wine, and a short fuzzing run.
# Ends with one line: "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

builds=(
  "build|-Dbenchmarks=true"
  "build-release|-Dbuildtype=release"
  "build-asan|-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all -Dcpp_args=-fno-sanitize-recover=all"
  "build-tsan|-Db_sanitize=thread -Db_lundef=false"
)

status=0
for b in "${builds[@]}"; do
  dir=${b%%|*}
  opts=${b#*|}
  echo "=== $dir ${opts:-(plain)}"
  # shellcheck disable=SC2086
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" -Dwerror=true $opts >/dev/null
  else
    meson setup "$dir" -Dwerror=true $opts >/dev/null
  fi
  meson compile -C "$dir"
  meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
done

echo "=== valgrind (memcheck) over the plain build"
meson test -C build --setup valgrind --suite core --suite capi --suite cpp --suite abi --suite session --suite stress --suite registry --suite sampler \
  --print-errorlogs --num-processes 2 || status=1

go_result=skipped
# Go lives in /usr/local/go on these machines; a non-login shell may not have it on PATH.
[ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"
if command -v go >/dev/null 2>&1; then
  echo "=== Go binding"
  if bash bindings/go/test.sh build; then go_result=ok; else go_result=fail; status=1; fi
else
  echo "=== Go binding: no 'go' on PATH; not run" >&2
  go_result=fail
  status=1
fi

rust_result=skipped
[ -d "$HOME/.cargo/bin" ] && export PATH="$PATH:$HOME/.cargo/bin"
if command -v cargo >/dev/null 2>&1; then
  echo "=== Rust binding"
  if bash bindings/rust/test.sh build; then rust_result=ok; else rust_result=fail; status=1; fi
else
  echo "=== Rust binding: no 'cargo' on PATH; not run" >&2
  rust_result=fail
  status=1
fi

echo "=== Python binding"
if bash bindings/python/test.sh build; then py_result=ok; else py_result=fail; status=1; fi

echo "=== Windows: liblane-0.dll (mingw-w64) and its suites under wine"
if bash scripts/test-windows.sh; then win_result=ok; else win_result=fail; status=1; fi

echo "=== API fuzzer (libFuzzer, clang, 30 s over tests/fuzz/corpus)"
if bash scripts/fuzz.sh 30; then fuzz_result=ok; else fuzz_result=fail; status=1; fi

python3 scripts/summarize_tests.py \
  build/meson-logs/testlog.json build-release/meson-logs/testlog.json build-asan/meson-logs/testlog.json build-tsan/meson-logs/testlog.json \
  build/meson-logs/testlog-valgrind.json "bindings/go=$go_result" "bindings/rust=$rust_result" "bindings/python=$py_result" "fuzz=$fuzz_result" "windows=$win_result" || status=1
exit $status
