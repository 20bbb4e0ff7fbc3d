"""Types the graph understands: fan-out markers and the producer/consumer compatibility rules.

``Parallelizable[T]`` marks a function whose items each run the downstream block once;
``Collect[T]`` marks a parameter that receives those per-item values as a list.

Compatibility is checked once, when the graph is built (:func:`types_match`), and input
values are checked once per run (:func:`check_input_type`, shallow) or, by the opt-in
type-checking hook, deeply (:func:`check_instance`).
"""

from __future__ import annotations

import collections.abc
import types
import typing
from typing import Annotated, Any, Literal, Protocol, TypeVar, Union

__all__ = [
    "Collect",
    "InvalidTypeException",
    "Parallelizable",
    "check_input_type",
    "check_instance",
    "column",
    "custom_subclass_check",
    "get_type_as_string",
    "is_collect",
    "is_parallelizable",
    "types_match",
    "validate_type_annotation",
]

_Item = TypeVar("_Item", covariant=True)

#: ``column[pd.Series, int]`` annotates a column type; an alias of :data:`typing.Annotated`.
column = Annotated


class Parallelizable(collections.abc.Iterable, Protocol[_Item]):
    """Return annotation of a function whose items each run the downstream block once.

    The function may return any iterable, a generator included; items are consumed lazily.
    """


class Collect(collections.abc.Iterable, Protocol[_Item]):
    """Parameter annotation that gathers the per-item values of a block into a list."""


_UNION_TYPES: tuple[Any, ...] = (Union, types.UnionType)


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def is_parallelizable(tp: Any) -> bool:
    """Whether ``tp`` is ``Parallelizable[...]`` (possibly inside ``Annotated``)."""
    return typing.get_origin(_strip_annotated(tp)) is Parallelizable


def is_collect(tp: Any) -> bool:
    """Whether ``tp`` is ``Collect[...]`` (possibly inside ``Annotated``)."""
    return typing.get_origin(_strip_annotated(tp)) is Collect


def element_type(tp: Any) -> Any:
    """The ``T`` of ``Parallelizable[T]`` or ``Collect[T]``; ``tp`` itself otherwise."""
    stripped = _strip_annotated(tp)
    if typing.get_origin(stripped) in (Parallelizable, Collect):
        args = typing.get_args(stripped)
        return args[0] if args else Any
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in _UNION_TYPES


def custom_subclass_check(requested_type: Any, param_type: Any) -> bool:
    """Whether a value of ``requested_type`` (the producer) may feed ``param_type`` (the consumer).

    Unlike :func:`issubclass` this understands generics, unions, ``Annotated`` and the
    fan-out markers.
    """
    producer = element_type(_strip_annotated(requested_type))
    consumer = element_type(_strip_annotated(param_type))
    producer = _strip_annotated(producer)
    consumer = _strip_annotated(consumer)
    if consumer is Any or consumer is object:
        return True
    if producer is Any:
        # ``Any`` is not a subclass of a particular type (``types_match`` still lets a node
        # typed ``Any`` feed any parameter).
        return False
    if producer == consumer:
        return True
    if isinstance(producer, TypeVar) or isinstance(consumer, TypeVar):
        return False
    if _is_union(producer):
        # Every variant the producer may emit must be accepted by the consumer.
        return all(custom_subclass_check(arg, consumer) for arg in typing.get_args(producer))
    if _is_union(consumer):
        return any(custom_subclass_check(producer, arg) for arg in typing.get_args(consumer))
    producer_origin = typing.get_origin(producer) or producer
    consumer_origin = typing.get_origin(consumer) or consumer
    if not (isinstance(producer_origin, type) and isinstance(consumer_origin, type)):
        return False
    try:
        if not issubclass(producer_origin, consumer_origin):
            return False
    except TypeError:
        return False
    producer_args = typing.get_args(producer)
    consumer_args = typing.get_args(consumer)
    if producer_args and consumer_args:
        return producer_args == consumer_args
    return True


def types_match(param_type: Any, required_node_type: Any) -> bool:
    """Whether a node producing ``required_node_type`` may feed a parameter of ``param_type``."""
    if required_node_type is Any or param_type is Any:
        return True
    if param_type == required_node_type:
        return True
    return custom_subclass_check(required_node_type, param_type)


