"""Calling a task's nodes for one item: the plain loop and the loops with node hooks.

The node lifecycle (hooks before, the call or the adapter's method, hooks after) lives in
:func:`node_lifecycle`, :func:`run_public_hooks` and :func:`run_hooked`. A ``@retry``
node runs the whole lifecycle once per attempt, so hooks see every attempt; without hooks
the node's own function (a ``RetryingCall``) retries by itself. Errors get a note naming the
node, its function and the item (:func:`note_node_error`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cayley._compat import add_note
from cayley.lifecycle.base import LifecycleAdapterSet, PublicNodeHooks, note_adapter_error
from cayley.node import Node

if TYPE_CHECKING:
    from cayley.function_modifiers.retry import RetryingCall

__all__ = [
    "node_error_note",
    "node_lifecycle",
    "note_node_error",
    "run_hooked",
    "run_plain",
    "run_public_hooks",
]


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


def run_plain(steps: Sequence[tuple[Any, ...]], values: dict[str, Any], label: str | None) -> None:
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


def run_public_hooks(
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
        run_public_hooks(step, scratch, hooks, run_id, task_id, label)
        return scratch[name]

    return retry.policy.run(attempt, kwargs)


def node_lifecycle(
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


def run_hooked(
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
            run_public_hooks(steps, values, hooks, run_id, task_id, label)
            return
        for step in steps:  # a template with @retry nodes: those go step by step
            name, _, args, drop, node = step
            if name not in retries:
                run_public_hooks((step,), values, hooks, run_id, task_id, label)
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
            lifecycle = node_lifecycle(node, fn, adapters, run_id, task_id, label)
        else:
            lifecycle = _retried(
                node_lifecycle(node, retry.fn, adapters, run_id, task_id, label), retry
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
