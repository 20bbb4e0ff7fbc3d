"""Running a task: the compiled steps of one group, for one or many items.

This is the only code that calls node functions, wherever the task runs (in the driver's
thread, a thread pool, another process, a Ray or Dask worker). Steps are small named tuples
and their arguments are looked up by precomputed name pairs; without lifecycle adapters the
loop does nothing else.

The loops that call a task's nodes for one item, with or without node hooks, are in
:mod:`cayley.execution.calls`; this module runs items through them, or through its own loop
when nothing observes the nodes. Tasks of fan-out items under ``post_item_timings``
adapters are timed by :mod:`cayley.execution.timing`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from cayley._compat import add_note
from cayley.execution.calls import note_node_error, run_hooked, run_plain
from cayley.execution.timing import ItemClock, run_items_timed
from cayley.lifecycle.base import ItemTimings, LifecycleAdapterSet, call_hooks
from cayley.node import Node

if TYPE_CHECKING:
    from cayley.function_modifiers.retry import RetryingCall

__all__ = [
    "Step",
    "Task",
    "TaskLabel",
    "TaskTemplate",
    "execute_task",
]


class Step(NamedTuple):
    """One node of a task template, compiled: what to call with which values.

    ``fn`` is what the plain loop calls (for a ``@retry`` node, the retrying call itself);
    ``retry`` is that ``RetryingCall`` when the node retries, so the loops with hooks can run
    each attempt through them.
    """

    name: str
    fn: Callable[..., Any]
    args: tuple[tuple[str, str], ...]  # (parameter, name of the value passed)
    drop: tuple[str, ...]  # values no longer needed once this step ran
    node: Node
    retry: RetryingCall | None = None


class TaskLabel(NamedTuple):
    """Who a task (one item of it) is, for hooks and error messages."""

    task_id: str
    spawning_task_id: str | None = None
    item: str | None = None  # "item 3 of 'urls'"
    item_index: int | None = None
    expander: str | None = None

    def hook_kwargs(self) -> dict[str, Any]:
        """The keyword arguments task hooks receive about the task's identity."""
        return {
            "task_id": self.task_id,
            "spawning_task_id": self.spawning_task_id,
            "item_index": self.item_index,
            "expander": self.expander,
        }


@dataclass(eq=False)
class TaskTemplate:
    """What every task of one group shares: its steps and what it hands back.

    ``calls`` holds the same steps as exact tuples ``(name, fn, args, drop, node)``, for the
    loops that run them (CPython unpacks an exact tuple several times faster than a named
    tuple); ``retries`` maps the names of ``@retry`` steps to their ``RetryingCall``.
    """

    base_id: str
    steps: tuple[Step, ...]
    exports: tuple[str, ...]
    expanders: frozenset[str]
    purpose: Any
    nodes: tuple[Node, ...]
    public_nodes: tuple[Any, ...] = ()
    calls: tuple[tuple[Any, ...], ...] = field(init=False, default=())
    retries: dict[str, RetryingCall] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.calls = tuple(tuple(step[:5]) for step in self.steps)
        self.retries = {step.name: step.retry for step in self.steps if step.retry is not None}


@dataclass(eq=False)
class Task:
    """Work for an executor: one group's steps for one or more items.

    ``inputs`` holds, per item, the values the steps need from outside the group;
    ``labels`` holds, per item, a :class:`TaskLabel`; it is only filled in when hooks need
    task ids. :meth:`run` returns, per item, the exported values in ``template.exports``
    order.

    What running it tells the scheduler, wherever it ran: ``elapsed`` (seconds spent in the
    steps), ``failed_item`` (the position in ``inputs`` of the item whose error the task
    raised) and ``reports`` (what worker copies of the adapters collected, in the order of
    ``LifecycleAdapterSet.collect_worker_report``; set by executors running tasks on copies).
    """

    template: TaskTemplate
    inputs: list[dict[str, Any]]
    labels: list[TaskLabel] | None
    run_id: str
    adapters: LifecycleAdapterSet | None = None
    materialize_expanders: bool = False
    elapsed: float = 0.0
    failed_item: int | None = None
    reports: tuple[Any, ...] | None = None

    @property
    def task_id(self) -> str:
        """The id of the first item's task (the only one when the task is not batched)."""
        return self.labels[0].task_id if self.labels else self.template.base_id

    def run(self) -> list[tuple[Any, ...]]:
        """Runs every item; raises the first node error with the node and item in a note."""
        return execute_task(self)


