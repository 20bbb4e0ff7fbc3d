"""Internal lifecycle contracts and their typed dispatch.

Each ``Base*`` class is one hook point with one keyword-only method (they are declared in
:mod:`cayley.lifecycle.contracts` and :mod:`cayley.lifecycle.base_async`, and re-exported
here). An adapter takes part in a hook point by subclassing its class;
:class:`LifecycleAdapterSet` sorts adapters into precomputed tuples of bound methods per
hook point, so the engine calls a tuple and a hook point nobody implements costs an
empty-tuple check. There is no string registry.

Three kinds of contracts:
- hooks observe and may be layered (called in adapter order);
- methods replace behaviour and admit a single implementation;
- validators check the graph when it is built.

Hooks and methods implemented with ``async def`` (or through the ``*Async`` classes of
:mod:`cayley.lifecycle.base_async`) are sorted apart: only the async driver awaits them,
after the synchronous hooks of the same point.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, NamedTuple

from cayley._compat import add_note
from cayley.lifecycle.base_async import (
    ASYNC_HOOKS,
    ASYNC_METHODS,
    BaseDoNodeExecuteAsync,
    BasePostGraphConstructAsync,
    BasePostGraphExecuteAsync,
    BasePostNodeExecuteAsync,
    BasePostTaskExecuteAsync,
    BasePreGraphExecuteAsync,
    BasePreNodeExecuteAsync,
    BasePreTaskExecuteAsync,
    SupportsAsyncInit,
)
from cayley.lifecycle.contracts import (
    HOOKS,
    METHODS,
    VALIDATORS,
    WORKER_HOOKS,
    WORKER_METHODS,
    BaseBindAdapters,
    BaseDoBuildResult,
    BaseDoCheckEdgeTypesMatch,
    BaseDoNodeExecute,
    BaseDoRemoteExecute,
    BaseDoValidateInput,
    BasePostGraphConstruct,
    BasePostGraphExecute,
    BasePostItemTimings,
    BasePostNodeExecute,
    BasePostTaskExecute,
    BasePostTaskExpand,
    BasePostTaskGroup,
    BasePostTaskReturn,
    BasePreDoAnything,
    BasePreDoAnythingHook,
    BasePreGraphExecute,
    BasePreNodeExecute,
    BasePreTaskExecute,
    BasePreTaskSubmission,
    BaseValidateGraph,
    BaseValidateNode,
    BaseWorkerReport,
    ItemTimings,
    LifecycleAdapter,
)
from cayley.lifecycle.signatures import split_sync_async, without_unknown_keywords

__all__ = [
    "BaseBindAdapters",
    "BaseDoBuildResult",
    "BaseDoCheckEdgeTypesMatch",
    "BaseDoNodeExecute",
    "BaseDoNodeExecuteAsync",
    "BaseDoRemoteExecute",
    "BaseDoValidateInput",
    "BasePostGraphConstruct",
    "BasePostGraphConstructAsync",
    "BasePostGraphExecute",
    "BasePostGraphExecuteAsync",
    "BasePostItemTimings",
    "BasePostNodeExecute",
    "BasePostNodeExecuteAsync",
    "BasePostTaskExecute",
    "BasePostTaskExecuteAsync",
    "BasePostTaskExpand",
    "BasePostTaskGroup",
    "BasePostTaskReturn",
    "BasePreDoAnything",
    "BasePreDoAnythingHook",
    "BasePreGraphExecute",
    "BasePreGraphExecuteAsync",
    "BasePreNodeExecute",
    "BasePreNodeExecuteAsync",
    "BasePreTaskExecute",
    "BasePreTaskExecuteAsync",
    "BasePreTaskSubmission",
    "BaseValidateGraph",
    "BaseValidateNode",
    "BaseWorkerReport",
    "ItemTimings",
    "LifecycleAdapter",
    "LifecycleAdapterSet",
    "InvalidLifecycleAdapter",
    "SupportsAsyncInit",
    "ValidationException",
]


class InvalidLifecycleAdapter(ValueError):
    """Adapters were combined in a way that cannot work."""


class ValidationException(Exception):
    """A static validator rejected a node or the graph."""


#: Keywords cayley passes to a hook point beyond Hamilton's contract for it. Hooks whose
#: signature does not take them are called without them.
_TASK_IDENTITY = frozenset({"item_index", "expander"})
_EXTRA_KEYWORDS: dict[str, frozenset[str]] = {
    "pre_graph_execute": frozenset({"execution_path"}),
    "pre_task_submission": _TASK_IDENTITY,
    "pre_task_execute": _TASK_IDENTITY,
    "post_task_execute": _TASK_IDENTITY,
    "post_task_return": _TASK_IDENTITY,
}


def _fitted(name: str, hook: Callable[..., Any]) -> Callable[..., Any]:
    """``hook`` for hook point ``name``, made to ignore extra keywords it cannot take."""
    return without_unknown_keywords(hook, _EXTRA_KEYWORDS.get(name, frozenset()))


def adapter_label(hook: Callable[..., Any]) -> str:
    """``ClassName.method`` of a bound lifecycle method."""
    owner = getattr(hook, "__self__", None)
    return f"{type(owner).__name__}.{hook.__name__}" if owner is not None else repr(hook)


def note_adapter_error(exc: BaseException, hook: Callable[..., Any]) -> None:
    """Adds a note naming the adapter whose hook raised ``exc`` (once)."""
    note = f"raised in lifecycle adapter {adapter_label(hook)}"
    if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc):
        note += "; hook and method implementations must accept **future_kwargs"
    if note not in getattr(exc, "__notes__", ()):
        add_note(exc, note)


def _single(adapters: list[Any], name: str, kind: str) -> Any:
    if len(adapters) > 1:
        names = ", ".join(type(a).__name__ for a in adapters)
        raise InvalidLifecycleAdapter(
            f"Adapters {names} all implement the {kind}lifecycle method {name}; only one "
            "adapter may implement a method. Remove all but one of them."
        )
    return adapters[0] if adapters else None


def call_hooks(hooks: tuple[Callable[..., Any], ...], **kwargs: Any) -> None:
    """Calls each hook with the same keyword arguments; errors name the adapter."""
    for hook in hooks:
        try:
            hook(**kwargs)
        except BaseException as exc:
            note_adapter_error(exc, hook)
            raise


def call_method(method: Callable[..., Any], **kwargs: Any) -> Any:
    """Calls a lifecycle method; errors name the adapter."""
    try:
        return method(**kwargs)
    except BaseException as exc:
        note_adapter_error(exc, method)
        raise


def _check_adapter(adapter: Any) -> None:
    """Raises TypeError for a class or an object that implements no hook point."""
    if isinstance(adapter, type):
        raise TypeError(
            f"Adapter {adapter.__name__} was given as a class: pass an instance, "
            f"{adapter.__name__}(...)."
        )
    if not isinstance(adapter, LifecycleAdapter):
        raise TypeError(
            f"{type(adapter).__name__} is not a lifecycle adapter: it implements no hook, method "
            "or validator. Subclass a class of cayley.lifecycle (NodeExecutionHook, "
            "GraphExecutionHook, ResultBuilder, ...)."
        )


class PublicNodeHooks(NamedTuple):
    """The bound ``run_before_node_execution`` / ``run_after_node_execution`` methods of the
    public ``NodeExecutionHook`` adapters of a set, in adapter order."""

    before: tuple[Callable[..., Any], ...]
    after: tuple[Callable[..., Any], ...]


class LifecycleAdapterSet:
    """The adapters of one driver, sorted per hook point.

    For every hook point ``h`` the attribute ``h`` holds a tuple of callables (in adapter
    order); for every method ``m`` the attribute ``m`` holds one callable or ``None``;
    validators are tuples like hooks. Implementations written with ``async def`` are kept
    apart in :attr:`async_hooks` and :attr:`async_methods`, which only the async driver
    reads. Adapters are de-duplicated by identity.
    """

    def __init__(self, *adapters: Any) -> None:
        unique: list[Any] = []
        self._for_workers: LifecycleAdapterSet | bool | None = None
        for adapter in adapters:
            if adapter is not None and all(adapter is not a for a in unique):
                _check_adapter(adapter)
                unique.append(adapter)
        self.adapters: tuple[Any, ...] = tuple(unique)
        #: ``async def`` hooks per hook point (only the async driver awaits them).
        self.async_hooks: dict[str, tuple[Callable[..., Any], ...]] = {}
        #: ``async def`` methods per method name.
        self.async_methods: dict[str, Callable[..., Any]] = {}
        implementers: dict[str, list[Any]] = {}
        for name in dict.fromkeys([*HOOKS, *ASYNC_HOOKS]):
            sync, asynchronous = split_sync_async(
                unique, name, HOOKS.get(name), ASYNC_HOOKS.get(name)
            )
            implementers[name] = sync
            if name in HOOKS:
                setattr(self, name, tuple(_fitted(name, getattr(a, name)) for a in sync))
            if asynchronous:
                self.async_hooks[name] = tuple(
                    _fitted(name, getattr(a, name)) for a in asynchronous
                )
        for name, base in VALIDATORS.items():
            setattr(self, name, tuple(getattr(a, name) for a in unique if isinstance(a, base)))
        for name in dict.fromkeys([*METHODS, *ASYNC_METHODS]):
            sync, asynchronous = split_sync_async(
                unique, name, METHODS.get(name), ASYNC_METHODS.get(name)
            )
            if name in METHODS:
                implementer = _single(sync, name, "")
                setattr(self, name, getattr(implementer, name) if implementer else None)
            implementer = _single(asynchronous, name, "async ")
            if implementer is not None:
                self.async_methods[name] = getattr(implementer, name)
        self._node_hooks_of(implementers["pre_node_execute"], implementers["post_node_execute"])
        #: Whether anything observes individual tasks.
        self.has_task_hooks = bool(
            self.pre_task_submission
            or self.pre_task_execute
            or self.post_task_execute
            or self.post_task_return
            or self.post_item_timings
        )
        #: What tasks of fan-out items run with when an adapter implements
        #: ``post_item_timings``: these adapters without those adapters' node hooks (they
        #: receive those calls through ``post_item_timings``); None when nobody does.
        self.item_adapters: LifecycleAdapterSet | None = None
        if self.post_item_timings:
            timed = [a for a in unique if isinstance(a, BasePostItemTimings)]
            self.item_adapters = copy.copy(self)
            self.item_adapters._node_hooks_of(
                [a for a in implementers["pre_node_execute"] if a not in timed],
                [a for a in implementers["post_node_execute"] if a not in timed],
            )
            self.item_adapters.item_adapters = None
        for hook in self.bind_adapters:
            hook(adapters=self)

    def _node_hooks_of(self, pre: list[Any], post: list[Any]) -> None:
        """Sets the node hooks (and what the engine derives from them) to those of the
        adapters ``pre`` (implementing ``pre_node_execute``) and ``post``."""
        self.pre_node_execute = tuple(_fitted("pre_node_execute", a.pre_node_execute) for a in pre)
        self.post_node_execute = tuple(
            _fitted("post_node_execute", a.post_node_execute) for a in post
        )
        public = tuple(dict.fromkeys(pre + post))
        #: When every node hook belongs to a public ``NodeExecutionHook`` adapter, their
        #: ``run_before_node_execution`` and ``run_after_node_execution`` methods, which the
        #: engine then calls directly; None otherwise.
        self.public_node_hooks: PublicNodeHooks | None = (
            PublicNodeHooks(
                tuple(o.run_before_node_execution for o in public),
                tuple(o.run_after_node_execution for o in public),
            )
            if public and all(getattr(o, "_calls_public_node_hooks", False) for o in public)
            else None
        )
        #: Whether anything must run around each node call.
        self.has_node_hooks = bool(
            self.pre_node_execute
            or self.post_node_execute
            or self.do_node_execute
            or self.do_remote_execute
        )

    # typed attribute declarations for readers and type checkers
    pre_do_anything: tuple[Callable[..., Any], ...]
    post_graph_construct: tuple[Callable[..., Any], ...]
    pre_graph_execute: tuple[Callable[..., Any], ...]
    post_graph_execute: tuple[Callable[..., Any], ...]
    post_task_group: tuple[Callable[..., Any], ...]
    post_task_expand: tuple[Callable[..., Any], ...]
    pre_task_submission: tuple[Callable[..., Any], ...]
    pre_task_execute: tuple[Callable[..., Any], ...]
    post_task_execute: tuple[Callable[..., Any], ...]
    post_task_return: tuple[Callable[..., Any], ...]
    pre_node_execute: tuple[Callable[..., Any], ...]
    post_node_execute: tuple[Callable[..., Any], ...]
    post_item_timings: tuple[Callable[..., Any], ...]
    collect_worker_report: tuple[Callable[..., Any], ...]
    receive_worker_report: tuple[Callable[..., Any], ...]
    bind_adapters: tuple[Callable[..., Any], ...]
    validate_node: tuple[Callable[..., Any], ...]
    validate_graph: tuple[Callable[..., Any], ...]
    do_node_execute: Callable[..., Any] | None
    do_remote_execute: Callable[..., Any] | None
    do_validate_input: Callable[..., Any] | None
    do_check_edge_types_match: Callable[..., Any] | None
    do_build_result: Callable[..., Any] | None

    def without_task_hooks(self) -> LifecycleAdapterSet:
        """The same adapters with task-level hooks silenced (runs without tasks)."""
        clone = copy.copy(self)
        for name in (
            "post_task_group",
            "post_task_expand",
            "pre_task_submission",
            "pre_task_execute",
            "post_task_execute",
            "post_task_return",
            "post_item_timings",
        ):
            setattr(clone, name, ())
        clone.has_task_hooks = False
        clone.item_adapters = None
        return clone

    def with_innermost_node_hooks(
        self,
        pre: Callable[..., Any],
        post: Callable[..., Any],
        before: Callable[..., Any],
        after: Callable[..., Any],
    ) -> LifecycleAdapterSet:
        """A copy that also calls ``pre`` and ``post`` right around each node call (after
        the other pre hooks, before the other post hooks); ``before`` and ``after`` do the
        same with ``NodeExecutionHook`` keywords, for when the engine calls those directly."""
        clone = copy.copy(self)
        clone.pre_node_execute = (*self.pre_node_execute, pre)
        clone.post_node_execute = (post, *self.post_node_execute)
        public = self.public_node_hooks
        if public is not None:
            clone.public_node_hooks = PublicNodeHooks(
                (*public.before, before), (after, *public.after)
            )
        elif not (self.pre_node_execute or self.post_node_execute):
            clone.public_node_hooks = PublicNodeHooks((before,), (after,))
        clone.has_node_hooks = True
        clone.item_adapters = None
        return clone

    def for_workers(self) -> LifecycleAdapterSet | None:
        """The part of these adapters that runs inside tasks; None when nothing does.

        This is what travels with a task to a worker process or a cluster. Hooks that run
        on the driver (graph hooks, task submission and return, validators, result
        building, receiving worker reports) stay behind, and so do adapters implementing
        nothing else: a driver-side hook may hold what cannot be pickled (a lock, a
        connection, a progress bar). Computed once per adapter set.
        """
        if self._for_workers is not None:
            return self._for_workers or None
        bases = tuple(HOOKS[name] for name in WORKER_HOOKS) + tuple(
            METHODS[name] for name in WORKER_METHODS
        )
        workers = tuple(a for a in self.adapters if isinstance(a, bases))
        if not workers:
            self._for_workers = False
            return None
        kept = copy.copy(self)
        kept.adapters = workers
        for name in (*HOOKS, *VALIDATORS):
            if name not in WORKER_HOOKS:
                setattr(kept, name, ())
        for name in METHODS:
            if name not in WORKER_METHODS:
                setattr(kept, name, None)
        kept.async_hooks = {}
        kept.async_methods = {}
        view = self.item_adapters
        if view is not None:
            items = kept.item_adapters = copy.copy(kept)
            items.item_adapters = None
            items.pre_node_execute, items.post_node_execute = (
                view.pre_node_execute,
                view.post_node_execute,
            )
            items.public_node_hooks = view.public_node_hooks
            items.has_node_hooks = view.has_node_hooks
        kept._for_workers = kept
        self._for_workers = kept
        return kept

    def does_hook(self, name: str, is_async: bool | None = None) -> bool:
        """Whether any adapter implements hook ``name``: synchronously (``is_async=False``),
        with ``async def`` (``True``) or either way (``None``)."""
        known = (
            HOOKS if is_async is False else ASYNC_HOOKS if is_async else {**HOOKS, **ASYNC_HOOKS}
        )
        if name not in known:
            raise ValueError(f"{name!r} is not a lifecycle hook; known hooks: {sorted(known)}")
        has_sync = bool(getattr(self, name, ()))
        has_async = bool(self.async_hooks.get(name))
        return has_async if is_async else has_sync if is_async is False else has_sync or has_async

    def does_method(self, name: str, is_async: bool | None = None) -> bool:
        """Whether an adapter implements method ``name``: synchronously, with ``async def`` or
        either way (``is_async`` as in :meth:`does_hook`)."""
        known = (
            METHODS
            if is_async is False
            else ASYNC_METHODS
            if is_async
            else {**METHODS, **ASYNC_METHODS}
        )
        if name not in known:
            raise ValueError(f"{name!r} is not a lifecycle method; known methods: {sorted(known)}")
        has_sync = getattr(self, name, None) is not None
        has_async = name in self.async_methods
        return has_async if is_async else has_sync if is_async is False else has_sync or has_async

    async def ainit(self) -> None:
        """Awaits ``ainit()`` of every adapter that has one (see :class:`SupportsAsyncInit`)."""
        for adapter in self.adapters:
            if isinstance(adapter, SupportsAsyncInit):
                await adapter.ainit()
