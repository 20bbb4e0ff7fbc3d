"""Every change that can change a result makes the cache miss; edits that cannot, don't."""

from __future__ import annotations

import sys
import threading
import types

import numpy as np
import pandas as pd
import polars as pl
import pytest

from cayley import driver
from cayley.caching import CachingEventType
from tests.caching.conftest import RECORD

ECHO = (
    RECORD
    + """
from typing import Any

def echo(value: Any) -> Any:
    _record("echo")
    return value

def described(echo: Any) -> str:
    _record("described")
    return repr(echo)
"""
)


def run_twice(flows, tmp_path, first, second):
    """Runs ``described`` for two values; returns the nodes the second run executed."""
    module = flows.module(ECHO)
    dr = driver.Builder().with_modules(module).with_cache(path=tmp_path / "cache").build()
    assert dr.execute(["described"], inputs={"value": first}) == {"described": repr(first)}
    flows.calls()
    assert dr.execute(["described"], inputs={"value": second}) == {"described": repr(second)}
    return flows.calls()


def nested(depth: int, leaf: object) -> list:
    value: list = [leaf]
    for _ in range(depth):
        value = [value]
    return value


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y

    def __repr__(self) -> str:
        return f"Point({self.x}, {self.y})"


@pytest.mark.parametrize(
    "first, second",
    [
        (1, "1"),
        ("1", b"1"),
        (1, 1.0),
        (1, True),
        (nested(10, 1), nested(10, 2)),  # Hamilton #1715: beyond its hashing depth
        (
            {"a": {"b": {"c": {"d": {"e": {"f": {"g": [1]}}}}}}},
            {"a": {"b": {"c": {"d": {"e": {"f": {"g": [2]}}}}}}},
        ),
        (Point(1, 2), Point(1, 3)),
        ([Point(1, 2)], [Point(1, 3)]),
        ({1, 2}, {1, 3}),
        (np.zeros(3, dtype="int64"), np.zeros(3, dtype="int32")),
        (np.zeros((2, 3)), np.zeros((3, 2))),
        (np.arange(10), np.arange(10)[::-1].copy()),
        (pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [1, 2]}, index=[1, 2])),
        (pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"b": [1, 2]})),
        (pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [1.0, 2.0]})),
        (pd.Series([1, 2], name="x"), pd.Series([1, 2], name="y")),
        (pl.DataFrame({"a": [1, 2]}), pl.DataFrame({"a": [1, 3]})),
        (pl.DataFrame({"a": ["x", "y"]}), pl.DataFrame({"a": ["x", "z"]})),
        (pl.DataFrame({"a": [1, 2]}), pl.DataFrame({"a": [1, 2]}, schema={"a": pl.Int32})),
    ],
    ids=lambda v: type(v).__name__,
)
def test_values_that_differ_miss(flows, tmp_path, first, second):
    assert run_twice(flows, tmp_path, first, second) == ["echo", "described"]


@pytest.mark.parametrize(
    "first, second",
    [
        (nested(10, 1), nested(10, 1)),
        ({"b", "a", "c"}, {"c", "b", "a"}),
        (np.arange(5), np.arange(5)),
        (pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [1, 2]})),
    ],
    ids=lambda v: type(v).__name__,
)
def test_equal_values_hit(flows, tmp_path, first, second):
    assert run_twice(flows, tmp_path, first, second) == []


def test_a_large_array_changed_in_one_element_misses(flows, tmp_path):
    first = np.random.default_rng(0).random(2_000_000)
    second = first.copy()
    second[1_234_567] += 1e-9
    assert run_twice(flows, tmp_path, first, second) == ["echo", "described"]


@pytest.mark.parametrize(
    "value, why",
    [
        (threading.Lock(), "cannot be pickled"),
        ((i for i in range(3)), "generator"),
    ],
    ids=["lock", "generator"],
)
def test_unfingerprintable_values_never_hit_and_the_log_says_why(flows, tmp_path, value, why):
    module = flows.module(ECHO)
    dr = driver.Builder().with_modules(module).with_cache(path=tmp_path / "cache").build()
    for _ in range(2):
        dr.execute(["echo"], inputs={"value": value})
        assert flows.calls() == ["echo"]
    events = dr.cache.logs(run_id=dr.cache.last_run_id)["echo"]
    executed = [e for e in events if e.event_type == CachingEventType.EXECUTE_NODE]
    assert "argument 'value' cannot be fingerprinted" in executed[0].msg
    assert why in executed[0].msg


# ---- code --------------------------------------------------------------------------------
def load(flows, name, source):
    """(Re)imports module ``name`` from ``source`` written to a file."""
    sys.modules.pop(name, None)
    return flows.module(source, name=name)