def _materialize_expanders(
    template: TaskTemplate, values: dict[str, Any], label: str | None
) -> None:
    """Drains expander generators into lists (their items must travel back to the driver)."""
    for step in template.steps:
        name, node = step.name, step.node
        if name not in template.expanders:
            continue
        try:
            values[name] = list(values[name])
        except TypeError as exc:
            note_node_error(exc, node, label)
            add_note(
                exc,
                f"node {name!r} is annotated Parallelizable[...] but returned "
                f"{type(values[name]).__name__}, which is not iterable",
            )
            raise
        except Exception as exc:
            note_node_error(exc, node, label)
            raise


def _run_items(task: Task) -> list[tuple[Any, ...]]:
    """The hot loop: every item through every step, no adapters."""
    steps = task.template.calls
    exports = task.template.exports
    results: list[tuple[Any, ...]] = []
    append = results.append
    index = 0
    node = None
    try:
        for values in task.inputs:
            for name, fn, args, drop, node in steps:  # noqa: B007 - node is read on failure
                kwargs = {}
                for param, source in args:
                    kwargs[param] = values[source]
                values[name] = fn(**kwargs)
                for key in drop:
                    del values[key]
            append(tuple([values[name] for name in exports]))
            index += 1
    except Exception as exc:
        if node is not None:
            labels = task.labels
            note_node_error(exc, node, labels[index].item if labels else None)
        task.failed_item = index
        raise
    return results


def execute_task(task: Task) -> list[tuple[Any, ...]]:
    """Runs ``task`` and returns the exported values of each item."""
    started = time.perf_counter()
    adapters = task.adapters
    labels = task.labels
    if adapters is None:
        results = _run_each(task, None) if task.materialize_expanders else _run_items(task)
    elif adapters.item_adapters is not None and labels and labels[0].item_index is not None:
        results = _run_timed(task, adapters)
    elif (
        adapters.has_node_hooks
        or adapters.pre_task_execute
        or adapters.post_task_execute
        or task.materialize_expanders
    ):
        results = _run_each(task, adapters)
    else:
        results = _run_items(task)
    task.elapsed = time.perf_counter() - started
    return results


def _run_timed(task: Task, adapters: LifecycleAdapterSet) -> list[tuple[Any, ...]]:
    """A task of fan-out items under ``post_item_timings`` adapters: its node calls are
    timed and handed to them once, whether the task succeeds or fails."""
    view = adapters.item_adapters
    assert view is not None
    timings = ItemTimings()
    try:
        if (
            view.has_node_hooks
            or view.pre_task_execute
            or view.post_task_execute
            or task.materialize_expanders
            or task.template.retries
        ):
            clock = ItemClock(timings)
            hooked = view.with_innermost_node_hooks(
                clock.pre, clock.post, clock.before, clock.after
            )
            results = _run_each(task, hooked)
        else:
            results = run_items_timed(task, timings)
    except Exception:
        call_hooks(adapters.post_item_timings, run_id=task.run_id, timings=timings)
        raise
    call_hooks(adapters.post_item_timings, run_id=task.run_id, timings=timings)
    return results


def _run_each(task: Task, adapters: LifecycleAdapterSet | None) -> list[tuple[Any, ...]]:
    """Items one by one, with their task hooks and node hooks, and expanders drained."""
    template = task.template
    steps = template.calls
    exports = template.exports
    labels = task.labels
    node_hooks = adapters is not None and adapters.has_node_hooks
    task_hooks = adapters is not None and bool(
        adapters.pre_task_execute or adapters.post_task_execute
    )
    results = []
    for index, values in enumerate(task.inputs):
        label = labels[index] if labels else TaskLabel(template.base_id)
        task_id = label.task_id if labels else None
        if task_hooks:
            assert adapters is not None
            call_hooks(
                adapters.pre_task_execute,
                run_id=task.run_id,
                nodes=list(template.public_nodes),
                inputs=dict(values),
                overrides={},
                purpose=template.purpose,
                **label.hook_kwargs(),
            )
        try:
            if node_hooks:
                assert adapters is not None
                retries = template.retries
                run_hooked(steps, retries, values, adapters, task.run_id, task_id, label.item)
            else:
                run_plain(steps, values, label.item)
            if task.materialize_expanders:
                _materialize_expanders(template, values, label.item)
        except Exception as exc:
            task.failed_item = index
            if task_hooks:
                assert adapters is not None
                call_hooks(
                    adapters.post_task_execute,
                    run_id=task.run_id,
                    nodes=list(template.public_nodes),
                    results=None,
                    success=False,
                    error=exc,
                    purpose=template.purpose,
                    **label.hook_kwargs(),
                )
            raise
        row = tuple([values[name] for name in exports])
        if task_hooks:
            assert adapters is not None
            call_hooks(
                adapters.post_task_execute,
                run_id=task.run_id,
                nodes=list(template.public_nodes),
                results=dict(zip(exports, row)),
                success=True,
                error=None,
                purpose=template.purpose,
                **label.hook_kwargs(),
            )
        results.append(row)
    return results
