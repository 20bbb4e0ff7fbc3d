"""The command's parts in-process: help texts, argument parsing, module loading, JSON output."""

from __future__ import annotations

import importlib
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cayley.cli import main
from cayley.cli.loading import CliError, load_module, parse_json_object
from cayley.cli.output import dumps, jsonable
from tests.cli.conftest import FLOW, write

COMMANDS = ("run", "validate", "view", "version", "diff", "ui")


@pytest.fixture(autouse=True)
def restore_imports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Loading dataflow files changes sys.path and sys.modules: undo it after each test."""
    path = list(sys.path)
    yield
    sys.path[:] = path
    base = tmp_path_factory.getbasetemp()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file is not None and Path(file).is_relative_to(base):
            del sys.modules[name]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: cayley {command} ")
    assert "--traceback" in out


def test_top_level_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert f"\n    {command} " in out
    assert main([]) == 1  # no command: help on stderr, status 1
    assert "usage: cayley" in capsys.readouterr().err


def test_max_tasks_needs_a_pool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "flow_mt.py", FLOW)
    status = main(["run", str(tmp_path / "flow_mt.py"), "-o", "total", "--max-tasks", "2"])
    assert status == 1
    assert capsys.readouterr().err.startswith(
        "cayley run: error: --max-tasks applies to --executor threads or processes"
    )
    with pytest.raises(SystemExit) as exit_:
        main(["run", "flow_mt.py", "-o", "total", "--max-tasks", "0"])
    assert exit_.value.code == 1
    assert "argument --max-tasks: must be at least 1, got 0" in capsys.readouterr().err


def test_unknown_output_suggests_close_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "flow_uo.py", FLOW)
    assert main(["run", str(tmp_path / "flow_uo.py"), "-o", "totl", "-o", "squar"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "cayley run: error: Output 'totl' is not a node of the dataflow. Did you mean 'total'?",
        "Output 'squar' is not a node of the dataflow. Did you mean 'squared'?",
        "`cayley version MODULE` lists every node.",
    ]


def test_loading_errors_name_the_module(tmp_path: Path) -> None:
    write(tmp_path, "broken_syntax.py", "def a(:\n    pass\n")
    with pytest.raises(CliError, match=r"Cannot import .*broken_syntax.py: syntax error at .*:1"):
        load_module(str(tmp_path / "broken_syntax.py"))
    write(tmp_path, "raises_at_import.py", "import missing_dependency_xyz\n")
    with pytest.raises(CliError) as raised:
        load_module(str(tmp_path / "raises_at_import.py"))
    assert str(raised.value).startswith(
        f"Importing {tmp_path / 'raises_at_import.py'} failed: ModuleNotFoundError: No module "
        "named 'missing_dependency_xyz'."
    )
    assert "raises_at_import" not in sys.modules  # a failed import leaves nothing behind
    with pytest.raises(CliError, match="No module named 'no_such.flow_module'"):
        load_module("no_such.flow_module")
    with pytest.raises(CliError, match="Module file 'missing/flow.py' does not exist"):
        load_module("missing/flow.py")


def test_files_never_shadow_other_modules(tmp_path: Path) -> None:
    write(tmp_path, "a/json.py", "def x() -> int:\n    return 1\n")
    write(tmp_path, "b/json.py", "def x() -> int:\n    return 2\n")
    first = load_module(str(tmp_path / "a" / "json.py"))
    second = load_module(str(tmp_path / "b" / "json.py"))
    assert (first.__name__, second.__name__) == ("json_2", "json_3")
    assert (first.x(), second.x()) == (1, 2)
    assert sys.modules["json"] is json
    assert load_module(str(tmp_path / "a" / "json.py")) is first  # same file, same module


def test_json_arguments(tmp_path: Path) -> None:
    assert parse_json_object(None, "--inputs") == {}
    assert parse_json_object('{"a": [1, 2]}', "--inputs") == {"a": [1, 2]}
    (tmp_path / "c.json").write_text('{"lang": "en"}')
    assert parse_json_object(f"@{tmp_path / 'c.json'}", "--config") == {"lang": "en"}
    with pytest.raises(CliError, match=r"--config file '.*nope.json': No such file"):
        parse_json_object(f"@{tmp_path / 'nope.json'}", "--config")
    with pytest.raises(CliError, match=r"--inputs must be a JSON object .* got a JSON list"):
        parse_json_object("[1]", "--inputs")
    with pytest.raises(
        CliError,
        match=r"--inputs is not valid JSON \(Expecting property name .* line 1, column 2\)",
    ):
        parse_json_object("{'a': 1}", "--inputs")


def test_jsonable_keeps_what_json_holds_and_reprs_the_rest() -> None:
    import numpy

    value = {
        "list": [1, 2.5, "x", None, True],
        "tuple": (1, 2),
        "nested": {1: {"a": {3}}},
        "nan": math.nan,
        "inf": -math.inf,
        "np_int": numpy.int64(7),
        "np_float": numpy.float32(0.5),
        "bytes": b"ab",
        (1, 2): "tuple key",
    }
    assert jsonable(value) == {
        "list": [1, 2.5, "x", None, True],
        "tuple": [1, 2],
        "nested": {"1": {"a": "{3}"}},
        "nan": "nan",
        "inf": "-inf",
        "np_int": 7,
        "np_float": 0.5,
        "bytes": "b'ab'",
        "(1, 2)": "tuple key",
    }
    json.dumps(jsonable(value), allow_nan=False)


@pytest.mark.parametrize(
    ("module", "missing", "extra"),
    [
        ("cayley.plugins.h_opentelemetry", "opentelemetry", "opentelemetry"),
        ("cayley.plugins.jupyter_magic", "IPython", "jupyter"),
    ],
)
def test_a_missing_extra_is_named(
    module: str, missing: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, module, raising=False)
    for name in [n for n in sys.modules if n == missing or n.startswith(f"{missing}.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, missing, None)
    with pytest.raises(ImportError, match=rf'pip install "cayley\[{extra}\]"'):
        importlib.import_module(module)


def test_dumps_keeps_short_values_on_one_line() -> None:
    value = {"short": [1, 2], "long": [["x" * 20, "y" * 20], ["z" * 20]], "empty": {}}
    text = dumps(value, width=60)
    assert json.loads(text) == value
    assert text.splitlines() == [
        "{",
        '  "short": [1, 2],',
        '  "long": [',
        f'    ["{"x" * 20}", "{"y" * 20}"],',
        f'    ["{"z" * 20}"]',
        "  ],",
        '  "empty": {}',
        "}",
    ]
