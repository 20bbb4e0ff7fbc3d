"""Task executors: where tasks run (in the calling thread, threads, processes).

The interface is Hamilton's (``init``, ``finalize``, ``submit_task``, ``can_submit_task``);
futures wrap :class:`concurrent.futures.Future` so the scheduler can wait on them instead of
polling. Processes serialise tasks with cloudpickle, so lambdas, closures, decorator-made
functions and functions of modules built at run time all cross the process boundary.
"""

from __future__ import annotations

import abc
import concurrent.futures
import enum
import multiprocessing
import pickle
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from cayley._compat import add_note
from cayley.execution.grouping import NodeGroupPurpose
from cayley.execution.runner import Task, execute_task
from cayley.node import Node

__all__ = [
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
    "ByValueModules",
    "base_execute_task",
    "modules_by_value",
]


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
    """A task could not be sent to another process."""


def base_execute_task(task: Task) -> list[tuple[Any, ...]]:
    """Runs a task where it is (the function a custom executor should call)."""
    return execute_task(task)


class TaskFuture:
    """The pending result of a task, backed by a :class:`concurrent.futures.Future`.

    ``decode`` turns the raw result into the task's rows (processes return bytes).
    """

    __slots__ = ("future", "_decode", "elapsed")

    def __init__(
        self, future: concurrent.futures.Future, decode: Callable[[Any], Any] | None = None
    ) -> None:
        self.future = future
        self._decode = decode
        self.elapsed: float | None = None

    def get_state(self) -> TaskState:
        """RUNNING until done, then SUCCESSFUL or FAILED."""
        if not self.future.done():
            return TaskState.RUNNING
        return TaskState.FAILED if self.future.exception() is not None else TaskState.SUCCESSFUL

    def get_result(self) -> Any:
        """The task's rows; raises the task's exception if it failed."""
        raw = self.future.result()
        if self._decode is None:
            return raw
        rows, self.elapsed = self._decode(raw)
        return rows

    @classmethod
    def completed(cls, value: Any = None, error: BaseException | None = None) -> TaskFuture:
        """A future that is already done."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
        return cls(future)


class TaskExecutor(abc.ABC):
    """Runs tasks somewhere. Subclass it to plug in another engine.

    Attributes the scheduler reads:
        inline: tasks run in the caller's thread at submission (no futures to wait on).
        capacity: how many tasks may be in flight at once.
        chunk_target_seconds: how long one task should take when items are batched;
            larger for engines with a higher per-task cost.
        runs_in_process: results come back as the same objects (no serialisation).
    """

    inline: bool = False
    capacity: int = 1
    chunk_target_seconds: float = 0.005
    runs_in_process: bool = True

    def init(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Called before a run: start pools, connect to clusters."""

    def finalize(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Called after a run, successful or not: stop what :meth:`init` started."""

    def cancel(self) -> None:
        """Called when a run fails: drop pending work and stop as fast as possible."""
        self.finalize()

    @abc.abstractmethod
    def submit_task(self, task: Task) -> TaskFuture:
        """Starts ``task``; returns its future."""

    @abc.abstractmethod
    def can_submit_task(self) -> bool:
        """Whether another task may be submitted now."""


class SynchronousLocalTaskExecutor(TaskExecutor):
    """Runs each task in the calling thread, at once."""

    inline = True
    capacity = 1 << 30
    chunk_target_seconds = 0.01

    def submit_task(self, task: Task) -> TaskFuture:
        """Runs the task now; the future is already done."""
        try:
            return TaskFuture.completed(execute_task(task))
        except Exception as exc:
            return TaskFuture.completed(error=exc)

    def can_submit_task(self) -> bool:
        """Always."""
        return True


class PoolExecutor(TaskExecutor, abc.ABC):
    """An executor backed by a :mod:`concurrent.futures` pool of ``max_tasks`` workers."""

    def __init__(self, max_tasks: int) -> None:
        if max_tasks < 1:
            raise ValueError(f"max_tasks must be at least 1, got {max_tasks}")
        self.max_tasks = max_tasks
        self.capacity = max_tasks
        self.pool: concurrent.futures.Executor | None = None
        self._active: set[concurrent.futures.Future] = set()

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
        self._active.clear()

    def cancel(self) -> None:
        """Drops queued tasks and stops the pool."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
        self._active.clear()

    def can_submit_task(self) -> bool:
        """Whether fewer than ``max_tasks`` tasks are in flight."""
        return len(self._active) < self.max_tasks

    def _track(self, future: concurrent.futures.Future) -> None:
        self._active.add(future)
        future.add_done_callback(self._active.discard)

    def _ensure_pool(self) -> concurrent.futures.Executor:
        if self.pool is None:
            self.init()
        assert self.pool is not None
        return self.pool


class MultiThreadingExecutor(PoolExecutor):
    """Runs tasks on a pool of threads: for I/O-bound work and code that releases the GIL."""

    chunk_target_seconds = 0.002

    def create_pool(self) -> concurrent.futures.Executor:
        """A thread pool of ``max_tasks`` threads."""
        return concurrent.futures.ThreadPoolExecutor(
            max_workers=self.max_tasks, thread_name_prefix="cayley-task"
        )

    def submit_task(self, task: Task) -> TaskFuture:
        """Submits the task to a thread."""
        future = self._ensure_pool().submit(execute_task, task)
        self._track(future)
        return TaskFuture(future)


# ---- processes ---------------------------------------------------------------------------
_TEMPLATE_CACHE: OrderedDict[str, Any] = OrderedDict()
_TEMPLATE_CACHE_SIZE = 64


def _run_serialized(key: str, static_blob: bytes, dynamic_blob: bytes) -> bytes:
    """Worker side: rebuild the task (caching its static part) and run it."""
    import cloudpickle

    static = _TEMPLATE_CACHE.get(key)
    if static is None:
        static = cloudpickle.loads(static_blob)
        _TEMPLATE_CACHE[key] = static
        if len(_TEMPLATE_CACHE) > _TEMPLATE_CACHE_SIZE:
            _TEMPLATE_CACHE.popitem(last=False)
    template, adapters, run_id, materialize = static
    inputs, labels = cloudpickle.loads(dynamic_blob)
    task = Task(template, inputs, labels, run_id, adapters, materialize)
    try:
        rows = execute_task(task)
    except BaseException as exc:
        try:
            return cloudpickle.dumps((False, exc, None))
        except Exception:
            fallback = RuntimeError(f"{type(exc).__name__}: {exc}")
            for note in getattr(exc, "__notes__", ()):
                add_note(fallback, note)
            if hasattr(exc, "_cayley_item"):
                fallback._cayley_item = exc._cayley_item  # type: ignore[attr-defined]
            return cloudpickle.dumps((False, fallback, None))
    try:
        return cloudpickle.dumps((True, rows, task.elapsed))
    except Exception as exc:
        error = _describe_unserializable_result(task, rows, exc)
        return cloudpickle.dumps((False, error, None))


def _describe_unserializable_result(
    task: Task, rows: list[tuple[Any, ...]], error: Exception
) -> SerializationError:
    """Names the node and item whose result cannot be sent back to the driver."""
    import cloudpickle

    for index, row in enumerate(rows):
        for name, value in zip(task.template.exports, row):
            try:
                cloudpickle.dumps(value)
            except Exception as exc:
                label = task.labels[index].item if task.labels else None
                problem = SerializationError(
                    f"The result of node {name!r} ({type(value).__name__}) cannot be sent back "
                    f"from the worker process: {type(exc).__name__}: {exc}"
                )
                add_note(
                    problem, f"while returning node {name!r}" + (f", {label}" if label else "")
                )
                problem._cayley_item = index  # type: ignore[attr-defined]
                return problem
    return SerializationError(f"The results of task {task.task_id!r} cannot be sent back: {error}")


def _decode_serialized(raw: bytes) -> tuple[Any, float | None]:
    import cloudpickle

    ok, value, elapsed = cloudpickle.loads(raw)
    if not ok:
        raise value
    return value, elapsed


def modules_by_value(functions: Iterable[Any]) -> list[Any]:
    """Modules of ``functions`` that another process could not import (built at run time)."""
    modules = []
    for fn in functions:
        module = sys.modules.get(getattr(fn, "__module__", "") or "")
        if module is None or module.__name__ in ("__main__", "builtins"):
            continue
        if getattr(module, "__spec__", None) is None or getattr(module, "__file__", None) is None:
            modules.append(module)
    return modules


class ByValueModules:
    """Modules registered with cloudpickle to be pickled by value, until :meth:`clear`."""

    def __init__(self) -> None:
        self.registered: set[str] = set()

    def add(self, functions: Iterable[Any]) -> None:
        """Registers the run-time modules of ``functions``."""
        import cloudpickle

        for module in modules_by_value(functions):
            if module.__name__ not in self.registered:
                cloudpickle.register_pickle_by_value(module)
                self.registered.add(module.__name__)

    def add_task(self, task: Task) -> None:
        """Registers the run-time modules of a task's node functions and adapter classes."""
        functions: list[Any] = []
        for step in task.template.steps:
            functions.append(step[1])
            functions.extend(step[4].originating_functions or ())
        if task.adapters is not None:
            functions.extend(type(adapter) for adapter in task.adapters.adapters)
        self.add(functions)

    def add_node(self, node: Node) -> None:
        """Registers the run-time modules of a node's function and the functions it came from."""
        self.add([node.callable, *(node.originating_functions or ())])

    def clear(self) -> None:
        """Unregisters every module registered so far."""
        import cloudpickle

        for name in self.registered:
            module = sys.modules.get(name)
            if module is not None:
                try:
                    cloudpickle.unregister_pickle_by_value(module)
                except ValueError:
                    pass
        self.registered.clear()


def describe_unserializable(task: Task, error: Exception) -> SerializationError:
    """Names the node and argument (or node function) that cannot be serialised."""
    import cloudpickle

    consumers: dict[str, list[str]] = {}
    for name, _, args, _, _ in task.template.steps:
        for param, source in args:
            consumers.setdefault(source, []).append(f"{name}({param}=...)")
    for values in task.inputs:
        for key, value in values.items():
            try:
                cloudpickle.dumps(value)
            except Exception as exc:
                where = ", ".join(consumers.get(key, [key]))
                return SerializationError(
                    f"Cannot send value {key!r} of type {type(value).__name__} to another process "
                    f"for node argument {where}: {type(exc).__name__}: {exc}"
                )
    for name, fn, _, _, _ in task.template.steps:
        try:
            cloudpickle.dumps(fn)
        except Exception as exc:
            return SerializationError(
                f"Cannot send the function of node {name!r} to another process: "
                f"{type(exc).__name__}: {exc}"
            )
    return SerializationError(f"Cannot send task {task.task_id!r} to another process: {error}")


class MultiProcessingExecutor(PoolExecutor):
    """Runs tasks in worker processes, serialised with cloudpickle.

    Args:
        max_tasks: number of worker processes.
        start_method: ``"fork"``, ``"spawn"`` or ``"forkserver"``; the platform default
            when ``None``.
    """

    chunk_target_seconds = 0.02
    runs_in_process = False

    def can_submit_task(self) -> bool:
        """Keeps one task queued per worker beyond the running ones, hiding round trips."""
        return len(self._active) < 2 * self.max_tasks

    def __init__(self, max_tasks: int, start_method: str | None = None) -> None:
        super().__init__(max_tasks)
        self.start_method = start_method
        self._static: dict[tuple[int, int], tuple[str, bytes]] = {}
        self._by_value = ByValueModules()

    def create_pool(self) -> concurrent.futures.Executor:
        """A process pool of ``max_tasks`` processes."""
        context = multiprocessing.get_context(self.start_method) if self.start_method else None
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=self.max_tasks, mp_context=context
        )

    def _static_part(self, task: Task) -> tuple[str, bytes]:
        import cloudpickle

        cache_key = (id(task.template), id(task.adapters))
        found = self._static.get(cache_key)
        if found is None:
            self._by_value.add_task(task)
            blob = cloudpickle.dumps(
                (task.template, task.adapters, task.run_id, task.materialize_expanders)
            )
            found = (f"{task.run_id}:{id(task.template)}:{time.monotonic_ns()}", blob)
            self._static[cache_key] = found
        return found

    def submit_task(self, task: Task) -> TaskFuture:
        """Serialises the task and submits it to a worker process."""
        import cloudpickle

        try:
            key, static_blob = self._static_part(task)
            dynamic_blob = cloudpickle.dumps((task.inputs, task.labels))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise describe_unserializable(task, exc) from exc
        future = self._ensure_pool().submit(_run_serialized, key, static_blob, dynamic_blob)
        self._track(future)
        return TaskFuture(future, _decode_serialized)

    def finalize(self) -> None:
        """Stops the workers and forgets the serialised templates."""
        super().finalize()
        self._static.clear()
        self._by_value.clear()

    def cancel(self) -> None:
        """Drops queued tasks and terminates the workers at once."""
        pool = self.pool
        if pool is not None:
            processes = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                if process.is_alive():
                    process.terminate()
            for process in processes:
                process.join(timeout=5)
            self.pool = None
        self._active.clear()
        self.finalize()


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
        """The executor for ``task`` (asked once per task template and run)."""


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
