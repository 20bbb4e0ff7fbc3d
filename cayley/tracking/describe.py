"""The stored description of a run's graph: its nodes, edges and fan-out blocks.

A run's graph is the part of the driver's graph the run touches: the nodes it computes and
the inputs and overrides they read (or, when the run was rejected before it could start,
everything upstream of the requested outputs). Descriptions are content-addressed: runs of
the same dataflow share one stored copy.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from cayley import htypes
from cayley.graph import FunctionGraph
from cayley.graph_types import hash_source_code

__all__ = ["GraphDescription", "describe_graph"]


class GraphDescription(NamedTuple):
    """A run's graph as stored: a content hash and the JSON text."""

    graph_id: str
    text: str
    #: node name -> innermost expander of the fan-out block it runs in (block nodes only)
    blocks: dict[str, str]
    #: expander -> nodes whose start means every item of its block has finished
    collectors: dict[str, list[str]]
    inputs: list[str]


def _source(node: Any) -> tuple[str | None, str | None]:
    functions = node.originating_functions
    if not functions:
        return None, None
    try:
        source = inspect.getsource(functions[0])
    except (OSError, TypeError):
        return None, None
    return source, hash_source_code(source, strip=True)


def _names(
    graph: FunctionGraph, execution_path: Sequence[str], outputs: Sequence[str]
) -> list[str]:
    if execution_path:
        names = set(execution_path)
    else:
        known = [name for name in outputs if name in graph.nodes]
        names = graph.upstream_of(*known) if known else set()
    for name in list(names):
        names.update(graph.dependencies.get(name, ()))
    return sorted(names, key=graph.topological_index.__getitem__)


def describe_graph(
    graph: FunctionGraph, execution_path: Sequence[str], outputs: Sequence[str]
) -> GraphDescription:
    """Describes the part of ``graph`` a run with this path and these outputs touches."""
    names = _names(graph, execution_path, outputs)
    if execution_path:
        computed = set(execution_path)
    else:  # a rejected run: what would have been computed is what functions compute
        computed = {name for name in names if not graph.nodes[name].user_defined}
    included = set(names)
    nodes = []
    blocks: dict[str, str] = {}
    collectors: dict[str, list[str]] = {}
    inputs = []
    for name in names:
        node = graph.nodes[name]
        scope = list(graph.scopes.get(name, ()))
        is_input = name not in computed
        if is_input:
            inputs.append(name)
        elif scope:
            blocks[name] = scope[-1]
        collects = []
        for param, dep in zip(node.input_types, graph.dependencies[name]):
            if param in node.collect_params:
                dep_scope = graph.scopes.get(dep, ())
                expander = dep if graph.nodes[dep].is_expander else dep_scope[-1]
                collects.append(expander)
                collectors.setdefault(expander, []).append(name)
        source, version = _source(node) if not is_input else (None, None)
        nodes.append(
            {
                "name": name,
                "type": htypes.get_type_as_string(node.type),
                "tags": node.tags,
                "documentation": node.documentation or None,
                "source": source,
                "version": version,
                "is_input": is_input,
                "scope": scope,
                "is_expander": node.is_expander,
                "collects": collects,
            }
        )
    edges = [
        [dep, name]
        for name in names
        for dep in dict.fromkeys(graph.dependencies[name])
        if dep in included
    ]
    text = json.dumps({"nodes": nodes, "edges": edges}, sort_keys=True, default=str)
    graph_id = hashlib.sha256(text.encode()).hexdigest()[:32]
    return GraphDescription(graph_id, text, blocks, collectors, inputs)
