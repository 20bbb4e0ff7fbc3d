"""Drawing graph nodes as a graphviz digraph, and rendering a drawing to a file.

:func:`build_digraph` turns a set of graph nodes into a ``graphviz.Digraph``: inputs are
gathered into one table per consumer, and the nodes of a ``Parallelizable`` block are grouped
in a cluster per expander, nested like the blocks are (how each node looks is
:mod:`cayley.drawing_styles`). :func:`render` writes a drawing to a file.

``graphviz`` is optional: it is imported when a drawing is made, never at import time.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cayley.drawing_styles import (
    BLOCK,
    BLOCK_STYLE,
    COLUMNS_GROUP_STYLE,
    FONT,
    INPUT,
    PATH,
    PATH_COLOR,
    Canvas,
    DisplayOptions,
    base_class,
    check_custom_style_function,
    class_style,
    display_name,
    table_label,
)
from cayley.function_modifiers.with_columns import GROUP_TAG as _COLUMNS_GROUP_TAG

if TYPE_CHECKING:
    import graphviz

    from cayley.graph import FunctionGraph

__all__ = ["Scope", "build_digraph", "render"]

#: The fan-out blocks a node runs in: the expanders enclosing it, outermost first.
Scope = tuple[str, ...]

_ORIENTS = ("LR", "RL", "TB", "BT")

_INSTALL_HINT = (
    'Drawing the graph needs the graphviz Python package: pip install "cayley[visualization]" '
    "(or pip install graphviz)."
)


def _import_graphviz() -> Any:
    """The ``graphviz`` module, or an ImportError saying how to install it."""
    try:
        import graphviz
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return graphviz


# ---- what is drawn where -------------------------------------------------------------------
@dataclass
class _Layout:
    """How the chosen nodes are drawn: on their own, in input tables, or not at all."""

    own: list[str] = field(default_factory=list)  # drawn as nodes, topological order
    tables: dict[str, list[str]] = field(default_factory=dict)  # table id -> input names
    table_consumers: dict[str, list[str]] = field(default_factory=dict)  # table id -> nodes
    tabled: set[str] = field(default_factory=set)  # inputs shown only inside tables


def _layout(
    graph: FunctionGraph,
    names: Collection[str],
    marks: Mapping[str, Collection[str]],
    options: DisplayOptions,
) -> _Layout:
    """Decides where each node goes.

    An input is shown in its consumers' tables unless it carries a mark (output, path,
    override) or none of its consumers is drawn: then it is drawn on its own.
    """
    order = graph.in_topological_order(names)
    layout = _Layout()
    consumers = {n for n in order if base_class(graph, n) != INPUT}
    for name in order:
        if base_class(graph, name) != INPUT:
            continue
        if marks.get(name):
            layout.own.append(name)
        elif not options.hide_inputs and any(c in consumers for c in graph.dependents[name]):
            layout.tabled.add(name)
        elif not options.hide_inputs:
            layout.own.append(name)
    shared: dict[frozenset[str], str] = {}
    for name in order:
        if name not in consumers:
            continue
        layout.own.append(name)
        inputs = [d for d in graph.dependencies[name] if d in layout.tabled]
        if not inputs:
            continue
        key = frozenset(inputs)
        table = shared.get(key) if options.deduplicate_inputs else None
        if table is None:
            table = f"_{name}_inputs"
            shared[key] = table
            layout.tables[table] = inputs
        layout.table_consumers.setdefault(table, []).append(name)
    layout.own = graph.in_topological_order(layout.own)
    return layout


def _edge_style(
    graph: FunctionGraph, producer: str, consumer: str, marks: Mapping[str, Collection[str]]
) -> dict[str, str]:
    """Fan-out edges end in a crow's foot; edges into a ``Collect`` parameter start in one."""
    style: dict[str, str] = {}
    if producer in graph.nodes[consumer].collect_params:
        style.update(dir="both", arrowtail="crow")
    elif graph.nodes[producer].is_expander:
        style.update(arrowhead="crow")
    if PATH in marks.get(producer, ()) and PATH in marks.get(consumer, ()):
        style["color"] = PATH_COLOR
    return style


# ---- building the digraph ------------------------------------------------------------------
def _digraph_kwargs(options: DisplayOptions) -> dict[str, Any]:
    orient = options.orient.upper()
    if orient not in _ORIENTS:
        raise ValueError(f"orient must be one of {list(_ORIENTS)}; got {options.orient!r}")
    kwargs: dict[str, Any] = {
        "comment": "Dependency Graph",
        "graph_attr": {"rankdir": orient, "ranksep": "0.4", "fontname": FONT},
        "node_attr": {"fontname": FONT, "fillcolor": "#ffffff"},
        "edge_attr": {},
    }
    for key, value in (options.graphviz_kwargs or {}).items():
        if isinstance(value, Mapping) and isinstance(kwargs.get(key), dict):
            kwargs[key] = {**kwargs[key], **value}
        else:
            kwargs[key] = value
    return kwargs


