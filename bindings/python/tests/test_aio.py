"""asyncio jobs: granted through a port watched by the event loop.

Every test runs its loop in debug mode, where asyncio raises if any other
thread touches the loop (call_soon and friends check the thread).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Awaitable, Callable, TypeVar

import pytest

import liblane

from conftest import wait_for

T = TypeVar("T")


def run(main: Callable[[], Awaitable[T]]) -> T:
    async def wrapper() -> T:
        return await main()

    return asyncio.run(wrapper(), debug=True)


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.002)


def test_run_returns_the_coroutines_result_on_the_loop_thread(make_lane: Any) -> None:
    lane = make_lane("aio", 2)
    loop_thread = threading.get_ident()

    async def job(x: int) -> tuple[int, int, str]:
        await asyncio.sleep(0.01)
        return x * 2, threading.get_ident(), liblane.current_job().id

    async def main() -> None:
        tickets: list[liblane.TicketInfo] = []
        results = await asyncio.gather(*(lane.run(job, i, id=f"j{i}", on_ticket=tickets.append) for i in range(6)))
        assert [r[0] for r in results] == [0, 2, 4, 6, 8, 10]
        assert all(r[1] == loop_thread for r in results)
        assert [r[2] for r in results] == [f"j{i}" for i in range(6)]
        assert sorted(t.position for t in tickets) == [0, 0, 1, 2, 3, 4]

    run(main)
    st = lane.stats()
    assert st.completed == 6 and st.running == 0
    assert lane._ports == {}, "the port of an idle loop is torn down"


def test_refusals_raise_at_once(make_lane: Any) -> None:
    lane = make_lane("aio-ref", 1)

    async def hold() -> None:
        await asyncio.sleep(0.2)

    async def main() -> None:
        t = asyncio.create_task(lane.run(hold, id="x"))
        await until(lambda: lane.stats().running == 1)
        with pytest.raises(liblane.DuplicateError):
            await lane.run(hold, id="x")
        with pytest.raises(ValueError):
            await lane.run(hold, id="nul\0")
        await t

    run(main)


def test_cancelling_the_task_while_queued_withdraws_the_job(make_lane: Any) -> None:
    lane = make_lane("aio-cq", 1)
    ran: list[str] = []
    release = asyncio.Event

    async def main() -> None:
        ev = release()

        async def blocker() -> None:
            await ev.wait()

        async def queued() -> None:
            ran.append("queued")

        b = asyncio.create_task(lane.run(blocker, id="blocker"))
        await until(lambda: lane.stats().running == 1)
        q = asyncio.create_task(lane.run(queued, id="queued"))
        await until(lambda: lane.stats().queued == 1)
        q.cancel()
        with pytest.raises(asyncio.CancelledError):
            await q
        st = lane.stats()
        assert st.queued == 0 and st.cancelled == 1
        ev.set()
        await b

    run(main)
    assert ran == []
    assert lane.wait_idle(5)


def test_cancelling_the_task_while_running_cancels_the_job(make_lane: Any) -> None:
    lane = make_lane("aio-cr", 1)
    seen: list[str] = []

    async def main() -> None:
        started = asyncio.Event()

        async def long() -> None:
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                seen.append("cancelled inside")
                raise

        t = asyncio.create_task(lane.run(long, id="long"))
        await started.wait()  # running == 1 alone may be before the coroutine has started
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        await until(lambda: lane.stats().running == 0)

    run(main)
    assert seen == ["cancelled inside"]
    assert lane.wait_idle(5)
    assert lane.stats().cancelled == 1


def test_preemption_arrives_as_cancelled_error_with_the_cause(make_lane: Any) -> None:
    lane = make_lane("aio-pre", 1, policy="fair_share", preempt_min_runtime=0)
    causes: list[Any] = []

    async def main() -> None:
        started = asyncio.Event()

        async def train() -> str:
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError as e:
                causes.append((liblane.current_job().cause, str(e)))
                raise
            return "finished"

        async def infer() -> str:
            return "answer"

        low = asyncio.create_task(lane.run(train, id="train", preemptible=True))
        await started.wait()
        assert await lane.run(infer, id="infer", priority=10) == "answer"
        with pytest.raises(liblane.Preempted):
            await low

    run(main)
    cause, msg = causes[0]
    assert isinstance(cause, liblane.Preempted) and "preempted" in msg


def test_a_job_that_swallows_the_cancel_still_reports_the_preemption(make_lane: Any) -> None:
    lane = make_lane("aio-swallow", 1, policy="fair_share", preempt_min_runtime=0)

    async def main() -> None:
        started = asyncio.Event()

        async def stubborn() -> str:
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                return "cleaned up"
            return "finished"

        async def urgent() -> None:
            pass

        low = asyncio.create_task(lane.run(stubborn, id="s", preemptible=True))
        await started.wait()
        await lane.run(urgent, id="u", priority=10)
        with pytest.raises(liblane.Preempted):
            await low
        # The lane's cancel was taken back: the task is not left cancelling.
        assert low.cancelling() == 0

    run(main)


def test_requeue_on_preempt_runs_the_coroutine_again(make_lane: Any) -> None:
    lane = make_lane("aio-requeue", 1, policy="fair_share", preempt_min_runtime=0)
    runs: list[int] = []

    async def main() -> None:
        started = asyncio.Event()

        async def job() -> int:
            runs.append(1)
            started.set()
            if len(runs) == 1:
                await asyncio.sleep(30)
            return len(runs)

        async def urgent() -> None:
            pass

        low = asyncio.create_task(lane.run(job, id="j", preemptible=True, requeue_on_preempt=True))
        await started.wait()
        await lane.run(urgent, id="u", priority=10)
        assert await low == 2

    run(main)


def test_a_raising_coroutine_fails_with_its_exception(make_lane: Any) -> None:
    lane = make_lane("aio-raise", 1)

    async def main() -> None:
        async def boom() -> None:
            raise LookupError("gone")

        with pytest.raises(LookupError, match="gone"):
            await lane.run(boom, id="b")

    run(main)
    assert lane.stats().failed == 1


def test_callback_and_asyncio_jobs_share_the_lane(make_lane: Any) -> None:
    lane = make_lane("mixed", 1)
    order: list[str] = []

    async def main() -> None:
        gate = threading.Event()
        def cb() -> None:
            gate.wait(5)
            order.append("callback")

        t = lane.submit(cb, id="cb")

        async def aj() -> None:
            order.append("async")

        task = asyncio.create_task(lane.run(aj, id="aj"))
        await until(lambda: lane.stats().queued == 1)
        gate.set()
        await task
        t.result(5)

    run(main)
    assert order == ["callback", "async"]


def test_aclose_drains_jobs_of_the_running_loop() -> None:
    done: list[int] = []

    async def main() -> None:
        async with liblane.Lane("aclose", 1) as lane:
            async def job(i: int) -> None:
                await asyncio.sleep(0.01)
                done.append(i)

            tasks = [asyncio.create_task(lane.run(job, i, id=f"j{i}")) for i in range(3)]
            await asyncio.sleep(0.005)
            with pytest.raises(RuntimeError, match="aclose"):
                lane.close()  # would block the loop its jobs need
        await asyncio.gather(*tasks)

    run(main)
    assert done == [0, 1, 2]


def test_close_from_another_thread_cancels_running_coroutines() -> None:
    lane = liblane.Lane("xthread", 1)
    causes: list[Any] = []
    started = threading.Event()
    result: list[BaseException] = []

    async def main() -> None:
        async def job() -> None:
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                causes.append(liblane.current_job().cause)
                raise

        try:
            await lane.run(job, id="j")
        except BaseException as e:
            result.append(e)

    th = threading.Thread(target=run, args=(main,))
    th.start()
    assert started.wait(5)
    lane.close(cancel=True)
    th.join(5)
    assert isinstance(causes[0], liblane.ClosedError)
    assert isinstance(result[0], liblane.ClosedError)


def test_close_finishes_jobs_left_on_a_dead_loop() -> None:
    """A loop that stopped with a job granted or queued cannot drain its port; close does."""
    lane = liblane.Lane("dead-loop", 1)
    loop = asyncio.new_event_loop()

    async def hold() -> None:
        await asyncio.sleep(30)

    t1 = loop.create_task(lane.run(hold, id="granted"))
    t2 = loop.create_task(lane.run(hold, id="queued"))
    loop.run_until_complete(asyncio.sleep(0.05))
    assert lane.stats().running == 1
    # The loop is left stopped with both tasks pending: nobody will run them.
    done = threading.Event()
    def close() -> None:
        lane.close()
        done.set()

    threading.Thread(target=close).start()
    assert done.wait(10), "close hung on jobs of a stopped loop"
    st = lane.stats()
    assert st.running == 0 and st.queued == 0 and st.ended == 2
    t1.cancel()
    t2.cancel()
    loop.run_until_complete(asyncio.gather(t1, t2, return_exceptions=True))
    loop.close()
    wait_for(lambda: liblane.live_callbacks() == 0)


def test_a_raising_on_ticket_withdraws_the_job(make_lane: Any) -> None:
    lane = make_lane("aio-ticket", 1)
    ran: list[int] = []

    def bad_ticket(_t: liblane.TicketInfo) -> None:
        raise RuntimeError("no thanks")

    async def main() -> None:
        async def job() -> None:
            ran.append(1)

        with pytest.raises(RuntimeError, match="no thanks"):
            await lane.run(job, id="j", on_ticket=bad_ticket)
        await until(lambda: lane._ports == {})

    run(main)
    assert ran == [] and lane.wait_idle(5)
    st = lane.stats()
    assert st.submitted == 1 and st.ended == 1


def test_lane_side_outcomes_of_a_queued_asyncio_job(make_lane: Any) -> None:
    lane = make_lane("aio-out", 1)

    async def main() -> None:
        ev = asyncio.Event()

        async def blocker() -> None:
            await ev.wait()

        async def never() -> None:
            raise AssertionError("must not run")

        b = asyncio.create_task(lane.run(blocker, id="blocker"))
        await until(lambda: lane.stats().running == 1)
        cancelled = asyncio.create_task(lane.run(never, id="by-id"))
        timed = asyncio.create_task(lane.run(never, id="timed", queue_timeout=0.05))
        await until(lambda: lane.stats().queued == 2)
        lane.cancel("by-id")
        with pytest.raises(liblane.Cancelled):
            await cancelled
        with pytest.raises(liblane.TimedOut):
            await timed
        ev.set()
        await b

    run(main)


def test_a_job_preempted_before_its_coroutine_started_never_runs_it(make_lane: Any) -> None:
    """GRANT and CANCEL read in one batch: the coroutine is not started at all."""
    lane = make_lane("aio-early", 1, policy="fair_share", preempt_min_runtime=0)
    ran: list[str] = []

    async def main() -> None:
        async def low() -> None:
            ran.append("low")

        async def high() -> None:
            ran.append("high")

        t = asyncio.create_task(lane.run(low, id="low", preemptible=True))
        await asyncio.sleep(0)  # submitted and granted in liblane; the GRANT is not read yet
        assert lane.stats().running == 1
        h = asyncio.create_task(lane.run(high, id="high", priority=10))
        with pytest.raises(liblane.Preempted):
            await t
        await h

    run(main)
    assert ran == ["high"]
