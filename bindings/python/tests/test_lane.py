"""Callback jobs through the sync API: scenarios a host relies on."""

from __future__ import annotations

import concurrent.futures
import gc
import os
import subprocess
import sys
import threading
import time
import weakref
from datetime import timedelta
from typing import Any

import pytest

import liblane
from liblane import BlockedBy

from conftest import Gate, wait_for


def test_a_free_slot_runs_the_job_at_once(make_lane: Any) -> None:
    lane = make_lane("llm", 2)
    ran = threading.Event()
    t = lane.submit(ran.set, id="a")
    assert t.position == 0 and t.blocked_by is BlockedBy.NONE and t.eta == 0.0
    assert t.token != 0
    assert ran.wait(2)
    assert t.result(2) is None
    st = lane.stats()
    assert (st.submitted, st.completed, st.running, st.queued) == (1, 1, 0, 0)


def test_fifo_runs_in_arrival_order_and_tickets_count_places(make_lane: Any) -> None:
    lane = make_lane("fifo", 1)
    gate = Gate()
    lane.submit(gate, id="gate")
    assert gate.started.wait(2)
    order: list[str] = []
    tickets = [lane.submit(order.append, name, id=name) for name in ("a", "b", "c")]
    assert [t.position for t in tickets] == [1, 2, 3]
    assert all(t.blocked_by is BlockedBy.FULL for t in tickets)
    assert tickets[0].eta > 0 and tickets[2].eta > tickets[0].eta
    assert isinstance(tickets[1].eta_timedelta, timedelta)
    assert tickets[1].eta_timedelta.total_seconds() == pytest.approx(tickets[1].eta)
    gate.release.set()
    for t in tickets:
        t.result(5)
    assert order == ["a", "b", "c"]


def test_fair_share_serves_the_tenant_that_had_less(make_lane: Any) -> None:
    lane = make_lane("fair", 1, policy="fair_share")
    gate = Gate()
    lane.submit(gate, id="gate", tenant="gatekeeper")
    assert gate.started.wait(2)
    order: list[str] = []
    def job(jid: str) -> None:
        time.sleep(0.01)
        order.append(jid)

    for jid, tenant in (("alice-1", "alice"), ("alice-2", "alice"), ("alice-3", "alice"), ("bob-1", "bob")):
        lane.submit(job, jid, id=jid, tenant=tenant)
    gate.release.set()
    assert lane.wait_idle(5)
    assert order.index("bob-1") < order.index("alice-2"), order
    assert order[0] == "alice-1"


@pytest.mark.parametrize("half_life", [None, 60.0])
def test_fair_half_life_keeps_a_heavy_tenants_usage(make_lane: Any, half_life: float | None) -> None:
    # "heavy" uses the lane alone, then goes idle. Then, behind a gate, heavy
    # queues one job before a new tenant "light" queues one. Without usage
    # memory heavy is forgotten and both start equal (heavy, created first,
    # goes first); with a half-life heavy keeps its decayed usage and light
    # goes first.
    lane = make_lane("half-life", 1, policy="fair_share", fair_half_life=half_life)
    for i in range(3):
        lane.submit(time.sleep, 0.03, id=f"heavy-warm-{i}", tenant="heavy")
    assert lane.wait_idle(5)
    gate = Gate()
    lane.submit(gate, id="gate", tenant="gatekeeper")
    assert gate.started.wait(2)
    order: list[str] = []
    lane.submit(order.append, "heavy", id="heavy-1", tenant="heavy")
    lane.submit(order.append, "light", id="light-1", tenant="light")
    gate.release.set()
    assert lane.wait_idle(5)
    assert order == (["light", "heavy"] if half_life else ["heavy", "light"])


def test_fair_half_life_must_not_be_negative() -> None:
    with pytest.raises(liblane.InvalidError):
        liblane.Lane("bad", 1, policy="fair_share", fair_half_life=-1)


def test_higher_priority_goes_first(make_lane: Any) -> None:
    lane = make_lane("prio", 1, policy="fair_share")
    gate = Gate()
    lane.submit(gate, id="gate")
    assert gate.started.wait(2)
    order: list[str] = []
    low = lane.submit(order.append, "low", id="low", priority=0)
    high = lane.submit(order.append, "high", id="high", priority=5)
    assert (low.position, high.position) == (1, 1)
    gate.release.set()
    assert lane.wait_idle(5)
    assert order == ["high", "low"]


