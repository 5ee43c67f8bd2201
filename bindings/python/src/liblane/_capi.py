"""The only module that talks to liblane.so: loading, structs, prototypes.

The library is loaded with ctypes at import time and every function is bound
by its own exported name (``lane_submit``, ...), not through the
``lane_get_api`` table. ctypes resolves each name with dlsym and raises an
error naming the symbol when one is missing, so a library too old for this
binding fails loudly at import; the table would need a ctypes mirror of
``lane_api_t`` whose every slot must match the header by position, which
fails silently (a wrong function called) when the two drift. The ABI is
checked instead with ``lane_abi_version()``: same major, minor at least the
one this binding was written for.

Structs mirror lane.h field by field. Each one's ``struct_size`` is set to
``ctypes.sizeof`` of the mirror, so a library whose structs have grown at
their end reads and writes only the fields this binding knows.

Every call goes through ``ctypes.CDLL``, which releases the GIL for the
duration of the foreign call; callbacks made with ``CFUNCTYPE`` take the GIL
only while they run Python.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_double,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any

ABI_MAJOR = 0
ABI_MINOR = 4  # the lane.h this binding mirrors

# ------------------------------------------------------------------ structs


class Outcome(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("status", c_int),
        ("job_code", c_int32),
        ("job_id", c_char_p),
        ("lane", c_char_p),
        ("job_token", c_uint64),
        ("enqueued_at_ns", c_int64),
        ("started_at_ns", c_int64),
        ("finished_at_ns", c_int64),
    ]


RUN_FN = CFUNCTYPE(c_int32, c_void_p, c_void_p)
DONE_FN = CFUNCTYPE(None, POINTER(Outcome), c_void_p)
CLOCK_FN = CFUNCTYPE(c_int64, c_void_p)
CONFIG_INT_FN = CFUNCTYPE(c_int64, c_char_p, c_int64, c_void_p)
LOG_FN = CFUNCTYPE(None, c_int32, c_char_p, c_void_p)
TOKEN_ESTIMATE_FN = CFUNCTYPE(c_int32, c_char_p, POINTER(c_int64), POINTER(c_int64), c_void_p)


class Job(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("id", c_char_p),
        ("tenant", c_char_p),
        ("priority", c_int32),
        ("flags", c_uint32),
        ("max_wait_ns", c_int64),
        ("run", c_void_p),
        ("on_done", c_void_p),
        ("user_data", c_void_p),
        ("port", c_void_p),
        ("queue_timeout_ns", c_int64),
        # ABI 0.3: budgets
        ("cost", c_int64),
        ("run_timeout_ns", c_int64),
        ("slots", c_uint32),
    ]


class Ticket(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("position", c_int32),
        ("eta_ns", c_int64),
        ("job_token", c_uint64),
        ("blocked_by", c_int),
    ]


class Options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("max_concurrent", c_uint32),
        ("policy", c_int),
        ("eta_window", c_uint32),
        ("preemption_off", c_int32),
        ("preempt_min_runtime_ns", c_int64),
        ("preempt_overcommit", c_int32),
        ("max_queued", c_uint32),
        ("eta_default_runtime_ns", c_int64),
        ("aging_ns", c_int64),
        ("clock", c_void_p),
        ("clock_ud", c_void_p),
        ("fair_half_life_ns", c_int64),
        # ABI 0.3: adaptive width
        ("adaptive_min", c_uint32),
        ("adaptive_max", c_uint32),
        ("adaptive_cooldown_ns", c_int64),
        # ABI 0.4: shared lanes
        ("cluster", c_void_p),
    ]


class Stats(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("name", c_char_p),
        ("max_concurrent", c_uint32),
        ("running", c_uint32),
        ("queued", c_uint32),
        ("oldest_queued_at_ns", c_int64),
        ("throughput_1m", c_uint32),
        ("submitted", c_uint64),
        ("completed", c_uint64),
        ("failed", c_uint64),
        ("cancelled", c_uint64),
        ("preempted", c_uint64),
        ("timed_out", c_uint64),
        ("closed", c_uint64),
        ("refused", c_uint64),
        ("wait_p50_ns", c_int64),
        ("wait_p99_ns", c_int64),
        ("run_p50_ns", c_int64),
        ("run_p99_ns", c_int64),
        ("paused", c_int32),
        ("cooldown_until_ns", c_int64),
        ("blocked_by", c_int),
        ("preemptions", c_uint64),
        ("eta_window", c_uint32),
        ("mean_runtime_ns", c_int64),
        # ABI 0.3: budgets
        ("width", c_uint32),
        ("slots_in_use", c_uint32),
        ("released", c_uint32),
        ("reacquiring", c_uint32),
        ("rate_waits", c_uint64),
        ("rate_ready_at_ns", c_int64),
        ("cost_used", c_int64),
        ("overloads", c_uint64),
        # ABI 0.4: shared lanes
        ("shared", c_int32),
        ("available", c_int32),
        ("global_running", c_uint32),
        ("global_queued", c_uint32),
        ("leases_lost", c_uint64),
        ("releases_refused", c_uint64),
    ]


class ClusterOptions(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("url", c_char_p),
        ("key_prefix", c_char_p),
        ("lease_ns", c_int64),
        ("fallback_slots", c_uint32),
        ("timeout_ns", c_int64),
    ]


class Event(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("kind", c_int),
        ("status", c_int),
        ("job_code", c_int32),
        ("lane", c_void_p),
        ("job_token", c_uint64),
        ("user_data", c_void_p),
        ("at_ns", c_int64),
        ("ctx", c_void_p),
    ]


class RegistryOptions(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("config_int", c_void_p),
        ("config_ud", c_void_p),
        ("log", c_void_p),
        ("log_ud", c_void_p),
        ("default_policy", c_int),
        ("default_max_concurrent", c_uint32),
        ("idle_retire_ns", c_int64),
        ("clock", c_void_p),
        ("clock_ud", c_void_p),
        ("cluster", c_void_p),  # 0.4
    ]


class SamplerOptions(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("interval_ns", c_int64),
        ("retention_ns", c_int64),
        ("purge_interval_ns", c_int64),
        ("sink", c_void_p),
        ("purger", c_void_p),
        ("sink_ud", c_void_p),
        ("sqlite_path", c_char_p),
        ("clock", c_void_p),
        ("clock_ud", c_void_p),
    ]


class Sample(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("running", c_uint32),
        ("queued", c_uint32),
        ("sampled_at_ns", c_int64),
    ]


class SessionOptions(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("mode", c_int),
        ("cap", c_uint32),
        ("drop", c_int),
        ("debounce_ns", c_int64),
        ("max_concurrent", c_uint32),
        ("token_estimate", c_void_p),
        ("token_ud", c_void_p),
        ("throttle_ratio", c_double),
    ]


# Constants of lane.h.
JOB_PREEMPTIBLE = 1 << 0
JOB_REQUEUE_ON_PREEMPT = 1 << 1
JOB_STEERABLE = 1 << 2
CANCEL_QUEUED = 1 << 0
CANCEL_RUNNING = 1 << 1
EVENT_GRANT = 1
EVENT_CANCEL = 2
EVENT_DONE = 3
CLOSE_DRAIN = 0
CLOSE_CANCEL = 1

# ------------------------------------------------------------------ loading


class LibraryNotFound(ImportError):
    """liblane.so could not be loaded from any of the places tried."""


def _candidates() -> list[str]:
    found: list[str] = []
    env = os.environ.get("LIBLANE_PATH")
    if env:
        p = Path(env)
        if p.is_dir():
            found += [str(p / "liblane.so"), str(p / "liblane.so.0")]
        else:
            found.append(env)
    here = Path(__file__).resolve().parent
    found += [str(here / "liblane.so"), str(here / "liblane.so.0")]
    # The system's library path (ldconfig cache, LD_LIBRARY_PATH): dlopen
    # searches it for a bare name.
    found.append("liblane.so.0")
    system = ctypes.util.find_library("lane")
    if system:
        found.append(system)
    return found


def _load() -> ctypes.CDLL:
    tried: list[str] = []
    for name in _candidates():
        if name in (t.split(": ", 1)[0] for t in tried):
            continue
        if "/" in name and not os.path.exists(name):
            tried.append(f"{name}: no such file")
            continue
        try:
            return ctypes.CDLL(name)
        except OSError as e:
            tried.append(f"{name}: {e}")
    raise LibraryNotFound(
        "liblane: could not load liblane.so; tried (in order):\n  "
        + "\n  ".join(tried)
        + "\nSet LIBLANE_PATH to the library file (or its directory), put liblane.so next to "
        "the liblane package, or install it on the system's library path."
    )


lib = _load()
LIB_PATH: str = getattr(lib, "_name", "?")


def _proto(name: str, restype: Any, *argtypes: Any) -> Any:
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_H = c_void_p  # every opaque handle

lane_status_name = _proto("lane_status_name", c_char_p, c_int)
lane_last_error = _proto("lane_last_error", c_char_p)
lane_abi_version = _proto("lane_abi_version", c_uint32)
lane_version_string = _proto("lane_version_string", c_char_p)



def abi_compatible(version: int) -> bool:
    """Same major (a new major is a new SONAME), and at least the minor mirrored here
    (an older minor may lack functions this binding binds)."""
    return version >> 16 == ABI_MAJOR and (version & 0xFFFF) >= ABI_MINOR


_abi = int(lane_abi_version())
if not abi_compatible(_abi):
    raise ImportError(
        f"liblane: {LIB_PATH} has ABI {_abi >> 16}.{_abi & 0xFFFF}; this binding needs "
        f"{ABI_MAJOR}.{ABI_MINOR} or a later minor of major {ABI_MAJOR}"
    )
ABI_VERSION = _abi

lane_create = _proto("lane_create", c_int, c_char_p, POINTER(Options), POINTER(_H))
lane_destroy = _proto("lane_destroy", None, _H)
lane_submit = _proto("lane_submit", c_int, _H, POINTER(Job), POINTER(Ticket))
lane_submit_wait = _proto("lane_submit_wait", c_int, _H, POINTER(Job), c_int64, POINTER(Outcome))
lane_cancel = _proto("lane_cancel", c_int, _H, c_char_p, c_uint32)
lane_cancel_token = _proto("lane_cancel_token", c_int, _H, c_uint64, c_uint32)
lane_stats = _proto("lane_stats", c_int, _H, POINTER(Stats))
lane_set_max_concurrent = _proto("lane_set_max_concurrent", c_int, _H, c_uint32)
lane_set_preemption = _proto("lane_set_preemption", c_int, _H, c_int32, c_int64)
lane_set_eta_window = _proto("lane_set_eta_window", c_int, _H, c_uint32)
lane_set_tenant_weight = _proto("lane_set_tenant_weight", c_int, _H, c_char_p, c_uint32)
lane_set_rate_limit = _proto("lane_set_rate_limit", c_int, _H, c_uint32, c_int64, c_int64, c_int64)
lane_set_tenant_limit = _proto("lane_set_tenant_limit", c_int, _H, c_char_p, c_uint32)
lane_tenant_running = _proto("lane_tenant_running", c_int, _H, c_char_p, POINTER(c_uint32))
lane_ctx_set_cost = _proto("lane_ctx_set_cost", c_int, _H, c_int64)
lane_ctx_overloaded = _proto("lane_ctx_overloaded", c_int, _H)
lane_ctx_release = _proto("lane_ctx_release", c_int, _H)
lane_ctx_reacquire = _proto("lane_ctx_reacquire", c_int, _H, c_int64)
lane_ctx_fence = _proto("lane_ctx_fence", c_uint64, _H)
lane_cluster_create = _proto("lane_cluster_create", c_int, POINTER(ClusterOptions), POINTER(_H))
lane_cluster_destroy = _proto("lane_cluster_destroy", c_int, _H)
lane_pause = _proto("lane_pause", c_int, _H)
lane_resume = _proto("lane_resume", c_int, _H)
lane_cooldown = _proto("lane_cooldown", c_int, _H, c_int64)
lane_close = _proto("lane_close", c_int, _H, c_int)
lane_wait_idle = _proto("lane_wait_idle", c_int, _H, c_int64)
lane_name = _proto("lane_name", c_char_p, _H)

lane_ctx_cancelled = _proto("lane_ctx_cancelled", c_int, _H)
lane_ctx_cause = _proto("lane_ctx_cause", c_int, _H)
lane_ctx_wait = _proto("lane_ctx_wait", c_int, _H, c_int64)
lane_ctx_job_id = _proto("lane_ctx_job_id", c_char_p, _H)
lane_ctx_batch_count = _proto("lane_ctx_batch_count", c_uint32, _H)
lane_ctx_batch_item = _proto("lane_ctx_batch_item", c_int, _H, c_uint32, POINTER(c_char_p), POINTER(c_void_p))
lane_ctx_next_message = _proto("lane_ctx_next_message", c_int, _H, POINTER(c_char_p), POINTER(c_void_p))
lane_ctx_dropped_count = _proto("lane_ctx_dropped_count", c_uint32, _H)
lane_ctx_dropped_id = _proto("lane_ctx_dropped_id", c_char_p, _H, c_uint32)

lane_port_create = _proto("lane_port_create", c_int, POINTER(_H))
lane_port_destroy = _proto("lane_port_destroy", None, _H)
lane_port_fd = _proto("lane_port_fd", c_int, _H)
lane_port_poll = _proto("lane_port_poll", c_int32, _H, POINTER(Event), c_int32, c_int64)
lane_port_wake = _proto("lane_port_wake", c_int, _H)
lane_job_finish = _proto("lane_job_finish", c_int, _H, c_uint64, c_int32)

lane_registry_create = _proto("lane_registry_create", c_int, POINTER(RegistryOptions), POINTER(_H))
lane_registry_destroy = _proto("lane_registry_destroy", None, _H)
lane_registry_get_or_create = _proto("lane_registry_get_or_create", c_int, _H, c_char_p, POINTER(_H))
lane_registry_get = _proto("lane_registry_get", _H, _H, c_char_p)
lane_registry_names = _proto("lane_registry_names", c_size_t, _H, POINTER(c_char_p), c_size_t)
lane_registry_reload = _proto("lane_registry_reload", c_int, _H)
lane_registry_remove = _proto("lane_registry_remove", c_int, _H, c_char_p)
lane_registry_metrics = _proto("lane_registry_metrics", c_int, _H, c_char_p, c_size_t, POINTER(c_size_t))

lane_sampler_create = _proto("lane_sampler_create", c_int, _H, POINTER(SamplerOptions), POINTER(_H))
lane_sampler_destroy = _proto("lane_sampler_destroy", None, _H)
lane_sampler_start = _proto("lane_sampler_start", c_int, _H)
lane_sampler_stop = _proto("lane_sampler_stop", c_int, _H)
lane_sampler_sample_once = _proto("lane_sampler_sample_once", c_int, _H)
lane_sampler_purge_once = _proto("lane_sampler_purge_once", c_int, _H)
lane_sqlite_query = _proto(
    "lane_sqlite_query", c_int, c_char_p, c_char_p, c_int64, c_int64, POINTER(Sample), c_size_t, POINTER(c_size_t)
)

lane_session_create = _proto("lane_session_create", c_int, _H, c_char_p, POINTER(SessionOptions), POINTER(_H))
lane_session_destroy = _proto("lane_session_destroy", None, _H)
lane_session_enqueue = _proto("lane_session_enqueue", c_int, _H, POINTER(Job))
lane_session_cancel_one = _proto("lane_session_cancel_one", c_int, _H)
lane_session_cancel_all = _proto("lane_session_cancel_all", c_int, _H)
lane_session_reset = _proto("lane_session_reset", c_int, _H)
lane_session_active = _proto("lane_session_active", c_uint32, _H)
lane_session_queued = _proto("lane_session_queued", c_uint32, _H)
lane_session_set_max_concurrent = _proto("lane_session_set_max_concurrent", c_int, _H, c_uint32)


def last_error() -> str:
    msg = lane_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def status_name(status: int) -> str:
    name = lane_status_name(status)
    return name.decode() if name else "LANE_ERR_UNKNOWN"


def fnptr(cb: Any) -> int:
    """The address of a CFUNCTYPE object, for a c_void_p struct field."""
    addr = ctypes.cast(cb, c_void_p).value
    assert addr is not None
    return addr
