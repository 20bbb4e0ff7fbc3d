"""Decorators stacked with at least two others."""

from __future__ import annotations

import pandas as pd

from cayley.data_quality import base as dq_base
from cayley.function_modifiers import (
    ParameterizedExtract,
    cache,
    check_output,
    check_output_custom,
    config,
    inject,
    parameterize_extract_columns,
    parameterize_sources,
    parameterize_values,
    parameterized_subdag,
    pipe_output,
    ray_remote_options,
    schema,
    source,
    step,
    tag,
    tag_outputs,
    unpack_fields,
    value,
)
from tests.function_modifiers.helpers import compute, nodes_of, user_tags


def _inc(x: int) -> int:
    return x + 1


def test_parameterize_sources_with_check_output_and_tag() -> None:
    @tag(owner="me")
    @check_output(range=(0, 10))
    @parameterize_sources(from_a={"v": "a"}, from_b={"v": "b"})
    def copied(v: int) -> int:
        return v

    nodes = nodes_of(copied)
    assert set(nodes) == {
        f"{out}{suffix}"
        for out in ("from_a", "from_b")
        for suffix in ("", "_raw", "_range_validator")
    }
    assert user_tags(nodes["from_b"]) == {"owner": "me"}
    assert compute(nodes, ["from_a", "from_b"], a=1, b=2) == {"from_a": 1, "from_b": 2}


def test_parameterize_values_with_pipe_output_and_cache() -> None:
    @cache(behavior="recompute")
    @pipe_output(step(_inc))
    @parameterize_values(parameter="k", assigned_output={("k1", "one"): 1, ("k2", "two"): 2})
    def scaled(x: int, k: int) -> int:
        return x * k

    nodes = nodes_of(scaled)
    assert set(nodes) == {"k1.raw", "k1.with_inc", "k1", "k2.raw", "k2.with_inc", "k2"}
    assert all(n.tags["cache.behavior"] == "recompute" for n in nodes.values())
    assert nodes["k2"].documentation == "two"
    assert compute(nodes, ["k1", "k2"], x=10) == {"k1": 11, "k2": 21}


def test_inject_with_pipe_output_tag_and_config() -> None:
    @tag(owner="me")
    @pipe_output(step(_inc))
    @inject(y=source("other"))
    @config.when(on=True)
    def added__on(x: int, y: int) -> int:
        return x + y

    nodes = nodes_of(added__on, {"on": True})
    assert set(nodes) == {"added", "added.raw", "added.with_inc"}
    assert set(nodes["added.raw"].input_types) == {"x", "other"}
    assert user_tags(nodes["added"]) == {"owner": "me", "hamilton.config": "on"}
    assert compute(nodes, ["added"], x=1, other=2)["added"] == 4


def test_parameterize_extract_columns_with_check_output_and_tag_outputs() -> None:
    @tag_outputs(o1={"kind": "first"})
    @check_output(range=(0, 100), target_="o2")
    @parameterize_extract_columns(ParameterizedExtract(("o1", "o2"), {"s": source("series")}))
    def frame(s: pd.Series) -> pd.DataFrame:
        return pd.concat([s, s * 2], axis=1)

    nodes = nodes_of(frame)
    assert set(nodes) == {"frame__0", "o1", "o2", "o2_raw", "o2_range_validator"}
    assert user_tags(nodes["o1"]) == {"kind": "first"}
    results = compute(nodes, ["o1", "o2"], series=pd.Series([1, 2]))
    assert results["o2"].tolist() == [2, 4]


def test_unpack_fields_with_check_output_and_tag() -> None:
    @tag(owner="me", target_=...)
    @check_output(range=(0, 5), target_="second")
    @unpack_fields("first", "second")
    def pair(a: int) -> tuple[int, int]:
        return (a, a + 1)

    nodes = nodes_of(pair)
    assert set(nodes) == {"pair", "first", "second", "second_raw", "second_range_validator"}
    assert all(n.tags["owner"] == "me" for n in nodes.values())
    assert compute(nodes, ["first", "second"], a=1) == {"first": 1, "second": 2}


class _NonNegative(dq_base.DataValidator):
    def applies_to(self, datatype: type) -> bool:
        return True

    def description(self) -> str:
        return "non negative"

    @classmethod
    def name(cls) -> str:
        return "non_negative"

    def validate(self, dataset: int) -> dq_base.ValidationResult:
        return dq_base.ValidationResult(dataset >= 0, "non negative?")


def test_check_output_custom_with_tag_and_config() -> None:
    @tag(owner="me")
    @check_output_custom(_NonNegative("warn"))
    @config.when_not(mode="off")
    def value_fn__v(a: int) -> int:
        return a

    nodes = nodes_of(value_fn__v, {"mode": "on"})
    assert set(nodes) == {"value_fn", "value_fn_raw", "value_fn_non_negative"}
    assert user_tags(nodes["value_fn_non_negative"]) == {
        "hamilton.config": "mode",
        "hamilton.data_quality.contains_dq_results": True,
        "hamilton.data_quality.source_node": "value_fn",
    }
    assert user_tags(nodes["value_fn"]) == {"owner": "me", "hamilton.config": "mode"}


def test_parameterized_subdag_with_tag_and_check_output() -> None:
    def inner(q: int) -> int:
        return q * 2

    @tag(owner="me")
    @check_output(range=(0, 100))
    @parameterized_subdag(
        inner, one={"inputs": {"q": value(1)}}, two={"inputs": {"q": source("z")}}
    )
    def result(inner: int) -> int:
        return inner

    nodes = nodes_of(result)
    assert {"one", "one_raw", "one_range_validator", "two.inner", "two.q"} <= set(nodes)
    assert user_tags(nodes["one"]) == {"owner": "me"}
    assert compute(nodes, ["one", "two"], z=5) == {"one": 2, "two": 10}


def test_ray_remote_options_with_tag_and_config() -> None:
    @ray_remote_options(num_cpus=2)
    @tag(owner="me")
    @config.when(cluster=True)
    def heavy__ray(a: int) -> int:
        return a

    (node,) = nodes_of(heavy__ray, {"cluster": True}).values()
    assert user_tags(node) == {
        "ray_remote.num_cpus": "2",
        "owner": "me",
        "hamilton.config": "cluster",
    }


def test_schema_output_with_cache_and_config() -> None:
    @schema.output(("a", "int"))
    @cache(format="parquet")
    @config.when(on=True)
    def frame__on() -> pd.DataFrame:
        return pd.DataFrame({"a": [1]})

    (node,) = nodes_of(frame__on, {"on": True}).values()
    assert user_tags(node) == {
        "hamilton.internal.schema_output": "a=int",
        "cache.format": "parquet",
        "hamilton.config": "on",
    }
