"""Log what a run does through the standard :mod:`logging` module.

:class:`LoggingAdapter` reports the start and end of each run, of each node (with how long
it took) and, when the run is split into several tasks (dynamic execution), of each task.
Every message starts with where it happened: ``Graph run '<run id>' - ``,
``Node '<name>' - ``, ``Task '<task id>' - `` or ``Task '<task id>' - Node '<name>' - ``.

.. code-block:: python

    import logging
    from cayley import driver
    from cayley.plugins import h_logging

    logging.basicConfig(level=logging.INFO)
    dr = driver.Builder().with_modules(my_dataflow).with_adapters(h_logging.LoggingAdapter()).build()

Levels: when a run is one task, node completions are ``INFO`` and node starts ``DEBUG``; when
it is several tasks, task completions are ``INFO`` and everything about single nodes is
``DEBUG``. Failures are ``ERROR``; the traceback is logged once, where the error is first seen.

Node functions can log with the same prefixes through :func:`get_logger`, which knows which
run, task and node the current thread is working on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cayley.graph_types import HamiltonGraph, HamiltonNode
from cayley.lifecycle.api import (
    GraphExecutionHook,
    NodeExecutionHook,
    TaskExecutionHook,
    TaskGroupingHook,
    TaskReturnHook,
    TaskSubmissionHook,
)

__all__ = ["ContextLogger", "LoggingAdapter", "get_logger"]

if TYPE_CHECKING:
    _LoggerAdapterBase = logging.LoggerAdapter[logging.Logger]
else:
    _LoggerAdapterBase = logging.LoggerAdapter


@dataclass(frozen=True)
class _LoggingContext:
    """Where the current thread is: which run, task and node."""

    graph: str | None = None
    task: str | None = None
    node: str | None = None

    def prefix(self, with_node: bool = True) -> str:
        """The message prefix for this place (the node is left out of task prefixes unless
        ``with_node``)."""
        if self.task:
            if self.node and with_node:
                return f"Task '{self.task}' - Node '{self.node}' - "
            return f"Task '{self.task}' - "
        if self.node:
            return f"Node '{self.node}' - "
        if self.graph:
            return f"Graph run '{self.graph}' - "
        return ""


_NOWHERE = _LoggingContext()
_context: ContextVar[_LoggingContext] = ContextVar("cayley_logging_context", default=_NOWHERE)


class ContextLogger(_LoggerAdapterBase):
    """A logger adapter that prefixes messages with the current run, task and node.

    The place is tracked per thread (and per asyncio task) by :class:`LoggingAdapter`. Extra
    keys understood in ``extra=``:

    - ``override_context``: a context to use instead of the current one;
    - ``skip_context``: log the message without a prefix;
    - ``node_context``: inside a task, name the node too.
    """

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        """Adds the prefix to ``msg`` and merges the adapter's extras into the call's."""
        extra = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        kwargs["extra"] = extra
        if "skip_context" in extra:
            return msg, kwargs
        context = extra.get("override_context")
        if not isinstance(context, _LoggingContext):
            context = _context.get()
        node_too = "node_context" in extra or not context.task
        return f"{context.prefix(with_node=node_too)}{msg}", kwargs


def get_logger(name: str | None = None) -> ContextLogger:
    """A :class:`ContextLogger` over ``logging.getLogger(name)`` (the root logger by default).

    Use it inside node functions so their messages say which run, task and node they come
    from, in the same format as :class:`LoggingAdapter`.
    """
    return ContextLogger(logging.getLogger(name), extra={})


def _format_seconds(seconds: float) -> str:
    """A duration with a readable unit: ``12.3μs``, ``4.56ms``, ``1.23s``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g}μs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g}ms"
    return f"{seconds:.3g}s"


def _describe(error: BaseException | None) -> str:
    """``TypeName: message`` of an error."""
    if error is None:
        return "unknown error"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _quoted(names: Collection[str]) -> str:
    """``'a', 'b'`` for a collection of names."""
    return ", ".join(f"'{name}'" for name in names)


