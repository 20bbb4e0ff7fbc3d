"""``cayley diff``: which nodes two versions of a dataflow add, remove and change.

Nodes are compared by code version (``HamiltonNode.version``: the hash of the function's
source without docstrings and comments), so reformatting a docstring is not a change while
editing a function body is; inputs, which have no code, change when their type does. The picture draws the new dataflow with added and changed nodes
coloured, and the removed nodes (from the old one) dashed, wired to what they touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import graphviz

    from cayley.driver import Driver

__all__ = ["GraphDiff", "diff_versions", "draw_diff", "node_versions"]

ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"
_STYLES: dict[str, dict[str, str]] = {
    ADDED: {"fillcolor": "#b9e4c2", "color": "#2e9e6b", "penwidth": "2"},
    CHANGED: {"fillcolor": "#ffdf99", "color": "#c98a00", "penwidth": "2"},
    REMOVED: {
        "shape": "rectangle",
        "style": "rounded,filled,dashed",
        "fillcolor": "#f6d0cc",
        "color": "#c8453c",
        "fontcolor": "#7a1f17",
    },
}


@dataclass(frozen=True, slots=True)
class GraphDiff:
    """Node names, sorted, by what happened to them between two versions."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]

    def as_dict(self) -> dict[str, list[str]]:
        """The JSON the command prints."""
        return {ADDED: list(self.added), REMOVED: list(self.removed), CHANGED: list(self.changed)}

    def status_of(self, name: str) -> str | None:
        """``added``, ``changed`` or ``None`` (unchanged) for a node of the new version."""
        if name in self.added:
            return ADDED
        if name in self.changed:
            return CHANGED
        return None


def node_versions(dr: Driver) -> dict[str, str | None]:
    """Node name -> what a change is measured by: the code version of a function's node;
    the type of an input (it has no code: a changed consumer does not change it)."""
    from cayley.htypes import get_type_as_string

    return {
        node.name: f"input: {get_type_as_string(node.type)}"
        if node.is_external_input
        else node.version
        for node in dr.hamilton_graph.nodes
    }


def diff_versions(old: Mapping[str, str | None], new: Mapping[str, str | None]) -> GraphDiff:
    """Compares two ``node -> version`` maps."""
    return GraphDiff(
        added=tuple(sorted(set(new) - set(old))),
        removed=tuple(sorted(set(old) - set(new))),
        changed=tuple(sorted(n for n in set(old) & set(new) if old[n] != new[n])),
    )


def draw_diff(old: Driver, new: Driver, diff: GraphDiff) -> graphviz.Digraph:
    """The new dataflow's drawing with the diff marked and the removed nodes added back."""

    def style(*, node: Any, node_class: str) -> tuple[dict[str, str], str | None, str | None]:
        status = diff.status_of(node.name)
        return (dict(_STYLES[status]), None, None) if status else ({}, None, None)

    dot = new.display_all_functions(custom_style_function=style, show_legend=False)
    new_graph, old_graph = new.graph, old.graph
    # Inputs of the new drawing sit in tables, not as nodes of their own: no edges to them.
    drawn = {
        name
        for name, node in new_graph.nodes.items()
        if not node.user_defined or name in new_graph.config
    }
    removed = set(diff.removed)
    for name in diff.removed:
        dot.node(name, label=f"{name}\n(removed)", **_STYLES[REMOVED])
    for name in diff.removed:
        for dep in old_graph.dependencies[name]:
            if dep in removed or dep in drawn:
                dot.edge(dep, name, style="dashed", color=_STYLES[REMOVED]["color"])
        for consumer in old_graph.dependents[name]:
            if consumer in drawn:
                dot.edge(name, consumer, style="dashed", color=_STYLES[REMOVED]["color"])
    _draw_legend(dot, diff)
    return dot


def _draw_legend(dot: graphviz.Digraph, diff: GraphDiff) -> None:
    import graphviz

    present = [s for s in (ADDED, CHANGED, REMOVED) if getattr(diff, s)]
    if not present:
        return
    legend = graphviz.Digraph(
        name="cluster_legend", graph_attr={"label": "Legend", "color": "grey", "rank": "same"}
    )
    for status in present:
        look = {"shape": "rectangle", "style": "rounded,filled"} | _STYLES[status]
        legend.node(f"_legend_{status}", label=status, **look)
    dot.subgraph(legend)
