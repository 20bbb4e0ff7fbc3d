"""Hashable keys of materializer arguments, for caching the graphs they rewrite.

A driver keeps the graph rewritten for a set of materializers and reuses it for a request
with equal keys, so equal keys must mean that every adapter would be built with the same
values: a key may tell apart values that are interchangeable (a needless rebuild), never
the other way round (a stale graph).
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Any

from cayley.function_modifiers.dependencies import LiteralDependency, UpstreamDependency

__all__ = ["freeze", "freeze_arguments"]

#: Types whose values are immutable and compare exactly: equal values, same saver input.
_BY_VALUE = frozenset({str, int, bool, bytes, type(None)})
#: Path classes: immutable, equal when their text is.
_PATH_TYPES = frozenset({pathlib.PurePosixPath, pathlib.PureWindowsPath, type(pathlib.Path())})


def freeze(value: Any) -> Any:
    """A hashable key for an argument value: equal keys give the adapter the same value.

    Immutable plain values (exact ``str``, ``int``, ``bool``, ``bytes``, ``None``, floats
    by ``repr`` so that ``-0.0`` is not ``0.0``, paths, tuples of these) are keyed by value.
    Anything else, lists and dicts included, is keyed by identity: two equal lists are not
    the same sink, and a list changed after the first run would otherwise be served from a
    graph built for its old content. The rewritten graph holds the object itself, so its id
    cannot be reused by another object while the graph is kept.
    """
    kind = type(value)
    if kind in _BY_VALUE:
        return (kind, value)
    if kind is float:
        return (float, repr(value))
    if kind is tuple:
        return (tuple, tuple(freeze(v) for v in value))
    if kind in _PATH_TYPES:
        return (kind, str(value))
    if isinstance(value, UpstreamDependency):
        return ("source", value.source)
    if isinstance(value, LiteralDependency):
        return ("value", freeze(value.value))
    return ("id", id(value))


def freeze_arguments(kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    """Keyword arguments keyed name by name with :func:`freeze` (their order counts)."""
    return tuple((name, freeze(v)) for name, v in kwargs.items())
