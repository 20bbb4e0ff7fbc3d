"""The Driver and Builder: executing requests, validating them and querying the graph."""

from __future__ import annotations

import gc
import importlib.util
import sys
import types
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest

from cayley import driver
from cayley.ad_hoc_utils import module_from_source
from cayley.driver import Builder, Driver
from cayley.execution.grouping import GroupByRepeatableBlocks
from cayley.execution.plan import MissingInputsError
from cayley.graph_types import HamiltonNode
from cayley.lifecycle import GraphExecutionHook, ResultBuilder
from tests.resources import core_basic, core_dup_a, core_dup_b


@pytest.fixture
def dr() -> Driver:
    return Builder().with_modules(core_basic).build()


def counting_module() -> types.ModuleType:
    """a and b count their calls in ``CALLS`` so tests can see what ran."""
    return module_from_source(
        """
        CALLS = []

        def a(x: int) -> int:
            CALLS.append("a")
            return x + 1

        def b(a: int) -> int:
            CALLS.append("b")
            return a * 2
        """
    )


# ---- what execute returns -------------------------------------------------------------------------


def test_builder_driver_returns_a_dict(dr: Driver) -> None:
    result = dr.execute(["a", "b", "c"], inputs={"x": 1})
    assert type(result) is dict
    assert result == {"a": 2, "b": 20, "c": 22}


def test_legacy_driver_returns_a_dataframe() -> None:
    pd = pytest.importorskip("pandas")
    module = module_from_source(
        """
        import pandas as pd

        def doubled(values: pd.Series) -> pd.Series:
            return values * 2

        def shifted(doubled: pd.Series, offset: int) -> pd.Series:
            return doubled + offset
        """
    )
    result = Driver({"offset": 1}, module).execute(
        ["doubled", "shifted"], inputs={"values": pd.Series([1, 2, 3])}
    )
    assert isinstance(result, pd.DataFrame)
    assert list(result.columns) == ["doubled", "shifted"]
    assert result["doubled"].tolist() == [2, 4, 6]
    assert result["shifted"].tolist() == [3, 5, 7]


def test_legacy_driver_with_scalar_outputs_gives_a_one_row_frame() -> None:
    pd = pytest.importorskip("pandas")
    result = Driver({}, core_basic).execute(["a", "c"], inputs={"x": 1})
    assert isinstance(result, pd.DataFrame)
    assert result.to_dict("records") == [{"a": 2, "c": 22}]


def test_legacy_driver_with_a_result_builder_uses_it() -> None:
    class AsTuple(ResultBuilder):
        def build_result(self, **outputs: Any) -> tuple:
            return tuple(sorted(outputs.items()))

    result = Driver({}, core_basic, adapter=AsTuple()).execute(["a", "c"], inputs={"x": 1})
    assert result == (("a", 2), ("c", 22))


# ---- what can be requested ------------------------------------------------------------------------


def test_execute_accepts_names_functions_and_hamilton_nodes(dr: Driver) -> None:
    node_c = next(n for n in dr.list_available_variables() if n.name == "c")
    result = dr.execute(["a", core_basic.b, node_c], inputs={"x": 1})
    assert result == {"a": 2, "b": 20, "c": 22}


def test_a_function_not_from_the_modules_is_rejected(dr: Driver) -> None:
    def a(x: int) -> int:  # same name as a node, but another function
        return x

    def unrelated() -> int:
        return 0

    with pytest.raises(ValueError, match=r"not a function of this driver's modules"):
        dr.execute([a], inputs={"x": 1})
    with pytest.raises(ValueError, match=r"unrelated.*not a function of this driver's modules"):
        dr.execute([unrelated], inputs={"x": 1})


def test_final_vars_must_be_a_list(dr: Driver) -> None:
    with pytest.raises(TypeError, match=r"final_vars must be a list"):
        dr.execute("c", inputs={"x": 1})  # type: ignore[arg-type]


