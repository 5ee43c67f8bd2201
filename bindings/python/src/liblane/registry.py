"""Registry (named lanes, config, metrics), Sampler and the SQLite history."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from ctypes import byref, c_char_p, c_size_t, c_void_p, create_string_buffer, sizeof
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from . import _capi
from ._types import Policy, Sample
from .errors import ClosedError, InvalidError, check, error_for
from .lane import Cluster, Lane, Seconds, _policy, _u32, encode, seconds_to_ns

log = logging.getLogger("liblane")

ConfigSource = Mapping[str, int] | Callable[[str, int], int] | None

_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO}


class Registry:
    """Named lanes created on first use, sized from a config source.

    config: None reads the environment (key lanes.<name>.max_concurrent is
    LANE_<NAME>_MAX_CONCURRENT); a dict maps the library's keys
    ("lanes.llm.max_concurrent") to values; a callable ``(key, default) ->
    int`` is asked on the thread that calls ``lane`` or ``reload``. The
    registry's log goes to the ``liblane`` logger unless ``log`` is given.
    With a cluster every lane of the registry is a member of the lane of its
    name on that cluster's Redis (close the registry before the cluster).
    """

    def __init__(
        self,
        config: ConfigSource = None,
        *,
        default_policy: Policy | str = Policy.FAIR_SHARE,
        default_max_concurrent: int = 1,
        log: Callable[[int, str], None] | None = None,
        cluster: Cluster | None = None,
    ) -> None:
        o = _capi.RegistryOptions()
        o.struct_size = sizeof(_capi.RegistryOptions)
        if cluster is not None:
            if not isinstance(cluster, Cluster):
                raise InvalidError(f"cluster must be a Cluster, got {type(cluster).__name__}")
            if cluster._h is None:
                raise InvalidError("the cluster is closed")
            o.cluster = cluster._h
        self._config: ConfigSource = None
        self._config_cb: Any = None
        if config is not None:
            self._set_source(config)
            self._config_cb = _capi.CONFIG_INT_FN(self._config_int)
            o.config_int = _capi.fnptr(self._config_cb)
        user_log = log

        def _log(level: int, msg: bytes | None, _ud: Any) -> None:
            text = msg.decode("utf-8", "replace") if msg else ""
            try:
                if user_log is not None:
                    user_log(level, text)
                else:
                    logging.getLogger("liblane").log(_LEVELS.get(level, logging.INFO), "%s", text)
            except BaseException:  # noqa: BLE001 - never unwind into C
                pass

        self._log_cb = _capi.LOG_FN(_log)
        o.log = _capi.fnptr(self._log_cb)
        o.default_policy = _policy(default_policy)
        o.default_max_concurrent = _u32(default_max_concurrent, "default_max_concurrent")
        h = c_void_p()
        check(_capi.lane_registry_create(byref(o), byref(h)), "new registry")
        self._h: int | None = h.value
        self._mu = threading.Lock()
        self._cv = threading.Condition(self._mu)
        self._inflight = 0
        self._lanes: dict[str, Lane] = {}
        self._samplers: set[Sampler] = set()
        _open_registries.add(self)

    def _set_source(self, config: ConfigSource) -> None:
        if isinstance(config, Mapping):
            table = {}
            for k, v in config.items():
                if not isinstance(k, str) or not isinstance(v, int):
                    raise InvalidError(f"config entries are str -> int, got {k!r}: {v!r}")
                table[k] = v
            self._config = table
        elif callable(config):
            self._config = config
        else:
            raise InvalidError("config must be a mapping, a callable or None")

    def _config_int(self, key: bytes | None, default: int, _ud: Any) -> int:
        try:
            k = key.decode() if key else ""
            src = self._config
            if isinstance(src, dict):
                return int(src.get(k, default))
            if callable(src):
                return int(src(k, default))
        except BaseException as e:  # noqa: BLE001
            log.warning("liblane config source failed for %r: %s", key, e)
        return default

    def set_config(self, config: Mapping[str, int] | Callable[[str, int], int]) -> None:
        """Replaces the config source (not the environment). Lanes created from now on read
        it; call ``reload`` to resize existing ones."""
        if self._config_cb is None:
            raise InvalidError("this registry reads the environment (created without config)")
        self._set_source(config)

    def _enter(self, op: str) -> int:
        with self._mu:
            if self._h is None:
                raise ClosedError("registry is closed", op=op)
            self._inflight += 1
            return self._h

    def _leave(self) -> None:
        with self._mu:
            self._inflight -= 1
            if self._inflight == 0:
                self._cv.notify_all()

    def lane(self, name: str) -> Lane:
        """The lane called name (created on first use); the same Lane object each time."""
        with self._mu:
            cached = self._lanes.get(name)
            if cached is not None and not cached.closed:
                return cached
        h = self._enter("registry lane")
        try:
            out = c_void_p()
            s = _capi.lane_registry_get_or_create(h, encode(name, "lane name"), byref(out))
            if s != 0:
                raise error_for(s, _capi.last_error(), op="registry lane")
            assert out.value is not None
            with self._mu:
                cached = self._lanes.get(name)
                if cached is not None and not cached.closed:
                    return cached
                ln = Lane._borrowed(name, out.value, self)
                self._lanes[name] = ln
                return ln
        finally:
            self._leave()

    def _forget(self, ln: Lane) -> None:
        with self._mu:
            if self._lanes.get(ln.name) is ln:
                del self._lanes[ln.name]

    def names(self) -> list[str]:
        h = self._enter("names")
        try:
            n = _capi.lane_registry_names(h, None, 0)
            while True:
                arr = (c_char_p * max(n, 1))()
                m = _capi.lane_registry_names(h, arr, n)
                if m <= n:
                    return [arr[i].decode() for i in range(m) if arr[i]]
                n = m
        finally:
            self._leave()

    def reload(self) -> None:
        """Re-reads every lane's max_concurrent and resizes in place; nothing is lost."""
        h = self._enter("reload")
        try:
            check(_capi.lane_registry_reload(h), "reload")
        finally:
            self._leave()

    def remove(self, name: str) -> None:
        """Removes an idle lane (BusyError while it has work or sessions; InvalidError if absent).

        The lane's Lane object is closed by it; the next ``lane(name)`` makes a new lane.
        """
        h = self._enter("remove")
        try:
            with self._mu:
                ln = self._lanes.get(name)
            saved: int | None = None
            if ln is not None:
                with ln._mu:
                    if ln._h is not None and ln._jobs == 0 and not ln._sessions:
                        # No call may be inside the C lane while it is destroyed.
                        while ln._inflight:
                            ln._waiters += 1
                            try:
                                ln._cv.wait()
                            finally:
                                ln._waiters -= 1
                        saved, ln._h, ln._closing = ln._h, None, True
            s = _capi.lane_registry_remove(h, encode(name, "lane name"))
            msg = _capi.last_error() if s != 0 else ""
            if ln is not None and saved is not None:
                if s != 0:
                    with ln._mu:
                        ln._h, ln._closing = saved, False
                else:
                    ln._closed.set()
                    self._forget(ln)
            if s != 0:
                raise error_for(s, msg, op="remove")
        finally:
            self._leave()

    def metrics(self) -> str:
        """Every lane's metrics, Prometheus text exposition format 0.0.4."""
        h = self._enter("metrics")
        try:
            need = c_size_t(0)
            cap = 16384
            while True:
                buf = create_string_buffer(cap)
                s = _capi.lane_registry_metrics(h, buf, cap, byref(need))
                if s == 0:
                    return buf.raw[: need.value].decode("utf-8")
                if need.value <= cap:
                    raise error_for(s, _capi.last_error(), op="metrics")
                cap = need.value + 4096
        finally:
            self._leave()

    def sampler(
        self,
        sqlite_path: str | Path,
        *,
        interval: Seconds | None = None,
        retention: Seconds | None = None,
        purge_interval: Seconds | None = None,
        clock: Callable[[], float] | None = None,
    ) -> "Sampler":
        """A sampler of this registry's lanes writing the SQLite history at sqlite_path (not started).

        clock() -> Unix seconds stamps the samples and purge cutoffs instead of
        the real time (replays, tests); it is called on the sampler's thread.
        """
        return Sampler(self, sqlite_path, interval=interval, retention=retention, purge_interval=purge_interval,
                       clock=clock)

    def close(self) -> None:
        """Closes samplers, then this registry's Lanes (their jobs cancelled), then the registry."""
        with self._mu:
            if self._h is None:
                return
            samplers = list(self._samplers)
            lanes = list(self._lanes.values())
        for sm in samplers:
            sm.close()
        for ln in lanes:
            ln.close(cancel=True)
        with self._mu:
            while self._inflight:
                self._cv.wait()
            h, self._h = self._h, None
        if h is not None:
            _capi.lane_registry_destroy(h)
        self._config_cb = None
        _open_registries.discard(self)

    def __enter__(self) -> "Registry":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Strong references: liblane keeps pointers to a registry's config and log
