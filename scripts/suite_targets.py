#!/usr/bin/env python3
"""Prints the build targets (paths relative to the build directory) that the
tests of the given suites need, one a line, for `ninja -C BUILD $(...)`.

usage: suite_targets.py BUILD_DIR SUITE...
"""
import json
import os
import subprocess
import sys


def introspect(build, what):
    out = subprocess.run(["meson", "introspect", build, what], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    build, suites = sys.argv[1], set(sys.argv[2:])
    files = {t["id"]: t["filename"] for t in introspect(build, "--targets")}
    root = os.path.abspath(build)
    needed = set()
    for test in introspect(build, "--tests"):
        # Suites are listed as "project:suite".
        if suites & {s.split(":")[-1] for s in test["suite"]}:
            for dep in test["depends"]:
                needed.update(os.path.relpath(f, root) for f in files.get(dep, []))
    print("\n".join(sorted(needed)))
    return 0 if needed else 1


if __name__ == "__main__":
    sys.exit(main())
