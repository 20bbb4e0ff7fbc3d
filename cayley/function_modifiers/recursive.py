"""Decorators reusing whole groups of functions as namespaced sub-dataflows.

``@subdag(module_or_functions..., inputs=..., config=...)`` builds the nodes of those functions
under a namespace (``ns.node``), feeds their inputs from ``source``/``value`` specifiers, and
adds a final node, the decorated function, whose parameters read the subdag's nodes.
``@parameterized_subdag`` builds several such subdags at once.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypedDict

from cayley.function_modifiers import base, dependencies
from cayley.function_modifiers.dependencies import (
    LiteralDependency,
    ParametrizedDependency,
    UpstreamDependency,
)
from cayley.node import DependencyType, Node

__all__ = ["SubdagParams", "parameterized_subdag", "subdag"]

NON_FINAL_TAGS = {base.NodeTransformer.NON_FINAL_TAG: True}


def assign_namespace(node_name: str, namespace: str) -> str:
    """``namespace.node_name``."""
    return f"{namespace}.{node_name}"


def _constant(value: Any) -> Callable[..., Any]:
    def constant() -> Any:
        return value

    return constant


def _identity_of(upstream: str) -> Callable[..., Any]:
    def identity(**kwargs: Any) -> Any:
        return kwargs[upstream]

    return identity


def _validate_config_inputs(config: Mapping[str, Any], inputs: Mapping[str, Any]) -> None:
    shared = sorted(set(config) & set(inputs))
    if shared:
        raise base.InvalidDecoratorException(
            f"key(s) {shared} appear in both config and inputs; give each value once (as config "
            "if functions are configured by it, as an input otherwise)."
        )
    for key, spec in inputs.items():
        if not isinstance(spec, (UpstreamDependency, LiteralDependency)):
            raise base.InvalidDecoratorException(
                f"input {key!r} must be source(...) or value(...), got {spec!r}."
            )


def _resolve_subdag_config(
    configuration: Mapping[str, Any], fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The outer config overridden by the subdag's own config (``configuration()`` looked up)."""
    resolved = dict(configuration)
    for key, spec in fields.items():
        if isinstance(spec, dependencies.ConfigDependency):
            continue
        if isinstance(spec, LiteralDependency):
            resolved[key] = spec.value
        elif isinstance(spec, ParametrizedDependency):
            raise base.InvalidDecoratorException(
                f"config key {key!r} is {spec!r}; subdag config values must be plain values, "
                "value(...) or configuration(...)."
            )
        else:
            resolved[key] = spec
    for key, spec in fields.items():
        if isinstance(spec, dependencies.ConfigDependency):
            if spec.source not in resolved:
                raise base.MissingConfigParametersException(
                    f"configuration({spec.source!r}) for subdag config key {key!r}: the config "
                    "has no such key."
                )
            resolved[key] = resolved[spec.source]
    return resolved


def _namespaced(node_: Node, namespace: str, renames: Mapping[str, str]) -> Node:
    mapping = {param: renames[param] for param in node_.input_types if param in renames}
    moved = node_.reassign_inputs(input_names=mapping) if mapping else node_
    return moved.copy_with(namespace=(namespace, *node_.namespace))


