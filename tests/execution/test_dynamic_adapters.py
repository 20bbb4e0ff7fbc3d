"""Built-in lifecycle adapters under dynamic execution (PrintLn fails there on Hamilton 1.90)."""

from __future__ import annotations

import pytest

from cayley import ad_hoc_utils
from cayley.lifecycle.default import GracefulErrorAdapter, PrintLn
from tests.resources import dyn_mapreduce
from tests.resources.dyn_harness import build

FLAKY_SOURCE = """
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def checked(items: int) -> int:
    if items == 2:
        raise ValueError("item 2 fails")
    return items

def downstream(checked: int) -> int:
    return checked * 10

def gathered(downstream: Collect[int]) -> list:
    return list(downstream)

def dries_up(n: int) -> Parallelizable[int]:
    for i in range(n):
        if i == 2:
            raise ValueError("no more")
        yield i

def dried(dries_up: int) -> int:
    return dries_up

def dried_all(dried: Collect[int]) -> list:
    return list(dried)
"""


def test_println_under_dynamic_execution(kind):
    lines: list[str] = []
    printer = PrintLn(print_fn=lines.append) if kind != "fork" else PrintLn()
    dr = build(kind, dyn_mapreduce, adapters=[printer])
    assert dr.execute(["total"], inputs={"n": 3, "scale": 1}) == {"total": 3}
    if kind == "fork":
        return  # the lines of block nodes are printed by the workers
    finished = [line for line in lines if line.startswith("Finished debugging node:")]
    assert len(finished) == 1 + 3 + 3 + 1  # items, scaled x3, shifted x3, total
    assert all("Status: Success" in line for line in finished)
    assert not printer.timer_dict
    if kind != "plain":
        for i in range(3):
            assert any(f"expand-items.{i}." in line and ":scaled" in line for line in finished)


def test_graceful_error_adapter_under_dynamic_execution(kind):
    module = ad_hoc_utils.module_from_source(FLAKY_SOURCE)
    dr = build(kind, module, adapters=[GracefulErrorAdapter(ValueError)])
    assert dr.execute(["gathered"], inputs={"n": 4}) == {"gathered": [0, 10, None, 30]}


@pytest.mark.parametrize(("try_all", "expected"), [(True, [0, 1, None]), (False, [None])])
def test_graceful_error_adapter_with_a_failing_generator(kind, try_all, expected):
    module = ad_hoc_utils.module_from_source(FLAKY_SOURCE)
    adapter = GracefulErrorAdapter(ValueError, try_all_parallel=try_all)
    dr = build(kind, module, adapters=[adapter])
    assert dr.execute(["dried_all"], inputs={"n": 5}) == {"dried_all": expected}