def test_inputs_can_be_requested_as_outputs(dr: Driver) -> None:
    assert dr.execute(["x", "a"], inputs={"x": 3}) == {"x": 3, "a": 4}
    assert dr.execute(["y"], inputs={"y": 5}) == {"y": 5}


def test_unknown_outputs_are_all_listed(dr: Driver) -> None:
    with pytest.raises(ValueError, match=r"Unknown nodes \['zzz', 'qqq'\] requested"):
        dr.execute(["c", "zzz", "qqq"], inputs={"x": 1})


def test_unknown_extra_inputs_are_ignored(dr: Driver) -> None:
    assert dr.execute(["a"], inputs={"x": 1, "not_a_node": object()}) == {"a": 2}


# ---- inputs and overrides ---------------------------------------------------------------------------


def test_overrides_short_circuit_upstream() -> None:
    module = counting_module()
    dr = Builder().with_modules(module).build()
    assert dr.execute(["b"], overrides={"a": 5}) == {"b": 10}  # x is not needed
    assert module.CALLS == ["b"]
    assert dr.execute(["a", "b"], overrides={"a": 5}) == {"a": 5, "b": 10}


def test_override_wins_over_input(dr: Driver) -> None:
    assert dr.execute(["c"], inputs={"x": 1}, overrides={"a": 5}) == {"c": 55}
    assert dr.execute(["c"], inputs={"x": 1}, overrides={"b": 0}) == {"c": 2}


def test_override_of_an_input(dr: Driver) -> None:
    assert dr.execute(["a"], overrides={"x": 9}) == {"a": 10}


def test_missing_inputs_are_all_listed(dr: Driver) -> None:
    with pytest.raises(MissingInputsError, match=r"2 errors encountered") as info:
        dr.execute(["c", "d"])
    message = str(info.value)
    assert "Required input x not provided for nodes: ['a']" in message
    assert "Required input z not provided for nodes: ['d']" in message
    assert isinstance(info.value, ValueError)


def test_missing_input_lists_every_consumer() -> None:
    module = module_from_source(
        """
        def left(shared: int) -> int:
            return shared

        def right(shared: int) -> int:
            return shared

        def both(left: int, right: int) -> int:
            return left + right
        """
    )
    dr = Builder().with_modules(module).build()
    with pytest.raises(
        MissingInputsError,
        match=r"Required input shared not provided for nodes: \['left', 'right'\]",
    ):
        dr.execute(["both"])


def test_input_for_a_computed_node_warns_and_is_ignored(dr: Driver) -> None:
    with pytest.warns(UserWarning, match=r"\['a'\] name nodes computed by functions"):
        result = dr.execute(["c"], inputs={"x": 1, "a": 100})
    assert result == {"c": 22}


def test_input_for_a_computed_node_warning_points_at_the_caller(dr: Driver) -> None:
    with pytest.warns(UserWarning, match=r"\['a'\]") as record:
        dr.execute(["c"], inputs={"x": 1, "a": 100})
    assert record[0].filename == __file__


def test_input_for_a_computed_node_does_not_replace_a_missing_input(dr: Driver) -> None:
    with pytest.warns(UserWarning, match=r"\['a'\]"):
        with pytest.raises(MissingInputsError, match=r"Required input x not provided"):
            dr.execute(["c"], inputs={"a": 100})


def test_runtime_input_type_mismatch(dr: Driver) -> None:
    with pytest.raises(
        ValueError,
        match=r"1 errors encountered:\n  Error: Type requirement mismatch\. "
        r"Expected x:<class 'int'> got 'one':<class 'str'> instead\. Input x feeds nodes \['a'\]",
    ):
        dr.execute(["a"], inputs={"x": "one"})


