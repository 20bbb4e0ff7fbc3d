"""Running tasks in worker processes: the task codec over a :class:`~cayley.execution.pool.WorkerPool`.

Tasks are serialised with cloudpickle (:mod:`cayley.execution.codec`), so lambdas,
closures, decorator-made functions and functions of modules that the workers cannot import
cross the process boundary. A worker that dies fails the task it was running with
:class:`WorkerDiedError`, naming the task's nodes and items; the pool replaces it.
"""

from __future__ import annotations

import concurrent.futures
import difflib
import multiprocessing
from typing import Any

from cayley.execution.codec import TaskCodec, describe_items
from cayley.execution.contract import TaskExecutor, check_pool_size
from cayley.execution.pool import WorkerPool, describe_exit
from cayley.execution.runner import Task

__all__ = ["MultiProcessingExecutor", "WorkerDiedError"]


class WorkerDiedError(RuntimeError):
    """The worker process running a task ended before the task did.

    Attributes:
        pid: the worker's process id.
        exitcode: its exit code (negative: the signal that killed it), None if unknown.
    """

    def __init__(self, message: str, pid: int, exitcode: int | None) -> None:
        super().__init__(message)
        self.pid = pid
        self.exitcode = exitcode

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.pid, self.exitcode))


def check_start_method(start_method: str | None) -> str | None:
    """Returns ``start_method`` if this platform offers it (or it is None), else raises."""
    if start_method is None:
        return None
    offered = multiprocessing.get_all_start_methods()
    if start_method not in offered:
        close = difflib.get_close_matches(str(start_method), offered, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"MultiProcessingExecutor(start_method={start_method!r}): unknown start_method; "
            f"this platform offers {', '.join(map(repr, offered))}, or None for its "
            f"default.{hint}"
        )
    return start_method


class MultiProcessingExecutor(TaskExecutor):
    """Runs tasks in worker processes, serialised with cloudpickle.

    The workers start when a run starts and stop when it ends. Two tasks per worker may be
    in flight: one running, one queued, so a worker never waits for the driver.

    Args:
        max_tasks: number of worker processes.
        start_method: ``"fork"``, ``"spawn"`` or ``"forkserver"``; the platform default
            when ``None``.
    """

    in_process = False
    chunk_target_seconds = 0.02

    def __init__(self, max_tasks: int, start_method: str | None = None) -> None:
        self.max_tasks = check_pool_size(type(self).__name__, max_tasks)
        self.capacity = 2 * max_tasks
        self.start_method = check_start_method(start_method)
        self.pool: WorkerPool | None = None
        self.codec = TaskCodec("process")

    def init(self) -> None:
        """Starts the worker processes."""
        if self.pool is None:
            context = multiprocessing.get_context(self.start_method)
            self.pool = WorkerPool(self.max_tasks, context)
            self.pool.start()

    def finalize(self) -> None:
        """Stops the workers after their current task and forgets the run's templates."""
        self._stop(terminate=False)

    def cancel(self) -> None:
        """Terminates the workers at once and drops queued tasks."""
        self._stop(terminate=True)

    def _stop(self, terminate: bool) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(terminate=terminate)
        self.codec.clear()

    def submit(self, task: Task) -> concurrent.futures.Future:
        """Serialises ``task`` and queues it for a worker."""
        if self.pool is None:
            self.init()
        assert self.pool is not None
        static = self.codec.static_part(task)
        blob = self.codec.encode(task)

        def decode(packed: bytes) -> list[tuple[Any, ...]]:
            return self.codec.decode(packed, task).value

        def obituary(pid: int, exitcode: int | None) -> BaseException:
            if len(task.inputs) == 1:
                task.failed_item = 0
            return WorkerDiedError(
                f"The worker process (pid {pid}) running {describe_items(task)} "
                f"{describe_exit(exitcode)}.",
                pid,
                exitcode,
            )

        return self.pool.submit(static.key, static.blob, blob, decode, obituary)
