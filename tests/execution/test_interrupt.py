"""Ctrl-C during a run on processes: the run stops at once and no worker is left behind."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

psutil = pytest.importorskip("psutil")

SCRIPT = r'''
import sys
from cayley import ad_hoc_utils, driver
from cayley.execution import executors

SOURCE = """
import os, time
from cayley.htypes import Collect, Parallelizable

def item(n: int) -> Parallelizable[int]:
    return range(n)

def slow(item: int, pid_dir: str) -> int:
    open(os.path.join(pid_dir, str(os.getpid())), "w").close()
    time.sleep(60)
    return item

def total(slow: Collect[int]) -> int:
    return sum(slow)
"""

module = ad_hoc_utils.module_from_source(SOURCE)
dr = (
    driver.Builder()
    .with_modules(module)
    .enable_dynamic_execution()
    .with_remote_executor(executors.MultiProcessingExecutor(max_tasks=2))
    .build()
)
dr.execute(["total"], inputs={"n": 8, "pid_dir": sys.argv[1]})
'''


@pytest.mark.timeout(60)
def test_interrupt_stops_the_run_and_its_workers(tmp_path: pathlib.Path) -> None:
    root = pathlib.Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while len(list(tmp_path.iterdir())) < 2:
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.05)
    worker_pids = [int(p.name) for p in tmp_path.iterdir()]
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=20)
    assert time.monotonic() - interrupted < 10
    assert process.returncode != 0
    assert "KeyboardInterrupt" in stderr
    deadline = time.monotonic() + 10
    alive = worker_pids
    while alive and time.monotonic() < deadline:
        alive = [
            pid
            for pid in worker_pids
            if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        ]
        time.sleep(0.1)
    assert alive == [], f"workers still running after the interrupt: {alive}"
