#!/usr/bin/env python3
"""Adds up meson's test logs (and other suites' results) into one closing line.

usage: summarize_tests.py [LOG.json | NAME=ok|fail] ...
"""
import json
import sys
from pathlib import Path

passed = failed = skipped = 0
for arg in sys.argv[1:]:
    if "=" in arg and not arg.endswith(".json"):
        name, result = arg.split("=", 1)
        if result == "ok":
            passed += 1
        else:
            failed += 1
            print(f"{name}: {result}", file=sys.stderr)
        continue
    log = Path(arg)
    if not log.exists():
        print(f"{arg}: no test log", file=sys.stderr)
        failed += 1
        continue
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        if entry["result"] in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif entry["result"] == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"{log}: {entry['name']}: {entry['result']}", file=sys.stderr)
tail = f", {skipped} skipped" if skipped else ""
print(f"tests: {passed} passed, {failed} failed{tail}")
sys.exit(1 if failed else 0)
