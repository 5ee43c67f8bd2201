#!/usr/bin/env bash
# Compares the built library's ABI with the committed baseline (abidw/abidiff,
# Debian abigail-tools). Added functions pass; a removed or changed function
# or variable fails and prints abidiff's report.
#
# usage: check_abi.sh SOURCE_ROOT LIBRARY
# Refresh the baseline on purpose (after an intended, compatible change, or
# with a SONAME bump): abidw --no-corpus-path --headers-dir include/lane \
#     --out-file abi/liblane.abi build/liblane.so
set -euo pipefail
root=$1
lib=$2
report=$(abidiff --no-added-syms --suppressions "$root/abi/liblane.suppr" --headers-dir2 "$root/include/lane" "$root/abi/liblane.abi" "$lib") && rc=0 || rc=$?
if (( rc & 1 )) || (( rc & 2 )); then
  echo "abidiff could not compare (exit $rc):"
  echo "$report"
  exit 1
fi
# Count removed and changed entries from the summary lines.
bad=$(printf '%s\n' "$report" | grep -E "changes summary" | grep -Eo "[0-9]+ (Removed|Changed)" | awk '{s+=$1} END {print s+0}' || true)
if [ "$bad" -ne 0 ]; then
  echo "ABI break against abi/liblane.abi:"
  echo "$report"
  exit 1
fi
echo "ABI compatible with abi/liblane.abi (abidiff exit $rc)"
[ -n "$report" ] && printf '%s\n' "$report"
exit 0
