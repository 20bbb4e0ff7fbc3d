"""Timing the node calls of fan-out items for ``post_item_timings`` adapters.

An adapter implementing :class:`~cayley.lifecycle.base.BasePostItemTimings` is told about
the node calls of a task of fan-out items once per task run, in an
:class:`~cayley.lifecycle.base.ItemTimings`, instead of through its node hooks. The runner
fills that record in one of two ways:

- :func:`run_items_timed`, a copy of the runner's plain loop that reads the clock around
  each call, when nothing else happens around node calls (no other node hooks, no task
  hooks, no ``@retry`` node, no adapter method: the common case of a run tracker alone);
- otherwise :class:`ItemClock`'s hooks, added as the innermost node hooks of the other
  adapters, so that retried attempts, adapter methods and other hooks work as usual.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from cayley.execution.calls import note_node_error
from cayley.lifecycle.base import ItemTimings

if TYPE_CHECKING:
    from cayley.execution.runner import Task

__all__ = ["ItemClock", "run_items_timed"]

_now = time.time


def run_items_timed(task: Task, timings: ItemTimings) -> list[tuple[Any, ...]]:
    """Every item of ``task`` (labelled) through every step, each call timed into
    ``timings``; on an error, the failing call is recorded with it before it propagates."""
    steps = task.template.calls
    exports = task.template.exports
    labels = task.labels
    assert labels is not None
    add_node = timings.nodes.append
    add_task = timings.task_ids.append
    add_start = timings.started.append
    add_end = timings.ended.append
    results: list[tuple[Any, ...]] = []
    append = results.append
    index = 0
    node = None
    try:
        for values in task.inputs:
            task_id = labels[index].task_id
            for name, fn, args, drop, node in steps:  # noqa: B007 - node is read on failure
                kwargs = {}
                for param, source in args:
                    kwargs[param] = values[source]
                started = _now()
                try:
                    values[name] = fn(**kwargs)
                except Exception as exc:
                    timings.errors[len(timings.nodes)] = exc
                    raise
                finally:
                    add_end(_now())
                    add_node(name)
                    add_task(task_id)
                    add_start(started)
                for key in drop:
                    del values[key]
            append(tuple([values[name] for name in exports]))
            index += 1
    except Exception as exc:
        if node is not None:
            note_node_error(exc, node, labels[index].item)
        task.failed_item = index
        raise
    return results


class ItemClock:
    """Node hooks that record each call into ``timings``: :meth:`pre` and :meth:`post`
    with the signatures of ``pre/post_node_execute``, :meth:`before` and :meth:`after`
    with those of ``NodeExecutionHook``. Calls of one task run one after the other."""

    __slots__ = ("timings", "started")

    def __init__(self, timings: ItemTimings) -> None:
        self.timings = timings
        self.started = 0.0

    def pre(self, **_: Any) -> None:
        """Before a call: reads the clock."""
        self.started = _now()

    def post(self, *, node_: Any, error: BaseException | None, task_id: str, **_: Any) -> None:
        """After a call: records it."""
        self.record(node_.name, task_id, error)

    before = pre

    def after(self, *, node_name: str, error: BaseException | None, task_id: str, **_: Any) -> None:
        """After a call (``NodeExecutionHook`` signature): records it."""
        self.record(node_name, task_id, error)

    def record(self, name: str, task_id: str, error: BaseException | None) -> None:
        """Adds the call that just ended."""
        timings = self.timings
        ended = _now()
        if error is not None:
            timings.errors[len(timings.nodes)] = error
        timings.nodes.append(name)
        timings.task_ids.append(task_id)
        timings.started.append(self.started)
        timings.ended.append(ended)