def test_runtime_type_mismatches_are_all_listed(dr: Driver) -> None:
    with pytest.raises(ValueError, match=r"2 errors encountered") as info:
        dr.execute(["c", "d"], inputs={"x": "one", "z": 2})
    assert "Expected x:<class 'int'>" in str(info.value)
    assert "Expected z:<class 'str'>" in str(info.value)


def test_none_input_is_accepted() -> None:
    module = module_from_source(
        """
        def is_missing(value: int) -> bool:
            return value is None
        """
    )
    dr = Builder().with_modules(module).build()
    assert dr.execute(["is_missing"], inputs={"value": None}) == {"is_missing": True}
    assert dr.execute(["is_missing"], inputs={"value": 3}) == {"is_missing": False}


def test_input_type_check_is_shallow() -> None:
    module = module_from_source(
        """
        def first(values: list[int]) -> object:
            return values[0]
        """
    )
    dr = Builder().with_modules(module).build()
    assert dr.execute(["first"], inputs={"values": ["a"]}) == {"first": "a"}


# ---- raw_execute and validate_execution --------------------------------------------------------------


def test_raw_execute_is_deprecated_and_returns_a_dict() -> None:
    dr = Driver({}, core_basic)  # would return a DataFrame from execute
    with pytest.warns(DeprecationWarning, match=r"raw_execute is deprecated") as record:
        result = dr.raw_execute(["a", "c"], inputs={"x": 1})
    assert record[0].filename == __file__  # attributed to the caller
    assert type(result) is dict
    assert result == {"a": 2, "c": 22}


def test_validate_execution(dr: Driver) -> None:
    with pytest.raises(MissingInputsError, match=r"Required input x not provided"):
        dr.validate_execution(["c"])
    with pytest.raises(ValueError, match=r"Unknown nodes \['nope'\]"):
        dr.validate_execution(["nope"], inputs={"x": 1})
    with pytest.raises(ValueError, match=r"Type requirement mismatch"):
        dr.validate_execution(["c"], inputs={"x": "1"})
    assert dr.validate_execution(["c"], inputs={"x": 1}) is None
    assert dr.validate_execution(["c"], overrides={"a": 1}) is None


def test_validate_execution_runs_nothing() -> None:
    module = counting_module()
    dr = Builder().with_modules(module).build()
    assert dr.validate_execution(["b"], inputs={"x": 1}) is None
    assert module.CALLS == []


# ---- listing and querying ------------------------------------------------------------------------------


def names(nodes: list[HamiltonNode]) -> list[str]:
    return sorted(n.name for n in nodes)


def test_list_available_variables_includes_inputs(dr: Driver) -> None:
    variables = dr.list_available_variables()
    assert all(isinstance(v, HamiltonNode) for v in variables)
    assert names(variables) == ["a", "b", "c", "d", "x", "y", "z"]


def test_tag_filter(dr: Driver) -> None:
    assert names(dr.list_available_variables(tag_filter={"team": "core"})) == ["b", "c"]
    # AND across keys
    assert names(dr.list_available_variables(tag_filter={"team": "core", "stage": "late"})) == ["c"]
    assert names(dr.list_available_variables(tag_filter={"team": "other", "stage": "late"})) == []
    # a list matches any of its members
    assert names(dr.list_available_variables(tag_filter={"team": ["other", "core"]})) == [
        "b",
        "c",
        "d",
    ]
    # None means "tag present"
    assert names(dr.list_available_variables(tag_filter={"stage": None})) == ["b", "c"]
    assert names(dr.list_available_variables(tag_filter={"module": None})) == ["a", "b", "c", "d"]
    assert names(dr.list_available_variables(tag_filter={"missing_tag": None})) == []
    assert names(dr.list_available_variables(tag_filter={})) == names(dr.list_available_variables())


@pytest.mark.parametrize("bad_value", [1, 2.5, {"a": "b"}])
def test_tag_filter_rejects_other_value_types(dr: Driver, bad_value: Any) -> None:
    with pytest.raises(ValueError, match=r"Tag filter values must be a string, a list of strings"):
        dr.list_available_variables(tag_filter={"team": bad_value})


