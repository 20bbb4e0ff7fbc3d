"""Node names, types, tags and inputs match Apache Hamilton 1.90 (skipped without Hamilton)."""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any

import pytest

from cayley import settings
from cayley.function_modifiers import base as cayley_base

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hamilton") is None, reason="apache-hamilton is not installed"
)

DECORATORS_A = 'import pandas as pd\nimport typing\nfrom hamilton.function_modifiers import (config, parameterize, parameterize_sources, parameterize_values, source, value, group, inject,\n    extract_columns, extract_fields, unpack_fields, tag, tag_outputs, schema, cache, check_output, does, hamilton_exclude)\nfrom hamilton.function_modifiers.metadata import ray_remote_options\n\n@config.when(mode="a")\ndef mode_fn__a(x: int) -> int:\n    return x\n\n@config.when_not(mode="a")\ndef mode_fn__b(x: int) -> int:\n    return -x\n\n@parameterize(p_one={"a": value(1)}, p_two=({"a": source("x")}, "custom doc"))\ndef p(a: int, b: int) -> int:\n    """Doc for {output_name} with {a} and {missing}."""\n    return a + b\n\n@parameterize_values(parameter="v", assigned_output={("pv_1", "d1"): 1, ("pv_2", "d2"): 2})\ndef pv(v: int) -> int:\n    return v\n\n@parameterize_sources(ps_1={"s": "x"}, ps_2={"s": "y"})\ndef ps(s: int, t: int = 3) -> int:\n    """{s} -> {output_name}"""\n    return s + t\n\n@inject(nums=group(source("x"), value(10)))\ndef injected(nums: typing.List[int]) -> int:\n    return sum(nums)\n\n@inject(d=group(a=source("x"), b=value(3)))\ndef injected_dict(d: typing.Dict[str, int]) -> int:\n    return sum(d.values())\n\n@tag(owner="me", kinds=["a", "b"])\n@extract_columns("col_a", ("col_b", "doc b"))\ndef frame(x: int) -> pd.DataFrame:\n    """frame doc"""\n    return pd.DataFrame({"col_a": [x], "col_b": [2]})\n\n@tag_outputs(f1={"t": "1"}, fields={"t": "whole"})\n@extract_fields({"f1": int, "f2": str})\ndef fields(x: int) -> dict:\n    return {"f1": 1, "f2": "a"}\n\n@unpack_fields("u1", "u2")\ndef tup(x: int) -> typing.Tuple[int, str, float]:\n    return (1, "a", 2.0)\n\n@schema.output(("a", "int"), ("b", "float"))\ndef with_schema(x: int) -> pd.DataFrame:\n    return pd.DataFrame()\n\n@cache(behavior="recompute", format="parquet")\ndef cached_fn(x: int) -> int:\n    return x\n\n@check_output(range=(0, 10), importance="fail")\ndef checked(x: int) -> int:\n    return x\n\n@check_output(range=(0, 10), data_type=float, allow_nans=False)\ndef checked_series(x: int) -> pd.Series:\n    return pd.Series([1.0])\n\ndef _sum(**kwargs: int) -> int:\n    return sum(kwargs.values())\n\n@does(_sum)\ndef summed(a: int, b: int) -> int:\n    pass\n\n@ray_remote_options(num_gpus=1, resources={"r": 1})\ndef rayed(x: int) -> int:\n    return x\n\n@hamilton_exclude\ndef excluded(x: int) -> int:\n    return x\n'

