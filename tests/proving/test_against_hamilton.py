"""The same dataflows on Apache Hamilton 1.90 and on cayley give the same values.

Generated dataflows (the reference evaluator is the third opinion) and hand-written ones
with decorators run on both libraries; every requested value is compared. Fan-outs are
restricted to the shapes Hamilton runs correctly (``strategies.HAMILTON``): one level of
blocks, one ``Collect`` per function and per block, block nodes and fan-ins that read only
inputs from outside their block, no requests or overrides inside blocks, optional
parameters naming inputs only. Outside those shapes Hamilton fails (``KeyError``,
``TypeError``), hangs, or returns wrong values; cayley's own fuzzing covers them.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cayley.execution import executors
from tests.proving import engines
from tests.proving.strategies import HAMILTON, PLAIN, cases, fuzz_settings

hamilton_driver = pytest.importorskip("hamilton.driver")  # in the test extra: never skipped
from hamilton import ad_hoc_utils as hamilton_ad_hoc  # noqa: E402
from hamilton.execution import executors as hamilton_executors  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def hamilton_plain(source: str, config: dict | None = None):
    """Hamilton's ``Builder`` driver (dict results) over a module made from ``source``."""
    module = hamilton_ad_hoc.module_from_source(source)
    builder = hamilton_driver.Builder().with_modules(module)
    if config:
        builder = builder.with_config(config)
    return builder.build()


def hamilton_dynamic(source: str, remote=None):
    """Hamilton's task-based driver; blocks on ``remote`` (synchronous by default)."""
    module = hamilton_ad_hoc.module_from_source(source)
    return (
        hamilton_driver.Builder()
        .with_modules(module)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_local_executor(hamilton_executors.SynchronousLocalTaskExecutor())
        .with_remote_executor(remote or hamilton_executors.SynchronousLocalTaskExecutor())
        .build()
    )


@fuzz_settings(120)
@given(cases(PLAIN))
def test_generated_graphs_match_hamilton(case):
    """No fan-out: optional parameters, overrides, missing inputs, on both default drivers."""
    flow, request = case
    drivers = {
        "Hamilton": hamilton_plain(flow.source("hamilton")),
        "cayley": engines.plain_driver(engines.module_of(flow)),
    }
    engines.check(flow, request, drivers)


@fuzz_settings(100)
@given(cases(HAMILTON), st.booleans())
def test_generated_fan_outs_match_hamilton(case, threads):
    """Fan-outs Hamilton supports, on both task-based drivers."""
    flow, request = case
    cayley_remote = (
        executors.MultiThreadingExecutor(2) if threads else executors.SynchronousLocalTaskExecutor()
    )
    drivers = {
        "Hamilton, dynamic execution": hamilton_dynamic(flow.source("hamilton")),
        "cayley, dynamic execution": engines.dynamic_driver(engines.module_of(flow), cayley_remote),
    }
    engines.check(flow, request, drivers)


