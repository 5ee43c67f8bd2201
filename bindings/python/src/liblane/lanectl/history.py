"""lanectl history: occupancy over time from the sampler's SQLite history."""

from __future__ import annotations

import re
import sqlite3
import statistics
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

from .._types import Sample
from ..registry import history as query_history

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_when(text: str, now: datetime) -> datetime:
    """'90s', '30m', '1h', '2d', '1w' (that long ago) or an ISO 8601 time (UTC if no zone)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if m:
        return now - timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"cannot read time {text!r}: use 90s, 30m, 1h, 2d, 1w or an ISO 8601 time") from None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def lane_names(db: str) -> list[str]:
    """Lanes that have rows (read-only; the C API queries one lane at a time)."""
    uri = Path(db).resolve().as_uri() + "?mode=ro"
    con = sqlite3.connect(uri, uri=True, timeout=5.0)
    try:
        return [r[0] for r in con.execute("SELECT DISTINCT lane FROM lane_samples ORDER BY lane")]
    finally:
        con.close()


@dataclass
class LaneSummary:
    lane: str
    samples: int
    first: datetime | None
    last: datetime | None
    max_concurrent: int
    max_known: bool  # False: the highest running count seen stands in for max_concurrent
    peak_running: int
    peak_queued: int
    mean_running: float
    p95_queued: float
    full_seconds: float
    span_seconds: float
    busiest_hour: datetime | None
    busiest_hour_mean: float


def _weights(rows: list[Sample]) -> list[float]:
    """Seconds each row stands for: until the next row, gaps capped at twice the usual interval."""
    if len(rows) < 2:
        return [0.0] * len(rows)
    gaps = [(b.sampled_at_ns - a.sampled_at_ns) / 1e9 for a, b in zip(rows, rows[1:])]
    usual = statistics.median(gaps) or 1.0
    w = [min(g, 2 * usual) for g in gaps]
    w.append(usual)
    return w


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summarize(lane: str, rows: list[Sample], max_concurrent: int | None) -> LaneSummary:
    peak_running = max((r.running for r in rows), default=0)
    cap = max_concurrent if max_concurrent is not None else peak_running
    w = _weights(rows)
    full = sum(wi for r, wi in zip(rows, w) if cap > 0 and r.running >= cap)
    hours: dict[datetime, list[int]] = {}
    for r in rows:
        h = r.sampled_at.replace(minute=0, second=0, microsecond=0)
        hours.setdefault(h, []).append(r.running + r.queued)
    busiest = max(hours.items(), key=lambda kv: statistics.fmean(kv[1]), default=None)
    return LaneSummary(
        lane=lane,
        samples=len(rows),
        first=rows[0].sampled_at if rows else None,
        last=rows[-1].sampled_at if rows else None,
        max_concurrent=cap,
        max_known=max_concurrent is not None,
        peak_running=peak_running,
        peak_queued=max((r.queued for r in rows), default=0),
        mean_running=statistics.fmean([r.running for r in rows]) if rows else 0.0,
        p95_queued=percentile([float(r.queued) for r in rows], 95),
        full_seconds=full,
        span_seconds=sum(w),
        busiest_hour=busiest[0] if busiest else None,
        busiest_hour_mean=statistics.fmean(busiest[1]) if busiest else 0.0,
    )


def _dur(s: float) -> str:
    if s < 120:
        return f"{s:.0f}s"
    if s < 7200:
        return f"{s / 60:.0f}m"
    return f"{s / 3600:.1f}h"


def summary_lines(sums: list[LaneSummary]) -> list[str]:
    lines = []
    for s in sums:
        if not s.samples:
            lines.append(f"{s.lane}: no samples in the range")
            continue
        assert s.first is not None and s.last is not None
        cap = f"{s.max_concurrent}" if s.max_known else f"{s.max_concurrent} (peak seen; max_concurrent unknown)"
        pct = 100 * s.full_seconds / s.span_seconds if s.span_seconds else 0.0
        lines.append(f"{s.lane}: {s.samples} samples, {s.first:%Y-%m-%d %H:%M} to {s.last:%Y-%m-%d %H:%M} UTC")
        lines.append(f"  max_concurrent {cap}; running peak {s.peak_running}, mean {s.mean_running:.1f}")
        lines.append(f"  time spent full: {_dur(s.full_seconds)} of {_dur(s.span_seconds)} ({pct:.0f}%)")
        lines.append(f"  queued: peak {s.peak_queued}, p95 {s.p95_queued:.1f}")
        if s.busiest_hour is not None:
            lines.append(f"  busiest hour: {s.busiest_hour:%Y-%m-%d %H:00} UTC "
                         f"(mean {s.busiest_hour_mean:.1f} running + queued)")
    return lines


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def draw(data: list[tuple[str, list[Sample], LaneSummary]], out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    n = len(data)
    fig, axes = plt.subplots(n, 1, figsize=(11, 2.6 * n + 0.8), sharex=True, squeeze=False)
    for ax, (lane, rows, s) in zip(axes[:, 0], data):
        t = [r.sampled_at for r in rows]
        running = [r.running for r in rows]
        queued = [r.queued for r in rows]
        ax.fill_between(t, running, step="post", alpha=0.35, color="tab:blue")
        ax.step(t, running, where="post", color="tab:blue", label="running")
        ax.step(t, queued, where="post", color="tab:orange", label="queued")
        cap_label = "max_concurrent" if s.max_known else "peak running (max_concurrent unknown)"
        ax.axhline(s.max_concurrent, color="tab:red", linestyle="--", linewidth=1.2, label=cap_label)
        pct = 100 * s.full_seconds / s.span_seconds if s.span_seconds else 0.0
        note = "" if s.max_known else f" (max_concurrent unknown: dashed line is the peak, {s.max_concurrent})"
        ax.set_title(f"{lane}: full {pct:.0f}% of the time, queued p95 {s.p95_queued:.1f}{note}", loc="left",
                     fontsize=10)
        ax.set_ylabel("jobs")
        ax.set_ylim(bottom=0, top=max([s.max_concurrent, *running, *queued, 1]) * 1.15)
        ax.grid(True, alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    dates: Any = mdates  # DateFormatter has no annotations
    axes[-1, 0].xaxis.set_major_formatter(dates.DateFormatter("%m-%d %H:%M", tz=timezone.utc))
    axes[-1, 0].set_xlabel("time (UTC)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncol=len(labels), fontsize=9, frameon=False)
    fig.suptitle("lane occupancy", fontsize=12, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(out, dpi=100)
    plt.close(fig)


def run(db: str, lanes: list[str] | None, since: str | None, until: str | None, out_path: str | None,
        max_concurrent: dict[str, int], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if not Path(db).exists():
        err.write(f"lanectl history: {db}: no such file\n")
        return 1
    now = datetime.now(timezone.utc)
    lo = parse_when(since, now) if since else None
    hi = parse_when(until, now) if until else None
    names = lanes or lane_names(db)
    if not names:
        err.write(f"lanectl history: {db} has no samples\n")
        return 1
    data: list[tuple[str, list[Sample], LaneSummary]] = []
    for name in names:
        rows = query_history(db, name, lo, hi)
        data.append((name, rows, summarize(name, rows, max_concurrent.get(name))))
    out.write("\n".join(summary_lines([d[2] for d in data])) + "\n")
    if out_path is None:
        return 0
    if not have_matplotlib():
        err.write("lanectl history: matplotlib is not installed (pip install 'liblane[plot]'); "
                  f"wrote no chart to {out_path}, text summary only\n")
        return 3
    drawn = [d for d in data if d[1]]
    if not drawn:
        err.write("lanectl history: nothing to draw in the range\n")
        return 1
    draw(drawn, out_path)
    out.write(f"chart: {out_path}\n")
    return 0


