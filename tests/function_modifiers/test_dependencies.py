"""Dependency specifiers: source, value, group, configuration."""

from __future__ import annotations

from typing import Optional

import pytest

from cayley.function_modifiers import InvalidDecoratorException, dependencies
from cayley.function_modifiers.dependencies import (
    MISSING,
    ConfigDependency,
    GroupedDictDependency,
    GroupedListDependency,
    LiteralDependency,
    ParametrizedDependencySource,
    UpstreamDependency,
    configuration,
    group,
    source,
    value,
)


def test_value_and_source() -> None:
    assert value(3) == LiteralDependency(value=3)
    assert value(value(3)) == LiteralDependency(value=3)
    assert source("a") == UpstreamDependency(source="a")
    assert source(source("a")) == UpstreamDependency(source="a")
    assert value(1).get_dependency_type() is ParametrizedDependencySource.LITERAL
    assert source("a").get_dependency_type() is ParametrizedDependencySource.UPSTREAM


def test_source_needs_a_name_when_validated() -> None:
    spec = source(3)  # accepted when written, as in Hamilton
    with pytest.raises(InvalidDecoratorException, match=r"source\(\) takes the name of a node"):
        dependencies.check_source_names([group(value(1), spec)])


def test_configuration() -> None:
    dep = configuration("key")
    assert dep == ConfigDependency(source="key")
    assert dep.get_dependency_type() is ParametrizedDependencySource.CONFIGURATION


def test_resolve_values() -> None:
    values = {"a": 1, "b": 2}
    assert value(5).resolve_value(values) == 5
    assert source("a").resolve_value(values) == 1
    assert source("zz").resolve_value(values) is MISSING
    assert group(source("a"), value(9)).resolve_value(values) == [1, 9]
    assert group(x=source("b"), y=value(0)).resolve_value(values) == {"x": 2, "y": 0}


def test_group_kinds() -> None:
    as_list = group(source("a"), value(1))
    assert isinstance(as_list, GroupedListDependency)
    assert as_list.get_dependency_type() is ParametrizedDependencySource.GROUPED_LIST
    assert as_list.upstream_names() == ["a"]
    as_dict = group(a=source("a"), b=source("b"))
    assert isinstance(as_dict, GroupedDictDependency)
    assert as_dict.get_dependency_type() is ParametrizedDependencySource.GROUPED_DICT
    assert as_dict.upstream_names() == ["a", "b"]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((source("a"),), {"b": source("b")}, "either positional specifiers"),
        ((), {}, "needs at least one"),
        ((1,), {}, r"members must be source\(...\) or value\(...\), got 1"),
        ((), {"a": group(value(1))}, "members must be"),
    ],
)
def test_group_misuse(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidDecoratorException, match=message):
        group(*args, **kwargs)


def test_group_element_types() -> None:
    assert GroupedListDependency.resolve_dependency_type(list[int], "p") is int
    assert GroupedListDependency.resolve_dependency_type(Optional[list[str]], "p") is str  # noqa: UP045
    assert GroupedDictDependency.resolve_dependency_type(dict[str, float], "p") is float
    with pytest.raises(InvalidDecoratorException, match=r"parameter 'p' .* list\[int\]"):
        GroupedListDependency.resolve_dependency_type(int, "p")
    with pytest.raises(InvalidDecoratorException, match="string keys"):
        GroupedDictDependency.resolve_dependency_type(dict[int, float], "p")


def test_module_exports() -> None:
    for name in dependencies.__all__:
        assert hasattr(dependencies, name)
