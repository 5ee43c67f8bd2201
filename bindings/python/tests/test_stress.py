"""Randomized stress: threads and an event loop hammer one lane with submits,
cancels (by id, token, Future and task), preemption, failures, resizes and
pauses. Every accepted job must get exactly one outcome, and liblane's
counters must agree with what the binding accepted.

LIBLANE_STRESS_SEED=N replays a run; LIBLANE_STRESS_JOBS scales it.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections import Counter
from typing import Any

import liblane

SEED = int(os.environ.get("LIBLANE_STRESS_SEED", str(time.time_ns() % 1_000_000)))
JOBS = int(os.environ.get("LIBLANE_STRESS_JOBS", "400"))


def test_every_accepted_job_gets_exactly_one_outcome() -> None:
    print(f"stress seed {SEED} (LIBLANE_STRESS_SEED={SEED} replays it)")
    lane = liblane.Lane("stress", 3, policy="fair_share", preempt_min_runtime=0)
    outcomes: Counter[str] = Counter()  # job id -> outcomes delivered
    accepted: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def body(rng: random.Random) -> str:
        r = rng.random()
        if r < 0.15:
            raise RuntimeError("job failed on purpose")
        if r < 0.45:
            liblane.current_job().wait(rng.random() * 0.004)
        else:
            time.sleep(rng.random() * 0.001)
        return "ok"

    def record(jid: str) -> Any:
        def cb(_f: Any) -> None:
            with lock:
                outcomes[jid] += 1
        return cb

    def submitter(tid: int) -> None:
        rng = random.Random(SEED * 31 + tid)
        tickets: list[liblane.Ticket[str]] = []
        try:
            for i in range(JOBS):
                jid = f"t{tid}-{i}"
                kw: dict[str, Any] = dict(id=jid, tenant=f"tenant{rng.randrange(4)}", priority=rng.randrange(4),
                                          preemptible=rng.random() < 0.4,
                                          requeue_on_preempt=rng.random() < 0.2)
                if rng.random() < 0.1:
                    with lock:
                        accepted.append(jid)
                    try:
                        lane.submit_wait(body, random.Random(rng.random()), **kw)
                    except (RuntimeError, liblane.LaneError):
                        pass
                    with lock:
                        outcomes[jid] += 1
                    continue
                t = lane.submit(body, random.Random(rng.random()), **kw)
                with lock:
                    accepted.append(jid)
                t.outcome.add_done_callback(record(jid))
                tickets.append(t)
                op = rng.random()
                if op < 0.1 and tickets:
                    victim = rng.choice(tickets)
                    try:
                        lane.cancel(token=victim.token, running=rng.random() < 0.5)
                    except liblane.NotQueuedError:
                        pass
                elif op < 0.15 and tickets:
                    rng.choice(tickets).outcome.cancel()
                elif op < 0.18:
                    try:
                        lane.cancel(f"t{tid}-{rng.randrange(i + 1)}", running=True)
                    except liblane.NotQueuedError:
                        pass
                elif op < 0.20:
                    lane.set_max_concurrent(rng.randrange(1, 5))
                elif op < 0.21:
                    lane.pause()
                    time.sleep(0.001)
                    lane.resume()
            for t in tickets:
                t.outcome.exception(30) if not t.outcome.cancelled() else None
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    async def async_side() -> None:
        rng = random.Random(SEED * 7)

        async def ajob(delay: float, fail: bool) -> str:
            await asyncio.sleep(delay)
            if fail:
                raise ValueError("async job failed on purpose")
            return "ok"

        async def one(i: int) -> None:
            jid = f"a-{i}"

            def ticketed(_t: liblane.TicketInfo) -> None:
                with lock:
                    accepted.append(jid)

            try:
                await lane.run(ajob, rng.random() * 0.003, rng.random() < 0.15, id=jid,
                               tenant=f"tenant{rng.randrange(4)}", priority=rng.randrange(4),
                               preemptible=rng.random() < 0.4, on_ticket=ticketed)
            except (ValueError, liblane.LaneError, asyncio.CancelledError):
                pass
            with lock:
                if jid in accepted:
                    outcomes[jid] += 1

        tasks = []
        for i in range(JOBS):
            task = asyncio.create_task(one(i))
            tasks.append(task)
            if rng.random() < 0.2:
                asyncio.get_running_loop().call_later(rng.random() * 0.004, task.cancel)
            if rng.random() < 0.3:
                await asyncio.sleep(0)
        await asyncio.gather(*tasks, return_exceptions=True)

    threads = [threading.Thread(target=submitter, args=(n,)) for n in range(3)]
    threads.append(threading.Thread(target=lambda: asyncio.run(async_side(), debug=False)))
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
        assert not th.is_alive(), f"seed {SEED}: a stress thread hung"
    assert not errors, f"seed {SEED}: {errors!r}"
    lane.set_max_concurrent(4)
    assert lane.wait_idle(30), f"seed {SEED}: lane never went idle"
    st = lane.stats()
    with lock:
        assert len(accepted) == len(set(accepted))
        missing = [j for j in accepted if outcomes[j] != 1]
        assert not missing, f"seed {SEED}: jobs without exactly one outcome: {missing[:10]}"
        assert st.submitted == len(accepted), f"seed {SEED}: {st.submitted} submitted, {len(accepted)} accepted"
    assert st.ended == st.submitted and st.running == 0 and st.queued == 0, st
    lane.close()
    assert liblane.live_callbacks() == 0
