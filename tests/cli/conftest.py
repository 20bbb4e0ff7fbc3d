"""Running the ``cayley`` command as a user does: in a subprocess, on dataflow files."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

ROOT = Path(__file__).resolve().parents[2]

FLOW = '''
"""Squares of the first n numbers."""
from cayley.htypes import Collect, Parallelizable


class Point:
    def __init__(self, x: int) -> None:
        self.x = x

    def __repr__(self) -> str:
        return f"Point({self.x})"


def items(n: int) -> Parallelizable[int]:
    yield from range(n)


def squared(items: int) -> int:
    return items * items


def total(squared: Collect[int]) -> int:
    return sum(squared)


def scaled(total: int, scale: float) -> float:
    return total * scale


def ratio(total: int, divisor: int) -> float:
    return total / divisor


def point(total: int) -> Point:
    return Point(total)


def labels(n: int) -> dict:
    return {i: str(i) for i in range(n)}
'''


def cayley_env() -> dict[str, str]:
    """This environment with the checkout importable first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("COLUMNS", None)
    return env


def cayley(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m cayley ARGS`` in ``cwd``; its exit status and text output."""
    return subprocess.run(
        [sys.executable, "-m", "cayley", *args],
        cwd=cwd,
        env=cayley_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write(directory: Path, name: str, source: str) -> Path:
    """Writes a dedented dataflow file and returns its path."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    """A fan-out dataflow file, ``flow.py``, in ``tmp_path``."""
    return write(tmp_path, "flow.py", FLOW)


@pytest.fixture
def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], types.ModuleType]:
    """Imports dataflow source from a file (so node versions, which hash it, exist)."""

    def load_source(source: str) -> types.ModuleType:
        name = f"otel_flow_{len(list(tmp_path.iterdir()))}"
        path = tmp_path / f"{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)
        spec.loader.exec_module(module)
        return module

    return load_source


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    yield memory
    memory.clear()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> trace.Tracer:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("tests")
