"""Lifecycle adapters: hooks observe a run, methods replace behaviour, validators reject graphs."""

from __future__ import annotations

from typing import Any

import pytest

from cayley.ad_hoc_utils import module_from_source
from cayley.driver import Builder, Driver
from cayley.graph_types import HamiltonGraph, HamiltonNode
from cayley.lifecycle import (
    EdgeConnectionHook,
    GraphAdapter,
    GraphConstructionHook,
    GraphExecutionHook,
    LifecycleAdapterSet,
    NodeExecutionHook,
    NodeExecutionMethod,
    ResultBuilder,
    StaticValidator,
    ValidationException,
)
from cayley.lifecycle.base import InvalidLifecycleAdapter
from tests.resources import core_basic


class Recorder(GraphConstructionHook, GraphExecutionHook, NodeExecutionHook):
    """Appends one event per hook call to ``log`` (shared between recorders if given)."""

    def __init__(self, label: str = "rec", log: list | None = None) -> None:
        self.label = label
        self.log: list[tuple] = log if log is not None else []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _add(self, kind: str, kwargs: dict[str, Any], *detail: Any) -> None:
        self.calls.append((kind, kwargs))
        self.log.append((self.label, kind, *detail))

    def run_after_graph_construction(self, **kwargs: Any) -> None:
        self._add("construct", kwargs)

    def run_before_graph_execution(self, **kwargs: Any) -> None:
        self._add("before_graph", kwargs)

    def run_after_graph_execution(self, **kwargs: Any) -> None:
        self._add("after_graph", kwargs, kwargs["success"])

    def run_before_node_execution(self, **kwargs: Any) -> None:
        self._add("before_node", kwargs, kwargs["node_name"])

    def run_after_node_execution(self, **kwargs: Any) -> None:
        self._add("after_node", kwargs, kwargs["node_name"], kwargs["success"])

    def kinds(self) -> list[tuple]:
        return [entry[1:] for entry in self.log if entry[0] == self.label]

    def calls_of(self, kind: str) -> list[dict[str, Any]]:
        return [kwargs for k, kwargs in self.calls if k == kind]


def failing_module() -> Any:
    return module_from_source(
        """
        class Broken(Exception):
            pass

        def ok(x: int) -> int:
            return x + 1

        def fails(ok: int) -> int:
            raise Broken(f"ok was {ok}")

        def after(fails: int) -> int:
            return fails
        """
    )


# ---- node hooks ------------------------------------------------------------------------------------


def test_node_hook_receives_documented_arguments() -> None:
    recorder = Recorder()
    dr = Builder().with_modules(core_basic).with_adapters(recorder).build()
    assert dr.execute(["b"], inputs={"x": 1}) == {"b": 20}
    before_a, before_b = recorder.calls_of("before_node")
    assert before_a["node_name"] == "a"
    assert before_a["node_tags"] == {"module": "tests.resources.core_basic"}
    assert before_a["node_kwargs"] == {"x": 1}
    assert before_a["node_return_type"] is int
    assert before_a["task_id"] is None
    assert isinstance(before_a["run_id"], str) and before_a["run_id"]
    assert before_b["node_kwargs"] == {"a": 2}  # the absent optional y is not passed
    assert before_b["node_tags"]["team"] == "core"
    after_a, after_b = recorder.calls_of("after_node")
    assert after_a["node_name"] == "a"
    assert after_a["result"] == 2
    assert after_a["error"] is None
    assert after_a["success"] is True
    assert after_a["task_id"] is None
    assert after_a["node_kwargs"] == {"x": 1}
    assert after_a["node_return_type"] is int
    assert after_b["result"] == 20
    run_ids = {call["run_id"] for _, call in recorder.calls if "run_id" in call}
    assert len(run_ids) == 1


