#!/usr/bin/env python3
"""Parses lane_registry_metrics' output with prometheus_client's text parser
(a real Prometheus exposition parser) and checks every value against
lane_stats. usage: metrics_test.py METRICS_DUMP_PROGRAM"""
import json
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
    text, stats_text = out.split("#STATS\n")
    stats = {s["lane"]: s for s in map(json.loads, stats_text.splitlines())}
    assert set(stats) == {"llm", "tools", "idle.lane:x-1", "timed", "cool", "paced", "pre"}, stats.keys()

    samples = {}  # (sample name, lane, extra label value) -> value
    types = {}
    for fam in text_string_to_metric_families(text):
        types[fam.name] = fam.type
        for s in fam.samples:
            extra = (s.labels.get("outcome") or s.labels.get("quantile") or s.labels.get("state")
                     or s.labels.get("tenant") or s.labels.get("reason") or "")
            key = (s.name, s.labels["lane"], extra)
            assert key not in samples, f"duplicate sample {key}"
            samples[key] = s.value

    assert types == {
        "lane_max_concurrent": "gauge", "lane_running": "gauge", "lane_queued": "gauge",
        "lane_oldest_queued_age_seconds": "gauge", "lane_paused": "gauge",
        "lane_throughput_last_minute": "gauge", "lane_submitted": "counter", "lane_jobs": "counter",
        "lane_refused": "counter", "lane_wait_seconds": "summary", "lane_run_seconds": "summary",
        "lane_width": "gauge", "lane_slots_in_use": "gauge", "lane_released": "gauge",
        "lane_rate_waits": "counter", "lane_cost_used": "counter", "lane_overloads": "counter",
        "lane_tenant_running": "gauge", "lane_tenant_limit": "gauge",
        "lane_preemptions": "counter", "lane_blocked": "gauge", "lane_cooldown_remaining_seconds": "gauge",
        "lane_rate_ready_seconds": "gauge",
        # Shared lanes (tests/cluster checks their samples): the families, with none here.
        "lane_shared_available": "gauge", "lane_global_running": "gauge", "lane_global_queued": "gauge",
        "lane_leases_lost": "counter", "lane_releases_refused": "counter",
    }, types
    assert not any(name.startswith(("lane_global_", "lane_shared_", "lane_leases_", "lane_releases_"))
                   for (name, _, _) in samples), "a lane of one process reports shared-lane samples"

    def near(a, b):
        return abs(a - b) <= 1e-9 * max(1.0, abs(b))

    for lane, s in stats.items():
        def v(name, extra=""):
            return samples[(name, lane, extra)]
        checks = {
            ("lane_max_concurrent", ""): s["max_concurrent"],
            ("lane_running", ""): s["running"],
            ("lane_queued", ""): s["queued"],
            ("lane_paused", ""): s["paused"],
            ("lane_throughput_last_minute", ""): s["throughput_1m"],
            ("lane_submitted_total", ""): s["submitted"],
            ("lane_refused_total", ""): s["refused"],
            ("lane_jobs_total", "ok"): s["completed"],
            ("lane_jobs_total", "failed"): s["failed"],
            ("lane_jobs_total", "cancelled"): s["cancelled"],
            ("lane_jobs_total", "preempted"): s["preempted"],
            ("lane_jobs_total", "timed_out"): s["timed_out"],
            ("lane_jobs_total", "closed"): s["closed"],
            ("lane_wait_seconds", "0.5"): s["wait_p50_ns"] / 1e9,
            ("lane_wait_seconds", "0.99"): s["wait_p99_ns"] / 1e9,
            ("lane_run_seconds", "0.5"): s["run_p50_ns"] / 1e9,
            ("lane_run_seconds", "0.99"): s["run_p99_ns"] / 1e9,
            ("lane_width", ""): s["width"],
            ("lane_slots_in_use", ""): s["slots_in_use"],
            ("lane_released", "released"): s["released"],
            ("lane_released", "reacquiring"): s["reacquiring"],
            ("lane_rate_waits_total", ""): s["rate_waits"],
            ("lane_cost_used_total", ""): s["cost_used"],
            ("lane_overloads_total", ""): s["overloads"],
            ("lane_preemptions_total", ""): s["preemptions"],
        }
        reasons = ["full", "paused", "cooldown", "priority", "tenant", "rate", "tenant_limit"]
        for code, reason in enumerate(reasons, start=1):
            checks[("lane_blocked", reason)] = 1 if s["blocked_by"] == code else 0
        left = lambda at: max(0, at - s["now_ns"]) / 1e9 if at else 0.0
        checks[("lane_cooldown_remaining_seconds", "")] = left(s["cooldown_until_ns"])
        checks[("lane_rate_ready_seconds", "")] = left(s["rate_ready_at_ns"])
        age = (s["now_ns"] - s["oldest_queued_at_ns"]) / 1e9 if s["oldest_queued_at_ns"] else 0.0
        checks[("lane_oldest_queued_age_seconds", "")] = age
        for (name, extra), want in checks.items():
            got = v(name, extra)
            assert near(got, want), f"{lane} {name} {extra}: metrics say {got}, lane_stats says {want}"

    # A summary's _sum and _count: the window the quantiles are taken over.
    # client_golang and Prometheus read a summary without them as count 0.
    for lane in stats:
        for fam in ("lane_wait_seconds", "lane_run_seconds"):
            assert (fam + "_sum", lane, "") in samples, f"{lane}: no {fam}_sum"
            assert (fam + "_count", lane, "") in samples, f"{lane}: no {fam}_count"
    want = {
        ("lane_wait_seconds_sum", "timed"): 2.25, ("lane_wait_seconds_count", "timed"): 2,
        ("lane_run_seconds_sum", "timed"): 0.5, ("lane_run_seconds_count", "timed"): 2,
        ("lane_run_seconds_count", "tools"): 7, ("lane_run_seconds_sum", "tools"): 0.0,
        ("lane_wait_seconds_count", "llm"): 2,  # r1 and r2 started; the queued ones have no wait yet
    }
    for (name, lane), value in want.items():
        got = samples[(name, lane, "")]
        assert near(got, value), f"{lane} {name}: {got}, want {value}"

    llm, tools = stats["llm"], stats["tools"]
    assert (llm["max_concurrent"], llm["running"], llm["queued"]) == (2, 2, 2), llm
    assert llm["cancelled"] == 1 and llm["refused"] == 1, llm
    # q1 queued 1.5 + 2 s before the tools jobs; the timed lane then adds 1.5 s.
    assert samples[("lane_oldest_queued_age_seconds", "llm", "")] == 5.0
    assert (tools["completed"], tools["failed"]) == (5, 2), tools
    # Budgets: 5 jobs of cost 10 and 2 without a cost (1 each); the llm
    # lane's limited tenants, alice with her 2 running jobs, bob with none.
    assert tools["cost_used"] == 52, tools
    assert (llm["width"], llm["slots_in_use"]) == (2, 2), llm
    assert samples[("lane_tenant_running", "llm", "alice")] == llm["alice_running"] == 2
    assert samples[("lane_tenant_limit", "llm", "alice")] == 5
    assert samples[("lane_tenant_running", "llm", "bob")] == 0
    assert samples[("lane_tenant_limit", "llm", "bob")] == 1
    assert ("lane_tenant_running", "tools", "alice") not in samples
    # What holds each queue back, and for how long.
    blocked = {lane: [r for (n, l, r), val in samples.items() if n == "lane_blocked" and l == lane and val == 1]
               for lane in stats}
    assert blocked == {"llm": ["full"], "tools": [], "idle.lane:x-1": [], "timed": [], "cool": ["cooldown"],
                       "paced": ["rate"], "pre": []}, blocked
    assert samples[("lane_cooldown_remaining_seconds", "cool", "")] == 3.0
    assert samples[("lane_rate_ready_seconds", "paced", "")] == 10.0
    assert samples[("lane_rate_ready_seconds", "llm", "")] == 0.0
    assert samples[("lane_preemptions_total", "pre", "")] == 1 and stats["pre"]["preempted"] == 1, stats["pre"]
    print(f"{len(samples)} samples parsed and equal to lane_stats for {len(stats)} lanes")


if __name__ == "__main__":
    main()
