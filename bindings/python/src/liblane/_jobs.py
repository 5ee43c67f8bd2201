"""Per-job state shared by lanes and sessions, the two C trampolines, and
the job context seen from inside a running job.

Every accepted callback job has an entry in ``_live`` (key = the integer in
``lane_job_t.user_data``) from just before ``lane_submit`` until its
``on_done`` has run; the entry holds the user's callable, its arguments and
the Future. That is what keeps them alive while liblane may still call the
job, and what lets them go once the outcome is delivered. The two
trampolines are module-level CFUNCTYPE objects made once, so no per-job
ctypes closure is created or has to be kept alive.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import itertools
import sys
from datetime import timedelta
from ctypes import byref, c_char_p, c_void_p
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from . import _capi
from ._types import BlockedBy, TicketInfo
from .errors import Cancelled, ClosedError, InvalidError, JobFailed, LaneError, Preempted, TimedOut, check, error_for

if TYPE_CHECKING:
    from .lane import Lane

T = TypeVar("T")

_keys = itertools.count(1)
# key -> state of an accepted (or being submitted) callback job or session message.
_live: dict[int, "_CallbackJob[Any]"] = {}


def live_callbacks() -> int:
    """How many callback jobs and messages the binding is keeping alive (for leak tests)."""
    return len(_live)


def new_key() -> int:
    return next(_keys)


def outcome_error(status: int, job_id: str, lane: str, detail: str = "") -> LaneError:
    """The exception that stands for an outcome status of job ``job_id``."""
    what = {
        -5: "was cancelled",
        -6: "was preempted",
        -2: f"ended because lane '{lane}' closed",
        -12: "timed out",
        -9: "was dropped by its session",
        -10: "went stale (its session cancelled everything)",
        -11: "was cleared by its session's reset",
        -14: "failed",
    }.get(status, "ended")
    msg = f"job '{job_id}' {what}"
    if detail:
        msg += f": {detail}"
    return error_for(status, msg)


class JobFuture(concurrent.futures.Future[T]):
    """The outcome of a callback job: a concurrent.futures.Future.

    ``result()`` is what the job returned; ``exception()`` what it raised, or
    a LaneError for an outcome such as Preempted, ClosedError or TimedOut. A
    job cancelled before it ran (or while running, by ``cancel(...,
    running=True)``) ends in the Future's cancelled state. ``cancel()``
    withdraws a job that is still queued (a running one is not stopped:
    concurrent.futures semantics); ``running()`` is True while it runs.
    """

    _cancel_hook: Callable[[], bool] | None = None
    _is_running = False

    def cancel(self) -> bool:
        if self.done():
            return self.cancelled()
        hook = self._cancel_hook
        if hook is None or not hook():
            return self.cancelled()
        # The outcome (CANCELLED) is delivered on the cancelling thread before
        # lane_cancel returns, so it is settled now; wait in case it is not.
        try:
            self.exception(timeout=5.0)
        except (concurrent.futures.CancelledError, concurrent.futures.TimeoutError):
            pass
        return self.cancelled()

    def running(self) -> bool:
        return self._is_running and not self.done()

    def _settle_cancelled(self) -> None:
        concurrent.futures.Future.cancel(self)


class Ticket(Generic[T]):
    """An accepted job: where it stands (position, eta, token, blocked_by) and its outcome."""

    __slots__ = ("info", "outcome")

    def __init__(self, info: TicketInfo, outcome: JobFuture[T]) -> None:
        self.info = info
        self.outcome = outcome

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def position(self) -> int:
        return self.info.position

    @property
    def eta(self) -> float:
        return self.info.eta

    @property
    def eta_timedelta(self) -> timedelta:
        return self.info.eta_timedelta

    @property
    def token(self) -> int:
        return self.info.token

    @property
    def blocked_by(self) -> BlockedBy:
        return self.info.blocked_by

    def result(self, timeout: float | None = None) -> T:
        return self.outcome.result(timeout)

    def done(self) -> bool:
        return self.outcome.done()

    def __repr__(self) -> str:
        i = self.info
        return f"<Ticket {i.id!r} position={i.position} eta={i.eta:.3f}s token={i.token} blocked_by={i.blocked_by.name}>"


class BatchItem:
    """One message merged into a session run: its id and the payload it was enqueued with."""

    __slots__ = ("id", "payload")

    def __init__(self, id: str, payload: Any) -> None:
        self.id = id
        self.payload = payload

    def __repr__(self) -> str:
        return f"BatchItem({self.id!r}, {self.payload!r})"


class JobContext:
    """The running job, as seen from inside it (``liblane.current_job()``).

    Valid only while the job runs. For a callback job it wraps the
    lane_ctx_t; ``wait`` sleeps without the GIL. For an asyncio job the
    cancel arrives as asyncio.CancelledError and ``cause`` says why.
    """

    def __init__(self, job_id: str, lane: str, ctx: int | None) -> None:
        self._id = job_id
        self._lane = lane
        self._ctx = ctx
        self._cause: LaneError | None = None  # asyncio jobs: from the CANCEL event
        self._state: _CallbackJob[Any] | None = None  # callback jobs: the job being run

    @property
    def id(self) -> str:
        """The job's id (a session run: its first message's id; ``batch`` has them all)."""
        return self._id

    @property
    def lane(self) -> str:
        return self._lane

    def _need(self) -> int:
        if self._ctx is None:
            raise ClosedError(f"job '{self._id}' is no longer running: its context has ended")
        return self._ctx

    @property
    def cancelled(self) -> bool:
        """True once cancel, preemption, close or timeout was requested."""
        if self._cause is not None:
            return True
        if self._ctx is None:
            return False
        return bool(_capi.lane_ctx_cancelled(self._ctx))

    @property
    def cause(self) -> LaneError | None:
        """Why the job must stop (Preempted, Cancelled, ClosedError, TimedOut), or None."""
        if self._cause is not None:
            return self._cause
        if self._ctx is None:
            return None
        s = _capi.lane_ctx_cause(self._ctx)
        return None if s == 0 else outcome_error(s, self._id, self._lane)

    def wait(self, timeout: float | None = None) -> LaneError | None:
        """Sleeps until the job is cancelled (returns the cause) or timeout seconds pass (None).

        Callback jobs only: in an asyncio job it would block the event loop.
        """
        ns = -1 if timeout is None else max(0, int(timeout * 1e9))
        s = _capi.lane_ctx_wait(self._need(), ns)
        if s == TimedOut.status:
            # A job may also be cancelled *for* a timeout (submit_wait).
            s2 = _capi.lane_ctx_cause(self._need())
            return None if s2 == 0 else outcome_error(s2, self._id, self._lane)
        return None if s == 0 else outcome_error(s, self._id, self._lane)

    def set_cost(self, cost: int) -> None:
        """Reports the run's real cost so far (> 0: tokens, cents): it corrects the
        lane's cost rate limit and is what LaneStats.cost_used counts."""
        if not isinstance(cost, int) or cost <= 0:
            raise InvalidError(f"cost must be an integer > 0, got {cost!r}")
        check(_capi.lane_ctx_set_cost(self._need(), cost), "set cost")

    @property
    def fence(self) -> int:
        """A shared lane's run: the fencing number of its grant (0 on a lane of one
        process, or on a fallback slot). Pass it to what the job writes."""
        return int(_capi.lane_ctx_fence(self._need()))

    def overloaded(self) -> None:
        """Marks the run as having met an overloaded provider (HTTP 429): when it
        ends, an adaptive lane halves its width. The outcome is unchanged."""
        check(_capi.lane_ctx_overloaded(self._need()), "overloaded")

    def release(self) -> None:
        """Gives the run's slots back while it waits for something outside the
        lane (a tool, a human); the job keeps running. Callback jobs only."""
        check(_capi.lane_ctx_release(self._need()), "release")

    def reacquire(self, timeout: float | None = None) -> None:
        """Takes the released slots again: returns once granted; raises the cause
        if the job is cancelled meanwhile, or TimedOut after timeout seconds (the
        run is released again). Callback jobs only: it blocks the thread."""
        ns = -1 if timeout is None else max(0, int(timeout * 1e9))
        check(_capi.lane_ctx_reacquire(self._need(), ns), "reacquire")

    def check(self) -> None:
        """Raises the cause if the job has been asked to stop."""
        c = self.cause
        if c is not None:
            raise c

    @property
    def batch(self) -> list[BatchItem]:
        """The messages merged into this run, oldest first (a plain job: itself, payload None)."""
        ctx = self._need()
        n = _capi.lane_ctx_batch_count(ctx)
        out: list[BatchItem] = []
        for i in range(n):
            idp = c_char_p()
            ud = c_void_p()
            if _capi.lane_ctx_batch_item(ctx, i, byref(idp), byref(ud)) != 0:
                break
            out.append(BatchItem(_dec(idp.value), _payload(ud.value)))
        return out

    def next_message(self) -> BatchItem | None:
        """STEER sessions: the next message delivered into this run's mailbox, or None."""
        ctx = self._need()
        idp = c_char_p()
        ud = c_void_p()
        if _capi.lane_ctx_next_message(ctx, byref(idp), byref(ud)) != 1:
            return None
        m = _live.get(ud.value or 0)
        if m is not None and self._state is not None:
            m.carrier = self._state  # a taken message gets this run's outcome
        return BatchItem(_dec(idp.value), _payload(ud.value))

    @property
    def dropped_ids(self) -> list[str]:
        """SUMMARIZE sessions: ids of messages dropped since the previous run started."""
        ctx = self._need()
        return [_dec(_capi.lane_ctx_dropped_id(ctx, i)) for i in range(_capi.lane_ctx_dropped_count(ctx))]


