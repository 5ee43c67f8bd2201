#!/usr/bin/env python3
"""Checks the library's layering before anything compiles.

    check_layers.py SRC_DIR [STAMP]

Each folder of SRC_DIR is a layer and may include only itself, the public
header (lane/...) and the layers below it. src/core may not include thread,
lock, atomic or I/O headers; only src/capi may say extern "C" or LANE_API.
On success STAMP (a header nothing includes) is written, so the build can
order every compile after the check; on a violation the build stops with
one line per offending include.
"""
import pathlib
import re
import sys

# Each layer and what it may include besides itself and the public header.
BELOW = {
    "core": set(),
    "exec": {"core"},
    "session": {"exec", "core"},
    "registry": {"exec", "core"},
    "sampler": {"registry", "exec", "core"},
    "cluster": {"exec", "core"},
    "capi": {"sampler", "registry", "session", "cluster", "exec", "core"},
}

# src/core is a state machine: no threads, no clocks, no I/O.
CORE_FORBIDDEN = {
    "thread", "mutex", "shared_mutex", "condition_variable", "atomic", "future", "semaphore", "latch",
    "barrier", "stop_token", "chrono", "ctime", "time.h", "fstream", "iostream", "istream", "ostream",
    "sstream", "cstdio", "stdio.h", "filesystem", "unistd.h", "pthread.h", "csignal", "signal.h",
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
C_LINKAGE = re.compile(r'extern\s+"C"|\bLANE_API\b')


def check(src: pathlib.Path) -> list[str]:
    problems = []
    layers = sorted(p.name for p in src.iterdir() if p.is_dir())
    for layer in layers:
        if layer not in BELOW:
            problems.append(f"{src / layer}: a folder that is no known layer (add it to check_layers.py)")
            continue
        allowed = BELOW[layer] | {layer}
        for f in sorted((src / layer).rglob("*")):
            if f.suffix not in {".cpp", ".hpp", ".h", ".c", ".inc"}:
                continue
            for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
                where = f"{f}:{n}"
                if layer != "capi" and C_LINKAGE.search(line.split("//")[0]):
                    problems.append(f"{where}: extern \"C\" / LANE_API outside src/capi")
                m = INCLUDE.match(line)
                if not m:
                    continue
                quote, path = m.groups()
                if quote == "<":
                    if layer == "core" and path in CORE_FORBIDDEN:
                        problems.append(f"{where}: src/core includes <{path}> (no threads, clocks or I/O in core)")
                    continue
                top = path.split("/", 1)[0] if "/" in path else None
                if top is None or top == "lane":
                    continue  # same folder, or the public header
                if top not in BELOW:
                    problems.append(f"{where}: includes {path!r}, which is in no layer")
                elif top not in allowed:
                    problems.append(f"{where}: layer {layer!r} includes {path!r} from layer {top!r}, "
                                    f"which is not below it (allowed: {', '.join(sorted(allowed))})")
    return problems


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    problems = check(pathlib.Path(sys.argv[1]))
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check_layers: {len(problems)} layering violation(s)", file=sys.stderr)
        return 1
    if len(sys.argv) == 3:
        pathlib.Path(sys.argv[2]).write_text("/* layering checked: see scripts/check_layers.py */\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
