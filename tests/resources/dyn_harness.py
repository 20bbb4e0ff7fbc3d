"""Helpers for the dynamic execution tests: drivers per executor kind, worker-process checks.

Kinds:
    plain    ``Builder().build()`` without dynamic execution (runs sequentially);
    sync     dynamic execution, every task on :class:`SynchronousLocalTaskExecutor`;
    threads  dynamic execution, blocks on ``MultiThreadingExecutor(2)``;
    fork     dynamic execution, blocks on ``MultiProcessingExecutor(2, start_method="fork")``;
    spawn    as ``fork`` with ``start_method="spawn"`` (slow to start: used sparingly).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import psutil

from cayley import driver
from cayley.execution import executors

PROCESS_KINDS = ("fork", "spawn")
#: The kinds every semantic test runs on.
LOCAL_KINDS = ("plain", "sync", "threads", "fork")


def make_remote(kind: str) -> executors.TaskExecutor:
    """A fresh executor for the per-item tasks of ``kind``."""
    if kind == "sync":
        return executors.SynchronousLocalTaskExecutor()
    if kind == "threads":
        return executors.MultiThreadingExecutor(2)
    if kind in PROCESS_KINDS:
        return executors.MultiProcessingExecutor(2, start_method=kind)
    raise ValueError(f"unknown executor kind {kind!r}")


class AllOn(executors.ExecutionManager):
    """Sends every task (expanders and fan-ins included) to one executor."""

    def __init__(self, executor: executors.TaskExecutor) -> None:
        super().__init__([executor])
        self.executor = executor

    def get_executor_for_task(self, task: Any) -> executors.TaskExecutor:
        return self.executor


def builder_for(
    kind: str,
    *modules: Any,
    config: dict[str, Any] | None = None,
    adapters: Sequence[Any] = (),
    strategy: Any = None,
    everything_remote: bool = False,
) -> driver.Builder:
    """A builder configured for ``kind`` (see the module docstring)."""
    builder = driver.Builder().with_modules(*modules)
    if config:
        builder = builder.with_config(config)
    if adapters:
        builder = builder.with_adapters(*adapters)
    if strategy is not None:
        builder = builder.with_grouping_strategy(strategy)
    if kind == "plain":
        return builder
    builder = builder.enable_dynamic_execution(allow_experimental_mode=True)
    if everything_remote:
        return builder.with_execution_manager(AllOn(make_remote(kind)))
    return builder.with_local_executor(
        executors.SynchronousLocalTaskExecutor()
    ).with_remote_executor(make_remote(kind))


def build(kind: str, *modules: Any, **options: Any) -> driver.Driver:
    """A driver for ``kind``; options as :func:`builder_for`."""
    return builder_for(kind, *modules, **options).build()


def worker_processes(ignore: frozenset[int] | set[int] = frozenset()) -> list[psutil.Process]:
    """Live descendants of this process, leaving out multiprocessing's helpers and ``ignore``.

    Pass the pids alive before a run as ``ignore`` so processes started by other tests of the
    session (Dask or Ray clusters, ...) do not count.
    """
    found = []
    for child in psutil.Process().children(recursive=True):
        if child.pid in ignore:
            continue
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(child.cmdline())
        except psutil.Error:
            continue  # already gone
        if "resource_tracker" in cmdline or "forkserver" in cmdline:
            continue
        found.append(child)
    return found


def live_worker_pids() -> set[int]:
    """Pids of the processes :func:`worker_processes` reports now."""
    return {p.pid for p in worker_processes()}


def assert_no_worker_processes(
    ignore: frozenset[int] | set[int] = frozenset(), grace: float = 3.0
) -> None:
    """Fails if worker processes (other than ``ignore``) outlive ``grace`` seconds."""
    deadline = time.monotonic() + grace
    left = worker_processes(ignore)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = worker_processes(ignore)
    assert not left, f"worker processes left behind: {left}"