def _dec(b: bytes | None) -> str:
    return b.decode("utf-8", "replace") if b else ""


_current: contextvars.ContextVar[JobContext | None] = contextvars.ContextVar("liblane_current_job", default=None)


class _CallbackJob(Generic[T]):
    """A job (or session message) whose run callback liblane calls on its worker threads."""

    __slots__ = (
        "key", "id", "lane_name", "fn", "args", "future", "result", "error", "owner", "token",
        "payload", "carrier", "is_message", "__weakref__",
    )

    def __init__(self, job_id: str, lane_name: str, fn: Callable[..., T], args: tuple[Any, ...],
                 owner: "Lane | Any", payload: Any = None) -> None:
        self.key = 0
        self.id = job_id
        self.lane_name = lane_name
        self.fn = fn
        self.args = args
        self.future: JobFuture[T] = JobFuture()
        self.result: Any = None
        self.error: BaseException | None = None
        self.owner = owner  # has _job_ended()
        self.token = 0
        self.payload = payload
        # Session messages: the job whose run carried this message (its result is ours).
        self.carrier: _CallbackJob[Any] | None = None
        self.is_message = False  # a session message: its run may carry others

    def run(self, ctx: int) -> int:
        self.future._is_running = True
        job = JobContext(self.id, self.lane_name, ctx)
        job._state = self
        if self.is_message:
            for k in _batch_keys(ctx):
                m = _live.get(k)
                if m is not None:
                    m.carrier = self
        tok = _current.set(job)
        try:
            self.result = self.fn(*self.args)
            self.error = None
            return 0
        except BaseException as e:  # noqa: BLE001 - nothing may unwind into C
            self.error = e
            return 1
        finally:
            _current.reset(tok)
            job._ctx = None
            job._state = None
            self.future._is_running = False

    def settle(self, status: int, job_code: int, detail: str = "") -> None:
        src = self.carrier if self.carrier is not None else self
        fut = self.future
        fut._cancel_hook = None
        if status == 0:
            fut.set_result(src.result)
        elif status == JobFailed.status and src.error is not None:
            fut.set_exception(src.error)
        elif status == Cancelled.status:
            fut._settle_cancelled()
        else:
            err = outcome_error(status, self.id, self.lane_name, detail)
            if isinstance(err, JobFailed):
                err.job_code = job_code
            if src.error is not None and isinstance(err, (Preempted, Cancelled, ClosedError, TimedOut)):
                err.__cause__ = src.error
            fut.set_exception(err)
        # Drop the references to the user's objects now that the outcome is out.
        self.fn = _gone
        self.args = ()
        self.carrier = None