DECORATORS_B = 'import pandas as pd\nimport typing\nfrom hamilton.function_modifiers import (config, subdag, parameterized_subdag, source, value, pipe_output, pipe_input, step, mutate,\n    apply_to, extract_fields, parameterize_extract_columns, ParameterizedExtract, resolve, ResolveAt, tag, check_output, extract_columns, parameterize)\nfrom hamilton.function_modifiers import configuration as conf_dep\n\ndef sub_a(sub_in: int) -> int:\n    return sub_in + 1\n\ndef sub_b(sub_a: int, other: int) -> int:\n    return sub_a * other\n\n@config.when(flavor="x")\ndef sub_c__x(sub_b: int) -> int:\n    return sub_b\n\n@subdag(sub_a, sub_b, sub_c__x, inputs={"sub_in": source("outer_in"), "other": value(3)}, config={"flavor": "x"})\ndef sub_result(sub_b: int, sub_c: int, ext: int) -> int:\n    return sub_b + ext + sub_c\n\n@subdag(sub_a, sub_b, inputs={"sub_in": value(1)}, namespace="ns2", final_node_name="renamed_final", external_inputs=["ext"])\ndef sub_result2(sub_b: int, ext: int) -> int:\n    return sub_b + ext\n\n@parameterized_subdag(sub_a, sub_b, inputs={"other": value(2)}, one={"inputs": {"sub_in": value(1)}}, two={"inputs": {"sub_in": source("z")}})\ndef psub(sub_b: int) -> int:\n    return sub_b\n\ndef _inc(x: int, by: int = 1) -> int:\n    return x + by\n\ndef double(x: int) -> int:\n    return 2 * x\n\n@pipe_output(step(_inc).on_output("f1"), step(double), step(_inc, by=value(5)).named("five").when(flag=True))\n@extract_fields({"f1": int, "f2": int})\ndef out_fields(a: int) -> dict:\n    return {"f1": a, "f2": a}\n\n@pipe_input(step(_inc).named("first", namespace=None), step(double).named("second", namespace="custom"), step(_inc, by=source("b")))\ndef pin(a: int, c: int) -> int:\n    return a + c\n\n@pipe_input(step(_inc), step(double), namespace=None, on_input="c")\ndef pin2(a: int, c: int) -> int:\n    return a + c\n\ndef target_one(a: int) -> int:\n    return a\n\n@extract_fields({"g1": int, "g2": int})\ndef target_two(a: int) -> dict:\n    return {"g1": a, "g2": a}\n\n@mutate(target_one, apply_to(target_two, by=value(7)).on_output("g1"), by=value(2))\ndef _mut(x: int, by: int) -> int:\n    return x + by\n\n@mutate(target_one)\ndef _mut2(x: int) -> int:\n    return x * 3\n\n@parameterize_extract_columns(\n    ParameterizedExtract(("o1a", "o2a"), {"i1": source("s1"), "i3": value(10)}),\n    ParameterizedExtract(("o1b", "o2b"), {"i1": source("s2"), "i3": value(100)}),\n)\ndef pec(i1: pd.Series, i3: float) -> pd.DataFrame:\n    return pd.concat([i1 * i3, i1 + i3], axis=1)\n\n@resolve(when=ResolveAt.CONFIG_AVAILABLE, decorate_with=lambda names: parameterize(**{n: {"q": value(i)} for i, n in enumerate(names)}))\ndef resolved(q: int) -> int:\n    return q\n\n@config(lambda c: c.get("flavor") == "x")\ndef custom_conf(a: int) -> int:\n    return a\n\n@config.when_in(flavor=["x", "y"])\n@tag(t="1")\n@check_output(range=(0, 1))\n@extract_columns("e1", "e2")\ndef stacked__x(a: int) -> pd.DataFrame:\n    return pd.DataFrame()\n'