def test_preemption_cause_is_seen_inside_the_job(make_lane: Any) -> None:
    lane = make_lane("gpu", 1, policy="fair_share", preempt_min_runtime=0)
    seen: list[liblane.LaneError | None] = []
    started = threading.Event()

    def long_job() -> str:
        started.set()
        seen.append(liblane.current_job().wait(10))
        return "stopped"

    low = lane.submit(long_job, id="train", priority=0, preemptible=True)
    assert started.wait(2)
    high = lane.submit(lambda: "urgent", id="infer", priority=10)
    assert high.result(5) == "urgent"
    assert isinstance(seen[0], liblane.Preempted)
    with pytest.raises(liblane.Preempted):
        low.result(5)
    st = lane.stats()
    assert st.preempted == 1 and st.completed == 1 and st.preemptions == 1


def test_requeue_on_preempt_runs_the_job_again(make_lane: Any) -> None:
    lane = make_lane("gpu", 1, policy="fair_share", preempt_min_runtime=0)
    runs: list[str] = []
    started = threading.Event()

    def job() -> int:
        runs.append("run")
        started.set()
        liblane.current_job().wait(0.5 if len(runs) == 1 else 0.0)
        return len(runs)

    low = lane.submit(job, id="train", preemptible=True, requeue_on_preempt=True)
    assert started.wait(2)
    lane.submit(lambda: None, id="infer", priority=10).result(5)
    assert low.result(5) == 2
    assert lane.stats().completed == 2


def test_max_wait_refuses_with_the_estimate_and_queues_nothing(make_lane: Any) -> None:
    lane = make_lane("busy", 1, eta_default_runtime=10)
    gate = Gate()
    lane.submit(gate, id="gate")
    assert gate.started.wait(2)
    with pytest.raises(liblane.BusyError) as ei:
        lane.submit(lambda: None, id="late", max_wait=0.01)
    assert ei.value.position == 1 and ei.value.eta > 1
    assert "late" in str(ei.value) or ei.value.message
    st = lane.stats()
    assert st.queued == 0 and st.refused == 1
    gate.release.set()


def test_a_live_id_is_refused_as_duplicate(make_lane: Any) -> None:
    lane = make_lane("dup", 1)
    gate = Gate()
    lane.submit(gate, id="x")
    with pytest.raises(liblane.DuplicateError) as ei:
        lane.submit(lambda: None, id="x")
    assert "x" in ei.value.message
    gate.release.set()
    assert lane.wait_idle(5)
    lane.submit(lambda: None, id="x").result(5)  # free again once ended


def test_cancel_a_queued_job_by_id_token_or_future(make_lane: Any) -> None:
    lane = make_lane("c", 1)
    gate = Gate()
    lane.submit(gate, id="gate")
    ran: list[str] = []
    a = lane.submit(ran.append, "a", id="a")
    b = lane.submit(ran.append, "b", id="b")
    c = lane.submit(ran.append, "c", id="c")
    lane.cancel("a")
    lane.cancel(token=b.token)
    assert c.outcome.cancel() is True
    assert a.outcome.cancelled() and b.outcome.cancelled() and c.outcome.cancelled()
    with pytest.raises(concurrent.futures.CancelledError):
        a.result(1)
    with pytest.raises(liblane.NotQueuedError):
        lane.cancel("a")
    with pytest.raises(liblane.NotQueuedError):
        lane.cancel(token=123456789)
    with pytest.raises(liblane.InvalidError):
        lane.cancel()
    gate.release.set()
    assert lane.wait_idle(5)
    assert ran == [] and lane.stats().cancelled == 3


def test_cancel_a_running_job(make_lane: Any) -> None:
    lane = make_lane("c", 1)
    seen: list[Any] = []
    started = threading.Event()

    def job() -> None:
        started.set()
        seen.append(liblane.current_job().wait(10))

    t = lane.submit(job, id="long")
    assert started.wait(2)
    assert t.outcome.running()
    assert t.outcome.cancel() is False  # Future semantics: a running job is not withdrawn
    lane.cancel("long", running=True)
    wait_for(t.done)
    assert isinstance(seen[0], liblane.Cancelled)
    assert t.outcome.cancelled()


def test_a_raising_job_fails_with_its_own_exception(make_lane: Any) -> None:
    lane = make_lane("r", 2)

    def boom() -> None:
        raise KeyError("no such tool")

    t = lane.submit(boom, id="tool")
    exc = t.outcome.exception(5)
    assert isinstance(exc, KeyError) and exc.args == ("no such tool",)
    with pytest.raises(KeyError):
        lane.submit_wait(boom, id="tool-2")
    st = lane.stats()
    assert st.failed == 2 and st.completed == 0


def test_submit_wait_runs_inline_on_a_free_slot_and_returns_the_value(make_lane: Any) -> None:
    lane = make_lane("w", 1)
    assert lane.submit_wait(lambda a, b: (a + b, threading.get_ident()), 2, 3, id="add") == (5, threading.get_ident())