class subdag(base.NodeCreator):
    """Reuse functions (or modules) as a sub-dataflow under a namespace.

    ``inputs`` feeds the subdag's inputs (``source(...)`` or ``value(...)``), ``config``
    overrides the outer config for it, ``namespace`` defaults to the function's name and
    ``final_node_name`` to the function's name. The decorated function's parameters read the
    subdag's nodes, except those listed in ``external_inputs``, which come from outside.
    """

    def __init__(
        self,
        *load_from: types.ModuleType | Callable[..., Any],
        inputs: dict[str, ParametrizedDependency] | None = None,
        config: dict[str, Any] | None = None,
        namespace: str | None = None,
        final_node_name: str | None = None,
        external_inputs: list[str] | None = None,
    ) -> None:
        self.subdag_functions = subdag.collect_functions(load_from)
        self.inputs = dict(inputs or {})
        self.config = dict(config or {})
        self.external_inputs = list(external_inputs or [])
        _validate_config_inputs(self.config, self.inputs)
        self.namespace = namespace
        self.final_node_name = final_node_name

    @staticmethod
    def collect_functions(
        load_from: Collection[types.ModuleType | Callable[..., Any]],
    ) -> list[Callable[..., Any]]:
        """The functions given, plus the public functions of the modules given."""
        if not load_from:
            raise base.InvalidDecoratorException(
                "@subdag needs at least one module or function to build the subdag from."
            )
        out: list[Callable[..., Any]] = []
        for item in load_from:
            if isinstance(item, types.ModuleType):
                out.extend(fn for _, fn in base.find_functions(item))
            elif inspect.isfunction(item):
                out.append(item)
            else:
                raise base.InvalidDecoratorException(
                    f"@subdag builds from modules and functions, got {item!r}."
                )
        return out

    @staticmethod
    def collect_nodes(
        config: dict[str, Any], subdag_functions: list[Callable[..., Any]]
    ) -> list[Node]:
        """The nodes of the functions under ``config``, tagged as non-final.

        A ``@config.default`` node is dropped when another node has its name.
        """
        nodes: list[Node] = []
        for fn in subdag_functions:
            nodes.extend(base.resolve_nodes(fn, config))
        regular = {n.name for n in nodes if not n.tags.get(base.CONFIG_DEFAULT_TAG)}
        out = []
        for node_ in nodes:
            tags = {**node_.tags, **NON_FINAL_TAGS}
            if tags.pop(base.CONFIG_DEFAULT_TAG, False) and node_.name in regular:
                continue
            out.append(node_.copy_with(tags=tags))
        return out

    def _static_nodes(
        self, nodes: Collection[Node], namespace: str, config: Mapping[str, Any]
    ) -> list[Node]:
        observed = {param: t for n in nodes for param, (t, _) in n.input_types.items()}
        out: list[Node] = []
        for key, spec in self.inputs.items():
            name = assign_namespace(key, namespace)
            if isinstance(spec, LiteralDependency):
                out.append(
                    Node(
                        key,
                        type(spec.value),
                        callabl=_constant(spec.value),
                        input_types={},
                        tags=NON_FINAL_TAGS,
                        namespace=(namespace,),
                    )
                )
            elif name in observed:
                typ = observed[name]
                out.append(
                    Node(
                        key,
                        typ,
                        callabl=_identity_of(spec.source),
                        input_types={spec.source: (typ, DependencyType.REQUIRED)},
                        tags=NON_FINAL_TAGS,
                        namespace=(namespace,),
                    )
                )
        for key in self.config:
            val = config[key]
            out.append(
                Node(
                    key,
                    type(val),
                    callabl=_constant(val),
                    input_types={},
                    tags=NON_FINAL_TAGS,
                    namespace=(namespace,),
                )
            )
        return out

    def _final_node(self, fn: Callable[..., Any], name: str, namespace: str) -> Node:
        node_ = base.node_from_fn(fn)
        renames = {
            param: assign_namespace(param, namespace)
            for param in node_.input_types
            if param not in self.external_inputs
        }
        moved = node_.reassign_inputs(input_names=renames) if renames else node_
        return moved.copy_with(**base.split_name(name))

    def generate_nodes(self, fn: Callable[..., Any], configuration: dict[str, Any]) -> list[Node]:
        """Namespaced subdag nodes, input/config nodes, and the final node."""
        dependencies.check_source_names(self.inputs.values())
        resolved_config = _resolve_subdag_config(configuration, self.config)
        nodes = self.collect_nodes(resolved_config, self.subdag_functions)
        namespace = fn.__name__ if self.namespace is None else self.namespace
        inner_names = {n.name for n in nodes} | set(self.inputs) | set(self.config)
        renames = {name: assign_namespace(name, namespace) for name in inner_names}
        namespaced = [_namespaced(n, namespace, renames) for n in nodes]
        final_name = fn.__name__ if self.final_node_name is None else self.final_node_name
        return [
            *namespaced,
            *self._static_nodes(namespaced, namespace, resolved_config),
            self._final_node(fn, final_name, namespace),
        ]

    def validate(self, fn: Callable[..., Any]) -> None:
        """Inputs must be ``source``/``value``; external inputs must be parameters."""
        bad = {k: v for k, v in self.inputs.items() if not isinstance(v, ParametrizedDependency)}
        if bad:
            raise base.InvalidDecoratorException(
                f"subdag inputs must be source(...) or value(...), got {bad}."
            )
        params = inspect.signature(fn).parameters
        unknown = [name for name in self.external_inputs if name not in params]
        if unknown:
            raise base.InvalidDecoratorException(
                f"external_inputs {unknown} are not parameters of the function "
                f"(its parameters are {list(params)})."
            )

    def required_config(self) -> list[str] | None:
        """The subdag's functions may read any config key, so it sees the whole config."""
        return None


