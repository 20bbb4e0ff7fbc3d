"""Block functions made by decorators and factories (closures), for the process tests."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from cayley.htypes import Collect, Parallelizable


def _plus_thousand(fn: Callable[..., int]) -> Callable[..., int]:
    """A ``functools.wraps`` decorator: the node's function is the inner closure."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        return fn(*args, **kwargs) + 1000

    return wrapper


def _make_multiplier(factor: int) -> Callable[[int], int]:
    return lambda value: value * factor


# A lambda closure used inside a node (kept in a dict: module-level lambdas become nodes).
_HELPERS = {"triple": _make_multiplier(3)}


def seeds(n: int) -> Parallelizable[int]:
    """0 .. n-1."""
    yield from range(n)


@_plus_thousand
def boosted(seeds: int) -> int:
    """Decorated block node."""
    return _HELPERS["triple"](seeds)


def applied(boosted: int, transform: Callable[[int], int]) -> int:
    """Applies a callable passed in as an input (a lambda or closure)."""
    return transform(boosted)


def boosted_all(applied: Collect[int]) -> list[int]:
    """Fan-in."""
    return list(applied)
