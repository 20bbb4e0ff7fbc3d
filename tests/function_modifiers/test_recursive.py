"""@subdag and @parameterized_subdag."""

from __future__ import annotations

import pytest

from cayley.function_modifiers import (
    InvalidDecoratorException,
    base,
    check_output,
    config,
    configuration,
    group,
    parameterized_subdag,
    source,
    subdag,
    tag,
    value,
)
from cayley.node import DependencyType
from tests.function_modifiers.helpers import compute, module_of, nodes_of, user_tags

R = DependencyType.REQUIRED

INNER = module_of(
    """
    from cayley.function_modifiers import config

    def sub_a(sub_in: int) -> int:
        return sub_in + 1

    def sub_b(sub_a: int, other: int) -> int:
        return sub_a * other

    @config.when(flavor="x")
    def sub_c__x(sub_b: int) -> int:
        return sub_b + 1000

    @config.default
    def sub_c__fallback(sub_b: int) -> int:
        return sub_b

    def _hidden(a: int) -> int:
        return a
    """
)


def test_subdag_from_module() -> None:
    @subdag(INNER, inputs={"sub_in": source("outer_in"), "other": value(3)}, config={"flavor": "x"})
    def sub_result(sub_b: int, sub_c: int) -> int:
        return sub_b + sub_c

    nodes = nodes_of(sub_result, {"flavor": "y"})
    assert set(nodes) == {
        "sub_result.sub_a",
        "sub_result.sub_b",
        "sub_result.sub_c",
        "sub_result.sub_in",
        "sub_result.other",
        "sub_result.flavor",
        "sub_result",
    }
    assert nodes["sub_result"].input_types == {
        "sub_result.sub_b": (int, R),
        "sub_result.sub_c": (int, R),
    }
    assert nodes["sub_result.sub_in"].input_types == {"outer_in": (int, R)}
    assert nodes["sub_result.sub_a"].namespace == ("sub_result",)
    assert nodes["sub_result.sub_a"].tags["hamilton.non_final_node"] is True
    assert "hamilton.non_final_node" not in nodes["sub_result"].tags
    assert nodes["sub_result.sub_c"].tags["hamilton.config"] == "flavor"
    assert nodes["sub_result.flavor"].callable() == "x"
    results = compute(nodes, ["sub_result"], outer_in=1)
    assert results["sub_result"] == 6 + 1006
    assert nodes["sub_result.sub_a"].originating_functions == (INNER.sub_a, sub_result)


def test_subdag_config_default_inside() -> None:
    @subdag(INNER, inputs={"sub_in": value(1), "other": value(1)})
    def fallback(sub_c: int) -> int:
        return sub_c

    nodes = nodes_of(fallback)
    assert base.CONFIG_DEFAULT_TAG not in nodes["fallback.sub_c"].tags
    assert compute(nodes, ["fallback"])["fallback"] == 2


def test_subdag_options() -> None:
    def sub_a(sub_in: int) -> int:
        return sub_in + 1

    def sub_b(sub_a: int, other: int) -> int:
        return sub_a * other

    @subdag(
        sub_a,
        sub_b,
        inputs={"sub_in": value(1)},
        namespace="ns2",
        final_node_name="renamed_final",
        external_inputs=["ext"],
    )
    def sub_result2(sub_b: int, ext: int) -> int:
        return sub_b + ext

    nodes = nodes_of(sub_result2)
    assert set(nodes) == {"ns2.sub_a", "ns2.sub_b", "ns2.sub_in", "renamed_final"}
    assert nodes["renamed_final"].input_types == {"ns2.sub_b": (int, R), "ext": (int, R)}
    assert nodes["ns2.sub_b"].input_types == {"ns2.sub_a": (int, R), "other": (int, R)}
    assert compute(nodes, ["renamed_final"], other=2, ext=10)["renamed_final"] == 14


