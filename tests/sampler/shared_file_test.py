"""Several processes create a sampler on the same new SQLite file at once.

Each round starts PROCS processes on a fresh path at the same moment; every
one must open the history and write its sample, and the file must then hold
one row per process. Processes, not threads: SQLite's locking between
processes is what the journal-mode switch contends on.
"""
import os
import sqlite3
import subprocess
import sys
import tempfile

PROCS = 4
ROUNDS = 10


def main() -> int:
    exe = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for r in range(ROUNDS):
            path = os.path.join(d, f"shared-{r}.db")
            procs = [subprocess.Popen([exe, path], stderr=subprocess.PIPE, text=True) for _ in range(PROCS)]
            for p in procs:
                _, err = p.communicate(timeout=120)
                if p.returncode != 0:
                    failures += 1
                    print(f"round {r}: exit {p.returncode}: {err.strip()}")
            rows = sqlite3.connect(path).execute("SELECT COUNT(*) FROM lane_samples").fetchone()[0]
            if rows != PROCS:
                failures += 1
                print(f"round {r}: {rows} rows, want {PROCS}")
    print(f"shared history: {ROUNDS} rounds of {PROCS} processes, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
