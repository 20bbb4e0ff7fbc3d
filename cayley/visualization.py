"""Drawing the dataflow with graphviz.

:func:`build_digraph` turns a set of graph nodes into a ``graphviz.Digraph``: each node is
styled by its *classes* (``config``, ``input``, ``function`` plus marks such as ``output``
or ``expand``), inputs are gathered into one table per consumer, and the nodes of a
``Parallelizable`` block are grouped in a cluster per expander, nested like the blocks
are. :func:`render` writes a drawing to a file. :class:`VisualizationMixin` gives the
driver its ``display_*`` / ``visualize_*`` methods; each only chooses which nodes to draw
and which marks they carry.

``graphviz`` is optional: it is imported when a drawing is made, never at import time.
"""

from __future__ import annotations

import html
import inspect
import os
import pathlib
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cayley import htypes
from cayley.function_modifiers.with_columns import GROUP_TAG as _COLUMNS_GROUP_TAG
from cayley.graph_types import HamiltonNode
from cayley.run_request import output_names

if TYPE_CHECKING:
    import graphviz

    from cayley.execution.plan import ExecutionPlan
    from cayley.graph import FunctionGraph

__all__ = ["DisplayOptions", "VisualizationMixin", "build_digraph", "render"]

Scope = tuple[str, ...]
#: ``custom_style_function(*, node, node_class) -> (style, base_class, legend_name)``.
CustomStyleFunction = Callable[..., tuple[dict[str, Any], str | None, str | None]]

# ---- node classes and their looks ----------------------------------------------------------
CONFIG = "config"
INPUT = "input"
FUNCTION = "function"
MATERIALIZER = "materializer"
FIELD = "field"
OUTPUT = "output"
OVERRIDE = "override"
PATH = "path"
EXPAND = "expand"
COLLECT = "collect"
BLOCK = "block"

_FONT = "Helvetica"
_PATH_COLOR = "red"
_EXPAND_COLOR = "#2e9e6b"
_COLLECT_COLOR = "#c8453c"
_MAX_TEXT = 80

_BASE_STYLES: dict[str, dict[str, str]] = {
    CONFIG: {"shape": "note", "style": "filled", "fillcolor": "#f4efdc"},
    INPUT: {"shape": "rectangle", "style": "filled,dashed", "margin": "0.15"},
    FUNCTION: {
        "shape": "rectangle",
        "style": "rounded,filled",
        "margin": "0.15",
        "fillcolor": "#c9e2ee",
    },
}
_MARK_STYLES: dict[str, dict[str, str]] = {
    MATERIALIZER: {"shape": "cylinder"},
    FIELD: {"fillcolor": "#e3eef2", "fontname": "Courier", "fontsize": "10"},
    EXPAND: {"peripheries": "2", "color": _EXPAND_COLOR},
    COLLECT: {"peripheries": "2", "color": _COLLECT_COLOR},
    OUTPUT: {"fillcolor": "#ffcf5c"},
    OVERRIDE: {"style": "filled,diagonals"},
    PATH: {"color": _PATH_COLOR},
}
_BLOCK_STYLE = {"style": "rounded,dashed", "color": _EXPAND_COLOR, "fontname": _FONT}
_COLUMNS_GROUP_STYLE = {"style": "rounded,dotted", "color": "#5f97ab", "fontname": _FONT}
#: Legend entries, in the order they are listed.
_LEGEND_ORDER = (
    CONFIG,
    INPUT,
    FUNCTION,
    MATERIALIZER,
    FIELD,
    OUTPUT,
    OVERRIDE,
    PATH,
    EXPAND,
    COLLECT,
    BLOCK,
)
_LEGEND_LABELS = {BLOCK: "per-item block"}
_ORIENTS = ("LR", "RL", "TB", "BT")
_SCHEMA_TAG = "hamilton.internal.schema_output"
_CONFIG_TAG = "hamilton.config"
_MATERIALIZER_TAGS = ("hamilton.data_saver", "hamilton.data_loader")
_QUALIFIER = re.compile(r"\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_]\w*)")

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