DECORATED = '''
import pandas as pd
from {pkg}.function_modifiers import (
    check_output, config, does, extract_columns, extract_fields, group, inject,
    parameterize, pipe_output, source, step, subdag, tag, unpack_fields, value,
)


def base(x: int) -> int:
    return x * 2


@parameterize(plus_one={{"by": value(1)}}, plus_x={{"by": source("x")}})
def shifted(base: int, by: int) -> int:
    """{{by}} added to the base."""
    return base + by


@extract_fields({{"lo": int, "hi": int}})
def bounds(plus_one: int, plus_x: int) -> dict:
    return {{"lo": min(plus_one, plus_x), "hi": max(plus_one, plus_x)}}


@config.when(mode="wide")
def spread__wide(lo: int, hi: int) -> int:
    return (hi - lo) * 10


@config.when_not(mode="wide")
def spread__narrow(lo: int, hi: int) -> int:
    return hi - lo


@tag(owner="frames")
@extract_columns("a", "b")
def frame(base: int, rows: int = 3) -> pd.DataFrame:
    return pd.DataFrame({{"a": [base + i for i in range(rows)], "b": list(range(rows))}})


def column_total(a: pd.Series, b: pd.Series) -> int:
    return int((a * b).sum())


@check_output(range=(0, 10**9))
def checked(column_total: int, spread: int) -> int:
    return column_total + spread


def _square(v: int) -> int:
    return v * v


def _add(v: int, k: int) -> int:
    return v + k


@pipe_output(step(_square), step(_add, k=value(3)))
def piped(checked: int) -> int:
    return checked - 1


@inject(values=group(source("lo"), source("hi"), value(7)))
def grouped(values: list[int]) -> int:
    return sum(values) * 2


@unpack_fields("quotient", "remainder")
def divided(hi: int, lo: int) -> tuple[int, int]:
    return divmod(hi, lo + 1)


def _sum_all(**values: int) -> int:
    return sum(values.values())


@does(_sum_all)
def summed(quotient: int, remainder: int, grouped: int) -> int:
    """Adds its inputs."""


def inner_a(seed: int) -> int:
    return seed + 5


def inner_b(inner_a: int, factor: int) -> int:
    return inner_a * factor


@subdag(inner_a, inner_b, inputs={{"seed": source("base"), "factor": value(4)}})
def sub(inner_b: int) -> int:
    return inner_b - 1
'''

DECORATED_OUTPUTS = [
    "plus_one",
    "plus_x",
    "lo",
    "hi",
    "spread",
    "column_total",
    "checked",
    "piped",
    "grouped",
    "quotient",
    "remainder",
    "summed",
    "sub",
]


@pytest.mark.parametrize(
    ("config", "inputs", "overrides"),
    [
        ({"mode": "wide"}, {"x": 4}, {}),
        ({"mode": "narrow"}, {"x": 9, "rows": 5}, {}),
        ({}, {"x": -3}, {"lo": 100}),
        ({"mode": "wide"}, {"x": 0}, {"base": 11, "spread": 2}),
    ],
)
def test_decorated_dataflow_matches_hamilton(config, inputs, overrides):
    """Decorators (parameterize, extract, config, pipe, inject, subdag ...) compute the same."""
    theirs = hamilton_plain(DECORATED.format(pkg="hamilton"), config)
    module = engines.module_of_source(DECORATED.format(pkg="cayley"))
    builder = engines.plain_builder(module)
    ours = (builder.with_config(config) if config else builder).build()
    call = {"inputs": dict(inputs), "overrides": dict(overrides)}
    expected = theirs.execute(DECORATED_OUTPUTS, **call)
    assert ours.execute(DECORATED_OUTPUTS, **call) == expected
    assert len(expected) == len(DECORATED_OUTPUTS)


FAN_OUT = """
from {pkg}.htypes import Collect, Parallelizable


def words(text: str) -> Parallelizable[str]:
    for word in text.split():
        yield word


def length(words: str) -> int:
    return len(words)


def weighted(length: int, weight: int) -> int:
    return length * weight


def total(weighted: Collect[int]) -> int:
    return sum(weighted)


def report(total: int, text: str) -> str:
    return f"{{len(text.split())}} words, weighted length {{total}}"
"""


@pytest.mark.parametrize("text", ["", "one", "the quick brown fox jumps over the lazy dog"])
def test_fan_out_on_threads_matches_hamilton(text):
    theirs = hamilton_dynamic(
        FAN_OUT.format(pkg="hamilton"), hamilton_executors.MultiThreadingExecutor(2)
    )
    ours = engines.dynamic_driver(
        engines.module_of_source(FAN_OUT.format(pkg="cayley")), executors.MultiThreadingExecutor(2)
    )
    inputs = {"text": text, "weight": 3}
    expected = theirs.execute(["total", "report"], inputs=inputs)
    assert ours.execute(["total", "report"], inputs=inputs) == expected
    assert expected["total"] == 3 * sum(len(w) for w in text.split())
