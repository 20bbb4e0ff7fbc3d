"""Graph construction: which functions become nodes, how they are wired, what is rejected."""

from __future__ import annotations

import types
from typing import Any, Union

import pytest

from cayley import graph_utils
from cayley.ad_hoc_utils import module_from_source
from cayley.driver import Builder, Driver
from cayley.graph import CycleError, FunctionGraph, GraphError
from cayley.node import DependencyType, Node, NodeType
from tests.resources import core_basic, core_dup_a, core_dup_b, core_future


def build(*modules: types.ModuleType, config: dict[str, Any] | None = None) -> Driver:
    return Builder().with_modules(*modules).with_config(config or {}).build()


# ---- discovery ---------------------------------------------------------------------------------


def test_public_functions_defined_in_the_module_become_nodes() -> None:
    graph = FunctionGraph.from_modules(core_basic)
    assert set(graph.nodes) == {"a", "b", "c", "d", "x", "y", "z"}
    assert "join" not in graph.nodes  # imported
    assert "_private" not in graph.nodes
    assert "tag" not in graph.nodes  # an imported class


def test_find_functions_checks_the_function_name_not_the_attribute() -> None:
    module = module_from_source(
        """
        import functools

        def visible() -> int:
            return 1

        def _hidden() -> int:
            return 2

        alias_of_hidden = _hidden
        _alias_of_visible = visible
        partial_fn = functools.partial(visible)

        class NotAFunction:
            pass
        """
    )
    names = [name for name, _ in graph_utils.find_functions(module)]
    assert names == ["visible"]
    assert set(FunctionGraph.from_modules(module).nodes) == {"visible"}


def test_parameters_are_dependencies_in_parameter_order() -> None:
    graph = FunctionGraph.from_modules(core_basic)
    assert graph.dependencies["a"] == ("x",)
    assert graph.dependencies["b"] == ("a", "y")
    assert graph.dependencies["c"] == ("a", "b")
    assert sorted(graph.dependents["a"]) == ["b", "c"]
    assert graph.dependencies["x"] == ()


def test_unproduced_parameters_become_typed_inputs() -> None:
    graph = FunctionGraph.from_modules(core_basic)
    for name, expected_type in {"x": int, "y": int, "z": str}.items():
        node = graph.nodes[name]
        assert node.user_defined
        assert node.node_role == NodeType.EXTERNAL
        assert node.type is expected_type
    for name in ("a", "b", "c", "d"):
        assert not graph.nodes[name].user_defined
        assert graph.nodes[name].node_role == NodeType.STANDARD


def test_defaults_make_dependencies_optional() -> None:
    graph = FunctionGraph.from_modules(core_basic)
    b = graph.nodes["b"]
    assert b.input_types["y"] == (int, DependencyType.OPTIONAL)
    assert b.input_types["a"] == (int, DependencyType.REQUIRED)
    assert b.optional_dependencies == {"y"}
    assert b.required_dependencies == {"a"}
    assert b.default_parameter_values == {"y": 10}


def test_absent_optional_input_uses_the_default() -> None:
    dr = build(core_basic)
    assert dr.execute(["b"], inputs={"x": 1}) == {"b": 20}  # (1 + 1) * 10
    assert dr.execute(["b"], inputs={"x": 1, "y": 3}) == {"b": 6}


def test_default_is_ignored_when_a_node_produces_the_parameter() -> None:
    module = module_from_source(
        """
        def base() -> int:
            return 7

        def uses(base: int = 1000) -> int:
            return base * 2
        """
    )
    assert build(module).execute(["uses"]) == {"uses": 14}


def test_node_from_fn_records_name_type_doc_and_module_tag() -> None:
    node = Node.from_fn(core_basic.a)
    assert node.name == "a"
    assert node.type is int
    assert node.documentation == "One more than x."
    assert node.tags == {"module": "tests.resources.core_basic"}
    assert node.originating_functions == (core_basic.a,)
    assert node.callable(x=4) == 5


# ---- config --------------------------------------------------------------------------------------


def test_config_value_replaces_the_node_of_the_same_name() -> None:
    dr = build(core_basic, config={"a": 100})
    # x is no longer needed: a comes from the config
    assert dr.execute(["c"]) == {"c": 100 + 1000}
    assert not any(n.name == "x" for n in dr.list_available_variables())


