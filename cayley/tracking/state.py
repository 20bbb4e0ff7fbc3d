"""The state the run book keeps per run, node, span and worker, and the rows it becomes.

A run is stored as two rows: its ``runs`` row (status, times, error) and its ``details``
row, which holds the run's nodes, timeline spans and workers as JSON documents (see
:mod:`cayley.tracking.schema`). One document per run rather than one row per node keeps a
flush cheap however large the graph. Times in the documents are whole microseconds since
the run started.

Item durations are kept per node as a list of the ones not yet summarised; a summary
(counts, total, minimum, maximum and a histogram whose bucket ``k`` counts durations in
``[2**k, 2**(k+1))`` microseconds, bucket 0 everything under 2 µs) is updated from the list
in bulk when the node's document is built.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cayley.tracking.events import ErrorInfo, RunInfo

__all__ = [
    "HISTOGRAM_BUCKETS",
    "Changes",
    "ItemsState",
    "NodeState",
    "RunState",
    "SpanState",
    "WorkerState",
    "details_row",
    "error_doc",
    "item_of_task",
    "run_row",
]

HISTOGRAM_BUCKETS = 40
#: Upper edges of the histogram buckets, in seconds: 2 µs, 4 µs, 8 µs, ...
_EDGES = [2.0 ** (k + 1) * 1e-6 for k in range(HISTOGRAM_BUCKETS - 1)]
_TASK_ITEM = re.compile(r"expand-(.+?)\.(\d+)\.")


def item_of_task(task_id: str | None) -> tuple[int, str] | None:
    """The innermost item index of a task id and a label naming every enclosing item.

    ``expand-urls.3.expand-pages.0.block-pages`` is item 0 of ``pages`` in item 3 of
    ``urls``; ids of tasks outside fan-outs give ``None``.
    """
    if not task_id:
        return None
    position = 0
    path = []
    while True:
        match = _TASK_ITEM.match(task_id, position)
        if match is None:
            break
        path.append((match.group(1), int(match.group(2))))
        position = match.end()
    if not path:
        return None
    label = " in ".join(f"item {index} of {expander!r}" for expander, index in reversed(path))
    return path[-1][1], label


class Changes(NamedTuple):
    """Rows to store: ``runs`` rows, new ``graphs`` and ``details`` rows."""

    runs: list[tuple[Any, ...]]
    graphs: list[tuple[str, str]]
    details: list[tuple[str, str, str, str]]

    def has_rows(self) -> bool:
        """Whether anything is to be stored."""
        return bool(self.runs or self.graphs or self.details)


@dataclass(slots=True)
class ItemsState:
    """What a node inside a fan-out has done over its items."""

    call_started: float | None = None  # the call in progress of an item without a task id
    starts: int = 0
    done: int = 0
    failed: int = 0
    retried: int = 0  # failed attempts that ran again (``@retry``)
    failed_tasks: dict[str | None, None] = field(default_factory=dict)  # may run again
    new_durations: list[float] = field(default_factory=list)  # not summarised yet
    total_s: float = 0.0
    min_s: float = math.inf
    max_s: float = 0.0
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BUCKETS)
    details: int = 0
    failed_details: int = 0
    #: items kept one by one: [label, start µs, duration µs, worker, error text or None]
    kept: list[list[Any]] = field(default_factory=list)

    def label(self, block: str | None, task_id: str | None) -> str:
        """``item 3 of 'urls'`` (with enclosing items) from the item's task id; items
        without task ids (drivers without dynamic execution) are counted instead."""
        item = item_of_task(task_id)
        if item is not None:
            return item[1]
        return f"item {self.done + self.failed - 1} of {block!r}"

    def keep(
        self,
        label: str,
        started_us: int | None,
        duration: float,
        worker: str,
        error: ErrorInfo | None,
    ) -> None:
        """Keeps one item's call one by one (see :attr:`kept`)."""
        text = None if error is None else error.traceback or f"{error.type}: {error.message}"
        self.kept.append([label, started_us, round(duration * 1e6), worker, text])

    def summary(self, running: bool) -> dict[str, Any]:
        """Folds the new durations in; returns counts and the duration summary."""
        new = self.new_durations
        if new:
            new.sort()  # then each bucket's count is a difference of two positions
            self.total_s += math.fsum(new)
            self.min_s = min(self.min_s, new[0])
            self.max_s = max(self.max_s, new[-1])
            histogram = self.histogram
            below = 0
            for bucket, edge in enumerate(_EDGES):
                upto = bisect.bisect_right(new, edge, below)
                histogram[bucket] += upto - below
                below = upto
                if below == len(new):
                    break
            histogram[-1] += len(new) - below
            new.clear()
        used = max((i for i, count in enumerate(self.histogram) if count), default=-1)
        finished = self.done + self.failed
        return {
            "total": self.starts,
            "done": self.done,
            "failed": self.failed,
            "retried": self.retried,
            "running": max(0, self.starts - finished) if running else 0,
            "sum_s": self.total_s,
            "min_s": self.min_s if finished else None,
            "max_s": self.max_s if finished else None,
            "histogram": self.histogram[: used + 1],
        }


@dataclass(slots=True)
class NodeState:
    """A node of a run; ``items`` is set for nodes inside fan-outs."""

    name: str
    block: str | None
    items: ItemsState | None
    status: str = "pending"
    started: float | None = None
    ended: float | None = None
    worker: str | None = None
    error: ErrorInfo | None = None
    error_item: str | None = None
    retries: int = 0  # failed attempts of a node outside fan-outs that ran again