@dataclass(frozen=True)
class DisplayOptions:
    """The style settings every drawing method shares.

    Attributes:
        graphviz_kwargs: keyword arguments of ``graphviz.Digraph``; dict values such as
            ``graph_attr`` are merged into the defaults, others replace them.
        show_legend: add a legend listing the classes present.
        orient: layout direction (``LR``, ``RL``, ``TB``, ``BT``); a ``rankdir`` in
            ``graphviz_kwargs["graph_attr"]`` wins.
        hide_inputs: leave out the inputs the user provides.
        deduplicate_inputs: consumers with the same inputs share one input table.
        show_schema: draw the fields of ``@schema.output`` nodes.
        custom_style_function: called as ``fn(node=HamiltonNode, node_class=str)`` for each
            node drawn on its own; returns ``(style, base_class, legend_name)``. The style
            is applied before the output/override/path marks; with a ``legend_name`` the
            node is listed in the legend under that name, styled like ``base_class``.
    """

    graphviz_kwargs: Mapping[str, Any] | None = None
    show_legend: bool = True
    orient: str = "LR"
    hide_inputs: bool = False
    deduplicate_inputs: bool = False
    show_schema: bool = True
    custom_style_function: CustomStyleFunction | None = None


# ---- labels --------------------------------------------------------------------------------
def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "[...]"


def _type_text(tp: Any) -> str:
    """A short type name: module qualifiers dropped (``DataFrame``, ``Parallelizable[int]``)."""
    return _shorten(_QUALIFIER.sub("", htypes.get_type_as_string(tp)))


def _display_name(graph: FunctionGraph, name: str) -> str:
    """The ``display_name`` tag (first element if a list) or the node name."""
    shown = graph.nodes[name].tags.get("display_name")
    if isinstance(shown, (list, tuple)):
        shown = shown[0] if shown else None
    return str(shown) if shown else name


def _html_label(title: str, *lines: str) -> str:
    """An HTML-like label: the title in bold, then smaller italic lines; all escaped."""
    parts = [f"<b>{html.escape(title)}</b>"]
    parts.extend(f"<i>{html.escape(line)}</i>" for line in lines if line)
    return "<" + "<br/>".join(parts) + ">"


def _node_label(graph: FunctionGraph, name: str) -> str:
    node = graph.nodes[name]
    if name in graph.config and node.user_defined:
        return _html_label(name, _shorten(str(graph.config[name])))
    config_keys = node.tags.get(_CONFIG_TAG)
    return _html_label(
        _display_name(graph, name),
        _type_text(node.type),
        f"config: {config_keys}" if config_keys else "",
    )


def _table_label(graph: FunctionGraph, names: Sequence[str]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(_display_name(graph, n))}</td>"
        f"<td>{html.escape(_type_text(graph.nodes[n].type))}</td></tr>"
        for n in names
    )
    return f'<<table border="0">{rows}</table>>'


# ---- classes and styles --------------------------------------------------------------------
def _base_class(graph: FunctionGraph, name: str) -> str:
    """``config`` (a config key), ``input`` (provided by the user) or ``function``."""
    node = graph.nodes[name]
    if not node.user_defined:
        return FUNCTION
    return CONFIG if name in graph.config else INPUT


def _role_classes(graph: FunctionGraph, name: str) -> list[str]:
    """The classes a node has whatever the view: materializer, expand, collect."""
    node = graph.nodes[name]
    classes = []
    if any(node.tags.get(tag) for tag in _MATERIALIZER_TAGS):
        classes.append(MATERIALIZER)
    if node.is_expander:
        classes.append(EXPAND)
    if node.collect_params:
        classes.append(COLLECT)
    return classes


def _class_style(*classes: str) -> dict[str, str]:
    style: dict[str, str] = {}
    for cls in classes:
        style.update(_BASE_STYLES.get(cls) or _MARK_STYLES.get(cls, {}))
    return style


def _check_custom_style_function(fn: CustomStyleFunction | None) -> None:
    """Raise ``ValueError`` unless ``fn`` can be called with ``node=`` and ``node_class=``."""
    if fn is None:
        return
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # builtins and the like: trust them
    try:
        signature.bind(node=None, node_class="")
    except TypeError as exc:
        raise ValueError(
            f"custom_style_function {getattr(fn, '__name__', fn)!r} must accept the keyword "
            "arguments node and node_class, e.g. `def style(*, node, node_class)`, and return "
            f"(style_dict, base_class, legend_name): {exc}"
        ) from None