def test_config_value_feeds_inputs() -> None:
    dr = build(core_basic, config={"x": 4, "y": 2})
    assert dr.execute(["b", "c"]) == {"b": 10, "c": 15}


def test_unused_config_key_becomes_an_input_node() -> None:
    dr = build(core_basic, config={"unused_setting": "on"})
    by_name = {n.name: n for n in dr.list_available_variables()}
    assert by_name["unused_setting"].is_external_input
    assert by_name["unused_setting"].type is Any
    assert dr.execute(["unused_setting"]) == {"unused_setting": "on"}


def test_config_and_inputs_must_be_disjoint() -> None:
    dr = build(core_basic, config={"x": 1})
    with pytest.raises(ValueError, match=r"\['x'\].*mutually disjoint"):
        dr.execute(["c"], inputs={"x": 2})


# ---- several modules -------------------------------------------------------------------------------


def test_duplicate_function_across_modules_names_both_modules() -> None:
    with pytest.raises(
        GraphError,
        match=r"Cannot define function shared more than once.*"
        r"tests\.resources\.core_dup_a.*tests\.resources\.core_dup_b",
    ):
        build(core_dup_a, core_dup_b)


def test_module_overrides_let_the_later_module_win() -> None:
    dr = Builder().with_modules(core_dup_a, core_dup_b).allow_module_overrides().build()
    assert dr.execute(["shared", "only_a", "only_b"]) == {
        "shared": 2,
        "only_a": 20,
        "only_b": 200,
    }
    dr = Builder().with_modules(core_dup_b, core_dup_a).allow_module_overrides().build()
    assert dr.execute(["shared"]) == {"shared": 1}


def test_legacy_driver_accepts_allow_module_overrides() -> None:
    dr = Driver({}, core_dup_a, core_dup_b, adapter=[], allow_module_overrides=True)
    graph = dr.graph
    assert graph.nodes["shared"].callable() == 2


def test_nodes_of_several_modules_are_wired_together() -> None:
    downstream = module_from_source(
        """
        def e(c: int, d: str) -> str:
            return d * c
        """
    )
    dr = build(core_basic, downstream)
    assert dr.execute(["e"], inputs={"x": 0, "z": "ab"}) == {"e": "AB" * 11}


# ---- input narrowing ---------------------------------------------------------------------------------


def test_input_type_is_narrowed_to_the_strictest_consumer() -> None:
    module = module_from_source(
        """
        from typing import Union

        def wide(x: Union[int, str]) -> str:
            return str(x)

        def narrow(x: int) -> int:
            return x + 1
        """
    )
    graph = FunctionGraph.from_modules(module)
    assert graph.nodes["x"].type is int
    dr = build(module)
    assert dr.execute(["wide", "narrow"], inputs={"x": 3}) == {"wide": "3", "narrow": 4}
    with pytest.raises(ValueError, match=r"Type requirement mismatch\. Expected x:<class 'int'>"):
        dr.execute(["wide"], inputs={"x": "three"})


def test_narrowing_keeps_the_stricter_type_in_either_order() -> None:
    module = module_from_source(
        """
        from typing import Union

        def narrow(x: int) -> int:
            return x

        def wide(x: Union[int, str]) -> str:
            return str(x)
        """
    )
    assert FunctionGraph.from_modules(module).nodes["x"].type is int


def test_incompatible_consumers_of_one_input_name_both() -> None:
    module = module_from_source(
        """
        def wants_int(x: int) -> int:
            return x

        def wants_str(x: str) -> str:
            return x
        """
    )
    with pytest.raises(GraphError, match=r"incompatible types") as info:
        build(module)
    message = str(info.value)
    assert "wants_int" in message and "wants_str" in message
    assert "'x'" in message


def test_compatible_consumers_keep_a_union_input() -> None:
    graph = FunctionGraph.from_modules(
        module_from_source(
            """
            from typing import Union

            def one(x: Union[int, str]) -> int:
                return 1

            def two(x: Union[int, str]) -> int:
                return 2
            """
        )
    )
    assert graph.nodes["x"].type == Union[int, str]  # noqa: UP007