def test_hook_order_across_construction_and_runs() -> None:
    recorder = Recorder()
    dr = Builder().with_modules(core_basic).with_adapters(recorder).build()
    assert recorder.kinds() == [("construct",)]
    dr.execute(["c"], inputs={"x": 1})
    dr.execute(["c"], inputs={"x": 2}, overrides={"b": 5})
    per_node_first = [
        ("before_node", "a"),
        ("after_node", "a", True),
        ("before_node", "b"),
        ("after_node", "b", True),
        ("before_node", "c"),
        ("after_node", "c", True),
    ]
    per_node_second = [
        ("before_node", "a"),
        ("after_node", "a", True),
        ("before_node", "c"),
        ("after_node", "c", True),
    ]
    assert recorder.kinds() == [
        ("construct",),
        ("before_graph",),
        *per_node_first,
        ("after_graph", True),
        ("before_graph",),
        *per_node_second,
        ("after_graph", True),
    ]
    first_before, second_before = recorder.calls_of("before_graph")
    assert first_before["final_vars"] == ["c"]
    assert first_before["inputs"] == {"x": 1}
    assert {"a", "b", "c"} <= set(first_before["execution_path"])
    assert "d" not in first_before["execution_path"]
    assert isinstance(first_before["graph"], HamiltonGraph)
    assert second_before["overrides"] == {"b": 5}
    assert second_before["inputs"] == {"x": 2}
    first_after, second_after = recorder.calls_of("after_graph")
    assert first_after["results"] == {"c": 22}
    assert first_after["error"] is None
    assert second_after["results"] == {"c": 8}
    assert first_after["run_id"] == first_before["run_id"]
    assert second_after["run_id"] == second_before["run_id"]
    assert first_before["run_id"] != second_before["run_id"]


def test_execution_path_lists_only_nodes_that_run() -> None:
    recorder = Recorder()
    dr = Builder().with_modules(core_basic).with_adapters(recorder).build()
    dr.execute(["c"], inputs={"x": 1, "y": 2})
    (before,) = recorder.calls_of("before_graph")
    assert sorted(before["execution_path"]) == ["a", "b", "c"]


def test_graph_construction_hook_gets_graph_and_config() -> None:
    recorder = Recorder()
    Builder().with_modules(core_basic).with_config({"y": 3}).with_adapters(recorder).build()
    (call,) = recorder.calls_of("construct")
    assert call["config"] == {"y": 3}
    graph = call["graph"]
    assert isinstance(graph, HamiltonGraph)
    assert isinstance(graph["a"], HamiltonNode)
    assert {n.name for n in graph.nodes} == {"a", "b", "c", "d", "x", "y", "z"}


def test_failing_node_reports_failure_to_hooks() -> None:
    module = failing_module()
    recorder = Recorder()
    dr = Builder().with_modules(module).with_adapters(recorder).build()
    with pytest.raises(module.Broken, match=r"ok was 2") as info:
        dr.execute(["after"], inputs={"x": 1})
    error = info.value
    assert recorder.kinds() == [
        ("construct",),
        ("before_graph",),
        ("before_node", "ok"),
        ("after_node", "ok", True),
        ("before_node", "fails"),
        ("after_node", "fails", False),
        ("after_graph", False),
    ]
    failed_node = recorder.calls_of("after_node")[-1]
    assert failed_node["error"] is error
    assert failed_node["success"] is False
    assert failed_node["result"] is None
    after_graph = recorder.calls_of("after_graph")[0]
    assert after_graph["error"] is error
    assert after_graph["results"] is None
    assert any("'fails'" in note for note in error.__notes__)


def test_hooks_of_two_adapters_fire_in_registration_order() -> None:
    log: list[tuple] = []
    first, second = Recorder("first", log), Recorder("second", log)
    dr = Builder().with_modules(core_basic).with_adapters(first, second).build()
    dr.execute(["a"], inputs={"x": 1})
    assert log == [
        ("first", "construct"),
        ("second", "construct"),
        ("first", "before_graph"),
        ("second", "before_graph"),
        ("first", "before_node", "a"),
        ("second", "before_node", "a"),
        ("first", "after_node", "a", True),
        ("second", "after_node", "a", True),
        ("first", "after_graph", True),
        ("second", "after_graph", True),
    ]