def test_submit_wait_from_inside_a_full_lane_is_a_deadlock(make_lane: Any) -> None:
    lane = make_lane("d", 1)

    def outer() -> str:
        try:
            lane.submit_wait(lambda: None, id="inner")
        except liblane.DeadlockError as e:
            return f"deadlock: {e.message}"
        return "no error"

    assert lane.submit_wait(outer, id="outer").startswith("deadlock: ")
    st = lane.stats()
    assert st.refused == 1


def test_submit_wait_timeout_cancels_the_running_job(make_lane: Any) -> None:
    lane = make_lane("t", 1)
    seen: list[Any] = []

    def slow() -> None:
        seen.append(liblane.current_job().wait(10))

    with pytest.raises(liblane.TimedOut):
        lane.submit_wait(slow, id="slow", timeout=0.05)
    assert isinstance(seen[0], liblane.TimedOut)


def test_queue_timeout_and_max_queued(make_lane: Any) -> None:
    lane = make_lane("q", 1, max_queued=1)
    gate = Gate()
    lane.submit(gate, id="gate")
    t = lane.submit(lambda: None, id="waits", queue_timeout=0.05)
    with pytest.raises(liblane.QueueFullError):
        lane.submit(lambda: None, id="one-too-many")
    with pytest.raises(liblane.TimedOut):
        t.result(5)
    gate.release.set()


def test_pause_resume_and_cooldown_say_why_jobs_wait(make_lane: Any) -> None:
    lane = make_lane("p", 2)
    lane.pause()
    t = lane.submit(lambda: "ran", id="a")
    assert t.position == 1 and t.blocked_by is BlockedBy.PAUSED
    assert lane.stats().paused
    lane.resume()
    assert t.result(5) == "ran"
    lane.cooldown(0.2)
    started = time.monotonic()
    t2 = lane.submit(lambda: time.monotonic(), id="b")
    assert t2.blocked_by is BlockedBy.COOLDOWN
    assert lane.stats().cooldown_until is not None
    assert t2.result(5) - started >= 0.15


def test_raising_max_concurrent_dispatches_the_queue(make_lane: Any) -> None:
    lane = make_lane("m", 1)
    gate = Gate()
    lane.submit(gate, id="gate")
    assert gate.started.wait(2)
    t = lane.submit(lambda: "ran", id="b")
    assert t.position == 1
    lane.set_max_concurrent(2)
    assert t.result(5) == "ran"
    assert lane.stats().max_concurrent == 2
    gate.release.set()
    with pytest.raises(liblane.InvalidError):
        lane.set_max_concurrent(0)


def test_wait_idle_times_out_while_work_runs(make_lane: Any) -> None:
    lane = make_lane("i", 1)
    gate = Gate()
    lane.submit(gate, id="gate")
    assert lane.wait_idle(0.05) is False
    gate.release.set()
    assert lane.wait_idle(5) is True


def test_stats_add_up(make_lane: Any) -> None:
    lane = make_lane("s", 2)
    for i in range(20):
        lane.submit(lambda i=i: (_ for _ in ()).throw(ValueError()) if i % 5 == 0 else i, id=f"j{i}")
    assert lane.wait_idle(5)
    st = lane.stats()
    assert st.submitted == 20 and st.ended == 20 and st.failed == 4 and st.completed == 16
    assert st.name == "s" and st.throughput_1m == 20


def test_close_drains_by_default_and_refuses_new_jobs() -> None:
    lane = liblane.Lane("close-drain", 1)
    gate = Gate()
    lane.submit(gate, id="gate")
    queued = lane.submit(lambda: "drained", id="q")
    threading.Timer(0.05, gate.release.set).start()
    lane.close()
    assert queued.result(0) == "drained"
    with pytest.raises(liblane.ClosedError):
        lane.submit(lambda: None, id="late")
    assert lane.stats().completed == 2  # the last stats survive the close
    lane.close()  # idempotent


def test_close_cancel_ends_queued_and_stops_running_jobs() -> None:
    lane = liblane.Lane("close-cancel", 1)
    seen: list[Any] = []
    started = threading.Event()

    def job() -> None:
        started.set()
        seen.append(liblane.current_job().wait(10))

    running = lane.submit(job, id="r")
    queued = lane.submit(lambda: None, id="q")
    assert started.wait(2)
    lane.close(cancel=True)
    assert isinstance(seen[0], liblane.ClosedError)
    assert isinstance(running.outcome.exception(0), liblane.ClosedError)
    assert isinstance(queued.outcome.exception(0), liblane.ClosedError)


def test_close_from_inside_its_own_job_is_refused(make_lane: Any) -> None:
    lane = make_lane("self-close", 1)

    def job() -> str:
        try:
            lane.close()
        except liblane.DeadlockError:
            return "refused"
        return "closed?"

    assert lane.submit(job, id="j").result(5) == "refused"


