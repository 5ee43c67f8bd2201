#!/usr/bin/env python3
"""Checks that liblane exports exactly its contract.

The public functions declared in lane.h (LANE_API), abi/liblane.symbols, the
version script abi/liblane.map, the lane_api_t table, the list of functions
that tests/abi/every_function.c references, and what the built library
exports (nm -D --defined-only) must all be the same set of names, each with
the lane_ prefix. Any difference fails with a readable report.

usage: check_symbols.py SOURCE_ROOT LIBRARY [OBJDUMP]

LIBRARY is liblane.so (its dynamic symbols, nm -D) or liblane-0.dll (its
export table, OBJDUMP -p, e.g. x86_64-w64-mingw32-objdump).
"""
import re
import subprocess
import sys
from pathlib import Path


def header_functions(text):
    return set(re.findall(r"^LANE_API\b[^;]*?\b(lane_\w+)\s*\(", text, re.M))


def api_table_functions(text):
    body = re.search(r"typedef struct lane_api \{(.*?)\} lane_api_t;", text, re.S).group(1)
    members = re.findall(r"\(\*(\w+)\)", body)
    # The table names each function without its prefix; lane_abi_version's
    # member is abi_version_fn because abi_version is the table's own field.
    return {"lane_" + ("abi_version" if m == "abi_version_fn" else m) for m in members}


def version_script_functions(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = set()
    for node, body in re.findall(r"([\w.]+)\s*\{(.*?)\}", text, re.S):
        if not re.fullmatch(r"LANE_\d+\.\d+", node):
            raise SystemExit(f"version script: node {node} is not named LANE_<major>.<minor>")
        glob = body.split("local:")[0]
        names |= set(re.findall(r"\b(\w+)\s*;", glob.replace("global:", "")))
    return names


def exported_pe(lib, objdump):
    """The names in a DLL's export table (objdump -p: the Name Pointer table)."""
    out = subprocess.run([objdump, "-p", lib], check=True, capture_output=True, text=True).stdout
    table = re.search(r"\[Ordinal/Name Pointer\] Table\n(.*?)(?:\n\s*\n|\Z)", out, re.S)
    if not table:
        raise SystemExit(f"{objdump} -p {lib}: no export table")
    return set(re.findall(r"\]\s+(\S+)\s*$", table.group(1), re.M))


def exported(lib, objdump=None):
    if lib.lower().endswith(".dll"):
        return exported_pe(lib, objdump or "objdump")
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] == "A":  # version nodes (LANE_0.1) are absolute symbols
            continue
        names.add(parts[2].split("@")[0])
    return names


def main():
    root, lib = Path(sys.argv[1]), sys.argv[2]
    objdump = sys.argv[3] if len(sys.argv) > 3 else None
    header = (root / "include/lane/lane.h").read_text()
    sets = {
        "lane.h (LANE_API)": header_functions(header),
        "abi/liblane.symbols": set((root / "abi/liblane.symbols").read_text().split()),
        "abi/liblane.map": version_script_functions((root / "abi/liblane.map").read_text()),
        "lane_api_t": api_table_functions(header),
        "tests/abi/every_function.c": set(
            re.findall(r"\(void \(\*\)\(void\)\)\s*(lane_\w+)", (root / "tests/abi/every_function.c").read_text())),
        (f"exports of {Path(lib).name}" if lib.lower().endswith(".dll") else f"nm -D {Path(lib).name}"):
            exported(lib, objdump),
    }
    reference = sets["lane.h (LANE_API)"]
    failed = False
    unprefixed = sorted(n for s in sets.values() for n in s if not n.startswith("lane_"))
    if unprefixed:
        failed = True
        print("names without the lane_ prefix:", ", ".join(sorted(set(unprefixed))))
    for name, names in sets.items():
        missing, extra = sorted(reference - names), sorted(names - reference)
        if missing or extra:
            failed = True
            print(f"{name} differs from lane.h:")
            if missing:
                print("  missing:", ", ".join(missing))
            if extra:
                print("  extra:  ", ", ".join(extra))
    if failed:
        return 1
    print(f"{len(reference)} functions: lane.h, symbols list, version script, api table, "
          f"every_function.c and the exports of {Path(lib).name} agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
