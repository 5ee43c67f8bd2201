"""asyncio jobs: host-run liblane jobs granted through a port per (lane, loop).

The port's eventfd is watched with ``loop.add_reader``; its events (GRANT,
CANCEL, DONE) are read with a non-blocking ``lane_port_poll`` on the loop's
own thread. liblane's threads only post events, so none of them ever
touches the event loop or a Future. A port lives while the lane has live
asyncio jobs on that loop and is torn down when the last one ends.
"""

from __future__ import annotations

import asyncio
import threading
from ctypes import byref, c_void_p, sizeof
from typing import TYPE_CHECKING, Any, Awaitable, Callable, TypeVar

from . import _capi
from ._jobs import JobContext, _current, outcome_error
from .errors import JobFailed, LaneError, check, error_for

if TYPE_CHECKING:
    from .lane import Lane

T = TypeVar("T")

_BATCH = 64

QUEUED, GRANTED, FINISHED, DONE = range(4)


class AsyncJob:
    """One asyncio job; all its fields are touched on its loop's thread only."""

    __slots__ = ("id", "lane_name", "loop", "task", "token", "lane_h", "state", "wake", "ctx", "cause",
                 "lane_cancels", "abandoned", "status", "job", "detail", "orphaned")

    def __init__(self, job_id: str, lane_name: str, loop: asyncio.AbstractEventLoop, task: "asyncio.Task[Any]") -> None:
        self.id = job_id
        self.lane_name = lane_name
        self.loop = loop
        self.task = task
        self.token = 0
        self.lane_h: int = 0
        self.state = QUEUED
        self.wake: asyncio.Future[None] | None = None
        self.ctx: int | None = None
        self.cause: LaneError | None = None
        self.lane_cancels = 0  # task.cancel() calls made for the lane's CANCEL events
        self.abandoned = False  # the awaiting task is gone: end the job whenever it is granted
        self.status = 0
        self.job: JobContext | None = None
        self.detail = ""
        # Lane.close ended this job for a stopped loop: liblane is done with it
        # (the lane may be gone), so the task must not call into it again.
        self.orphaned = False

    # ---------------------------------------------------------------- events

    def _wake(self) -> None:
        w = self.wake
        if w is not None and not w.done():
            w.set_result(None)

    def on_grant(self, ctx: int | None) -> None:
        if self.abandoned:
            self.state = FINISHED
            _capi.lane_job_finish(self.lane_h, self.token, 1)
            return
        self.state = GRANTED
        self.ctx = ctx
        self.cause = None
        self._wake()

    def on_cancel(self, status: int) -> None:
        if self.state != GRANTED:
            return
        self.cause = outcome_error(status, self.id, self.lane_name)
        if self.job is not None:
            self.job._cause = self.cause
        self.lane_cancels += 1
        self.task.cancel(msg=f"liblane: {self.cause}")

    def on_done(self, status: int) -> None:
        self.state = DONE
        self.status = status
        self._wake()

    # ---------------------------------------------------------------- the task's side

    def _withdraw(self) -> None:
        """The awaiting task was cancelled: withdraw or end the job, whatever its state."""
        self.abandoned = True
        if self.orphaned:
            return
        if self.state == GRANTED:
            self.state = FINISHED
            _capi.lane_cancel_token(self.lane_h, self.token, _capi.CANCEL_RUNNING)
            _capi.lane_job_finish(self.lane_h, self.token, 1)
        elif self.state == QUEUED:
            # Queued: removed (DONE CANCELLED follows). Already granted but
            # the GRANT not read yet: on_grant finishes it.
            _capi.lane_cancel_token(self.lane_h, self.token, _capi.CANCEL_QUEUED | _capi.CANCEL_RUNNING)

    async def _next_event(self) -> None:
        if self.state in (GRANTED, DONE):
            return
        self.wake = self.loop.create_future()
        try:
            await self.wake
        except asyncio.CancelledError:
            if self.state == GRANTED and self.lane_cancels:
                # Granted and cancelled by the lane before fn started: let
                # the run loop see it (the lane's cancel, not the user's).
                self.lane_cancels -= 1
                self.task.uncancel()
                if self.task.cancelling() == 0:
                    return
            self._withdraw()
            raise
        finally:
            self.wake = None

    async def drive(self, fn: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
        result: Any = None
        err: BaseException | None = None
        while True:
            await self._next_event()
            if self.state == DONE:
                break
            # GRANTED: run fn in this task.
            job = JobContext(self.id, self.lane_name, None)
            job._cause = self.cause
            self.job = job
            tok = _current.set(job)
            code = 0
            err = None
            try:
                if self.cause is not None:
                    raise asyncio.CancelledError(f"liblane: {self.cause}")
                result = await fn(*args)
            except BaseException as e:  # noqa: BLE001 - the job's end is reported to liblane
                err = e
                code = 1
            finally:
                _current.reset(tok)
                self.job = None
            user_cancelled = self.task.cancelling() > self.lane_cancels
            while self.lane_cancels:
                self.lane_cancels -= 1
                self.task.uncancel()
            if self.orphaned:
                if isinstance(err, asyncio.CancelledError):
                    raise err
                raise asyncio.CancelledError("liblane: the lane was closed while its event loop was stopped")
            if user_cancelled:
                # The awaiting task was cancelled while fn ran: the job ends CANCELLED.
                self.abandoned = True
                self.state = FINISHED
                _capi.lane_cancel_token(self.lane_h, self.token, _capi.CANCEL_RUNNING)
                _capi.lane_job_finish(self.lane_h, self.token, code)
                if isinstance(err, asyncio.CancelledError):
                    raise err
                raise asyncio.CancelledError()
            self.state = FINISHED
            self.cause = None
            _capi.lane_job_finish(self.lane_h, self.token, code)
            # Next: DONE, or another GRANT for a job requeued on preemption.
        if self.status == 0:
            return result  # type: ignore[no-any-return]
        if self.status == JobFailed.status and err is not None:
            raise err
        e2 = outcome_error(self.status, self.id, self.lane_name)
        if err is not None:
            raise e2 from err
        raise e2


class LoopPort:
    """A lane's port for one event loop, drained on that loop's thread."""

    def __init__(self, lane: "Lane", loop: asyncio.AbstractEventLoop) -> None:
        self.lane = lane
        self.loop = loop
        ph = c_void_p()
        check(_capi.lane_port_create(byref(ph)), "port create")
        assert ph.value is not None
        self.handle: int | None = ph.value
        self.fd = _capi.lane_port_fd(ph.value)
        self.jobs: dict[int, AsyncJob] = {}
        self.buf = (_capi.Event * _BATCH)()
        self.buf[0].struct_size = sizeof(_capi.Event)
        self.lock = threading.Lock()  # a stopped loop's port may be drained by Lane.close
        self.watching = True
        loop.add_reader(self.fd, self._readable)

    def _poll(self) -> list[tuple[int, int, int, int]]:
        with self.lock:
            if self.handle is None:
                return []
            n = _capi.lane_port_poll(self.handle, self.buf, _BATCH, 0)
            if n <= 0:
                return []
            return [(e.kind, e.status, e.user_data or 0, e.ctx or 0) for e in self.buf[:n]]

    def _readable(self) -> None:
        for kind, status, ud, ctx in self._poll():
            aj = self.jobs.get(ud)
            if aj is None:
                continue
            if kind == _capi.EVENT_GRANT:
                aj.on_grant(ctx or None)
            elif kind == _capi.EVENT_CANCEL:
                aj.on_cancel(status)
            elif kind == _capi.EVENT_DONE:
                del self.jobs[ud]
                aj.on_done(status)
                self.lane._job_ended()
        if not self.jobs:
            self.lane._port_idle(self)

    def teardown(self) -> None:
        """On the loop's thread, once no job names the port any more."""
        if self.watching:
            self.watching = False
            self.loop.remove_reader(self.fd)
        self.destroy_without_loop()

    def destroy_without_loop(self) -> None:
        with self.lock:
            h, self.handle = self.handle, None
        if h is not None:
            _capi.lane_port_destroy(h)

    def drive_orphan(self) -> None:
        """Lane.close on a port whose loop has stopped: end its jobs so the close can finish.

        Granted jobs are finished as failed (their coroutines cannot run);
        the awaiting tasks, if their loop ever runs again, see the outcome.
        """
        for job in self.jobs.values():
            job.orphaned = True
        for kind, status, ud, _ctx in self._poll():
            aj = self.jobs.get(ud)
            if aj is None:
                continue
            if kind == _capi.EVENT_GRANT:
                aj.state = FINISHED
                _capi.lane_job_finish(aj.lane_h, aj.token, 1)
            elif kind == _capi.EVENT_DONE:
                del self.jobs[ud]
                if not self.loop.is_closed():
                    try:
                        self.loop.call_soon_threadsafe(aj.on_done, status)
                    except RuntimeError:
                        pass
                self.lane._job_ended()
        for aj in list(self.jobs.values()):
            if aj.state == GRANTED:
                aj.state = FINISHED
                _capi.lane_job_finish(aj.lane_h, aj.token, 1)
        if self.watching and self.loop.is_closed():
            self.watching = False
