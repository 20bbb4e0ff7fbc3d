"""``cayley validate``, ``view``, ``version``, ``diff`` and ``ui`` run as a user runs them."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from cayley import driver
from cayley.cli import main
from tests.cli.conftest import cayley, write

BROKEN_TYPES = """
def a(x: int) -> str:
    return str(x)

def b(a: int) -> int:
    return a + 1

def c(a: float, b: str) -> str:
    return b
"""

CYCLE = """
def a(c: int) -> int:
    return c

def b(a: int) -> int:
    return a

def c(b: int) -> int:
    return b
"""


def test_validate_ok_and_every_request_problem(flow: Path) -> None:
    ok = cayley("validate", "flow.py", "-o", "scaled", "--inputs", '{"n": 2, "scale": 1}',
                cwd=flow.parent)  # fmt: skip
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "ok\n", "")
    bad = cayley(
        "validate", "flow.py", "-o", "scaled", "-o", "ratoi", "-o", "totl",
        "--inputs", '{"n": "2"}', cwd=flow.parent,
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [
        "- unknown output: 'ratoi' is not a node of the dataflow. Did you mean 'ratio'?",
        "- unknown output: 'totl' is not a node of the dataflow. Did you mean 'total'?",
        "- missing input: Required input scale not provided for nodes: ['scaled'].",
        "- input type: Type requirement mismatch. Expected n:<class 'int'> got '2':<class "
        "'str'> instead. Input n feeds nodes ['items'].",
        "4 problems found.",
    ]


def test_validate_lists_every_type_mismatch_and_reports_cycles(tmp_path: Path) -> None:
    write(tmp_path, "typed.py", BROKEN_TYPES)
    write(tmp_path, "cycle.py", CYCLE)
    types = cayley("validate", "typed.py", cwd=tmp_path)
    assert types.returncode == 1
    assert types.stdout.splitlines() == [
        "- type mismatch: node 'b' expects parameter 'a' to be int, but node 'a' produces str.",
        "- type mismatch: node 'c' expects parameter 'a' to be float, but node 'a' produces str.",
        "- type mismatch: node 'c' expects parameter 'b' to be str, but node 'b' produces int.",
        "3 problems found.",
    ]
    cycle = cayley("validate", "cycle.py", cwd=tmp_path)
    assert cycle.returncode == 1
    assert cycle.stdout.startswith("- cycle: The graph has a cycle: ")
    assert cycle.stdout.endswith("1 problem found.\n")


def test_view_writes_svg_and_dot(flow: Path) -> None:
    done = cayley("view", "flow.py", "--out", "all.svg", cwd=flow.parent)
    assert done.returncode == 0, done.stderr
    svg = (flow.parent / "all.svg").read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE"))
    for name in ("items", "squared", "total", "scaled", "ratio", "point", "labels"):
        assert f">{name}<" in svg
    part = cayley("view", "flow.py", "--out", "out/part.dot", "-o", "scaled", cwd=flow.parent)
    assert part.returncode == 0, part.stderr
    assert part.stdout.strip().endswith("part.dot")
    dot = (flow.parent / "out" / "part.dot").read_text()
    assert dot.startswith("// Dependency Graph")
    assert "scaled" in dot and "squared" in dot
    assert "ratio" not in dot and "labels" not in dot  # not on the path to 'scaled'


def test_view_rejects_an_unknown_picture_format(flow: Path) -> None:
    done = cayley("view", "flow.py", "--out", "graph.jpeg", cwd=flow.parent)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "cayley view: error: Cannot tell which picture to write from 'graph.jpeg': give a "
        "file ending in .png, .svg, .pdf, .dot."
    )


def test_version_matches_the_graph_views(flow: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done = cayley("version", "flow.py", cwd=flow.parent)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    spec = importlib.util.spec_from_file_location("flow_for_versions", flow)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "flow_for_versions", module)
    spec.loader.exec_module(module)
    graph = driver.Builder().with_modules(module).build().hamilton_graph
    assert printed == {
        "graph": graph.version,
        "nodes": {node.name: node.version for node in graph.nodes},
    }
    assert len(printed["nodes"]["total"]) == 64


def test_diff_by_code_version_with_a_picture(tmp_path: Path) -> None:
    write(tmp_path, "old/flow.py", "def a(x: int) -> int:\n    return x\n\n"
          "def b(a: int) -> int:\n    return a + 1\n\ndef c(a: int) -> int:\n    return a\n\n"
          "def e(z: int, w: int) -> int:\n    return z\n")  # fmt: skip
    write(tmp_path, "new/flow.py", 'def a(x: int) -> int:\n    """Now documented."""\n'
          "    return x  # same code\n\ndef b(a: int) -> int:\n    return a + 2\n\n"
          "def d(b: int) -> int:\n    return b\n\n"
          "def e(z: int, w: str) -> int:\n    return z * 3\n")  # fmt: skip
    done = cayley("diff", "old/flow.py", "new/flow.py", "--out", "diff.dot", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # e's code changed, not its input z; input w changed type.
    assert json.loads(done.stdout) == {"added": ["d"], "removed": ["c"], "changed": ["b", "e", "w"]}
    dot = (tmp_path / "diff.dot").read_text()
    assert 'c [label="c\n(removed)"' in dot
    assert 'a -> c [color="#c8453c" style=dashed]' in dot
    assert "#b9e4c2" in dot and "#ffdf99" in dot  # added and changed colours


def test_ui_help_and_missing_viewer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    helped = cayley("ui", "--help", cwd=tmp_path)
    assert helped.returncode == 0
    assert "--store PATH" in helped.stdout and "--port N" in helped.stdout
    monkeypatch.setitem(sys.modules, "cayley.tracking.viewer", None)  # as if not installed
    assert main(["ui", "--port", "1"]) == 1
    assert capsys.readouterr().err.strip() == (
        "cayley ui: error: The run viewer (cayley.tracking.viewer) is not part of this "
        "installation of cayley; install a release that includes run tracking."
    )
