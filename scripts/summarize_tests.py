#!/usr/bin/env python3
"""Adds up meson's test logs of several build dirs into one closing line."""
import json
import sys
from pathlib import Path

passed = failed = skipped = 0
for build in sys.argv[1:]:
    log = Path(build) / "meson-logs" / "testlog.json"
    if not log.exists():
        print(f"{build}: no test log", file=sys.stderr)
        failed += 1
        continue
    for line in log.read_text().splitlines():
        result = json.loads(line)["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"{build}: {json.loads(line)['name']}: {result}", file=sys.stderr)
tail = f", {skipped} skipped" if skipped else ""
print(f"tests: {passed} passed, {failed} failed{tail}")
sys.exit(1 if failed else 0)
