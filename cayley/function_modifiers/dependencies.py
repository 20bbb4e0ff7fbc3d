"""Dependency specifiers: where a parameter's value comes from.

``value(x)`` is a literal, ``source("node")`` the output of another node, ``group(...)`` a list
or dict of those, and ``configuration("key")`` a config value. Decorators such as
``parameterize``, ``inject``, ``subdag`` and ``step`` take them as arguments.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cayley.function_modifiers.base import InvalidDecoratorException

__all__ = [
    "ConfigDependency",
    "GroupedDependency",
    "GroupedDictDependency",
    "GroupedListDependency",
    "LiteralDependency",
    "ParametrizedDependency",
    "ParametrizedDependencySource",
    "SingleDependency",
    "UpstreamDependency",
    "check_source_names",
    "configuration",
    "group",
    "source",
    "value",
]

#: Returned by :meth:`ParametrizedDependency.resolve_value` when an upstream value is absent.
MISSING = object()


class ParametrizedDependencySource(enum.Enum):
    """The kind of a dependency specifier."""

    LITERAL = "literal"
    UPSTREAM = "upstream"
    GROUPED_LIST = "grouped_list"
    GROUPED_DICT = "grouped_dict"
    CONFIGURATION = "configuration"


class ParametrizedDependency(abc.ABC):
    """Base of the dependency specifiers."""

    @abc.abstractmethod
    def get_dependency_type(self) -> ParametrizedDependencySource:
        """The kind of this specifier."""

    def upstream_names(self) -> list[str]:
        """Names of the nodes this specifier reads."""
        return []

    def resolve_value(self, values: Mapping[str, Any]) -> Any:
        """The value given the upstream ``values`` (by node name); ``MISSING`` if absent."""
        raise NotImplementedError(f"{type(self).__name__} has no value at run time")


class SingleDependency(ParametrizedDependency, abc.ABC):
    """A specifier standing for one value."""


@dataclasses.dataclass
class LiteralDependency(SingleDependency):
    """A fixed value."""

    value: Any

    def get_dependency_type(self) -> ParametrizedDependencySource:
        return ParametrizedDependencySource.LITERAL

    def resolve_value(self, values: Mapping[str, Any]) -> Any:
        return self.value


@dataclasses.dataclass
class UpstreamDependency(SingleDependency):
    """The output of the node named ``source``."""

    source: str

    def get_dependency_type(self) -> ParametrizedDependencySource:
        return ParametrizedDependencySource.UPSTREAM

    def upstream_names(self) -> list[str]:
        return [self.source]

    def resolve_value(self, values: Mapping[str, Any]) -> Any:
        return values.get(self.source, MISSING)


@dataclasses.dataclass
class ConfigDependency(SingleDependency):
    """The config value under the key ``source``."""

    source: str

    def get_dependency_type(self) -> ParametrizedDependencySource:
        return ParametrizedDependencySource.CONFIGURATION


def _strip_optional(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1:
            return non_none[0]
    return annotation


class GroupedDependency(ParametrizedDependency, abc.ABC):
    """Several specifiers gathered into one collection-typed parameter."""

    @classmethod
    @abc.abstractmethod
    def resolve_dependency_type(cls, annotated_type: Any, param_name: str) -> Any:
        """The element type of the parameter's collection annotation."""


@dataclasses.dataclass
class GroupedListDependency(GroupedDependency):
    """A list of specifiers, passed as a list."""

    sources: list[ParametrizedDependency]

    def get_dependency_type(self) -> ParametrizedDependencySource:
        return ParametrizedDependencySource.GROUPED_LIST

    def upstream_names(self) -> list[str]:
        return [name for dep in self.sources for name in dep.upstream_names()]

    def resolve_value(self, values: Mapping[str, Any]) -> Any:
        return [dep.resolve_value(values) for dep in self.sources]

    @classmethod
    def resolve_dependency_type(cls, annotated_type: Any, param_name: str) -> Any:
        annotation = _strip_optional(annotated_type)
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if not (isinstance(origin, type) and issubclass(origin, Sequence)) or len(args) != 1:
            raise InvalidDecoratorException(
                f"parameter {param_name!r} is annotated {annotated_type!r}; group(*...) needs "
                "a sequence annotation with one element type, such as list[int]."
            )
        return args[0]


