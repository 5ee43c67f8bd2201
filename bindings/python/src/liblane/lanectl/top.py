"""lanectl top: a live table of every lane from a host's metrics endpoint."""

from __future__ import annotations

import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TextIO

from .promtext import PromSample, parse


@dataclass
class LaneRow:
    name: str
    running: float = 0
    max_concurrent: float = 0
    queued: float = 0
    oldest_wait: float = 0
    throughput_1m: float = 0
    ended_total: float = 0
    wait_p50: float = 0
    wait_p99: float = 0
    paused: bool = False


def fetch(url: str, timeout: float = 5.0) -> str:
    if "://" not in url:
        with open(url, encoding="utf-8") as f:
            return f.read()
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        data: bytes = resp.read()
        return data.decode("utf-8")


def rows_from(samples: list[PromSample]) -> dict[str, LaneRow]:
    rows: dict[str, LaneRow] = {}
    for s in samples:
        lane = s.labels.get("lane")
        if lane is None:
            continue
        r = rows.setdefault(lane, LaneRow(lane))
        n, v = s.name, s.value
        if n == "lane_running":
            r.running = v
        elif n == "lane_max_concurrent":
            r.max_concurrent = v
        elif n == "lane_queued":
            r.queued = v
        elif n == "lane_oldest_queued_age_seconds":
            r.oldest_wait = v
        elif n == "lane_throughput_last_minute":
            r.throughput_1m = v
        elif n == "lane_jobs_total":
            r.ended_total += v
        elif n == "lane_paused":
            r.paused = v != 0
        elif n == "lane_wait_seconds":
            q = s.labels.get("quantile")
            if q == "0.5":
                r.wait_p50 = v
            elif q == "0.99":
                r.wait_p99 = v
    return rows


def human_seconds(s: float) -> str:
    if s <= 0:
        return "0s"
    if s < 1e-3:
        return f"{s * 1e6:.0f}µs"
    if s < 1:
        return f"{s * 1e3:.0f}ms"
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def _state(r: LaneRow) -> str:
    if r.paused:
        return "paused"
    if r.queued > 0 and r.running >= r.max_concurrent:
        return "full"
    if r.queued > 0:
        return "held"  # queued with a free slot: a cooldown (not in the metrics) or a dispatch under way
    if r.running > 0:
        return "busy"
    return "idle"


HEADER = ("LANE", "RUNNING", "QUEUED", "OLDEST WAIT", "DONE/MIN", "DONE/S", "WAIT P50", "WAIT P99", "STATE")


def render(rows: dict[str, LaneRow], prev: dict[str, LaneRow] | None, dt: float) -> list[str]:
    """The table's lines (no screen control)."""
    table: list[tuple[str, ...]] = [HEADER]
    for name in sorted(rows):
        r = rows[name]
        rate = "-"
        if prev is not None and name in prev and dt > 0:
            rate = f"{max(0.0, r.ended_total - prev[name].ended_total) / dt:.1f}"
        table.append((
            name,
            f"{r.running:.0f}/{r.max_concurrent:.0f}",
            f"{r.queued:.0f}",
            human_seconds(r.oldest_wait) if r.queued else "-",
            f"{r.throughput_1m:.0f}",
            rate,
            human_seconds(r.wait_p50),
            human_seconds(r.wait_p99),
            _state(r),
        ))
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    lines = []
    for row in table:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:-1], widths[1:-1])]
        cells.append(row[-1].ljust(widths[-1]))
        lines.append("  ".join(cells).rstrip())
    running = sum(r.running for r in rows.values())
    queued = sum(r.queued for r in rows.values())
    lines.append("")
    lines.append(f"{len(rows)} lanes, {running:.0f} running, {queued:.0f} queued")
    return lines


def run(url: str, interval: float, iterations: int | None, once: bool, out: TextIO = sys.stdout) -> int:
    live = not once and out.isatty()
    prev: dict[str, LaneRow] | None = None
    prev_t = 0.0
    n = 0
    status = 0
    if live:
        out.write("\x1b[?1049h\x1b[?25l")  # alternate screen, no cursor
    try:
        while True:
            now = time.monotonic()
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            head = f"lanectl top  {url}  {stamp}"
            if not once:
                head += f"  every {interval:g}s (Ctrl-C quits)"
            try:
                rows = rows_from(parse(fetch(url)))
                lines = [head, ""] + render(rows, prev, now - prev_t)
                prev, prev_t = rows, now
                status = 0
            except Exception as e:  # noqa: BLE001 - shown, and tried again next refresh
                lines = [head, "", f"cannot read metrics: {e}"]
                status = 1
            if live:
                out.write("\x1b[H" + "".join(line + "\x1b[K\n" for line in lines) + "\x1b[J")
            else:
                out.write("\n".join(lines) + "\n")
            out.flush()
            n += 1
            if once or (iterations is not None and n >= iterations):
                return status
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0
    finally:
        if live:
            out.write("\x1b[?25h\x1b[?1049l")
            out.flush()
