"""lanectl against a real host: a registry's metrics served over HTTP on
127.0.0.1, and a SQLite history written by the real sampler."""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

import liblane
from liblane.lanectl import promtext

from conftest import Gate, wait_for


class Host:
    """A process with lanes in a known state and a metrics endpoint."""

    def __init__(self) -> None:
        self.reg = liblane.Registry({"lanes.llm.max_concurrent": 2, "lanes.tools.max_concurrent": 4})
        self.gate = Gate()
        self.llm = self.reg.lane("llm")
        self.tools = self.reg.lane("tools")
        self.tickets = [self.llm.submit(self.gate, id=f"call-{i}", tenant=f"user{i % 2}") for i in range(5)]
        for i in range(3):
            self.tools.submit(lambda: None, id=f"t{i}").result(5)
        self.tools.pause()
        wait_for(lambda: self.llm.stats().running == 2)
        reg = self.reg

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                if self.path != "/metrics":
                    self.send_error(404)
                    return
                body = reg.metrics().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metrics"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.gate.release.set()
        self.reg.close()


@pytest.fixture
def host() -> Iterator[Host]:
    h = Host()
    yield h
    h.close()


def lanectl(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "liblane", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, COLUMNS="120"))


def table_row(out: str, lane: str) -> list[str]:
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] == lane:
            return cells
    raise AssertionError(f"no row for {lane} in:\n{out}")


def test_top_once_shows_every_lane_as_the_host_sees_it(host: Host) -> None:
    r = lanectl("top", host.url, "--once")
    assert r.returncode == 0, r.stderr
    head = r.stdout.splitlines()[2].split()
    assert head[:3] == ["LANE", "RUNNING", "QUEUED"]
    llm = table_row(r.stdout, "llm")
    assert llm[1] == "2/2" and llm[2] == "3" and llm[-1] == "full"
    assert llm[3].endswith(("ms", "s"))  # the oldest queued job's wait
    tools = table_row(r.stdout, "tools")
    assert tools[1] == "0/4" and tools[2] == "0" and tools[4] == "3" and tools[-1] == "paused"
    assert "2 lanes, 2 running, 3 queued" in r.stdout


def test_top_refreshes_and_reports_the_rate_between_refreshes(host: Host) -> None:
    r = lanectl("top", host.url, "--iterations", "2", "--interval", "0.2")
    assert r.returncode == 0, r.stderr
    frames = r.stdout.count("lanectl top")
    assert frames == 2
    # The second frame has a DONE/S figure; the first cannot.
    first, second = r.stdout.split("lanectl top")[1:]
    assert table_row(first, "llm")[5] == "-"
    assert table_row(second, "llm")[5] == "0.0"


def test_top_quits_cleanly_on_ctrl_c(host: Host) -> None:
    p = subprocess.Popen([sys.executable, "-m", "liblane", "top", host.url, "--interval", "0.1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert "Traceback" not in err
    assert "llm" in out


def test_top_says_when_it_cannot_reach_the_host() -> None:
    r = lanectl("top", "http://127.0.0.1:9/metrics", "--once")
    assert r.returncode == 1
    assert "cannot read metrics" in r.stdout


def test_the_builtin_reader_agrees_with_prometheus_client(host: Host) -> None:
    text = host.reg.metrics()
    ours = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in promtext.parse(text)}
    theirs = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for fam in text_string_to_metric_families(text) for s in fam.samples}
    assert ours == theirs and len(ours) > 20
    tricky = 'x{lane="a\\"b\\\\c\\nd"} 1.5\n'
    assert promtext.parse(tricky)[0].labels["lane"] == 'a"b\\c\nd'
    with pytest.raises(promtext.ParseError):
        promtext.parse('x{lane="open} 1\n')


