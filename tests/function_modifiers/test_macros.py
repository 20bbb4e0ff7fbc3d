"""@does, @pipe_input/@pipe, @pipe_output, step(...), @mutate/apply_to, @dynamic_transform."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
import pytest

from cayley.function_modifiers import (
    InvalidDecoratorException,
    apply_to,
    base,
    check_output,
    config,
    does,
    dynamic_transform,
    extract_fields,
    model,
    mutate,
    pipe,
    pipe_input,
    pipe_output,
    source,
    step,
    tag,
    value,
)
from cayley.function_modifiers.macros import Applicable, SingleTargetError, ensure_function_empty
from cayley.node import DependencyType
from tests.function_modifiers.helpers import compute, module_nodes, module_of, nodes_of, user_tags

R = DependencyType.REQUIRED


def _sum(**kwargs: int) -> int:
    return sum(kwargs.values())


def _inc(x: int, by: int = 1) -> int:
    return x + by


def double(x: int) -> int:
    return 2 * x


def _times(x: int, y: int) -> int:
    return x * y


# ---- does ----------------------------------------------------------------------------------


def test_does_replaces_the_body() -> None:
    @does(_sum)
    def summed(a: int, b: int, c: int = 10) -> int:
        """Sums things."""
        pass

    node = nodes_of(summed)["summed"]
    assert node.input_types == {
        "a": (int, R),
        "b": (int, R),
        "c": (int, DependencyType.OPTIONAL),
    }
    assert node.documentation == "Sums things."
    assert node.callable(a=1, b=2) == 13
    assert node.callable(a=1, b=2, c=0) == 3


def test_does_argument_mapping() -> None:
    def _sub(left: int, right: int) -> int:
        return left - right

    @does(_sub, left="b", right="a")
    def diff(a: int, b: int) -> int: ...

    assert nodes_of(diff)["diff"].callable(a=1, b=10) == 9
    assert does.map_kwargs({"a": 1, "b": 2}, {"a": "b", "b": "a"}) == {"a": 2, "b": 1}


def test_does_stacked() -> None:
    @tag(kind="sum")
    @check_output(range=(0, 5))
    @does(_sum)
    @config.when(on=True)
    def total__on(a: int, b: int) -> int:
        pass

    nodes = nodes_of(total__on, {"on": True})
    assert set(nodes) == {"total", "total_raw", "total_range_validator"}
    assert user_tags(nodes["total"]) == {"kind": "sum", "hamilton.config": "on"}
    assert nodes["total_raw"].callable(a=1, b=1) == 2


def test_does_misuse() -> None:
    with pytest.raises(InvalidDecoratorException, match=r"@does on function .*has_body: the body"):

        @does(_sum)
        def has_body(a: int) -> int:
            return a

    def _one(a: int) -> int:
        return a

    with pytest.raises(InvalidDecoratorException, match=r"cannot be called with the arguments"):

        @does(_one)
        def two_args(a: int, b: int) -> int:
            pass

    with pytest.raises(InvalidDecoratorException, match=r"refers to parameter\(s\) \['zz'\]"):

        @does(_one, a="zz")
        def mapped(b: int) -> int:
            pass

    with pytest.raises(InvalidDecoratorException, match=r"\['args'\] cannot be passed by keyword"):

        @does(_sum)
        def var_args(*args: int) -> int:
            pass

    with pytest.raises(InvalidDecoratorException, match="takes the function"):
        does(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidDecoratorException, match="cannot be combined with @does"):

        @does(_sum)
        @does(_sum)
        def twice(a: int) -> int:
            pass


def test_ensure_function_empty() -> None:
    def docstring_only() -> None:
        """Only a docstring."""

    ensure_function_empty(docstring_only)


# ---- step / Applicable --------------------------------------------------------------------


def test_step_builders_return_copies() -> None:
    base_step = step(_inc, by=value(2))
    named = base_step.named("n")
    assert base_step.name is None and named.name == "n"
    assert named.namespace is ...
    assert base_step.named("n", namespace=None).namespace is None
    assert base_step.namespaced("ns").resolve_namespace("fn") == ("ns",)
    assert base_step.resolve_namespace("fn") == ("fn",)
    assert base_step.namespaced(None).resolve_namespace("fn") == ()
    conditional = base_step.when(a=1).when_not(b=2).when_in(c=[1]).when_not_in(d=[1])
    assert conditional.resolves({"a": 1, "b": 3, "c": 1, "d": 2})
    assert not conditional.resolves({"a": 1, "b": 2, "c": 1, "d": 2})
    assert conditional.get_config_elements() == ["a", "b", "c", "d"]
    assert base_step.on_output("x").target == "x"
    assert "step(_inc" in repr(base_step)


def test_step_binding() -> None:
    upstream, literal = step(_times, source("other")).bind_function_args("prev")
    assert (upstream, literal) == ({"x": "prev", "y": "other"}, {})
    upstream, literal = step(_times, y=3).bind_function_args("prev")
    assert (upstream, literal) == ({"x": "prev"}, {"y": 3})


@pytest.mark.parametrize(
    ("applicable", "message"),
    [
        (step(lambda: 1), "has no parameters"),
        (step(_times, 1, 2), "cannot take the arguments"),
        (step(lambda x: x), r"needs type annotations \(missing: \['x', 'return'\]\)"),
        (Applicable(fn=None, args=(), kwargs={}), "needs a function"),
    ],
)
def test_step_validation(applicable: Applicable, message: str) -> None:
    with pytest.raises(InvalidDecoratorException, match=message):
        applicable.validate(chain_first_param=True, allow_custom_namespace=True)


def test_step_needs_a_function() -> None:
    with pytest.raises(InvalidDecoratorException, match=r"step\(\) takes a function"):
        step("_inc")  # type: ignore[arg-type]
    with pytest.raises(InvalidDecoratorException, match="'_name' cannot be passed"):
        step(_inc, _name="x")


# ---- pipe_input ---------------------------------------------------------------------------


def test_pipe_input_chain() -> None:
    @pipe_input(step(_inc), step(_times, y=source("b")).named("times_b"), step(_inc, by=value(5)))
    def piped(a: int, c: int) -> int:
        return a + c

    nodes = nodes_of(piped)
    assert list(nodes) == ["piped", "piped.with_inc", "piped.times_b", "piped.with_inc_1"]
    assert nodes["piped"].input_types == {"piped.with_inc_1": (int, R), "c": (int, R)}
    assert nodes["piped.with_inc"].input_types == {
        "a": (int, R),
        "by": (int, DependencyType.OPTIONAL),
    }
    assert nodes["piped.times_b"].input_types == {"piped.with_inc": (int, R), "b": (int, R)}
    assert nodes["piped.with_inc_1"].input_types == {"piped.times_b": (int, R)}
    assert compute(nodes, ["piped"], a=1, b=3, c=100)["piped"] == (1 + 1) * 3 + 5 + 100


def test_pipe_input_namespaces_and_target() -> None:
    @pipe_input(
        step(_inc).named("first", namespace=None),
        step(double).named("second", namespace="custom"),
        step(double),
    )
    def explicit(a: int) -> int:
        return a

    @pipe_input(step(_inc), step(double), namespace=None, on_input="c")
    def global_none(a: int, c: int) -> int:
        return a + c

    @pipe_input(step(_inc), namespace="shared")
    def global_named(a: int) -> int:
        return a

    assert list(nodes_of(explicit)) == [
        "explicit",
        "first",
        "custom.second",
        "explicit.with_double_1",
    ]
    nodes = nodes_of(global_none)
    assert list(nodes) == ["global_none", "with_inc", "with_double"]
    assert nodes["with_inc"].input_types["c"] == (int, R)
    assert compute(nodes, ["global_none"], a=1, c=1)["global_none"] == 1 + (1 + 1) * 2
    assert list(nodes_of(global_named)) == ["global_named", "shared.with_inc"]


def test_pipe_input_when() -> None:
    @pipe_input(step(_inc).when(flag=True), step(double).when(flag=False))
    def conditional(a: int) -> int:
        return a

    assert list(nodes_of(conditional, {"flag": True})) == ["conditional", "conditional.with_inc"]
    assert list(nodes_of(conditional, {"flag": False})) == [
        "conditional",
        "conditional.with_double",
    ]
    assert list(nodes_of(conditional, {})) == ["conditional"]

    @pipe_input(step(_inc).when(flag=True))
    def nothing(a: int) -> int:
        return a

    assert nodes_of(nothing)["nothing"].input_types == {"a": (int, R)}


def test_pipe_input_stacked() -> None:
    @tag(owner="me")
    @check_output(range=(0, 100))
    @pipe_input(step(_inc))
    @config.when(on=True)
    def result__on(a: int) -> int:
        return a

    nodes = nodes_of(result__on, {"on": True})
    assert set(nodes) == {"result", "result_raw", "result_range_validator", "result.with_inc"}
    assert user_tags(nodes["result"]) == {"owner": "me", "hamilton.config": "on"}


def test_pipe_deprecated_alias() -> None:
    with pytest.warns(DeprecationWarning, match="pipe_input"):
        decorator = pipe(step(_inc))
    assert isinstance(decorator, pipe_input)


def test_pipe_input_misuse() -> None:
    with pytest.raises(InvalidDecoratorException, match=r"on_input='zz' is not a parameter"):

        @pipe_input(step(_inc), on_input="zz")
        def fn(a: int) -> int:
            return a

    with pytest.raises(InvalidDecoratorException, match="no parameters for the pipe"):

        @pipe_input(step(_inc))
        def no_params() -> int:
            return 1

    with pytest.raises(InvalidDecoratorException, match=r"takes step\(...\) objects"):
        pipe_input(_inc)  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError, match="several are not supported"):
        pipe_input(step(_inc), on_input=["a", "b"])
    with pytest.raises(NotImplementedError, match="collapse"):
        pipe_input(step(_inc), collapse=True)
    with pytest.raises(InvalidDecoratorException, match="cannot be combined with namespaces"):

        @pipe_input(step(_inc).named("x", namespace="y"), namespace="z")
        def clash(a: int) -> int:
            return a


def test_stacked_pipe_inputs_compose() -> None:
    @pipe_input(step(_inc))
    @pipe_input(step(double))
    def stacked(a: int) -> int:
        return a

    nodes = nodes_of(stacked)
    assert set(nodes) == {"stacked", "stacked.with_inc", "stacked.with_double"}
    assert compute(nodes, ["stacked"], a=1)["stacked"] == 4


def test_pipe_input_on_bound_parameter_fails() -> None:
    from cayley.function_modifiers import subdag

    @pipe_input(step(_inc))
    @subdag(double)
    def bound(double: int) -> int:
        return double

    with pytest.raises(InvalidDecoratorException, match=r"parameter 'double' is not an input"):
        base.resolve_nodes(bound, {})


# ---- pipe_output --------------------------------------------------------------------------


def test_pipe_output_chain() -> None:
    @pipe_output(step(_inc), step(_times, y=value(3)), step(_inc))
    def piped_out(a: int) -> int:
        """doc"""
        return a

    nodes = nodes_of(piped_out)
    assert list(nodes) == [
        "piped_out.raw",
        "piped_out.with_inc",
        "piped_out.with_times",
        "piped_out.with_inc_1",
        "piped_out",
    ]
    assert nodes["piped_out"].input_types == {"piped_out.with_inc_1": (Any, R)}
    assert nodes["piped_out"].type is int
    assert nodes["piped_out"].documentation == "doc"
    assert nodes["piped_out.raw"].input_types == {"a": (int, R)}
    assert compute(nodes, ["piped_out"], a=1)["piped_out"] == (1 + 1) * 3 + 1


def test_pipe_output_targets_and_conditions() -> None:
    @pipe_output(
        step(_inc).on_output("f1"),
        step(double),
        step(_inc, by=value(5)).named("five").when(flag=True),
    )
    @extract_fields({"f1": int, "f2": int})
    def out_fields(a: int) -> dict:
        return {"f1": a, "f2": a}

    nodes = nodes_of(out_fields, {"flag": True})
    assert set(nodes) == {
        "out_fields",
        "f1.raw",
        "f1.with_inc",
        "f1.with_double",
        "f1.five",
        "f1",
        "f2.raw",
        "f2.with_double",
        "f2.five",
        "f2",
    }
    assert compute(nodes, ["f1", "f2"], a=1) == {"f1": (1 + 1) * 2 + 5, "f2": 2 + 5}
    assert "f1.five" not in nodes_of(out_fields, {"flag": False})

    @pipe_output(step(_inc), on_output=["f2"])
    @extract_fields({"f1": int, "f2": int})
    def global_target(a: int) -> dict:
        return {"f1": a, "f2": a}

    assert set(nodes_of(global_target)) == {"global_target", "f1", "f2.raw", "f2.with_inc", "f2"}


def test_pipe_output_all_steps_skipped_keeps_node() -> None:
    @pipe_output(step(_inc).when(flag=True))
    def kept(a: int) -> int:
        return a

    assert list(nodes_of(kept)) == ["kept"]


def test_pipe_output_namespace_options() -> None:
    @pipe_output(step(_inc), namespace=None)
    def none_ns(a: int) -> int:
        return a

    @pipe_output(step(_inc), namespace="spaced")
    def named_ns(a: int) -> int:
        return a

    assert list(nodes_of(none_ns)) == ["none_ns.raw", "with_inc", "none_ns"]
    assert list(nodes_of(named_ns)) == ["named_ns.raw", "spaced.with_inc", "named_ns"]


def test_pipe_output_tags_and_config() -> None:
    @tag(owner="me")
    @pipe_output(step(_inc))
    @config.when(on=True)
    def out__on(a: int) -> int:
        return a

    nodes = nodes_of(out__on, {"on": True})
    assert user_tags(nodes["out"]) == {"owner": "me", "hamilton.config": "on"}
    assert user_tags(nodes["out.raw"]) == {"hamilton.config": "on"}
    assert user_tags(nodes["out.with_inc"]) == {}


def test_pipe_output_misuse() -> None:
    with pytest.raises(SingleTargetError, match="not both"):
        pipe_output(step(_inc).on_output("a"), on_output="b")
    with pytest.raises(InvalidDecoratorException, match="not '...'"):
        pipe_output(step(_inc), on_output=...)
    with pytest.raises(InvalidDecoratorException, match=r"@pipe_output on function .*bad_step"):

        @pipe_output(step(_times, 1, 2))
        def bad_step(a: int) -> int:
            return a

    @pipe_output(step(_inc), on_output="zz")
    def missing_target(a: int) -> int:
        return a

    with pytest.raises(InvalidDecoratorException, match=r"target node\(s\) \['zz'\] not found"):
        base.resolve_nodes(missing_target, {})


# ---- mutate -------------------------------------------------------------------------------

MUTATE_MODULE = """
from cayley.function_modifiers import mutate, apply_to, extract_fields, pipe_output, step, value, source