def test_the_same_adapter_registered_twice_fires_once() -> None:
    recorder = Recorder()
    dr = Builder().with_modules(core_basic).with_adapters(recorder, recorder).build()
    dr.execute(["a"], inputs={"x": 1})
    assert [k for k in recorder.kinds() if k[0] == "before_node"] == [("before_node", "a")]


def test_future_kwargs_are_tolerated() -> None:
    class NamesOnly(NodeExecutionHook):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def run_before_node_execution(self, *, node_name: str, **future_kwargs: Any) -> None:
            self.seen.append(node_name)

        def run_after_node_execution(self, *, node_name: str, **future_kwargs: Any) -> None:
            self.seen.append(f"/{node_name}")

    hook = NamesOnly()
    dr = Builder().with_modules(core_basic).with_adapters(hook).build()
    assert dr.execute(["b"], inputs={"x": 1}) == {"b": 20}
    assert hook.seen == ["a", "/a", "b", "/b"]


# ---- hooks that raise ------------------------------------------------------------------------------


class HookFailure(Exception):
    pass


class FailsBeforeNode(NodeExecutionHook):
    def run_before_node_execution(self, *, node_name: str, **future_kwargs: Any) -> None:
        if node_name == "b":
            raise HookFailure("refusing b")

    def run_after_node_execution(self, **future_kwargs: Any) -> None:
        pass


class FailsAfterNode(NodeExecutionHook):
    def run_before_node_execution(self, **future_kwargs: Any) -> None:
        pass

    def run_after_node_execution(self, *, node_name: str, **future_kwargs: Any) -> None:
        raise HookFailure(f"after {node_name}")


class FailsBeforeGraph(GraphExecutionHook):
    def run_before_graph_execution(self, **future_kwargs: Any) -> None:
        raise HookFailure("before graph")

    def run_after_graph_execution(self, **future_kwargs: Any) -> None:
        pass


class FailsAfterGraph(GraphExecutionHook):
    def run_before_graph_execution(self, **future_kwargs: Any) -> None:
        pass

    def run_after_graph_execution(self, **future_kwargs: Any) -> None:
        raise HookFailure("after graph")


class FailsOnConstruction(GraphConstructionHook):
    def run_after_graph_construction(self, **future_kwargs: Any) -> None:
        raise HookFailure("on construction")


@pytest.mark.parametrize(
    ("adapter_class", "message"),
    [
        (FailsBeforeNode, "refusing b"),
        (FailsAfterNode, "after a"),
        (FailsBeforeGraph, "before graph"),
        (FailsAfterGraph, "after graph"),
    ],
)
def test_a_raising_hook_propagates_with_a_note_naming_it(adapter_class: type, message: str) -> None:
    dr = Builder().with_modules(core_basic).with_adapters(adapter_class()).build()
    with pytest.raises(HookFailure, match=message) as info:
        dr.execute(["c"], inputs={"x": 1})
    assert any(adapter_class.__name__ in note for note in info.value.__notes__)


def test_a_raising_construction_hook_propagates_with_a_note_naming_it() -> None:
    with pytest.raises(HookFailure, match="on construction") as info:
        Builder().with_modules(core_basic).with_adapters(FailsOnConstruction()).build()
    assert any("FailsOnConstruction" in note for note in info.value.__notes__)


def test_a_raising_before_node_hook_skips_the_node_and_its_after_hook() -> None:
    recorder = Recorder()
    dr = Builder().with_modules(core_basic).with_adapters(FailsBeforeNode(), recorder).build()
    with pytest.raises(HookFailure, match="refusing b"):
        dr.execute(["c"], inputs={"x": 1})
    node_events = [k for k in recorder.kinds() if k[0] in ("before_node", "after_node")]
    assert node_events == [("before_node", "a"), ("after_node", "a", True)]
    assert recorder.kinds()[-1] == ("after_graph", False)


