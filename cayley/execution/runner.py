"""Running a task: the compiled steps of one group, for one or many items.

This is the only code that calls node functions, wherever the task runs (in the driver's
thread, a thread pool, another process, a Ray or Dask worker). Steps are small named tuples
and their arguments are looked up by precomputed name pairs; without lifecycle adapters the
loop does nothing else.

The node lifecycle (hooks before, the call or the adapter's method, hooks after) lives in
:func:`_node_lifecycle`, :func:`_run_public_hooks` and :func:`_run_hooked`. A ``@retry``
node runs the whole lifecycle once per attempt, so hooks see every attempt; without hooks
the node's own function (a ``RetryingCall``) retries by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from cayley._compat import add_note
from cayley.lifecycle.base import (
    LifecycleAdapterSet,
    PublicNodeHooks,
    call_hooks,
    note_adapter_error,
)
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


def _origin(node: Node) -> str:
    fns = node.originating_functions
    if not fns:
        return ""
    fn = fns[0]
    return f" (function {getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)})"


def node_error_note(node: Node, label: str | None = None) -> str:
    """The note naming a failing node, its function and, inside a block, the item."""
    where = f", {label}" if label else ""
    return f"while computing node {node.name!r}{_origin(node)}{where}"


def note_node_error(exc: BaseException, node: Node, label: str | None) -> None:
    """Adds :func:`node_error_note` to ``exc``."""
    add_note(exc, node_error_note(node, label))


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


def _run_plain(steps: Sequence[tuple[Any, ...]], values: dict[str, Any], label: str | None) -> None:
    node = None
    try:
        for name, fn, args, drop, node in steps:  # noqa: B007 - node is read on failure
            kwargs = {}
            for param, source in args:
                kwargs[param] = values[source]
            values[name] = fn(**kwargs)
            for key in drop:
                del values[key]
    except Exception as exc:
        if node is not None:
            note_node_error(exc, node, label)
        raise


def _run_public_hooks(
    steps: Sequence[tuple[Any, ...]],
    values: dict[str, Any],
    hooks: PublicNodeHooks,
    run_id: str,
    task_id: str | None,
    label: str | None,
) -> None:
    """The loop with only ``NodeExecutionHook`` adapters: their methods are called directly."""
    before, after = hooks
    for name, fn, args, drop, node in steps:
        kwargs = {}
        for param, source in args:
            kwargs[param] = values[source]
        tags = node._tags
        return_type = node._type
        for hook in before:
            try:
                hook(
                    node_name=name,
                    node_tags=tags,
                    node_kwargs=kwargs,
                    node_return_type=return_type,
                    task_id=task_id,
                    run_id=run_id,
                    node_input_types=node._bare_input_types,
                )
            except BaseException as exc:
                note_adapter_error(exc, hook)
                raise
        try:
            result = fn(**kwargs)
        except Exception as exc:
            note_node_error(exc, node, label)
            for hook in after:
                hook(
                    node_name=name,
                    node_tags=tags,
                    node_kwargs=kwargs,
                    node_return_type=return_type,
                    result=None,
                    error=exc,
                    success=False,
                    task_id=task_id,
                    run_id=run_id,
                )
            raise
        for hook in after:
            try:
                hook(
                    node_name=name,
                    node_tags=tags,
                    node_kwargs=kwargs,
                    node_return_type=return_type,
                    result=result,
                    error=None,
                    success=True,
                    task_id=task_id,
                    run_id=run_id,
                )
            except BaseException as exc:
                note_adapter_error(exc, hook)
                raise
        values[name] = result
        for key in drop:
            del values[key]


def _public_retried(
    retry: RetryingCall,
    node: Node,
    kwargs: dict[str, Any],
    hooks: PublicNodeHooks,
    run_id: str,
    task_id: str | None,
    label: str | None,
) -> Any:
    """A ``@retry`` node under ``NodeExecutionHook`` adapters: every attempt goes through
    the hooks (the loop above, for this one step with the node's own function)."""
    name = node.name
    step = ((name, retry.fn, tuple((param, param) for param in kwargs), (), node),)

    def attempt(**arguments: Any) -> Any:
        scratch = dict(arguments)
        _run_public_hooks(step, scratch, hooks, run_id, task_id, label)
        return scratch[name]

    return retry.policy.run(attempt, kwargs)


def _node_lifecycle(
    node: Node,
    fn: Callable[..., Any],
    adapters: LifecycleAdapterSet,
    run_id: str,
    task_id: str | None,
    label: str | None,
) -> Callable[..., Any]:
    """One node's call with its hooks around it: pre hooks, the call (or the adapter's
    ``do_node_execute``), post hooks with the result or the error."""
    pre = adapters.pre_node_execute
    post = adapters.post_node_execute
    method = adapters.do_node_execute

    def lifecycle(**kwargs: Any) -> Any:
        for hook in pre:
            try:
                hook(run_id=run_id, node_=node, kwargs=kwargs, task_id=task_id)
            except BaseException as exc:
                note_adapter_error(exc, hook)
                raise
        try:
            if method is None:
                result = fn(**kwargs)
            else:
                result = method(run_id=run_id, node_=node, kwargs=kwargs, task_id=task_id)
        except Exception as exc:
            note_node_error(exc, node, label)
            for hook in post:
                hook(
                    run_id=run_id,
                    node_=node,
                    kwargs=kwargs,
                    success=False,
                    error=exc,
                    result=None,
                    task_id=task_id,
                )
            raise
        for hook in post:
            try:
                hook(
                    run_id=run_id,
                    node_=node,
                    kwargs=kwargs,
                    success=True,
                    error=None,
                    result=result,
                    task_id=task_id,
                )
            except BaseException as exc:
                note_adapter_error(exc, hook)
                raise
        return result

    return lifecycle


def _retried(lifecycle: Callable[..., Any], retry: RetryingCall) -> Callable[..., Any]:
    """``lifecycle`` run under the node's retry policy: hooks see every attempt."""

    def attempts(**kwargs: Any) -> Any:
        return retry.policy.run(lifecycle, kwargs)

    return attempts


def _run_hooked(
    steps: Sequence[tuple[Any, ...]],
    retries: dict[str, RetryingCall],
    values: dict[str, Any],
    adapters: LifecycleAdapterSet,
    run_id: str,
    task_id: str | None,
    label: str | None,
) -> None:
    """The loop with any lifecycle adapters: hooks through their bridges, methods honoured.

    A ``do_remote_execute`` adapter receives each node with its whole lifecycle as a
    callable, and decides where to run it.
    """
    remote = adapters.do_remote_execute
    method = adapters.do_node_execute
    if method is None and remote is None and adapters.public_node_hooks:
        hooks = adapters.public_node_hooks
        if not retries:
            _run_public_hooks(steps, values, hooks, run_id, task_id, label)
            return
        for step in steps:  # a template with @retry nodes: those go step by step
            name, _, args, drop, node = step
            if name not in retries:
                _run_public_hooks((step,), values, hooks, run_id, task_id, label)
                continue
            kwargs = {param: values[source] for param, source in args}
            values[name] = _public_retried(
                retries[name], node, kwargs, hooks, run_id, task_id, label
            )
            for key in drop:
                del values[key]
        return
    for name, fn, args, drop, node in steps:
        kwargs = {}
        for param, source in args:
            kwargs[param] = values[source]
        retry = retries.get(name) if retries else None
        if retry is None or method is not None:
            # An adapter's do_node_execute calls the node's function, which retries itself.
            lifecycle = _node_lifecycle(node, fn, adapters, run_id, task_id, label)
        else:
            lifecycle = _retried(
                _node_lifecycle(node, retry.fn, adapters, run_id, task_id, label), retry
            )
        if remote is None:
            values[name] = lifecycle(**kwargs)
        else:
            try:
                values[name] = remote(node=node, execute_lifecycle_for_node=lifecycle, **kwargs)
            except Exception as exc:
                if not any("while computing node" in n for n in getattr(exc, "__notes__", ())):
                    note_node_error(exc, node, label)
                raise
        for key in drop:
            del values[key]


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
    template = task.template
    steps = template.calls
    exports = template.exports
    adapters = task.adapters
    labels = task.labels
    node_hooks = adapters is not None and adapters.has_node_hooks
    task_hooks = adapters is not None and bool(
        adapters.pre_task_execute or adapters.post_task_execute
    )
    if not node_hooks and not task_hooks and not task.materialize_expanders:
        results = _run_items(task)
        task.elapsed = time.perf_counter() - started
        return results
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
                _run_hooked(steps, retries, values, adapters, task.run_id, task_id, label.item)
            else:
                _run_plain(steps, values, label.item)
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
    task.elapsed = time.perf_counter() - started
    return results
