"""Decorators turning one function into several nodes, one per assignment of its parameters.

``@parameterize(out={"param": source("node") | value(x) | group(...)})`` gives node ``out``
computing the function with ``param`` bound as specified. ``parameterize_sources`` and
``parameterize_values`` are shorthands, ``inject`` binds parameters of the function's own node,
and ``parameterize_extract_columns`` combines parameterization with ``extract_columns``.
Docstrings are templates: ``{output_name}`` and ``{param}`` are filled per output.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from collections.abc import Callable, Collection, Mapping
from typing import Any

from cayley.function_modifiers import base
from cayley.function_modifiers.dependencies import (
    MISSING,
    ConfigDependency,
    GroupedDependency,
    LiteralDependency,
    ParametrizedDependency,
    UpstreamDependency,
    check_source_names,
    source,
    value,
)
from cayley.function_modifiers.extractors import extract_columns, extract_fields, unpack_fields
from cayley.node import DependencyType, Node

__all__ = [
    "ParameterizedExtract",
    "extract_columns",
    "extract_fields",
    "inject",
    "parameterize",
    "parameterize_extract_columns",
    "parameterize_sources",
    "parameterize_values",
    "parameterized_inputs",
    "parametrized",
    "parametrized_input",
    "unpack_fields",
]

Assignment = Mapping[str, ParametrizedDependency]


class _KeepUnknown(dict):
    """Format mapping leaving unknown template fields as their bare name."""

    def __missing__(self, key: str) -> str:
        return key


def _parameterized_callable(
    call: Callable[..., Any],
    former_inputs: tuple[str, ...],
    assignments: Mapping[str, ParametrizedDependency],
) -> Callable[..., Any]:
    def parameterized(**kwargs: Any) -> Any:
        call_kwargs: dict[str, Any] = {}
        for param in former_inputs:
            dependency = assignments.get(param)
            if dependency is None:
                if param in kwargs:
                    call_kwargs[param] = kwargs[param]
                continue
            resolved = dependency.resolve_value(kwargs)
            if resolved is not MISSING:
                call_kwargs[param] = resolved
        return call(**call_kwargs)

    return base.keep_async(call, parameterized)


class parameterize(base.NodeExpander):
    """One node per keyword: the function with some parameters bound.

    Each keyword names an output and maps parameter names to ``source(...)``, ``value(...)``
    or ``group(...)``; a ``(mapping, docstring)`` pair also sets the output's docstring.
    With no keywords at all (say, built by ``@resolve`` from an empty list) the function
    contributes no node.
    """

    RESERVED_KWARG = "output_name"
    PLACEHOLDER_PARAM_NAME = "__<function_name>__"

    def __init__(self, **parametrization: Assignment | tuple[Assignment, str]) -> None:
        self.parameterization: dict[str, dict[str, ParametrizedDependency]] = {}
        self.specified_docstrings: dict[str, str] = {}
        bad: list[str] = []
        for output, spec in parametrization.items():
            mapping = spec[0] if isinstance(spec, tuple) else spec
            if isinstance(spec, tuple):
                self.specified_docstrings[output] = spec[1]
            if not isinstance(mapping, Mapping):
                raise base.InvalidDecoratorException(
                    f"output {output!r} must map parameter names to source(...)/value(...)/"
                    f"group(...), got {mapping!r}."
                )
            for param, dependency in mapping.items():
                if not isinstance(dependency, ParametrizedDependency) or isinstance(
                    dependency, ConfigDependency
                ):
                    bad.append(f"{output}.{param}={dependency!r}")
            self.parameterization[output] = dict(mapping)
        if bad:
            raise base.InvalidDecoratorException(
                "parameters must be bound with source(...), value(...) or group(...); "
                f"invalid: {', '.join(bad)}."
            )

    def _output_name(self, output: str, default: str) -> str:
        return default if output == self.PLACEHOLDER_PARAM_NAME else output

    def format_doc_string(self, fn: Callable[..., Any], output_name: str) -> str:
        """The docstring of one output: specified, or the function's filled in."""
        key = output_name
        if (
            key not in self.parameterization
            and self.PLACEHOLDER_PARAM_NAME in self.parameterization
        ):
            key = self.PLACEHOLDER_PARAM_NAME
        return self._docstring(fn, key, output_name)

    def _docstring(self, fn: Callable[..., Any], key: str, output_name: str) -> str:
        if key in self.specified_docstrings:
            return self.specified_docstrings[key]
        doc = fn.__doc__
        if doc is None:
            return ""
        fields: dict[str, Any] = {self.RESERVED_KWARG: output_name}
        for param, dependency in self.parameterization.get(key, {}).items():
            if isinstance(dependency, UpstreamDependency):
                fields[param] = dependency.source
            elif isinstance(dependency, LiteralDependency):
                fields[param] = dependency.value
        try:
            return doc.format_map(_KeepUnknown(fields))
        except (ValueError, IndexError, AttributeError, KeyError) as exc:
            raise base.InvalidDecoratorException(
                f"the docstring is a template for the outputs but cannot be filled in ({exc}); "
                "escape literal braces as '{{' and '}}'."
            ) from exc

    def validate(self, fn: Callable[..., Any]) -> None:
        """Parameters must exist, docstrings must format and groups need collection types."""
        params = inspect.signature(fn).parameters
        if self.RESERVED_KWARG in params:
            raise base.InvalidDecoratorException(
                f"the function cannot have a parameter named {self.RESERVED_KWARG!r}: it is "
                "reserved for the docstring template."
            )
        missing = sorted(
            {p for mapping in self.parameterization.values() for p in mapping if p not in params}
        )
        if missing:
            raise base.InvalidDecoratorException(
                f"parameter(s) {missing} do not exist; the function's parameters are "
                f"{list(params)}."
            )
        for output in self.parameterization:
            self._docstring(fn, output, self._output_name(output, fn.__name__))
        grouped = [
            (p, d)
            for mapping in self.parameterization.values()
            for p, d in mapping.items()
            if isinstance(d, GroupedDependency)
        ]
        if grouped:
            hints = base.type_hints(fn)
            for param, dependency in grouped:
                dependency.resolve_dependency_type(hints.get(param), param)

    def expand_node(
        self, node_: Node, config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """One node per output."""
        nodes = []
        for output, mapping in self.parameterization.items():
            name = self._output_name(output, node_.name)
            nodes.append(self._bind(node_, name, mapping, self._docstring(fn, output, name)))
        return nodes

    def _bind(self, node_: Node, name: str, mapping: Assignment, doc: str) -> Node:
        # Assignments to names that are not inputs of the node are ignored here, as in
        # Hamilton: ``validate`` reports them when the decorator is applied to a function.
        check_source_names(mapping.values())
        mapping = {param: dep for param, dep in mapping.items() if param in node_.input_types}
        input_types: dict[str, tuple[Any, DependencyType]] = {}
        defaults: dict[str, Any] = {}
        for param, (type_, dep_type) in node_.input_types.items():
            dependency = mapping.get(param)
            if dependency is None:
                input_types[param] = (type_, dep_type)
                if param in node_.default_parameter_values:
                    defaults[param] = node_.default_parameter_values[param]
            elif isinstance(dependency, UpstreamDependency):
                input_types[dependency.source] = (type_, dep_type)
                if param in node_.default_parameter_values:
                    defaults[dependency.source] = node_.default_parameter_values[param]
            elif isinstance(dependency, GroupedDependency):
                element_type = dependency.resolve_dependency_type(type_, param)
                for upstream in dependency.upstream_names():
                    input_types[upstream] = (element_type, dep_type)
        call = _parameterized_callable(node_.callable, tuple(node_.input_types), dict(mapping))
        return node_.copy_with(
            **base.split_name(name),
            doc_string=doc,
            callabl=call,
            input_types=input_types,
            optional_values=defaults,
        )


class parameterize_values(parameterize):
    """One node per entry: ``parameter`` bound to a literal value.

    ``assigned_output`` maps ``(output_name, docstring)`` to the value.
    """

    def __init__(self, parameter: str, assigned_output: Mapping[tuple[str, str], Any]) -> None:
        for key in assigned_output:
            if not (isinstance(key, tuple) and len(key) == 2):
                raise base.InvalidDecoratorException(
                    f"assigned_output keys must be (output_name, docstring) pairs, got {key!r}."
                )
        super().__init__(
            **{
                output: ({parameter: value(literal)}, doc)
                for (output, doc), literal in assigned_output.items()
            }
        )


class parameterize_sources(parameterize):
    """One node per keyword: parameters bound to the outputs of the named nodes.

    Each keyword maps parameter names to node names (plain strings).
    """

    def __init__(self, **parameterization: Mapping[str, str]) -> None:
        for output, mapping in parameterization.items():
            if not mapping:
                raise base.InvalidDecoratorException(
                    f"output {output!r} has an empty mapping; map at least one parameter to a "
                    "node name."
                )
        super().__init__(
            **{
                output: {param: source(node) for param, node in mapping.items()}
                for output, mapping in parameterization.items()
            }
        )


class inject(parameterize):
    """Bind parameters of the function's own node: ``@inject(p=source("a"))``.

    The node keeps the function's name.
    """

    def __init__(self, **key_mapping: ParametrizedDependency) -> None:
        if not key_mapping:
            raise base.InvalidDecoratorException("@inject needs at least one parameter binding.")
        super().__init__(**{parameterize.PLACEHOLDER_PARAM_NAME: key_mapping})


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"@{old} is deprecated; use @{new} instead.", DeprecationWarning, stacklevel=3)


