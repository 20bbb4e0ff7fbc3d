"""The commands: each takes the parsed arguments, writes its output and returns an exit code.

Errors are raised, not printed: :func:`cayley.cli.main` turns them into a short message (or
the traceback with ``--traceback``) and exit status 1.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cayley import driver
from cayley.cli.diff import diff_versions, draw_diff, node_versions
from cayley.cli.loading import CliError, load_module, load_modules, parse_json_object
from cayley.cli.output import dumps, error_lines
from cayley.execution.plan import MissingInputsError
from cayley.graph import CycleError, GraphError, ScopeError
from cayley.lifecycle.base import BaseDoCheckEdgeTypesMatch

__all__ = ["run", "validate", "view", "version", "diff", "ui"]

#: File formats ``cayley view`` and ``cayley diff --out`` write.
PICTURE_FORMATS = ("png", "svg", "pdf", "dot")


# ---- shared helpers ----------------------------------------------------------------------
def _builder(modules: Sequence[Any], config: dict[str, Any]) -> driver.Builder:
    return driver.Builder().with_modules(*modules).with_config(config)


def _build(args: argparse.Namespace) -> driver.Driver:
    """A plain driver over the command's modules and ``--config``."""
    modules = load_modules(args.modules)
    return _builder(modules, parse_json_object(args.config, "--config")).build()


def _unknown_outputs(dr: driver.Driver, outputs: Iterable[str]) -> dict[str, str]:
    """Requested outputs that are not nodes -> a message suggesting close names."""
    names = [n.name for n in dr.list_available_variables()]
    messages = {}
    for output in outputs:
        if output in names:
            continue
        close = difflib.get_close_matches(output, names, n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        messages[output] = f"{output!r} is not a node of the dataflow.{hint}"
    return messages


def _check_outputs(dr: driver.Driver, outputs: Sequence[str]) -> list[str]:
    unknown = _unknown_outputs(dr, outputs)
    if unknown:
        lines = [f"Output {message}" for message in unknown.values()]
        raise CliError("\n".join(lines) + "\n`cayley version MODULE` lists every node.")
    return list(outputs)


def _coerce_inputs(dr: driver.Driver, values: dict[str, Any]) -> dict[str, Any]:
    """JSON has one kind of number: an integer given for a ``float`` input becomes a float."""
    floats = {
        n.name for n in dr.list_available_variables() if n.is_external_input and n.type is float
    }
    return {
        name: float(value)
        if name in floats and isinstance(value, int) and not isinstance(value, bool)
        else value
        for name, value in values.items()
    }


def _picture_format(path: str) -> str:
    fmt = Path(path).suffix[1:].lower()
    if fmt not in PICTURE_FORMATS:
        raise CliError(
            f"Cannot tell which picture to write from {path!r}: give a file ending in "
            + ", ".join(f".{f}" for f in PICTURE_FORMATS)
            + "."
        )
    return fmt


def _write_picture(dot: Any, path: str) -> Path:
    """Writes ``dot`` (a ``graphviz.Digraph``) to ``path`` in the format its extension names."""
    fmt = _picture_format(path)
    target = Path(path)
    if fmt == "dot":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dot.source, encoding="utf-8")
        return target
    from cayley.visualization import render

    return render(dot, target, {"format": fmt})


# ---- run ---------------------------------------------------------------------------------
def _executor_builder(
    builder: driver.Builder, executor: str, max_tasks: int | None
) -> driver.Builder:
    from cayley.execution import executors

    if executor == "sync":
        if max_tasks is not None:
            raise CliError(
                "--max-tasks applies to --executor threads or processes; the sync executor "
                "runs one task at a time."
            )
        return builder
    workers = max_tasks or os.cpu_count() or 1
    remote = (
        executors.MultiThreadingExecutor(max_tasks=workers)
        if executor == "threads"
        else executors.MultiProcessingExecutor(max_tasks=workers)
    )
    return (
        builder.enable_dynamic_execution(allow_experimental_mode=True)
        .with_local_executor(executors.SynchronousLocalTaskExecutor())
        .with_remote_executor(remote)
    )


def _progress_bar(enabled: bool) -> Any:
    """A tqdm bar on stderr that shows up once a run has lasted a second; None without one."""
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from cayley.plugins.h_tqdm import ProgressBar
    except ImportError:
        return None  # the bar is a nicety: runs work without tqdm
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except OSError:
        columns = 0
    # Follow the terminal's width when it reports one (some pseudo-terminals report 0).
    width = {"dynamic_ncols": True} if columns else {"ncols": 80, "nrows": 24}
    return ProgressBar(desc="cayley run", file=sys.stderr, delay=1.0, **width)


def run(args: argparse.Namespace) -> int:
    """Executes the requested outputs and prints them as a JSON object."""
    modules = load_modules(args.modules)
    config = parse_json_object(args.config, "--config")
    inputs = parse_json_object(args.inputs, "--inputs")
    overrides = parse_json_object(args.overrides, "--overrides")
    builder = _executor_builder(_builder(modules, config), args.executor, args.max_tasks)
    bar = _progress_bar(not args.no_progress)
    if bar is not None:
        builder = builder.with_adapters(bar)
    dr = builder.build()
    outputs = _check_outputs(dr, args.outputs)
    results = dr.execute(outputs, inputs=_coerce_inputs(dr, inputs), overrides=overrides)
    print(dumps(results))
    return 0