def test_subdag_configuration_dependency() -> None:
    @subdag(
        INNER,
        inputs={"sub_in": value(0), "other": value(1)},
        config={"flavor": configuration("which")},
    )
    def picked(sub_c: int) -> int:
        return sub_c

    nodes = nodes_of(picked, {"which": "x"})
    assert compute(nodes, ["picked"])["picked"] == 1001
    assert nodes["picked.flavor"].callable() == "x"
    with pytest.raises(base.MissingConfigParametersException, match=r"configuration\('which'\)"):
        base.resolve_nodes(picked, {})


def test_subdag_of_decorated_functions() -> None:
    module = module_of(
        """
        from cayley.function_modifiers import parameterize, value, extract_fields

        @parameterize(p1={"x": value(1)}, p2={"x": value(2)})
        def p(x: int) -> int:
            return x

        @extract_fields({"f": int})
        def rec(p1: int, p2: int) -> dict:
            return {"f": p1 + p2}
        """
    )

    @tag(owner="me")
    @check_output(range=(0, 10))
    @subdag(module)
    @config.when(on=True)
    def wrapped__on(f: int) -> int:
        return f

    nodes = nodes_of(wrapped__on, {"on": True})
    assert set(nodes) == {
        "wrapped.p1",
        "wrapped.p2",
        "wrapped.rec",
        "wrapped.f",
        "wrapped_raw",
        "wrapped_range_validator",
        "wrapped",
    }
    assert user_tags(nodes["wrapped"]) == {"owner": "me", "hamilton.config": "on"}
    assert compute(nodes, ["wrapped"])["wrapped"] == 3


def test_parameterized_subdag() -> None:
    def sub_a(sub_in: int) -> int:
        return sub_in + 1

    def sub_b(sub_a: int, other: int) -> int:
        return sub_a * other

    @parameterized_subdag(
        sub_a,
        sub_b,
        inputs={"other": value(2)},
        one={"inputs": {"sub_in": value(1)}},
        two={"inputs": {"sub_in": source("z")}, "config": {"k": "v"}},
    )
    def psub(sub_b: int) -> int:
        return sub_b

    nodes = nodes_of(psub)
    assert set(nodes) == {
        "one.sub_a",
        "one.sub_b",
        "one.sub_in",
        "one.other",
        "one",
        "two.sub_a",
        "two.sub_b",
        "two.sub_in",
        "two.other",
        "two.k",
        "two",
    }
    assert compute(nodes, ["one", "two"], z=4) == {"one": 4, "two": 10}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: subdag(), "at least one module or function"),
        (lambda: subdag(3), "builds from modules and functions, got 3"),
        (
            lambda: subdag(INNER, inputs={"a": value(1)}, config={"a": 1}),
            r"key\(s\) \['a'\] appear in both config and inputs",
        ),
        (lambda: subdag(INNER, inputs={"a": 1}), r"input 'a' must be source\(...\) or value"),
        (lambda: subdag(INNER, inputs={"a": group(value(1))}), "input 'a' must be"),
        (lambda: parameterized_subdag(INNER), "at least one parameterization"),
        (lambda: parameterized_subdag(INNER, one=[1]), "must be a dict"),
        (lambda: parameterized_subdag(INNER, one={"inputz": {}}), r"unknown key\(s\) \['inputz'\]"),
    ],
)
def test_subdag_misuse(make, message: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidDecoratorException, match=message):
        make()


def test_subdag_external_inputs_must_be_parameters() -> None:
    with pytest.raises(InvalidDecoratorException, match=r"external_inputs \['nope'\]"):

        @subdag(INNER, external_inputs=["nope"])
        def fn(sub_a: int) -> int:
            return sub_a


def test_subdag_bad_config_value() -> None:
    @subdag(INNER, config={"flavor": source("x")})
    def fn(sub_a: int) -> int:
        return sub_a

    with pytest.raises(InvalidDecoratorException, match="subdag config values must be plain"):
        base.resolve_nodes(fn, {})