class _Containers:
    """The root digraph plus one nested cluster per fan-out block, made on demand."""

    def __init__(self, gv: Any, graph: FunctionGraph, root: graphviz.Digraph) -> None:
        self._gv = gv
        self._graph = graph
        self._by_scope: dict[Scope, graphviz.Digraph] = {(): root}
        self._groups: dict[tuple[Scope, str], graphviz.Digraph] = {}

    def get(self, scope: Scope, group: str | None = None) -> graphviz.Digraph:
        """The container of nodes running under ``scope`` (its enclosing ones are made too),
        or of the ``with_columns`` group ``group`` inside it."""
        if group is not None:
            found = self._groups.get((scope, group))
            if found is None:
                found = self._gv.Digraph(
                    name=f"cluster_with_columns_{len(self._groups)}",
                    graph_attr={"label": f"with_columns: {group}", **COLUMNS_GROUP_STYLE},
                )
                self._groups[(scope, group)] = found
            self.get(scope)
            return found
        for depth in range(1, len(scope) + 1):
            prefix = scope[:depth]
            if prefix not in self._by_scope:
                expander = prefix[-1]
                self._by_scope[prefix] = self._gv.Digraph(
                    name=f"cluster_block_{expander}",
                    graph_attr={
                        "label": f"each item of {display_name(self._graph, expander)}",
                        **BLOCK_STYLE,
                    },
                )
        return self._by_scope[scope]

    @property
    def has_blocks(self) -> bool:
        """Whether any node was placed in a fan-out block."""
        return len(self._by_scope) > 1

    def close(self) -> None:
        """Nests every cluster in its parent, innermost first (graphviz copies on nesting)."""
        for (scope, _), cluster in self._groups.items():
            self._by_scope[scope].subgraph(cluster)
        for scope in sorted(self._by_scope, key=len, reverse=True):
            if scope:
                self._by_scope[scope[:-1]].subgraph(self._by_scope[scope])


def build_digraph(
    graph: FunctionGraph,
    names: Collection[str],
    marks: Mapping[str, Collection[str]] | None = None,
    options: DisplayOptions | None = None,
) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` of the nodes ``names`` of ``graph``.

    Args:
        graph: the function graph.
        names: the nodes to draw; only edges between them are drawn.
        marks: node name -> marks among ``output``, ``override`` and ``path``.
        options: style settings.
    """
    gv = _import_graphviz()
    marks = marks or {}
    options = options or DisplayOptions()
    check_custom_style_function(options.custom_style_function)
    dot = gv.Digraph(**_digraph_kwargs(options))
    canvas = Canvas(gv, graph, marks, options)
    legend = canvas.legend
    layout = _layout(graph, names, marks, options)
    containers = _Containers(gv, graph, dot)
    for name in layout.own:
        group = graph.nodes[name].tags.get(_COLUMNS_GROUP_TAG)
        canvas.draw_node(name, containers.get(graph.scopes[name], group))
    if containers.has_blocks:
        legend.add(BLOCK)
    containers.close()
    drawn = set(layout.own)
    for name in layout.own:
        for dep in graph.dependencies[name]:
            if dep in drawn:
                dot.edge(dep, name, **_edge_style(graph, dep, name, marks))
    if layout.tables:
        legend.add(INPUT)
    for table, inputs in layout.tables.items():
        dot.node(table, label=table_label(graph, inputs), **class_style(INPUT))
        for consumer in layout.table_consumers[table]:
            dot.edge(table, consumer)
    if options.show_legend:
        legend.draw(gv, dot)
    return dot


def render(
    dot: graphviz.Digraph,
    output_file_path: str | os.PathLike[str],
    render_kwargs: Mapping[str, Any] | None = None,
    keep_dot: bool = False,
) -> pathlib.Path:
    """Writes ``dot`` drawn by the Graphviz ``dot`` program; returns the file written.

    The format comes from ``render_kwargs["format"]``, else the file extension, else png.
    Without an extension, the format is appended (``graph`` -> ``graph.png``). With
    ``keep_dot`` the DOT source is also kept, at the path without its extension.
    ``render_kwargs`` are passed to ``Digraph.render`` (with ``keep_dot``) or
    ``Digraph.pipe``; ``view=True`` opens the file once written.
    """
    gv = _import_graphviz()
    stem, suffix = os.path.splitext(os.fspath(output_file_path))
    kwargs = {"format": suffix[1:] or "png", **(render_kwargs or {})}
    view = bool(kwargs.pop("view", False))
    target = pathlib.Path(f"{stem}.{kwargs['format']}")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if keep_dot:
            target = pathlib.Path(dot.render(stem, **kwargs))
        else:
            target.write_bytes(dot.pipe(**kwargs))
    except gv.ExecutableNotFound as exc:
        raise RuntimeError(
            f"Cannot write {os.fspath(output_file_path)!r}: rendering needs the Graphviz 'dot' "
            "program, which is not on PATH. Install Graphviz (e.g. `apt-get install graphviz` "
            "or `brew install graphviz`), or call without output_file_path and use the "
            "returned Digraph's .source (DOT text)."
        ) from exc
    if view:
        gv.view(os.fspath(target))
    return target
