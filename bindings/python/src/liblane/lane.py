"""Lane: a liblane lane driven from Python threads and asyncio."""

from __future__ import annotations

import asyncio
import atexit
import threading
import weakref
import time
from ctypes import byref, c_uint32, c_void_p, sizeof
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Awaitable, Callable, TypeVar, TypeVarTuple, Unpack

from . import _capi
from ._aio import AsyncJob, LoopPort
from ._jobs import (
    DONE_ADDR,
    RUN_ADDR,
    JobContext,
    Ticket,
    _CallbackJob,
    _current,
    _live,
    new_key,
    outcome_error,
)
from ._types import BlockedBy, LaneStats, Policy, RateKind, TicketInfo, _blocked, ns_to_datetime
from .errors import BusyError, ClosedError, DeadlockError, InvalidError, JobFailed, LaneError, check, error_for

if TYPE_CHECKING:
    from .registry import Registry
    from .session import Session

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

Seconds = float | int | timedelta


def seconds_to_ns(value: Seconds | None, what: str, *, allow_zero: bool = True) -> int:
    """A duration in seconds (or a timedelta) as int nanoseconds; None -> 0."""
    if value is None:
        return 0
    s = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if s < 0 or (s == 0 and not allow_zero) or s != s:
        raise InvalidError(f"{what} must be {'>= 0' if allow_zero else '> 0'} seconds, got {value!r}")
    return int(s * 1e9)


def encode(value: str, what: str) -> bytes:
    """A str as a NUL-terminated C string; a NUL inside would cut it, so it is refused."""
    if not isinstance(value, str):
        raise InvalidError(f"{what} must be a str, got {type(value).__name__}")
    b = value.encode("utf-8")
    if b"\0" in b:
        raise InvalidError(f"{what} {value!r} contains a NUL byte")
    return b


def _policy(p: Policy | str | int) -> int:
    if isinstance(p, str):
        try:
            return int(Policy[p.upper()])
        except KeyError:
            raise InvalidError(f"unknown policy {p!r} (fifo or fair_share)") from None
    return int(Policy(p))


def _u32(n: int, what: str, lo: int = 1) -> int:
    if not isinstance(n, int) or n < lo or n > 0xFFFFFFFF:
        raise InvalidError(f"{what} must be an integer from {lo} to 4294967295, got {n!r}")
    return n


def _stats_from(s: _capi.Stats, name: str) -> LaneStats:
    return LaneStats(
        name=name,
        max_concurrent=s.max_concurrent,
        running=s.running,
        queued=s.queued,
        oldest_queued_at=ns_to_datetime(s.oldest_queued_at_ns),
        throughput_1m=s.throughput_1m,
        submitted=s.submitted,
        completed=s.completed,
        failed=s.failed,
        cancelled=s.cancelled,
        preempted=s.preempted,
        timed_out=s.timed_out,
        closed=s.closed,
        refused=s.refused,
        wait_p50=s.wait_p50_ns / 1e9,
        wait_p99=s.wait_p99_ns / 1e9,
        run_p50=s.run_p50_ns / 1e9,
        run_p99=s.run_p99_ns / 1e9,
        paused=bool(s.paused),
        cooldown_until=ns_to_datetime(s.cooldown_until_ns),
        blocked_by=_blocked(s.blocked_by),
        preemptions=s.preemptions,
        eta_window=s.eta_window,
        mean_runtime=s.mean_runtime_ns / 1e9,
        width=s.width,
        slots_in_use=s.slots_in_use,
        released=s.released,
        reacquiring=s.reacquiring,
        rate_waits=s.rate_waits,
        rate_ready_at=ns_to_datetime(s.rate_ready_at_ns),
        cost_used=s.cost_used,
        overloads=s.overloads,
        shared=bool(s.shared),
        available=bool(s.available),
        global_running=s.global_running,
        global_queued=s.global_queued,
        leases_lost=s.leases_lost,
        releases_refused=s.releases_refused,
    )