def test_metrics_checks_a_url_and_a_file(host: Host, tmp_path: Path) -> None:
    r = lanectl("metrics", host.url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "valid Prometheus text" in r.stdout and "2 lanes" in r.stdout
    assert "llm: running 2/2, queued 3, submitted 5" in r.stdout
    f = tmp_path / "m.txt"
    f.write_text(host.reg.metrics())
    r = lanectl("metrics", str(f))
    assert r.returncode == 0 and "tools: running 0/4" in r.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("lane_running{lane=\"x\" 1\n")
    r = lanectl("metrics", str(bad))
    assert r.returncode == 1 and "not valid Prometheus text" in r.stderr
    partial = tmp_path / "partial.txt"
    partial.write_text("# TYPE lane_running gauge\nlane_running{lane=\"x\"} 1\n")
    r = lanectl("metrics", str(partial))
    assert r.returncode == 1 and "missing family lane_queued" in r.stdout


@pytest.fixture(scope="module")
def history_db(tmp_path_factory: Any) -> Path:
    """Two hours of samples, one a minute, written by the real sampler with a fake clock:
    llm is full (2/2, 3 queued) for the first 30 minutes of hour two, then half busy."""
    db = Path(tmp_path_factory.mktemp("hist")) / "lanes.db"
    t0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC
    clock = [t0]
    with liblane.Registry({"lanes.llm.max_concurrent": 2, "lanes.tools.max_concurrent": 1}) as reg:
        llm, tools = reg.lane("llm"), reg.lane("tools")
        sampler = reg.sampler(db, clock=lambda: clock[0])
        quiet = Gate()
        one = llm.submit(quiet, id="one")
        wait_for(lambda: llm.stats().running == 1)
        for _ in range(60):  # hour one: 1 running, nothing queued
            sampler.sample_once()
            clock[0] += 60
        busy = Gate()
        extra = [llm.submit(busy, id=f"b{i}") for i in range(4)]
        wait_for(lambda: llm.stats().running == 2 and llm.stats().queued == 3)
        for _ in range(30):  # hour two, first half: full
            sampler.sample_once()
            clock[0] += 60
        quiet.release.set()
        busy.release.set()
        for t in [one, *extra]:
            t.result(5)
        hold = Gate()
        h = llm.submit(hold, id="half")
        wait_for(lambda: llm.stats().running == 1 and llm.stats().queued == 0)
        for _ in range(30):
            sampler.sample_once()
            clock[0] += 60
        hold.release.set()
        h.result(5)
        tools.pause()
        sampler.close()
    return db


def test_history_text_summary(history_db: Path) -> None:
    r = lanectl("history", str(history_db), "--lane", "llm", "--max-concurrent", "llm=2")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "llm: 120 samples, 2026-01-01 00:00 to 2026-01-01 01:59 UTC" in out
    assert "time spent full: 30m of 2.0h (25%)" in out
    assert "queued: peak 3, p95 3.0" in out
    assert "busiest hour: 2026-01-01 01:00 UTC" in out
    r = lanectl("history", str(history_db))
    assert "tools: 120 samples" in r.stdout and "peak seen; max_concurrent unknown" in r.stdout


def test_history_since_narrows_the_range(history_db: Path) -> None:
    r = lanectl("history", str(history_db), "--lane", "llm", "--since", "2026-01-01T01:30:00",
                "--max-concurrent", "llm=2")
    assert r.returncode == 0, r.stderr
    assert "llm: 30 samples" in r.stdout and "time spent full: 0s" in r.stdout
    r = lanectl("history", str(history_db), "--since", "yesterday-ish")
    assert r.returncode == 2 and "cannot read time" in r.stderr


def test_history_png_is_a_real_chart(history_db: Path, tmp_path: Path) -> None:
    import matplotlib.image as mpimg
    import numpy as np

    png = tmp_path / "chart.png"
    r = lanectl("history", str(history_db), "--max-concurrent", "llm=2", "--out", str(png))
    assert r.returncode == 0, r.stderr
    assert png.stat().st_size > 20_000
    img = mpimg.imread(str(png))
    h, w = img.shape[:2]
    assert w == 1100 and h > 500  # two panels
    rgb = img[..., :3]
    assert rgb.std() > 0.05, "the chart is blank"
    # The running area (tab:blue filled at alpha 0.35 on white) covers a real part of the picture,
    # and the orange queued line and red max_concurrent line are drawn.
    fill = np.abs(rgb - np.array([0.70, 0.82, 0.91])).max(axis=-1) < 0.06
    orange = np.abs(rgb - np.array([1.0, 0.498, 0.055])).max(axis=-1) < 0.1
    red = np.abs(rgb - np.array([0.839, 0.153, 0.157])).max(axis=-1) < 0.1
    assert fill.mean() > 0.03, fill.mean()
    assert orange.sum() > 200 and red.sum() > 200


def test_history_svg(history_db: Path, tmp_path: Path) -> None:
    svg = tmp_path / "chart.svg"
    r = lanectl("history", str(history_db), "--lane", "llm", "--out", str(svg))
    assert r.returncode == 0, r.stderr
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "llm" in text


def test_history_without_matplotlib_prints_the_summary_and_says_so(history_db: Path, tmp_path: Path) -> None:
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from liblane.lanectl import main\n"
            f"sys.exit(main(['history', {str(history_db)!r}, '--out', {str(tmp_path / 'x.png')!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3
    assert "matplotlib is not installed" in r.stderr and "llm: 120 samples" in r.stdout
    assert not (tmp_path / "x.png").exists()


def test_history_of_a_missing_file() -> None:
    r = lanectl("history", "/nonexistent/lanes.db")
    assert r.returncode == 1 and "no such file" in r.stderr


LANECTL = shutil.which("lanectl", path=str(Path(sys.executable).parent)) or shutil.which("lanectl")


@pytest.mark.skipif(LANECTL is None,
                    reason="the lanectl console script exists only once the package is pip-installed (test.sh does)")
def test_the_console_script_is_installed(host: Host) -> None:
    assert LANECTL is not None
    r = subprocess.run([LANECTL, "top", host.url, "--once"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and table_row(r.stdout, "llm")[1] == "2/2"