def _gone(*_: Any) -> Any:
    raise ClosedError("job already ended")


def _batch_keys(ctx: int) -> list[int]:
    n = _capi.lane_ctx_batch_count(ctx)
    if n <= 1:
        return []
    out = []
    ud = c_void_p()
    for i in range(n):
        if _capi.lane_ctx_batch_item(ctx, i, None, byref(ud)) == 0 and ud.value:
            out.append(ud.value)
    return out


def _payload(ud: int | None) -> Any:
    if not ud:
        return None
    m = _live.get(ud)
    return None if m is None else m.payload




def _run_trampoline(ctx: int, ud: int) -> int:
    try:
        st = _live.get(ud or 0)
        if st is None:
            return 3
        return st.run(ctx)
    except BaseException:  # noqa: BLE001
        return 4


def _done_trampoline(outcome: Any, ud: int) -> None:
    try:
        st = _live.pop(ud or 0, None)
        if st is None:
            return
        o = outcome.contents
        try:
            st.settle(o.status, o.job_code)
        finally:
            st.owner._job_ended()
    except BaseException:  # noqa: BLE001
        try:
            sys.excepthook(*sys.exc_info())
        except BaseException:  # noqa: BLE001
            pass


# Made once, kept by the module for the life of the process.
_RUN_CB = _capi.RUN_FN(_run_trampoline)
_DONE_CB = _capi.DONE_FN(_done_trampoline)
RUN_ADDR = _capi.fnptr(_RUN_CB)
DONE_ADDR = _capi.fnptr(_DONE_CB)
