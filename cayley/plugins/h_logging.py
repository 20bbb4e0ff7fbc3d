"""Log what a run does through the standard :mod:`logging` module.

:class:`LoggingAdapter` reports the start and end of each run and node and, when the run is
split into tasks (dynamic execution), of each task. Messages carry Hamilton's wording, so
log searches written for Hamilton keep working; each starts with where it happened:
``Graph run '<run id>' - ``, ``Node '<name>' - ``, ``Task '<task id>' - `` or
``Task '<task id>' - Node '<name>' - ``.

.. code-block:: python

    import logging
    from cayley import driver
    from cayley.plugins import h_logging

    logging.basicConfig(level=logging.INFO)
    dr = driver.Builder().with_modules(my_dataflow).with_adapters(h_logging.LoggingAdapter()).build()

Levels: nodes finishing are ``INFO`` (node starts ``DEBUG``); in a task-based run, tasks
completing are ``INFO`` and everything about single nodes and task internals is ``DEBUG``.
Failures are ``ERROR``, with the traceback logged once, where the error is first seen.

Every record also carries structured fields (``LogRecord`` attributes) for tools that do not
parse messages: ``run_id``, ``task_id``, ``node_name`` where they apply, ``duration`` (seconds)
on completions, ``error`` on failures, and ``final_vars``, ``node_count``, ``inputs`` and
``overrides`` on the start of a run.

Node functions can log with the same prefixes through :func:`get_logger`, which knows which
run, task and node the current thread (or asyncio task) is working on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from cayley.graph_types import HamiltonGraph, HamiltonNode
from cayley.lifecycle.api import (
    GraphExecutionHook,
    NodeExecutionHook,
    TaskExecutionHook,
    TaskGroupingHook,
    TaskReturnHook,
    TaskSubmissionHook,
)
from cayley.lifecycle.base import BasePostNodeExecuteAsync, BasePreNodeExecute
from cayley.node import Node
from cayley.plugins.h_logging_context import (
    NOWHERE,
    ContextLogger,
    LoggingContext,
    current,
    get_logger,
)

__all__ = ["AsyncLoggingAdapter", "ContextLogger", "LoggingAdapter", "get_logger"]


def _quoted(names: Collection[str]) -> str:
    """``'a', 'b'`` for a collection of names."""
    return ", ".join(f"'{name}'" for name in names)


def _describe(error: BaseException | None) -> str | None:
    """``TypeName: message`` of an error."""
    if error is None:
        return None
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass
class _RunLog:
    """What the adapter remembers about one run in progress."""

    started: float
    provided: frozenset[str] = frozenset()  # input and override names
    reported_errors: set[int] = field(default_factory=set)


class LoggingAdapter(
    GraphExecutionHook,
    NodeExecutionHook,
    TaskGroupingHook,
    TaskSubmissionHook,
    TaskExecutionHook,
    TaskReturnHook,
):
    """Logs the start and end of runs, nodes and tasks, in Hamilton's words.

    Args:
        logger: the logger to write to, or its name; ``cayley.plugins.h_logging`` by default.

    Hooks may fire from several threads at once (threaded executors); the adapter keeps
    per-run state under a lock, so one adapter can serve concurrent runs. When tasks run in
    other processes, their task and node messages are logged by those processes.
    """

    def __init__(self, logger: str | logging.Logger | None = None) -> None:
        if logger is None:
            base = logging.getLogger(__name__)
        elif isinstance(logger, logging.Logger):
            base = logger
        else:
            base = logging.getLogger(logger)
        self.logger = ContextLogger(base, extra={})
        self._lock = threading.Lock()
        self._runs: dict[str, _RunLog] = {}
        # (run id, what started, task id, node name) -> when it started
        self._started: dict[tuple[str, str, str | None, str | None], float] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickles the logger only; a copy starts with no runs in progress."""
        return {"logger": self.logger}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restores the logger with a fresh lock and no runs."""
        self.logger = state["logger"]
        self._lock = threading.Lock()
        self._runs = {}
        self._started = {}

    # ---- helpers --------------------------------------------------------------------------
    def _run(self, run_id: str) -> _RunLog | None:
        with self._lock:
            return self._runs.get(run_id)

    def _start(self, run_id: str, what: str, task_id: str | None, node: str | None) -> None:
        with self._lock:
            self._started[(run_id, what, task_id, node)] = time.perf_counter()

    def _elapsed(
        self, run_id: str, what: str, task_id: str | None, node: str | None
    ) -> float | None:
        with self._lock:
            started = self._started.pop((run_id, what, task_id, node), None)
        return None if started is None else time.perf_counter() - started

    def _first_report(self, run_id: str, error: BaseException | None) -> bool:
        """Whether ``error`` has not been logged with its traceback in this run yet."""
        if error is None:
            return False
        run = self._run(run_id)
        if run is None:
            return True
        with self._lock:
            if id(error) in run.reported_errors:
                return False
            run.reported_errors.add(id(error))
            return True

    def _provided(self, run_id: str, task_id: str) -> bool:
        """Whether a task only hands over an input or override (logged more quietly)."""
        run = self._run(run_id)
        return run is not None and task_id in run.provided

    @staticmethod
    def _fields(
        run_id: str, task_id: str | None = None, node_name: str | None = None, **more: Any
    ) -> dict[str, Any]:
        return {"run_id": run_id, "task_id": task_id, "node_name": node_name, **more}

    # ---- GraphExecutionHook ---------------------------------------------------------------
    def run_before_graph_execution(
        self,
        *,
        graph: HamiltonGraph,
        final_vars: list[str],
        inputs: dict[str, Any],
        overrides: dict[str, Any],
        execution_path: Collection[str],
        run_id: str,
        **future_kwargs: Any,
    ) -> None:
        """Logs the start of the run, then the names of its inputs and overrides."""
        inputs, overrides = inputs or {}, overrides or {}
        with self._lock:
            self._runs[run_id] = _RunLog(
                started=time.perf_counter(), provided=frozenset(inputs) | frozenset(overrides)
            )
        current.set(LoggingContext(graph=run_id))
        extra = self._fields(
            run_id,
            final_vars=list(final_vars),
            node_count=len(execution_path),
            inputs=list(inputs),
            overrides=list(overrides),
        )
        self.logger.info("Starting graph execution", extra=extra)
        if inputs:
            self.logger.info("Using inputs %s", _quoted(inputs), extra=extra)
        if overrides:
            self.logger.info("Using overrides %s", _quoted(overrides), extra=extra)

    def run_after_graph_execution(
        self,
        *,
        graph: HamiltonGraph,
        success: bool,
        error: Exception | None,
        results: dict[str, Any] | None,
        run_id: str,
        **future_kwargs: Any,
    ) -> None:
        """Logs the end of the run; a failure is ``ERROR`` (its traceback was logged where the
        error was first seen, or is logged here if nothing saw it)."""
        run = self._run(run_id)
        current.set(NOWHERE)
        duration = None if run is None else time.perf_counter() - run.started
        extra = {
            "override_context": LoggingContext(graph=run_id),
            **self._fields(run_id, duration=duration, error=_describe(error)),
        }
        if success:
            self.logger.info("Finished graph execution [OK]", extra=extra)
        else:
            self.logger.error(
                "Graph execution failed due to errors",
                exc_info=error if self._first_report(run_id, error) else None,
                extra=extra,
            )
        with self._lock:
            self._runs.pop(run_id, None)
            # tasks cancelled by a failure never report back: forget what they started
            for key in [k for k in self._started if k[0] == run_id]:
                del self._started[key]

    # ---- TaskGroupingHook -----------------------------------------------------------------
    def run_after_task_grouping(
        self, *, run_id: str, task_ids: list[str], **future_kwargs: Any
    ) -> None:
        """Announces task-based logging (the run executes as tasks)."""
        self.logger.info(
            "Dynamic DAG detected; task-based logging is enabled",
            extra={
                "override_context": LoggingContext(graph=run_id),
                **self._fields(run_id, task_ids=list(task_ids)),
            },
        )

    def run_after_task_expansion(
        self, *, run_id: str, task_id: str, parameters: dict[str, Any], **future_kwargs: Any
    ) -> None:
        """Nothing to log: the spawned tasks are logged as they are submitted."""

    # ---- TaskSubmissionHook ---------------------------------------------------------------
    def run_before_task_submission(
        self,
        *,
        run_id: str,
        task_id: str,
        nodes: list[HamiltonNode],
        inputs: dict[str, Any],
        overrides: dict[str, Any],
        spawning_task_id: str | None,
        purpose: Any,
        **future_kwargs: Any,
    ) -> None:
        """Logs that a task is handed to its executor (``DEBUG``)."""
        self._start(run_id, "submission", task_id, None)
        extra = {
            "override_context": LoggingContext(graph=run_id, task=task_id),
            **self._fields(run_id, task_id, spawning_task_id=spawning_task_id),
        }
        if spawning_task_id:
            self.logger.debug("Spawning task and submitting to executor", extra=extra)
        else:
            self.logger.debug("Initializing new task and submitting to executor", extra=extra)

    # ---- TaskExecutionHook ----------------------------------------------------------------
    def run_before_task_execution(
        self,
        *,
        task_id: str,
        run_id: str,
        nodes: list[HamiltonNode],
        inputs: dict[str, Any],
        overrides: dict[str, Any],
        spawning_task_id: str | None,
        purpose: Any,
        **future_kwargs: Any,
    ) -> None:
        """Logs the start of a task and its nodes (``DEBUG``); runs where the task runs."""
        self._start(run_id, "task", task_id, None)
        current.set(LoggingContext(graph=run_id, task=task_id))
        if self._provided(run_id, task_id):
            return
        names = [n.name for n in nodes]
        extra = self._fields(run_id, task_id, nodes=names)
        if names == [task_id]:
            self.logger.debug("Starting execution", extra=extra)
        else:
            self.logger.debug("Starting execution of nodes %s", _quoted(names), extra=extra)

    def run_after_task_execution(
        self,
        *,
        task_id: str,
        run_id: str,
        nodes: list[HamiltonNode],
        results: dict[str, Any] | None,
        success: bool,
        error: Exception | None,
        spawning_task_id: str | None,
        purpose: Any,
        **future_kwargs: Any,
    ) -> None:
        """Logs the end of a task (``DEBUG``, ``ERROR`` on failure); runs where the task runs."""
        duration = self._elapsed(run_id, "task", task_id, None)
        current.set(LoggingContext(graph=run_id))
        if self._provided(run_id, task_id):
            return
        extra = {
            "override_context": LoggingContext(graph=run_id, task=task_id),
            **self._fields(run_id, task_id, duration=duration, error=_describe(error)),
        }
        if success:
            self.logger.debug("Finished execution [OK]", extra=extra)
        else:
            self.logger.error("Execution failed due to errors", extra=extra)

    # ---- TaskReturnHook -------------------------------------------------------------------
    def run_after_task_return(
        self,
        *,
        run_id: str,
        task_id: str,
        nodes: list[HamiltonNode],
        result: Any,
        success: bool,
        error: Exception | None,
        spawning_task_id: str | None,
        purpose: Any,
        **future_kwargs: Any,
    ) -> None:
        """Logs a task's result arriving back on the driver (``INFO``); a failure is logged
        here (``ERROR``) only if no other message of this process reported it."""
        duration = self._elapsed(run_id, "submission", task_id, None)
        current.set(LoggingContext(graph=run_id))
        extra = {
            "override_context": LoggingContext(graph=run_id, task=task_id),
            **self._fields(run_id, task_id, duration=duration, error=_describe(error)),
        }
        if success:
            log = self.logger.debug if self._provided(run_id, task_id) else self.logger.info
            log("Task completed [OK]", extra=extra)
        elif self._first_report(run_id, error):
            self.logger.error("Task completion failed due to errors", exc_info=error, extra=extra)

    # ---- NodeExecutionHook ----------------------------------------------------------------
    def run_before_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_kwargs: dict[str, Any],
        node_return_type: type,
        task_id: str | None,
        run_id: str,
        node_input_types: dict[str, Any],
        **future_kwargs: Any,
    ) -> None:
        """Logs the start of a node and the names of its inputs (``DEBUG``)."""
        self._start(run_id, "node", task_id, node_name)
        current.set(LoggingContext(graph=run_id, task=task_id, node=node_name))
        extra = self._fields(run_id, task_id, node_name)
        if node_kwargs:
            self.logger.debug(
                "Starting execution with dependencies %s", _quoted(node_kwargs), extra=extra
            )
        else:
            self.logger.debug("Starting execution without dependencies", extra=extra)

    def run_after_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_kwargs: dict[str, Any],
        node_return_type: type,
        result: Any,
        error: Exception | None,
        success: bool,
        task_id: str | None,
        run_id: str,
        **future_kwargs: Any,
    ) -> None:
        """Logs the end of a node (``INFO``; ``DEBUG`` inside tasks); a failure is ``ERROR``
        with the traceback."""
        duration = self._elapsed(run_id, "node", task_id, node_name)
        current.set(LoggingContext(graph=run_id, task=task_id))
        extra = {
            "override_context": LoggingContext(graph=run_id, task=task_id, node=node_name),
            "node_context": True,
            **self._fields(run_id, task_id, node_name, duration=duration, error=_describe(error)),
        }
        if success:
            log = self.logger.debug if task_id else self.logger.info
            log("Finished execution [OK]", extra=extra)
        else:
            self.logger.error(
                "Encountered error",
                exc_info=error if self._first_report(run_id, error) else None,
                extra=extra,
            )


class AsyncLoggingAdapter(GraphExecutionHook, BasePreNodeExecute, BasePostNodeExecuteAsync):
    """:class:`LoggingAdapter` for the async driver (runs and nodes; it runs no tasks).

    A node is logged (``DEBUG``) as ``Submitting async node ...`` when its inputs are ready,
    and its completion like :class:`LoggingAdapter` does.

    Args:
        logger: the logger to write to, or its name; ``cayley.plugins.h_logging`` by default.
    """

    def __init__(self, logger: str | logging.Logger | None = None) -> None:
        self._impl = LoggingAdapter(logger)

    @property
    def logger(self) -> ContextLogger:
        """The context logger messages go to."""
        return self._impl.logger

    def run_before_graph_execution(self, **kwargs: Any) -> None:
        """Logs the start of the run (see :meth:`LoggingAdapter.run_before_graph_execution`)."""
        self._impl.run_before_graph_execution(**kwargs)

    def run_after_graph_execution(self, **kwargs: Any) -> None:
        """Logs the end of the run (see :meth:`LoggingAdapter.run_after_graph_execution`)."""
        self._impl.run_after_graph_execution(**kwargs)

    def pre_node_execute(
        self, *, run_id: str, node_: Node, kwargs: dict[str, Any], task_id: str | None = None
    ) -> None:
        """Logs that a node is about to run, with the names of its inputs (``DEBUG``)."""
        impl = self._impl
        impl._start(run_id, "node", task_id, node_.name)
        current.set(LoggingContext(graph=run_id, task=task_id, node=node_.name))
        extra = impl._fields(run_id, task_id, node_.name)
        if kwargs:
            impl.logger.debug(
                "Submitting async node with dependencies %s", _quoted(kwargs), extra=extra
            )
        else:
            impl.logger.debug("Submitting async node without dependencies", extra=extra)

    async def post_node_execute(
        self,
        *,
        run_id: str,
        node_: Node,
        kwargs: dict[str, Any],
        success: bool,
        error: Exception | None,
        result: Any,
        task_id: str | None = None,
    ) -> None:
        """Logs the end of a node, as :meth:`LoggingAdapter.run_after_node_execution`."""
        self._impl.run_after_node_execution(
            node_name=node_.name,
            node_tags=node_.tags,
            node_kwargs=kwargs,
            node_return_type=node_.type,
            result=result,
            error=error,
            success=success,
            task_id=task_id,
            run_id=run_id,
        )
