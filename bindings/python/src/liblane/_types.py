"""Plain values handed out by the binding: enums, tickets, stats, samples."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone


class Policy(enum.IntEnum):
    """Queue order of a lane (lane_policy_t)."""

    DEFAULT = 0
    FIFO = 1
    FAIR_SHARE = 2


class RateKind(enum.IntFlag):
    """What a rate limit counts (Lane.set_rate_limit); both may be set at once."""

    REQUESTS = 1
    COST = 2


# The job code of a run whose provider said it is overloaded (HTTP 429).
OVERLOADED = 429


class BlockedBy(enum.IntEnum):
    """Why a job (or the head of the queue) waits (lane_blocked_by_t)."""

    NONE = 0
    FULL = 1
    PAUSED = 2
    COOLDOWN = 3
    PRIORITY = 4
    TENANT = 5
    RATE = 6
    TENANT_LIMIT = 7


def _blocked(v: int) -> BlockedBy:
    try:
        return BlockedBy(v)
    except ValueError:
        return BlockedBy.NONE


def ns_to_datetime(ns: int) -> datetime | None:
    """A Unix-epoch nanosecond stamp as an aware UTC datetime; None for 0."""
    if ns == 0:
        return None
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc)


@dataclass(frozen=True)
class LaneStats:
    """lane_stats_t. Durations are seconds; timestamps aware UTC datetimes (None = never)."""

    name: str
    max_concurrent: int
    running: int
    queued: int
    oldest_queued_at: datetime | None
    throughput_1m: int
    submitted: int
    completed: int
    failed: int
    cancelled: int
    preempted: int
    timed_out: int
    closed: int
    refused: int
    wait_p50: float
    wait_p99: float
    run_p50: float
    run_p99: float
    paused: bool
    cooldown_until: datetime | None
    blocked_by: BlockedBy
    preemptions: int
    eta_window: int
    mean_runtime: float
    # budgets
    width: int = 0  # the cap in slots now: the adaptive width, else max_concurrent
    slots_in_use: int = 0  # slots held by running jobs (a job may hold several)
    released: int = 0  # running jobs that gave their slots back and do not want them yet
    reacquiring: int = 0  # running jobs waiting to get their slots back
    rate_waits: int = 0  # jobs whose grant a rate limit delayed
    rate_ready_at: datetime | None = None  # when the rate limits let the queue's front go
    cost_used: int = 0  # finished runs' cost: reported (set_cost), else the estimate
    overloads: int = 0  # overloaded finishes (adaptive lanes)
    # shared lanes (Lane(cluster=...)); all zero for a lane of one process
    shared: bool = False  # a member of the lane of its name on a cluster
    available: bool = False  # its Redis answered the last time it was asked
    global_running: int = 0  # slots granted across every member, as of the last answer
    global_queued: int = 0  # slots the members wait for, as of the last answer
    leases_lost: int = 0  # grants whose lease ran out under this member
    releases_refused: int = 0  # late releases the arbiter refused

    @property
    def ended(self) -> int:
        """Jobs that have their outcome."""
        return self.completed + self.failed + self.cancelled + self.preempted + self.timed_out + self.closed


@dataclass(frozen=True)
class Sample:
    """One row of the sampler's SQLite history."""

    lane: str
    running: int
    queued: int
    sampled_at_ns: int

    @property
    def sampled_at(self) -> datetime:
        return datetime.fromtimestamp(self.sampled_at_ns / 1e9, tz=timezone.utc)


@dataclass(frozen=True)
class TicketInfo:
    """What lane_submit says about an accepted job."""

    id: str
    position: int  # 0 = running now; else 1-based place in the policy's order
    eta: float  # estimated wait, seconds
    token: int  # names this job only (an id may be reused later)
    blocked_by: BlockedBy

    @property
    def eta_timedelta(self) -> timedelta:
        return timedelta(seconds=self.eta)
