"""Every decorator works when annotations are strings (``from __future__ import annotations``)."""

from __future__ import annotations

import pandas as pd

from cayley import settings
from cayley.node import DependencyType
from tests.function_modifiers.helpers import compute, module_nodes, module_of

SOURCE = """
from __future__ import annotations

import typing
import pandas as pd
from cayley.function_modifiers import (
    ParameterizedExtract, apply_to, cache, check_output, check_output_custom, config, does,
    extract_columns, extract_fields, group, inject, mutate, parameterize,
    parameterize_extract_columns, parameterize_sources, parameterize_values, pipe_input,
    pipe_output, resolve_from_config, schema, source, step, subdag, tag, tag_outputs,
    unpack_fields, value, parameterized_subdag,
)


class Fields(typing.TypedDict):
    a: int
    b: str


def _add(x: int, by: int = 1) -> int:
    return x + by


def _sum(**kwargs: int) -> int:
    return sum(kwargs.values())


@config.when(mode="a")
def chosen__a(x: int) -> int:
    return x * 10


@parameterize(p1={"a": value(1)}, p2={"a": source("x")})
def param(a: int, y: int) -> int:
    return a + y


@parameterize_values(parameter="v", assigned_output={("pv1", ""): 1})
def pv(v: int) -> int:
    return v


@parameterize_sources(ps1={"s": "x"})
def ps(s: int) -> int:
    return s


@inject(nums=group(source("x"), value(2)))
def injected(nums: list[int]) -> int:
    return sum(nums)


@schema.output(("c1", "int"), target_="frame")
@check_output(range=(0, 100), target_="c1")
@extract_columns("c1")
def frame(x: int) -> pd.DataFrame:
    return pd.DataFrame({"c1": [x]})


@tag_outputs(a={"k": "v"})
@extract_fields()
def fields(x: int) -> Fields:
    return {"a": x, "b": "s"}


@unpack_fields("u1", "u2")
def pair(x: int) -> tuple[int, str]:
    return (x, "s")


@does(_sum)
def summed(x: int, y: int) -> int:
    pass


@cache(behavior="recompute")
@pipe_input(step(_add, by=value(2)))
def piped_in(x: int) -> int:
    return x


@pipe_output(step(_add))
def piped_out(x: int) -> int:
    return x


def mutated(x: int) -> int:
    return x


@mutate(apply_to(mutated, by=value(7)))
def _mutator(v: int, by: int) -> int:
    return v * by


@check_output(range=(0, 100))
def checked(x: int) -> int:
    return x


@subdag(_add, inputs={"x": source("y")})
def sub(_add: int) -> int:
    return _add


@parameterized_subdag(_add, one={"inputs": {"x": value(1)}})
def psub(_add: int) -> int:
    return _add


@parameterize_extract_columns(ParameterizedExtract(("e1",), {"i": source("x")}))
def pec(i: int) -> pd.DataFrame:
    return pd.DataFrame({"a": [i]})


@resolve_from_config(decorate_with=lambda names: parameterize(**{n: {"q": value(1)} for n in names}))
def resolved(q: int) -> int:
    return q
"""


def test_all_decorators_with_string_annotations() -> None:
    module = module_of(SOURCE)
    config = {"mode": "a", "names": ["r1"], settings.ENABLE_POWER_USER_MODE: True}
    nodes = module_nodes(module, config)
    assert nodes["chosen"].input_types == {"x": (int, DependencyType.REQUIRED)}
    assert nodes["c1"].type is pd.Series
    assert (nodes["a"].type, nodes["b"].type) == (int, str)
    assert (nodes["u1"].type, nodes["u2"].type) == (int, str)
    assert nodes["injected"].input_types == {"x": (int, DependencyType.REQUIRED)}
    assert nodes["a"].tags["k"] == "v"
    results = compute(
        nodes,
        ["chosen", "p2", "injected", "c1", "a", "u2", "summed", "piped_in", "piped_out"]
        + ["mutated", "checked", "sub", "one", "e1", "r1", "pv1", "ps1"],
        x=3,
        y=4,
    )
    assert results["chosen"] == 30
    assert results["p2"] == 7
    assert results["injected"] == 5
    assert results["c1"].tolist() == [3]
    assert results["summed"] == 7
    assert results["piped_in"] == 5
    assert results["piped_out"] == 4
    assert results["mutated"] == 21
    assert results["sub"] == 5
    assert results["one"] == 2
    assert results["e1"].tolist() == [3]