# ---- methods ---------------------------------------------------------------------------------------


class TimesTen(NodeExecutionMethod):
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def run_to_execute_node(
        self, *, node_name: str, node_callable: Any, node_kwargs: dict, **future_kwargs: Any
    ) -> Any:
        self.calls.append({"node_name": node_name, **future_kwargs})
        return node_callable(**node_kwargs) * 10


def test_node_execution_method_can_change_results() -> None:
    method = TimesTen()
    dr = Builder().with_modules(core_basic).with_adapters(method).build()
    # a = (1 + 1) * 10 = 20; b = a * 10 (default y) * 10 = 2000
    assert dr.execute(["a", "b"], inputs={"x": 1}) == {"a": 20, "b": 2000}
    assert [c["node_name"] for c in method.calls] == ["a", "b"]
    first = method.calls[0]
    assert first["node_tags"] == {"module": "tests.resources.core_basic"}
    assert first["task_id"] is None
    assert first["is_expand"] is False
    assert first["is_collect"] is False


def test_node_execution_method_and_hooks_work_together() -> None:
    recorder = Recorder()
    dr = Builder().with_modules(core_basic).with_adapters(TimesTen(), recorder).build()
    assert dr.execute(["a"], inputs={"x": 1}) == {"a": 20}
    assert recorder.calls_of("after_node")[0]["result"] == 20


def test_node_execution_method_errors_keep_their_type_and_note() -> None:
    module = failing_module()
    dr = Builder().with_modules(module).with_adapters(TimesTen()).build()
    with pytest.raises(module.Broken, match=r"ok was 20") as info:
        dr.execute(["after"], inputs={"x": 1})
    assert any("'fails'" in note for note in info.value.__notes__)


class SortedKeys(ResultBuilder):
    def build_result(self, **outputs: Any) -> Any:
        return [(key, outputs[key]) for key in sorted(outputs)]


class Total(ResultBuilder):
    def build_result(self, **outputs: Any) -> Any:
        return sum(outputs.values())


class OtherTimes(NodeExecutionMethod):
    def run_to_execute_node(self, *, node_callable: Any, node_kwargs: dict, **kw: Any) -> Any:
        return node_callable(**node_kwargs)


@pytest.mark.parametrize(
    ("first", "second", "method"),
    [
        (SortedKeys, Total, "do_build_result"),
        (TimesTen, OtherTimes, "do_node_execute"),
    ],
)
def test_two_implementations_of_one_method_are_rejected(
    first: type, second: type, method: str
) -> None:
    with pytest.raises(
        InvalidLifecycleAdapter,
        match=rf"Adapters {first.__name__}, {second.__name__} all implement .*{method}",
    ):
        Builder().with_modules(core_basic).with_adapters(first(), second()).build()
    assert issubclass(InvalidLifecycleAdapter, ValueError)


def test_custom_result_builder_shapes_the_result() -> None:
    dr = Builder().with_modules(core_basic).with_adapters(SortedKeys()).build()
    assert dr.execute(["c", "a"], inputs={"x": 1}) == [("a", 2), ("c", 22)]
    dr = Builder().with_modules(core_basic).with_adapters(Total()).build()
    assert dr.execute(["c", "a"], inputs={"x": 1}) == 24


def test_after_graph_hook_gets_the_built_result() -> None:
    recorder = Recorder()
    dr = Builder().with_modules(core_basic).with_adapters(Total(), recorder).build()
    assert dr.execute(["c", "a"], inputs={"x": 1}) == 24
    assert recorder.calls_of("after_graph")[0]["results"] == 24


class BrokenBuilder(ResultBuilder):
    def build_result(self, **outputs: Any) -> Any:
        raise RuntimeError("cannot shape these outputs")


