"""@tag, @tag_outputs, @schema.output, @cache, @ray_remote_options."""

from __future__ import annotations

import pandas as pd
import pytest

from cayley.function_modifiers import (
    InvalidDecoratorException,
    base,
    cache,
    config,
    extract_columns,
    extract_fields,
    parameterize,
    ray_remote_options,
    schema,
    tag,
    tag_outputs,
    value,
)
from tests.function_modifiers.helpers import nodes_of, user_tags


def test_tag_final_nodes_by_default() -> None:
    @tag(owner="me", kinds=["a", "b"], **{"my.namespaced": "x"})
    @extract_fields({"f1": int, "f2": int})
    def fields() -> dict:
        return {"f1": 1, "f2": 2}

    nodes = nodes_of(fields)
    assert user_tags(nodes["f1"]) == {"owner": "me", "kinds": ["a", "b"], "my.namespaced": "x"}
    assert user_tags(nodes["fields"]) == {}


@pytest.mark.parametrize(
    ("target", "tagged"),
    [(..., {"fields", "f1", "f2"}), ("fields", {"fields"}), (["f1", "fields"], {"f1", "fields"})],
)
def test_tag_targets(target: base.TargetType, tagged: set[str]) -> None:
    @tag(owner="me", target_=target)
    @extract_fields({"f1": int, "f2": int})
    def fields() -> dict:
        return {"f1": 1, "f2": 2}

    nodes = nodes_of(fields)
    assert {name for name, node in nodes.items() if "owner" in node.tags} == tagged


def test_invalid_target_type() -> None:
    with pytest.raises(InvalidDecoratorException, match=r"invalid target 3"):
        tag(owner="me", target_=3)  # type: ignore[arg-type]


def test_reserved_namespaces() -> None:
    with pytest.raises(
        InvalidDecoratorException,
        match=r"@tag on function .*fn: invalid tag\(s\): hamilton.x='y' \(the namespace "
        r"'hamilton' is reserved",
    ):

        @tag(**{"hamilton.x": "y"})
        def fn() -> int:
            return 1

    @tag(bypass_reserved_namespaces_=True, **{"data_quality.x": "y", "module": "m"})
    def bypassed() -> int:
        return 1

    assert nodes_of(bypassed)["bypassed"].tags["module"] == "m"


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ({"a": 1}, "values must be a string or a list of strings"),
        ({"a": []}, "lists must not be empty"),
        ({"a": ["x", 1]}, "lists must hold strings only"),
        ({"a": ["x", "x"]}, "lists must not repeat a value"),
        ({"a..b": "x"}, "must be a Python identifier"),
        ({"1a": "x"}, "must be a Python identifier"),
    ],
)
def test_invalid_tags(tags: dict, problem: str) -> None:
    with pytest.raises(InvalidDecoratorException, match=problem):
        tag(**tags)(lambda: 1)


def test_tag_outputs() -> None:
    @tag_outputs(col_a={"t": "a"}, frame={"t": "whole"}, unknown={"t": "ignored"})
    @extract_columns("col_a", "col_b")
    def frame() -> pd.DataFrame:
        return pd.DataFrame({"col_a": [1], "col_b": [2]})

    nodes = nodes_of(frame)
    assert {name: user_tags(n) for name, n in nodes.items()} == {
        "frame": {"t": "whole"},
        "col_a": {"t": "a"},
        "col_b": {},
    }
    with pytest.raises(InvalidDecoratorException, match="maps node names to dicts"):
        tag_outputs(a="b")  # type: ignore[arg-type]
    with pytest.raises(InvalidDecoratorException, match="reserved"):
        tag_outputs(a={"hamilton.x": "b"})


def test_tags_stack_with_parameterize_and_config() -> None:
    @tag(layer="2")
    @tag(layer="1", owner="me")
    @parameterize(one={"x": value(1)}, two={"x": value(2)})
    @config.when(on=True)
    def p__on(x: int) -> int:
        return x

    nodes = nodes_of(p__on, {"on": True})
    assert user_tags(nodes["two"]) == {"layer": "2", "owner": "me", "hamilton.config": "on"}


def test_schema_output() -> None:
    @schema.output(("a", "int"), ("b", "float"))
    def with_schema() -> pd.DataFrame:
        return pd.DataFrame()

    node = nodes_of(with_schema)["with_schema"]
    assert user_tags(node) == {"hamilton.internal.schema_output": "a=int,b=float"}

    @schema.output(("a", "int"))
    def not_a_frame() -> int:
        return 1

    with pytest.raises(
        InvalidDecoratorException,
        match=r"@schema.output on function .*not_a_frame: node 'not_a_frame' has type int",
    ):
        base.resolve_nodes(not_a_frame, {})
    with pytest.raises(InvalidDecoratorException, match="string pairs"):
        schema.output(("a",))  # type: ignore[arg-type]


def test_schema_output_combines_with_tag_but_not_with_itself() -> None:
    @schema.output(("a", "int"))
    @tag(owner="me")
    def frame() -> pd.DataFrame:
        return pd.DataFrame()

    assert user_tags(nodes_of(frame)["frame"]) == {
        "owner": "me",
        "hamilton.internal.schema_output": "a=int",
    }
    with pytest.raises(InvalidDecoratorException, match=r"cannot be combined with @schema.output"):

        @schema.output(("a", "int"))
        @schema.output(("b", "int"))
        def twice() -> pd.DataFrame:
            return pd.DataFrame()


def test_cache() -> None:
    @cache(behavior="recompute", format="parquet")
    @extract_fields({"f": int})
    def cached() -> dict:
        return {"f": 1}

    nodes = nodes_of(cached)
    expected = {"cache.behavior": "recompute", "cache.format": "parquet"}
    assert user_tags(nodes["cached"]) == expected
    assert user_tags(nodes["f"]) == expected

    @cache(format="json", target_="f")
    @extract_fields({"f": int})
    def targeted() -> dict:
        return {"f": 1}

    assert user_tags(nodes_of(targeted)["targeted"]) == {}
    with pytest.raises(InvalidDecoratorException, match="behavior must be one of"):
        cache(behavior="sometimes")  # type: ignore[arg-type]
    with pytest.raises(InvalidDecoratorException, match="format must be a string"):
        cache(format=3)  # type: ignore[arg-type]


def test_ray_remote_options() -> None:
    @ray_remote_options(num_gpus=1, resources={"r": 1})
    def rayed() -> int:
        return 1

    assert user_tags(nodes_of(rayed)["rayed"]) == {
        "ray_remote.num_gpus": "1",
        "ray_remote.resources": '{"r": 1}',
    }