class parametrized(parameterize_values):
    """Deprecated spelling of :class:`parameterize_values`."""

    def __init__(self, parameter: str, assigned_output: Mapping[tuple[str, str], Any]) -> None:
        _deprecated("parametrized", "parameterize_values")
        super().__init__(parameter, assigned_output)


class parameterized_inputs(parameterize_sources):
    """Deprecated spelling of :class:`parameterize_sources`."""

    def __init__(self, **parameterization: Mapping[str, str]) -> None:
        _deprecated("parameterized_inputs", "parameterize_sources")
        super().__init__(**parameterization)


class parametrized_input(parameterize):
    """Deprecated: ``parameter`` bound to nodes, ``{node: (output_name, docstring)}``."""

    def __init__(self, parameter: str, variable_inputs: Mapping[str, tuple[str, str]]) -> None:
        _deprecated("parametrized_input", "parameterize_sources")
        for spec in variable_inputs.values():
            if not (isinstance(spec, tuple) and len(spec) == 2):
                raise base.InvalidDecoratorException(
                    f"variable_inputs values must be (output_name, docstring) pairs, got {spec!r}."
                )
        super().__init__(
            **{
                output: ({parameter: source(node)}, doc)
                for node, (output, doc) in variable_inputs.items()
            }
        )


@dataclasses.dataclass
class ParameterizedExtract:
    """One parameterization of ``parameterize_extract_columns``: its columns and bindings."""

    outputs: tuple[str, ...]
    input_mapping: dict[str, ParametrizedDependency]


