"""``cayley run``, as a user runs it: results on stdout as JSON, errors on stderr, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import ROOT, cayley, cayley_env, write


def test_run_prints_results_as_json_and_nothing_on_stderr(flow: Path) -> None:
    (flow.parent / "inputs.json").write_text('{"n": 4, "scale": 2}')
    done = cayley(
        "run", "flow.py", "-o", "total", "-o", "scaled", "-o", "point", "-o", "labels",
        "--inputs", "@inputs.json", cwd=flow.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # stderr is not a terminal: no progress bar
    result = json.loads(done.stdout)
    # An int given for a float input is taken as a float; objects JSON cannot hold are
    # shown by repr; int keys become JSON strings.
    assert result == {
        "total": 14,
        "scaled": 28.0,
        "point": "Point(14)",
        "labels": {"0": "0", "1": "1", "2": "2", "3": "3"},
    }
    assert list(result) == ["total", "scaled", "point", "labels"]


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_run_on_pools(flow: Path, executor: str) -> None:
    done = cayley(
        "run", "flow.py", "-o", "total", "--inputs", '{"n": 30}',
        "--executor", executor, "--max-tasks", "2", cwd=flow.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"total": sum(i * i for i in range(30))}


def test_run_a_dotted_module_with_config(tmp_path: Path) -> None:
    write(tmp_path, "flows/__init__.py", "")
    write(
        tmp_path,
        "flows/greet.py",
        """
        from cayley.function_modifiers import config

        @config.when(lang="en")
        def greeting__en(name: str) -> str:
            return f"Hello {name}"

        @config.when(lang="fr")
        def greeting__fr(name: str) -> str:
            return f"Bonjour {name}"
        """,
    )
    (tmp_path / "config.json").write_text('{"lang": "fr"}')
    done = cayley(
        "run", "flows.greet", "-o", "greeting", "--config", "@config.json",
        "--inputs", '{"name": "Ada"}', cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"greeting": "Bonjour Ada"}


def test_a_failing_node_is_named_without_a_traceback(flow: Path) -> None:
    args = ("run", "flow.py", "-o", "ratio", "--inputs", '{"n": 3, "divisor": 0}')
    done = cayley(*args, cwd=flow.parent)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "cayley run: error: ZeroDivisionError: division by zero",
        "  while computing node 'ratio' (function flow.ratio)",
        "The node's function raised; run with --traceback to see where.",
    ]
    traced = cayley(*args, "--traceback", cwd=flow.parent)
    assert traced.returncode == 1
    assert traced.stderr.startswith("Traceback (most recent call last):")
    assert "return total / divisor" in traced.stderr
    assert traced.stderr.rstrip().endswith("while computing node 'ratio' (function flow.ratio)")


def test_a_failing_item_of_a_fan_out_is_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        "items.py",
        """
        from cayley.htypes import Collect, Parallelizable

        def number(n: int) -> Parallelizable[int]:
            yield from range(n)

        def inverse(number: int) -> float:
            return 1 / (number - 2)

        def inverses(inverse: Collect[float]) -> list:
            return inverse
        """,
    )
    done = cayley(
        "run", "items.py", "-o", "inverses", "--inputs", '{"n": 4}', "--executor", "processes",
        "--max-tasks", "2", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "ZeroDivisionError" in done.stderr
    assert "while computing node 'inverse'" in done.stderr
    assert "item 2 of 'number'" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_inputs_and_wrong_types_say_what_to_give(flow: Path) -> None:
    missing = cayley("run", "flow.py", "-o", "ratio", "--inputs", '{"n": 3}', cwd=flow.parent)
    assert missing.returncode == 1
    assert missing.stderr.splitlines() == [
        "cayley run: error: MissingInputsError: Required input divisor not provided for "
        "nodes: ['ratio'].",
        "Give them with --inputs '{\"name\": value}' (or --inputs @file.json).",
    ]
    wrong = cayley(
        "run", "flow.py", "-o", "ratio", "--inputs", '{"n": "3", "divisor": 1}', cwd=flow.parent
    )
    assert wrong.returncode == 1
    assert "Expected n:<class 'int'> got '3':<class 'str'>" in wrong.stderr
    assert "Input n feeds nodes ['items']" in wrong.stderr
    assert wrong.stderr.rstrip().endswith(
        "Check the values given with --inputs, --overrides and --config."
    )


def test_usage_errors_exit_1(flow: Path) -> None:
    done = cayley("run", "flow.py", cwd=flow.parent)
    assert done.returncode == 1
    assert "the following arguments are required: -o/--output" in done.stderr
    assert done.stdout == ""


def test_console_script(flow: Path) -> None:
    """The installed ``cayley`` script when there is one (CI installs the package), else
    the call it makes, checked against the declaration in pyproject.toml."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '[project.scripts]\ncayley = "cayley.cli:main"\n' in pyproject
    script = Path(sys.executable).parent / "cayley"
    if script.exists():
        command = [str(script)]
    else:
        command = [
            sys.executable,
            "-c",
            "import sys; from cayley.cli import main; sys.exit(main())",
        ]
    done = subprocess.run(
        [*command, "run", "flow.py", "-o", "total", "--inputs", '{"n": 3}'],
        cwd=flow.parent, env=cayley_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"total": 5}
