"""The writer's bookkeeping: recorded events folded into the rows of the run store.

:class:`RunBook` keeps the state of every run in progress (nodes, fan-out items, timeline
spans, workers) and hands out, on each :meth:`RunBook.changes`, the rows that changed
since the previous call. It does no I/O: the writer stores what it returns.

Fan-outs are summarised so that the store stays small however many items run. Each node
inside a block keeps item counts, the minimum, maximum and total of the items' durations
and a histogram of them (see :mod:`cayley.tracking.state`). Only the first
``item_detail_limit`` successful and the first ``failed_item_limit`` failed items of each
node are kept one by one, and only the first ``span_limit`` tasks of a run are drawn on
its timeline; per-worker totals (calls, busy time) count every call.

Item calls are folded in bulk (see :mod:`cayley.tracking.calls`): the calls of one node
recorded since the last fold are counted and timed with list operations, and only the few
that are kept one by one, drawn on the timeline or failed are looked at individually.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable
from itertools import compress
from typing import Any

from cayley.tracking.calls import NodeCalls, add_item_end, split_items
from cayley.tracking.events import (
    ITEM_END,
    ITEMS,
    NODE_END,
    NODE_START,
    REPORT,
    RUN_END,
    RUN_START,
    ErrorInfo,
    RunInfo,
    WorkerReport,
)
from cayley.tracking.state import (
    Changes,
    ItemsState,
    NodeState,
    RunState,
    SpanState,
    WorkerState,
    details_row,
    item_of_task,
    run_row,
)

__all__ = ["Describer", "RunBook"]

_INTERRUPTED = ErrorInfo("Interrupted", "the run ended while this node was running", "")

#: Describes a graph for a run: (graph, execution path, outputs) -> GraphDescription.
Describer = Callable[[Any, list[str], list[str]], Any]


class RunBook:
    """Folds events into per-run state; hands out changed rows.

    Args:
        host: the driver's host name (workers on it are named without it).
        pid: the driver's process id.
        describe: describes a run's graph (see :data:`Describer`).
        item_detail_limit: successful items kept one by one, per node.
        failed_item_limit: failed items kept one by one, per node.
        span_limit: timeline spans kept per run.
    """

    def __init__(
        self,
        host: str,
        pid: int,
        describe: Describer,
        *,
        item_detail_limit: int,
        failed_item_limit: int,
        span_limit: int,
    ) -> None:
        self.host = host
        self.pid = pid
        self.describe = describe
        self.item_detail_limit = item_detail_limit
        self.failed_item_limit = failed_item_limit
        self.span_limit = span_limit
        self.runs: dict[str, RunState] = {}
        self._graphs: list[tuple[str, str]] = []
        self._workers: dict[threading.Thread | str, str] = {}

    @property
    def active(self) -> bool:
        """Whether any run is in progress (or finished but not yet handed out)."""
        return bool(self.runs)

    # ---- events ---------------------------------------------------------------------------
    def apply_all(self, events: list[tuple[Any, ...]]) -> None:
        """Folds events in, in order; item calls are grouped by node and folded in bulk.

        Item calls of different nodes do not depend on each other; only their order
        relative to the other events matters, so groups are folded before any other event.
        """
        groups: dict[tuple[str, str], NodeCalls] = {}
        workers = self._workers
        for event in events:
            kind = event[0]
            if kind == ITEM_END:
                _, run_id, name, task_id, started, ended, thread, error = event
                calls = groups.get((run_id, name))
                if calls is None:
                    calls = groups[run_id, name] = NodeCalls()
                worker = workers.get(thread) or self._worker(thread)
                add_item_end(calls, task_id, started, ended, worker, error)
                continue
            if groups:
                self._fold_items(groups)
                groups = {}
            if kind == ITEMS:
                _, run_id, nodes, task_ids, started, ended, errors, thread = event
                worker = workers.get(thread) or self._worker(thread)
                split = split_items(nodes, task_ids, started, ended, errors, worker)
                self._fold_items({(run_id, name): calls for name, calls in split.items()})
            elif kind == NODE_END:
                _, run_id, name, task_id, when, thread, error = event
                worker = workers.get(thread) or self._worker(thread)
                self._node_end(run_id, name, task_id, when, worker, error)
            elif kind == NODE_START:
                _, run_id, name, task_id, when, thread = event
                worker = workers.get(thread) or self._worker(thread)
                self._node_start(run_id, name, task_id, when, worker)
            elif kind == REPORT:
                self._report(event[1])
            elif kind == RUN_START:
                _, run_id, when, info = event
                self._run_start(run_id, when, info)
            elif kind == RUN_END:
                _, run_id, when, error = event
                self._run_end(run_id, when, error)
            else:
                raise ValueError(f"Unknown tracking event kind {kind!r} in {event!r}")
        if groups:
            self._fold_items(groups)

    def _worker(self, thread: threading.Thread | str) -> str:
        """The worker label of a thread of this process; a label from a report as it is."""
        worker = thread if isinstance(thread, str) else f"{self.pid}:{thread.name}"
        self._workers[thread] = worker
        return worker

    def _report(self, report: WorkerReport) -> None:
        """A worker copy's events, their thread names turned into worker labels."""
        prefix = f"{report.pid}" if report.host == self.host else f"{report.host}:{report.pid}"
        events = []
        for event in report.events:
            kind = event[0]
            if kind == ITEM_END:
                events.append((*event[:6], f"{prefix}:{event[6]}", event[7]))
            elif kind == ITEMS:
                events.append((*event[:7], f"{prefix}:{event[7]}"))
            elif kind == NODE_START or kind == NODE_END:
                events.append((*event[:5], f"{prefix}:{event[5]}", *event[6:]))
        self.apply_all(events)

    def _run_start(self, run_id: str, when: float, info: RunInfo) -> None:
        description = self.describe(info.graph, info.execution_path, info.outputs)
        self._graphs.append((description.graph_id, description.text))
        run = RunState(
            run_id, info, when, description.graph_id, description.blocks, description.collectors
        )
        run.heartbeat = when
        self.runs[run_id] = run

    def _run_end(self, run_id: str, when: float, error: ErrorInfo | None) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        run.ended = when
        run.status = "failed" if error is not None else "success"
        run.error = error
        run.dirty_run = True
        for node in run.nodes.values():
            items = node.items
            if items is None:
                status = {"running": "failed", "pending": "skipped"}.get(node.status, node.status)
            elif items.failed:
                status = "failed"
            elif items.call_started is not None:  # an item without a task id
                status = "failed"
            elif items.done or error is None:
                status = "success"  # its items ran, or the fan-out had none
            else:
                status = "skipped"
            if status == "failed" and node.error is None:
                node.error = _INTERRUPTED
            if status != node.status:
                node.status = status
                run.dirty_nodes.add(node.name)
        for span in run.spans.values():
            if span.status == "running":
                span.status = "failed" if error is not None else "success"
                span.ended = span.ended or when
                run.dirty_spans[span.seq] = span

    # ---- nodes outside fan-outs (and items of drivers without dynamic execution) ----------
    def _node_start(
        self, run_id: str, name: str, task_id: str | None, when: float, worker: str
    ) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return  # a late event of a run already finished and stored
        node = run.nodes.get(name) or run.node(name)
        run.dirty_nodes.add(name)
        items = node.items
        if items is None:  # a node outside fan-outs runs once per run (per attempt)
            if node.status == "failed":  # the failed attempt runs again (@retry)
                node.retries += 1
                self._forget_failure(run, node)
            node.status = "running"
            node.started = when
            node.worker = worker
            collectors = run.collectors.get(name)
            if collectors:
                for expander in collectors:
                    self._complete_block(run, expander)
            if task_id is not None:
                self._task_span(run, name, task_id, worker, when)
            return
        # An item without a task id (a driver without dynamic execution): such items run
        # one after the other, so the node's current call is the only one.
        if None in items.failed_tasks:  # the failed attempt runs again (@retry)
            self._retried(run, node, items, None)
        items.starts += 1
        items.call_started = when
        if node.started is None:
            node.started = when
            node.status = "running"
        if run.span_count < self.span_limit:
            label = f"{name}, item {items.starts - 1} of {node.block!r}"
            self._open_span(run, (name, worker), None, label, worker, when)

    def _node_end(
        self,
        run_id: str,
        name: str,
        task_id: str | None,
        when: float,
        worker: str,
        error: ErrorInfo | None,
    ) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        node = run.nodes.get(name) or run.node(name)
        run.dirty_nodes.add(name)
        items = node.items
        if items is None:
            started = node.started if node.started is not None else when
            span = run.spans.get(task_id) if task_id is not None else None
        else:
            started = items.call_started if items.call_started is not None else when
            items.call_started = None
            span = run.spans.pop((name, worker), None)
        if span is not None:
            self._close_span(run, span, when, error)
        self._worker_calls(run, worker, [when - started], started, when)
        node.ended = when
        if items is not None:
            self._item_done(run, node, items, task_id, started, when - started, worker, error)
        else:
            node.worker = worker
            node.status = "success" if error is None else "failed"
            if error is not None:
                node.error = error
                self._note_failure(run, name, None)

    def _complete_block(self, run: RunState, expander: str) -> None:
        """A collector started: every item of the block has finished."""
        for name, block in run.blocks.items():
            if block == expander:
                node = run.node(name)
                if node.status != "failed":
                    node.status = "success"
                    run.dirty_nodes.add(name)

    # ---- items of fan-out tasks -----------------------------------------------------------
    def _fold_items(self, groups: dict[tuple[str, str], NodeCalls]) -> None:
        for (run_id, name), calls in groups.items():
            run = self.runs.get(run_id)
            if run is not None:
                self._calls_end(run, run.nodes.get(name) or run.node(name), calls)

    def _calls_end(self, run: RunState, node: NodeState, calls: NodeCalls) -> None:
        """Item calls of one node, counted and timed with list operations."""
        items = node.items
        task_ids, starts, ends, workers = calls.task_ids, calls.started, calls.ended, calls.workers
        if items is None or items.failed_tasks or calls.errors:  # fold one by one
            errors = calls.errors
            for k, (task_id, started, ended, worker) in enumerate(
                zip(task_ids, starts, ends, workers)
            ):
                if items is None:  # not a node the graph puts in a fan-out
                    self._node_start(run.run_id, node.name, task_id, started, worker)
                    self._node_end(run.run_id, node.name, task_id, ended, worker, errors.get(k))
                else:
                    self._item_end(run, node, items, task_id, started, ended, worker, errors.get(k))
            return
        count = len(task_ids)
        durations = list(map(operator.sub, ends, starts))
        first, last = min(starts), max(ends)
        if workers.count(workers[0]) == count:
            self._worker_calls(run, workers[0], durations, first, last)
        else:
            for worker, started, ended, duration in zip(workers, starts, ends, durations):
                self._worker_calls(run, worker, [duration], started, ended)
        run.dirty_nodes.add(node.name)
        items.starts += count
        if node.started is None:
            node.started = first
            if node.status == "pending":
                node.status = "running"
        node.ended = last if node.ended is None else max(node.ended, last)
        if run.span_count < self.span_limit:
            for task_id, started, ended, worker in zip(task_ids, starts, ends, workers):
                self._item_span(run, node.name, task_id, started, ended, worker, None)
        else:  # only tasks already drawn are updated
            found = list(map(run.spans.get, task_ids))
            for span, ended in compress(zip(found, ends), found):
                self._close_span(run, span, ended, None)
        keep = max(0, min(count, self.item_detail_limit - items.details))
        for k in range(keep):  # kept one by one
            self._item_done(
                run, node, items, task_ids[k], starts[k], durations[k], workers[k], None
            )
        items.done += count - keep
        items.new_durations.extend(durations[keep:])

    def _item_end(
        self,
        run: RunState,
        node: NodeState,
        items: ItemsState,
        task_id: str,
        started: float,
        ended: float,
        worker: str,
        error: ErrorInfo | None,
    ) -> None:
        """One node call of a fan-out task, folded on its own (failures and retries)."""
        duration = ended - started
        self._worker_calls(run, worker, [duration], started, ended)
        run.dirty_nodes.add(node.name)
        if task_id in items.failed_tasks:  # the failed attempt ran again (@retry)
            self._retried(run, node, items, task_id)
        items.starts += 1
        if node.started is None:
            node.started = started
            if node.status == "pending":
                node.status = "running"
        node.ended = ended if node.ended is None else max(node.ended, ended)
        self._item_span(run, node.name, task_id, started, ended, worker, error)
        self._item_done(run, node, items, task_id, started, duration, worker, error)

    def _retried(
        self, run: RunState, node: NodeState, items: ItemsState, task_id: str | None
    ) -> None:
        """An item's failed attempt runs again: it counts as retried, no longer failed."""
        del items.failed_tasks[task_id]
        items.failed -= 1
        items.retried += 1
        items.starts -= 1  # the same item, not a new one
        if not items.failed and node.status == "failed":
            node.status = "running"
            self._forget_failure(run, node)

    @staticmethod
    def _forget_failure(run: RunState, node: NodeState) -> None:
        """A failed attempt of ``node`` runs again: its error is no longer the node's."""
        node.error = node.error_item = None
        if run.error_node == node.name:
            run.error_node = run.error_item = None
            run.dirty_run = True

    def _item_span(
        self,
        run: RunState,
        name: str,
        task_id: str,
        started: float,
        ended: float,
        worker: str,
        error: ErrorInfo | None,
    ) -> None:
        span = run.spans.get(task_id)
        if span is None:
            if run.span_count >= self.span_limit:
                return
            item = item_of_task(task_id)
            label = item[1] if item else name
            span = self._open_span(run, task_id, task_id, label, worker, started)
        self._close_span(run, span, ended, error)

    def _item_done(
        self,
        run: RunState,
        node: NodeState,
        items: ItemsState,
        task_id: str | None,
        started: float,
        duration: float,
        worker: str,
        error: ErrorInfo | None,
    ) -> None:
        items.new_durations.append(duration)
        if error is None:
            items.done += 1
            if items.details < self.item_detail_limit:
                items.details += 1
                label = items.label(node.block, task_id)
                items.keep(label, run.micros(started), duration, worker, None)
            return
        items.failed += 1
        items.failed_tasks[task_id] = None
        node.status = "failed"
        label = items.label(node.block, task_id)
        if node.error is None:
            node.error, node.error_item = error, label
        self._note_failure(run, node.name, label)
        if items.failed_details < self.failed_item_limit:
            items.failed_details += 1
            items.keep(label, run.micros(started), duration, worker, error)

    # ---- shared bookkeeping ---------------------------------------------------------------
    @staticmethod
    def _worker_calls(
        run: RunState, worker: str, durations: list[float], first: float, last: float
    ) -> None:
        stats = run.workers.get(worker)
        if stats is None:
            stats = run.workers[worker] = WorkerState(first, last)
        stats.new_durations.extend(durations)
        if last > stats.last:
            stats.last = last

    def _task_span(self, run: RunState, name: str, task_id: str, worker: str, when: float) -> None:
        """Opens the span of a task outside fan-outs, or adds the node to it."""
        span = run.spans.get(task_id)
        if span is None:
            if run.span_count < self.span_limit:
                self._open_span(run, task_id, task_id, name, worker, when)
            return
        if name != span.label:
            if span.more_nodes is None:
                span.more_nodes = []
            span.more_nodes.append(name)
        span.status = "running"
        run.dirty_spans[span.seq] = span

    @staticmethod
    def _open_span(
        run: RunState, key: Any, task_id: str | None, label: str, worker: str, when: float
    ) -> SpanState:
        span = SpanState(run.span_count, task_id, label, worker, when)
        run.span_count += 1
        run.spans[key] = span
        run.dirty_spans[span.seq] = span
        return span

    @staticmethod
    def _close_span(run: RunState, span: SpanState, when: float, error: ErrorInfo | None) -> None:
        # A task stops at its first failure unless the node runs again (@retry), so the
        # latest call decides.
        span.ended = when if span.ended is None else max(span.ended, when)
        span.status = "failed" if error is not None else "success"
        run.dirty_spans[span.seq] = span

    @staticmethod
    def _note_failure(run: RunState, name: str, item: str | None) -> None:
        if run.error_node is None:
            run.error_node, run.error_item = name, item
            run.dirty_run = True

    def discard(self) -> None:
        """Forgets every run in progress (after a failure to fold their events)."""
        self.runs.clear()
        self._graphs.clear()
        self._workers.clear()

    def heartbeat(self, now: float) -> None:
        """Marks runs in progress as alive at ``now`` (stored with the next changes)."""
        for run in self.runs.values():
            if run.status == "running":
                run.heartbeat = now
                run.dirty_run = True

    # ---- rows -----------------------------------------------------------------------------
    def changes(self) -> Changes:
        """The rows changed since the previous call; finished runs are forgotten."""
        runs: list[tuple[Any, ...]] = []
        details: list[tuple[str, str, str, str]] = []
        for run in list(self.runs.values()):
            if run.dirty_run:
                runs.append(run_row(run))
                run.dirty_run = False
            if (
                run.dirty_nodes
                or run.dirty_spans
                or any(stats.new_durations for stats in run.workers.values())
            ):
                details.append(details_row(run))
            if run.status != "running":
                del self.runs[run.run_id]
        if not self.runs:
            self._workers.clear()  # the threads of finished runs may be gone
        graphs, self._graphs = self._graphs, []
        return Changes(runs, graphs, details)
