"""Small helpers shared by the function_modifiers tests."""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any

from cayley import ad_hoc_utils
from cayley.function_modifiers import base
from cayley.node import Node


def module_of(source: str) -> types.ModuleType:
    """A fresh module made from ``source``."""
    return ad_hoc_utils.module_from_source(source)


def nodes_of(fn: Callable[..., Any], config: Mapping[str, Any] | None = None) -> dict[str, Node]:
    """The nodes ``fn`` resolves to, by name (duplicate names are an error)."""
    nodes = base.resolve_nodes(fn, dict(config or {}))
    by_name = {n.name: n for n in nodes}
    assert len(by_name) == len(nodes), f"duplicate node names: {[n.name for n in nodes]}"
    return by_name


def module_nodes(
    module: types.ModuleType, config: Mapping[str, Any] | None = None
) -> dict[str, Node]:
    """The nodes of every public function of ``module``, by name."""
    out: dict[str, Node] = {}
    for _, fn in base.find_functions(module):
        for name, node in nodes_of(fn, config).items():
            assert name not in out, f"node {name} produced twice"
            out[name] = node
    return out


def user_tags(node: Node) -> dict[str, Any]:
    """The node's tags without the ``module`` tag."""
    return {k: v for k, v in node.tags.items() if k != "module"}


def compute(nodes: Mapping[str, Node], outputs: list[str], **inputs: Any) -> dict[str, Any]:
    """Evaluate ``outputs`` by calling node callables directly (a tiny reference executor)."""
    values: dict[str, Any] = dict(inputs)

    def value_of(name: str) -> Any:
        if name in values:
            return values[name]
        node = nodes[name]
        kwargs = {}
        for param in node.input_types:
            if param in values or param in nodes:
                kwargs[param] = value_of(param)
            elif param not in node.optional_dependencies:
                raise KeyError(f"missing input {param!r} for node {name!r}")
        values[name] = node.callable(**kwargs)
        return values[name]

    return {name: value_of(name) for name in outputs}