class SubdagParams(TypedDict, total=False):
    """One parameterization of ``parameterized_subdag``."""

    inputs: dict[str, ParametrizedDependency]
    config: dict[str, Any]
    external_inputs: list[str]


class parameterized_subdag(base.NodeCreator):
    """Several subdags from the same functions, one per keyword (its namespace and final node).

    Each keyword maps to a dict with optional ``inputs``, ``config`` and ``external_inputs``,
    merged over (``external_inputs``: replacing) those given to the decorator itself.
    """

    def __init__(
        self,
        *load_from: types.ModuleType | Callable[..., Any],
        inputs: dict[str, ParametrizedDependency] | None = None,
        config: dict[str, Any] | None = None,
        external_inputs: list[str] | None = None,
        **parameterization: SubdagParams,
    ) -> None:
        if not parameterization:
            raise base.InvalidDecoratorException(
                "@parameterized_subdag needs at least one parameterization (keyword argument)."
            )
        for key, params in parameterization.items():
            if not isinstance(params, Mapping):
                raise base.InvalidDecoratorException(
                    f"parameterization {key!r} must be a dict with inputs/config/external_inputs, "
                    f"got {params!r}."
                )
            unknown = sorted(set(params) - {"inputs", "config", "external_inputs"})
            if unknown:
                raise base.InvalidDecoratorException(
                    f"parameterization {key!r} has unknown key(s) {unknown}; use inputs, config "
                    "or external_inputs."
                )
        self.load_from = load_from
        self.inputs = dict(inputs or {})
        self.config = dict(config or {})
        self.external_inputs = list(external_inputs or [])
        self.parameterization = parameterization
        self._subdags = self._gather_subdag_generators()

    def _gather_subdag_generators(self) -> list[subdag]:
        return [
            subdag(
                *self.load_from,
                inputs={**self.inputs, **params.get("inputs", {})},
                config={**self.config, **params.get("config", {})},
                external_inputs=params.get("external_inputs", self.external_inputs),
                namespace=key,
                final_node_name=key,
            )
            for key, params in self.parameterization.items()
        ]

    def generate_nodes(self, fn: Callable[..., Any], config: dict[str, Any]) -> list[Node]:
        """The nodes of every subdag."""
        return [n for generator in self._subdags for n in generator.generate_nodes(fn, config)]

    def validate(self, fn: Callable[..., Any]) -> None:
        """Each subdag must fit the function."""
        for generator in self._subdags:
            generator.validate(fn)

    def required_config(self) -> list[str] | None:
        """The subdags' functions may read any config key."""
        return None


def __getattr__(name: str) -> Any:
    """``with_columns_base``, importable from here as in Hamilton (it lives in
    :mod:`cayley.function_modifiers.with_columns`, which imports this module)."""
    if name == "with_columns_base":
        from cayley.function_modifiers.with_columns import with_columns_base

        return with_columns_base
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
