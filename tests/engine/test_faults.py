"""Faults on local executors: killed workers, worker tracebacks, Ctrl-C.

A worker process killed mid-task (SIGKILL, as the out-of-memory killer sends, or
``os._exit``) fails the run within seconds with an error naming the node and the item; no
worker is left behind and the same driver runs the next request.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from cayley import ad_hoc_utils
from cayley.execution.codec import WorkerTraceback
from cayley.execution.executors import WorkerDiedError
from tests.engine.conftest import dynamic, make_executor

KILLER = """
import os, resource, signal, time
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def survived(items: int, how: str) -> int:
    time.sleep(0.05)  # slow enough to run one item per task
    if items == 2:
        if how == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        if how == "exit":
            os._exit(3)
        if how == "memory":
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            with open("/proc/self/statm") as statm:
                used = int(statm.read().split()[0]) * resource.getpagesize()
            resource.setrlimit(resource.RLIMIT_AS, (used + 256 * 2**20, hard))
            try:
                blob = bytearray(2**31)
            finally:
                resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        if how == "raise":
            raise LookupError("item two is missing")
    return items

def total(survived: Collect[int]) -> int:
    return sum(survived)
"""


def _message(exc: BaseException) -> str:
    return "\n".join([str(exc), *getattr(exc, "__notes__", [])])


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("how", "ending"), [("sigkill", "SIGKILL"), ("exit", "exited with code 3")]
)
def test_a_killed_worker_fails_the_run_naming_node_and_item(how, ending, no_new_workers):
    dr = dynamic(ad_hoc_utils.module_from_source(KILLER), make_executor("fork"))
    started = time.perf_counter()
    with pytest.raises(WorkerDiedError) as info:
        dr.execute(["total"], inputs={"n": 6, "how": how})
    assert time.perf_counter() - started < 5
    message = _message(info.value)
    assert "'survived'" in message and "item 2 of 'items'" in message, message
    assert ending in message
    assert info.value.exitcode == (-signal.SIGKILL if how == "sigkill" else 3)
    # the same driver runs the next request on fresh workers
    assert dr.execute(["total"], inputs={"n": 6, "how": "none"}) == {"total": 15}


@pytest.mark.timeout(60)
def test_running_out_of_memory_in_a_worker_is_the_nodes_error(no_new_workers):
    dr = dynamic(ad_hoc_utils.module_from_source(KILLER), make_executor("fork"))
    with pytest.raises(MemoryError) as info:
        dr.execute(["total"], inputs={"n": 4, "how": "memory"})
    assert "item 2 of 'items'" in _message(info.value)
    assert dr.execute(["total"], inputs={"n": 4, "how": "none"}) == {"total": 6}


@pytest.mark.timeout(60)
def test_the_worker_traceback_is_the_cause_of_a_process_error():
    dr = dynamic(ad_hoc_utils.module_from_source(KILLER), make_executor("fork"))
    with pytest.raises(LookupError, match="item two is missing") as info:
        dr.execute(["total"], inputs={"n": 4, "how": "raise"})
    cause = info.value.__cause__
    assert isinstance(cause, WorkerTraceback)
    assert "Traceback (most recent call last)" in str(cause)
    assert ", in survived\n" in str(cause) and "LookupError: item two is missing" in str(cause)


INTERRUPTED = r'''
import os, sys, time
from cayley import ad_hoc_utils, driver
from cayley.execution import executors

SOURCE = """
import os, time
from cayley.htypes import Collect, Parallelizable

def item(n: int) -> Parallelizable[int]:
    return range(n)

def slow(item: int, mark_dir: str) -> int:
    open(os.path.join(mark_dir, str(item)), "w").close()
    time.sleep(float(os.environ["NODE_SECONDS"]))
    return item

def total(slow: Collect[int]) -> int:
    return sum(slow)
"""

kind = sys.argv[2]
remote = (
    executors.SynchronousLocalTaskExecutor()
    if kind == "sync"
    else executors.MultiThreadingExecutor(max_tasks=2)
)
module = ad_hoc_utils.module_from_source(SOURCE)
dr = driver.Builder().with_modules(module).enable_dynamic_execution().with_remote_executor(remote).build()
try:
    dr.execute(["total"], inputs={"n": 4, "mark_dir": sys.argv[1]})
except KeyboardInterrupt:
    print("interrupted", time.monotonic(), flush=True)
    # A node already running in a thread finishes in the background (Python cannot stop a
    # thread); leave without waiting for it.
    os._exit(130)
'''


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["sync", "threads"])
def test_ctrl_c_stops_the_run_at_once(kind, tmp_path: pathlib.Path):
    """A node that keeps running in a thread cannot be stopped, but the run is."""
    root = pathlib.Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "NODE_SECONDS": "20"}
    process = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, str(tmp_path), kind],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not list(tmp_path.iterdir()):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.02)
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    (line,) = [line for line in stdout.splitlines() if line.startswith("interrupted")]
    assert float(line.split()[1]) - interrupted < 5
