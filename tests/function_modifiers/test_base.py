"""The decorator lifecycle: attaching, ordering, targeting, config filtering and errors."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from cayley import settings
from cayley.function_modifiers import (
    InvalidDecoratorException,
    base,
    config,
    extract_fields,
    inject,
    parameterize,
    source,
    tag,
    value,
)
from cayley.node import DependencyType, Node
from tests.function_modifiers.helpers import module_of, nodes_of, user_tags


def test_undecorated_function_gives_one_node() -> None:
    def plain(a: int, b: str = "x") -> float:
        """Doc."""
        return 1.0

    (node,) = base.resolve_nodes(plain, {})
    assert node.name == "plain"
    assert node.type is float
    assert node.input_types == {
        "a": (int, DependencyType.REQUIRED),
        "b": (str, DependencyType.OPTIONAL),
    }
    assert node.originating_functions == (plain,)
    assert node.documentation == "Doc."


def test_decorator_records_itself_and_returns_the_function() -> None:
    decorator = tag(owner="me")

    def fn() -> int:
        return 1

    assert decorator(fn) is fn
    assert base.lifecycle_of(fn) == {"decorate_nodes": (decorator,)}


def test_lifecycle_is_copied_not_shared_with_wrappers() -> None:
    @tag(a="1")
    def fn() -> int:
        return 1

    @functools.wraps(fn)
    def wrapper() -> int:
        return fn()

    tag(b="2")(wrapper)
    assert len(base.lifecycle_of(fn)["decorate_nodes"]) == 1
    assert len(base.lifecycle_of(wrapper)["decorate_nodes"]) == 2


def test_non_function_is_rejected_with_decorator_named() -> None:
    class NotAFunction:
        pass

    with pytest.raises(InvalidDecoratorException, match=r"@tag can only decorate functions"):
        tag(a="b")(NotAFunction)
    with pytest.raises(InvalidDecoratorException, match=r"@parameterize can only decorate"):
        parameterize(x={"a": value(1)})(functools.partial(lambda a: a, 1))


def test_two_expanders_conflict() -> None:
    with pytest.raises(
        InvalidDecoratorException,
        match=r"@inject on function .*both_expanders: cannot be combined with @parameterize",
    ):

        @inject(a=value(1))
        @parameterize(out={"a": value(2)})
        def both_expanders(a: int) -> int:
            return a


def test_errors_name_the_function_and_the_decorator() -> None:
    with pytest.raises(InvalidDecoratorException) as info:

        @parameterize(out={"missing": value(1)})
        def fn_with_params(a: int) -> int:
            return a

    message = str(info.value)
    assert "@parameterize" in message
    assert "fn_with_params" in message
    assert "['missing']" in message


def test_context_is_added_once() -> None:
    error = InvalidDecoratorException("boom")
    base.add_context(error, tag(), test_context_is_added_once)
    base.add_context(error, tag(), test_context_is_added_once)
    assert str(error).count("@tag") == 1


def test_decorators_of_a_step_apply_from_the_function_outwards() -> None:
    @tag(order="outer")
    @tag(order="inner")
    def fn() -> int:
        return 1

    (node,) = base.resolve_nodes(fn, {})
    assert node.tags["order"] == "outer"


def test_steps_run_in_lifecycle_order_whatever_the_written_order() -> None:
    @parameterize(a1={"x": value(1)}, a2={"x": value(2)})
    @tag(kind="t")
    @config.when(mode="on")
    def fn(x: int) -> int:
        return x

    nodes = nodes_of(fn, {"mode": "on"})
    assert set(nodes) == {"a1", "a2"}
    assert all(n.tags["kind"] == "t" for n in nodes.values())
    assert nodes_of(fn, {"mode": "off"}) == {}


def test_originating_function_added_once() -> None:
    @tag(a="b")
    def fn() -> int:
        return 1

    (node,) = base.resolve_nodes(fn, {})
    assert node.originating_functions == (fn,)


class _Doubler(base.NodeTransformer):
    """A custom transformer written against the public base classes."""

    def __init__(self, target: base.TargetType = None) -> None:
        super().__init__(target=target)

    def transform_node(self, node_: Node, config: dict[str, Any], fn: Any) -> list[Node]:
        inner = node_.callable
        return [node_.copy_with(callabl=lambda **kw: 2 * inner(**kw))]

    def validate(self, fn: Any) -> None:
        pass


def test_custom_transformer_targets() -> None:
    @_Doubler(target="b")
    @extract_fields({"a": int, "b": int})
    def fields() -> dict:
        return {"a": 1, "b": 2}

    nodes = nodes_of(fields)
    assert nodes["b"].callable(fields={"a": 1, "b": 2}) == 4
    assert nodes["a"].callable(fields={"a": 1, "b": 2}) == 1


def _chain() -> list[Node]:
    a = Node("a", int, callabl=lambda: 1, input_types={})
    b = Node("b", int, callabl=lambda a: a, input_types={"a": int})
    c = Node("c", int, callabl=lambda b: b, input_types={"b": int})
    d = Node(
        "d",
        int,
        callabl=lambda a: a,
        input_types={"a": int},
        tags={"hamilton.non_final_node": True},
    )
    return [a, b, c, d]


@pytest.mark.parametrize(
    ("target", "expected"),
    [(None, ["c"]), (..., ["a", "b", "c", "d"]), ("b", ["b"]), (["a", "c"], ["a", "c"])],
)
def test_select_nodes(target: base.TargetType, expected: list[str]) -> None:
    selected = base.NodeTransformer.select_nodes(target, _chain())
    assert sorted(n.name for n in selected) == expected


def test_select_missing_target_fails() -> None:
    with pytest.raises(InvalidDecoratorException, match=r"target node\(s\) \['zz'\] not found"):
        base.NodeTransformer.select_nodes(["a", "zz"], _chain())


def test_early_target_validation() -> None:
    base.NodeTransformer._early_validate_target("a", allow_multiple=False)
    with pytest.raises(InvalidDecoratorException, match="accepts a single target"):
        base.NodeTransformer._early_validate_target(["a", "b"], allow_multiple=False)
    with pytest.raises(InvalidDecoratorException, match="invalid target 3"):
        base.NodeTransformer._early_validate_target(3, allow_multiple=True)  # type: ignore[arg-type]


def test_single_node_transformer_requires_one_sink() -> None:
    @_OnlyOne()
    @parameterize(x1={"x": value(1)}, x2={"x": value(2)})
    def fn(x: int) -> int:
        return x

    with pytest.raises(InvalidDecoratorException, match=r"applies to a single node.*x1, x2"):
        base.resolve_nodes(fn, {})


class _OnlyOne(base.SingleNodeNodeTransformer):
    def transform_node(self, node_: Node, config: dict[str, Any], fn: Any) -> list[Node]:
        return [node_]

    def validate(self, fn: Any) -> None:
        pass


class _NeedsConfig(base.NodeDecorator):
    def __init__(self) -> None:
        super().__init__(target=None)
        self.seen: dict[str, Any] = {}

    def required_config(self) -> list[str]:
        return ["needed"]

    def optional_config(self) -> dict[str, Any]:
        return {"maybe": "fallback"}

    def transform_dag(self, nodes: Any, config: dict[str, Any], fn: Any) -> Any:
        self.seen = dict(config)
        return nodes

    def decorate_node(self, node_: Node) -> Node:
        return node_


def test_config_is_filtered_per_decorator() -> None:
    decorator = _NeedsConfig()

    @decorator
    def fn() -> int:
        return 1

    base.resolve_nodes(fn, {"needed": 1, "other": 2})
    assert decorator.seen == {
        "needed": 1,
        "maybe": "fallback",
        settings.ENABLE_POWER_USER_MODE: False,
    }


def test_missing_required_config_is_a_clear_error() -> None:
    @_NeedsConfig()
    def needs_config() -> int:
        return 1

    with pytest.raises(
        base.MissingConfigParametersException,
        match=r"@_NeedsConfig on function .*needs_config: @_NeedsConfig requires config key\(s\) "
        r"\['needed'\]",
    ):
        base.resolve_nodes(needs_config, {"other": 1})


def test_resolve_config_escape_hatch_passes_everything() -> None:
    assert base.resolve_config("x", {"a": 1}, None, None) == {"a": 1}


def test_find_functions_skips_private_imported_and_non_functions() -> None:
    module = module_of(
        """
        from os.path import join
        import functools

        def public(a: int) -> int:
            return a

        def _private(a: int) -> int:
            return a

        partial = functools.partial(public, 1)

        class Klass:
            pass
        """
    )
    assert [name for name, _ in base.find_functions(module)] == ["public"]


def test_sanitize_function_name() -> None:
    assert base.sanitize_function_name("fn__v2") == "fn"
    assert base.sanitize_function_name("a__b__c") == "a__b"
    assert base.sanitize_function_name("plain") == "plain"


def test_validation_waits_for_annotations_defined_later() -> None:
    module = module_of(
        """
        from __future__ import annotations
        from cayley.function_modifiers import extract_fields

        @extract_fields()
        def record() -> Later:
            return {"a": 1, "b": "x"}

        from typing import TypedDict

        class Later(TypedDict):
            a: int
            b: str
        """
    )
    nodes = nodes_of(module.record)
    assert {name: n.type for name, n in nodes.items() if name != "record"} == {"a": int, "b": str}


def test_deferred_validation_still_reports_misuse() -> None:
    module = module_of(
        """
        from __future__ import annotations
        from cayley.function_modifiers import extract_fields

        @extract_fields(["a"])
        def record() -> Later:
            return 1

        Later = int
        """
    )
    with pytest.raises(InvalidDecoratorException, match=r"@extract_fields on function .*record"):
        base.resolve_nodes(module.record, {})


def test_get_node_decorators_resolves_dynamic_ones() -> None:
    from cayley.function_modifiers import resolve_from_config

    @resolve_from_config(decorate_with=lambda owner: tag(owner=owner))
    def fn() -> int:
        return 1

    steps = base.get_node_decorators(fn, {"owner": "me", settings.ENABLE_POWER_USER_MODE: True})
    (decorator,) = steps["decorate_nodes"]
    assert decorator.tags == {"owner": "me"}


def test_node_expander_rejects_several_nodes() -> None:
    class _Expand(base.NodeExpander):
        def expand_node(self, node_: Node, config: dict[str, Any], fn: Any) -> list[Node]:
            return [node_]

        def validate(self, fn: Any) -> None:
            pass

    with pytest.raises(InvalidDecoratorException, match="expands a single node"):
        _Expand().transform_dag(_chain(), {}, lambda: None)


def test_injector_renames_inputs() -> None:
    class _Feed(base.NodeInjector):
        def inject_nodes(self, params: dict[str, Any], config: dict[str, Any], fn: Any) -> Any:
            fed = Node("fed", int, callabl=lambda: 41, input_types={})
            return [fed], {"x": "fed"}

        def validate(self, fn: Any) -> None:
            pass

    @_Feed()
    def uses(x: int) -> int:
        return x + 1

    nodes = nodes_of(uses)
    assert set(nodes["uses"].input_types) == {"fed"}
    assert nodes["uses"].callable(fed=41) == 42


def test_user_tags_helper_drops_module() -> None:
    @tag(a="b")
    def fn() -> int:
        return 1

    (node,) = base.resolve_nodes(fn, {})
    assert node.tags["module"] == fn.__module__
    assert user_tags(node) == {"a": "b"}


def test_source_and_value_are_reexported() -> None:
    assert source("a").source == "a"
    assert value(3).value == 3


def test_unparseable_annotation_is_invalid() -> None:
    def fn() -> int:
        return 1

    fn.__annotations__["return"] = "not a type"
    with pytest.raises(
        InvalidDecoratorException, match=r"@extract_fields on .*invalid annotations"
    ):
        extract_fields(["a"])(fn)


def test_async_functions_stay_async() -> None:
    import asyncio
    import inspect

    from cayley.function_modifiers import does

    @parameterize(p={"a": value(2)})
    async def doubled(a: int) -> int:
        return 2 * a

    @extract_fields({"x": int, "y": int}, fill_with=0)
    async def fields() -> dict:
        return {"x": 1}

    async def _sum(**kwargs: int) -> int:
        return sum(kwargs.values())

    @does(_sum)
    def summed(a: int, b: int) -> int:
        pass

    p = nodes_of(doubled)["p"]
    assert inspect.iscoroutinefunction(p.callable)
    assert asyncio.run(p.callable()) == 4
    record = nodes_of(fields)["fields"]
    assert inspect.iscoroutinefunction(record.callable)
    assert asyncio.run(record.callable()) == {"x": 1, "y": 0}
    assert asyncio.run(nodes_of(summed)["summed"].callable(a=1, b=2)) == 3


def test_then_and_keep_async_for_sync_functions() -> None:
    def produce(x: int) -> int:
        return x

    assert base.then(produce, lambda v: v + 1)(x=1) == 2
    wrapper = base.keep_async(produce, produce)
    assert wrapper is produce
