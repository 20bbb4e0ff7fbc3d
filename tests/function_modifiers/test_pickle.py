"""Everything decorators produce survives cloudpickle and computes the same in another process."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from typing import Any

import cloudpickle
import pandas as pd
import pytest

from cayley import settings
from cayley.data_quality import base as dq_base
from cayley.function_modifiers import (
    ParameterizedExtract,
    apply_to,
    base,
    cache,
    check_output,
    check_output_custom,
    config,
    does,
    extract_columns,
    extract_fields,
    group,
    inject,
    mutate,
    parameterize,
    parameterize_extract_columns,
    parameterize_sources,
    parameterize_values,
    parameterized_subdag,
    pipe_input,
    pipe_output,
    resolve_from_config,
    source,
    step,
    subdag,
    tag,
    unpack_fields,
    value,
)
from tests.function_modifiers.helpers import compute

CONFIG = {"mode": "a", "names": ["r1", "r2"], settings.ENABLE_POWER_USER_MODE: True}


def _add(x: int, by: int = 1) -> int:
    return x + by


def _sum(**kwargs: int) -> int:
    return sum(kwargs.values())


class _Even(dq_base.DataValidator):
    def applies_to(self, datatype: type) -> bool:
        return True

    def description(self) -> str:
        return "even"

    @classmethod
    def name(cls) -> str:
        return "even"

    def validate(self, dataset: Any) -> dq_base.ValidationResult:
        return dq_base.ValidationResult(dataset % 2 == 0, "even?")


@config.when(mode="a")
def chosen__a(x: int) -> int:
    return x * 10


@config.default
def fallback__d(x: int) -> int:
    return -x


@parameterize(p_lit={"a": value(3)}, p_src={"a": source("x")})
def param(a: int, y: int = 5) -> int:
    return a + y


@parameterize(p_grp={"a": group(source("x"), value(2))})
def grouped(a: list[int], y: int = 5) -> int:
    return sum(a) + y


@parameterize_values(parameter="v", assigned_output={("pv1", ""): 1, ("pv2", ""): 2})
def pv(v: int, x: int) -> int:
    return v * x


@parameterize_sources(ps1={"s": "x"})
def ps(s: int) -> int:
    return s - 1


@inject(nums=group(a=source("x"), b=value(4)))
def injected(nums: dict[str, int]) -> int:
    return nums["a"] * nums["b"]


@check_output(range=(0, 1000), importance="fail")
@extract_columns("c1", "c2", fill_with=9)
def frame(x: int) -> pd.DataFrame:
    return pd.DataFrame({"c1": [x]})


@extract_fields({"f1": int, "f2": str}, fill_with="missing")
def record(x: int) -> dict:
    return {"f1": x}


@unpack_fields("u1", "u2")
def pair(x: int) -> tuple[int, int]:
    return (x, x + 1)


@does(_sum, a="x")
def summed(x: int, y: int) -> int:
    pass


@tag(owner="me")
@cache(behavior="recompute")
@pipe_input(step(_add, by=value(2)), step(_add, by=source("y")).named("second"))
def piped_in(x: int, y: int) -> int:
    return x * y


@pipe_output(step(_add), step(_add, by=value(100)).named("hundred"))
def piped_out(x: int) -> int:
    return x


def mutated(x: int) -> int:
    return x


@mutate(apply_to(mutated, by=value(7)))
def _mutator(v: int, by: int) -> int:
    return v * by


@check_output_custom(_Even("fail"))
def even(x: int) -> int:
    return 2 * x


@subdag(_add, inputs={"x": source("y"), "by": value(3)})
def sub(_add: int) -> int:
    return _add * 2


@parameterized_subdag(_add, one={"inputs": {"x": value(1)}}, two={"inputs": {"x": source("x")}})
def psub(_add: int) -> int:
    return _add


@parameterize_extract_columns(ParameterizedExtract(("e1", "e2"), {"i": source("x")}))
def pec(i: int) -> pd.DataFrame:
    return pd.DataFrame({"a": [i], "b": [i * 2]})


@resolve_from_config(
    decorate_with=lambda names: parameterize(**{n: {"q": value(len(n))} for n in names})
)
def resolved(q: int) -> int:
    return q


FUNCTIONS = [
    chosen__a,
    fallback__d,
    param,
    grouped,
    pv,
    ps,
    injected,
    frame,
    record,
    pair,
    summed,
    piped_in,
    piped_out,
    mutated,
    even,
    sub,
    psub,
    pec,
    resolved,
]
INPUTS = {"x": 4, "y": 3}


def _all_nodes() -> dict:
    return {n.name: n for fn in FUNCTIONS for n in base.resolve_nodes(fn, CONFIG)}


def _plain(value: Any) -> Any:
    if isinstance(value, (pd.Series, pd.DataFrame)):
        return value.to_dict()
    return value


def _compute_pickled(payload: bytes) -> bytes:
    nodes, outputs, inputs = cloudpickle.loads(payload)
    results = compute(nodes, outputs, **inputs)
    return cloudpickle.dumps({k: _plain(v) for k, v in results.items()})


def test_every_node_roundtrips_in_process() -> None:
    nodes = _all_nodes()
    outputs = sorted(nodes)
    raw = compute(nodes, outputs, **INPUTS)
    expected = {k: _plain(v) for k, v in raw.items()}
    restored = cloudpickle.loads(cloudpickle.dumps(nodes))
    assert {k: _plain(v) for k, v in compute(restored, outputs, **INPUTS).items()} == expected
    available = {**INPUTS, **raw}
    for name, node in nodes.items():
        callable_copy = cloudpickle.loads(cloudpickle.dumps(node.callable))
        kwargs = {p: available[p] for p in node.input_types if p in available}
        assert _plain(callable_copy(**kwargs)) == _plain(node.callable(**kwargs)), name


def test_spot_values() -> None:
    results = compute(
        _all_nodes(),
        [
            "chosen",
            "p_grp",
            "injected",
            "c2",
            "f2",
            "summed",
            "piped_in",
            "piped_out",
            "mutated",
            "sub",
            "two",
            "r2",
        ],
        **INPUTS,
    )
    assert results["chosen"] == 40
    assert results["p_grp"] == 4 + 2 + 3
    assert results["injected"] == 16
    assert results["c2"].tolist() == [9]
    assert results["f2"] == "missing"
    assert results["summed"] == 7
    assert results["piped_in"] == (4 + 2 + 3) * 3
    assert results["piped_out"] == 4 + 1 + 100
    assert results["mutated"] == 28
    assert results["sub"] == 12
    assert results["two"] == 5
    assert results["r2"] == 2


@pytest.mark.timeout(120)
def test_nodes_compute_in_another_process() -> None:
    nodes = _all_nodes()
    outputs = sorted(nodes)
    expected = {k: _plain(v) for k, v in compute(nodes, outputs, **INPUTS).items()}
    payload = cloudpickle.dumps((nodes, outputs, INPUTS))
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        remote = cloudpickle.loads(pool.submit(_compute_pickled, payload).result())
    assert remote == expected


def test_decorated_functions_roundtrip() -> None:
    for fn in FUNCTIONS:
        restored = cloudpickle.loads(cloudpickle.dumps(fn))
        assert [n.name for n in base.resolve_nodes(restored, CONFIG)] == [
            n.name for n in base.resolve_nodes(fn, CONFIG)
        ]


def test_ad_hoc_module_functions_roundtrip_by_value() -> None:
    from tests.function_modifiers.helpers import module_of

    module = module_of(
        """
        from cayley.function_modifiers import extract_fields, pipe_output, step

        def _twice(v: int) -> int:
            return 2 * v

        @pipe_output(step(_twice))
        @extract_fields({"a": int})
        def rec(x: int) -> dict:
            return {"a": x}
        """
    )
    cloudpickle.register_pickle_by_value(module)
    try:
        nodes = {n.name: n for n in base.resolve_nodes(module.rec, {})}
        restored = cloudpickle.loads(cloudpickle.dumps(nodes))
    finally:
        cloudpickle.unregister_pickle_by_value(module)
    assert compute(restored, ["a"], x=5) == {"a": 10}
