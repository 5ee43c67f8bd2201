#!/usr/bin/env bash
# Installs what is missing, then builds liblane three times (plain,
# AddressSanitizer+UBSan, ThreadSanitizer; warnings are errors) and runs the
# whole suite in each. Ends with one line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

builds=(
  "build|"
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

python3 scripts/summarize_tests.py build build-asan build-tsan
exit $status
