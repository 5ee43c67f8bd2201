"""W1 through the Python binding: many no-op jobs, against the standard
library doing the same work in the same run.

  sync:  Lane.submit of N no-op callables (liblane workers)  vs  ThreadPoolExecutor.submit
  async: N concurrent `await lane.run(noop)`                 vs  `async with asyncio.Semaphore`

Both sides use the same concurrency cap and wait for every outcome. Each
figure is the median of --runs runs; the ratio is the binding's time over
the baseline's (above 1: the binding is slower).

  LIBLANE_PATH=build/liblane.so python bindings/python/bench/bench_w1.py [--jobs N] [--runs R] [--cap C]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import platform
import statistics
import time
from typing import Callable

import liblane


def noop() -> None:
    pass


async def anoop() -> None:
    pass


def lane_sync(n: int, cap: int) -> float:
    with liblane.Lane("w1", cap) as lane:
        t0 = time.perf_counter()
        tickets = [lane.submit(noop, id=f"j{i}") for i in range(n)]
        for t in tickets:
            t.outcome.result()
        dt = time.perf_counter() - t0
    return dt


def pool_sync(n: int, cap: int) -> float:
    with concurrent.futures.ThreadPoolExecutor(max_workers=cap) as pool:
        pool.submit(noop).result()  # start a worker before the clock, as the lane has its own
        t0 = time.perf_counter()
        futs = [pool.submit(noop) for _ in range(n)]
        for f in futs:
            f.result()
        return time.perf_counter() - t0


def lane_async(n: int, cap: int) -> float:
    async def main() -> float:
        async with liblane.Lane("w1a", cap) as lane:
            t0 = time.perf_counter()
            await asyncio.gather(*(lane.run(anoop, id=f"j{i}") for i in range(n)))
            return time.perf_counter() - t0

    return asyncio.run(main())


def sem_async(n: int, cap: int) -> float:
    async def main() -> float:
        sem = asyncio.Semaphore(cap)

        async def one() -> None:
            async with sem:
                await anoop()

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - t0

    return asyncio.run(main())


def median_of(fn: Callable[[int, int], float], n: int, cap: int, runs: int) -> float:
    fn(max(100, n // 20), cap)  # warm-up
    return statistics.median(fn(n, cap) for _ in range(runs))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cap", type=int, default=4)
    a = ap.parse_args()
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print(f"machine: {cpu}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
          f"Python {platform.python_version()}, liblane {liblane.library_version}")
    print(f"W1: {a.jobs} no-op jobs, cap {a.cap}, median of {a.runs} runs")
    rows = []
    for label, mine, base, base_name in (
        ("sync", lane_sync, pool_sync, "ThreadPoolExecutor"),
        ("asyncio", lane_async, sem_async, "asyncio.Semaphore"),
    ):
        # Interleave the two sides so that load changes hit both.
        m_times, b_times = [], []
        mine(max(100, a.jobs // 20), a.cap)
        base(max(100, a.jobs // 20), a.cap)
        for _ in range(a.runs):
            m_times.append(mine(a.jobs, a.cap))
            b_times.append(base(a.jobs, a.cap))
        m, b = statistics.median(m_times), statistics.median(b_times)
        rows.append((label, m, b, base_name))
    print()
    print("| mode | liblane jobs/s | µs/job | baseline | baseline jobs/s | µs/job | liblane / baseline time |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for label, m, b, base_name in rows:
        print(f"| {label} | {a.jobs / m:,.0f} | {m / a.jobs * 1e6:.1f} | {base_name} | {a.jobs / b:,.0f} | "
              f"{b / a.jobs * 1e6:.1f} | {m / b:.2f} |")


if __name__ == "__main__":
    main()
