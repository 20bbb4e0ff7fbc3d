"""``%%cell_to_module`` through IPython's own shell."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from cayley import driver
from cayley.lifecycle import NodeExecutionHook

CELL = """
from cayley.function_modifiers import config

def doubled(x: int) -> int:
    return x * 2

def shifted(doubled: int, shift: int = 1) -> int:
    return doubled + shift

@config.when(mode="loud")
def label__loud(shifted: int) -> str:
    return f"{shifted}!"

@config.when(mode="quiet")
def label__quiet(shifted: int) -> str:
    return str(shifted)
"""


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    """IPython's shell; what it changes in the interpreter (``__main__``, hooks) is undone."""
    saved = sys.modules["__main__"], sys.excepthook, sys.displayhook
    ipython = InteractiveShell.instance()
    ipython.run_line_magic("load_ext", "cayley.plugins.jupyter_magic")
    yield ipython
    ipython.reset()
    sys.modules.pop("nb_flow", None)
    sys.modules["__main__"], sys.excepthook, sys.displayhook = saved


def run(shell: InteractiveShell, line: str, cell: str = CELL) -> Any:
    """Runs the magic as a notebook cell does; raises what the cell raised."""
    result = shell.run_cell(f"%%cell_to_module {line}\n{cell}")
    if result.error_in_exec is not None:
        raise result.error_in_exec
    if result.error_before_exec is not None:
        raise result.error_before_exec
    return result


def test_cell_becomes_a_module_and_its_functions_notebook_variables(
    shell: InteractiveShell,
) -> None:
    run(shell, "nb_flow --config mode=loud")
    module = shell.user_ns["nb_flow"]
    assert sys.modules["nb_flow"] is module
    assert shell.user_ns["doubled"] is module.doubled
    assert shell.user_ns["shifted"] is module.shifted
    assert "__name__" not in vars(module) or shell.user_ns.get("__name__") != "nb_flow"
    dr = driver.Builder().with_modules(module).with_config({"mode": "loud"}).build()
    assert dr.execute(["label"], inputs={"x": 4}) == {"label": "9!"}
    run(shell, "nb_flow", cell="def only() -> int:\n    return 1\n")  # run again: replaced
    assert shell.user_ns["nb_flow"] is not module and not hasattr(
        shell.user_ns["nb_flow"], "doubled"
    )


def test_execute_with_outputs_inputs_overrides_and_config(shell: InteractiveShell) -> None:
    shell.user_ns.update(outs=["label", "shifted"], ins={"x": 5}, fixed={"doubled": 100})
    run(shell, 'nb_flow -c \'{"mode": "quiet"}\' --execute outs --inputs ins')
    assert (shell.user_ns["label"], shell.user_ns["shifted"]) == ("11", 11)
    run(shell, "nb_flow -c mode=loud -x outs -i ins -o fixed")
    assert (shell.user_ns["label"], shell.user_ns["shifted"]) == ("101!", 101)
    shell.user_ns["conf"] = {"mode": "loud", "shift": 0}
    run(shell, "nb_flow --config conf -x -i ins")  # bare --execute: every node
    assert (shell.user_ns["doubled"], shell.user_ns["shifted"], shell.user_ns["label"]) == (
        10,
        10,
        "10!",
    )


def test_builder_is_copied_and_its_adapters_used(shell: InteractiveShell) -> None:
    seen: list[str] = []

    class Recorder(NodeExecutionHook):
        def run_before_node_execution(self, *, node_name: str, **kwargs: Any) -> None:
            seen.append(node_name)

        def run_after_node_execution(self, **kwargs: Any) -> None:
            pass

    builder = driver.Builder().with_adapters(Recorder()).with_config({"mode": "quiet"})
    shell.user_ns.update(b=builder, outs=["label"], ins={"x": 1})
    run(shell, "nb_flow --builder b -x outs -i ins")
    assert shell.user_ns["label"] == "3"
    assert seen == ["doubled", "shifted", "label"]
    assert builder.modules == []  # the notebook's builder is left as it was
    with pytest.raises(UsageError, match="Give the config once"):
        run(shell, "nb_flow -b b -c mode=loud")


def test_display_draws_the_dataflow_or_the_run(shell: InteractiveShell) -> None:
    with capture_output() as everything:
        run(shell, "nb_flow -c mode=loud --display")
    (drawing,) = everything.outputs
    svg = drawing.data["image/svg+xml"]
    assert ">doubled<" in svg and ">label<" in svg
    shell.user_ns.update(outs=["doubled"], ins={"x": 1}, look={"orient": "TB"})
    with capture_output() as path_only:
        run(shell, "nb_flow -c mode=loud -d look -x outs -i ins --show_results")
    drawing, shown = path_only.outputs
    svg = drawing.data["image/svg+xml"]
    assert ">doubled<" in svg and ">label<" not in svg
    assert shown.data["text/plain"] == "2"


def test_mistakes_are_usage_errors_naming_the_option(shell: InteractiveShell) -> None:
    shell.user_ns["notalist"] = 3
    cases = {
        "nb_flow -x missing": "--execute missing: there is no variable 'missing'",
        "nb_flow -x notalist": "--execute notalist: expected list or tuple, but 'notalist' is int",
        "nb_flow -c '{\"mode\": }'": "--config '{\"mode\": }' is not valid JSON",
        "nb_flow -c mode": "--config mode: expected a JSON object, key=value pairs",
        "-c mode=loud": "needs the module's name",
        "nb_flow --bogus": "unrecognized arguments: --bogus",
        "nb-flow": "'nb-flow' is not a valid Python identifier",
    }
    for line, message in cases.items():
        with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("{", r"\{")):
            run(shell, line)


def test_write_to_file_and_retired_options(
    shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "saved.py"
    run(shell, f"nb_flow -c mode=loud -w {target} --verbose")
    assert target.read_text() == CELL
    assert "Ignored --verbose" in capsys.readouterr().out


def test_a_result_builder_result_becomes_one_variable(shell: InteractiveShell) -> None:
    from cayley.base import PandasDataFrameResult

    shell.user_ns.update(b=driver.Builder().with_adapters(PandasDataFrameResult()),
                         outs=["doubled", "shifted"], ins={"x": 3})  # fmt: skip
    run(shell, "nb_flow -b b -c mode=loud -x outs -i ins")
    frame = shell.user_ns["nb_flow_results"]
    assert frame.to_dict("list") == {"doubled": [6], "shifted": [7]}
