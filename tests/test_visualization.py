"""Drawing the graph: the DOT source each display/visualize method produces."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("graphviz")

from cayley.ad_hoc_utils import module_from_source  # noqa: E402
from cayley.driver import Builder, Driver  # noqa: E402
from cayley.visualization import build_digraph, render  # noqa: E402

pytestmark = pytest.mark.skipif(
    not hasattr(Driver, "display_all_functions"),
    reason="Driver does not inherit cayley.visualization.VisualizationMixin yet",
)

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="the Graphviz 'dot' program is not installed"
)

BASIC = """
from cayley.function_modifiers import config, tag

def a(x: int) -> int:
    return x + 1

@tag(display_name="B <&> \\"label\\"")
def b(a: int, y: int = 2) -> int:
    return a + y

def c(b: int, mode: str) -> int:
    return b

@config.when(flavour="sweet")
def d__sweet(c: int) -> int:
    return c

def e(x: int) -> int:
    return x * 2
"""

NESTED = """
from cayley.htypes import Collect, Parallelizable

def start(n: int) -> int:
    return n

def outer(start: int) -> Parallelizable[int]:
    yield from range(start)

def inner(outer: int) -> Parallelizable[int]:
    yield from range(outer)

def leaf(inner: int, scale: int) -> int:
    return inner * scale

def inner_total(leaf: Collect[int]) -> int:
    return sum(leaf)

def total(inner_total: Collect[int]) -> int:
    return sum(inner_total)
