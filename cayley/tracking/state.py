"""The state the run book keeps per run, node, span and worker, and the rows it becomes.

Item durations are kept per node as a list of the ones not yet summarised; a summary
(counts, total, minimum, maximum and a histogram whose bucket ``k`` counts durations in
``[2**k, 2**(k+1))`` microseconds, bucket 0 everything under 2 µs) is updated from the list
in bulk when the node's row is built.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, NamedTuple

from cayley.tracking.events import ErrorInfo, FlushRequest, RunInfo

__all__ = [
    "HISTOGRAM_BUCKETS",
    "Changes",
    "NodeState",
    "RunState",
    "SpanState",
    "WorkerState",
    "error_text",
    "item_of_task",
    "node_row",
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
    """Rows to store, one list per table (tuples in the tables' column order)."""

    runs: list[tuple[Any, ...]]
    graphs: list[tuple[str, str]]
    nodes: list[tuple[Any, ...]]
    items: list[tuple[Any, ...]]
    spans: list[tuple[Any, ...]]
    workers: list[tuple[Any, ...]]
    flushes: list[FlushRequest]

    def has_rows(self) -> bool:
        """Whether anything is to be stored."""
        return bool(
            self.runs or self.graphs or self.nodes or self.items or self.spans or self.workers
        )


@dataclass(slots=True)
class NodeState:
    """A node of a run; the item fields are used by nodes inside fan-outs only."""

    name: str
    block: str | None
    status: str
    started: float | None = None
    ended: float | None = None
    worker: str | None = None
    error: ErrorInfo | None = None
    error_item: str | None = None
    # items
    starts: int = 0
    done: int = 0
    failed: int = 0
    new_durations: list[float] = field(default_factory=list)
    total_s: float = 0.0
    min_s: float = math.inf
    max_s: float = 0.0
    histogram: list[int] | None = None
    details: int = 0
    failed_details: int = 0


@dataclass(slots=True)
class SpanState:
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
    first: float
    last: float
    calls: int = 0
    busy: float = 0.0
    new_durations: list[float] = field(default_factory=list)


@dataclass(slots=True)
class RunState:
    run_id: str
    info: RunInfo
    started: float
    graph_id: str
    nodes: dict[str, NodeState]
    collectors: dict[str, list[str]]
    status: str = "running"
    ended: float | None = None
    error: ErrorInfo | None = None
    error_node: str | None = None
    error_item: str | None = None
    heartbeat: float = 0.0
    open: dict[tuple[str, str | None, str], float] = field(default_factory=dict)
    spans: dict[Any, SpanState] = field(default_factory=dict)  # task id (or open call) -> span
    span_count: int = 0
    workers: dict[str, WorkerState] = field(default_factory=dict)
    dirty_run: bool = True
    dirty_nodes: set[str] = field(default_factory=set)
    dirty_spans: dict[int, SpanState] = field(default_factory=dict)
    new_items: list[tuple[Any, ...]] = field(default_factory=list)


def error_text(error: ErrorInfo | None) -> str | None:
    if error is None:
        return None
    return error.traceback or f"{error.type}: {error.message}"


def run_row(run: RunState) -> tuple[Any, ...]:
    info = run.info
    error = run.error
    error_text = (
        json.dumps(
            {
                "type": error.type,
                "message": error.message,
                "traceback": error.traceback,
                "node": run.error_node,
                "item": run.error_item,
            }
        )
        if error is not None
        else None
    )
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
        error_text,
        run.heartbeat,
    )


def summarise_items(node: NodeState, running: bool) -> dict[str, Any]:
    new = node.new_durations
    if new:
        node.total_s += math.fsum(new)
        node.min_s = min(node.min_s, min(new))
        node.max_s = max(node.max_s, max(new))
        if node.histogram is None:
            node.histogram = [0] * HISTOGRAM_BUCKETS
        histogram = node.histogram
        for bucket, count in Counter(map(bisect.bisect_right, repeat(_EDGES), new)).items():
            histogram[bucket] += count
        new.clear()
    histogram = node.histogram or []
    last = max((i for i, count in enumerate(histogram) if count), default=-1)
    finished = node.done + node.failed
    return {
        "total": node.starts,
        "done": node.done,
        "failed": node.failed,
        "running": max(0, node.starts - finished) if running else 0,
        "sum_s": node.total_s,
        "min_s": node.min_s if finished else None,
        "max_s": node.max_s if finished else None,
        "histogram": histogram[: last + 1],
    }


def node_row(run: RunState, node: NodeState) -> tuple[Any, ...]:
    detail: dict[str, Any] = {}
    if node.block is not None:
        detail["items"] = summarise_items(node, run.status == "running")
    error = node.error
    if error is not None:
        detail["error"] = {
            "type": error.type,
            "message": error.message,
            "traceback": error.traceback,
            "item": node.error_item,
        }
    return (
        run.run_id,
        node.name,
        node.status,
        node.started,
        node.ended,
        node.worker,
        json.dumps(detail) if detail else None,
    )
