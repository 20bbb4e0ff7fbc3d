"""Dataflows the tracking tests record (importable by name, so worker processes get them)."""

from __future__ import annotations

import threading

from cayley.function_modifiers import retry, tag
from cayley.htypes import Collect, Parallelizable

#: Opened by the live-update tests to let ``waiting`` finish.
GATE = threading.Event()


def doubled(x: int) -> int:
    """Twice x."""
    return 2 * x


@tag(owner="data")
def shown(doubled: int, fail: bool) -> str:
    """Doubled, as text."""
    if fail:
        raise ValueError(f"cannot show {doubled}")
    return f"<{doubled}>"


def exclaimed(shown: str) -> str:
    """Shown, louder."""
    return shown + "!"


def items(n: int) -> Parallelizable[int]:
    """0 .. n - 1, one item each."""
    yield from range(n)


def squared(items: int, bad_item: int) -> int:
    """The item squared; fails for ``bad_item``."""
    if items == bad_item:
        raise ValueError(f"item {items} is bad")
    return items * items


def labelled(squared: int) -> str:
    """The square as text."""
    return f"#{squared}"


def joined(labelled: Collect[str]) -> str:
    """Every label, in item order."""
    return ",".join(labelled)


def waiting(start: int) -> int:
    """Waits until the test opens GATE."""
    if not GATE.wait(30):
        raise TimeoutError("GATE was never opened")
    return start + 1


def after_wait(waiting: int) -> int:
    """Runs once ``waiting`` is done."""
    return waiting * 10


def groups(n_groups: int) -> Parallelizable[int]:
    """The outer fan-out: one item per group."""
    yield from range(n_groups)


def members(groups: int) -> Parallelizable[tuple]:
    """The inner fan-out: group g has g + 1 members."""
    for member in range(groups + 1):
        yield (groups, member)


def code(members: tuple) -> int:
    """A member's code."""
    return members[0] * 10 + members[1]


def group_sum(code: Collect[int]) -> int:
    """The codes of one group, summed."""
    return sum(code)


def grand_total(group_sum: Collect[int]) -> int:
    """Every group's sum, summed."""
    return sum(group_sum)


#: Items (and the root node) whose first attempt failed already, per test run.
FAILED_ONCE: set = set()


@retry(attempts=3, on=ConnectionError)
def fetched(items: int) -> int:
    """Fails the first attempt of every third item."""
    if items % 3 == 0 and items not in FAILED_ONCE:
        FAILED_ONCE.add(items)
        raise ConnectionError(f"item {items}: try again")
    return items


def fetched_all(fetched: Collect[int]) -> int:
    """The fetched items, summed."""
    return sum(fetched)


@retry(attempts=2, on=ConnectionError)
def flaky(x: int) -> int:
    """Fails its first attempt."""
    if "flaky" not in FAILED_ONCE:
        FAILED_ONCE.add("flaky")
        raise ConnectionError("try again")
    return x