HELPER = (
    RECORD
    + '''
FACTOR = 2

def _scale(v):
    return _inner(v) * FACTOR

def _inner(v):
    return v + 1

def scaled(x: int) -> int:
    """Scales x."""
    _record("scaled")
    return _scale(x)  # the helper does the work
'''
)


def cached_driver(module, path):
    return driver.Builder().with_modules(module).with_cache(path=path).build()


@pytest.mark.parametrize(
    "edit, value",
    [
        (("return v + 1", "return v + 5"), 12),  # a helper's helper
        (("FACTOR = 2", "FACTOR = 3"), 6),  # a module-level constant it reads
        (("return _scale(x)", "return _scale(x) + 1"), 5),  # the node's own body
    ],
    ids=["transitive helper", "constant", "body"],
)
def test_code_edits_miss(flows, tmp_path, edit, value):
    name = "edited_flow"
    cached_driver(load(flows, name, HELPER), tmp_path / "c").execute(["scaled"], inputs={"x": 1})
    flows.calls()
    module = load(flows, name, HELPER.replace(*edit))
    assert cached_driver(module, tmp_path / "c").execute(["scaled"], inputs={"x": 1}) == {
        "scaled": value
    }
    assert flows.calls() == ["scaled"]


@pytest.mark.parametrize(
    "edit",
    [
        ('"""Scales x."""', '"""Scales x, better explained."""'),
        ("# the helper does the work", "# a different comment"),
        ("    return _scale(x)", "    return _scale(\n        x\n    )"),
    ],
    ids=["docstring", "comment", "layout"],
)
def test_docstring_comment_and_layout_edits_hit(flows, tmp_path, edit):
    name = "doc_flow"
    cached_driver(load(flows, name, HELPER), tmp_path / "c").execute(["scaled"], inputs={"x": 1})
    flows.calls()
    module = load(flows, name, HELPER.replace(*edit))
    assert cached_driver(module, tmp_path / "c").execute(["scaled"], inputs={"x": 1}) == {
        "scaled": 4
    }
    assert flows.calls() == []


def exec_module(name: str, body: str) -> types.ModuleType:
    """A module whose functions have no readable source."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(body, "<no file>", "exec"), module.__dict__)
    return module


def test_functions_without_source_are_versioned_by_bytecode(tmp_path):
    first = exec_module("nosource", "def f(x: int) -> int:\n    return x + 1\n")
    second = exec_module("nosource", "def f(x: int) -> int:\n    return x + 2\n")
    same = exec_module("nosource", "def f(x: int) -> int:\n    return x + 1\n")
    assert cached_driver(first, tmp_path / "c").execute(["f"], inputs={"x": 1}) == {"f": 2}
    dr = cached_driver(second, tmp_path / "c")
    assert dr.execute(["f"], inputs={"x": 1}) == {"f": 3}
    assert "GET_RESULT" not in str(dr.cache.logs(run_id=dr.cache.last_run_id))
    dr = cached_driver(same, tmp_path / "c")
    assert dr.execute(["f"], inputs={"x": 1}) == {"f": 2}
    events = dr.cache.logs(run_id=dr.cache.last_run_id)["f"]
    assert [e.event_type for e in events] == [CachingEventType.GET_RESULT]


PARAMETERIZED = (
    RECORD
    + """
from cayley.function_modifiers import parameterize, value

@parameterize(low={"k": value(1)}, high={"k": value(K_HIGH)})
def shifted(x: int, k: int) -> int:
    _record("shifted")
    return x + k
"""
)


def test_decorator_arguments_are_part_of_the_code_version(flows, tmp_path):
    module = load(flows, "param_flow", PARAMETERIZED.replace("K_HIGH", "10"))
    dr = cached_driver(module, tmp_path / "c")
    assert dr.execute(["low", "high"], inputs={"x": 1}) == {"low": 2, "high": 11}
    codes = dr.cache.code_versions[dr.cache.last_run_id]
    assert codes["low"] != codes["high"]
    flows.calls()
    module = load(flows, "param_flow", PARAMETERIZED.replace("K_HIGH", "20"))
    dr = cached_driver(module, tmp_path / "c")
    assert dr.execute(["low", "high"], inputs={"x": 1}) == {"low": 2, "high": 21}
    assert flows.calls() == ["shifted"]  # only `high` ran again


def test_reloaded_module_with_same_code_hits(flows, tmp_path):
    module = load(flows, "same_flow", HELPER)
    cached_driver(module, tmp_path / "c").execute(["scaled"], inputs={"x": 1})
    flows.calls()
    module = load(flows, "same_flow", HELPER)  # imported afresh: new function objects
    cached_driver(module, tmp_path / "c").execute(["scaled"], inputs={"x": 1})
    assert flows.calls() == []
