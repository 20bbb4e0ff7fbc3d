"""An expander that records how far it has been consumed, for the laziness tests.

``tracker`` is a dict shared by reference (so only in-process executors can use it):
``yielded`` counts items produced, ``done`` counts block items finished, ``at_first`` is
``yielded`` when item 0 ran, ``max_lag`` the largest ``yielded - done`` seen by a block item.
"""

from __future__ import annotations

from cayley.htypes import Collect, Parallelizable


def numbers(n: int, tracker: dict) -> Parallelizable[int]:
    """0 .. n-1, counting what has been handed out."""
    for i in range(n):
        with tracker["lock"]:
            tracker["yielded"] += 1
        yield i


def checked(numbers: int, tracker: dict) -> int:
    """Records the consumption of the generator as items run."""
    with tracker["lock"]:
        if numbers == 0:
            tracker["at_first"] = tracker["yielded"]
        tracker["max_lag"] = max(tracker["max_lag"], tracker["yielded"] - tracker["done"])
        tracker["done"] += 1
    return numbers


def checked_count(checked: Collect[int]) -> int:
    """How many items ran."""
    return len(checked)


def checked_in_order(checked: Collect[int]) -> bool:
    """Whether the items came back in order."""
    return checked == list(range(len(checked)))
