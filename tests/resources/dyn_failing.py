"""Blocks that fail on chosen items, for the failure tests.

Every item that starts running creates a file in ``mark_dir`` (works across processes), so
tests can count how much work ran before the failure stopped the run.
"""

from __future__ import annotations

import pathlib
import threading
import time

from cayley.htypes import Collect, Parallelizable


class ItemFailure(Exception):
    """Raised by a block item on purpose."""


def items(n: int) -> Parallelizable[int]:
    """0 .. n-1."""
    yield from range(n)


def work(items: int, bad: int, mark_dir: str, delay: float = 0.0) -> int:
    """Marks the item as started, then fails on item ``bad``."""
    (pathlib.Path(mark_dir) / f"{items}.started").touch()
    if items == bad:
        raise ItemFailure(f"item {items} is bad")
    if delay:
        time.sleep(delay)
    return items


def total(work: Collect[int]) -> int:
    """Fan-in."""
    return sum(work)


def outer(n_outer: int) -> Parallelizable[int]:
    """Outer items."""
    yield from range(n_outer)


def inner(outer: int, n_inner: int) -> Parallelizable[tuple[int, int]]:
    """Inner items: (outer, j)."""
    for j in range(n_inner):
        yield (outer, j)


def inner_work(inner: tuple[int, int], bad_pair: tuple[int, int]) -> int:
    """Fails on one (outer, inner) pair."""
    if inner == tuple(bad_pair):
        raise ValueError(f"pair {inner} is bad")
    return inner[0] * 10 + inner[1]


def inner_total(inner_work: Collect[int]) -> int:
    """Inner fan-in."""
    return sum(inner_work)


def outer_totals(inner_total: Collect[int]) -> list[int]:
    """Outer fan-in."""
    return list(inner_total)


def guarded(items: int, guard: object) -> int:
    """Uses an input value (e.g. a lock) inside the block."""
    with guard:
        return items


def guarded_total(guarded: Collect[int]) -> int:
    """Fan-in."""
    return sum(guarded)


def lock_per_item(items: int) -> object:
    """Returns a value that cannot be sent back from a worker process."""
    return threading.Lock()


def lock_count(lock_per_item: Collect[object]) -> int:
    """Fan-in."""
    return len(lock_per_item)


def not_iterable(n: int) -> Parallelizable[int]:
    """Annotated Parallelizable but returns an int."""
    return n  # type: ignore[return-value]


def not_iterable_val(not_iterable: int) -> int:
    """Block of ``not_iterable``."""
    return not_iterable


def not_iterable_total(not_iterable_val: Collect[int]) -> int:
    """Fan-in."""
    return sum(not_iterable_val)


def breaks_midway(n: int) -> Parallelizable[int]:
    """A generator that fails when producing item 3."""
    for i in range(n):
        if i == 3:
            raise LookupError("the source ran dry")
        yield i


def midway_val(breaks_midway: int) -> int:
    """Block of ``breaks_midway``."""
    return breaks_midway


def midway_total(midway_val: Collect[int]) -> int:
    """Fan-in."""
    return sum(midway_val)