def _plus(x: int, by: int = 1) -> int:
    return x + by

def target_one(a: int) -> int:
    return a

@extract_fields({"g1": int, "g2": int})
def target_two(a: int) -> dict:
    return {"g1": a, "g2": a}

@pipe_output(step(_plus))
def target_three(a: int) -> int:
    return a

@mutate(target_one, apply_to(target_two, by=value(7)).on_output("g1"), target_three, by=value(2))
def _mut(x: int, by: int) -> int:
    return x + by

@mutate(target_one)
def _mut2(x: int) -> int:
    return x * 3

@mutate(apply_to(target_one, by=source("offset")).named("custom").when(flag=True))
def add_offset(x: int, by: int) -> int:
    return x + by
"""


def test_mutate() -> None:
    module = module_of(MUTATE_MODULE)
    nodes = module_nodes(module, {"flag": True})
    assert set(nodes) == {
        "target_one.raw",
        "target_one.with_mut",
        "target_one.with_mut2",
        "target_one.custom",
        "target_one",
        "target_two",
        "g1.raw",
        "g1.with_mut",
        "g1",
        "g2",
        "target_three.raw",
        "target_three.with_plus",
        "target_three.with_mut",
        "target_three",
    }
    results = compute(nodes, ["target_one", "g1", "g2", "target_three"], a=1, offset=100)
    assert results == {"target_one": (1 + 2) * 3 + 100, "g1": 8, "g2": 1, "target_three": 4}
    assert "target_one.custom" not in module_nodes(module, {"flag": False})
    assert base.resolve_nodes(module.add_offset, {}) == []
    assert module.add_offset(1, 2) == 3


def test_mutate_misuse() -> None:
    with pytest.raises(InvalidDecoratorException, match="at least one target"):
        mutate()
    with pytest.raises(InvalidDecoratorException, match=r"apply_to\(\) takes a function"):
        apply_to("target")  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError, match="collapse"):
        mutate(double, collapse=True)
    with pytest.raises(InvalidDecoratorException, match="can only decorate functions"):
        mutate(double)(3)  # type: ignore[arg-type]
    module = module_of(
        """
        from tests.function_modifiers.test_macros import double
        from cayley.function_modifiers import mutate

        def _noop(x: int) -> int:
            return x
        """
    )
    with pytest.raises(InvalidDecoratorException, match="must live in the same module"):
        mutate(double)(module._noop)
    with pytest.raises(InvalidDecoratorException, match=r"@pipe_output on function .*cannot take"):
        local = module_of(
            """
            from cayley.function_modifiers import mutate

            def target(a: int) -> int:
                return a

            @mutate(target, nope=1)
            def _bad(x: int) -> int:
                return x
            """
        )
        assert local


# ---- dynamic_transform / model ------------------------------------------------------------


class _Weights:
    def __init__(self, config: dict, name: str, scale: float = 1.0) -> None:
        self.weights = config
        self.scale = scale

    def get_dependents(self) -> list[str]:
        return list(self.weights)

    def compute(self, **kwargs: pd.Series) -> pd.Series:
        return sum(kwargs[k] * w for k, w in self.weights.items()) * self.scale


def test_dynamic_transform() -> None:
    with pytest.warns(DeprecationWarning):
        decorator = model(_Weights, "weights", scale=2.0)

    @decorator
    def combined() -> pd.Series:
        pass

    node = nodes_of(combined, {"weights": {"a": 1.0, "b": 2.0}})["combined"]
    assert node.input_types == {"a": (pd.Series, R), "b": (pd.Series, R)}
    assert node.callable(a=pd.Series([1.0]), b=pd.Series([1.0])).tolist() == [6.0]
    with pytest.raises(base.MissingConfigParametersException, match="weights"):
        base.resolve_nodes(combined, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InvalidDecoratorException, match="must return a pandas Series"):

            @dynamic_transform(_Weights, "weights")
            def wrong() -> int:
                pass

        with pytest.raises(InvalidDecoratorException, match="take no parameters"):

            @dynamic_transform(_Weights, "weights")
            def params(a: int) -> pd.Series:
                pass
