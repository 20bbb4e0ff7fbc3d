"""Process executors with functions standard pickle cannot send (fork and spawn).

Hamilton 1.90 pickles tasks with standard pickle, so lambdas, closures, decorator-made
functions (``@extract_fields`` included) fail on its MultiProcessingExecutor.
"""

from __future__ import annotations

import functools
import os

import pytest

from cayley import ad_hoc_utils
from cayley.htypes import Collect, Parallelizable
from tests.resources import dyn_decorated, dyn_nested
from tests.resources.dyn_harness import assert_no_worker_processes, build, live_worker_pids

pytestmark = pytest.mark.timeout(60)


def _closure_module(factor: int):
    """Node functions defined locally: closures over ``factor`` and a lambda."""
    scale = lambda value: value * factor  # noqa: E731 - a lambda on purpose

    def nums(n: int) -> Parallelizable[int]:
        yield from range(n)

    def scaled(nums: int) -> int:
        return scale(nums)

    def where(scaled: int) -> int:
        return os.getpid()

    def scaled_all(scaled: Collect[int]) -> list[int]:
        return list(scaled)

    def pids(where: Collect[int]) -> list[int]:
        return list(where)

    return ad_hoc_utils.create_temporary_module(nums, scaled, where, scaled_all, pids)


def _wrapped_module():
    """A block node wrapped by a ``functools.wraps`` decorator defined here."""

    def negate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return -fn(*args, **kwargs)

        return wrapper

    def nums(n: int) -> Parallelizable[int]:
        return list(range(n))

    @negate
    def negated(nums: int) -> int:
        return nums + 1

    def negated_all(negated: Collect[int]) -> list[int]:
        return list(negated)

    return ad_hoc_utils.create_temporary_module(nums, negated, negated_all)


SOURCE = """
from cayley.htypes import Collect, Parallelizable

OFFSET = 7
HELPERS = {"double": lambda v: v * 2}  # a lambda the graph does not pick up as a node

def words(text: str) -> Parallelizable[str]:
    for word in text.split():
        yield word

def word_len(words: str) -> int:
    return HELPERS["double"](len(words)) + OFFSET

def lengths(word_len: Collect[int]) -> list[int]:
    return list(word_len)
"""

EXTRACT_SOURCE = """
from cayley.htypes import Collect, Parallelizable
from cayley.function_modifiers import extract_fields

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

@extract_fields({"lo": int, "hi": int})
def bounds(items: int) -> dict:
    return {"lo": items - 1, "hi": items + 1}

def spread(lo: int, hi: int) -> int:
    return hi - lo

def spreads(spread: Collect[int], lo: Collect[int]) -> list[tuple[int, int]]:
    return list(zip(spread, lo))
"""


def test_closures_and_lambdas_run_in_worker_processes(process_kind):
    dr = build(process_kind, _closure_module(3))
    result = dr.execute(["scaled_all", "pids"], inputs={"n": 5})
    assert result["scaled_all"] == [0, 3, 6, 9, 12]
    assert os.getpid() not in set(result["pids"])


def test_lambda_passed_as_an_input_reaches_the_workers(process_kind):
    dr = build(process_kind, dyn_decorated)
    result = dr.execute(["boosted_all"], inputs={"n": 3, "transform": lambda v: v - 1000})
    assert result == {"boosted_all": [0, 3, 6]}


def test_closure_passed_as_an_input_reaches_the_workers(process_kind):
    offset = 5

    def shift(value: int) -> int:
        return value + offset

    dr = build(process_kind, dyn_decorated)
    assert dr.execute(["boosted_all"], inputs={"n": 2, "transform": shift}) == {
        "boosted_all": [1005, 1008]
    }


def test_functools_wraps_decorated_nodes(process_kind):
    dr = build(process_kind, _wrapped_module())
    assert dr.execute(["negated_all"], inputs={"n": 4}) == {"negated_all": [-1, -2, -3, -4]}


def test_module_from_source(process_kind):
    module = ad_hoc_utils.module_from_source(SOURCE)
    dr = build(process_kind, module)
    assert dr.execute(["lengths"], inputs={"text": "a bb ccc"}) == {"lengths": [9, 11, 13]}


def test_extract_fields_inside_a_block(process_kind):
    module = ad_hoc_utils.module_from_source(EXTRACT_SOURCE)
    dr = build(process_kind, module)
    result = dr.execute(["spreads", "hi"], inputs={"n": 3})
    assert result == {"spreads": [(2, -1), (2, 0), (2, 1)], "hi": [1, 2, 3]}


def test_every_task_on_processes_including_expanders_and_fan_ins(process_kind):
    """Generators produced in a worker come back as their items; nesting still works."""
    dr = build(process_kind, dyn_nested, dyn_decorated, everything_remote=True)
    result = dr.execute(
        ["grand", "inner_val", "boosted_all"],
        inputs={"n_outer": 2, "n_inner": 2, "bias": 0, "n": 2, "transform": lambda v: v},
    )
    assert result == {
        "grand": [1, 11],
        "inner_val": [[0, 1], [10, 11]],
        "boosted_all": [1000, 1003],
    }


def test_process_executor_can_be_reused_across_runs(process_kind):
    before = live_worker_pids()
    module = ad_hoc_utils.module_from_source(SOURCE)
    dr = build(process_kind, module)
    for text in ("x", "", "yy zz"):
        expected = [2 * len(w) + 7 for w in text.split()]
        assert dr.execute(["lengths"], inputs={"text": text}) == {"lengths": expected}
        assert_no_worker_processes(before)  # workers stop at the end of each run
