"""Nodes made by decorators get code versions, and hit on the second run."""

from __future__ import annotations

from cayley import driver
from tests.caching.conftest import RECORD

DECORATED = (
    RECORD
    + """
import pandas as pd
from cayley.function_modifiers import (
    check_output, config, does, extract_columns, extract_fields, parameterize,
    parameterize_sources, pipe_input, step, tag, value,
)

def _add(v: int, k: int) -> int:
    return v + k

def base(x: int) -> int:
    _record("base")
    return x * 2

@parameterize(p_one={"k": value(1)}, p_two={"k": value(2)})
def shifted(base: int, k: int) -> int:
    return base + k

@parameterize_sources(from_base={"v": "base"})
def renamed(v: int) -> int:
    return v - 1

@extract_columns("a", "b")
def frame(base: int) -> pd.DataFrame:
    _record("frame")
    return pd.DataFrame({"a": [base], "b": [base + 1]})

@extract_fields({"lo": int, "hi": int})
def bounds(base: int) -> dict:
    return {"lo": base - 1, "hi": base + 1}

@check_output(range=(0, 1000))
def checked(base: int) -> int:
    return base

@pipe_input(step(_add, k=value(5)))
def piped(base: int) -> int:
    return base

@config.when(mode="fast")
def variant__fast(base: int) -> int:
    return base

@config.when(mode="slow")
def variant__slow(base: int) -> int:
    return base * 100

def _sum(lo: int, hi: int) -> int:
    return lo + hi

@does(_sum)
def summed(lo: int, hi: int) -> int:
    pass

@tag(owner="me")
def tagged(base: int) -> int:
    return base

"""
)


def test_every_decorated_node_is_versioned_and_hits(flows, tmp_path):
    module = flows.module(DECORATED)
    outputs = [
        "p_one",
        "p_two",
        "from_base",
        "a",
        "b",
        "lo",
        "hi",
        "checked",
        "piped",
        "variant",
        "summed",
        "tagged",
    ]
    build = lambda: (  # noqa: E731
        driver.Builder()
        .with_modules(module)
        .with_config({"mode": "fast"})
        .with_cache(path=tmp_path / "c")
        .build()
    )
    dr = build()
    plain = lambda result: {k: getattr(v, "tolist", lambda v=v: v)() for k, v in result.items()}  # noqa: E731
    first = plain(dr.execute(outputs, inputs={"x": 3}))
    assert first["a"] == [6] and first["p_two"] == 8 and first["piped"] == 11
    run = dr.cache.last_run_id
    missing = sorted(
        name for name in dr.cache.behaviors[run] if name not in dr.cache.code_versions[run]
    )
    assert missing == []
    assert flows.calls() == ["base", "frame"]
    dr = build()
    assert plain(dr.execute(outputs, inputs={"x": 3})) == first
    assert flows.calls() == []
    executed = [
        node
        for node, events in dr.cache.logs(run_id=dr.cache.last_run_id).items()
        if any(e.event_type.value == "execute_node" for e in events)
    ]
    assert executed == []