def check_input_type(node_type: Any, input_value: Any) -> bool:
    """Shallow run-time check of a user-supplied value against the type of the node it feeds.

    ``None`` is always accepted, generics are checked by their origin only (``list[int]``
    accepts any list), and types that cannot be checked at run time are accepted.
    """
    if input_value is None:
        return True
    tp = element_type(_strip_annotated(node_type))
    tp = _strip_annotated(tp)
    if tp is Any or tp is object or isinstance(tp, TypeVar):
        return True
    if _is_union(tp):
        return any(check_input_type(arg, input_value) for arg in typing.get_args(tp))
    origin = typing.get_origin(tp)
    if origin is Literal:
        return input_value in typing.get_args(tp)
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:
        return check_input_type(supertype, input_value)
    target = origin if origin is not None else tp
    if not isinstance(target, type):
        return True
    try:
        return isinstance(input_value, target)
    except TypeError:
        # Protocols not marked runtime-checkable and similar: nothing to check against.
        return True


def check_instance(obj: Any, object_type: Any) -> bool:
    """Deep check of ``obj`` against ``object_type``: containers are checked element-wise."""
    tp = _strip_annotated(object_type)
    if tp is Any or tp is object or isinstance(tp, TypeVar):
        return True
    if tp is None or tp is type(None):
        return obj is None
    if _is_union(tp):
        return any(check_instance(obj, arg) for arg in typing.get_args(tp))
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        return obj in args
    if origin in (Parallelizable, Collect):
        return check_instance(obj, args[0] if args else Any)
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:
        return check_instance(obj, supertype)
    if origin is None:
        if not isinstance(tp, type):
            return True
        try:
            return isinstance(obj, tp)
        except TypeError:
            return True
    if not isinstance(origin, type):
        return True
    try:
        if not isinstance(obj, origin):
            return False
    except TypeError:
        return True
    if not args:
        return True
    if issubclass(origin, collections.abc.Mapping):
        key_type, value_type = (args + (Any, Any))[:2]
        return all(
            check_instance(k, key_type) and check_instance(v, value_type) for k, v in obj.items()
        )
    if issubclass(origin, tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return all(check_instance(item, args[0]) for item in obj)
        return len(obj) == len(args) and all(
            check_instance(item, arg) for item, arg in zip(obj, args)
        )
    if issubclass(origin, (list, set, frozenset, collections.abc.Sequence, collections.abc.Set)):
        return all(check_instance(item, args[0]) for item in obj)
    return True


def get_type_as_string(tp: Any) -> str:
    """A readable name for a type: ``int``, ``list[int]``, ``pandas.core.series.Series``.

    ``Annotated[T, ...]`` reads as ``T``.
    """
    tp = _strip_annotated(tp)
    if isinstance(tp, type) and not typing.get_args(tp):
        if tp.__module__ == "builtins":
            return tp.__qualname__
        return f"{tp.__module__}.{tp.__qualname__}"
    return repr(tp).replace("typing.", "")


class InvalidTypeException(Exception):
    """An annotation cayley cannot accept (see :func:`validate_type_annotation`)."""


#: Element types a column annotation may name: ``column[pd.Series, int]``.
_COLUMN_ELEMENT_TYPES = (int, float, str, bool)


def validate_type_annotation(annotation: Any) -> bool:
    """Checks a column annotation; other annotations are accepted as they are.

    ``Annotated[S, T]`` (``column[S, T]``) must name a column type ``S`` of a known dataframe
    library (``pandas.Series``, ``polars.Series``...) and exactly one element type ``T``, a
    subclass of int, float, str or bool. Raises :class:`InvalidTypeException` otherwise.
    """
    if typing.get_origin(annotation) is not Annotated:
        return True
    # The dataframe registry lives with the decorators that use it; it imports nothing.
    from cayley.function_modifiers.dataframes import is_column_type

    container, *metadata = typing.get_args(annotation)
    if not is_column_type(container):
        raise InvalidTypeException(
            f"{annotation!r}: only column types of a dataframe library (such as pandas.Series) "
            f"can be annotated with an element type, not {get_type_as_string(container)}."
        )
    if len(metadata) != 1:
        raise InvalidTypeException(
            f"{annotation!r}: a column annotation names exactly one element type, got "
            f"{len(metadata)}."
        )
    (element,) = metadata
    if not any(custom_subclass_check(element, allowed) for allowed in _COLUMN_ELEMENT_TYPES):
        raise InvalidTypeException(
            f"{annotation!r}: the element type must be a subclass of int, float, str or bool, "
            f"not {get_type_as_string(element)}."
        )
    return True
