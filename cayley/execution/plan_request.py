"""What a request needs: the nodes its outputs require and the inputs it must be given."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from cayley.graph import FunctionGraph

__all__ = ["MissingInputsError", "check_missing_inputs", "needed_nodes"]


class MissingInputsError(ValueError):
    """Inputs the requested outputs need were not provided."""


def _missing_inputs_message(graph: FunctionGraph, missing: Sequence[str], needed: set[str]) -> str:
    lines = []
    for name in missing:
        consumers = sorted(c for c in graph.dependents[name] if c in needed)
        if consumers:
            lines.append(f"  Error: Required input {name} not provided for nodes: {consumers}.")
        else:
            lines.append(f"  Error: Input {name} was requested as an output but not provided.")
    lines.append(
        "Pass them in execute(inputs={...}) or in the config, or override the nodes that need them."
    )
    return f"{len(missing)} errors encountered:\n" + "\n".join(lines)


def needed_nodes(
    graph: FunctionGraph,
    outputs: Sequence[str],
    provided: Collection[str],
    overridden: Collection[str],
) -> set[str]:
    """The nodes the outputs need, plus the expanders of every scope they run in.

    A block runs once per item even when its nodes no longer read the item (overrides), and
    an overridden node gathered by a Collect still comes once per item: its fan-out too.
    """
    needed = graph.required_nodes(outputs, provided, overridden)
    while True:
        expanders = set()
        for name in needed:
            node = graph.nodes[name]
            if name in overridden:
                if node.is_expander and not node.user_defined:
                    # An overridden expander still fans out in its own scope.
                    expanders.update(graph.scopes[name])
                continue
            expanders.update(graph.scopes[name])
            for param, dep in zip(node.input_types, graph.dependencies[name]):
                if param in node.collect_params and dep in overridden:
                    expanders.update(graph.scopes[dep])
        expanders -= needed
        if not expanders:
            return needed
        needed |= graph.required_nodes(expanders, provided, overridden)


def check_missing_inputs(
    graph: FunctionGraph,
    needed: set[str],
    provided: Collection[str],
    overridden: Collection[str],
) -> None:
    """Raises MissingInputsError if a needed user input is neither provided nor overridden."""
    missing = sorted(
        n
        for n in needed
        if graph.nodes[n].user_defined and n not in provided and n not in overridden
    )
    if missing:
        raise MissingInputsError(_missing_inputs_message(graph, missing, needed))