@dataclass(slots=True)
class SpanState:
    """A bar of the timeline: a task (or a node call outside tasks) on one worker."""

    seq: int
    task_id: str | None
    label: str
    worker: str
    started: float
    ended: float | None = None
    status: str = "running"
    more_nodes: list[str] | None = None  # further nodes of a task outside fan-outs

    def full_label(self) -> str:
        """The label, with the further nodes of the task (the first few named)."""
        more = self.more_nodes
        if not more:
            return self.label
        names = [self.label, *more[:4]]
        extra = f" and {len(more) - 4} more" if len(more) > 4 else ""
        return ", ".join(names) + extra


@dataclass(slots=True)
class WorkerState:
    """Totals of one worker: calls and busy time (new durations summed in bulk)."""

    first: float
    last: float
    calls: int = 0
    busy: float = 0.0
    new_durations: list[float] = field(default_factory=list)


@dataclass(slots=True)
class RunState:
    """A run in progress: its nodes, spans, workers and what changed since the last rows.

    Nodes get a state once something happens to them; a node without one is pending (or,
    once the run has ended, skipped). ``blocks`` maps each node inside a fan-out to the
    innermost expander of its block.
    """

    run_id: str
    info: RunInfo
    started: float
    graph_id: str
    blocks: dict[str, str]
    collectors: dict[str, list[str]]
    nodes: dict[str, NodeState] = field(default_factory=dict)
    status: str = "running"
    ended: float | None = None
    error: ErrorInfo | None = None
    error_node: str | None = None
    error_item: str | None = None
    heartbeat: float = 0.0
    spans: dict[Any, SpanState] = field(default_factory=dict)  # task id (or open call) -> span
    span_count: int = 0
    workers: dict[str, WorkerState] = field(default_factory=dict)
    dirty_run: bool = True
    dirty_nodes: set[str] = field(default_factory=set)
    dirty_spans: dict[int, SpanState] = field(default_factory=dict)
    node_docs: dict[str, list[Any]] = field(default_factory=dict)
    span_docs: list[list[Any]] = field(default_factory=list)
    worker_docs: dict[str, list[Any]] = field(default_factory=dict)

    def node(self, name: str) -> NodeState:
        """The state of node ``name``, created on first use."""
        node = self.nodes.get(name)
        if node is None:
            block = self.blocks.get(name)
            node = NodeState(name, block, ItemsState() if block is not None else None)
            self.nodes[name] = node
        return node

    def micros(self, when: float | None) -> int | None:
        """``when`` as whole microseconds since the run started."""
        return None if when is None else round((when - self.started) * 1e6)


def error_doc(error: ErrorInfo, item: str | None = None) -> dict[str, Any]:
    """An error as stored: type, message, traceback and (inside a fan-out) the item."""
    return {
        "type": error.type,
        "message": error.message,
        "traceback": error.traceback,
        "item": item,
    }


def run_row(run: RunState) -> tuple[Any, ...]:
    """The ``runs`` row of a run."""
    info = run.info
    error = None
    if run.error is not None:
        error = json.dumps({**error_doc(run.error, run.error_item), "node": run.error_node})
    return (
        run.run_id,
        info.project,
        run.status,
        run.started,
        run.ended,
        json.dumps(info.outputs),
        json.dumps(info.inputs),
        json.dumps(info.overrides),
        run.graph_id,
        info.host,
        info.pid,
        error,
        run.heartbeat,
    )


def _node_doc(run: RunState, node: NodeState, running: bool) -> list[Any]:
    """[status, start µs, end µs, worker, extra]; extra holds items and the error, or None."""
    extra: dict[str, Any] | None = None
    if node.items is not None:
        extra = {"items": node.items.summary(running), "kept": node.items.kept}
    if node.error is not None:
        extra = extra or {}
        extra["error"] = error_doc(node.error, node.error_item)
    if node.retries:
        extra = extra or {}
        extra["retries"] = node.retries
    return [node.status, run.micros(node.started), run.micros(node.ended), node.worker, extra]


def details_row(run: RunState) -> tuple[str, str, str, str]:
    """The ``details`` row of a run: its nodes, spans and workers as JSON documents."""
    running = run.status == "running"
    for name in run.dirty_nodes:
        run.node_docs[name] = _node_doc(run, run.nodes[name], running)
    run.dirty_nodes.clear()
    docs = run.span_docs
    micros = run.micros
    for seq, span in sorted(run.dirty_spans.items()):
        doc = [
            span.task_id,
            span.full_label(),
            span.worker,
            micros(span.started),
            micros(span.ended),
            span.status,
        ]
        if seq == len(docs):
            docs.append(doc)
        else:
            docs[seq] = doc
    run.dirty_spans.clear()
    for worker, stats in run.workers.items():
        new = stats.new_durations
        if new:
            stats.calls += len(new)
            stats.busy += math.fsum(new)
            new.clear()
            run.worker_docs[worker] = [
                stats.calls,
                round(stats.busy * 1e6),
                micros(stats.first),
                micros(stats.last),
            ]
    return (
        run.run_id,
        json.dumps(run.node_docs),
        json.dumps(docs),
        json.dumps(run.worker_docs),
    )
