"""Provider budgets: cost, slots, run timeouts, rate and tenant limits,
release/reacquire and adaptive width, through the Python API."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import pytest

import liblane
from liblane import BlockedBy, RateKind


def wait_for(what: str, cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.001)


def test_a_rate_limit_holds_the_front_and_counts_its_waits(make_lane: Any) -> None:
    ln = make_lane("rate", 4)
    ln.set_rate_limit(RateKind.REQUESTS, 1, 1000.0, burst=2)
    ln.submit(lambda: None, id="r1").outcome.result(10)
    ln.submit(lambda: None, id="r2").outcome.result(10)
    t3 = ln.submit(lambda: None, id="r3")
    assert t3.info.blocked_by is BlockedBy.RATE
    assert t3.info.eta > 900
    with pytest.raises(liblane.BusyError):
        ln.submit(lambda: None, id="r4", max_wait=1.0)
    s = ln.stats()
    assert s.rate_waits == 1 and s.rate_ready_at is not None
    ln.set_rate_limit(RateKind.REQUESTS, 0, 0)
    t3.outcome.result(10)


def test_a_tenant_at_its_limit_does_not_block_others(make_lane: Any) -> None:
    ln = make_lane("tenants", 4)
    ln.set_tenant_limit("alice", 1)
    gate = threading.Event()
    a1 = ln.submit(gate.wait, 10, id="a1", tenant="alice")
    a2 = ln.submit(gate.wait, 10, id="a2", tenant="alice")
    assert a2.info.blocked_by is BlockedBy.TENANT_LIMIT
    b1 = ln.submit(gate.wait, 10, id="b1", tenant="bob")
    assert b1.info.position == 0
    assert ln.tenant_running("alice") == 1
    gate.set()
    for t in (a1, a2, b1):
        t.outcome.result(10)


def test_a_two_slot_job_waits_for_two_free_slots(make_lane: Any) -> None:
    ln = make_lane("slots", 3)
    g1, g2 = threading.Event(), threading.Event()
    t1 = ln.submit(g1.wait, 10, id="one")
    t2 = ln.submit(g2.wait, 10, id="two")
    big = ln.submit(lambda: "big", id="big", slots=2)
    assert big.info.position > 0 and big.info.blocked_by is BlockedBy.FULL
    assert ln.stats().slots_in_use == 2
    g1.set()
    assert big.outcome.result(10) == "big"
    g2.set()
    t1.outcome.result(10)
    t2.outcome.result(10)


def test_run_timeout_ends_the_job_timed_out(make_lane: Any) -> None:
    ln = make_lane("runtimeout", 1)

    def slow() -> None:
        liblane.current_job().wait(10)

    t = ln.submit(slow, id="slow", run_timeout=0.02)
    with pytest.raises(liblane.TimedOut):
        t.outcome.result(10)
    assert ln.stats().timed_out == 1


def test_overloaded_halves_an_adaptive_lane_and_set_cost_is_counted(make_lane: Any) -> None:
    ln = make_lane("adaptive", 8, adaptive=(1, 8))
    assert ln.stats().width == 8

    def call() -> None:
        job = liblane.current_job()
        job.set_cost(1234)
        job.overloaded()

    ln.submit_wait(call, id="c1", cost=500)
    s = ln.stats()
    assert s.width == 4 and s.overloads == 1 and s.cost_used == 1234


def test_release_frees_the_slot_and_reacquire_takes_it_back(make_lane: Any) -> None:
    ln = make_lane("release", 1)
    released = threading.Event()
    other_runs = threading.Event()

    def agent() -> str:
        job = liblane.current_job()
        job.release()
        released.set()
        assert other_runs.wait(10)
        job.reacquire(timeout=10)
        return "back"

    gate = threading.Event()

    def other() -> None:
        other_runs.set()
        gate.wait(10)

    ta = ln.submit(agent, id="agent")
    assert released.wait(10)
    to = ln.submit(other, id="other")
    assert to.info.position == 0  # it runs in the freed slot
    wait_for("the reacquire to queue", lambda: ln.stats().reacquiring == 1)
    gate.set()
    assert ta.outcome.result(10) == "back"
    to.outcome.result(10)
    s = ln.stats()
    assert s.released == 0 and s.reacquiring == 0 and s.slots_in_use == 0


def test_a_reacquire_that_times_out_stays_released(make_lane: Any) -> None:
    ln = make_lane("retimeout", 1)
    gate = threading.Event()
    seen: list[type] = []

    def agent() -> None:
        job = liblane.current_job()
        job.release()
        ln.submit(gate.wait, 10, id="hog")
        try:
            job.reacquire(timeout=0.01)
        except liblane.TimedOut as e:
            seen.append(type(e))
        gate.set()

    ln.submit_wait(agent, id="agent")
    assert seen == [liblane.TimedOut]


def test_budget_bad_inputs_raise_invalid(make_lane: Any) -> None:
    ln = make_lane("bad", 2)
    cases: list[Callable[[], object]] = [
        lambda: ln.submit(lambda: None, id="neg-cost", cost=-1),
        lambda: ln.submit(lambda: None, id="neg-rt", run_timeout=-1),
        lambda: ln.submit(lambda: None, id="too-wide", slots=3),
        lambda: ln.set_rate_limit(0, 1, 1.0),
        lambda: ln.set_rate_limit(RateKind.REQUESTS, -1, 1.0),
        lambda: ln.set_rate_limit(RateKind.REQUESTS, 1, 0),
        lambda: ln.set_tenant_limit("a", -1),
        lambda: liblane.Lane("bad-adaptive", 2, adaptive=(3, 2)),
    ]
    for case in cases:
        with pytest.raises(liblane.InvalidError) as e:
            case()
        assert str(e.value)

    def greedy() -> None:
        liblane.current_job().reacquire(0)  # it holds its slot: nothing to reacquire

    with pytest.raises(liblane.InvalidError):
        ln.submit_wait(greedy, id="greedy")

    def zero_cost() -> None:
        liblane.current_job().set_cost(0)

    with pytest.raises(liblane.InvalidError):
        ln.submit_wait(zero_cost, id="zero")


def test_the_binding_readme_provider_example_runs() -> None:
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## Provider budgets", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    check = "\nllm.close()\ns = llm.stats()\nassert s.cost_used == 1234 and s.width == 3, s\nprint('ok')\n"
    r = subprocess.run([sys.executable, "-c", block + check], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
