"""The writer's bookkeeping: recorded events folded into the rows of the run store.

:class:`RunBook` keeps the state of every run in progress (nodes, fan-out items, timeline
spans, workers) and hands out, on each :meth:`RunBook.changes`, the rows that changed
since the previous call. It does no I/O: the writer thread stores what it returns.

Fan-outs are summarised so that the store stays small however many items run. Each node
inside a block keeps item counts, the minimum, maximum and total of the items' durations
and a histogram of them (see :mod:`cayley.tracking.state`). Only the first ``item_detail_limit``
successful and the first ``failed_item_limit`` failed items of each node are stored one by
one, and only the first ``span_limit`` tasks of a run are drawn on its timeline; per-worker
totals (calls, busy time) count every call.

Events of items are folded cheaply: a finished item appends its duration to its node's
list, and the lists are summarised in bulk when rows are handed out.
"""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Callable
from itertools import compress
from typing import Any

from cayley.tracking.events import (
    FLUSH,
    ITEM_END,
    NODE_END,
    NODE_START,
    REPORT,
    RUN_END,
    RUN_START,
    ErrorInfo,
    FlushRequest,
    RunInfo,
    WorkerReport,
)
from cayley.tracking.state import (
    Changes,
    NodeState,
    RunState,
    SpanState,
    WorkerState,
    error_text,
    item_of_task,
    node_row,
    run_row,
)

__all__ = ["RunBook"]

_INTERRUPTED = ErrorInfo("Interrupted", "the run ended while this node was running", "")

#: Describes a graph for a run: (graph, execution path, outputs) -> GraphDescription.
Describer = Callable[[Any, list[str], list[str]], Any]