@dataclasses.dataclass
class GroupedDictDependency(GroupedDependency):
    """Named specifiers, passed as a dict."""

    sources: dict[str, ParametrizedDependency]

    def get_dependency_type(self) -> ParametrizedDependencySource:
        return ParametrizedDependencySource.GROUPED_DICT

    def upstream_names(self) -> list[str]:
        return [name for dep in self.sources.values() for name in dep.upstream_names()]

    def resolve_value(self, values: Mapping[str, Any]) -> Any:
        return {key: dep.resolve_value(values) for key, dep in self.sources.items()}

    @classmethod
    def resolve_dependency_type(cls, annotated_type: Any, param_name: str) -> Any:
        annotation = _strip_optional(annotated_type)
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if (
            not (isinstance(origin, type) and issubclass(origin, Mapping))
            or len(args) != 2
            or args[0] is not str
        ):
            raise InvalidDecoratorException(
                f"parameter {param_name!r} is annotated {annotated_type!r}; group(**...) needs "
                "a mapping annotation with string keys, such as dict[str, int]."
            )
        return args[1]


def value(literal_value: Any) -> LiteralDependency:
    """The parameter gets ``literal_value`` itself."""
    if isinstance(literal_value, LiteralDependency):
        return literal_value
    return LiteralDependency(value=literal_value)


def source(dependency_on: Any) -> UpstreamDependency:
    """The parameter gets the output of the node named ``dependency_on``.

    The name is checked when the decorator using it is validated (see
    :func:`check_source_names`), as Hamilton accepts any value here.
    """
    if isinstance(dependency_on, UpstreamDependency):
        return dependency_on
    return UpstreamDependency(source=dependency_on)


def check_source_names(dependencies: Iterable[Any]) -> None:
    """Raises if a ``source(...)`` among ``dependencies`` (groups included) names no node.

    Decorators call this when they make nodes, so a bad ``source`` fails when the graph is
    built (Hamilton accepts it when the function is decorated).
    """
    for dependency in dependencies:
        if isinstance(dependency, UpstreamDependency) and not isinstance(dependency.source, str):
            raise InvalidDecoratorException(
                f"source() takes the name of a node, got {dependency.source!r} "
                f"({type(dependency.source).__name__})."
            )
        if isinstance(dependency, GroupedListDependency):
            check_source_names(dependency.sources)
        elif isinstance(dependency, GroupedDictDependency):
            check_source_names(dependency.sources.values())


def configuration(dependency_on: str) -> ConfigDependency:
    """The parameter gets the config value under ``dependency_on`` (used by ``subdag``)."""
    return ConfigDependency(source=dependency_on)


def _check_group_member(dependency: Any) -> None:
    if not isinstance(dependency, (LiteralDependency, UpstreamDependency)):
        raise InvalidDecoratorException(
            f"group() members must be source(...) or value(...), got {dependency!r}."
        )


def group(
    *dependency_args: ParametrizedDependency, **dependency_kwargs: ParametrizedDependency
) -> GroupedDependency:
    """Gather specifiers into one parameter: positionally a list, by keyword a dict."""
    if dependency_args and dependency_kwargs:
        raise InvalidDecoratorException(
            "group() takes either positional specifiers (a list) or keyword specifiers "
            "(a dict), not both."
        )
    if not dependency_args and not dependency_kwargs:
        raise InvalidDecoratorException("group() needs at least one source(...) or value(...).")
    for dependency in (*dependency_args, *dependency_kwargs.values()):
        _check_group_member(dependency)
    if dependency_args:
        return GroupedListDependency(sources=list(dependency_args))
    return GroupedDictDependency(sources=dict(dependency_kwargs))