# ---- annotations --------------------------------------------------------------------------------------


def test_future_annotations_module_builds_and_runs() -> None:
    graph = FunctionGraph.from_modules(core_future)
    assert graph.nodes["numbers"].type == list[int]
    assert graph.nodes["total"].input_types["offset"][1] == DependencyType.OPTIONAL
    assert graph.nodes["count"].type is int
    dr = build(core_future)
    assert dr.execute(["labelled"], inputs={"count": 4}) == {"labelled": {"total": 6}}
    assert dr.execute(["total"], inputs={"count": 3, "offset": 10}) == {"total": 13}


def test_missing_parameter_annotation_names_function_and_parameter() -> None:
    module = module_from_source(
        """
        def needs_hint(x, y: int) -> int:
            return x + y
        """
    )
    with pytest.raises(ValueError, match=r"Missing type hint for parameter 'x'.*needs_hint"):
        build(module)


def test_missing_return_annotation_names_function() -> None:
    module = module_from_source(
        """
        def no_return_hint(x: int):
            return x
        """
    )
    with pytest.raises(ValueError, match=r"Missing type hint for the return value.*no_return_hint"):
        build(module)


def test_unresolvable_annotation_is_a_clear_error() -> None:
    module = module_from_source(
        """
        from __future__ import annotations

        def uses_unknown(x: NotDefinedAnywhere) -> int:
            return 1
        """
    )
    with pytest.raises(ValueError, match=r"uses_unknown.*NotDefinedAnywhere"):
        build(module)


def test_module_from_source_does_not_impose_postponed_annotations() -> None:
    module = module_from_source(
        """
        def f(x: int) -> int:
            return x
        """
    )
    assert module.f.__annotations__ == {"x": int, "return": int}


# ---- cycles -------------------------------------------------------------------------------------------


def test_two_node_cycle_is_rejected_with_the_cycle_listed() -> None:
    module = module_from_source(
        """
        def a(b: int) -> int:
            return b

        def b(a: int) -> int:
            return a
        """
    )
    with pytest.raises(CycleError, match=r"cycle: (a -> b -> a|b -> a -> b)\b"):
        build(module)


def test_longer_cycle_lists_every_member() -> None:
    module = module_from_source(
        """
        def start(x: int) -> int:
            return x

        def p(start: int, r: int) -> int:
            return start + r

        def q(p: int) -> int:
            return p

        def r(q: int) -> int:
            return q
        """
    )
    with pytest.raises(CycleError, match=r"(p -> q -> r -> p|q -> r -> p -> q|r -> p -> q -> r)"):
        build(module)


def test_self_cycle_is_rejected() -> None:
    module = module_from_source(
        """
        def foo(foo: int) -> int:
            return foo
        """
    )
    with pytest.raises(CycleError, match=r"cycle: foo -> foo"):
        build(module)


def test_cycle_error_is_a_value_error() -> None:
    assert issubclass(CycleError, GraphError)
    assert issubclass(GraphError, ValueError)


# ---- graph queries -----------------------------------------------------------------------------------


def test_upstream_downstream_and_path() -> None:
    graph = FunctionGraph.from_modules(core_basic)
    assert graph.upstream_of("c") == {"a", "b", "c", "x", "y"}
    assert graph.downstream_of("a") == {"a", "b", "c"}
    assert graph.path_between("x", "c") == {"x", "a", "b", "c"}
    assert graph.path_between("z", "c") == set()
    order = graph.in_topological_order(["c", "b", "a", "x"])
    assert order.index("x") < order.index("a") < order.index("b") < order.index("c")
    with pytest.raises(ValueError, match=r"Unknown nodes \['nope'\] requested"):
        graph.upstream_of("nope")


def test_required_nodes_stop_at_overrides_and_skip_absent_optional_inputs() -> None:
    graph = FunctionGraph.from_modules(core_basic)
    assert graph.required_nodes(["c"], provided=["x"], overridden=[]) == {"a", "b", "c", "x"}
    assert graph.required_nodes(["c"], provided=["x", "y"], overridden=[]) == {
        "a",
        "b",
        "c",
        "x",
        "y",
    }
    assert graph.required_nodes(["c"], provided=[], overridden=["a"]) == {"a", "b", "c"}