def test_with_block_drains_and_an_exception_cancels() -> None:
    with liblane.Lane("ctx", 1) as lane:
        t = lane.submit(lambda: 1, id="a")
    assert t.result(0) == 1 and lane.closed
    gate = Gate()
    with pytest.raises(RuntimeError):
        with liblane.Lane("ctx2", 1) as lane2:
            lane2.submit(gate, id="gate")
            q = lane2.submit(lambda: 2, id="b")
            threading.Timer(0.1, gate.release.set).start()
            raise RuntimeError("leaving")
    assert isinstance(q.outcome.exception(0), liblane.ClosedError)


def test_bad_input_is_refused_with_a_message(make_lane: Any) -> None:
    lane = make_lane("bad", 1)
    with pytest.raises(ValueError, match="NUL"):
        lane.submit(lambda: None, id="a\0b")
    with pytest.raises(liblane.InvalidError, match="NUL"):
        lane.submit(lambda: None, id="a", tenant="t\0")
    with pytest.raises(liblane.InvalidError) as ei:
        lane.submit(lambda: None, id="")
    assert ei.value.message  # liblane's own words
    with pytest.raises(liblane.InvalidError):
        lane.submit(lambda: None, id="neg", max_wait=-1)
    with pytest.raises(liblane.InvalidError):
        liblane.Lane("", 1)
    with pytest.raises(liblane.InvalidError):
        liblane.Lane("x", 0)
    with pytest.raises(liblane.InvalidError):
        liblane.Lane("x", 1, policy="random")
    assert lane.stats().submitted == 0  # nothing got in, nothing was cut short


def test_a_callback_is_kept_alive_until_its_outcome_and_released_after(make_lane: Any) -> None:
    lane = make_lane("life", 1)
    gate = Gate()
    lane.submit(gate, id="gate")

    class Job:
        def __call__(self) -> str:
            return "done"

    job = Job()
    ref = weakref.ref(job)
    t = lane.submit(job, id="kept")
    del job
    gc.collect()
    assert ref() is not None, "a queued job's callable must stay alive"
    gate.release.set()
    assert t.result(5) == "done"
    gc.collect()
    assert ref() is None, "the callable must be released once its outcome is delivered"
    assert liblane.live_callbacks() == 0


def test_refused_jobs_leave_nothing_behind(make_lane: Any) -> None:
    lane = make_lane("ref", 1)
    gate = Gate()
    lane.submit(gate, id="x")

    class Job:
        def __call__(self) -> None:
            pass

    job = Job()
    ref = weakref.ref(job)
    with pytest.raises(liblane.DuplicateError):
        lane.submit(job, id="x")
    del job
    gc.collect()
    assert ref() is None
    gate.release.set()


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    e = dict(os.environ)
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=60)


def test_a_missing_library_names_every_place_tried(tmp_path: Any) -> None:
    r = _run_python("import liblane", LIBLANE_PATH=str(tmp_path / "nowhere" / "liblane.so"), LD_LIBRARY_PATH="")
    assert r.returncode != 0
    assert "could not load liblane.so" in r.stderr
    assert str(tmp_path / "nowhere" / "liblane.so") in r.stderr
    assert "LIBLANE_PATH" in r.stderr


def test_the_library_is_found_from_a_directory_in_liblane_path() -> None:
    d = os.path.dirname(liblane.library_path)
    r = _run_python("import liblane; print(liblane.library_path, liblane.abi_version >> 16)", LIBLANE_PATH=d)
    assert r.returncode == 0, r.stderr
    path, major = r.stdout.split()
    assert os.path.dirname(path) == d and major == "0"


def test_an_unclosed_lane_is_closed_at_exit_with_its_jobs_ended() -> None:
    code = (
        "import sys, threading, liblane\n"
        "lane = liblane.Lane('left-open', 1)\n"
        "started = threading.Event()\n"
        "def job():\n"
        "    started.set()\n"
        "    sys.stdout.write(f'cause at exit: {type(liblane.current_job().wait(30)).__name__}\\n')\n"
        "lane.submit(job, id='running')\n"
        "t = lane.submit(job, id='queued')\n"
        "t.outcome.add_done_callback(lambda f: sys.stdout.write(f'queued ended: {type(f.exception()).__name__}\\n'))\n"
        "assert started.wait(30)\n"
    )
    r = _run_python(code)
    assert r.returncode == 0, r.stderr
    assert "cause at exit: ClosedError" in r.stdout and "queued ended: ClosedError" in r.stdout, r.stdout + r.stderr


def test_the_abi_check_wants_the_same_major_and_at_least_our_minor() -> None:
    from liblane import _capi

    assert _capi.abi_compatible(liblane.abi_version)
    assert _capi.abi_compatible((0 << 16) | 7)  # a newer minor only appends
    assert not _capi.abi_compatible((1 << 16) | 1)  # another major
    assert not _capi.abi_compatible(0)  # older than the lane.h mirrored here
