"""The ``cayley`` command line: one ``argparse`` sub-command per command."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from cayley import __version__
from cayley.cli import commands

__all__ = ["build_parser"]

_MODULES_HELP = (
    "dataflow modules: .py files (flows/etl.py) or dotted module names (flows.etl) "
    "importable from the current directory"
)
_JSON = "JSON|@FILE"


class _Parser(argparse.ArgumentParser):
    """Usage mistakes exit with status 1 like every other error."""

    def error(self, message: str) -> NoReturn:
        """Prints the usage and the mistake to stderr, then exits with status 1."""
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def _common(parser: argparse.ArgumentParser, *, outputs: str | None, config: bool = True) -> None:
    """Options several commands share."""
    if outputs is not None:
        parser.add_argument(
            "-o",
            "--output",
            dest="outputs",
            action="append",
            metavar="NAME",
            required=outputs == "required",
            default=[],
            help="a node to compute (repeat for several)",
        )
    if config:
        parser.add_argument(
            "--config",
            metavar=_JSON,
            help="configuration as a JSON object, inline or @file.json",
        )
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback of an error"
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {value}")
    return value


def _add_run(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "run",
        help="execute outputs and print them as JSON",
        description="Executes the requested outputs and prints them as a JSON object on "
        "stdout; values JSON cannot hold are shown by their repr. A progress bar is drawn on "
        "stderr when it is a terminal and the run lasts over a second.",
    )
    parser.add_argument("modules", nargs="+", metavar="MODULE", help=_MODULES_HELP)
    _common(parser, outputs="required")
    parser.add_argument("--inputs", metavar=_JSON, help="input values as a JSON object")
    parser.add_argument(
        "--overrides", metavar=_JSON, help="values replacing computed nodes, as a JSON object"
    )
    parser.add_argument(
        "--executor",
        choices=("sync", "threads", "processes"),
        default="sync",
        help="where the items of Parallelizable fan-outs run (default: sync)",
    )
    parser.add_argument(
        "--max-tasks",
        type=_positive,
        metavar="N",
        help="threads or processes to use (default: the number of CPUs)",
    )
    parser.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    parser.set_defaults(handler=commands.run)


def _add_validate(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "validate",
        help="check the dataflow and a request without running it",
        description="Builds the dataflow and checks a request without running anything. "
        "Prints ok, or lists every problem found (type mismatches between functions, cycles, "
        "unknown outputs, missing inputs, inputs of the wrong type) and exits with status 1. "
        "Without -o only the graph and the given inputs' types are checked.",
    )
    parser.add_argument("modules", nargs="+", metavar="MODULE", help=_MODULES_HELP)
    _common(parser, outputs="optional")
    parser.add_argument("--inputs", metavar=_JSON, help="input values as a JSON object")
    parser.set_defaults(handler=commands.validate)


def _add_view(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "view",
        help="draw the dataflow",
        description="Draws the dataflow with graphviz; with -o, only what those outputs need. "
        "The format follows the file's extension: .png, .svg, .pdf (these need graphviz's "
        "dot program) or .dot (the DOT source).",
    )
    parser.add_argument("modules", nargs="+", metavar="MODULE", help=_MODULES_HELP)
    parser.add_argument("--out", required=True, metavar="FILE", help="the picture to write")
    _common(parser, outputs="optional")
    parser.add_argument("--inputs", metavar=_JSON, help="input values as a JSON object")
    parser.add_argument(
        "--orient", choices=("LR", "RL", "TB", "BT"), default="LR", help="layout direction"
    )
    parser.add_argument("--hide-inputs", action="store_true", help="leave inputs out")
    parser.set_defaults(handler=commands.view)


def _add_version(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "version",
        help="print the code version of the graph and of every node",
        description='Prints {"graph": HASH, "nodes": {NAME: HASH}}: the same hashes as '
        "HamiltonGraph.version and HamiltonNode.version (sha256 of each function's source "
        "without docstrings and comments).",
    )
    parser.add_argument("modules", nargs="+", metavar="MODULE", help=_MODULES_HELP)
    _common(parser, outputs=None)
    parser.set_defaults(handler=commands.version)


def _add_diff(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "diff",
        help="nodes added, removed and changed between two versions of a dataflow",
        description='Prints {"added": [...], "removed": [...], "changed": [...]}, comparing '
        "nodes by code version. With --out, also draws the new dataflow with the changes "
        "marked and the removed nodes dashed.",
    )
    parser.add_argument("old", metavar="OLD_MODULE", help="the old version (file or module)")
    parser.add_argument("new", metavar="NEW_MODULE", help="the new version (file or module)")
    parser.add_argument("--out", metavar="FILE", help="also draw the diff (.png/.svg/.pdf/.dot)")
    _common(parser, outputs=None)
    parser.set_defaults(handler=commands.diff)


def _add_ui(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "ui",
        help="serve the run viewer",
        description="Serves the viewer of runs recorded by cayley.tracking.RunTracker on "
        "http://127.0.0.1:PORT until interrupted (Ctrl-C).",
    )
    parser.add_argument(
        "--store",
        default=".cayley/runs.db",
        metavar="PATH",
        help="the run database (default: .cayley/runs.db)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8241,
        metavar="N",
        help="port (default: 8241; 0: any free one)",
    )
    _common(parser, outputs=None, config=False)
    parser.set_defaults(handler=commands.ui)


def build_parser() -> argparse.ArgumentParser:
    """The ``cayley`` parser with every command."""
    parser = _Parser(
        prog="cayley",
        description="Run, check, draw and compare cayley dataflows.",
        epilog="Run `cayley COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"cayley {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in (_add_run, _add_validate, _add_view, _add_version, _add_diff, _add_ui):
        add(sub)
    return parser
