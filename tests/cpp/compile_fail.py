#!/usr/bin/env python3
"""A snippet that must not compile, and must say why in one line.

usage: compile_fail.py "<expected text>" snippet.cpp -- <compiler and flags...>

Passes when the compiler fails, the first "error:" line names the expected
text, and only one error comes from lane.hpp or the snippet's own call (the
notes that follow it are the compiler's context, not more errors).
A snippet also compiles once with -DLANE_COMPILE_FAIL_CONTROL, which
removes the bad line: it must then succeed, so a typo cannot pass the test.
"""
import subprocess
import sys

expected, snippet = sys.argv[1], sys.argv[2]
assert sys.argv[3] == "--"
cmd = [a for a in sys.argv[4:] if a] + ["-fsyntax-only", "-fdiagnostics-color=never"]

bad = subprocess.run(cmd + [snippet], capture_output=True, text=True)
errors = [line for line in bad.stderr.splitlines() if " error: " in line or line.startswith("error:")]
if bad.returncode == 0:
    sys.exit(f"{snippet} compiled; it must not")
if not errors or expected not in errors[0]:
    sys.exit(f"{snippet}: first error does not say {expected!r}:\n{bad.stderr}")
header_errors = [e for e in errors if "lane.hpp" in e]
if len(header_errors) > 1:
    sys.exit(f"{snippet}: {len(header_errors)} errors in lane.hpp, want one:\n{bad.stderr}")
print(errors[0])

control = subprocess.run(cmd + ["-DLANE_COMPILE_FAIL_CONTROL", snippet], capture_output=True, text=True)
if control.returncode != 0:
    sys.exit(f"{snippet} with LANE_COMPILE_FAIL_CONTROL must compile:\n{control.stderr}")
print(f"{snippet}: fails as it should, and compiles without the bad line")
