"""Rich progress bars for runs, with a bar per fan-out under dynamic execution.

.. code-block:: python

    from cayley import driver
    from cayley.execution import executors
    from cayley.plugins import h_rich

    dr = (
        driver.Builder()
        .with_modules(my_dataflow)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(executors.MultiThreadingExecutor(8))
        .with_adapters(h_rich.RichProgressBar())
        .build()
    )

A run has one bar (``Running:``) counting its nodes. When the run is split into several
tasks (dynamic execution with ``Parallelizable``/``Collect``), each ``Parallelizable`` node
also gets a bar (``Collecting: <node>``) counting the items done; its total is set once the
items are all known (they are produced lazily), and grows with nested fan-outs.

rich is an optional dependency: ``pip install "cayley[rich]"``.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

try:
    from rich.progress import Progress, ProgressColumn, TaskID
except ImportError as _missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        'cayley.plugins.h_rich needs rich, which is not installed: pip install "cayley[rich]"'
    ) from _missing

from cayley.graph_types import HamiltonGraph, HamiltonNode
from cayley.lifecycle.api import (
    GraphExecutionHook,
    NodeExecutionHook,
    TaskExecutionHook,
    TaskGroupingHook,
    TaskReturnHook,
)

__all__ = ["RichProgressBar"]

_EXPAND_PREFIX = "expand-"


@dataclass
class _FanOut:
    """The bar of one ``Parallelizable`` node and what it has counted.

    An item may take several tasks (one per task template of its block); items done are
    estimated as the tasks returned divided by the templates seen, which is exact once the
    block is complete.
    """

    bar: TaskID
    items: int = 0
    expansions: int = 0
    tasks: int = 0
    templates: set[tuple[str, ...]] = field(default_factory=set)
    nodes: set[str] = field(default_factory=set)

    def add_task(self, names: tuple[str, ...]) -> None:
        """Records that one task of an item, computing ``names``, returned."""
        self.templates.add(names)
        self.nodes.update(names)
        self.tasks += 1

    def done(self) -> int:
        """Items done (estimated while the block runs)."""
        return self.tasks // max(1, len(self.templates))

    def total(self) -> int | None:
        """Items known so far; unknown until an expansion is exhausted."""
        return self.items if self.expansions else None

    def complete(self) -> bool:
        """Whether every task of every known item returned."""
        return (
            self.expansions > 0
            and bool(self.templates)
            and self.tasks >= self.items * len(self.templates)
        )


@dataclass
class _RunProgress:
    """The bars of one run."""

    main: TaskID
    path: frozenset[str]
    done: set[str] = field(default_factory=set)
    task_based: bool = False
    fan_outs: dict[str, _FanOut] = field(default_factory=dict)

    def bars(self) -> list[TaskID]:
        """Every bar of the run."""
        return [self.main, *(fan_out.bar for fan_out in self.fan_outs.values())]


class RichProgressBar(
    TaskExecutionHook, TaskGroupingHook, GraphExecutionHook, NodeExecutionHook, TaskReturnHook
):
    """Shows rich progress bars while the dataflow runs.

    Args:
        run_desc: description of the run's bar; ``"Running:"`` by default.
        collect_desc: description of the fan-out bars, followed by the name of the
            ``Parallelizable`` node; ``"Collecting:"`` by default.
        columns: the columns of the display (strings or ``rich.progress.ProgressColumn``);
            rich's default columns when not given.
        **kwargs: passed to ``rich.progress.Progress`` (``console=``, ``transient=``,
            ``refresh_per_second=``, ``disable=``, ...).

    Tasks are counted when their results reach the driver, so the bars work with every
    executor (threads, processes, clusters). Hooks may fire from worker threads: the
    adapter's state is guarded by a lock and rich's progress display is thread-safe. After
    a successful run the bars are shown complete.
    """

    def __init__(
        self,
        run_desc: str = "",
        collect_desc: str = "",
        columns: list[str | ProgressColumn] | None = None,
        **kwargs: Any,
    ) -> None:
        self.run_desc = run_desc or "Running:"
        self.collect_desc = collect_desc or "Collecting:"
        self._progress: Progress | None = Progress(*(columns or []), **kwargs)
        self._lock = threading.Lock()
        self._runs: dict[str, _RunProgress] = {}
        self._finished: list[TaskID] = []

    @property
    def progress(self) -> Progress | None:
        """The ``rich.progress.Progress`` drawing the bars (``None`` in a pickled copy)."""
        return self._progress

    def __getstate__(self) -> dict[str, Any]:
        """Pickles the descriptions only; a copy (in a worker process) draws nothing."""
        return {"run_desc": self.run_desc, "collect_desc": self.collect_desc}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restores the descriptions, without a display."""
        self.__dict__.update(state)
        self._progress = None
        self._lock = threading.Lock()
        self._runs = {}
        self._finished = []

    # ---- counting (callers hold the lock) -------------------------------------------------
    def _mark_done(self, progress: Progress, run: _RunProgress, names: Collection[str]) -> None:
        """Counts the nodes of ``names`` that the run computes and had not been counted."""
        fresh = [name for name in names if name in run.path and name not in run.done]
        if fresh:
            run.done.update(fresh)
            progress.update(run.main, completed=len(run.done))

    def _fan_out(self, progress: Progress, run: _RunProgress, expander: str) -> _FanOut:
        """The fan-out bar of ``expander``, created (with an unknown total) if needed."""
        fan_out = run.fan_outs.get(expander)
        if fan_out is None:
            description = f"{self.collect_desc} {expander}".strip()
            fan_out = _FanOut(bar=progress.add_task(description, total=None))
            run.fan_outs[expander] = fan_out
        return fan_out

    def _refresh_fan_out(self, progress: Progress, run: _RunProgress, fan_out: _FanOut) -> None:
        """Updates a fan-out bar; once all its items are done, counts its nodes in the run."""
        progress.update(fan_out.bar, completed=fan_out.done(), total=fan_out.total())
        if fan_out.complete():
            self._mark_done(progress, run, fan_out.nodes)

    def _active(self, run_id: str) -> tuple[Progress, _RunProgress] | None:
        """The display and the run's bars, if this adapter draws the run."""
        run = self._runs.get(run_id)
        if run is None or self._progress is None:
            return None
        return self._progress, run

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
        """Adds the run's bar and starts the display."""
        progress = self._progress
        if progress is None:
            return
        with self._lock:
            if not self._runs:
                for bar in self._finished:
                    progress.remove_task(bar)
                self._finished.clear()
            main = progress.add_task(self.run_desc, total=len(execution_path))
            self._runs[run_id] = _RunProgress(main=main, path=frozenset(execution_path))
            if len(self._runs) == 1:
                progress.start()

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
        """Completes the bars after a success, then stops the display (after the last run)."""
        progress = self._progress
        if progress is None:
            return
        with self._lock:
            run = self._runs.pop(run_id, None)
            if run is None:
                return
            if success:
                progress.update(run.main, completed=len(run.path))
                for fan_out in run.fan_outs.values():
                    total = max(fan_out.total() or 0, fan_out.done())
                    progress.update(fan_out.bar, completed=total, total=total)
            for bar in run.bars():
                progress.stop_task(bar)
            self._finished.extend(run.bars())
            if not self._runs:
                progress.stop()

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
        """Nothing: nodes are counted when they finish."""

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
        """Advances the run's bar by the node when the run is a single task."""
        if not success:
            return
        with self._lock:
            active = self._active(run_id)
            if active is None or active[1].task_based:
                return
            self._mark_done(active[0], active[1], (node_name,))

    # ---- TaskGroupingHook -----------------------------------------------------------------
    def run_after_task_grouping(
        self, *, run_id: str, task_ids: list[str], **future_kwargs: Any
    ) -> None:
        """Switches to counting by tasks when the run is split into several."""
        if len(task_ids) < 2:
            return
        with self._lock:
            active = self._active(run_id)
            if active is not None:
                active[1].task_based = True

    def run_after_task_expansion(
        self, *, run_id: str, task_id: str, parameters: dict[str, Any], **future_kwargs: Any
    ) -> None:
        """Adds the number of items of an exhausted ``Parallelizable`` to its bar's total."""
        expander = task_id[task_id.rfind(_EXPAND_PREFIX) + len(_EXPAND_PREFIX) :]
        with self._lock:
            active = self._active(run_id)
            if active is None:
                return
            progress, run = active
            fan_out = self._fan_out(progress, run, expander)
            fan_out.items += len(parameters)
            fan_out.expansions += 1
            self._refresh_fan_out(progress, run, fan_out)

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
        """Nothing: this runs where the task runs; tasks are counted on the driver."""

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
        """Nothing: this runs where the task runs; tasks are counted on the driver."""

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
        """Counts a finished task: an item of a fan-out, or the nodes of a single task.

        Tasks that do not say which ``Parallelizable`` they belong to (the engine labels
        tasks only under dynamic execution) count as single tasks.
        """
        if not success:
            return
        with self._lock:
            active = self._active(run_id)
            if active is None or not active[1].task_based:
                return
            progress, run = active
            names = tuple(node.name for node in nodes)
            expander = future_kwargs.get("expander")
            if expander is None:
                self._mark_done(progress, run, names)
                return
            fan_out = self._fan_out(progress, run, expander)
            fan_out.add_task(names)
            self._refresh_fan_out(progress, run, fan_out)
