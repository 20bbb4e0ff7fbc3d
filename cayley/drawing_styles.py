"""How drawn nodes look: their classes, styles, labels and the legend listing them.

Each node is styled by its *classes*: a base class (``config``, ``input``, ``function``),
role classes (``materializer``, ``expand``, ``collect``) and the marks a view gives it
(``output``, ``override``, ``path``). :class:`Canvas` draws one node with them and records
the classes shown for the :class:`Legend`.
"""

from __future__ import annotations

import html
import inspect
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cayley import htypes
from cayley.graph_types import HamiltonNode

if TYPE_CHECKING:
    import graphviz

    from cayley.graph import FunctionGraph

__all__ = [
    "BLOCK",
    "BLOCK_STYLE",
    "COLLECT",
    "COLUMNS_GROUP_STYLE",
    "CONFIG",
    "EXPAND",
    "FIELD",
    "FONT",
    "FUNCTION",
    "INPUT",
    "MATERIALIZER",
    "OUTPUT",
    "OVERRIDE",
    "PATH",
    "PATH_COLOR",
    "Canvas",
    "CustomStyleFunction",
    "DisplayOptions",
    "Legend",
    "base_class",
    "check_custom_style_function",
    "class_style",
    "display_name",
    "table_label",
]

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

#: The font of every label.
FONT = "Helvetica"
#: The colour of the nodes and edges on a drawn path.
PATH_COLOR = "red"
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
    PATH: {"color": PATH_COLOR},
}
#: The look of a fan-out block's cluster.
BLOCK_STYLE = {"style": "rounded,dashed", "color": _EXPAND_COLOR, "fontname": FONT}
#: The look of a ``with_columns`` group's cluster.
COLUMNS_GROUP_STYLE = {"style": "rounded,dotted", "color": "#5f97ab", "fontname": FONT}
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
_SCHEMA_TAG = "hamilton.internal.schema_output"
_CONFIG_TAG = "hamilton.config"
_MATERIALIZER_TAGS = ("hamilton.data_saver", "hamilton.data_loader")
_QUALIFIER = re.compile(r"\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_]\w*)")


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


def display_name(graph: FunctionGraph, name: str) -> str:
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
        display_name(graph, name),
        _type_text(node.type),
        f"config: {config_keys}" if config_keys else "",
    )


def table_label(graph: FunctionGraph, names: Sequence[str]) -> str:
    """An HTML-like table label: one row per input, its name and its type."""
    rows = "".join(
        f"<tr><td>{html.escape(display_name(graph, n))}</td>"
        f"<td>{html.escape(_type_text(graph.nodes[n].type))}</td></tr>"
        for n in names
    )
    return f'<<table border="0">{rows}</table>>'


# ---- classes and styles --------------------------------------------------------------------
def base_class(graph: FunctionGraph, name: str) -> str:
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


def class_style(*classes: str) -> dict[str, str]:
    """The style of a node with ``classes``: later classes override earlier ones."""
    style: dict[str, str] = {}
    for cls in classes:
        style.update(_BASE_STYLES.get(cls) or _MARK_STYLES.get(cls, {}))
    return style


def check_custom_style_function(fn: CustomStyleFunction | None) -> None:
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


class Legend:
    """Collects the legend entries of the classes drawn, then draws them."""

    def __init__(self) -> None:
        self.classes: set[str] = set()
        self.custom: dict[str, dict[str, str]] = {}

    def add(self, *classes: str) -> None:
        """Lists ``classes`` in the legend."""
        self.classes.update(classes)

    def add_custom(self, legend_name: str, style: dict[str, str]) -> None:
        """Lists a custom style under ``legend_name``."""
        self.custom[legend_name] = style

    def draw(self, gv: Any, dot: graphviz.Digraph) -> None:
        """Adds the legend to ``dot`` as a cluster (nothing if no class was listed)."""
        if not (self.classes or self.custom):
            return
        legend = gv.Digraph(
            name="cluster_legend",
            graph_attr={"label": "Legend", "rank": "same", "fontname": FONT, "color": "grey"},
        )
        for cls in _LEGEND_ORDER:
            if cls in self.classes:
                style = (BLOCK_STYLE | {"shape": "box"}) if cls == BLOCK else _legend_style(cls)
                legend.node(f"_legend_{cls}", label=_LEGEND_LABELS.get(cls, cls), **style)
        for legend_name, style in self.custom.items():
            legend.node(f"_legend_custom_{legend_name}", label=legend_name, **style)
        dot.subgraph(legend)


def _legend_style(cls: str) -> dict[str, str]:
    if cls in _BASE_STYLES:
        return class_style(cls)
    if cls == PATH:
        return class_style(FUNCTION) | {"color": PATH_COLOR}
    return class_style(FUNCTION, cls)


def _schema_fields(tag_value: str) -> list[str]:
    """``"a=int,b=str"`` (or ``"a:int,..."``) -> ``["a: int", "b: str"]``, padded to one width."""
    fields = []
    for part in str(tag_value).split(","):
        separator = "=" if "=" in part else ":"
        column, found, type_name = part.partition(separator)
        fields.append(f"{column.strip()}: {type_name.strip()}" if found else part.strip())
    width = max((len(f) for f in fields), default=0)
    return [f.ljust(width) for f in fields]


@dataclass
class Canvas:
    """What drawing one digraph needs: the graph, the marks, the options and the legend."""

    gv: Any
    graph: FunctionGraph
    marks: Mapping[str, Collection[str]]
    options: DisplayOptions
    legend: Legend = field(default_factory=Legend)

    def style_of(self, name: str) -> dict[str, str]:
        """The node's style: base class, roles, custom style, then marks (in that order).

        The classes the node shows are recorded for the legend.
        """
        base = base_class(self.graph, name)
        roles = _role_classes(self.graph, name)
        style = class_style(base, *roles)
        listed = [base, *roles]
        if self.options.custom_style_function is not None:
            custom, legend_base, legend_name = _custom_style(
                self.options.custom_style_function, self.graph, name, base
            )
            style.update(custom)
            if legend_name:  # listed under its own name instead of its base class
                self.legend.add_custom(legend_name, class_style(legend_base or base) | custom)
                listed.remove(base)
        marks = self.marks.get(name, ())
        for mark in (OUTPUT, OVERRIDE):
            if mark in marks:
                style.update(_MARK_STYLES[mark])
                listed.append(mark)
        if PATH in marks:
            style.setdefault("color", PATH_COLOR)  # keep the expand/collect border colour
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