# callbacks, so an open registry must not be collected. Closed at exit.
_open_registries: set[Registry] = set()


@atexit.register
def _close_open_registries() -> None:
    for reg in list(_open_registries):
        try:
            reg.close()
        except BaseException:  # noqa: BLE001 - exiting anyway
            pass


class Sampler:
    """Writes every lane's running/queued counts to the SQLite history, on a library
    thread (start) or now (sample_once)."""

    def __init__(self, registry: Registry, sqlite_path: str | Path, *, interval: Seconds | None = None,
                 retention: Seconds | None = None, purge_interval: Seconds | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        o = _capi.SamplerOptions()
        o.struct_size = sizeof(_capi.SamplerOptions)
        o.interval_ns = seconds_to_ns(interval, "interval")
        o.retention_ns = seconds_to_ns(retention, "retention")
        o.purge_interval_ns = seconds_to_ns(purge_interval, "purge_interval")
        path = encode(str(sqlite_path), "sqlite_path")
        if not path:
            raise InvalidError("sqlite_path is empty")
        o.sqlite_path = path
        self._clock_cb: Any = None
        if clock is not None:
            user_clock = clock

            def _clock(_ud: Any) -> int:
                try:
                    return int(user_clock() * 1e9)
                except BaseException:  # noqa: BLE001 - never unwind into C
                    return time.time_ns()

            self._clock_cb = _capi.CLOCK_FN(_clock)
            o.clock = _capi.fnptr(self._clock_cb)
        self._reg = registry
        self._mu = threading.RLock()
        h = c_void_p()
        rh = registry._enter("new sampler")
        try:
            check(_capi.lane_sampler_create(rh, byref(o), byref(h)), "new sampler")
        finally:
            registry._leave()
        self._h: int | None = h.value
        with registry._mu:
            registry._samplers.add(self)

    def _do(self, op: str, fn: Callable[[int], int]) -> None:
        with self._mu:
            if self._h is None:
                raise ClosedError("sampler is closed", op=op)
            check(fn(self._h), op)

    def start(self) -> None:
        self._do("sampler start", _capi.lane_sampler_start)

    def stop(self) -> None:
        self._do("sampler stop", _capi.lane_sampler_stop)

    def sample_once(self) -> None:
        """One sample of every lane now (LaneIOError if the history could not be written)."""
        self._do("sample once", _capi.lane_sampler_sample_once)

    def purge_once(self) -> None:
        self._do("purge once", _capi.lane_sampler_purge_once)

    def close(self) -> None:
        with self._mu:
            h, self._h = self._h, None
        if h is not None:
            _capi.lane_sampler_destroy(h)
            self._clock_cb = None
            with self._reg._mu:
                self._reg._samplers.discard(self)

    def __enter__(self) -> "Sampler":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


TimeBound = datetime | float | int | timedelta | None


def _bound_ns(v: TimeBound, default: int, now: datetime) -> int:
    if v is None:
        return default
    if isinstance(v, timedelta):
        v = now - v
    if isinstance(v, datetime):
        if v.tzinfo is None:
            v = v.astimezone()
        return int(v.timestamp() * 1e9)
    return int(float(v) * 1e9)


def history(db: str | Path, lane: str, since: TimeBound = None, until: TimeBound = None) -> list[Sample]:
    """The lane's rows of the SQLite history at db with since <= sampled_at < until, oldest first.

    since/until: a datetime, Unix seconds, a timedelta (that long before
    now), or None (open). The file is opened read-only for the call.
    """
    now = datetime.now(timezone.utc)
    lo = _bound_ns(since, -(2**63), now)
    hi = _bound_ns(until, 2**63 - 1, now)
    path = encode(str(db), "db path")
    name = encode(lane, "lane name")
    total = c_size_t(0)
    cap = 1024
    while True:
        rows = (_capi.Sample * cap)()
        rows[0].struct_size = sizeof(_capi.Sample)
        check(_capi.lane_sqlite_query(path, name, lo, hi, rows, cap, byref(total)), "history")
        if total.value <= cap:
            return [Sample(lane, r.running, r.queued, r.sampled_at_ns) for r in rows[: total.value]]
        cap = total.value + 256