@dataclass
class _RunLog:
    """What the adapter remembers about one run in progress."""

    started: float
    task_based: bool = False
    node_started: dict[tuple[str | None, str], float] = field(default_factory=dict)
    task_started: dict[str, float] = field(default_factory=dict)
    task_submitted: dict[str, float] = field(default_factory=dict)
    reported_errors: set[int] = field(default_factory=set)


class LoggingAdapter(
    GraphExecutionHook,
    NodeExecutionHook,
    TaskGroupingHook,
    TaskSubmissionHook,
    TaskExecutionHook,
    TaskReturnHook,
):
    """Logs the start and end of runs, nodes and tasks, with timings.

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

    def __getstate__(self) -> dict[str, Any]:
        """Pickles the logger only; a copy starts with no runs in progress."""
        return {"logger": self.logger}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restores the logger with a fresh lock and no runs."""
        self.logger = state["logger"]
        self._lock = threading.Lock()
        self._runs = {}

    # ---- helpers --------------------------------------------------------------------------
    def _run(self, run_id: str) -> _RunLog | None:
        with self._lock:
            return self._runs.get(run_id)

    def _first_report(self, run: _RunLog | None, error: BaseException | None) -> bool:
        """Whether ``error`` has not been logged with its traceback in this run yet."""
        if error is None:
            return False
        if run is None:
            return True
        with self._lock:
            if id(error) in run.reported_errors:
                return False
            run.reported_errors.add(id(error))
            return True

    def _task_based(self, run: _RunLog | None, task_id: str | None) -> bool:
        """Whether the run is split into several tasks (guessed from ``task_id`` when this
        process does not know the run)."""
        return run.task_based if run is not None else task_id is not None

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
        """Logs the start of the run: how many nodes, which outputs, inputs and overrides."""
        with self._lock:
            self._runs[run_id] = _RunLog(started=time.perf_counter())
        _context.set(_LoggingContext(graph=run_id))
        count = len(execution_path)
        self.logger.info(
            "Run started: %d node%s to compute for %s",
            count,
            "" if count == 1 else "s",
            _quoted(final_vars) or "no outputs",
        )
        if inputs:
            self.logger.info("Inputs: %s", _quoted(inputs))
        if overrides:
            self.logger.info("Overrides: %s", _quoted(overrides))

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
        """Logs the end of the run, with its duration; a failure is logged as ``ERROR``."""
        with self._lock:
            run = self._runs.pop(run_id, None)
        _context.set(_NOWHERE)
        extra = {"override_context": _LoggingContext(graph=run_id)}
        elapsed = "" if run is None else f" in {_format_seconds(time.perf_counter() - run.started)}"
        if success:
            self.logger.info("Run finished [OK]%s", elapsed, extra=extra)
            return
        self.logger.error(
            "Run failed%s: %s",
            elapsed.replace(" in ", " after ", 1),
            _describe(error),
            exc_info=error if self._first_report(run, error) else None,
            extra=extra,
        )

    # ---- TaskGroupingHook -----------------------------------------------------------------
    def run_after_task_grouping(
        self, *, run_id: str, task_ids: list[str], **future_kwargs: Any
    ) -> None:
        """Switches the run to task-based logging when it is split into several tasks."""
        if len(task_ids) < 2:
            return
        run = self._run(run_id)
        if run is not None:
            run.task_based = True
        self.logger.info(
            "Run split into %d tasks (%s); logging per task",
            len(task_ids),
            _quoted(task_ids),
            extra={"override_context": _LoggingContext(graph=run_id)},
        )

    def run_after_task_expansion(
        self, *, run_id: str, task_id: str, parameters: dict[str, Any], **future_kwargs: Any
    ) -> None:
        """Logs how many items a ``Parallelizable`` node produced (``DEBUG``)."""
        count = len(parameters)
        self.logger.debug(
            "Produced %d item%s",
            count,
            "" if count == 1 else "s",
            extra={"override_context": _LoggingContext(graph=run_id, task=task_id)},
        )

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
        """Logs that a task is handed to its executor (``DEBUG``). Silent when the run is a
        single task."""
        run = self._run(run_id)
        if run is not None:
            with self._lock:
                run.task_submitted[task_id] = time.perf_counter()
        if not self._task_based(run, task_id):
            return
        extra = {"override_context": _LoggingContext(graph=run_id, task=task_id)}
        if spawning_task_id:
            self.logger.debug(
                "Submitted to the executor (spawned by '%s')", spawning_task_id, extra=extra
            )
        else:
            self.logger.debug("Submitted to the executor", extra=extra)

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
        """Logs the start of a task and its nodes (``DEBUG``); runs where the task runs.
        Silent when the run is a single task."""
        run = self._run(run_id)
        if run is not None:
            with self._lock:
                run.task_started[task_id] = time.perf_counter()
        _context.set(_LoggingContext(graph=run_id, task=task_id))
        if not self._task_based(run, task_id):
            return
        self.logger.debug("Started, computing %s", _quoted([n.name for n in nodes]))

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
        """Logs the end of a task with its duration (``DEBUG``, ``ERROR`` on failure); runs
        where the task runs. Silent when the run is a single task."""
        run = self._run(run_id)
        started = None
        if run is not None:
            with self._lock:
                started = run.task_started.pop(task_id, None)
        _context.set(_LoggingContext(graph=run_id))
        extra = {"override_context": _LoggingContext(graph=run_id, task=task_id)}
        if not self._task_based(run, task_id):
            return
        elapsed = "" if started is None else _format_seconds(time.perf_counter() - started)
        if success:
            self.logger.debug("Finished [OK]%s", elapsed and f" in {elapsed}", extra=extra)
            return
        self.logger.error(
            "Failed%s: %s",
            elapsed and f" after {elapsed}",
            _describe(error),
            exc_info=error if self._first_report(run, error) else None,
            extra=extra,
        )

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
        """Logs a task's result arriving back on the driver (``INFO``), with the time since
        its submission. A failure is logged here (``ERROR``) only if no other message of this
        process reported it. Silent when the run is a single task."""
        run = self._run(run_id)
        submitted = None
        if run is not None:
            with self._lock:
                submitted = run.task_submitted.pop(task_id, None)
        extra = {"override_context": _LoggingContext(graph=run_id, task=task_id)}
        if not self._task_based(run, task_id):
            return
        elapsed = "" if submitted is None else _format_seconds(time.perf_counter() - submitted)
        if success:
            self.logger.info("Completed [OK]%s", elapsed and f" in {elapsed}", extra=extra)
            return
        if self._first_report(run, error):
            self.logger.error(
                "Failed%s: %s",
                elapsed and f" after {elapsed}",
                _describe(error),
                exc_info=error,
                extra=extra,
            )

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
        run = self._run(run_id)
        if run is not None:
            with self._lock:
                run.node_started[(task_id, node_name)] = time.perf_counter()
        context = _LoggingContext(graph=run_id, task=task_id, node=node_name)
        _context.set(context)
        extra = {"override_context": context, "node_context": True}
        if node_kwargs:
            self.logger.debug("Started with inputs %s", _quoted(node_kwargs), extra=extra)
        else:
            self.logger.debug("Started without inputs", extra=extra)

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
        """Logs the end of a node with its duration; a failure is ``ERROR`` with traceback."""
        run = self._run(run_id)
        started = None
        if run is not None:
            with self._lock:
                started = run.node_started.pop((task_id, node_name), None)
        _context.set(_LoggingContext(graph=run_id, task=task_id))
        extra = {
            "override_context": _LoggingContext(graph=run_id, task=task_id, node=node_name),
            "node_context": True,
        }
        elapsed = "" if started is None else _format_seconds(time.perf_counter() - started)
        if success:
            log = self.logger.debug if self._task_based(run, task_id) else self.logger.info
            log("Finished [OK]%s", elapsed and f" in {elapsed}", extra=extra)
            return
        self.logger.error(
            "Failed%s: %s",
            elapsed and f" after {elapsed}",
            _describe(error),
            exc_info=error if self._first_report(run, error) else None,
            extra=extra,
        )
