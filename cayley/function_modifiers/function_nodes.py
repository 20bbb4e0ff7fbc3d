"""Nodes from functions: what decorators use to read a function and build its nodes.

Signatures and annotations are read once per function (:func:`template_node`); the
helpers here name, copy and wrap functions so decorated variants keep async-ness and
remember where they came from.
"""

from __future__ import annotations

import inspect
import types
import typing
import weakref
from collections.abc import Callable
from typing import Any

from cayley.function_modifiers.attachment import (
    LIFECYCLE_ATTRIBUTE,
    PENDING_VALIDATION_ATTRIBUTE,
    InvalidDecoratorException,
    UnresolvedAnnotationsError,
    qualified_name,
)
from cayley.node import Node

__all__ = [
    "CONFIG_KEYS_ATTRIBUTE",
    "CONFIG_TAG",
    "COPIED_FROM_ATTRIBUTE",
    "copy_function",
    "keep_async",
    "node_from_fn",
    "sanitize_function_name",
    "split_name",
    "template_node",
    "then",
    "type_hints",
]

#: Set by ``@config`` on the function it resolves: the config keys it depended on.
CONFIG_KEYS_ATTRIBUTE = "__config_decorated__"
#: Set on copies made by :func:`copy_function`: the function they were copied from.
COPIED_FROM_ATTRIBUTE = "__cayley_copied_from__"
#: Tag recording the config keys a ``@config``-decorated function depended on.
CONFIG_TAG = "hamilton.config"


def type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """The resolved annotations of ``fn`` (``Annotated`` kept; string annotations evaluated)."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except NameError as exc:
        raise UnresolvedAnnotationsError(
            f"cannot resolve the annotations of {qualified_name(fn)}: {exc}"
        ) from exc
    except (SyntaxError, TypeError) as exc:
        raise InvalidDecoratorException(
            f"invalid annotations on {qualified_name(fn)}: {exc}"
        ) from exc


def sanitize_function_name(name: str) -> str:
    """The node name for a function name: everything before the last ``__`` (if any)."""
    index = name.rfind("__")
    return name[:index] if index > 0 else name


def keep_async(inner: Callable[..., Any], wrapper: Callable[..., Any]) -> Callable[..., Any]:
    """``wrapper`` (which calls ``inner``), made a coroutine function if ``inner`` is one."""
    if not inspect.iscoroutinefunction(inner):
        return wrapper

    async def awaiting(**kwargs: Any) -> Any:
        result = wrapper(**kwargs)
        return await result if inspect.isawaitable(result) else result

    return awaiting


def then(produce: Callable[..., Any], post: Callable[[Any], Any]) -> Callable[..., Any]:
    """A callable computing ``post(produce(**kwargs))``, awaiting ``produce`` if it is async."""
    if inspect.iscoroutinefunction(produce):

        async def produce_then_async(**kwargs: Any) -> Any:
            return post(await produce(**kwargs))

        return produce_then_async

    def produce_then(**kwargs: Any) -> Any:
        return post(produce(**kwargs))

    return produce_then


def split_name(full_name: str) -> dict[str, Any]:
    """``copy_with`` keywords giving a node the full (possibly dotted) name ``full_name``."""
    *namespace, name = full_name.split(".")
    return {"name": name, "namespace": tuple(namespace)}


_NODE_TEMPLATES: weakref.WeakKeyDictionary[Callable[..., Any], Node] = weakref.WeakKeyDictionary()


def template_node(fn: Callable[..., Any]) -> Node:
    """``Node.from_fn(fn)``, computed once per function (nodes are immutable)."""
    try:
        template = _NODE_TEMPLATES.get(fn)
    except TypeError:
        return Node.from_fn(fn)
    if template is None:
        template = Node.from_fn(fn)
        try:
            _NODE_TEMPLATES[fn] = template
        except TypeError:
            pass
    return template


def node_from_fn(fn: Callable[..., Any], name: str | None = None) -> Node:
    """:meth:`Node.from_fn`, plus the ``hamilton.config`` tag for ``@config``-resolved functions.

    Signatures and annotations are read once per function: later builds reuse that node.
    """
    source_fn = getattr(fn, COPIED_FROM_ATTRIBUTE, None) or fn
    node_ = template_node(source_fn)
    changes: dict[str, Any] = {}
    if source_fn is not fn:
        changes.update(name=fn.__name__, callabl=fn)
    if name is not None:
        changes["name"] = name
    keys = getattr(fn, CONFIG_KEYS_ATTRIBUTE, None)
    if keys is not None:
        changes["tags"] = {**node_.tags, CONFIG_TAG: ",".join(keys)}
    return node_.copy_with(**changes) if changes else node_


def copy_function(fn: types.FunctionType, name: str) -> types.FunctionType:
    """A copy of ``fn`` under another ``__name__``, without its recorded decorators.

    Other attributes are copied, not shared; the copy remembers the function it came from.
    """
    copied = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    copied.__kwdefaults__ = dict(fn.__kwdefaults__) if fn.__kwdefaults__ else None
    copied.__dict__.update(fn.__dict__)
    copied.__dict__.setdefault(COPIED_FROM_ATTRIBUTE, fn)
    copied.__dict__.pop(LIFECYCLE_ATTRIBUTE, None)
    copied.__dict__.pop(PENDING_VALIDATION_ATTRIBUTE, None)
    copied.__annotations__ = dict(fn.__annotations__)
    copied.__doc__ = fn.__doc__
    copied.__module__ = fn.__module__
    copied.__qualname__ = fn.__qualname__
    return copied
