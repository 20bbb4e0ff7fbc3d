"""@parameterize and friends, @inject, @parameterize_extract_columns."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from cayley.function_modifiers import (
    InvalidDecoratorException,
    ParameterizedExtract,
    base,
    check_output,
    config,
    configuration,
    group,
    inject,
    parameterize,
    parameterize_extract_columns,
    parameterize_sources,
    parameterize_values,
    parameterized_inputs,
    parametrized,
    parametrized_input,
    source,
    tag,
    value,
)
from cayley.node import DependencyType
from tests.function_modifiers.helpers import nodes_of, user_tags

R = DependencyType.REQUIRED
O = DependencyType.OPTIONAL  # noqa: E741


def test_parameterize_sources_values_and_docs() -> None:
    @parameterize(
        p_one={"a": value(1)},
        p_two=({"a": source("x")}, "custom doc"),
        p_three={"a": source("y"), "b": value(10)},
    )
    def p(a: int, b: int = 2) -> int:
        """Doc for {output_name}: a={a}, b={b}, {unknown}."""
        return a + b

    nodes = nodes_of(p)
    assert list(nodes) == ["p_one", "p_two", "p_three"]
    assert nodes["p_one"].input_types == {"b": (int, O)}
    assert nodes["p_two"].input_types == {"x": (int, R), "b": (int, O)}
    assert nodes["p_three"].input_types == {"y": (int, R)}
    assert nodes["p_one"].documentation == "Doc for p_one: a=1, b=b, unknown."
    assert nodes["p_two"].documentation == "custom doc"
    assert nodes["p_three"].documentation == "Doc for p_three: a=y, b=10, unknown."
    assert nodes["p_one"].callable() == 3
    assert nodes["p_one"].callable(b=5) == 6
    assert nodes["p_two"].callable(x=4) == 6
    assert nodes["p_three"].callable(y=4) == 14
    assert all(n.type is int for n in nodes.values())
    assert nodes["p_one"].default_parameter_values == {"b": 2}


def test_parameterize_groups() -> None:
    @parameterize(
        as_list={"nums": group(source("a"), value(10), source("b"))},
        short_list={"nums": group(value(1))},
    )
    def summed(nums: list[int]) -> int:
        return sum(nums)

    nodes = nodes_of(summed)
    assert nodes["as_list"].input_types == {"a": (int, R), "b": (int, R)}
    assert nodes["as_list"].callable(a=1, b=2) == 13
    assert nodes["short_list"].input_types == {}
    assert nodes["short_list"].callable() == 1
    with pytest.raises(InvalidDecoratorException, match="group"):

        @parameterize(as_list={"nums": group(source("a"))}, as_dict={"nums": group(x=value(1))})
        def mixed(nums: list[int]) -> int:
            return sum(nums)


def test_group_dict_parameter() -> None:
    @inject(parts=group(a=source("x"), b=value(5)))
    def combined(parts: dict[str, int]) -> int:
        return parts["a"] * parts["b"]

    node = nodes_of(combined)["combined"]
    assert node.input_types == {"x": (int, R)}
    assert node.callable(x=3) == 15


def test_inject_keeps_the_name() -> None:
    @inject(a=source("upstream"), c=value(100))
    def injected(a: int, b: int, c: int) -> int:
        return a + b + c

    node = nodes_of(injected)["injected"]
    assert node.input_types == {"upstream": (int, R), "b": (int, R)}
    assert node.callable(upstream=1, b=2) == 103


def test_parameterize_values_and_sources() -> None:
    @parameterize_values(parameter="v", assigned_output={("pv_1", "d1"): 1, ("pv_2", "d2"): 2})
    def pv(v: int, w: int) -> int:
        return v * w

    @parameterize_sources(ps_1={"s": "x"}, ps_2={"s": "y", "t": "z"})
    def ps(s: int, t: int = 3) -> int:
        """{s} shifted for {output_name}"""
        return s + t

    pv_nodes = nodes_of(pv)
    assert {n: pv_nodes[n].documentation for n in pv_nodes} == {"pv_1": "d1", "pv_2": "d2"}
    assert pv_nodes["pv_2"].callable(w=5) == 10
    ps_nodes = nodes_of(ps)
    assert ps_nodes["ps_2"].input_types == {"y": (int, R), "z": (int, O)}
    assert ps_nodes["ps_1"].documentation == "x shifted for ps_1"
    assert ps_nodes["ps_2"].callable(y=1, z=1) == 2
    assert ps_nodes["ps_1"].callable(x=1) == 4


def test_deprecated_spellings() -> None:
    with pytest.warns(DeprecationWarning, match="parameterize_values"):
        decorator = parametrized(parameter="v", assigned_output={("a", "doc"): 1})
    assert isinstance(decorator, parameterize_values)
    with pytest.warns(DeprecationWarning, match="parameterize_sources"):
        sources = parameterized_inputs(out={"v": "node"})
    assert isinstance(sources, parameterize_sources)
    with pytest.warns(DeprecationWarning):
        single = parametrized_input(parameter="v", variable_inputs={"node": ("out", "doc")})

    def fn(v: int) -> int:
        return v

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert set(nodes_of(single(fn))) == {"out"}
    with pytest.raises(InvalidDecoratorException, match="pairs"), pytest.warns(DeprecationWarning):
        parametrized_input(parameter="v", variable_inputs={"node": "out"})  # type: ignore[dict-item]


def test_parameterize_stacked_with_config_tag_and_check_output() -> None:
    @tag(team="x")
    @check_output(range=(0, 100))
    @parameterize(small={"a": value(1)}, big={"a": value(50)})
    @config.when(on=True)
    def scaled(a: int, b: int) -> int:
        return a * b

    nodes = nodes_of(scaled, {"on": True})
    assert set(nodes) == {
        "small",
        "small_raw",
        "small_range_validator",
        "big",
        "big_raw",
        "big_range_validator",
    }
    assert user_tags(nodes["big"]) == {"team": "x", "hamilton.config": "on"}
    assert nodes["big_raw"].callable(b=2) == 100


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: parameterize(out={"a": 1}), r"invalid: out.a=1"),
        (lambda: parameterize(out={"a": configuration("k")}), "invalid: out.a=ConfigDependency"),
        (lambda: parameterize(out=[1]), "must map parameter names"),
        (lambda: parameterize_values(parameter="a", assigned_output={"x": 1}), "pairs"),
        (lambda: parameterize_sources(out={}), "empty mapping"),
        (lambda: inject(), "at least one parameter"),
        (lambda: parameterize_extract_columns(), "at least one ParameterizedExtract"),
        (lambda: parameterize_extract_columns(1), "takes ParameterizedExtract objects"),
    ],
)
def test_constructor_misuse(make, message: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidDecoratorException, match=message):
        make()


def test_empty_parameterize_gives_no_node() -> None:
    @parameterize()
    def nothing(a: int) -> int:
        return a

    assert base.resolve_nodes(nothing, {}) == []


def test_missing_parameter() -> None:
    with pytest.raises(
        InvalidDecoratorException,
        match=r"@parameterize on function .*fn: parameter\(s\) \['nope'\] do not exist",
    ):

        @parameterize(out={"nope": value(1)})
        def fn(a: int) -> int:
            return a


def test_reserved_parameter_name() -> None:
    with pytest.raises(InvalidDecoratorException, match="'output_name'"):

        @parameterize(out={"a": value(1)})
        def fn(a: int, output_name: str) -> int:
            return a


def test_bad_docstring_template() -> None:
    with pytest.raises(InvalidDecoratorException, match="docstring is a template"):

        @parameterize(out={"a": value(1)})
        def fn(a: int) -> int:
            """Unbalanced { brace."""
            return a


def test_group_needs_a_collection_annotation() -> None:
    with pytest.raises(InvalidDecoratorException, match=r"@inject on function .*fn: parameter 'a'"):

        @inject(a=group(source("x"), source("y")))
        def fn(a: int) -> int:
            return a


def test_expander_after_injector_fails_at_build() -> None:
    from cayley.function_modifiers import pipe_input, step

    def _inc(v: int) -> int:
        return v + 1

    @parameterize(out={"a": value(1)})
    @pipe_input(step(_inc))
    def fn(a: int) -> int:
        return a

    with pytest.raises(
        InvalidDecoratorException,
        match=r"@parameterize on function .*fn: expands a single node, .* \(fn, fn.with_inc\)",
    ):
        base.resolve_nodes(fn, {})


def test_parameterize_extract_columns() -> None:
    @parameterize_extract_columns(
        ParameterizedExtract(("o1a", "o2a"), {"i1": source("s1"), "i3": value(10)}),
        ParameterizedExtract(("o1b", "o2b"), {"i1": source("s2"), "i3": value(100)}),
    )
    def pec(i1: pd.Series, i3: float) -> pd.DataFrame:
        return pd.concat([i1 * i3, i1 + i3], axis=1)

    nodes = nodes_of(pec)
    assert set(nodes) == {"pec__0", "o1a", "o2a", "pec__1", "o1b", "o2b"}
    assert nodes["pec__0"].input_types == {"s1": (pd.Series, R)}
    assert nodes["o1a"].input_types == {"pec__0": (pd.DataFrame, R)}
    assert nodes["o1a"].type is pd.Series
    frame = nodes["pec__1"].callable(s2=pd.Series([1, 2]))
    assert list(frame.columns) == ["o1b", "o2b"]
    assert nodes["o2b"].callable(pec__1=frame).tolist() == [101, 102]


def test_parameterize_extract_columns_without_reassigning() -> None:
    @parameterize_extract_columns(
        ParameterizedExtract(("a", "b"), {"x": value(1)}), reassign_columns=False
    )
    def frame(x: int) -> pd.DataFrame:
        return pd.DataFrame({"a": [x], "b": [2 * x]})

    nodes = nodes_of(frame)
    assert nodes["b"].callable(frame__0=nodes["frame__0"].callable()).tolist() == [2]


def test_parameterize_extract_columns_misuse() -> None:
    with pytest.raises(InvalidDecoratorException, match="not a known dataframe type"):

        @parameterize_extract_columns(ParameterizedExtract(("a",), {"x": value(1)}))
        def not_frame(x: int) -> int:
            return x

    with pytest.raises(InvalidDecoratorException, match=r"\['y'\] do not exist"):

        @parameterize_extract_columns(ParameterizedExtract(("a",), {"y": value(1)}))
        def frame(x: int) -> pd.DataFrame:
            return pd.DataFrame()