def test_failing_result_builder_propagates_with_a_note() -> None:
    dr = Builder().with_modules(core_basic).with_adapters(BrokenBuilder()).build()
    with pytest.raises(RuntimeError, match="cannot shape these outputs") as info:
        dr.execute(["a"], inputs={"x": 1})
    assert any("BrokenBuilder" in note for note in info.value.__notes__)


def test_failing_result_builder_is_reported_as_a_failed_run() -> None:
    recorder = Recorder()
    dr = Builder().with_modules(core_basic).with_adapters(BrokenBuilder(), recorder).build()
    with pytest.raises(RuntimeError, match="cannot shape these outputs") as info:
        dr.execute(["a"], inputs={"x": 1})
    (after,) = recorder.calls_of("after_graph")
    assert after["success"] is False
    assert after["error"] is info.value


@pytest.mark.parametrize("inputs", [{}, {"x": "not an int"}], ids=["missing", "mistyped"])
def test_rejected_inputs_are_reported_to_graph_hooks(inputs: dict[str, Any]) -> None:
    recorder = Recorder()
    dr = Builder().with_modules(core_basic).with_adapters(recorder).build()
    with pytest.raises(ValueError, match=r"1 errors encountered") as info:
        dr.execute(["c"], inputs=inputs)
    assert recorder.kinds() == [("construct",), ("before_graph",), ("after_graph", False)]
    assert recorder.calls_of("after_graph")[0]["error"] is info.value


# ---- edge and input checks ---------------------------------------------------------------------------


def mismatched_module() -> Any:
    return module_from_source(
        """
        def count(n: int) -> int:
            return n * 2

        def ratio(count: float) -> float:
            return count / 4
        """
    )


class Lenient(EdgeConnectionHook):
    def __init__(self) -> None:
        self.edges: list[tuple[Any, Any]] = []
        self.inputs: list[tuple[Any, Any]] = []

    def check_edge_types_match(self, type_from: type, type_to: type, **kwargs: Any) -> bool:
        self.edges.append((type_from, type_to))
        return {type_from, type_to} == {int, float}

    def validate_input(self, node_type: type, input_value: Any, **kwargs: Any) -> bool:
        self.inputs.append((node_type, input_value))
        return node_type is int and isinstance(input_value, str) and input_value.isdigit()


def test_edge_connection_hook_loosens_the_edge_check() -> None:
    with pytest.raises(ValueError, match=r"Type mismatch between 'count' and 'ratio'"):
        Builder().with_modules(mismatched_module()).build()
    hook = Lenient()
    dr = Builder().with_modules(mismatched_module()).with_adapters(hook).build()
    assert len(hook.edges) == 1
    assert dr.execute(["ratio"], inputs={"n": 2}) == {"ratio": 1.0}


def test_edge_connection_hook_argument_order() -> None:
    hook = Lenient()
    Builder().with_modules(mismatched_module()).with_adapters(hook).build()
    # ratio(count: float) consumes count() -> int
    assert hook.edges == [(float, int)]


def test_edge_connection_hook_loosens_the_input_check() -> None:
    module = module_from_source(
        """
        def echo(n: int) -> object:
            return n
        """
    )
    with pytest.raises(ValueError, match=r"Type requirement mismatch"):
        Builder().with_modules(module).build().execute(["echo"], inputs={"n": "7"})
    hook = Lenient()
    dr = Builder().with_modules(module).with_adapters(hook).build()
    assert dr.execute(["echo"], inputs={"n": "7"}) == {"echo": "7"}
    assert hook.inputs == [(int, "7")]
    with pytest.raises(ValueError, match=r"Expected n:<class 'int'> got 'seven'"):
        dr.execute(["echo"], inputs={"n": "seven"})


def test_edge_connection_hook_cannot_make_the_edge_check_stricter() -> None:
    class Refuses(EdgeConnectionHook):
        def check_edge_types_match(self, type_from: type, type_to: type, **kwargs: Any) -> bool:
            return False

        def validate_input(self, node_type: type, input_value: Any, **kwargs: Any) -> bool:
            return True

    dr = Builder().with_modules(core_basic).with_adapters(Refuses()).build()
    assert dr.execute(["c"], inputs={"x": 1}) == {"c": 22}