def test_what_is_upstream_of_is_inclusive_and_includes_inputs(dr: Driver) -> None:
    assert names(dr.what_is_upstream_of("c")) == ["a", "b", "c", "x", "y"]
    assert names(dr.what_is_upstream_of("a", "d")) == ["a", "d", "x", "z"]
    assert names(dr.what_is_upstream_of("x")) == ["x"]


def test_what_is_downstream_of(dr: Driver) -> None:
    assert names(dr.what_is_downstream_of("a")) == ["a", "b", "c"]
    assert names(dr.what_is_downstream_of("y")) == ["b", "c", "y"]
    assert names(dr.what_is_downstream_of("d")) == ["d"]


def test_what_is_the_path_between(dr: Driver) -> None:
    assert names(dr.what_is_the_path_between("x", "c")) == ["a", "b", "c", "x"]
    assert names(dr.what_is_the_path_between("y", "c")) == ["b", "c", "y"]
    assert dr.what_is_the_path_between("x", "d") == []
    assert dr.what_is_the_path_between("c", "a") == []
    with pytest.raises(ValueError, match=r"Unknown nodes \['nowhere'\]"):
        dr.what_is_the_path_between("x", "nowhere")
    with pytest.raises(ValueError, match=r"Unknown nodes \['nowhere'\]"):
        dr.what_is_the_path_between("nowhere", "c")


def test_graph_queries_reject_unknown_names(dr: Driver) -> None:
    with pytest.raises(ValueError, match=r"Unknown nodes \['nope'\]"):
        dr.what_is_upstream_of("nope")
    with pytest.raises(ValueError, match=r"Unknown nodes \['nope'\]"):
        dr.what_is_downstream_of("nope")


def test_hamilton_node_fields(dr: Driver) -> None:
    by_name = {n.name: n for n in dr.list_available_variables()}
    a, b, c, x = by_name["a"], by_name["b"], by_name["c"], by_name["x"]
    assert a.name == "a"
    assert a.type is int
    assert a.tags == {"module": "tests.resources.core_basic"}
    assert b.tags == {"module": "tests.resources.core_basic", "team": "core", "stage": "early"}
    assert a.documentation == "One more than x."
    assert c.documentation == ""
    assert a.required_dependencies == {"x"}
    assert a.optional_dependencies == set()
    assert b.required_dependencies == {"a"}
    assert b.optional_dependencies == {"y"}
    assert b.optional_dependencies_default_values == {"y": 10}
    assert c.required_dependencies == {"a", "b"}
    assert a.originating_functions == (core_basic.a,)
    assert not a.is_external_input
    assert x.is_external_input
    assert x.type is int
    assert x.required_dependencies == set()
    assert isinstance(a.version, str) and len(a.version) == 64
    assert a.version != b.version


def test_variable_is_hamilton_node() -> None:
    assert driver.Variable is HamiltonNode


def _load_module_file(directory: Path, source: str) -> types.ModuleType:
    name = f"core_version_{uuid.uuid4().hex[:10]}"
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _version_of(module: types.ModuleType, name: str) -> str:
    dr = Builder().with_modules(module).build()
    (node,) = [n for n in dr.list_available_variables() if n.name == name]
    assert node.version is not None
    return node.version


def test_version_ignores_docstrings_and_comments_but_not_code(tmp_path: Path) -> None:
    original = _load_module_file(
        tmp_path,
        'def value(x: int) -> int:\n    """Doc one."""\n    return x + 1\n',
    )
    reworded = _load_module_file(
        tmp_path,
        "def value(x: int) -> int:\n"
        '    """A different docstring,\n\n    over several lines."""\n'
        "    # a new comment\n"
        "    return x + 1  # and a trailing one\n",
    )
    undocumented = _load_module_file(tmp_path, "def value(x: int) -> int:\n    return x + 1\n")
    changed = _load_module_file(
        tmp_path,
        'def value(x: int) -> int:\n    """Doc one."""\n    return x + 2\n',
    )
    base = _version_of(original, "value")
    assert _version_of(reworded, "value") == base
    assert _version_of(undocumented, "value") == base
    assert _version_of(changed, "value") != base
    assert _version_of(original, "value") == base  # stable across builds


