"""The one contract between the scheduler and every executor.

An executor takes a task and hands back a :class:`concurrent.futures.Future` of the task's
rows (one tuple of exported values per item): ``submit(task) -> Future``. It declares what
the scheduler needs to know about it as plain attributes, read, never probed:

- ``capacity``: how many tasks of one run may be in flight on it at once;
- ``in_process``: tasks run on the driver's own objects (inputs, adapters, results are not
  copied), so nothing has to be serialised and adapters need no worker reports;
- ``keeps_values_remote``: results may come back as :class:`~cayley.execution.runner.RemoteValue`
  handles left where they were computed;
- ``chunk_target_seconds``: how long one task should run when cheap items are batched.

A synchronous executor returns a future that is already done (a :class:`FinishedFuture`,
which has the protocol of :class:`concurrent.futures.Future` without its lock); the
scheduler then handles the result at once, so running in the caller's thread costs no
more than a function call.

The names Hamilton users call or subclass keep working: ``submit_task`` returns a
:class:`TaskFuture`, ``can_submit_task`` may hold work back, and an executor written against
those two methods only (no ``submit``) still runs.
"""

from __future__ import annotations

import abc
import concurrent.futures
import enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cayley.execution.runner import Task

__all__ = [
    "FinishedFuture",
    "SerializationError",
    "TaskExecutor",
    "TaskFuture",
    "TaskState",
    "check_pool_size",
    "completed_future",
]


def check_pool_size(executor: str, max_tasks: object) -> int:
    """Returns ``max_tasks`` if it is a whole number of workers of at least 1, else raises.

    Raises:
        TypeError: ``max_tasks`` is not an int (a string from a config file, a float).
        ValueError: ``max_tasks`` is below 1.
    """
    if isinstance(max_tasks, bool) or not isinstance(max_tasks, int):
        raise TypeError(
            f"{executor}(max_tasks={max_tasks!r}): max_tasks must be an int (the number of "
            f"workers), got {type(max_tasks).__name__}. Pass a whole number such as "
            f"{executor}(max_tasks=4); convert values read from text with int(...)."
        )
    if max_tasks < 1:
        raise ValueError(
            f"{executor}(max_tasks={max_tasks}): max_tasks must be at least 1 (the number of "
            f"workers), got {max_tasks}."
        )
    return max_tasks


class TaskState(enum.Enum):
    """The state of a submitted task."""

    QUEUED = "queued"
    UNINITIALIZED = "uninitialized"
    INITIALIZED = "initialized"
    RUNNING = "running"
    SUCCESSFUL = "successful"
    FAILED = "failed"

    @staticmethod
    def is_terminal(state: TaskState) -> bool:
        """Whether the task has finished, one way or the other."""
        return state in (TaskState.SUCCESSFUL, TaskState.FAILED)


class SerializationError(TypeError):
    """A task, or its result, could not be sent to or from another process."""


class FinishedFuture:
    """A future that is done when it is made: what a synchronous ``submit`` returns.

    It has the protocol of :class:`concurrent.futures.Future` (``done``, ``result``,
    ``exception``, ``add_done_callback``...) without its condition variable, which nothing
    could ever wait on.
    """

    __slots__ = ("_value", "_error")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self._value = value
        self._error = error

    def done(self) -> bool:
        """Always True."""
        return True

    def running(self) -> bool:
        """Always False: the task ran already."""
        return False

    def cancelled(self) -> bool:
        """Always False."""
        return False

    def cancel(self) -> bool:
        """Too late to cancel: False."""
        return False

    def result(self, timeout: float | None = None) -> Any:
        """The task's rows; raises the task's exception if it failed."""
        error = self._error
        if error is not None:
            try:
                raise error
            finally:
                del error  # no cycle through the traceback, as in Future
        return self._value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The task's exception, or None."""
        return self._error

    def add_done_callback(self, fn: Any) -> None:
        """Calls ``fn(self)`` at once."""
        fn(self)


def completed_future(
    value: Any = None, error: BaseException | None = None
) -> concurrent.futures.Future:
    """A future that is already done, with ``value`` or ``error``."""
    future: concurrent.futures.Future = concurrent.futures.Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
    return future


class TaskFuture:
    """Hamilton's view of a task's future (``get_state``/``get_result``) over a real one.

    ``future`` is the :class:`concurrent.futures.Future` the scheduler waits on.
    """

    __slots__ = ("future",)

    def __init__(self, future: concurrent.futures.Future) -> None:
        self.future = future

    def get_state(self) -> TaskState:
        """RUNNING until done, then SUCCESSFUL or FAILED."""
        if not self.future.done():
            return TaskState.RUNNING
        return TaskState.FAILED if self.future.exception() is not None else TaskState.SUCCESSFUL

    def get_result(self) -> Any:
        """The task's rows; raises the task's exception if it failed."""
        return self.future.result()

    @classmethod
    def completed(cls, value: Any = None, error: BaseException | None = None) -> TaskFuture:
        """A future that is already done."""
        return cls(completed_future(value, error))


class TaskExecutor(abc.ABC):  # noqa: B024 - subclasses declare abstract methods
    """Runs tasks somewhere. Subclass it to plug in another engine.

    Implement :meth:`submit` (or, as in Hamilton, :meth:`submit_task`), and set the
    declared capabilities below when the defaults do not fit.

    Attributes:
        capacity: how many tasks of one run may be in flight at once.
        in_process: tasks run in this process on the driver's objects (no serialisation).
        keeps_values_remote: results may be ``RemoteValue`` handles left on the engine.
        chunk_target_seconds: how long one task should take when items are batched;
            larger for engines with a higher per-task cost, 0 for one item per task.
    """

    capacity: int = 1
    in_process: bool = True
    keeps_values_remote: bool = False
    chunk_target_seconds: float = 0.005

    def init(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Called before a run: start pools, connect to clusters."""

    def finalize(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Called after a run, successful or not: stop what :meth:`init` started."""

    def cancel(self) -> None:
        """Called when a run fails or is interrupted: drop pending work, stop at once."""
        self.finalize()

    def submit(self, task: Task) -> concurrent.futures.Future | FinishedFuture:
        """Starts ``task``; returns the future of its rows (finished if it ran already).

        The default runs :meth:`submit_task`, for executors written against Hamilton's
        interface.
        """
        if type(self).submit_task is TaskExecutor.submit_task:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither submit(task) nor submit_task(task); "
                "implement submit(task) and return a concurrent.futures.Future of the rows."
            )
        handle = self.submit_task(task)
        if isinstance(handle, TaskFuture):
            return handle.future
        if isinstance(handle, (concurrent.futures.Future, FinishedFuture)):
            return handle
        raise TypeError(
            f"{type(self).__name__}.submit_task returned {type(handle).__name__}; return a "
            "TaskFuture (TaskFuture(future) or TaskFuture.completed(rows)) or a "
            "concurrent.futures.Future."
        )

    def submit_task(self, task: Task) -> TaskFuture:
        """Hamilton's name for :meth:`submit`: the future wrapped as a :class:`TaskFuture`."""
        return TaskFuture(self.submit(task))

    def can_submit_task(self) -> bool:
        """Whether another task may be submitted now.

        The scheduler already keeps at most ``capacity`` tasks of a run in flight; override
        this to hold work back for other reasons (an engine busy with another run).
        """
        return True