# ---- static validators ---------------------------------------------------------------------------------


class NoNodeNamedB(StaticValidator):
    def __init__(self) -> None:
        self.seen: list[HamiltonNode] = []

    def run_to_validate_node(
        self, *, node: HamiltonNode, **future_kwargs: Any
    ) -> tuple[bool, str | None]:
        self.seen.append(node)
        if node.name == "b":
            return False, "nodes may not be called b"
        return True, None


class AtMostFiveNodes(StaticValidator):
    def run_to_validate_graph(
        self, graph: HamiltonGraph, **future_kwargs: Any
    ) -> tuple[bool, str | None]:
        if len(graph.nodes) > 5:
            return False, f"graph has {len(graph.nodes)} nodes, more than 5"
        return True, None


def test_static_node_validator_failure_raises_validation_exception() -> None:
    validator = NoNodeNamedB()
    with pytest.raises(ValidationException, match=r"Node b: nodes may not be called b"):
        Builder().with_modules(core_basic).with_adapters(validator).build()
    assert all(isinstance(n, HamiltonNode) for n in validator.seen)
    assert {n.name for n in validator.seen} == {"a", "b", "c", "d", "x", "y", "z"}


def test_static_graph_validator_failure_raises_validation_exception() -> None:
    with pytest.raises(ValidationException, match=r"graph has 7 nodes, more than 5"):
        Builder().with_modules(core_basic).with_adapters(AtMostFiveNodes()).build()


def test_static_validators_report_every_failure() -> None:
    with pytest.raises(ValidationException, match=r"2 validation error") as info:
        Builder().with_modules(core_basic).with_adapters(NoNodeNamedB(), AtMostFiveNodes()).build()
    assert "nodes may not be called b" in str(info.value)
    assert "more than 5" in str(info.value)


def test_passing_static_validator_lets_the_graph_build() -> None:
    class AlwaysFine(StaticValidator):
        pass

    dr = Builder().with_modules(core_basic).with_adapters(AlwaysFine()).build()
    assert dr.execute(["a"], inputs={"x": 1}) == {"a": 2}


# ---- the legacy GraphAdapter -------------------------------------------------------------------------


class DoublingAdapter(GraphAdapter):
    """Doubles every node's value, accepts digit strings for ints and int->float edges."""

    equivalence_calls: list[tuple[Any, Any]] = []

    def __init__(self) -> None:
        self.executed: list[str] = []

    @staticmethod
    def check_input_type(node_type: type, input_value: Any) -> bool:
        return node_type is int and isinstance(input_value, str) and input_value.isdigit()

    @staticmethod
    def check_node_type_equivalence(node_type: type, input_type: type) -> bool:
        DoublingAdapter.equivalence_calls.append((node_type, input_type))
        return {node_type, input_type} == {int, float}

    def execute_node(self, node: Any, kwargs: dict[str, Any]) -> Any:
        self.executed.append(node.name)
        return node.callable(**kwargs) * 2

    @staticmethod
    def build_result(**outputs: Any) -> Any:
        return {"built": dict(sorted(outputs.items()))}


def test_graph_adapter_via_with_adapter() -> None:
    DoublingAdapter.equivalence_calls.clear()
    adapter = DoublingAdapter()
    dr = Builder().with_modules(mismatched_module()).with_adapter(adapter).build()
    assert len(DoublingAdapter.equivalence_calls) == 1
    # count = 2 * 2 * 2 = 8; ratio = 8 / 4 * 2 = 4.0
    assert dr.execute(["ratio", "count"], inputs={"n": 2}) == {"built": {"count": 8, "ratio": 4.0}}
    assert adapter.executed == ["count", "ratio"]


