"""Helpers for cache tests: dataflow modules written to files, and execution counters."""

from __future__ import annotations

import importlib.util
import itertools
import pathlib
import sys
import textwrap
import types

import pytest

_ids = itertools.count()


class Flows:
    """Writes dataflow modules into a temporary directory and imports them."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.counter = root / "calls.txt"

    def module(self, source: str, name: str | None = None) -> types.ModuleType:
        """Imports ``source`` as a fresh module; ``COUNTER`` in it is the calls file."""
        name = name or f"cache_flow_{next(_ids)}"
        path = self.root / f"{name}.py"
        text = textwrap.dedent(source).replace("COUNTER", repr(str(self.counter)))
        path.write_text(text)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    def calls(self) -> list[str]:
        """Node names recorded by ``record(...)`` calls, in order, and resets the record."""
        if not self.counter.exists():
            return []
        names = self.counter.read_text().split()
        self.counter.unlink()
        return names


RECORD = """
def _record(name):
    with open(COUNTER, "a") as f:
        f.write(name + "\\n")
"""


@pytest.fixture
def flows(tmp_path: pathlib.Path) -> Flows:
    """A module factory writing into ``tmp_path/flows``."""
    root = tmp_path / "flows"
    root.mkdir()
    return Flows(root)