def _custom_style(
    fn: CustomStyleFunction, graph: FunctionGraph, name: str, node_class: str
) -> tuple[dict[str, str], str | None, str | None]:
    result = fn(node=HamiltonNode.from_node(graph.nodes[name]), node_class=node_class)
    if not (isinstance(result, tuple) and len(result) == 3 and isinstance(result[0], Mapping)):
        raise TypeError(
            "custom_style_function must return a tuple (style_dict, base_class, legend_name); "
            f"for node {name!r} it returned {result!r}."
        )
    style, base_class, legend_name = result
    return {str(k): str(v) for k, v in style.items()}, base_class, legend_name


class _Legend:
    """Collects the legend entries of the classes drawn, then draws them."""

    def __init__(self) -> None:
        self.classes: set[str] = set()
        self.custom: dict[str, dict[str, str]] = {}

    def add(self, *classes: str) -> None:
        self.classes.update(classes)

    def add_custom(self, legend_name: str, style: dict[str, str]) -> None:
        self.custom[legend_name] = style

    def draw(self, gv: Any, dot: graphviz.Digraph) -> None:
        if not (self.classes or self.custom):
            return
        legend = gv.Digraph(
            name="cluster_legend",
            graph_attr={"label": "Legend", "rank": "same", "fontname": _FONT, "color": "grey"},
        )
        for cls in _LEGEND_ORDER:
            if cls in self.classes:
                style = (_BLOCK_STYLE | {"shape": "box"}) if cls == BLOCK else _legend_style(cls)
                legend.node(f"_legend_{cls}", label=_LEGEND_LABELS.get(cls, cls), **style)
        for legend_name, style in self.custom.items():
            legend.node(f"_legend_custom_{legend_name}", label=legend_name, **style)
        dot.subgraph(legend)


def _legend_style(cls: str) -> dict[str, str]:
    if cls in _BASE_STYLES:
        return _class_style(cls)
    if cls == PATH:
        return _class_style(FUNCTION) | {"color": _PATH_COLOR}
    return _class_style(FUNCTION, cls)


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
    consumers = {n for n in order if _base_class(graph, n) != INPUT}
    for name in order:
        if _base_class(graph, name) != INPUT:
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
        style["color"] = _PATH_COLOR
    return style


def _schema_fields(tag_value: str) -> list[str]:
    """``"a=int,b=str"`` (or ``"a:int,..."``) -> ``["a: int", "b: str"]``, padded to one width."""
    fields = []
    for part in str(tag_value).split(","):
        separator = "=" if "=" in part else ":"
        column, found, type_name = part.partition(separator)
        fields.append(f"{column.strip()}: {type_name.strip()}" if found else part.strip())
    width = max((len(f) for f in fields), default=0)
    return [f.ljust(width) for f in fields]


