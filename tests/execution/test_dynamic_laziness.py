"""Generators feeding a Parallelizable are consumed lazily, not drained up front.

Hamilton 1.90 materialises the generator into a list before any block task exists; here the
first items must run while most of the generator is still unconsumed, and the number of
items produced but not yet processed must stay bounded.
"""

from __future__ import annotations

import threading

import pytest

from tests.resources import dyn_lazy
from tests.resources.dyn_harness import build

N = 10_000


def _tracker() -> dict:
    return {"lock": threading.Lock(), "yielded": 0, "done": 0, "at_first": None, "max_lag": 0}


@pytest.mark.parametrize("kind", ["plain", "sync", "threads"])
def test_first_item_runs_before_the_generator_is_drained(kind):
    tracker = _tracker()
    dr = build(kind, dyn_lazy)
    result = dr.execute(["checked_count", "checked_in_order"], inputs={"n": N, "tracker": tracker})
    assert result == {"checked_count": N, "checked_in_order": True}
    assert tracker["yielded"] == N
    assert tracker["done"] == N
    assert tracker["at_first"] is not None
    assert 1 <= tracker["at_first"] < N
    # items produced but not processed never grow with the size of the input
    assert tracker["max_lag"] < N // 2


def test_consumption_is_bounded_independently_of_length():
    """The backlog has one bound for every length (sync executor).

    The scheduler stops pulling at its high-water mark of 512 ready items, and a batch in
    flight holds at most 256 items in process: 1,024 covers both with room for the pull
    slice, whatever batch sizes the measured item time leads to on a loaded machine. Both
    lengths are larger than that, so a drained generator fails the test.
    """
    lags = []
    for n in (N // 5, 2 * N):
        tracker = _tracker()
        build("sync", dyn_lazy).execute(["checked_count"], inputs={"n": n, "tracker": tracker})
        assert tracker["done"] == n
        lags.append(tracker["max_lag"])
    assert max(lags) <= 1024, lags


@pytest.mark.parametrize("kind", ["plain", "sync", "threads"])
def test_stopping_early_on_error_leaves_the_generator_unconsumed(kind):
    """A failure on item 0 stops the run before the generator is drained."""
    tracker = _tracker()
    tracker["done"] = None  # ``checked`` now fails on every item: int - None
    dr = build(kind, dyn_lazy)
    with pytest.raises(TypeError):
        dr.execute(["checked_count"], inputs={"n": N, "tracker": tracker})
    assert tracker["yielded"] < N
