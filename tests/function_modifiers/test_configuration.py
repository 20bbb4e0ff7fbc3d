"""@config.when*, @config(resolver), @config.default and @hamilton_exclude."""

from __future__ import annotations

import pytest

from cayley.function_modifiers import (
    InvalidDecoratorException,
    base,
    cayley_exclude,
    config,
    extract_fields,
    hamilton_exclude,
    parameterize,
    tag,
    value,
)
from cayley.function_modifiers.configuration import ConfigResolver
from tests.function_modifiers.helpers import module_nodes, module_of, nodes_of, user_tags

VARIANTS = module_of(
    """
    from cayley.function_modifiers import config

    @config.when(mode="a")
    def mode_fn__a(x: int) -> int:
        return x + 1

    @config.when_not(mode="a")
    def mode_fn__b(x: int) -> int:
        return x - 1

    @config.when_in(region=["us", "ca"])
    def region_fn__na(x: int) -> str:
        return "na"

    @config.when_not_in(region=["us", "ca"])
    def region_fn__other(x: int) -> str:
        return "other"

    @config.when(mode="a", name="explicit")
    def named_variant(x: int) -> int:
        return x
    """
)


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        ({"mode": "a", "region": "us"}, {"mode_fn": 2, "region_fn": "na", "explicit": 1}),
        ({"mode": "b", "region": "eu"}, {"mode_fn": 0, "region_fn": "other"}),
        ({}, {"mode_fn": 0, "region_fn": "other"}),
    ],
)
def test_variants(cfg: dict, expected: dict) -> None:
    nodes = module_nodes(VARIANTS, cfg)
    assert set(nodes) == set(expected)
    for name, result in expected.items():
        assert nodes[name].callable(x=1) == result


def test_config_tag_and_original_function() -> None:
    nodes = module_nodes(VARIANTS, {"mode": "a", "region": "ca"})
    assert user_tags(nodes["mode_fn"]) == {"hamilton.config": "mode"}
    assert user_tags(nodes["region_fn"]) == {"hamilton.config": "region"}
    assert nodes["mode_fn"].originating_functions == (VARIANTS.mode_fn__a,)
    assert VARIANTS.mode_fn__a.__name__ == "mode_fn__a"  # the user's function is untouched


def test_resolver_function_sees_whole_config() -> None:
    @config(lambda cfg: cfg.get("a") == 1 and cfg.get("b") == 2)
    def custom(x: int) -> int:
        return x

    assert list(nodes_of(custom, {"a": 1, "b": 2})) == ["custom"]
    assert nodes_of(custom, {"a": 1}) == {}
    (node,) = base.resolve_nodes(custom, {"a": 1, "b": 2})
    assert node.tags["hamilton.config"] == "__UNKNOWN__"


def test_stacked_configs_must_all_match() -> None:
    @config.when(a=1)
    @config.when_not(b=2)
    def both__v1(x: int) -> int:
        return x

    assert nodes_of(both__v1, {"a": 1, "b": 3})["both"].tags["hamilton.config"] == "b,a"
    assert nodes_of(both__v1, {"a": 1, "b": 2}) == {}


def test_config_with_other_decorators() -> None:
    @tag(owner="me")
    @parameterize(p1={"y": value(1)}, p2={"y": value(2)})
    @config.when(mode="on")
    def fn__on(x: int, y: int) -> int:
        return x + y

    nodes = nodes_of(fn__on, {"mode": "on"})
    assert {name: user_tags(n) for name, n in nodes.items()} == {
        "p1": {"owner": "me", "hamilton.config": "mode"},
        "p2": {"owner": "me", "hamilton.config": "mode"},
    }
    assert nodes["p2"].callable(x=1) == 3
    assert nodes_of(fn__on, {"mode": "off"}) == {}


def test_config_with_extract_fields_tags_every_node() -> None:
    @extract_fields({"a": int})
    @config.when(mode="on")
    def rec__on() -> dict:
        return {"a": 1}

    nodes = nodes_of(rec__on, {"mode": "on"})
    assert set(nodes) == {"rec", "a"}
    assert all(n.tags["hamilton.config"] == "mode" for n in nodes.values())


def test_config_default_is_tagged_and_named() -> None:
    module = module_of(
        """
        from cayley.function_modifiers import config

        @config.when(region="us")
        def some_fn__us() -> str:
            return "us"

        @config.default
        def some_fn__fallback() -> str:
            return "default"

        @config.default(name="other_name")
        def other() -> int:
            return 1

        @config.default()
        def third() -> int:
            return 3
        """
    )
    nodes = [n for _, fn in base.find_functions(module) for n in base.resolve_nodes(fn, {})]
    by_name = {n.name: n for n in nodes}
    assert set(by_name) == {"some_fn", "other_name", "third"}
    assert all(n.tags[base.CONFIG_DEFAULT_TAG] is True for n in nodes)
    assert "hamilton.config" not in by_name["some_fn"].tags
    us = [
        n for _, fn in base.find_functions(module) for n in base.resolve_nodes(fn, {"region": "us"})
    ]
    assert [n.name for n in us].count("some_fn") == 2
    assert [base.CONFIG_DEFAULT_TAG in n.tags for n in us if n.name == "some_fn"] == [False, True]


def test_config_default_cannot_combine_with_when() -> None:
    with pytest.raises(
        InvalidDecoratorException, match=r"@config on function .*mixed: @config.default marks"
    ):

        @config.when(a=1)
        @config.default
        def mixed() -> int:
            return 1

    with pytest.raises(InvalidDecoratorException, match=r"@config.default on function .*mixed2"):

        @config.default
        @config.when(a=1)
        def mixed2() -> int:
            return 1


def test_trailing_dunder_is_rejected() -> None:
    with pytest.raises(InvalidDecoratorException, match=r"@config on function .*bad__: the node"):

        @config.when(a=1)
        def bad__() -> int:
            return 1


def test_when_in_needs_collections() -> None:
    with pytest.raises(
        InvalidDecoratorException, match=r"config.when_in\(a=...\) takes a collection"
    ):
        config.when_in(a="abc")
    with pytest.raises(InvalidDecoratorException, match="when_not_in"):
        config.when_not_in(a=3)


def test_config_needs_a_predicate() -> None:
    with pytest.raises(InvalidDecoratorException, match="takes a predicate"):
        config("not callable")  # type: ignore[arg-type]


def test_resolver_objects() -> None:
    resolver = ConfigResolver.when(a=1)
    assert resolver({"a": 1}) and not resolver({"a": 2})
    assert resolver.optional_config == {"a": None}
    assert ConfigResolver.when_not(a=1)({"a": 2})
    assert ConfigResolver.when_in(a=[1, 2])({"a": 2})
    assert ConfigResolver.when_not_in(a=[1, 2])({"a": 3})


def test_hamilton_exclude() -> None:
    @hamilton_exclude
    def helper(x: int) -> int:
        return x

    @cayley_exclude()
    def helper2(x: int) -> int:
        return x

    assert base.resolve_nodes(helper, {}) == []
    assert base.resolve_nodes(helper2, {}) == []
    assert helper(3) == 3


def test_exclude_with_missing_type_hints() -> None:
    @hamilton_exclude
    def untyped(x):  # noqa: ANN001, ANN202
        return x

    assert base.resolve_nodes(untyped, {}) == []
