"""liblane for Python: named concurrency lanes (bounded, fair, priority-aware,
preemptible job queues) from the liblane C library, loaded with ctypes.

    from liblane import Lane

    with Lane("llm", max_concurrent=3, policy="fair_share") as llm:
        ticket = llm.submit(call_model, prompt, id="req-1", tenant="alice")
        print(ticket.position, ticket.eta, ticket.outcome.result())

See README.md for asyncio jobs, sessions, registries and the SQLite history.
"""

from . import _capi
from ._jobs import BatchItem, JobContext, JobFuture, Ticket, live_callbacks
from ._types import OVERLOADED, BlockedBy, LaneStats, Policy, RateKind, Sample, TicketInfo
from .errors import (
    BusyError,
    Cancelled,
    Cleared,
    ClosedError,
    DeadlockError,
    Dropped,
    DuplicateError,
    InternalError,
    InvalidError,
    JobFailed,
    LaneError,
    LaneIOError,
    NoMemError,
    NotQueuedError,
    Preempted,
    QueueFullError,
    Stale,
    TimedOut,
    UnavailableError,
    UnknownStatusError,
    UnsupportedError,
)
from .lane import Cluster, Lane, current_job
from .registry import Registry, Sampler, history
from .session import Drop, Session, SessionMode

__version__ = "0.1.0"

#: The loaded library's version string and its path.
library_version: str = (_capi.lane_version_string() or b"").decode()
library_path: str = _capi.LIB_PATH
abi_version: int = _capi.ABI_VERSION

__all__ = [
    "BatchItem", "BlockedBy", "BusyError", "Cancelled", "Cleared", "ClosedError", "Cluster", "DeadlockError", "Drop",
    "Dropped", "DuplicateError", "InternalError", "InvalidError", "JobContext", "JobFailed", "JobFuture", "Lane",
    "LaneError", "LaneIOError", "LaneStats", "NoMemError", "NotQueuedError", "Policy", "Preempted",
    "QueueFullError", "Registry", "Sample", "Sampler", "Session", "SessionMode", "Stale", "Ticket", "TicketInfo",
    "TimedOut", "UnavailableError", "UnknownStatusError", "UnsupportedError", "current_job", "history",
    "live_callbacks", "library_path", "library_version", "abi_version", "OVERLOADED", "RateKind",
]