# ---- Builder -----------------------------------------------------------------------------------------


class _Shape(ResultBuilder):
    def build_result(self, **outputs: Any) -> Any:
        return sorted(outputs)


class _Watch(GraphExecutionHook):
    def __init__(self) -> None:
        self.runs = 0

    def run_before_graph_execution(self, **future_kwargs: Any) -> None:
        self.runs += 1

    def run_after_graph_execution(self, **future_kwargs: Any) -> None:
        pass


def test_with_config_merges_repeated_calls() -> None:
    builder = Builder().with_config({"x": 1, "y": 2}).with_config({"y": 3})
    assert builder.config == {"x": 1, "y": 3}
    dr = builder.with_modules(core_basic).build()
    assert dr.execute(["b"]) == {"b": 6}


def test_with_modules_appends_and_rejects_non_modules() -> None:
    builder = Builder().with_modules(core_dup_a).with_modules(core_basic)
    assert builder.modules == [core_dup_a, core_basic]
    with pytest.raises(TypeError, match=r"with_modules expects modules"):
        Builder().with_modules("tests.resources.core_basic")  # type: ignore[arg-type]


def test_with_adapters_rejects_an_unpacked_list() -> None:
    with pytest.raises(TypeError, match=r"unpack the list"):
        Builder().with_adapters([_Shape()])


def test_with_adapter_can_be_called_only_once() -> None:
    builder = Builder().with_adapter(_Shape())
    with pytest.raises(ValueError, match=r"with_adapter was already called"):
        builder.with_adapter(_Shape())


def test_enable_dynamic_execution_needs_no_experimental_flag() -> None:
    builder = Builder().with_modules(core_basic)
    assert builder.enable_dynamic_execution() is builder
    assert builder.v2_executor is True
    assert builder.build().execute(["c"], inputs={"x": 1}) == {"c": 22}
    also = Builder().with_modules(core_basic).enable_dynamic_execution(allow_experimental_mode=True)
    assert also.build().execute(["c"], inputs={"x": 1}) == {"c": 22}


def test_copy_copies_every_setting() -> None:
    from cayley.execution.executors import SynchronousLocalTaskExecutor

    adapter, legacy = _Shape(), _Shape()
    local, remote = SynchronousLocalTaskExecutor(), SynchronousLocalTaskExecutor()
    strategy = GroupByRepeatableBlocks()
    original = (
        Builder()
        .with_config({"k": 1})
        .with_modules(core_dup_a, core_dup_b)
        .with_adapters(adapter)
        .with_adapter(legacy)
        .allow_module_overrides()
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_local_executor(local)
        .with_remote_executor(remote)
        .with_grouping_strategy(strategy)
    )
    copied = original.copy()
    assert copied is not original
    assert copied.config == {"k": 1}
    assert copied.modules == [core_dup_a, core_dup_b]
    assert copied.adapters == [adapter]
    assert copied.legacy_graph_adapter is legacy
    assert copied._allow_module_overrides is True
    assert copied.v2_executor is True
    assert copied.local_executor is local
    assert copied.remote_executor is remote
    assert copied.grouping_strategy is strategy
    assert copied.execution_manager is None
    # independent containers
    copied.with_config({"k": 2}).with_modules(core_basic).with_adapters(_Shape())
    assert original.config == {"k": 1}
    assert original.modules == [core_dup_a, core_dup_b]
    assert original.adapters == [adapter]


