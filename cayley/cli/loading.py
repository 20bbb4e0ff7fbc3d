"""What the commands read: dataflow modules from files or names, and JSON arguments.

A MODULE argument is a file (``flows/etl.py``) or a dotted module name (``flows.etl``). A
file is imported under its stem (``etl``) with its directory put on ``sys.path``, the way
``python flows/etl.py`` would see its sibling modules; a dotted name is imported with the
working directory on ``sys.path``, as ``python -m`` does. JSON arguments are given inline
or as ``@path`` to a file holding the JSON.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import keyword
import os
import re
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["CliError", "load_modules", "load_module", "parse_json_object"]


class CliError(Exception):
    """A mistake in what the user asked for; the message says what is wrong and what to do."""


def _looks_like_path(spec: str) -> bool:
    return spec.endswith(".py") or os.sep in spec or (os.altsep or os.sep) in spec


def _module_name_for(path: Path) -> str:
    """The name a file is imported under: its stem, made a valid and unused identifier."""
    stem = re.sub(r"\W", "_", path.stem) or "dataflow"
    if stem[0].isdigit() or keyword.iskeyword(stem):
        stem = f"_{stem}"
    name, counter = stem, 1
    while not _free_for(name, path):
        counter += 1
        name = f"{stem}_{counter}"
    return name


def _free_for(name: str, path: Path) -> bool:
    """Whether ``path`` may be imported as ``name`` without shadowing another module."""
    module = sys.modules.get(name)
    if module is not None:
        existing = getattr(module, "__file__", None)
        return existing is not None and Path(existing).resolve() == path
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return True
    return spec is None or (spec.origin is not None and Path(spec.origin).resolve() == path)


def _add_to_path(directory: Path) -> None:
    text = str(directory)
    if text not in sys.path:
        sys.path.insert(0, text)


def _import_file(path: Path) -> types.ModuleType:
    path = path.resolve()
    name = _module_name_for(path)
    if name in sys.modules:
        return sys.modules[name]
    _add_to_path(path.parent)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CliError(f"Cannot import {path}: it is not a Python source file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_module(spec: str) -> types.ModuleType:
    """Imports one MODULE argument (a file path or a dotted name).

    Errors raised while the module's code runs propagate with a note naming the module.
    """
    if _looks_like_path(spec) or Path(spec).is_file():
        path = Path(spec)
        if not path.is_file():
            raise CliError(
                f"Module file {spec!r} does not exist. Give the path of a .py file or a dotted "
                "module name importable from the current directory."
            )
        loader, where = (lambda: _import_file(path)), str(path)
    else:
        _add_to_path(Path.cwd())
        loader, where = (lambda: importlib.import_module(spec)), spec
    try:
        return loader()
    except ModuleNotFoundError as exc:
        if exc.name is not None and spec.startswith(exc.name):
            raise CliError(
                f"No module named {spec!r}: it is neither a file nor importable from "
                f"{Path.cwd()}. Give the path of its .py file, or run from the directory that "
                "holds it."
            ) from exc
        raise _module_error(exc, where) from exc
    except SyntaxError as exc:
        raise CliError(
            f"Cannot import {where}: syntax error at {exc.filename}:{exc.lineno}: {exc.msg}."
        ) from exc
    except Exception as exc:
        raise _module_error(exc, where) from exc


def _module_error(exc: BaseException, where: str) -> CliError:
    return CliError(
        f"Importing {where} failed: {type(exc).__name__}: {exc}. Fix the module, or run with "
        "--traceback to see where."
    )


def load_modules(specs: Sequence[str]) -> list[types.ModuleType]:
    """Imports every MODULE argument, in order."""
    return [load_module(spec) for spec in specs]


def parse_json_object(text: str | None, option: str) -> dict[str, Any]:
    """A JSON object given inline or as ``@file.json``; ``{}`` when not given."""
    if text is None:
        return {}
    source = f"{option}"
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"Cannot read {option} file {str(path)!r}: {exc.strerror}.") from exc
        source = f"{option} file {str(path)!r}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"{source} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}). "
            f"Give an object such as '{{\"x\": 1}}', or @file.json."
        ) from exc
    if not isinstance(value, dict):
        raise CliError(
            f"{source} must be a JSON object mapping names to values, such as "
            f"'{{\"x\": 1}}'; got a JSON {type(value).__name__}."
        )
    return value
