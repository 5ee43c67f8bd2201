"""Session: a per-conversation front queue in front of a lane (lane_session_t)."""

from __future__ import annotations

import enum
import threading
import time
from ctypes import byref, c_void_p, sizeof
from typing import Any, Callable, TypeVar, TypeVarTuple, Unpack

from . import _capi
from ._jobs import DONE_ADDR, RUN_ADDR, JobFuture, _CallbackJob, _live, new_key
from .errors import ClosedError, DeadlockError, InvalidError, error_for
from .lane import Lane, Seconds, encode, seconds_to_ns

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class SessionMode(enum.IntEnum):
    QUEUE = 0  # FIFO, up to max_concurrent runs at once
    FOLLOWUP = 1  # one after another
    COLLECT = 2  # everything queued is merged into the next run
    INTERRUPT = 3  # a new message cancels the active runs and ends the queued ones
    STEER = 4  # a new message goes into an active steerable run's mailbox


class Drop(enum.IntEnum):
    OLD = 0  # the oldest queued message ends Dropped
    NEW = 1  # the new message is refused with QueueFullError
    SUMMARIZE = 2  # like OLD, and the next run gets the dropped ids


def _enum(cls: Any, v: Any, what: str) -> int:
    if isinstance(v, str):
        try:
            return int(cls[v.upper()])
        except KeyError:
            raise InvalidError(f"unknown {what} {v!r}: one of {', '.join(m.name.lower() for m in cls)}") from None
    return int(cls(v))


TokenEstimate = Callable[[str], "tuple[int, int] | None"]