def _column_renamer(call: Callable[..., Any], columns: tuple[str, ...]) -> Callable[..., Any]:
    def rename(frame: Any) -> Any:
        frame.columns = list(columns)
        return frame

    return base.then(call, rename)


class parameterize_extract_columns(base.NodeExpander):
    """Several parameterizations of a dataframe function, each split into its columns.

    For parameterization ``i`` the dataframe node is ``<function>__i`` and each name in its
    ``outputs`` becomes a column node. With ``reassign_columns`` (default) the frame's columns
    are renamed to ``outputs`` first.
    """

    def __init__(self, *extract_config: ParameterizedExtract, reassign_columns: bool = True):
        if not extract_config:
            raise base.InvalidDecoratorException(
                "@parameterize_extract_columns needs at least one ParameterizedExtract."
            )
        for item in extract_config:
            if not isinstance(item, ParameterizedExtract):
                raise base.InvalidDecoratorException(
                    f"@parameterize_extract_columns takes ParameterizedExtract objects, got {item!r}."
                )
        self.extract_config = extract_config
        self.reassign_columns = reassign_columns

    def _parameterizer(self, index: int, name: str, item: ParameterizedExtract) -> parameterize:
        return parameterize(**{f"{name}__{index}": item.input_mapping})

    def validate(self, fn: Callable[..., Any]) -> None:
        """The function must return a dataframe and the bindings must fit it."""
        extract_columns.validate_return_type(fn)
        for index, item in enumerate(self.extract_config):
            self._parameterizer(index, fn.__name__, item).validate(fn)
            extract_columns(*item.outputs)

    def expand_node(
        self, node_: Node, config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """For each parameterization: the bound dataframe node and its column nodes."""
        out: list[Node] = []
        for index, item in enumerate(self.extract_config):
            source_node = node_
            if self.reassign_columns:
                renamer = _column_renamer(node_.callable, tuple(item.outputs))
                source_node = node_.copy_with(callabl=renamer)
            (bound,) = self._parameterizer(index, node_.name, item).expand_node(
                source_node, config, fn
            )
            out.extend(extract_columns(*item.outputs).transform_node(bound, config, fn))
        return out
