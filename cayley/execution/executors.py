"""Task executors: where tasks run (in the calling thread, threads, processes).

Every executor implements the one contract of :mod:`cayley.execution.contract`:
``submit(task)`` returns a :class:`concurrent.futures.Future` of the task's rows, and
``capacity`` says how many tasks may be in flight. The synchronous executor is a real
executor on that same path: its futures are done when ``submit`` returns. Hamilton's names
(``init``, ``finalize``, ``submit_task``, ``can_submit_task``, ``base_execute_task``,
``TaskFuture``) keep working for executors written against them.
"""

from __future__ import annotations

import abc
import concurrent.futures
from typing import Any

from cayley.execution.contract import (
    FinishedFuture,
    SerializationError,
    TaskExecutor,
    TaskFuture,
    TaskState,
    check_pool_size,
)
from cayley.execution.grouping import NodeGroupPurpose
from cayley.execution.modules import ByValueModules, modules_by_value
from cayley.execution.processes import MultiProcessingExecutor, WorkerDiedError
from cayley.execution.runner import Task, execute_task

__all__ = [
    "ByValueModules",
    "FinishedFuture",
    "DefaultExecutionManager",
    "ExecutionManager",
    "MultiProcessingExecutor",
    "MultiThreadingExecutor",
    "PoolExecutor",
    "SerializationError",
    "SynchronousLocalTaskExecutor",
    "TaskExecutor",
    "TaskFuture",
    "TaskState",
    "WorkerDiedError",
    "base_execute_task",
    "modules_by_value",
]


def base_execute_task(task: Task) -> list[tuple[Any, ...]]:
    """Runs a task where it is (the function a custom executor should call)."""
    return execute_task(task)


class SynchronousLocalTaskExecutor(TaskExecutor):
    """Runs each task in the calling thread, at once: its future is done on return."""

    capacity = 1
    chunk_target_seconds = 0.01

    def submit(self, task: Task) -> FinishedFuture:
        """Runs the task now; returns its finished future (errors included)."""
        try:
            return FinishedFuture(execute_task(task))
        except Exception as exc:
            return FinishedFuture(error=exc)


class PoolExecutor(TaskExecutor, abc.ABC):
    """An executor backed by a :mod:`concurrent.futures` pool of ``max_tasks`` workers."""

    def __init__(self, max_tasks: int) -> None:
        self.max_tasks = check_pool_size(type(self).__name__, max_tasks)
        self.capacity = max_tasks
        self.pool: concurrent.futures.Executor | None = None

    @abc.abstractmethod
    def create_pool(self) -> concurrent.futures.Executor:
        """The pool to run tasks in."""

    def init(self) -> None:
        """Starts the pool."""
        if self.pool is None:
            self.pool = self.create_pool()

    def finalize(self) -> None:
        """Waits for running tasks and stops the pool."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None

    def cancel(self) -> None:
        """Drops queued tasks and stops the pool without waiting for running ones."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    def submit(self, task: Task) -> concurrent.futures.Future:
        """Runs the task on the pool."""
        if self.pool is None:
            self.init()
        assert self.pool is not None
        return self.pool.submit(execute_task, task)


class MultiThreadingExecutor(PoolExecutor):
    """Runs tasks on a pool of threads: for I/O-bound work and code that releases the GIL."""

    chunk_target_seconds = 0.002

    def create_pool(self) -> concurrent.futures.Executor:
        """A thread pool of ``max_tasks`` threads."""
        return concurrent.futures.ThreadPoolExecutor(
            max_workers=self.max_tasks, thread_name_prefix="cayley-task"
        )


# ---- execution managers ------------------------------------------------------------------
class ExecutionManager(abc.ABC):
    """Chooses the executor of each task."""

    def __init__(self, executors: list[TaskExecutor]) -> None:
        self.executors = executors

    def init(self) -> None:
        """Initialises every executor."""
        for executor in self.executors:
            executor.init()

    def finalize(self) -> None:
        """Finalises every executor."""
        for executor in self.executors:
            executor.finalize()

    def cancel(self) -> None:
        """Cancels every executor's pending work."""
        for executor in self.executors:
            executor.cancel()

    @abc.abstractmethod
    def get_executor_for_task(self, task: Task) -> TaskExecutor:
        """The executor for ``task``: asked once per task template and run, with the
        template's first task."""


class DefaultExecutionManager(ExecutionManager):
    """Per-item blocks go to the remote executor; everything else runs locally."""

    def __init__(
        self,
        local_executor: TaskExecutor | None = None,
        remote_executor: TaskExecutor | None = None,
    ) -> None:
        self.local_executor = local_executor or SynchronousLocalTaskExecutor()
        self.remote_executor = remote_executor or MultiProcessingExecutor(max_tasks=5)
        super().__init__([self.local_executor, self.remote_executor])

    def get_executor_for_task(self, task: Task) -> TaskExecutor:
        """Remote for EXECUTE_BLOCK tasks, local otherwise."""
        if task.template.purpose == NodeGroupPurpose.EXECUTE_BLOCK:
            return self.remote_executor
        return self.local_executor
