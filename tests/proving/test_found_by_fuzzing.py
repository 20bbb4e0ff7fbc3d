"""Minimal cases of engine bugs the differential fuzzing found, on every local executor."""

from __future__ import annotations

import pytest

from cayley.execution import executors
from tests.proving import engines

FLOW_NESTED = """
from cayley.htypes import Collect, Parallelizable

def outer(n: int) -> Parallelizable[int]:
    yield from range(n)

def inner(outer: int) -> Parallelizable[int]:
    yield from range(outer)

def scaled(inner: int) -> int:
    return inner * 10

def per_outer(scaled: Collect[int]) -> int:
    return sum(scaled)
"""

# Fan-out ``b`` reads ``r_list`` inside its block (so its items wait for ``r_list``), while
# ``r_list`` was grouped with ``d``, which waits for every item of ``b``: a cycle that
# stalled the run ("cannot make progress") when ``c`` collected ``b``'s bare items.
FLOW_ITEMS_BARRIER = """
from cayley.htypes import Collect, Parallelizable

def a(n: int) -> Parallelizable[int]:
    yield from range(n)

def a_sum(a: Collect[int]) -> int:
    return sum(a)

def r(a: Collect[int]) -> Parallelizable[int]:
    yield from a

def r_x(r: int) -> int:
    return r + 100

def r_list(r_x: Collect[int]) -> list:
    return list(r_x)

def b(a_sum: int) -> Parallelizable[int]:
    yield from range(a_sum)

def b_x(b: int, r_list: list) -> int:
    return b + len(r_list)

def b_sum(b_x: Collect[int]) -> int:
    return sum(b_x)

def c(b: Collect[int]) -> Parallelizable[int]:
    yield from b

def d(c: Collect[int]) -> Parallelizable[int]:
    yield from c

def e(d: int) -> Parallelizable[int]:
    yield from range(d)

def e_x(e: int) -> int:
    return e * 2

def e_sum(e_x: Collect[int]) -> int:
    return sum(e_x)

def final(e_sum: Collect[int], b_sum: int) -> int:
    return sum(e_sum) * 1000 + b_sum
"""

KINDS = ["plain", "sync", "threads", "fork"]


def _driver(kind: str, source: str):
    module = engines.module_of_source(source)
    if kind == "plain":
        return engines.plain_driver(module)
    remote = {
        "sync": executors.SynchronousLocalTaskExecutor,
        "threads": lambda: executors.MultiThreadingExecutor(2),
        "fork": lambda: executors.MultiProcessingExecutor(2, start_method="fork"),
    }[kind]()
    return engines.dynamic_driver(module, remote)


@pytest.mark.parametrize("kind", KINDS)
def test_an_overridden_nested_expander_can_be_requested_alone(kind):
    """It used to fail with ``KeyError: 'outer'`` while the plan was compiled."""
    dr = _driver(kind, FLOW_NESTED)
    result = dr.execute(["inner"], inputs={"n": 3}, overrides={"inner": [7, 8]})
    # one list of items per item of the enclosing fan-out, as when it is not overridden
    assert result == {"inner": [[7, 8], [7, 8], [7, 8]]}
    assert dr.execute(["inner"], inputs={"n": 3}) == {"inner": [[], [0], [0, 1]]}
    both = dr.execute(["per_outer", "inner"], inputs={"n": 2}, overrides={"inner": [1, 2]})
    assert both == {"per_outer": [30, 30], "inner": [[1, 2], [1, 2]]}


@pytest.mark.parametrize("kind", KINDS)
def test_collecting_bare_items_of_a_block_that_waits_for_a_later_fan_in(kind):
    dr = _driver(kind, FLOW_ITEMS_BARRIER)
    n = 3
    r_list = [100 + i for i in range(n)]
    a_sum = sum(range(n))
    b_sum = sum(b + len(r_list) for b in range(a_sum))
    e_sums = [sum(2 * e for e in range(d)) for d in range(a_sum)]
    assert len(r_list) == n
    assert dr.execute(["final"], inputs={"n": n}) == {"final": sum(e_sums) * 1000 + b_sum}
