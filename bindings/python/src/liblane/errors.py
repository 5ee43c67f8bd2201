"""One exception class per lane_status_t, all under LaneError.

Refusals and failed calls are named ``...Error`` (BusyError, DuplicateError);
what can happen to an accepted job is named for the event (Cancelled,
Preempted, Dropped, Stale, Cleared, TimedOut, JobFailed). ClosedError is
both: a refusal at submit and the outcome of a job ended by a closing lane.
"""

from __future__ import annotations

from typing import ClassVar

from . import _capi


class LaneError(Exception):
    """A liblane status other than LANE_OK, with lane_last_error()'s message."""

    status: ClassVar[int] = 0

    def __init__(self, message: str = "", *, op: str = "") -> None:
        self.message = message
        self.op = op
        super().__init__(f"{op}: {message}" if op and message else (message or op or self.status_name))

    @property
    def status_name(self) -> str:
        return _capi.status_name(self.status)


class InvalidError(LaneError, ValueError):
    """LANE_ERR_INVALID: a bad argument."""

    status = -1


class ClosedError(LaneError):
    """LANE_ERR_CLOSED: the lane (or session, registry) is closed."""

    status = -2


class BusyError(LaneError):
    """LANE_ERR_BUSY: the ETA exceeds max_wait; not queued. Carries the estimate."""

    status = -3
    position: int = 0
    eta: float = 0.0


class NotQueuedError(LaneError):
    """LANE_ERR_NOT_QUEUED: cancel found no such job."""

    status = -4


class Cancelled(LaneError):
    """LANE_ERR_CANCELLED: the job was cancelled."""

    status = -5


class Preempted(LaneError):
    """LANE_ERR_PREEMPTED: a higher-priority job took the slot."""

    status = -6


class DuplicateError(LaneError):
    """LANE_ERR_DUPLICATE: the id is already live in this lane (or session)."""

    status = -7


class QueueFullError(LaneError):
    """LANE_ERR_QUEUE_FULL: max_queued (or a session's cap) reached."""

    status = -8


class Dropped(LaneError):
    """LANE_ERR_DROPPED: a full session dropped the message."""

    status = -9


class Stale(LaneError):
    """LANE_ERR_STALE: ended by a session's cancel_all before it started."""

    status = -10


class Cleared(LaneError):
    """LANE_ERR_CLEARED: ended by a session's reset."""

    status = -11


class TimedOut(LaneError, TimeoutError):
    """LANE_ERR_TIMEOUT: queue_timeout passed, or a wait timed out."""

    status = -12


class NoMemError(LaneError, MemoryError):
    """LANE_ERR_NOMEM."""

    status = -13


class JobFailed(LaneError):
    """LANE_ERR_JOB_FAILED: the job's run returned non-zero."""

    status = -14
    job_code: int = 0


class InternalError(LaneError):
    """LANE_ERR_INTERNAL."""

    status = -15


class DeadlockError(LaneError):
    """LANE_ERR_DEADLOCK: submit_wait from inside a job of the same full lane."""

    status = -16


class LaneIOError(LaneError):
    """LANE_ERR_IO: a sampler sink or the SQLite history failed."""

    status = -17


class UnsupportedError(LaneError):
    """LANE_ERR_UNSUPPORTED: this build of liblane lacks the feature (the SQLite history)."""

    status = -18


class UnavailableError(LaneError):
    """LANE_ERR_UNAVAILABLE: a shared lane's Redis cannot be reached; the job was not accepted."""

    status = -19


class UnknownStatusError(LaneError):
    """A status this binding does not know (a newer library)."""

    def __init__(self, status: int, message: str = "", *, op: str = "") -> None:
        self.unknown_status = status
        super().__init__(message or f"status {status}", op=op)

    @property
    def status_name(self) -> str:
        return _capi.status_name(self.unknown_status)


_BY_STATUS: dict[int, type[LaneError]] = {
    cls.status: cls
    for cls in (
        InvalidError, ClosedError, BusyError, NotQueuedError, Cancelled, Preempted, DuplicateError,
        QueueFullError, Dropped, Stale, Cleared, TimedOut, NoMemError, JobFailed, InternalError,
        DeadlockError, LaneIOError, UnsupportedError, UnavailableError,
    )
}


def error_for(status: int, message: str = "", *, op: str = "") -> LaneError:
    """The exception for a status (never LANE_OK)."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        return UnknownStatusError(status, message, op=op)
    return cls(message, op=op)


def check(status: int, op: str) -> None:
    """Raises the status's exception with lane_last_error() (same thread, right after the call)."""
    if status != 0:
        raise error_for(status, _capi.last_error(), op=op)