"""


# ---- helpers reading DOT source --------------------------------------------------------------
_STATEMENT = re.compile(r"^\s*(\"(?:[^\"\\]|\\.)*\"|[^\s\[\"]+) \[(.*)\]$")
_EDGE = re.compile(r"^\s*(\S+) -> (\S+)(?: \[(.*)\])?$")


def nodes(dot) -> dict[str, str]:
    """Node id -> its attribute text, for every node statement."""
    found = {}
    for line in dot.source.splitlines():
        if "->" in line:
            continue
        match = _STATEMENT.match(line)
        if match and match.group(1) not in ("graph", "node", "edge"):
            found[match.group(1).strip('"')] = match.group(2)
    return found


def edges(dot) -> dict[tuple[str, str], str]:
    """(tail, head) -> attribute text, for every edge statement."""
    found = {}
    for line in dot.source.splitlines():
        match = _EDGE.match(line)
        if match:
            found[(match.group(1), match.group(2))] = match.group(3) or ""
    return found


def subgraph_body(dot, name: str) -> str:
    """The text between the braces of ``subgraph name { ... }``."""
    source = dot.source
    start = source.index(f"subgraph {name} {{")
    depth = 0
    for index in range(start, len(source)):
        if source[index] == "{":
            depth += 1
        elif source[index] == "}":
            depth -= 1
            if depth == 0:
                return source[start:index]
    raise AssertionError(f"unbalanced subgraph {name}")


def function_nodes(dot) -> set[str]:
    """Node ids that are graph nodes (legend entries and input tables excluded)."""
    return {n for n in nodes(dot) if not n.startswith("_")}


def build(source: str, config: dict | None = None) -> Driver:
    return Builder().with_modules(module_from_source(source)).with_config(config or {}).build()


@pytest.fixture
def basic() -> Driver:
    return build(BASIC, {"flavour": "sweet", "mode": "fast"})


@pytest.fixture
def nested() -> Driver:
    return build(NESTED)


# ---- which nodes each method draws ---------------------------------------------------------
def test_display_all_functions_draws_every_node(basic: Driver) -> None:
    dot = basic.display_all_functions()
    assert function_nodes(dot) == {"a", "b", "c", "d", "e", "mode", "flavour"}
    drawn = nodes(dot)
    # inputs sit in one table per consumer, config values are notes wired to their consumers
    assert "x" not in drawn and "y" not in drawn
    assert {"_a_inputs", "_b_inputs", "_e_inputs"} <= set(drawn)
    assert 'style="filled,dashed"' in drawn["_a_inputs"]
    assert "shape=note" in drawn["mode"] and "<i>fast</i>" in drawn["mode"]
    assert "shape=note" in drawn["flavour"]
    assert ("mode", "c") in edges(dot)
    assert ("_a_inputs", "a") in edges(dot)
    # the @config.when variant says which config key chose it
    assert "config: flavour" in drawn["d"]


def test_display_upstream_of_draws_only_what_the_nodes_need(basic: Driver) -> None:
    dot = basic.display_upstream_of("b")
    assert function_nodes(dot) == {"a", "b"}
    assert ("a", "b") in edges(dot)
    assert "<td>x</td>" in nodes(dot)["_a_inputs"]


def test_display_downstream_of_adds_direct_parents(basic: Driver) -> None:
    dot = basic.display_downstream_of("b")
    # b's descendants, plus the parents of each of them (a, the config value mode)
    assert function_nodes(dot) == {"a", "b", "c", "d", "mode"}
    assert "_a_inputs" not in nodes(dot)  # a's own inputs are not a parent of the view
    assert "e" not in nodes(dot)


def test_unknown_node_names_raise(basic: Driver) -> None:
    with pytest.raises(ValueError, match="zzz"):
        basic.display_upstream_of("zzz")
    with pytest.raises(ValueError, match="zzz"):
        basic.display_downstream_of("zzz")


def test_visualize_execution_draws_the_run(basic: Driver) -> None:
    dot = basic.visualize_execution(["c"], inputs={"x": 1, "y": 3})
    assert function_nodes(dot) == {"a", "b", "c", "mode"}
    drawn = nodes(dot)
    assert 'fillcolor="#ffcf5c"' in drawn["c"]  # the output is highlighted
    assert 'fillcolor="#ffcf5c"' not in drawn["a"]
    assert "<td>y</td>" in drawn["_b_inputs"]


def test_visualize_execution_leaves_out_unprovided_optional_inputs(basic: Driver) -> None:
    dot = basic.visualize_execution(["b"], inputs={"x": 1})
    assert "_b_inputs" not in nodes(dot)


def test_visualize_execution_hatches_overrides_and_drops_their_upstream(basic: Driver) -> None:
    dot = basic.visualize_execution(["c"], overrides={"a": 5})
    drawn = nodes(dot)
    assert "diagonals" in drawn["a"]
    assert "_a_inputs" not in drawn  # x is not needed once a is overridden
    assert "_legend_override" in drawn


def test_visualize_execution_accepts_functions_and_input_outputs(basic: Driver) -> None:
    module = module_from_source(BASIC)
    dr = Builder().with_modules(module).with_config({"mode": "m"}).build()
    dot = dr.visualize_execution([module.a, "x"], inputs={"x": 1})
    drawn = nodes(dot)
    assert function_nodes(dot) == {"a", "x"}
    # an input requested as an output is drawn on its own, highlighted
    assert "filled,dashed" in drawn["x"] and 'fillcolor="#ffcf5c"' in drawn["x"]
    assert ("x", "a") in edges(dot)


def test_visualize_execution_validates_unless_bypassed(basic: Driver) -> None:
    with pytest.raises(ValueError, match="bypass_validation=True"):
        basic.visualize_execution(["c"])
    dot = basic.visualize_execution(["c"], bypass_validation=True)
    assert function_nodes(dot) == {"a", "b", "c", "mode"}
    with pytest.raises(ValueError, match="zzz"):
        basic.visualize_execution(["zzz"], bypass_validation=True)


def test_visualize_path_between(basic: Driver) -> None:
    dot = basic.visualize_path_between("a", "c")
    drawn = nodes(dot)
    assert function_nodes(dot) == {"a", "b", "c", "mode"}
    for name in ("a", "b", "c"):
        assert "color=red" in drawn[name]
    assert "color=red" not in drawn["mode"]
    assert "color=red" in edges(dot)[("a", "b")]
    assert "color=red" not in edges(dot)[("mode", "c")]
    strict = basic.visualize_path_between("a", "c", strict_path_visualization=True)
    assert function_nodes(strict) == {"a", "b", "c"}
    assert "_a_inputs" not in nodes(strict)


def test_visualize_path_between_errors(basic: Driver) -> None:
    with pytest.raises(ValueError, match="'zzz' is not in the graph"):
        basic.visualize_path_between("zzz", "c")
    with pytest.raises(ValueError, match="'zzz' is not in the graph"):
        basic.visualize_path_between("a", "zzz")
    with pytest.raises(ValueError, match="no path"):
        basic.visualize_path_between("c", "a")


# ---- fan-out blocks --------------------------------------------------------------------------
def test_fan_out_blocks_are_nested_clusters(nested: Driver) -> None:
    dot = nested.display_all_functions()
    outer = subgraph_body(dot, "cluster_block_outer")
    inner = subgraph_body(dot, "cluster_block_inner")
    assert inner in outer  # the inner block is drawn inside the outer one
    assert re.search(r"^\s*leaf \[", inner, re.M)
    assert re.search(r"^\s*inner \[", outer, re.M) and not re.search(r"^\s*inner \[", inner, re.M)
    assert re.search(r"^\s*inner_total \[", outer, re.M)
    for name in ("start", "outer", "total"):
        assert not re.search(rf"^\s*{name} \[", outer, re.M)
    assert "each item of outer" in outer
    assert "_legend_block" in nodes(dot)


def test_expand_and_collect_styles_and_edges(nested: Driver) -> None:
    dot = nested.display_all_functions()
    drawn = nodes(dot)
    for name in ("outer", "inner", "inner_total", "total"):
        assert "peripheries=2" in drawn[name]
    assert "peripheries" not in drawn["leaf"]
    drawn_edges = edges(dot)
    assert "arrowhead=crow" in drawn_edges[("outer", "inner")]
    assert "arrowhead=crow" in drawn_edges[("inner", "leaf")]
    assert "arrowtail=crow" in drawn_edges[("leaf", "inner_total")]
    assert "dir=both" in drawn_edges[("inner_total", "total")]
    assert drawn_edges[("start", "outer")] == ""
    assert {"_legend_expand", "_legend_collect"} <= set(drawn)


def test_graph_without_blocks_has_no_cluster(basic: Driver) -> None:
    dot = basic.display_all_functions()
    assert "cluster_block" not in dot.source
    assert "_legend_block" not in nodes(dot)


def test_visualize_execution_inside_a_block(nested: Driver) -> None:
    dot = nested.visualize_execution(["total"], inputs={"n": 2, "scale": 3})
    assert "leaf" in subgraph_body(dot, "cluster_block_inner")
    assert "<td>scale</td>" in nodes(dot)["_leaf_inputs"]


# ---- labels, legend and style options ----------------------------------------------------------
def test_display_name_label_is_html_escaped(basic: Driver) -> None:
    label = nodes(basic.display_all_functions())["b"]
    assert "B &lt;&amp;&gt; &quot;label&quot;" in label
    assert "<b>b</b>" not in label


def test_config_values_are_escaped() -> None:
    dr = build("def f(k: str) -> str:\n    return k\n", {"k": "<x & y>"})
    assert "&lt;x &amp; y&gt;" in nodes(dr.display_all_functions())["k"]


def test_legend_lists_the_classes_present(basic: Driver) -> None:
    drawn = nodes(basic.display_all_functions())
    legend = {n for n in drawn if n.startswith("_legend_")}
    assert legend == {"_legend_config", "_legend_input", "_legend_function"}
    assert "cluster_legend" not in basic.display_all_functions(show_legend=False).source


def test_legend_entries_do_not_clash_with_node_names() -> None:
    dr = build("def output(x: int) -> int:\n    return x\n")
    dot = dr.visualize_execution(["output"], inputs={"x": 1})
    drawn = nodes(dot)
    assert "output" in drawn and "_legend_output" in drawn
    assert "<b>output</b>" in drawn["output"]


def test_hide_and_deduplicate_inputs() -> None:
    dr = build(
        "def p(u: int, v: int) -> int:\n    return u\ndef q(u: int, v: int) -> int:\n    return v\n"
    )
    plain = nodes(dr.display_all_functions())
    assert {"_p_inputs", "_q_inputs"} <= set(plain)
    deduplicated = dr.display_all_functions(deduplicate_inputs=True)
    tables = [n for n in nodes(deduplicated) if n.endswith("_inputs")]
    assert tables == ["_p_inputs"]
    assert {("_p_inputs", "p"), ("_p_inputs", "q")} <= set(edges(deduplicated))
    hidden = dr.display_all_functions(hide_inputs=True)
    assert not [n for n in nodes(hidden) if n.endswith("_inputs")]
    assert "_legend_input" not in nodes(hidden)


def test_graphviz_kwargs_and_orient(basic: Driver) -> None:
    dot = basic.display_all_functions(orient="TB")
    assert "rankdir=TB" in dot.source
    dot = basic.display_all_functions(
        graphviz_kwargs={"graph_attr": {"rankdir": "BT", "ratio": "1"}, "comment": "mine"}
    )
    assert "rankdir=BT" in dot.source and "ratio=1" in dot.source
    assert "ranksep=0.4" in dot.source  # defaults are merged, not replaced
    assert dot.source.startswith("// mine")
    with pytest.raises(ValueError, match="orient"):
        basic.display_all_functions(orient="diagonal")


def test_custom_style_function(basic: Driver) -> None:
    calls = []

    def style(*, node, node_class):
        calls.append((node.name, node_class))
        if node.name == "a":
            return {"fillcolor": "purple", "penwidth": 3}, "function", "special"
        return {}, None, None

    dot = basic.display_all_functions(custom_style_function=style)
    drawn = nodes(dot)
    assert "fillcolor=purple" in drawn["a"] and "penwidth=3" in drawn["a"]
    assert "fillcolor=purple" in drawn["_legend_custom_special"]
    assert ("a", "function") in calls and ("mode", "config") in calls
    # output highlighting is applied after the custom style
    dot = basic.visualize_execution(["a"], inputs={"x": 1}, custom_style_function=style)
    assert 'fillcolor="#ffcf5c"' in nodes(dot)["a"]


def test_custom_style_function_is_checked(basic: Driver) -> None:
    with pytest.raises(ValueError, match="node and node_class"):
        basic.display_all_functions(custom_style_function=lambda n: ({}, None, None))
    with pytest.raises(TypeError, match="style_dict, base_class, legend_name"):
        basic.display_all_functions(custom_style_function=lambda **_: {"color": "red"})


def test_schema_fields_are_drawn_in_a_cluster() -> None:
    pytest.importorskip("pandas")
    dr = build(
        "import pandas as pd\n"
        "from cayley.function_modifiers import schema\n"
        "@schema.output(('a', 'int'), ('bb', 'float'))\n"
        "def frame(n: int) -> pd.DataFrame:\n"
        "    return pd.DataFrame({'a': [n]})\n"
    )
    dot = dr.display_all_functions()
    body = subgraph_body(dot, "cluster_schema_frame")
    assert "a: int" in body
    assert "bb: float" in body
    assert re.search(r"^\s*frame \[", body, re.M)
    assert "_legend_field" in nodes(dot)
    assert "cluster_schema_frame" not in dr.display_all_functions(show_schema=False).source


# ---- graphviz and the dot program --------------------------------------------------------------
def test_missing_graphviz_names_the_extra(basic: Driver, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=re.escape('pip install "cayley[visualization]"')):
        basic.display_all_functions()
    assert basic._repr_mimebundle_() is None


def test_graphviz_is_imported_only_when_drawing() -> None:
    code = "import sys, cayley.driver, cayley.visualization; print('graphviz' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_rendering_without_dot_is_a_clear_error(basic: Driver, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RuntimeError, match="Graphviz 'dot' program"):
        basic.display_all_functions(output_file_path=str(tmp_path / "graph.png"))


@needs_dot
def test_render_writes_the_file(basic: Driver, tmp_path: Path) -> None:
    target = tmp_path / "out" / "graph.svg"
    dot = basic.display_all_functions(output_file_path=str(target))
    assert target.read_text().lstrip().startswith(("<?xml", "<svg"))
    assert dot.source  # the Digraph is returned too
    basic.visualize_execution(
        ["c"],
        inputs={"x": 1},
        output_file_path=str(tmp_path / "run"),
        render_kwargs={"format": "svg"},
        keep_dot=True,
    )
    assert (tmp_path / "run.svg").exists()
    assert (tmp_path / "run").read_text().startswith("// Dependency Graph")


@needs_dot
def test_nested_clusters_render(nested: Driver, tmp_path: Path) -> None:
    written = render(nested.display_all_functions(), tmp_path / "nested.png")
    assert written == tmp_path / "nested.png"
    assert written.read_bytes().startswith(b"\x89PNG")


@needs_dot
def test_notebook_display(basic: Driver) -> None:
    bundle = basic._repr_mimebundle_()
    assert "image/svg+xml" in bundle


def test_build_digraph_on_a_plain_graph(basic: Driver) -> None:
    dot = build_digraph(basic.graph, {"a", "x"}, {"a": {"output"}})
    assert function_nodes(dot) == {"a"}
    assert "<td>x</td>" in nodes(dot)["_a_inputs"]