class RunBook:
    """Folds events into per-run state; hands out changed rows.

    Args:
        host: the driver's host name (workers on it are named without it).
        pid: the driver's process id.
        describe: describes a run's graph (see :data:`Describer`).
        item_detail_limit: successful items stored one by one, per node.
        failed_item_limit: failed items stored one by one, per node.
        span_limit: timeline spans stored per run.
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
        self._flushes: list[FlushRequest] = []
        self._local_workers: dict[threading.Thread, str] = {}

    @property
    def active(self) -> bool:
        """Whether any run is in progress (or finished but not yet handed out)."""
        return bool(self.runs)

    # ---- events ---------------------------------------------------------------------------
    def apply_all(self, events: list[tuple[Any, ...]]) -> None:
        """Folds events in, in order; item events are grouped by node and folded in bulk.

        Item events of different nodes do not depend on each other; only their order
        relative to the other events matters, so groups are folded before any other event.
        """
        workers = self._local_workers
        groups: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for event in events:
            kind = event[0]
            if kind == ITEM_END:
                key = (event[1], event[2])
                group = groups.get(key)
                if group is None:
                    groups[key] = [event]
                else:
                    group.append(event)
                continue
            if groups:
                self._fold_groups(groups)
                groups = {}
            if kind == NODE_END:
                _, run_id, name, task_id, when, thread, error = event
                worker = workers.get(thread) or self._local_worker(thread)
                self._node_end(run_id, name, task_id, when, worker, error)
            elif kind == NODE_START:
                _, run_id, name, task_id, when, thread = event
                worker = workers.get(thread) or self._local_worker(thread)
                self._node_start(run_id, name, task_id, when, worker)
            else:
                self.apply(event)
        if groups:
            self._fold_groups(groups)

    def _fold_groups(self, groups: dict[tuple[str, str], list[tuple[Any, ...]]]) -> None:
        for (run_id, name), group in groups.items():
            self._items_end(run_id, name, group)

    def _items_end(self, run_id: str, name: str, events: list[tuple[Any, ...]]) -> None:
        """Item events of one node, folded with bulk operations where they allow it."""
        run = self.runs.get(run_id)
        if run is None:
            return
        node = run.nodes.get(name)
        local = self._local_worker
        if node is None or node.block is None or len(events) < 8:
            for _, _, _, task_id, started, ended, thread, error in events:
                worker = thread if isinstance(thread, str) else local(thread)
                self._item_end(run_id, name, task_id, started, ended, worker, error)
            return
        starts = [event[4] for event in events]
        ends = [event[5] for event in events]
        durations = list(map(operator.sub, ends, starts))
        threads = [event[6] for event in events]
        last = max(ends)
        if threads.count(threads[0]) == len(threads):
            first = threads[0]
            self._worker_calls(
                run, first if isinstance(first, str) else local(first), durations, starts[0], last
            )
        else:
            for thread, started, ended, duration in zip(threads, starts, ends, durations):
                worker = thread if isinstance(thread, str) else local(thread)
                self._worker_calls(run, worker, [duration], started, ended)
        run.dirty_nodes.add(name)
        node.starts += len(events)
        if node.started is None:
            node.started = starts[0]
            if node.status == "pending":
                node.status = "running"
        node.ended = last if node.ended is None else max(node.ended, last)
        task_ids = [event[3] for event in events]
        spans = run.spans
        if run.span_count < self.span_limit:
            for event in events:
                self._item_span(run, event)
        else:
            found = list(map(spans.get, task_ids))
            for _, event in compress(zip(found, events), found):
                self._item_span(run, event)
        errors = [event[7] for event in events]
        if errors.count(None) != len(errors) or node.details < self.item_detail_limit:
            for event, duration in zip(events, durations):
                _, _, _, task_id, started, _, thread, error = event
                if error is None and node.details >= self.item_detail_limit:
                    node.done += 1
                    node.new_durations.append(duration)
                    continue
                worker = thread if isinstance(thread, str) else local(thread)
                self._item_done(run, node, task_id, started, duration, worker, error)
        else:
            node.done += len(events)
            node.new_durations.extend(durations)

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

    def _item_span(self, run: RunState, event: tuple[Any, ...]) -> None:
        _, _, name, task_id, started, ended, thread, error = event
        span = run.spans.get(task_id)
        if span is None:
            if run.span_count >= self.span_limit:
                return
            item = item_of_task(task_id)
            worker = thread if isinstance(thread, str) else self._local_worker(thread)
            span = SpanState(run.span_count, task_id, item[1] if item else name, worker, started)
            run.span_count += 1
            run.spans[task_id] = span
        span.ended = ended
        if span.status != "failed":
            span.status = "failed" if error is not None else "success"
        run.dirty_spans[span.seq] = span

    def apply(self, event: tuple[Any, ...]) -> None:
        """Folds one event in."""
        kind = event[0]
        if kind == ITEM_END:
            _, run_id, name, task_id, started, ended, thread, error = event
            worker = self._local_worker(thread)
            self._item_end(run_id, name, task_id, started, ended, worker, error)
        elif kind == NODE_END:
            _, run_id, name, task_id, when, thread, error = event
            self._node_end(run_id, name, task_id, when, self._local_worker(thread), error)
        elif kind == NODE_START:
            _, run_id, name, task_id, when, thread = event
            self._node_start(run_id, name, task_id, when, self._local_worker(thread))
        elif kind == REPORT:
            self._report(event[1])
        elif kind == RUN_START:
            _, run_id, when, info = event
            self._run_start(run_id, when, info)
        elif kind == RUN_END:
            _, run_id, when, error = event
            self._run_end(run_id, when, error)
        elif kind == FLUSH:
            self._flushes.append(event[1])
        else:
            raise ValueError(f"Unknown tracking event kind {kind!r} in {event!r}")

    def _local_worker(self, thread: threading.Thread) -> str:
        worker = self._local_workers.get(thread)
        if worker is None:
            worker = f"{self.pid}:{thread.name}"
            self._local_workers[thread] = worker
        return worker

    def _report(self, report: WorkerReport) -> None:
        prefix = f"{report.pid}" if report.host == self.host else f"{report.host}:{report.pid}"
        for event in report.events:
            kind = event[0]
            if kind == ITEM_END:
                _, run_id, name, task_id, started, ended, thread_name, error = event
                worker = f"{prefix}:{thread_name}"
                self._item_end(run_id, name, task_id, started, ended, worker, error)
            elif kind == NODE_END:
                _, run_id, name, task_id, when, thread_name, error = event
                self._node_end(run_id, name, task_id, when, f"{prefix}:{thread_name}", error)
            elif kind == NODE_START:
                _, run_id, name, task_id, when, thread_name = event
                self._node_start(run_id, name, task_id, when, f"{prefix}:{thread_name}")

    def _run_start(self, run_id: str, when: float, info: RunInfo) -> None:
        description = self.describe(info.graph, info.execution_path, info.outputs)
        self._graphs.append((description.graph_id, description.text))
        nodes = {name: NodeState(name, None, "input") for name in description.inputs}
        for name in info.execution_path:
            nodes[name] = NodeState(name, description.blocks.get(name), "pending")
        run = RunState(run_id, info, when, description.graph_id, nodes, description.collectors)
        run.heartbeat = when
        run.dirty_nodes.update(nodes)
        self.runs[run_id] = run

    def _node_start(
        self, run_id: str, name: str, task_id: str | None, when: float, worker: str
    ) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return  # a late event of a run already finished and stored
        node = run.nodes.get(name)
        if node is None:
            node = run.nodes[name] = NodeState(name, None, "pending")
        run.open[(name, task_id, worker)] = when
        run.dirty_nodes.add(name)
        if node.block is not None:
            node.starts += 1
            if node.started is None:
                node.started = when
                if node.status == "pending":
                    node.status = "running"
            if task_id is None:  # an item without a task (plain driver): a span of its own
                if run.span_count < self.span_limit:
                    index = node.starts - 1  # such items run one after the other, in order
                    label = f"{name}, item {index} of {node.block!r}"
                    self._open_span(run, (name, worker), None, label, worker, when)
                return
        else:
            node.status = "running"
            node.started = when
            node.worker = worker
            for expander in run.collectors.get(name, ()):
                self._complete_block(run, expander)
            if task_id is None:
                return  # a node outside tasks: its own row is its span
        span = run.spans.get(task_id)
        if span is None:
            if run.span_count < self.span_limit:
                item = item_of_task(task_id)
                label = item[1] if item is not None else name
                self._open_span(run, task_id, task_id, label, worker, when)
        else:
            if node.block is None and name != span.label:
                if span.more_nodes is None:
                    span.more_nodes = []
                span.more_nodes.append(name)
            span.status = "running"
            run.dirty_spans[span.seq] = span

    def _open_span(
        self, run: RunState, key: Any, task_id: str | None, label: str, worker: str, when: float
    ) -> None:
        span = SpanState(run.span_count, task_id, label, worker, when)
        run.span_count += 1
        run.spans[key] = span
        run.dirty_spans[span.seq] = span

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
        node = run.nodes.get(name)
        if node is None:
            node = run.nodes[name] = NodeState(name, None, "pending")
        started = run.open.pop((name, task_id, worker), when)
        duration = when - started
        stats = run.workers.get(worker)
        if stats is None:
            stats = run.workers[worker] = WorkerState(started, when)
        stats.new_durations.append(duration)
        stats.last = when
        run.dirty_nodes.add(name)
        if run.spans:
            span = run.spans.get(task_id if task_id is not None else (name, worker))
            if span is not None:
                span.ended = when
                if span.status != "failed":
                    span.status = "failed" if error is not None else "success"
                run.dirty_spans[span.seq] = span
                if task_id is None:
                    del run.spans[(name, worker)]
        node.ended = when
        if node.block is None:
            node.worker = worker
            if error is None:
                node.status = "success"
            else:
                node.status = "failed"
                node.error = error
                self._note_failure(run, name, None)
            return
        self._item_done(run, node, task_id, started, duration, worker, error)

    def _item_end(
        self,
        run_id: str,
        name: str,
        task_id: str,
        started: float,
        ended: float,
        worker: str,
        error: ErrorInfo | None,
    ) -> None:
        """One node call of a fan-out task, recorded when it ended."""
        run = self.runs.get(run_id)
        if run is None:
            return
        node = run.nodes.get(name)
        if node is None or node.block is None:  # not a node the graph puts in a block
            self._node_start(run_id, name, task_id, started, worker)
            self._node_end(run_id, name, task_id, ended, worker, error)
            return
        duration = ended - started
        self._worker_calls(run, worker, [duration], started, ended)
        run.dirty_nodes.add(name)
        node.starts += 1
        if node.started is None:
            node.started = started
            if node.status == "pending":
                node.status = "running"
        node.ended = ended if node.ended is None else max(node.ended, ended)
        self._item_span(run, (ITEM_END, run_id, name, task_id, started, ended, worker, error))
        self._item_done(run, node, task_id, started, duration, worker, error)

    def _item_done(
        self,
        run: RunState,
        node: NodeState,
        task_id: str | None,
        started: float,
        duration: float,
        worker: str,
        error: ErrorInfo | None,
    ) -> None:
        node.new_durations.append(duration)
        if error is None:
            node.done += 1
            if node.details < self.item_detail_limit:
                node.details += 1
                self._keep_item(run, node, task_id, started, duration, worker, None)
            return
        node.failed += 1
        node.status = "failed"
        label = self._item_label(node, task_id)
        if node.error is None:
            node.error, node.error_item = error, label
        self._note_failure(run, node.name, label)
        if node.failed_details < self.failed_item_limit:
            node.failed_details += 1
            self._keep_item(run, node, task_id, started, duration, worker, error)

    @staticmethod
    def _item_label(node: NodeState, task_id: str | None) -> str:
        item = item_of_task(task_id)
        if item is not None:
            return item[1]
        return f"item {node.done + node.failed - 1} of {node.block!r}"

    def _keep_item(
        self,
        run: RunState,
        node: NodeState,
        task_id: str | None,
        started: float,
        duration: float,
        worker: str,
        error: ErrorInfo | None,
    ) -> None:
        run.new_items.append(
            (
                run.run_id,
                node.name,
                self._item_label(node, task_id),
                started,
                duration,
                worker,
                error_text(error),
            )
        )

    def _note_failure(self, run: RunState, name: str, item: str | None) -> None:
        if run.error_node is None:
            run.error_node, run.error_item = name, item
            run.dirty_run = True

    def _complete_block(self, run: RunState, expander: str) -> None:
        """A collector started: every item of the block has finished."""
        for node in run.nodes.values():
            if node.block == expander and node.status != "failed":
                node.status = "success"
                run.dirty_nodes.add(node.name)

    def _run_end(self, run_id: str, when: float, error: ErrorInfo | None) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        run.ended = when
        run.status = "failed" if error is not None else "success"
        run.error = error
        run.dirty_run = True
        running = {name for name, _, _ in run.open}
        for node in run.nodes.values():
            status = node.status
            if node.block is None:
                if status == "running":
                    status = "failed"
                    node.error = node.error or _INTERRUPTED
                elif status == "pending":
                    status = "skipped"
            elif node.failed:
                status = "failed"
            elif node.name in running:
                status = "failed"
                node.error = node.error or _INTERRUPTED
            elif node.done or error is None:
                status = "success"  # its items ran, or the fan-out had none
            else:
                status = "skipped"
            if status != node.status:
                node.status = status
                run.dirty_nodes.add(node.name)
        run.open.clear()
        for span in run.spans.values():
            if span.status == "running":
                span.status = "failed" if error is not None else "success"
                span.ended = span.ended or when
                run.dirty_spans[span.seq] = span

    def discard(self) -> list[FlushRequest]:
        """Forgets every run in progress; returns the flush requests not yet answered."""
        self.runs.clear()
        self._graphs.clear()
        self._local_workers.clear()
        flushes, self._flushes = self._flushes, []
        return flushes

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
        nodes: list[tuple[Any, ...]] = []
        items: list[tuple[Any, ...]] = []
        spans: list[tuple[Any, ...]] = []
        workers: list[tuple[Any, ...]] = []
        for run in list(self.runs.values()):
            run_id = run.run_id
            if run.dirty_run:
                runs.append(run_row(run))
                run.dirty_run = False
            for name in run.dirty_nodes:
                nodes.append(node_row(run, run.nodes[name]))
            run.dirty_nodes.clear()
            items.extend(run.new_items)
            run.new_items.clear()
            for span in run.dirty_spans.values():
                spans.append(
                    (
                        run_id,
                        span.seq,
                        span.task_id,
                        span.full_label(),
                        span.worker,
                        span.started,
                        span.ended,
                        span.status,
                    )
                )
            run.dirty_spans.clear()
            for worker, stats in run.workers.items():
                new = stats.new_durations
                if new:
                    stats.calls += len(new)
                    stats.busy += math.fsum(new)
                    new.clear()
                    workers.append(
                        (run_id, worker, stats.calls, stats.busy, stats.first, stats.last)
                    )
            if run.status != "running":
                del self.runs[run_id]
        if not self.runs:
            self._local_workers.clear()  # the threads of finished runs may be gone
        graphs, self._graphs = self._graphs, []
        flushes, self._flushes = self._flushes, []
        return Changes(runs, graphs, nodes, items, spans, workers, flushes)
