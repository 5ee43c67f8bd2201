"""Shared fixtures. The library comes from LIBLANE_PATH (test.sh sets it);
without it the tests use the repository's build/liblane.so."""

from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

if "LIBLANE_PATH" not in os.environ:
    guess = Path(__file__).resolve().parents[3] / "build" / "liblane.so"
    if guess.exists():
        os.environ["LIBLANE_PATH"] = str(guess)

import liblane  # noqa: E402


@pytest.fixture(autouse=True)
def no_callback_left_behind() -> Iterator[None]:
    """Every test ends with no job or message state kept alive by the binding."""
    yield
    deadline = time.monotonic() + 5
    while liblane.live_callbacks() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert liblane.live_callbacks() == 0, "the binding still keeps job callbacks alive"


@pytest.fixture
def make_lane() -> Iterator[Callable[..., liblane.Lane]]:
    lanes: list[liblane.Lane] = []

    def make(name: str = "test", max_concurrent: int = 1, **kw: object) -> liblane.Lane:
        ln = liblane.Lane(name, max_concurrent, **kw)  # type: ignore[arg-type]
        lanes.append(ln)
        return ln

    yield make
    for ln in lanes:
        ln.close(cancel=True)
    gc.collect()


class Gate:
    """A job body that holds its slot until released; records that it ran."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> str:
        self.started.set()
        assert self.release.wait(10), "gate never released"
        return "gate"


def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.002)
