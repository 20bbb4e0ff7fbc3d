"""Node calls of fan-out items regrouped per node, for the run book to fold in bulk.

Item calls arrive two ways: as one ``ITEMS`` event per task run (columns over every node of
every item of the task), and as one ``ITEM_END`` event per call (from node hooks called
directly). Both become :class:`NodeCalls`, the calls of one node of one run as columns, so
the book counts and times them with list operations. Splitting a task's columns by node is
a matter of slices when every item ran the same nodes in the same order (no failure, no
retried attempt), the usual case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cayley.tracking.events import ErrorInfo

__all__ = ["NodeCalls", "add_item_end", "split_items"]


@dataclass(slots=True)
class NodeCalls:
    """Calls of one node: call ``k`` ran for task ``task_ids[k]`` from ``started[k]`` to
    ``ended[k]`` on worker ``workers[k]``; ``errors`` maps failed calls to their error."""

    task_ids: list[str] = field(default_factory=list)
    started: list[float] = field(default_factory=list)
    ended: list[float] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)
    errors: dict[int, ErrorInfo] = field(default_factory=dict)


def add_item_end(
    calls: NodeCalls,
    task_id: str,
    started: float,
    ended: float,
    worker: str,
    error: ErrorInfo | None,
) -> None:
    """Appends one call to ``calls``."""
    if error is not None:
        calls.errors[len(calls.task_ids)] = error
    calls.task_ids.append(task_id)
    calls.started.append(started)
    calls.ended.append(ended)
    calls.workers.append(worker)


def _period(nodes: list[str]) -> int:
    """How many calls each item made, if every item called the same nodes in the same
    order; 0 otherwise."""
    count = len(nodes)
    if not count:
        return 0
    first = nodes[0]
    try:
        period = nodes.index(first, 1)
    except ValueError:
        period = count
    if count % period or nodes != nodes[:period] * (count // period):
        return 0
    return period


def split_items(
    nodes: list[str],
    task_ids: list[str],
    started: list[float],
    ended: list[float],
    errors: dict[int, ErrorInfo] | None,
    worker: str,
) -> dict[str, NodeCalls]:
    """The columns of an ``ITEMS`` event (calls of one task run, on one worker) per node,
    in the order the nodes first ran."""
    period = _period(nodes)
    if period and not errors:
        workers = [worker] * (len(nodes) // period)
        return {
            nodes[j]: NodeCalls(
                task_ids[j::period], started[j::period], ended[j::period], workers.copy()
            )
            for j in range(period)
        }
    groups: dict[str, NodeCalls] = {}
    errors = errors or {}
    for k, name in enumerate(nodes):
        calls = groups.get(name)
        if calls is None:
            calls = groups[name] = NodeCalls()
        add_item_end(calls, task_ids[k], started[k], ended[k], worker, errors.get(k))
    return groups