def test_copy_keeps_allow_module_overrides_in_effect() -> None:
    builder = Builder().with_modules(core_dup_a, core_dup_b).allow_module_overrides()
    assert builder.copy().build().execute(["shared"]) == {"shared": 2}
    with pytest.raises(ValueError, match=r"Cannot define function shared more than once"):
        Builder().with_modules(core_dup_a, core_dup_b).copy().build()


def test_copy_keeps_the_execution_manager() -> None:
    from cayley.execution.executors import DefaultExecutionManager, SynchronousLocalTaskExecutor

    manager = DefaultExecutionManager(
        SynchronousLocalTaskExecutor(), SynchronousLocalTaskExecutor()
    )
    copied = Builder().with_execution_manager(manager).copy()
    assert copied.execution_manager is manager


def test_build_does_not_mutate_the_builder() -> None:
    legacy, watch = _Shape(), _Watch()
    builder = (
        Builder()
        .with_modules(core_basic)
        .with_config({"y": 2})
        .with_adapters(watch)
        .with_adapter(legacy)
    )
    before = (dict(builder.config), list(builder.modules), list(builder.adapters))
    first = builder.build()
    second = builder.build()
    assert (builder.config, builder.modules, builder.adapters) == before
    assert builder.legacy_graph_adapter is legacy
    assert first is not second
    assert first.execute(["c"], inputs={"x": 1}) == ["c"]
    assert second.execute(["c"], inputs={"x": 1}) == ["c"]
    assert watch.runs == 2


def test_two_builds_give_independent_drivers() -> None:
    builder = Builder().with_modules(core_basic)
    first = builder.build()
    second = builder.build()
    first.execute(["c"], inputs={"x": 1})
    assert len(first._plans) == 1
    assert len(second._plans) == 0
    assert second.execute(["c"], inputs={"x": 2}) == {"c": 33}


# ---- the engine ---------------------------------------------------------------------------------------


def test_node_exception_keeps_its_type_and_gains_a_note() -> None:
    module = module_from_source(
        """
        class PipelineProblem(Exception):
            pass

        def fine(x: int) -> int:
            return x

        def broken(fine: int) -> int:
            raise PipelineProblem(f"cannot use {fine}")

        def divides(fine: int) -> float:
            return 1 / (fine - fine)
        """
    )
    dr = Builder().with_modules(module).build()
    with pytest.raises(module.PipelineProblem, match=r"cannot use 3") as info:
        dr.execute(["broken"], inputs={"x": 3})
    assert type(info.value) is module.PipelineProblem
    notes = "\n".join(info.value.__notes__)
    assert "'broken'" in notes
    assert f"{module.__name__}.broken" in notes
    with pytest.raises(ZeroDivisionError, match=r"division by zero") as info:
        dr.execute(["divides"], inputs={"x": 3})
    assert any("'divides'" in note for note in info.value.__notes__)


def test_plans_are_cached_per_kind_of_request(dr: Driver) -> None:
    dr.execute(["c"], inputs={"x": 1})
    dr.execute(["c"], inputs={"x": 2})
    assert len(dr._plans) == 1
    dr.execute(["c"], inputs={"x": 2}, overrides={"a": 3})
    assert len(dr._plans) == 2
    dr.execute(["c"], inputs={"x": 5}, overrides={"a": 7})
    assert len(dr._plans) == 2
    dr.execute(["c"], inputs={"x": 5}, overrides={"b": 7})
    assert len(dr._plans) == 3
    dr.execute(["c"], inputs={"x": 5, "y": 1})  # another set of input names
    assert len(dr._plans) == 4


def test_cached_plan_gives_fresh_results(dr: Driver) -> None:
    assert dr.execute(["c"], inputs={"x": 1}) == {"c": 22}
    assert dr.execute(["c"], inputs={"x": 2}) == {"c": 33}
    assert dr.execute(["c"], inputs={"x": 2}, overrides={"a": 1}) == {"c": 11}
    assert dr.execute(["c"], inputs={"x": 2}, overrides={"a": 2}) == {"c": 22}