class Session:
    """Messages for one conversation; every accepted message gets exactly one outcome.

    A message is a callable like a lane job. A run calls the callable of its
    first message; ``liblane.current_job().batch`` lists every message the
    run carries (COLLECT merges several) with the payload each was enqueued
    with, and each of them gets the run's result (or exception) as its outcome.
    """

    def __init__(
        self,
        lane: Lane,
        key: str,
        *,
        mode: SessionMode | str = SessionMode.QUEUE,
        cap: int | None = None,
        drop: Drop | str = Drop.OLD,
        debounce: Seconds | None = None,
        max_concurrent: int = 1,
        token_estimate: TokenEstimate | None = None,
        throttle_ratio: float | None = None,
    ) -> None:
        """debounce: seconds of quiet before a run starts (None: liblane's 0.8 s; 0: off).

        token_estimate(key) -> (tokens, context_window) or None: with it the
        session runs one at a time once tokens >= throttle_ratio * window.
        """
        o = _capi.SessionOptions()
        o.struct_size = sizeof(_capi.SessionOptions)
        o.mode = _enum(SessionMode, mode, "session mode")
        o.cap = 0 if cap is None else _pos(cap, "cap")
        o.drop = _enum(Drop, drop, "drop policy")
        if debounce is not None:
            ns = seconds_to_ns(debounce, "debounce")
            o.debounce_ns = ns if ns > 0 else -1
        o.max_concurrent = _pos(max_concurrent, "max_concurrent")
        if throttle_ratio is not None:
            if not 0 < throttle_ratio <= 1:
                raise InvalidError(f"throttle_ratio must be in (0, 1], got {throttle_ratio!r}")
            o.throttle_ratio = throttle_ratio
        self._estimate_cb: Any = None
        if token_estimate is not None:
            est = token_estimate

            def _estimate(skey: bytes | None, tokens: Any, window: Any, _ud: Any) -> int:
                try:
                    r = est(skey.decode() if skey else "")
                    if r is None:
                        return 1
                    tokens[0], window[0] = int(r[0]), int(r[1])
                    return 0
                except BaseException:  # noqa: BLE001 - unknown: no throttle
                    return 1

            self._estimate_cb = _capi.TOKEN_ESTIMATE_FN(_estimate)
            o.token_estimate = _capi.fnptr(self._estimate_cb)
        self._lane = lane
        self._key = key
        self._mu = threading.Lock()
        self._cv = threading.Condition(self._mu)
        self._inflight = 0
        self._live = 0
        self._closed = False
        h = c_void_p()
        lh = lane._enter("new session")
        try:
            with lane._mu:
                if lane._closing:
                    raise lane._closed_error("new session")
                s = _capi.lane_session_create(lh, encode(key, "session key"), byref(o), byref(h))
                if s != 0:
                    raise error_for(s, _capi.last_error(), op="new session")
                lane._sessions.add(self)
        finally:
            lane._leave()
        self._h: int | None = h.value

    @property
    def key(self) -> str:
        return self._key

    @property
    def lane(self) -> Lane:
        return self._lane

    def _enter(self, op: str, msg: bool = False) -> int:
        with self._mu:
            if self._h is None or (msg and self._closed):
                raise ClosedError(f"session '{self._key}' is closed", op=op)
            self._inflight += 1
            if msg:
                self._live += 1
            return self._h

    def _leave(self) -> None:
        with self._mu:
            self._inflight -= 1
            if self._inflight == 0:
                self._cv.notify_all()

    def _job_ended(self) -> None:
        with self._mu:
            self._live -= 1
            if self._live == 0:
                self._cv.notify_all()

    def enqueue(
        self,
        fn: Callable[[Unpack[Ts]], T],
        /,
        *args: Unpack[Ts],
        id: str,
        payload: Any = None,
        tenant: str | None = None,
        priority: int = 0,
        steerable: bool = False,
        preemptible: bool = False,
        max_wait: Seconds | None = None,
        queue_timeout: Seconds | None = None,
        cost: int = 0,
        slots: int = 0,
        run_timeout: Seconds | None = None,
    ) -> JobFuture[T]:
        """Gives the session a message; returns its outcome Future.

        cost, slots and run_timeout are as for Lane.submit: a run takes the
        most slots any of its messages asks for and its first message's
        run_timeout, and a merged run (mode collect) costs the sum of its
        messages' costs, at most the lane's cost burst.

        Refused (QueueFullError with drop='new', DuplicateError, ClosedError,
        InvalidError): raises, and there will be no outcome. Outcomes besides
        the run's: Dropped, Stale, Cleared, Cancelled (interrupted, or the
        session closed), ClosedError (lane closed).
        """
        j = self._lane._job_struct(encode(id, "message id"), tenant, priority, preemptible, False, steerable,
                                   max_wait, queue_timeout, cost, slots, run_timeout)
        st: _CallbackJob[T] = _CallbackJob(id, self._lane.name, fn, args, self, payload)
        key = new_key()
        st.key = key
        st.is_message = True
        j.run = RUN_ADDR
        j.on_done = DONE_ADDR
        j.user_data = key
        _live[key] = st
        try:
            h = self._enter("enqueue", msg=True)
        except BaseException:
            del _live[key]
            raise
        try:
            s = _capi.lane_session_enqueue(h, byref(j))
            err = None if s == 0 else error_for(s, _capi.last_error(), op="enqueue")
        finally:
            self._leave()
        if err is not None:
            _live.pop(key, None)
            self._job_ended()
            raise err
        return st.future

    def _simple(self, op: str, fn: Callable[..., int], *args: Any) -> int:
        h = self._enter(op)
        try:
            return int(fn(h, *args))
        finally:
            self._leave()

    def cancel_one(self) -> bool:
        """Cancels the oldest active run; False if none runs."""
        return self._simple("cancel one", _capi.lane_session_cancel_one) == 1

    def cancel_all(self) -> int:
        """Cancels every active run; never-started messages end Stale. Returns runs cancelled."""
        return self._simple("cancel all", _capi.lane_session_cancel_all)

    def reset(self) -> None:
        """New generation: queued messages end Cleared; old runs stop counting."""
        s = self._simple("reset", _capi.lane_session_reset)
        if s != 0:
            raise error_for(s, _capi.last_error(), op="reset")

    @property
    def active(self) -> int:
        return self._simple("active", _capi.lane_session_active)

    @property
    def queued(self) -> int:
        return self._simple("queued", _capi.lane_session_queued)

    def set_max_concurrent(self, n: int) -> None:
        h = self._enter("set max concurrent")
        try:
            s = _capi.lane_session_set_max_concurrent(h, _pos(n, "max_concurrent"))
            if s != 0:
                raise error_for(s, _capi.last_error(), op="set max concurrent")
        finally:
            self._leave()

    def wait_idle(self, timeout: Seconds | None = None) -> bool:
        """Waits until every accepted message has its outcome; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + seconds_to_ns(timeout, "timeout") / 1e9
        with self._mu:
            while self._live > 0:
                rem = None if deadline is None else deadline - time.monotonic()
                if rem is not None and rem <= 0:
                    return False
                self._cv.wait(rem)
        return True

    def _lane_closing(self) -> None:
        with self._mu:
            self._closed = True

    def close(self) -> None:
        """Ends queued messages (Cancelled), cancels active runs, waits for every outcome. Idempotent.

        Not from inside a job of the session's lane (DeadlockError).
        """
        if self._lane._inside_own_job():
            raise DeadlockError(f"closing session '{self._key}' from inside a job of lane '{self._lane.name}'",
                                op="close session")
        with self._mu:
            self._closed = True
            while self._inflight > 0:
                self._cv.wait()
            h, self._h = self._h, None
        if h is None:
            return
        _capi.lane_session_destroy(h)
        self.wait_idle()
        with self._lane._mu:
            self._lane._sessions.discard(self)
        self._estimate_cb = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pos(n: int, what: str) -> int:
    if not isinstance(n, int) or not 1 <= n <= 0xFFFFFFFF:
        raise InvalidError(f"{what} must be an integer from 1 to 4294967295, got {n!r}")
    return n

