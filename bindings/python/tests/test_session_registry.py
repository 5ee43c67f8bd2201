"""Sessions, the registry (config sources, reload, metrics, remove), the sampler and its history."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

import liblane
from liblane import Drop, Registry, Session, SessionMode

from conftest import Gate, wait_for


def test_collect_merges_queued_messages_into_one_run(make_lane: Any) -> None:
    lane = make_lane("llm", 2, policy="fair_share")
    runs: list[list[tuple[str, Any]]] = []
    with Session(lane, "user-42", mode=SessionMode.COLLECT, debounce=0.05) as chat:

        def reply() -> str:
            batch = liblane.current_job().batch
            runs.append([(b.id, b.payload) for b in batch])
            return f"answered {len(batch)}"

        futs = [chat.enqueue(reply, id=f"m{i}", payload=text)
                for i, text in enumerate(["hi", "are you there?", "order #1234"])]
        assert [f.result(5) for f in futs] == ["answered 3"] * 3
    assert runs == [[("m0", "hi"), ("m1", "are you there?"), ("m2", "order #1234")]]


@pytest.mark.parametrize("burst", [None, 5])
def test_a_collect_run_costs_its_messages_together_and_takes_their_most_slots(make_lane: Any,
                                                                             burst: int | None) -> None:
    lane = make_lane("llm", 4)
    if burst is not None:  # the merged 3 + 4 is capped at the burst, not refused
        lane.set_rate_limit(liblane.RateKind.COST, 1000, 1.0, burst=burst)
    gate = Gate()
    held: list[int] = []
    with Session(lane, "user-42", mode=SessionMode.COLLECT, debounce=0) as chat:
        first = chat.enqueue(gate, id="m0")  # no cost: counts 1
        assert gate.started.wait(5)

        def merged() -> None:
            held.append(lane.stats().slots_in_use)

        futs = [chat.enqueue(merged, id="m1", cost=3), chat.enqueue(merged, id="m2", cost=4, slots=2),
                chat.enqueue(merged, id="m3")]
        wait_for(lambda: chat.queued == 3)
        gate.release.set()
        first.result(5)
        for f in futs:
            f.result(5)
    assert held == [2]
    assert lane.stats().cost_used == 1 + (7 if burst is None else 5)
    with Session(lane, "bad") as bad:
        with pytest.raises(liblane.InvalidError):
            bad.enqueue(merged, id="neg", cost=-1)
        with pytest.raises(liblane.InvalidError):
            bad.enqueue(merged, id="neg", run_timeout=-1.0)


def test_interrupt_cancels_the_active_run_and_runs_the_new_message(make_lane: Any) -> None:
    lane = make_lane("llm", 1)
    chat = Session(lane, "u", mode="interrupt", debounce=0)
    causes: list[Any] = []
    started = threading.Event()

    def slow() -> str:
        started.set()
        causes.append(liblane.current_job().wait(10))
        return "slow"

    first = chat.enqueue(slow, id="m1")
    assert started.wait(5)
    second = chat.enqueue(lambda: "fast", id="m2")
    assert second.result(5) == "fast"
    assert first.cancelled() or isinstance(first.exception(5), liblane.Cancelled)
    assert isinstance(causes[0], liblane.Cancelled)
    chat.close()


def test_a_full_session_drops_old_or_refuses_new(make_lane: Any) -> None:
    lane = make_lane("llm", 1)
    gate = Gate()
    lane.submit(gate, id="gate")
    old = Session(lane, "old", cap=1, debounce=0, drop=Drop.OLD)
    a = old.enqueue(lambda: "a", id="a")  # a run at once, waiting in the lane
    b = old.enqueue(lambda: "b", id="b")  # queued in the session
    c = old.enqueue(lambda: "c", id="c")  # full: b is dropped
    with pytest.raises(liblane.Dropped):
        b.result(5)
    assert old.queued == 1 and old.active == 1
    new = Session(lane, "new", cap=1, debounce=0, drop="new")
    new.enqueue(lambda: "d", id="d")
    new.enqueue(lambda: "e", id="e")
    with pytest.raises(liblane.QueueFullError):
        new.enqueue(lambda: "f", id="f")
    with pytest.raises(liblane.DuplicateError):
        new.enqueue(lambda: "e", id="e")
    gate.release.set()
    assert (a.result(5), c.result(5)) == ("a", "c")
    old.close()
    new.close()


def test_cancel_all_makes_unstarted_messages_stale_and_reset_clears(make_lane: Any) -> None:
    lane = make_lane("llm", 1)
    gate = Gate()
    lane.submit(gate, id="gate")
    s = Session(lane, "s", debounce=0)
    f1 = s.enqueue(lambda: 1, id="1")
    s.cancel_all()
    with pytest.raises(liblane.Stale):
        f1.result(5)
    s2 = Session(lane, "s2", debounce=0)
    s2.enqueue(lambda: 1, id="x")
    f3 = s2.enqueue(lambda: 2, id="y")
    s2.reset()
    with pytest.raises(liblane.Cleared):
        f3.result(5)
    gate.release.set()
    assert s.wait_idle(5) and s2.wait_idle(5)
    s.close()
    s2.close()


def test_closing_the_lane_closes_its_sessions() -> None:
    lane = liblane.Lane("llm-close", 1)
    s = Session(lane, "s", debounce=10)  # would wait 10 s for quiet
    f = s.enqueue(lambda: 1, id="m")
    lane.close()
    assert isinstance(f.exception(5), liblane.ClosedError) or f.cancelled()
    with pytest.raises(liblane.ClosedError):
        s.enqueue(lambda: 2, id="n")
    with pytest.raises(liblane.ClosedError):
        Session(lane, "late")


def test_registry_config_from_a_dict_reload_and_nothing_lost() -> None:
    with Registry({"lanes.llm.max_concurrent": 2}) as reg:
        llm = reg.lane("llm")
        assert reg.lane("llm") is llm
        assert llm.stats().max_concurrent == 2
        gate = Gate()
        tickets = [llm.submit(gate, id=f"j{i}") for i in range(5)]
        wait_for(lambda: llm.stats().running == 2)
        reg.set_config({"lanes.llm.max_concurrent": 4})
        reg.reload()
        wait_for(lambda: llm.stats().running == 4)
        gate.release.set()
        assert [t.result(5) for t in tickets] == ["gate"] * 5
        assert llm.stats().completed == 5
        assert reg.names() == ["llm"]


def test_registry_config_from_a_callable_and_the_environment(monkeypatch: Any) -> None:
    asked: list[tuple[str, int]] = []

    def config(key: str, default: int) -> int:
        asked.append((key, default))
        return 7 if key == "lanes.tools.max_concurrent" else default

    with Registry(config, default_max_concurrent=3) as reg:
        assert reg.lane("tools").stats().max_concurrent == 7
        assert reg.lane("other").stats().max_concurrent == 3
    assert ("lanes.tools.max_concurrent", 3) in asked
    monkeypatch.setenv("LANE_LLM_TRANSPORT_MAX_CONCURRENT", "5")
    with Registry() as reg:
        assert reg.lane("llm-transport").stats().max_concurrent == 5
        with pytest.raises(liblane.InvalidError):
            reg.set_config({})


def test_registry_metrics_parse_and_remove(tmp_path: Path) -> None:
    logs: list[tuple[int, str]] = []
    with Registry({"lanes.llm.max_concurrent": 2}, log=lambda lv, m: logs.append((lv, m))) as reg:
        llm = reg.lane("llm")
        gate = Gate()
        llm.submit(gate, id="a")
        text = reg.metrics()
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        running = [s for s in fams["lane_running"].samples if s.labels["lane"] == "llm"]
        assert running[0].value == 1
        with pytest.raises(liblane.BusyError):
            reg.remove("llm")
        gate.release.set()
        assert llm.wait_idle(5)
        reg.remove("llm")
        assert llm.closed and reg.names() == []
        with pytest.raises(liblane.ClosedError):
            llm.submit(lambda: None, id="late")
        with pytest.raises(liblane.InvalidError):
            reg.remove("llm")
        with pytest.raises(liblane.InvalidError):
            reg.lane("bad name!")
        assert reg.lane("llm") is not llm


def test_sampler_writes_the_history_and_history_reads_it_back(tmp_path: Path) -> None:
    db = tmp_path / "lanes.db"
    clock = [1_700_000_000.0]
    with Registry({"lanes.llm.max_concurrent": 2}) as reg:
        llm = reg.lane("llm")
        sampler = reg.sampler(db, clock=lambda: clock[0])
        gate = Gate()
        ts = [llm.submit(gate, id=f"j{i}") for i in range(3)]
        wait_for(lambda: llm.stats().running == 2)
        for _ in range(3):
            sampler.sample_once()
            clock[0] += 60
        gate.release.set()
        for t in ts:
            t.result(5)
        sampler.sample_once()
        sampler.close()
    rows = liblane.history(db, "llm")
    assert [(r.running, r.queued) for r in rows] == [(2, 1)] * 3 + [(0, 0)]
    assert rows[1].sampled_at_ns - rows[0].sampled_at_ns == 60 * 10**9
    assert rows[0].sampled_at.year == 2023
    part = liblane.history(db, "llm", since=1_700_000_060, until=1_700_000_180)
    assert len(part) == 2
    assert liblane.history(db, "nope") == []
    with pytest.raises(liblane.LaneError):
        liblane.history(tmp_path / "missing.db", "llm")


def test_the_sampler_thread_samples_on_its_own(tmp_path: Path) -> None:
    db = tmp_path / "bg.db"
    with Registry() as reg:
        reg.lane("a")
        s = reg.sampler(db, interval=0.02)
        s.start()
        s.start()  # idempotent
        time.sleep(0.2)
        s.stop()
        n = len(liblane.history(db, "a"))
        assert n >= 3
        time.sleep(0.05)
        assert len(liblane.history(db, "a")) == n  # stopped means stopped


def test_closing_a_registry_lane_cancels_its_jobs_and_leaves_the_lane() -> None:
    with Registry() as reg:
        llm = reg.lane("llm")
        seen: list[Any] = []
        started = threading.Event()

        def job() -> None:
            started.set()
            seen.append(liblane.current_job().wait(10))

        t = llm.submit(job, id="r")
        q = llm.submit(lambda: None, id="q")
        assert started.wait(5)
        llm.close(cancel=True)
        assert isinstance(seen[0], liblane.Cancelled)
        assert t.outcome.cancelled() and q.outcome.cancelled()
        assert reg.names() == ["llm"]  # the registry still has it
        again = reg.lane("llm")
        assert again is not llm and again.submit_wait(lambda: 5, id="x") == 5


def test_steer_delivers_a_new_message_into_the_running_run(make_lane: Any) -> None:
    lane = make_lane("llm", 1)
    chat = Session(lane, "u", mode=SessionMode.STEER, debounce=0)
    started = threading.Event()
    taken: list[Any] = []

    def run() -> str:
        started.set()
        job = liblane.current_job()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            m = job.next_message()
            if m is not None:
                taken.append((m.id, m.payload))
                return "steered"
            time.sleep(0.005)
        return "nothing came"

    first = chat.enqueue(run, id="m1", payload="plan a trip", steerable=True)
    assert started.wait(5)
    second = chat.enqueue(run, id="m2", payload="to Lisbon")
    assert first.result(5) == "steered" and second.result(5) == "steered"
    assert taken == [("m2", "to Lisbon")]
    chat.close()
