"""The run tracker: a lifecycle adapter that records every run into a SQLite file.

.. code-block:: python

    from cayley import driver
    from cayley.tracking import RunTracker

    dr = driver.Builder().with_modules(my_dataflow).with_adapters(RunTracker()).build()
    dr.execute(["report"])  # recorded in .cayley/runs.db; `cayley ui` shows it

Hooks only append a tuple to a queue; a writer thread (one per tracker and process) folds
the queue into rows and stores them, so the run never waits on disk. When ``execute``
returns, the run is complete in the database.

Executors that run tasks in other processes (processes, Ray, Dask) run them with copies of
the tracker. A copy records into its own queue and hands what it recorded back to the
driver's tracker after each task (:class:`~cayley.lifecycle.base.BaseWorkerReport`), with
its host, process id and thread names, so the timeline shows which worker ran what.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import warnings
from collections import deque
from collections.abc import Collection
from typing import Any

from cayley.lifecycle.api import NodeExecutionHook
from cayley.lifecycle.base import (
    BasePostGraphExecute,
    BasePostItemTimings,
    BasePreGraphExecute,
    BaseWorkerReport,
    ItemTimings,
)
from cayley.tracking.events import (
    ITEM_END,
    ITEMS,
    NODE_END,
    NODE_START,
    REPORT,
    RUN_END,
    RUN_START,
    RunInfo,
    WorkerReport,
    error_info,
    type_name,
)

__all__ = ["RunTracker"]

_now = time.time
_thread = threading.current_thread


class RunTracker(
    BasePreGraphExecute,
    BasePostGraphExecute,
    NodeExecutionHook,
    BasePostItemTimings,
    BaseWorkerReport,
):
    """Records each run of the drivers it is added to into a SQLite run store.

    Recorded per run: id, project, start and end, status, requested outputs, input names and
    types, the graph (nodes with type, tags, documentation, source and code version; edges),
    per-node status, times, worker and error with traceback, and for nodes inside fan-outs
    item counts and per-item timings (summarised past a limit, see
    :mod:`cayley.tracking.book`). Several processes may record into one file.

    Args:
        path: the SQLite file; created with its directory if missing.
        project: a label to group and filter runs by.
        item_detail_limit: successful items per node whose timings are stored one by one.
        failed_item_limit: failed items per node stored one by one (with their tracebacks).
        span_limit: timeline spans (tasks, or node calls in runs without tasks) per run.
        flush_timeout: seconds ``execute`` waits at most for its run to be stored.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ".cayley/runs.db",
        project: str = "default",
        *,
        item_detail_limit: int = 100,
        failed_item_limit: int = 100,
        span_limit: int = 500,
        flush_timeout: float = 30.0,
    ) -> None:
        if not isinstance(project, str) or not project:
            raise ValueError(f"project must be a non-empty string, got {project!r}")
        for name, value in (
            ("item_detail_limit", item_detail_limit),
            ("failed_item_limit", failed_item_limit),
            ("span_limit", span_limit),
        ):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        self.path = os.path.abspath(os.fspath(path))
        self.project = project
        self.limits = {
            "item_detail_limit": item_detail_limit,
            "failed_item_limit": failed_item_limit,
            "span_limit": span_limit,
        }
        self.flush_timeout = flush_timeout
        self._reset()

    def _reset(self) -> None:
        self._events: deque[tuple[Any, ...]] = deque()
        self._emit = self._events.append
        self._item_starts: dict[threading.Thread, float] = {}
        self._writer: Any = None
        self._writer_pid = 0
        self._writer_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RunTracker(path={self.path!r}, project={self.project!r})"

    # ---- pickling: copies sent to workers record into their own queue ----------------------
    def __getstate__(self) -> dict[str, Any]:
        """The settings only: a copy starts with an empty queue and no writer."""
        return {
            "path": self.path,
            "project": self.project,
            "limits": self.limits,
            "flush_timeout": self.flush_timeout,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuilds a tracker with the settings of the pickled one."""
        self.path = state["path"]
        self.project = state["project"]
        self.limits = state["limits"]
        self.flush_timeout = state["flush_timeout"]
        self._reset()

    # ---- the writer ----------------------------------------------------------------------
    def _writer_for_process(self) -> Any:
        """This process's writer (created, not started, on first use in a process)."""
        pid = os.getpid()
        writer = self._writer
        if writer is None or self._writer_pid != pid:
            with self._writer_lock:
                if self._writer is None or self._writer_pid != pid:
                    from cayley.tracking.describe import describe_graph
                    from cayley.tracking.writer import Writer

                    if self._writer_pid != pid:  # a forked copy: the queue is the parent's
                        self._events = deque()
                        self._emit = self._events.append
                    self._writer = Writer(self.path, self._events, describe_graph, **self.limits)
                    self._writer_pid = pid
            writer = self._writer
        return writer

    def flush(self) -> None:
        """Stores everything recorded so far; warns if the store cannot be written."""
        if self._writer is not None and self._writer_pid == os.getpid():
            self._warn_on(self._writer.flush(self.flush_timeout))

    def close(self) -> None:
        """Stores what is left and stops the writer thread (a later run starts it again)."""
        if self._writer is not None and self._writer_pid == os.getpid():
            self._warn_on(self._writer.stop(self.flush_timeout))

    def _warn_on(self, error: BaseException | None) -> None:
        if error is not None:
            warnings.warn(
                f"RunTracker could not store runs in {self.path}: {error}",
                RuntimeWarning,
                stacklevel=3,
            )

    # ---- graph hooks -----------------------------------------------------------------------
    def pre_graph_execute(
        self,
        *,
        run_id: str,
        graph: Any,
        final_vars: list[str],
        inputs: dict,
        overrides: dict,
        execution_path: Collection[str] | None = None,
        **future_kwargs: Any,
    ) -> None:
        """Records the start of a run."""
        writer = self._writer_for_process()
        info = RunInfo(
            project=self.project,
            graph=graph,
            outputs=list(final_vars),
            inputs={name: type_name(value) for name, value in (inputs or {}).items()},
            overrides=list(overrides or ()),
            execution_path=list(execution_path or ()),
            host=socket.gethostname(),
            pid=os.getpid(),
        )
        self._emit((RUN_START, run_id, _now(), info))
        writer.ensure_running()  # after recording: a writer about to stop sees the event

    def post_graph_execute(
        self,
        *,
        run_id: str,
        graph: Any,
        success: bool,
        error: BaseException | None,
        results: Any,
        **future_kwargs: Any,
    ) -> None:
        """Records the end of a run and waits until the run is stored."""
        self._emit((RUN_END, run_id, _now(), error_info(error) if error is not None else None))
        self.flush()

    # ---- node hooks ----------------------------------------------------------------------
    # Nodes outside fan-outs are recorded with two events, so that a node that takes long
    # shows as running. The engine hands the calls of fan-out items over in bulk, once per
    # task run (post_item_timings); called directly for an item (a task whose id starts with
    # "expand-"), the node hooks record it with one event when it ends, its start kept per
    # thread meanwhile.
    def run_before_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_kwargs: dict[str, Any],
        node_return_type: type,
        task_id: str | None,
        run_id: str,
        node_input_types: dict[str, Any] | None = None,
        **future_kwargs: Any,
    ) -> None:
        """Records that a node (or one item of it) started."""
        if task_id is not None and task_id.startswith("expand-"):
            self._item_starts[_thread()] = _now()
        else:
            self._emit((NODE_START, run_id, node_name, task_id, _now(), _thread()))

    def run_after_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_kwargs: dict[str, Any],
        node_return_type: type,
        result: Any,
        error: BaseException | None,
        success: bool,
        task_id: str | None,
        run_id: str,
        **future_kwargs: Any,
    ) -> None:
        """Records that a node (or one item of it) ended, with its error if it failed."""
        now = _now()
        thread = _thread()
        info = None if error is None else error_info(error)
        if task_id is not None and task_id.startswith("expand-"):
            started = self._item_starts.pop(thread, now)
            self._emit((ITEM_END, run_id, node_name, task_id, started, now, thread, info))
        else:
            self._emit((NODE_END, run_id, node_name, task_id, now, thread, info))

    def post_item_timings(self, *, run_id: str, timings: ItemTimings, **future_kwargs: Any) -> None:
        """Records the node calls of a task of fan-out items (one event for all of them)."""
        errors = timings.errors
        infos = {k: error_info(error) for k, error in errors.items()} if errors else None
        self._emit(
            (
                ITEMS,
                run_id,
                timings.nodes,
                timings.task_ids,
                timings.started,
                timings.ended,
                infos,
                _thread(),
            )
        )

    # ---- worker copies ---------------------------------------------------------------------
    def collect_worker_report(self) -> WorkerReport | None:
        """On a worker: what this copy recorded since the last report, or None."""
        events = self._events
        if not events:
            return None
        taken = []
        pop = events.popleft
        while events:
            event = pop()
            kind = event[0]
            if kind == ITEMS:  # threads do not pickle: send their names
                event = (*event[:7], event[7].name)
            elif kind == ITEM_END:
                event = (*event[:6], event[6].name, event[7])
            elif kind == NODE_START or kind == NODE_END:
                event = (*event[:5], event[5].name, *event[6:])
            taken.append(event)
        return WorkerReport(socket.gethostname(), os.getpid(), taken)

    def receive_worker_report(self, *, report: Any) -> None:
        """On the driver: queues what a worker copy recorded, to be stored with the run."""
        if not isinstance(report, WorkerReport):
            raise TypeError(
                f"RunTracker.receive_worker_report expects a WorkerReport from a RunTracker "
                f"copy, got {type(report).__name__}"
            )
        self._emit((REPORT, report))