# ---- building the digraph ------------------------------------------------------------------
def _digraph_kwargs(options: DisplayOptions) -> dict[str, Any]:
    orient = options.orient.upper()
    if orient not in _ORIENTS:
        raise ValueError(f"orient must be one of {list(_ORIENTS)}; got {options.orient!r}")
    kwargs: dict[str, Any] = {
        "comment": "Dependency Graph",
        "graph_attr": {"rankdir": orient, "ranksep": "0.4", "fontname": _FONT},
        "node_attr": {"fontname": _FONT, "fillcolor": "#ffffff"},
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
                    graph_attr={"label": f"with_columns: {group}", **_COLUMNS_GROUP_STYLE},
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
                        "label": f"each item of {_display_name(self._graph, expander)}",
                        **_BLOCK_STYLE,
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


@dataclass
class _Canvas:
    """What drawing one digraph needs: the graph, the marks, the options and the legend."""

    gv: Any
    graph: FunctionGraph
    marks: Mapping[str, Collection[str]]
    options: DisplayOptions
    legend: _Legend = field(default_factory=_Legend)

    def style_of(self, name: str) -> dict[str, str]:
        """The node's style: base class, roles, custom style, then marks (in that order).

        The classes the node shows are recorded for the legend.
        """
        base = _base_class(self.graph, name)
        roles = _role_classes(self.graph, name)
        style = _class_style(base, *roles)
        listed = [base, *roles]
        if self.options.custom_style_function is not None:
            custom, legend_base, legend_name = _custom_style(
                self.options.custom_style_function, self.graph, name, base
            )
            style.update(custom)
            if legend_name:  # listed under its own name instead of its base class
                self.legend.add_custom(legend_name, _class_style(legend_base or base) | custom)
                listed.remove(base)
        marks = self.marks.get(name, ())
        for mark in (OUTPUT, OVERRIDE):
            if mark in marks:
                style.update(_MARK_STYLES[mark])
                listed.append(mark)
        if PATH in marks:
            style.setdefault("color", _PATH_COLOR)  # keep the expand/collect border colour
            listed.append(PATH)
        self.legend.add(*listed)
        return style

    def draw_node(self, name: str, container: graphviz.Digraph) -> None:
        """Draws the node in ``container``, inside a cluster with its fields if it has a schema."""
        style = self.style_of(name)
        label = _node_label(self.graph, name)
        schema = self.graph.nodes[name].tags.get(_SCHEMA_TAG)
        if not (schema and self.options.show_schema):
            container.node(name, label=label, **style)
            return
        self.legend.add(FIELD)
        cluster = self.gv.Digraph(
            name=f"cluster_schema_{name}",
            graph_attr={"style": "rounded,dashed", "color": "#5f97ab", "label": "", "margin": "10"},
        )
        cluster.node(name, label=label, **style)
        field_style = style | _MARK_STYLES[FIELD]
        for index, text in enumerate(_schema_fields(schema)):
            cluster.node(f"{name}__field_{index}", label=text, **field_style)
        container.subgraph(cluster)


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
    _check_custom_style_function(options.custom_style_function)
    dot = gv.Digraph(**_digraph_kwargs(options))
    canvas = _Canvas(gv, graph, marks, options)
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
        dot.node(table, label=_table_label(graph, inputs), **_class_style(INPUT))
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


# ---- the driver's methods ------------------------------------------------------------------
def _add_bypass_hint(exc: BaseException) -> None:
    hint = "Pass bypass_validation=True to draw the graph without validating the request."
    if exc.args and isinstance(exc.args[0], str):
        exc.args = (f"{exc.args[0]}\n{hint}", *exc.args[1:])
    else:
        exc.args = (hint, *exc.args)


def _reachable(
    graph: FunctionGraph, outputs: Sequence[str], provided: Collection[str], overridden: set[str]
) -> set[str]:
    """The nodes a request would touch, with no validation (for ``bypass_validation``)."""
    needed = graph.required_nodes(outputs, provided, overridden)
    while True:  # a block needs its expander even when overrides cut it off
        expanders = {e for n in needed - overridden for e in graph.scopes[n]} - needed
        if not expanders:
            return needed
        needed |= graph.required_nodes(expanders, provided, overridden)


class VisualizationMixin:
    """The driver's drawing methods; each returns a ``graphviz.Digraph``.

    Each method chooses the nodes to draw and hands them to :func:`build_digraph`; with
    ``output_file_path`` the drawing is also written by :func:`render` (which needs the
    Graphviz ``dot`` program). The style keyword arguments are those of
    :class:`DisplayOptions`. ``graphviz`` missing raises ImportError.
    """

    graph: FunctionGraph
    config: dict[str, Any]

    if TYPE_CHECKING:

        def _run(
            self,
            final_vars: Sequence[Any],
            overrides: dict[str, Any] | None,
            inputs: dict[str, Any] | None,
            run_id: str,
        ) -> tuple[ExecutionPlan, dict[str, Any]]: ...

        def _materialization(
            self, materializers: Sequence[Any], additional_vars: Sequence[Any] | None
        ) -> tuple[Any, Any, bool]: ...

    def _draw(
        self,
        names: Collection[str],
        marks: Mapping[str, Collection[str]],
        options: DisplayOptions,
        output_file_path: str | os.PathLike[str] | None,
        render_kwargs: Mapping[str, Any] | None,
        keep_dot: bool,
    ) -> graphviz.Digraph:
        dot = build_digraph(self.graph, names, marks, options)
        if output_file_path:
            render(dot, output_file_path, render_kwargs, keep_dot)
        return dot

    def display_all_functions(
        self,
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws the whole graph: every function, input and config value."""
        options = DisplayOptions(
            graphviz_kwargs=graphviz_kwargs,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
        )
        return self._draw(self.graph.nodes, {}, options, output_file_path, render_kwargs, keep_dot)

    def display_upstream_of(
        self,
        *node_names: str,
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws ``node_names`` and everything they depend on."""
        options = DisplayOptions(
            graphviz_kwargs=graphviz_kwargs,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
        )
        names = self.graph.upstream_of(*node_names)
        return self._draw(names, {}, options, output_file_path, render_kwargs, keep_dot)

    def display_downstream_of(
        self,
        *node_names: str,
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws ``node_names``, everything depending on them, and the direct parents of those."""
        options = DisplayOptions(
            graphviz_kwargs=graphviz_kwargs,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
        )
        downstream = self.graph.downstream_of(*node_names)
        names = _with_parents(self.graph, downstream)
        return self._draw(names, {}, options, output_file_path, render_kwargs, keep_dot)

    def visualize_execution(
        self,
        final_vars: Sequence[Any],
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        overrides: dict[str, Any] | None = None,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        bypass_validation: bool = False,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws what ``execute(final_vars, overrides=..., inputs=...)`` would run.

        The request is validated like ``execute`` validates it (missing inputs and input
        types raise ``ValueError``) unless ``bypass_validation`` is set. Outputs are
        highlighted and overridden nodes hatched; what only overrides needed is left out.
        """
        outputs = output_names(final_vars, self.graph)
        self.graph.check_names(outputs)
        if bypass_validation:
            provided = {*(inputs or {}), *self.config}
            names = _reachable(self.graph, outputs, provided, set(overrides or {}))
        else:
            try:
                plan, _ = self._run(outputs, overrides, inputs, "visualization")
            except ValueError as exc:
                _add_bypass_hint(exc)
                raise
            names = set(plan.execution_path) | set(plan.constants)
        marks: dict[str, set[str]] = {name: {OUTPUT} for name in outputs}
        for name in names.intersection(overrides or {}):
            marks.setdefault(name, set()).add(OVERRIDE)
        options = DisplayOptions(
            graphviz_kwargs=graphviz_kwargs,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
        )
        return self._draw(names, marks, options, output_file_path, render_kwargs, keep_dot)

    def visualize_materialization(
        self,
        *materializers: Any,
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        additional_vars: Sequence[Any] | None = None,
        inputs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        overrides: dict[str, Any] | None = None,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        bypass_validation: bool = False,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws what ``materialize(*materializers, ...)`` would run.

        Savers and loaders are drawn as cylinders, the materializer ids and
        ``additional_vars`` as outputs; the request is validated as
        :meth:`visualize_execution` validates it.
        """
        request, variant, _ = self._materialization(materializers, additional_vars)
        return variant.visualize_execution(
            request.outputs,
            output_file_path=output_file_path,
            render_kwargs=render_kwargs,
            inputs=inputs,
            graphviz_kwargs=graphviz_kwargs,
            overrides=overrides,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
            bypass_validation=bypass_validation,
            keep_dot=keep_dot,
        )

    def visualize_path_between(
        self,
        upstream_node_name: str,
        downstream_node_name: str,
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        strict_path_visualization: bool = False,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws the paths from one node to another, in red.

        Unless ``strict_path_visualization`` is set, the direct parents of the path's nodes
        are drawn too. Raises ``ValueError`` for an unknown node or when there is no path.
        """
        for role, name in (("Upstream", upstream_node_name), ("Downstream", downstream_node_name)):
            if name not in self.graph.nodes:
                raise ValueError(f"{role} node {name!r} is not in the graph. Check for typos?")
        path = self.graph.path_between(upstream_node_name, downstream_node_name)
        if not path:
            raise ValueError(
                f"There is no path from {upstream_node_name!r} to {downstream_node_name!r}: "
                f"{downstream_node_name!r} does not depend on {upstream_node_name!r}."
            )
        names = path if strict_path_visualization else _with_parents(self.graph, path)
        options = DisplayOptions(
            graphviz_kwargs=graphviz_kwargs,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
        )
        marks = {name: {PATH} for name in path}
        return self._draw(names, marks, options, output_file_path, render_kwargs, keep_dot)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any] | None:
        """Notebook display: the whole graph (nothing when graphviz is missing)."""
        try:
            dot = self.display_all_functions()
        except ImportError:
            return None
        return dot._repr_mimebundle_(include=include, exclude=exclude, **kwargs)


def _with_parents(graph: FunctionGraph, names: Iterable[str]) -> set[str]:
    """``names`` plus the nodes they directly depend on."""
    result = set(names)
    for name in list(result):
        result.update(graph.dependencies[name])
    return result
