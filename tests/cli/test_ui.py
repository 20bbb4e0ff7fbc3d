"""``cayley ui`` serves the runs a RunTracker recorded, until interrupted."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from cayley import driver
from cayley.tracking import RunTracker
from tests.cli.conftest import cayley_env

FLOW = """
def a(x: int) -> int:
    return x + 1

def b(a: int) -> int:
    return a * 2
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ui_serves_recorded_runs(tmp_path: Path, load: Callable[[str], types.ModuleType]) -> None:
    store = tmp_path / "runs.db"
    module = load(FLOW)
    tracker = RunTracker(path=store, project="cli")
    dr = driver.Builder().with_modules(module).with_adapters(tracker).build()
    assert dr.execute(["b"], inputs={"x": 1}) == {"b": 4}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cayley", "ui", "--store", str(store), "--port", str(port)],
        cwd=tmp_path, env=cayley_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs", timeout=2) as r:
                    runs = json.loads(r.read())
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the viewer did not answer within 30 s"
                time.sleep(0.1)
        (run,) = runs
        assert (run["project"], run["status"], run["outputs"]) == ("cli", "success", ["b"])
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=15)
    assert server.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out