class Cluster:
    """A connection to a Redis on which lanes of one name, in any process on any
    host, share one cap (``Lane(..., cluster=c)``): a member lane runs a job only
    on a slot granted there. Slots are leases; a process that dies or stalls
    loses them when the lease ends. Close the lanes first, then the cluster.

    url: "redis://host:port/db" (None: redis://127.0.0.1:6379/0). lease: seconds
    (None: 10). fallback_slots: while Redis cannot be reached, 0 refuses new
    jobs (UnavailableError), n runs up to n per lane locally.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        key_prefix: str | None = None,
        lease: Seconds | None = None,
        timeout: Seconds | None = None,
        fallback_slots: int = 0,
    ) -> None:
        o = _capi.ClusterOptions()
        o.struct_size = sizeof(_capi.ClusterOptions)
        o.url = None if url is None else encode(url, "url")
        o.key_prefix = None if key_prefix is None else encode(key_prefix, "key_prefix")
        o.lease_ns = seconds_to_ns(lease, "lease")
        o.timeout_ns = seconds_to_ns(timeout, "timeout")
        o.fallback_slots = _u32(fallback_slots, "fallback_slots", lo=0)
        h = c_void_p()
        check(_capi.lane_cluster_create(byref(o), byref(h)), "cluster create")
        self._h: int | None = h.value

    def close(self) -> None:
        """Disconnects; InvalidError while lanes still use it. Twice is a no-op."""
        if self._h is None:
            return
        check(_capi.lane_cluster_destroy(self._h), "cluster close")
        self._h = None

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Lane:
    """A lane: ``max_concurrent`` slots plus a queue ordered by a policy.

    Callback jobs (``submit``, ``submit_wait``) run on liblane's worker
    threads; asyncio jobs (``await run(...)``) run in the caller's task, granted
    through a port watched by the event loop. Safe to use from any number of
    threads and event loops. Close it (``close``, ``with``, ``async with``).
    """

    def __init__(
        self,
        name: str,
        max_concurrent: int = 1,
        *,
        policy: Policy | str = Policy.FIFO,
        eta_window: int | None = None,
        preemption: bool = True,
        preempt_min_runtime: Seconds | None = None,
        preempt_overcommit: bool = False,
        max_queued: int | None = None,
        eta_default_runtime: Seconds | None = None,
        aging: Seconds | None = None,
        fair_half_life: Seconds | None = None,
        adaptive: tuple[int, int] | None = None,
        adaptive_cooldown: Seconds | None = None,
        cluster: Cluster | None = None,
    ) -> None:
        """Creates a standalone lane; with a cluster, a member of the lane of its
        name on that cluster's Redis (docs/cluster.md).

        preempt_min_runtime: how long a preemptible job runs before it may be
        preempted (None: liblane's 30 s; 0: no guard). max_queued: None is
        unbounded. aging: +1 priority per that many seconds queued.
        fair_half_life (fair share): None or 0 forgets a tenant once it has no
        live job; a duration keeps its past slot-time, decaying with that
        half-life, so a tenant that just used the lane heavily waits behind
        one that did not. adaptive=(min, max): the width adapts (AIMD)
        between them: an overloaded finish (``current_job().overloaded()``)
        halves it, each width's worth of successes adds one;
        adaptive_cooldown also closes the lane that long after one.
        """
        o = _capi.Options()
        o.struct_size = sizeof(_capi.Options)
        o.max_concurrent = _u32(max_concurrent, "max_concurrent")
        o.policy = _policy(policy)
        o.eta_window = 0 if eta_window is None else _u32(eta_window, "eta_window")
        o.preemption_off = 0 if preemption else 1
        if preempt_min_runtime is not None:
            ns = seconds_to_ns(preempt_min_runtime, "preempt_min_runtime")
            o.preempt_min_runtime_ns = ns if ns > 0 else -1
        o.preempt_overcommit = 1 if preempt_overcommit else 0
        o.max_queued = 0 if max_queued is None else _u32(max_queued, "max_queued")
        o.eta_default_runtime_ns = seconds_to_ns(eta_default_runtime, "eta_default_runtime")
        o.aging_ns = seconds_to_ns(aging, "aging")
        o.fair_half_life_ns = seconds_to_ns(fair_half_life, "fair_half_life")
        if adaptive is not None:
            lo, hi = adaptive
            o.adaptive_min = _u32(lo, "adaptive min")
            o.adaptive_max = _u32(hi, "adaptive max")
            if lo > hi:
                raise InvalidError(f"adaptive=(min, max) needs min <= max, got {adaptive!r}")
        o.adaptive_cooldown_ns = seconds_to_ns(adaptive_cooldown, "adaptive_cooldown")
        if cluster is not None:
            if cluster._h is None:
                raise InvalidError("the cluster is closed")
            o.cluster = cluster._h
        h = c_void_p()
        check(_capi.lane_create(encode(name, "lane name"), byref(o), byref(h)), "create")
        self._init(name, h.value, None)
        _open_lanes.add(self)

    @classmethod
    def _borrowed(cls, name: str, handle: int, registry: "Registry") -> "Lane":
        self = cls.__new__(cls)
        self._init(name, handle, registry)
        return self

    def _init(self, name: str, handle: int | None, registry: "Registry | None") -> None:
        self._name = name
        self._h: int | None = handle
        self._reg = registry
        self._mu = threading.Lock()
        self._cv = threading.Condition(self._mu)
        self._inflight = 0  # calls inside the C lane now
        self._jobs = 0  # accepted jobs whose outcome is not yet delivered
        self._waiters = 0  # threads in wait_idle or close, waiting on _cv
        self._closing = False
        self._closed = threading.Event()
        self._final: LaneStats | None = None
        self._ports: dict[asyncio.AbstractEventLoop, LoopPort] = {}
        self._sessions: set[Session] = set()
        # Standalone: the jobs of a registry lane are other *Lanes' too; ours
        # are tracked so that close can cancel just them.
        self._tokens: dict[int, str] = {}

    # ------------------------------------------------------------ plumbing

    @property
    def name(self) -> str:
        return self._name

    def _closed_error(self, op: str) -> ClosedError:
        return ClosedError(f"lane '{self._name}' is closed", op=op)

    def _enter(self, op: str, job: bool = False) -> int:
        with self._mu:
            if self._h is None or (job and self._closing):
                raise self._closed_error(op)
            self._inflight += 1
            if job:
                self._jobs += 1
            return self._h

    def _leave(self) -> None:
        with self._mu:
            self._inflight -= 1
            if self._inflight == 0 and self._waiters:
                self._cv.notify_all()

    def _job_ended(self) -> None:
        with self._mu:
            self._jobs -= 1
            if self._jobs == 0 and self._waiters:
                self._cv.notify_all()

    def _call(self, op: str, fn: Callable[..., int], *args: Any) -> None:
        h = self._enter(op)
        try:
            s = fn(h, *args)
            if s != 0:
                raise error_for(s, _capi.last_error(), op=op)
        finally:
            self._leave()

    def _job_struct(self, job_id: bytes, tenant: str | None, priority: int, preemptible: bool,
                    requeue_on_preempt: bool, steerable: bool, max_wait: Seconds | None,
                    queue_timeout: Seconds | None, cost: int = 0, slots: int = 0,
                    run_timeout: Seconds | None = None) -> _capi.Job:
        j = _capi.Job()
        j.struct_size = sizeof(_capi.Job)
        j.id = job_id
        j.tenant = None if tenant is None else encode(tenant, "tenant")
        if not isinstance(priority, int) or not -(2**31) <= priority < 2**31:
            raise InvalidError(f"priority must be a 32-bit integer, got {priority!r}")
        j.priority = priority
        j.flags = ((_capi.JOB_PREEMPTIBLE if preemptible else 0)
                   | (_capi.JOB_REQUEUE_ON_PREEMPT if requeue_on_preempt else 0)
                   | (_capi.JOB_STEERABLE if steerable else 0))
        j.max_wait_ns = seconds_to_ns(max_wait, "max_wait")
        j.queue_timeout_ns = seconds_to_ns(queue_timeout, "queue_timeout")
        if not isinstance(cost, int) or not 0 <= cost < 2**63:
            raise InvalidError(f"cost must be an integer >= 0, got {cost!r}")
        j.cost = cost
        j.slots = 0 if slots == 0 else _u32(slots, "slots")
        j.run_timeout_ns = seconds_to_ns(run_timeout, "run_timeout")
        return j

    @staticmethod
    def _refusal(s: int, op: str, t: _capi.Ticket | None) -> LaneError:
        err = error_for(s, _capi.last_error(), op=op)
        if isinstance(err, BusyError) and t is not None:
            err.position = t.position
            err.eta = t.eta_ns / 1e9
        return err

    # ------------------------------------------------------------ callback jobs

    def submit(
        self,
        fn: Callable[[Unpack[Ts]], T],
        /,
        *args: Unpack[Ts],
        id: str,
        tenant: str | None = None,
        priority: int = 0,
        preemptible: bool = False,
        requeue_on_preempt: bool = False,
        max_wait: Seconds | None = None,
        queue_timeout: Seconds | None = None,
        cost: int = 0,
        slots: int = 0,
        run_timeout: Seconds | None = None,
    ) -> Ticket[T]:
        """Offers ``fn(*args)`` to the lane; returns at once.

        Accepted: a Ticket (position 0 = running now, else its place in the
        queue; eta; token; blocked_by) whose ``outcome`` Future gets exactly
        one result. Refused: raises (BusyError with position and eta,
        QueueFullError, DuplicateError, ClosedError, InvalidError) and there
        will be no outcome. fn runs on a liblane worker thread; inside it
        ``liblane.current_job()`` says whether it must stop and why.
        """
        jid = encode(id, "job id")
        j = self._job_struct(jid, tenant, priority, preemptible, requeue_on_preempt, False, max_wait,
                             queue_timeout, cost, slots, run_timeout)
        st: _CallbackJob[T] = _CallbackJob(id, self._name, fn, args, self)
        key = new_key()
        st.key = key
        j.run = RUN_ADDR
        j.on_done = DONE_ADDR
        j.user_data = key
        t = _capi.Ticket()
        t.struct_size = sizeof(_capi.Ticket)
        _live[key] = st
        try:
            h = self._enter("submit", job=True)
        except BaseException:
            del _live[key]
            raise
        try:
            s = _capi.lane_submit(h, byref(j), byref(t))
            err = None if s == 0 else self._refusal(s, "submit", t)
        finally:
            self._leave()
        if err is not None:
            _live.pop(key, None)
            self._job_ended()
            raise err
        st.token = t.job_token
        token = t.job_token
        st.future._cancel_hook = lambda: self._cancel_own(token)
        info = TicketInfo(id, t.position, t.eta_ns / 1e9, t.job_token, _blocked(t.blocked_by))
        return Ticket(info, st.future)

    def _cancel_own(self, token: int, flags: int = _capi.CANCEL_QUEUED) -> bool:
        try:
            h = self._enter("cancel")
        except ClosedError:
            return False
        try:
            return bool(_capi.lane_cancel_token(h, token, flags) == 0)
        finally:
            self._leave()

    def submit_wait(
        self,
        fn: Callable[[Unpack[Ts]], T],
        /,
        *args: Unpack[Ts],
        id: str,
        tenant: str | None = None,
        priority: int = 0,
        preemptible: bool = False,
        requeue_on_preempt: bool = False,
        max_wait: Seconds | None = None,
        queue_timeout: Seconds | None = None,
        timeout: Seconds | None = None,
        cost: int = 0,
        slots: int = 0,
        run_timeout: Seconds | None = None,
    ) -> T:
        """Submits ``fn(*args)`` and waits for its outcome; returns what fn returned.

        With a free slot fn runs inline on this thread. Raises what fn raised,
        the outcome (Preempted, Cancelled, ClosedError, TimedOut: ``timeout``
        passed, the job removed or cancelled and waited for), or the refusal;
        DeadlockError when called from inside a job of this same lane that
        would wait for a slot it holds.
        """
        jid = encode(id, "job id")
        j = self._job_struct(jid, tenant, priority, preemptible, requeue_on_preempt, False, max_wait,
                             queue_timeout, cost, slots, run_timeout)
        timeout_ns = -1 if timeout is None else seconds_to_ns(timeout, "timeout")
        st: _CallbackJob[T] = _CallbackJob(id, self._name, fn, args, self)
        key = new_key()
        j.run = RUN_ADDR
        j.user_data = key
        out = _capi.Outcome()
        out.struct_size = sizeof(_capi.Outcome)
        _live[key] = st
        try:
            h = self._enter("submit wait", job=True)
        except BaseException:
            del _live[key]
            raise
        try:
            s = _capi.lane_submit_wait(h, byref(j), timeout_ns, byref(out))
            msg = _capi.last_error() if s != 0 else ""
        finally:
            self._leave()
            _live.pop(key, None)
            self._job_ended()
        if s == 0:
            return st.result  # type: ignore[no-any-return]
        if out.enqueued_at_ns == 0:
            raise error_for(s, msg, op="submit wait")  # refused, never accepted
        if s == JobFailed.status and st.error is not None:
            raise st.error
        err = error_for(s, msg) if msg else outcome_error(s, id, self._name)
        if st.error is not None:
            raise err from st.error
        raise err

    # ------------------------------------------------------------ asyncio jobs

    def _port_for(self, loop: asyncio.AbstractEventLoop) -> LoopPort:
        with self._mu:
            p = self._ports.get(loop)
            if p is None:
                p = LoopPort(self, loop)
                self._ports[loop] = p
            return p

    def _port_idle(self, port: LoopPort) -> None:
        """Called on the port's loop when its last job has ended."""
        with self._mu:
            if port.jobs or self._ports.get(port.loop) is not port:
                return
            del self._ports[port.loop]
        port.teardown()

    async def run(
        self,
        fn: Callable[[Unpack[Ts]], Awaitable[T]],
        /,
        *args: Unpack[Ts],
        id: str,
        tenant: str | None = None,
        priority: int = 0,
        preemptible: bool = False,
        requeue_on_preempt: bool = False,
        max_wait: Seconds | None = None,
        queue_timeout: Seconds | None = None,
        on_ticket: Callable[[TicketInfo], None] | None = None,
        cost: int = 0,
        slots: int = 0,
        run_timeout: Seconds | None = None,
    ) -> T:
        """Runs ``await fn(*args)`` in this task once the lane grants a slot; returns its result.

        Refusals raise at once (on_ticket, if given, sees the accepted
        ticket first). Cancelling the awaiting task withdraws a queued job
        and cancels a running one. If the lane cancels the job (preemption,
        cancel, close, timeout) fn sees asyncio.CancelledError, and
        ``liblane.current_job().cause`` says why; ``run`` then raises that
        cause (Preempted, Cancelled, ClosedError) unless the task itself was
        cancelled too. No liblane thread ever touches the event loop: the
        port's eventfd is watched with ``loop.add_reader``.
        """
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        jid = encode(id, "job id")
        j = self._job_struct(jid, tenant, priority, preemptible, requeue_on_preempt, False, max_wait,
                             queue_timeout, cost, slots, run_timeout)
        h = self._enter("run", job=True)
        try:
            port = self._port_for(loop)
            key = new_key()
            aj = AsyncJob(id, self._name, loop, task)
            port.jobs[key] = aj
            j.user_data = key
            j.port = port.handle
            t = _capi.Ticket()
            t.struct_size = sizeof(_capi.Ticket)
            s = _capi.lane_submit(h, byref(j), byref(t))
            err = None if s == 0 else self._refusal(s, "run", t)
            aj.lane_h = h
        finally:
            self._leave()
        if err is not None:
            del port.jobs[key]
            self._job_ended()
            self._port_idle(port)
            raise err
        aj.token = t.job_token
        if on_ticket is not None:
            try:
                on_ticket(TicketInfo(id, t.position, t.eta_ns / 1e9, t.job_token, _blocked(t.blocked_by)))
            except BaseException:
                aj._withdraw()  # nobody will await it: withdraw it (or end it when granted)
                raise
        return await aj.drive(fn, args)

    # ------------------------------------------------------------ control

    def cancel(self, id: str | None = None, *, token: int | None = None, running: bool = False) -> None:
        """Cancels a job by id or (better: never reaches a later job of the same id) by token.

        Without ``running`` only a queued job is removed; with it a running
        job is asked to stop too. Raises NotQueuedError when there is no such job.
        """
        flags = _capi.CANCEL_QUEUED | (_capi.CANCEL_RUNNING if running else 0)
        if (id is None) == (token is None):
            raise InvalidError("cancel needs exactly one of id and token")
        if token is not None:
            if not isinstance(token, int) or not 0 <= token < 2**64:
                raise InvalidError(f"token must be an unsigned 64-bit integer, got {token!r}")
            self._call("cancel", _capi.lane_cancel_token, token, flags)
        else:
            assert id is not None
            self._call("cancel", _capi.lane_cancel, encode(id, "job id"), flags)

    def stats(self) -> LaneStats:
        """The lane's counters (after close: the last ones taken before it was destroyed)."""
        try:
            h = self._enter("stats")
        except ClosedError:
            if self._final is not None:
                return self._final
            raise
        try:
            s = _capi.Stats()
            s.struct_size = sizeof(_capi.Stats)
            st = _capi.lane_stats(h, byref(s))
            if st != 0:
                raise error_for(st, _capi.last_error(), op="stats")
            return _stats_from(s, self._name)
        finally:
            self._leave()

    def set_max_concurrent(self, n: int) -> None:
        """Resizes: raising dispatches queued work now, lowering lets running jobs finish."""
        self._call("set max concurrent", _capi.lane_set_max_concurrent, _u32(n, "max_concurrent"))

    def set_preemption(self, enabled: bool, min_runtime: Seconds = 30.0) -> None:
        """Turns preemption on or off; min_runtime taken literally (0 = no guard)."""
        self._call("set preemption", _capi.lane_set_preemption, 1 if enabled else 0,
                   seconds_to_ns(min_runtime, "min_runtime"))

    def set_eta_window(self, n: int) -> None:
        self._call("set eta window", _capi.lane_set_eta_window, _u32(n, "eta_window"))

    def set_tenant_weight(self, tenant: str, weight: int) -> None:
        """FAIR_SHARE: a tenant's share is proportional to its weight (>= 1; default 1)."""
        self._call("set tenant weight", _capi.lane_set_tenant_weight, encode(tenant, "tenant"),
                   _u32(weight, "weight"))

    def set_rate_limit(self, kinds: RateKind | int, amount: int, per: Seconds, burst: int | None = None) -> None:
        """A GCRA rate limit: ``amount`` units (requests, or cost) per ``per`` seconds, up to ``burst``
        (None: the amount) at once; amount 0 turns the kinds off.

        A job the limits hold back waits at the front (BlockedBy.RATE) with an
        ETA that includes the wait, so max_wait refuses what would wait too long.
        """
        if not isinstance(amount, int) or amount < 0:
            raise InvalidError(f"amount must be an integer >= 0, got {amount!r}")
        b = amount if burst is None else burst
        if not isinstance(b, int) or b < 0:
            raise InvalidError(f"burst must be an integer >= 0, got {burst!r}")
        per_ns = seconds_to_ns(per, "per")
        if amount > 0 and per_ns <= 0:
            raise InvalidError(f"per must be > 0 seconds, got {per!r}")
        self._call("set rate limit", _capi.lane_set_rate_limit, int(kinds), amount, per_ns, b)

    def set_tenant_limit(self, tenant: str, max_running: int) -> None:
        """At most max_running of the tenant's jobs run at once (0 removes the limit).

        Its other jobs wait (BlockedBy.TENANT_LIMIT) without holding up other tenants.
        """
        self._call("set tenant limit", _capi.lane_set_tenant_limit, encode(tenant, "tenant"),
                   _u32(max_running, "max_running", lo=0))

    def tenant_running(self, tenant: str) -> int:
        """The tenant's running jobs, counted for a tenant with a limit (else 0)."""
        n = c_uint32()
        self._call("tenant running", _capi.lane_tenant_running, encode(tenant, "tenant"), byref(n))
        return n.value

    def pause(self) -> None:
        """Dispatch nothing new until resume(); running jobs go on."""
        self._call("pause", _capi.lane_pause)

    def resume(self) -> None:
        self._call("resume", _capi.lane_resume)

    def cooldown(self, duration: Seconds) -> None:
        """Dispatch nothing new for ``duration`` seconds (0 ends a cooldown), e.g. after HTTP 429."""
        self._call("cooldown", _capi.lane_cooldown, seconds_to_ns(duration, "cooldown"))

    def wait_idle(self, timeout: Seconds | None = None) -> bool:
        """Waits until nothing of this lane runs or waits and every outcome is delivered.

        True when idle, False if timeout seconds passed first.
        """
        deadline = None if timeout is None else time.monotonic() + seconds_to_ns(timeout, "timeout") / 1e9
        with self._mu:
            while self._jobs > 0:
                if self._orphans():
                    self._cv.release()
                    try:
                        self._drive_orphans()
                    finally:
                        self._cv.acquire()
                    left = 0.02
                else:
                    left = 3600.0
                if deadline is not None:
                    rem = deadline - time.monotonic()
                    if rem <= 0:
                        return False
                    left = min(left, rem)
                self._waiters += 1
                try:
                    self._cv.wait(left)
                finally:
                    self._waiters -= 1
        return True

    # ------------------------------------------------------------ closing

    def _orphans(self) -> list[LoopPort]:
        """Ports whose event loop has stopped or closed: nobody else will drain them."""
        return [p for loop, p in list(self._ports.items()) if loop.is_closed() or not loop.is_running()]

    def _drive_orphans(self) -> None:
        for p in self._orphans():
            p.drive_orphan()
            if not p.jobs:
                with self._mu:
                    if self._ports.get(p.loop) is p:
                        del self._ports[p.loop]
                p.teardown()

    def _inside_own_job(self) -> bool:
        """True on a worker thread running a callback job (or session run) of this lane."""
        job = _current.get()
        if job is None or job._state is None:
            return False
        owner = job._state.owner
        return owner is self or getattr(owner, "_lane", None) is self

    def close(self, cancel: bool = False, timeout: Seconds | None = None) -> None:
        """Closes the lane and waits until every job has its outcome, then frees it.

        cancel=False (drain): new jobs are refused, queued and running ones
        finish. cancel=True: queued jobs end ClosedError, running ones are
        asked to stop (cause ClosedError). If ``timeout`` seconds pass while
        draining, the rest is cancelled. Idempotent. Not from inside one of
        the lane's own jobs (DeadlockError), and not from the event loop that
        runs its asyncio jobs while they are live (use ``await aclose()``).

        A lane borrowed from a Registry is not closed in liblane (the
        registry owns it): close cancels or drains this object's jobs only.
        """
        if self._inside_own_job():
            raise DeadlockError(f"closing lane '{self._name}' from inside one of its jobs would wait for itself",
                                op="close")
        try:
            running_loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running_loop = None
        with self._mu:
            if running_loop is not None and running_loop in self._ports and self._ports[running_loop].jobs:
                raise RuntimeError(
                    f"Lane.close() called from the event loop that runs live jobs of lane '{self._name}': "
                    "use 'await lane.aclose()'"
                )
            first = not self._closing
            self._closing = True
            h = self._h
        if not first or h is None:
            self._closed.wait()
            return
        for s in list(self._sessions):
            s._lane_closing()
        if self._reg is None:
            _capi.lane_close(h, _capi.CLOSE_CANCEL if cancel else _capi.CLOSE_DRAIN)
        elif cancel:
            self._cancel_own_jobs(h)
        if not self.wait_idle(timeout):
            if self._reg is None:
                _capi.lane_close(h, _capi.CLOSE_CANCEL)
            self.wait_idle()
        for s in list(self._sessions):
            s.close()
        self.wait_idle()
        with self._mu:
            while self._inflight > 0:
                self._waiters += 1
                try:
                    self._cv.wait()
                finally:
                    self._waiters -= 1
            st = _capi.Stats()
            st.struct_size = sizeof(_capi.Stats)
            if _capi.lane_stats(h, byref(st)) == 0:
                self._final = _stats_from(st, self._name)
            self._h = None
        if self._reg is None:
            _capi.lane_destroy(h)
        else:
            self._reg._forget(self)
        self._closed.set()

    def _cancel_own_jobs(self, h: int) -> None:
        """A registry lane is shared: cancel this object's jobs only, by token."""
        with self._mu:
            tokens = [aj.token for p in self._ports.values() for aj in p.jobs.values() if aj.token]
        tokens += [st.token for st in list(_live.values()) if st.owner is self and st.token]
        # Queued ones first: a running job that stops would hand its slot to one of them.
        for tok in tokens:
            _capi.lane_cancel_token(h, tok, _capi.CANCEL_QUEUED)
        for tok in tokens:
            _capi.lane_cancel_token(h, tok, _capi.CANCEL_QUEUED | _capi.CANCEL_RUNNING)

    async def aclose(self, cancel: bool = False, timeout: Seconds | None = None) -> None:
        """close() for asyncio code: waits without blocking the event loop."""
        await asyncio.get_running_loop().run_in_executor(None, lambda: self.close(cancel, timeout))

    @property
    def closed(self) -> bool:
        return self._closing

    def __enter__(self) -> "Lane":
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        # Drain on a normal exit; cancel when an exception is leaving the block.
        self.close(cancel=exc_type is not None)

    async def __aenter__(self) -> "Lane":
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        await self.aclose(cancel=exc_type is not None)

    def __repr__(self) -> str:
        state = "closed" if self._closing else "open"
        return f"<liblane.Lane {self._name!r} {state}>"


# Standalone lanes still open when the interpreter exits are closed
# (cancel) first, so that no liblane worker calls into a finalizing interpreter.
_open_lanes: "weakref.WeakSet[Lane]" = weakref.WeakSet()


@atexit.register
def _close_open_lanes() -> None:
    for ln in list(_open_lanes):
        try:
            ln.close(cancel=True)
        except BaseException:  # noqa: BLE001 - exiting anyway
            pass


def current_job() -> JobContext:
    """The job running in this thread (callback job) or task (asyncio job); LookupError outside one."""
    job = _current.get()
    if job is None:
        raise LookupError("liblane.current_job() called outside a running job")
    return job


__all__ = ["Lane", "current_job", "BlockedBy", "Policy"]
