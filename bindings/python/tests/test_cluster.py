"""Shared lanes from Python: two members of one lane (two clusters in this
process stand for two processes) on a private redis-server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

import liblane


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: os.PathLike[str]) -> Iterator[str]:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (scripts/deps.sh installs it)")
        pytest.skip("redis-server is not installed (scripts/deps.sh installs it): shared lanes need one")
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()


class _Holders:
    """A job that counts how many run at once across lanes, and keeps each run's fence."""

    def __init__(self, cap: int) -> None:
        self.cap, self.holding, self.over = cap, 0, 0
        self.fences: list[int] = []
        self.mu = threading.Lock()

    def job(self) -> int:
        with self.mu:
            self.holding += 1
            self.over += self.holding > self.cap
            self.fences.append(liblane.current_job().fence)
        time.sleep(0.002)
        with self.mu:
            self.holding -= 1
        return 0


def test_two_members_share_one_cap(redis_url: str) -> None:
    cap = 2
    h = _Holders(cap)
    job = h.job
    clusters = [liblane.Cluster(redis_url, lease=1.0) for _ in range(2)]
    lanes = [liblane.Lane("py-shared", cap, policy="fair_share", cluster=c) for c in clusters]
    with pytest.raises(liblane.InvalidError):
        clusters[0].close()  # a lane still uses it
    tickets = [lanes[i % 2].submit(job, id=f"j{i}", tenant=f"t{i % 3}") for i in range(30)]
    for t in tickets:
        t.outcome.result(timeout=30)
    assert h.over == 0, f"more than {cap} jobs held a slot across both members {h.over} times"
    assert len(h.fences) == 30 and len(set(h.fences)) == 30 and min(h.fences) > 0
    s = lanes[0].stats()
    assert s.shared and s.available and s.completed > 0
    for lane in lanes:
        lane.close()
    for c in clusters:
        c.close()
        c.close()  # twice is a no-op


def test_cluster_bad_inputs() -> None:
    with pytest.raises(liblane.UnavailableError):
        liblane.Cluster(f"redis://127.0.0.1:{_free_port()}/0")
    with pytest.raises(liblane.InvalidError):
        liblane.Cluster("http://nowhere")
    with pytest.raises(liblane.InvalidError):
        liblane.Cluster(lease=0.001)
    with liblane.Lane("py-local") as lane:
        fut = lane.submit(lambda: liblane.current_job().fence, id="f")
        assert fut.outcome.result(timeout=10) is not None
        assert lane.stats().shared is False


def test_registry_lanes_are_members(redis_url: str) -> None:
    cap = 2
    h = _Holders(cap)
    job = h.job

    # Two registries on two clusters: two processes, as far as Redis can tell.
    clusters = [liblane.Cluster(redis_url, lease=1.0) for _ in range(2)]
    regs = [liblane.Registry({"lanes.llm.max_concurrent": cap}, cluster=c) for c in clusters]
    tickets = [regs[i % 2].lane("llm").submit(job, id=f"j{i}") for i in range(30)]
    for t in tickets:
        t.outcome.result(timeout=30)
    assert h.over == 0, f"more than {cap} jobs held a slot across both registries {h.over} times"
    assert len(h.fences) == 30 and len(set(h.fences)) == 30 and min(h.fences) > 0
    assert regs[0].lane("llm").stats().shared
    assert 'lane_shared_available{lane="llm"} 1' in regs[0].metrics()
    with pytest.raises(liblane.InvalidError):
        clusters[0].close()  # the registry's lanes still use it
    for r, c in zip(regs, clusters):
        r.close()
        c.close()
    with pytest.raises(liblane.InvalidError):
        liblane.Registry(cluster=clusters[0])  # closed
    with pytest.raises(liblane.InvalidError):
        liblane.Registry(cluster="redis://127.0.0.1:1/0")  # type: ignore[arg-type]
