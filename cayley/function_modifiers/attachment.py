"""Attaching decorators to functions: where they are recorded and which may be combined.

Applying a decorator records it on the function under its lifecycle step
(:data:`LIFECYCLE_ATTRIBUTE`); nothing else happens until the graph is built. Errors raised
on behalf of a decorator are prefixed with the decorator and the function, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cayley.function_modifiers.base import NodeTransformLifecycle

__all__ = [
    "LIFECYCLE_ATTRIBUTE",
    "PENDING_VALIDATION_ATTRIBUTE",
    "InvalidDecoratorException",
    "MissingConfigParametersException",
    "UnresolvedAnnotationsError",
    "add_context",
    "attach",
    "conflict_error",
    "conflicts",
    "decorator_label",
    "guarded",
    "lifecycle_of",
    "qualified_name",
    "replace_decorator",
]

#: Where the decorators applied to a function are recorded (step name -> decorators).
LIFECYCLE_ATTRIBUTE = "__cayley_lifecycle__"
#: Decorators whose validation waits until build time (annotations not resolvable yet).
PENDING_VALIDATION_ATTRIBUTE = "__cayley_pending_validation__"

_SINGLE_DECORATOR_STEPS = frozenset({"generate", "expand"})


class InvalidDecoratorException(ValueError):
    """A decorator cannot apply to the function (or to the nodes) it was given."""


class MissingConfigParametersException(InvalidDecoratorException):
    """A decorator needs configuration keys that the graph is being built without."""


class UnresolvedAnnotationsError(InvalidDecoratorException):
    """The annotations of a function name something not defined yet."""


def qualified_name(fn: Any) -> str:
    """``module.qualname`` of a function, for error messages."""
    module = getattr(fn, "__module__", None)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"{module}.{name}" if module else name


def decorator_label(decorator: Any) -> str:
    """The name a decorator goes by in messages (``decorator_name`` or its class name)."""
    label = getattr(decorator, "decorator_name", None)
    return label or type(decorator).__name__


def add_context(exc: BaseException, decorator: Any, fn: Any) -> None:
    """Prefix the message of ``exc`` with the decorator and the function, once."""
    if getattr(exc, "_cayley_context", False):
        return
    prefix = f"@{decorator_label(decorator)} on function {qualified_name(fn)}"
    message = str(exc)
    exc.args = (f"{prefix}: {message}" if message else prefix,)
    exc._cayley_context = True  # type: ignore[attr-defined]


def guarded(decorator: Any, fn: Any, call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)``, with :func:`add_context` on a decorator error it raises."""
    try:
        return call(*args)
    except InvalidDecoratorException as exc:
        add_context(exc, decorator, fn)
        raise


def conflicts(
    existing: Iterable[NodeTransformLifecycle], decorator: NodeTransformLifecycle
) -> list[NodeTransformLifecycle]:
    """The decorators of ``existing`` (the same step) that ``decorator`` cannot join."""
    step = decorator.get_lifecycle_name()
    if step in _SINGLE_DECORATOR_STEPS:
        return list(existing)
    if decorator.allows_multiple():
        return []
    return [other for other in existing if type(other) is type(decorator)]


def conflict_error(
    fn: Any, decorator: NodeTransformLifecycle, others: list[NodeTransformLifecycle]
) -> InvalidDecoratorException:
    """The error for ``decorator`` joining ``others`` on ``fn``, with its context added."""
    step = decorator.get_lifecycle_name()
    other_labels = ", ".join(f"@{decorator_label(o)}" for o in others)
    error = InvalidDecoratorException(
        f"cannot be combined with {other_labels}: a function takes at most one "
        f"{step!r} decorator of this kind."
    )
    add_context(error, decorator, fn)
    return error


def attach(fn: Any, decorator: NodeTransformLifecycle, pending: bool) -> None:
    """Records ``decorator`` on ``fn`` (``pending``: its validation waits for build time).

    Raises :class:`InvalidDecoratorException` if it cannot join the decorators already there.
    """
    step = decorator.get_lifecycle_name()
    lifecycle = dict(getattr(fn, LIFECYCLE_ATTRIBUTE, None) or {})
    existing = lifecycle.get(step, ())
    others = conflicts(existing, decorator)
    if others:
        raise conflict_error(fn, decorator, others)
    lifecycle[step] = (*existing, decorator)
    setattr(fn, LIFECYCLE_ATTRIBUTE, lifecycle)
    if pending:
        waiting = getattr(fn, PENDING_VALIDATION_ATTRIBUTE, ())
        setattr(fn, PENDING_VALIDATION_ATTRIBUTE, (*waiting, decorator))


def lifecycle_of(fn: Any) -> dict[str, tuple[NodeTransformLifecycle, ...]]:
    """The decorators recorded on ``fn``, by lifecycle step."""
    return dict(getattr(fn, LIFECYCLE_ATTRIBUTE, None) or {})


def replace_decorator(fn: Any, old: NodeTransformLifecycle, new: NodeTransformLifecycle) -> None:
    """Swap one recorded decorator of ``fn`` for another of the same step."""
    lifecycle = lifecycle_of(fn)
    step = old.get_lifecycle_name()
    lifecycle[step] = tuple(new if d is old else d for d in lifecycle.get(step, ()))
    setattr(fn, LIFECYCLE_ATTRIBUTE, lifecycle)