def test_graph_adapter_type_equivalence_argument_order() -> None:
    DoublingAdapter.equivalence_calls.clear()
    Builder().with_modules(mismatched_module()).with_adapter(DoublingAdapter()).build()
    # ratio(count: float) consumes count() -> int
    assert DoublingAdapter.equivalence_calls == [(int, float)]


def test_graph_adapter_input_check_is_used() -> None:
    module = module_from_source(
        """
        def echo(n: int) -> object:
            return n
        """
    )
    dr = Builder().with_modules(module).with_adapter(DoublingAdapter()).build()
    assert dr.execute(["echo"], inputs={"n": "7"}) == {"built": {"echo": "77"}}


def test_graph_adapter_via_the_legacy_driver_constructor() -> None:
    adapter = DoublingAdapter()
    dr = Driver({"y": 1}, core_basic, adapter=adapter)
    # a = (1 + 1) * 2 = 4; b = 4 * 1 * 2 = 8
    assert dr.execute(["b"], inputs={"x": 1}) == {"built": {"b": 8}}
    assert adapter.executed == ["a", "b"]
    assert type(Driver({}, core_basic, adapter=[DoublingAdapter(), Recorder()]).adapter) is (
        LifecycleAdapterSet
    )


def test_graph_adapter_and_node_execution_method_conflict() -> None:
    builder = Builder().with_modules(core_basic).with_adapter(DoublingAdapter())
    builder.with_adapters(TimesTen())
    with pytest.raises(InvalidLifecycleAdapter, match=r"all implement .*do_node_execute") as info:
        builder.build()
    assert "DoublingAdapter" in str(info.value) and "TimesTen" in str(info.value)


# ---- the adapter set ---------------------------------------------------------------------------------


def test_adapter_set_dispatch_helpers() -> None:
    adapters = LifecycleAdapterSet(Recorder(), TimesTen(), None)
    assert adapters.does_hook("pre_node_execute")
    assert not adapters.does_hook("post_task_execute")
    assert adapters.does_method("do_node_execute")
    assert not adapters.does_method("do_build_result")
    with pytest.raises(ValueError, match=r"'not_a_hook' is not a lifecycle hook"):
        adapters.does_hook("not_a_hook")
    with pytest.raises(ValueError, match=r"'not_a_method' is not a lifecycle method"):
        adapters.does_method("not_a_method")
    assert len(adapters.adapters) == 2


def test_remote_execute_method_receives_each_node_with_its_lifecycle() -> None:
    from cayley.lifecycle.base import BaseDoRemoteExecute

    calls: list[str] = []

    class Remote(BaseDoRemoteExecute):
        def do_remote_execute(self, *, node, execute_lifecycle_for_node, **kwargs):
            calls.append(node.name)
            return execute_lifecycle_for_node(**kwargs) * 10

    module = module_from_source(
        "def a(x: int) -> int:\n    return x + 1\n\ndef b(a: int) -> int:\n    return a + 1\n"
    )
    dr = Builder().with_modules(module).with_adapters(Remote()).build()
    assert dr.execute(["b"], inputs={"x": 1}) == {"b": 210}
    assert calls == ["a", "b"]


def test_task_hooks_stay_silent_without_dynamic_execution() -> None:
    from cayley.lifecycle import TaskExecutionHook

    seen: list[str] = []

    class Tasks(TaskExecutionHook):
        def run_before_task_execution(self, *, task_id, **future_kwargs):
            seen.append(task_id)

        def run_after_task_execution(self, *, task_id, **future_kwargs):
            seen.append(task_id)

    module = module_from_source("def a(x: int) -> int:\n    return x + 1\n")
    plain = Builder().with_modules(module).with_adapters(Tasks()).build()
    assert plain.execute(["a"], inputs={"x": 1}) == {"a": 2}
    assert seen == []
    dynamic = (
        Builder().with_modules(module).with_adapters(Tasks()).enable_dynamic_execution()
    ).build()
    assert dynamic.execute(["a"], inputs={"x": 1}) == {"a": 2}
    assert seen == ["root", "root"]
