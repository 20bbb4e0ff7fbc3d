"""What the commands write: results as JSON, errors as short messages."""

from __future__ import annotations

import json
import math
import numbers
import re
import traceback
from collections.abc import Mapping
from typing import Any

from cayley.cli.loading import CliError

__all__ = ["describe_error", "dumps", "error_lines", "format_traceback", "jsonable"]

_NODE_NOTE = "while computing node"
_SEVERAL = re.compile(r"^\d+ errors? encountered:$")


def jsonable(value: Any) -> Any:
    """``value`` as JSON can hold it; anything JSON cannot hold becomes its ``repr``.

    Strings, booleans, ``None``, finite numbers (numpy scalars included), lists, tuples and
    dicts are kept; dict keys that JSON cannot hold are written as their ``repr``.
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else repr(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {_key(k): jsonable(v) for k, v in value.items()}
    return repr(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, numbers.Integral)):
        return json.dumps(jsonable(key))
    return repr(key)


def dumps(value: Any, width: int = 88) -> str:
    """JSON of :func:`jsonable` ``(value)`` for people too: a list or object that fits on
    its line is written on it, longer ones one element per line."""
    return _layout(jsonable(value), 0, width)


def _layout(value: Any, indent: int, width: int) -> str:
    compact = json.dumps(value, ensure_ascii=False)
    if len(compact) + indent <= width or not isinstance(value, (list, dict)) or not value:
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, list):
        items = [pad + _layout(v, indent + 2, width) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [
        f"{pad}{json.dumps(k, ensure_ascii=False)}: {_layout(v, indent + 2, width)}"
        for k, v in value.items()
    ]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def _hint(exc: BaseException) -> str:
    from cayley.execution.plan import MissingInputsError
    from cayley.graph import GraphError

    if isinstance(exc, MissingInputsError):
        return "Give them with --inputs '{\"name\": value}' (or --inputs @file.json)."
    if isinstance(exc, GraphError):
        return "Fix the dataflow module; `cayley validate` lists every problem it can find."
    if any(_NODE_NOTE in note for note in getattr(exc, "__notes__", ())):
        return "The node's function raised; run with --traceback to see where."
    if isinstance(exc, (TypeError, ValueError)):
        return "Check the values given with --inputs, --overrides and --config."
    return "Run with --traceback for the full traceback."


def error_lines(exc: BaseException) -> list[str]:
    """The problems an exception reports: one per ``Error:`` line of an ``N errors
    encountered:`` list (without the prefix; advice lines are left out), else its whole
    message."""
    lines = str(exc).splitlines()
    if lines and _SEVERAL.match(lines[0]):
        problems = [line.strip() for line in lines[1:]]
        return [line.removeprefix("Error: ") for line in problems if line.startswith("Error:")]
    return [str(exc)]


def describe_error(exc: BaseException) -> str:
    """A short message: the error, its notes (node, item), and what to do."""
    if isinstance(exc, CliError):
        return str(exc)
    problems = error_lines(exc)
    if len(problems) == 1:
        lines = [f"{type(exc).__name__}: {problems[0]}".rstrip()]
    else:
        lines = [f"{type(exc).__name__}:", *(f"  {problem}" for problem in problems)]
    lines.extend(f"  {note}" for note in getattr(exc, "__notes__", ()))
    lines.append(_hint(exc))
    return "\n".join(lines)


def format_traceback(exc: BaseException) -> str:
    """The full traceback of ``exc`` (with its chain and notes)."""
    return "".join(traceback.format_exception(exc)).rstrip()
