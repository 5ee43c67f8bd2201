"""lanectl metrics: checks a metrics text with prometheus_client's parser."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from .top import fetch

LANE_FAMILIES = {
    "lane_max_concurrent": "gauge", "lane_running": "gauge", "lane_queued": "gauge",
    "lane_oldest_queued_age_seconds": "gauge", "lane_paused": "gauge", "lane_throughput_last_minute": "gauge",
    "lane_submitted": "counter", "lane_jobs": "counter", "lane_refused": "counter",
    "lane_wait_seconds": "summary", "lane_run_seconds": "summary",
}


def run(source: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        err.write("lanectl metrics: prometheus_client is not installed (pip install 'liblane[metrics]')\n")
        return 2
    try:
        text = fetch(source)
    except Exception as e:  # noqa: BLE001
        err.write(f"lanectl metrics: cannot read {source}: {e}\n")
        return 1
    families: dict[str, Any] = {}
    try:
        for fam in text_string_to_metric_families(text):
            families[fam.name] = fam
    except Exception as e:  # noqa: BLE001 - the parser's own words are the finding
        err.write(f"lanectl metrics: {source} is not valid Prometheus text: {e}\n")
        return 1
    lanes: dict[str, dict[str, float]] = {}
    n_samples = 0
    for fam in families.values():
        for s in fam.samples:
            n_samples += 1
            lane = s.labels.get("lane")
            if lane is not None:
                key = s.name + "".join(f"[{k}={v}]" for k, v in sorted(s.labels.items()) if k != "lane")
                lanes.setdefault(lane, {})[key] = s.value
    problems = []
    for name, typ in LANE_FAMILIES.items():
        found = families.get(name)
        if found is None:
            problems.append(f"missing family {name}")
        elif found.type != typ:
            problems.append(f"{name} is a {found.type}, expected {typ}")
    out.write(f"{source}: valid Prometheus text, {len(families)} families, {n_samples} samples, "
              f"{len(lanes)} lanes\n")
    for lane in sorted(lanes):
        v = lanes[lane]
        ok = v.get("lane_jobs_total[outcome=ok]", 0)
        failed = v.get("lane_jobs_total[outcome=failed]", 0)
        out.write(
            f"  {lane}: running {v.get('lane_running', 0):.0f}/{v.get('lane_max_concurrent', 0):.0f}, "
            f"queued {v.get('lane_queued', 0):.0f}, submitted {v.get('lane_submitted_total', 0):.0f}, "
            f"ok {ok:.0f}, failed {failed:.0f}, refused {v.get('lane_refused_total', 0):.0f}, "
            f"wait p99 {v.get('lane_wait_seconds[quantile=0.99]', 0):.3f}s\n"
        )
    for p in problems:
        out.write(f"  problem: {p}\n")
    return 1 if problems else 0