# ---- validate ----------------------------------------------------------------------------
def _edge_type_problems(dr: driver.Driver) -> list[str]:
    """Every edge whose producer's type does not fit its consumer's parameter."""
    from cayley import htypes

    graph = dr.graph
    problems = []
    for name, node in graph.nodes.items():
        for (param, (param_type, _)), dep in zip(
            node.input_types.items(), graph.dependencies[name]
        ):
            producer = graph.nodes[dep]
            if producer.user_defined or htypes.types_match(param_type, producer.type):
                continue
            problems.append(
                f"type mismatch: node {name!r} expects parameter {param!r} to be "
                f"{htypes.get_type_as_string(param_type)}, but node {dep!r} produces "
                f"{htypes.get_type_as_string(producer.type)}."
            )
    return problems


class _EdgeTypeRecorder(BaseDoCheckEdgeTypesMatch):
    """Lets the graph build past edge type mismatches, noting that there was one."""

    def __init__(self) -> None:
        self.seen = False

    def do_check_edge_types_match(self, *, type_from: type, type_to: type) -> bool:
        """Accepts the edge; :func:`_edge_type_problems` reports it once the graph is built."""
        self.seen = True
        return True


def _graph_problem(exc: GraphError) -> str:
    if isinstance(exc, CycleError):
        return f"cycle: {exc}"
    if isinstance(exc, ScopeError):
        return f"fan-out: {exc}"
    return f"graph: {exc}"


def _request_problems(dr: driver.Driver, outputs: list[str], inputs: dict[str, Any]) -> list[str]:
    """Missing inputs for ``outputs`` and given inputs of the wrong type."""
    try:
        dr.validate_execution(outputs, inputs=inputs)
        return []
    except MissingInputsError as exc:
        problems = [f"missing input: {line}" for line in error_lines(exc)]
    except ValueError as exc:
        return [f"input type: {line}" for line in error_lines(exc)]
    # Some inputs are missing: check the types of those given, standing in for the others.
    given = set(inputs) | set(dr.config)
    stand_ins = {
        n.name: None
        for n in dr.list_available_variables()
        if n.is_external_input and n.name not in given
    }
    try:
        dr.validate_execution(outputs, inputs=inputs, overrides=stand_ins)
    except ValueError as exc:
        problems.extend(f"input type: {line}" for line in error_lines(exc))
    return problems


def validate(args: argparse.Namespace) -> int:
    """Prints ``ok``, or every problem found, one per line (exit status 1)."""
    modules = load_modules(args.modules)
    config = parse_json_object(args.config, "--config")
    inputs = parse_json_object(args.inputs, "--inputs")
    recorder = _EdgeTypeRecorder()
    try:
        dr = _builder(modules, config).with_adapters(recorder).build()
    except GraphError as exc:
        problems = [_graph_problem(exc)]
    else:
        problems = _edge_type_problems(dr) if recorder.seen else []
        unknown = _unknown_outputs(dr, args.outputs)
        problems.extend(f"unknown output: {message}" for message in unknown.values())
        known = [o for o in args.outputs if o not in unknown]
        problems.extend(_request_problems(dr, known, _coerce_inputs(dr, inputs)))
    if not problems:
        print("ok")
        return 0
    for problem in problems:
        print(f"- {problem}")
    print(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} found.")
    return 1


# ---- view, version, diff -----------------------------------------------------------------
def view(args: argparse.Namespace) -> int:
    """Draws the dataflow (or the path to the requested outputs) into ``--out``."""
    _picture_format(args.out)
    dr = _build(args)
    options = {"orient": args.orient, "hide_inputs": args.hide_inputs}
    if args.outputs:
        outputs = _check_outputs(dr, args.outputs)
        inputs = parse_json_object(args.inputs, "--inputs")
        dot = dr.visualize_execution(
            outputs, inputs=_coerce_inputs(dr, inputs), bypass_validation=True, **options
        )
    else:
        dot = dr.display_all_functions(**options)
    print(_write_picture(dot, args.out))
    return 0


def version(args: argparse.Namespace) -> int:
    """Prints the graph's and every node's code version as JSON."""
    graph = _build(args).hamilton_graph
    nodes = {node.name: node.version for node in sorted(graph.nodes, key=lambda n: n.name)}
    print(dumps({"graph": graph.version, "nodes": nodes}))
    return 0


def diff(args: argparse.Namespace) -> int:
    """Prints the nodes added, removed and changed from OLD to NEW; draws them with ``--out``."""
    if args.out:
        _picture_format(args.out)
    config = parse_json_object(args.config, "--config")
    old = _builder([load_module(args.old)], config).build()
    new = _builder([load_module(args.new)], config).build()
    changes = diff_versions(node_versions(old), node_versions(new))
    if args.out:
        target = _write_picture(draw_diff(old, new, changes), args.out)
        print(f"wrote {target}", file=sys.stderr)
    print(dumps(changes.as_dict()))
    return 0


# ---- ui ----------------------------------------------------------------------------------
def ui(args: argparse.Namespace) -> int:
    """Serves the run viewer until interrupted."""
    try:
        from cayley.tracking.viewer import serve
    except ModuleNotFoundError as exc:
        if exc.name in ("cayley.tracking", "cayley.tracking.viewer"):
            raise CliError(
                "The run viewer (cayley.tracking.viewer) is not part of this installation of "
                "cayley; install a release that includes run tracking."
            ) from exc
        raise CliError(
            f'The run viewer needs {exc.name!r}, which is not installed: pip install "cayley[ui]".'
        ) from exc
    try:
        serve(path=args.store, port=args.port)
    except KeyboardInterrupt:
        pass
    return 0
