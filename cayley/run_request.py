"""Checking a run request against the graph: the requested outputs, inputs and overrides.

The driver, its drawing methods and the async driver resolve a request with these before
anything runs: :func:`output_names` turns names, functions and nodes into node names, and the
checks reject (or warn about) inputs and overrides that cannot do what the caller meant.
"""

from __future__ import annotations

import difflib
import sys
import warnings
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from cayley import htypes
from cayley.graph_types import HamiltonNode
from cayley.lifecycle.base import call_method
from cayley.node import Node

if TYPE_CHECKING:
    from cayley.execution.plan import ExecutionPlan
    from cayley.graph import FunctionGraph

__all__ = [
    "caller_stacklevel",
    "check_input_types",
    "combine_inputs",
    "output_names",
    "warn_shadowed_inputs",
    "warn_unknown_overrides",
]


def output_names(
    final_vars: Sequence[str | Callable[..., Any] | HamiltonNode], graph: FunctionGraph
) -> list[str]:
    """The node names ``final_vars`` requests (names, node functions or nodes).

    Raises TypeError for a bare string or an item of another kind, and ValueError for a
    function that is not one of ``graph``'s.
    """
    if isinstance(final_vars, (str, bytes)) or not isinstance(final_vars, Collection):
        raise TypeError(
            f"final_vars must be a list of node names, functions or nodes; got {final_vars!r}. "
            f"Wrap it in a list: [{final_vars!r}]."
        )
    names: list[str] = []
    for var in final_vars:
        if isinstance(var, str):
            names.append(var)
        elif isinstance(var, (HamiltonNode, Node)):
            names.append(var.name)
        elif callable(var):
            name = getattr(var, "__name__", None)
            node = graph.nodes.get(name) if name else None
            origins = node.originating_functions if node is not None else None
            if node is None or not origins or var not in origins:
                raise ValueError(
                    f"Function {getattr(var, '__qualname__', var)!r} was requested as an output, "
                    "but it is not a function of this driver's modules."
                )
            names.append(name)  # type: ignore[arg-type]
        else:
            raise TypeError(
                f"Cannot request {var!r} ({type(var).__name__}) as an output: use a node name, "
                "a function or a node."
            )
    return names


def caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside cayley, for warnings."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("cayley."):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def combine_inputs(config: dict[str, Any], inputs: dict[str, Any] | None) -> dict[str, Any]:
    """The config and the inputs in one dict; raises ValueError if they share a key."""
    inputs = inputs or {}
    if not config:
        return dict(inputs)
    clash = sorted(set(inputs) & set(config))
    if clash:
        raise ValueError(
            f"Inputs {clash} are also set in the config; config and inputs must be mutually "
            "disjoint. Pass each value in one place."
        )
    return {**config, **inputs}


def check_input_types(
    graph: FunctionGraph,
    plan: ExecutionPlan,
    values: dict[str, Any],
    overrides: dict[str, Any],
    validate: Callable[..., Any] | None,
) -> None:
    """Raises ValueError listing every value of ``plan``'s inputs that does not fit its type.

    ``validate`` is the adapters' ``do_validate_input`` method (or None): a value it accepts
    passes.
    """
    nodes = graph.nodes
    errors = []
    for name in plan.constants:
        if name in overrides:
            continue
        node = nodes[name]
        value = values[name]
        if htypes.check_input_type(node.type, value):
            continue
        if validate is not None and call_method(validate, node_type=node.type, input_value=value):
            continue
        consumers = sorted(c for c in graph.dependents[name] if c in plan.execution_path)
        errors.append(
            f"  Error: Type requirement mismatch. Expected {name}:{node.type} got "
            f"{value!r:.80}:{type(value)} instead. Input {name} feeds nodes {consumers}."
        )
    if errors:
        errors.append(
            "Pass values of the expected types, or register an adapter whose "
            "check_input_type (or EdgeConnectionHook.validate_input) accepts them."
        )
        raise ValueError(f"{len(errors) - 1} errors encountered:\n" + "\n".join(errors))


def warn_shadowed_inputs(graph: FunctionGraph, inputs: dict[str, Any] | None) -> None:
    """Warns about inputs naming nodes that functions compute (they are ignored)."""
    if not inputs:
        return
    nodes = graph.nodes
    shadowed = [k for k in inputs if k in nodes and not nodes[k].user_defined]
    if shadowed:
        warnings.warn(
            f"Inputs {shadowed} name nodes computed by functions; inputs only feed nodes "
            "nobody computes, so these values are ignored. Pass them as overrides= to "
            "replace the computed values.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def warn_unknown_overrides(graph: FunctionGraph, overrides: dict[str, Any]) -> None:
    """Warns about overrides that name no node (Hamilton ignores them silently)."""
    nodes = graph.nodes
    unknown = [name for name in overrides if name not in nodes]
    if not unknown:
        return
    lines = []
    for name in unknown:
        close = difflib.get_close_matches(str(name), list(nodes), n=3)
        hint = f"; closest node names: {', '.join(map(repr, close))}" if close else ""
        lines.append(f"  {name!r} names no node of the graph{hint}")
    warnings.warn(
        f"{len(unknown)} override(s) replace nothing and are ignored:\n"
        + "\n".join(lines)
        + "\nCheck the spelling: overrides must use the names of the graph's nodes.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
