"""Fixtures and helpers for the engine tests: executors, dataflows written to files."""

from __future__ import annotations

import pathlib
import sys
import textwrap
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # makes ``tests.resources`` importable under plain ``pytest``
    sys.path.insert(0, str(ROOT))

from cayley import driver  # noqa: E402
from cayley.execution import executors  # noqa: E402

FAN_OUT = """
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def squared(items: int) -> int:
    return items * items

def total(squared: Collect[int]) -> int:
    return sum(squared)
"""


def write_module(directory: pathlib.Path, name: str, source: str) -> pathlib.Path:
    """Writes ``source`` to ``directory/name.py`` and returns the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def dynamic(module: Any, remote: executors.TaskExecutor, *adapters: Any) -> driver.Driver:
    """A dynamic driver running ``module``'s blocks on ``remote``."""
    builder = (
        driver.Builder()
        .with_modules(module)
        .enable_dynamic_execution()
        .with_remote_executor(remote)
    )
    if adapters:
        builder = builder.with_adapters(*adapters)
    return builder.build()


def make_executor(kind: str) -> executors.TaskExecutor:
    """A fresh executor: sync, threads, or processes of a start method."""
    if kind == "sync":
        return executors.SynchronousLocalTaskExecutor()
    if kind == "threads":
        return executors.MultiThreadingExecutor(2)
    return executors.MultiProcessingExecutor(2, start_method=kind)


@pytest.fixture
def no_new_workers():
    """Fails the test if worker processes it started outlive it."""
    from tests.resources.dyn_harness import assert_no_worker_processes, live_worker_pids

    before = live_worker_pids()
    yield
    assert_no_worker_processes(before)