DECORATORS_C = 'import pandas as pd\nimport typing\nfrom hamilton.function_modifiers import (config, subdag, source, value, pipe_output, pipe_input, step, tag, check_output, check_output_custom,\n    extract_columns, extract_fields, unpack_fields, parameterize, parameterize_values, inject, group, does, cache, tag_outputs, schema)\n\ndef _inc(x: int) -> int:\n    return x + 1\n\ndef _incs(x: pd.Series) -> pd.Series:\n    return x + 1\n\n@check_output(range=(0, 1), allow_none=False)\n@parameterize(pa={"a": value(1)}, pb={"a": value(2)})\ndef p(a: int) -> int:\n    return a\n\n@pipe_output(step(_incs))\n@extract_columns("c1", "c2")\ndef frame(x: int) -> pd.DataFrame:\n    return pd.DataFrame()\n\n@check_output(range=(0, 10))\n@pipe_output(step(_inc))\ndef checked_piped(a: int) -> int:\n    return a\n\n@pipe_output(step(_inc))\n@check_output(range=(0, 10))\ndef piped_checked(a: int) -> int:\n    return a\n\n@tag(owner="x", target_=...)\n@unpack_fields("u1", "u2")\ndef tup(a: int) -> typing.Tuple[int, int]:\n    return (1, 2)\n\ndef inner(q: int) -> int:\n    return q\n\n@tag(owner="sub")\n@subdag(inner, inputs={"q": source("a")}, namespace="nsx")\ndef subbed(inner: int) -> int:\n    return inner\n\n@cache(behavior="disable", target_="f1")\n@tag_outputs(f2={"x": "y"})\n@extract_fields({"f1": int, "f2": int})\ndef fields(a: int) -> dict:\n    return {}\n\n@pipe_input(step(_inc).named("pre"), on_input="b")\ndef pin(a: int, b: int) -> int:\n    return a + b\n\n@config.when(k="v", name="renamed_node")\n@tag(t="1")\ndef whatever__zz(a: int) -> int:\n    return a\n'


def _type_name(tp: Any) -> str:
    name = getattr(tp, "__name__", None)
    return name or repr(tp).replace("hamilton", "LIB").replace("cayley", "LIB")


def _summary(nodes: list) -> dict[str, tuple]:
    out = {}
    for node in nodes:
        is_check = getattr(node.type, "__name__", "") == "ValidationResult"
        out[node.name] = (
            _type_name(node.type),
            {k: v for k, v in node.tags.items() if k != "module"},
            sorted((k, _type_name(t), d.name) for k, (t, d) in node.input_types.items()),
            "" if is_check else (node.documentation or ""),
        )
    return out


def _hamilton_nodes(source: str, config: dict) -> dict[str, tuple]:
    from hamilton import ad_hoc_utils, graph_utils
    from hamilton.function_modifiers import base

    module = ad_hoc_utils.module_from_source(source)
    return _summary(
        [
            n
            for _, fn in graph_utils.find_functions(module)
            for n in base.resolve_nodes(fn, dict(config))
        ]
    )


def _cayley_nodes(source: str, config: dict) -> dict[str, tuple]:
    converted = source.replace("from hamilton", "from cayley").replace(
        "import hamilton", "import cayley"
    )
    module = types.ModuleType(f"cayley_compat_{abs(hash(converted))}")
    sys.modules[module.__name__] = module
    exec(compile(converted, module.__name__, "exec", dont_inherit=True), module.__dict__)
    return _summary(
        [
            n
            for _, fn in cayley_base.find_functions(module)
            for n in cayley_base.resolve_nodes(fn, dict(config))
        ]
    )


@pytest.mark.parametrize(
    ("source", "config"),
    [
        (DECORATORS_A, {"mode": "a"}),
        (DECORATORS_A, {"mode": "b"}),
        (DECORATORS_C, {"k": "v"}),
        (DECORATORS_C, {}),
        (
            DECORATORS_B,
            {
                "flavor": "x",
                "flag": True,
                "names": ["r1", "r2"],
                settings.ENABLE_POWER_USER_MODE: True,
            },
        ),
        (
            DECORATORS_B,
            {"flavor": "y", "flag": False, "names": [], settings.ENABLE_POWER_USER_MODE: True},
        ),
    ],
)
def test_nodes_match_hamilton(source: str, config: dict) -> None:
    expected = _hamilton_nodes(source, config)
    actual = _cayley_nodes(source, config)
    assert sorted(actual) == sorted(expected)
    for name in expected:
        assert actual[name] == expected[name], name


def test_public_names_cover_hamilton() -> None:
    import hamilton.function_modifiers as hamilton_fm

    import cayley.function_modifiers as cayley_fm

    public = [
        n for n in vars(hamilton_fm) if not n.startswith("_") and n not in {"logger", "logging"}
    ]
    missing = [n for n in public if not hasattr(cayley_fm, n)]
    assert missing == []