def test_long_chain_executes() -> None:
    length = 100_000
    body = "def n0(x: int) -> int:\n    return x + 1\n" + "".join(
        f"def n{i}(n{i - 1}: int) -> int:\n    return n{i - 1} + 1\n" for i in range(1, length)
    )
    was_enabled = gc.isenabled()
    gc.disable()  # hundreds of thousands of new objects: the cyclic GC only slows this down
    try:
        module = module_from_source(body)
        dr = Builder().with_modules(module).build()
        assert len(dr.graph.nodes) == length + 1
        last = f"n{length - 1}"
        assert dr.execute([last, "n0"], inputs={"x": 0}) == {last: length, "n0": 1}
    finally:
        if was_enabled:
            gc.enable()


def test_wide_fan_in_executes() -> None:
    width = 2_000
    source = "".join(f"def w{i}(x: int) -> int:\n    return x + {i}\n" for i in range(width))
    params = ", ".join(f"w{i}: int" for i in range(width))
    source += f"def total({params}) -> int:\n    return sum(locals().values())\n"
    dr = Builder().with_modules(module_from_source(source)).build()
    assert dr.execute(["total"], inputs={"x": 1}) == {"total": width + width * (width - 1) // 2}


def test_intermediate_values_are_not_returned(dr: Driver) -> None:
    assert dr.execute(["c"], inputs={"x": 1}) == {"c": 22}


def test_requesting_the_same_output_twice(dr: Driver) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dr.execute(["c", "c"], inputs={"x": 1}) == {"c": 22}


def test_export_execution_lists_the_run(dr: Driver) -> None:
    import json

    exported = json.loads(dr.export_execution(["b"], inputs={"x": 1}))
    assert [n["name"] for n in exported["nodes"]][:2] == ["a", "b"]
    b = next(n for n in exported["nodes"] if n["name"] == "b")
    assert b["required_dependencies"] == ["a"]
    assert b["optional_dependencies"] == ["y"]
    assert b["output_type"] == "int"


def test_tag_filter_with_list_valued_tags() -> None:
    module = module_from_source(
        """
        from cayley.function_modifiers import tag

        @tag(kinds=["alpha", "beta"])
        def tagged() -> int:
            return 1

        @tag(kinds="gamma")
        def other() -> int:
            return 2
        """
    )
    dr = Builder().with_modules(module).build()
    assert names(dr.list_available_variables(tag_filter={"kinds": "beta"})) == ["tagged"]
    assert names(dr.list_available_variables(tag_filter={"kinds": ["zeta", "alpha"]})) == ["tagged"]
    assert names(dr.list_available_variables(tag_filter={"kinds": ["gamma", "alpha"]})) == [
        "other",
        "tagged",
    ]
    assert names(dr.list_available_variables(tag_filter={"kinds": "delta"})) == []


def test_driver_pickles_by_module_name() -> None:
    import pickle

    from cayley.base import DictResult

    dr = (
        Builder()
        .with_modules(core_basic)
        .with_config({"y": 2})
        .with_adapters(DictResult())
        .allow_module_overrides()
        .build()
    )
    copy = pickle.loads(pickle.dumps(dr))
    assert copy.execute(["c"], inputs={"x": 1}) == dr.execute(["c"], inputs={"x": 1})
    assert copy.config == {"y": 2}
    assert copy._allow_module_overrides is True
    assert len(copy.adapter.adapters) == 1


def test_driver_of_a_run_time_module_refuses_to_pickle() -> None:
    import pickle

    module = module_from_source("def a(x: int) -> int:\n    return x\n")
    dr = Builder().with_modules(module).build()
    with pytest.raises(pickle.PicklingError, match="made at run time"):
        pickle.dumps(dr)
