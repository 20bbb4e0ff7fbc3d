"""A fan-out dataflow whose items are loaded and saved by loader and saver nodes, and how to
run it through ``materialize`` on a given executor."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cayley import driver
from cayley.execution import executors
from cayley.io.materialization import to
from tests.io.helpers import module_of

ROOT = Path(__file__).resolve().parents[2]

FLOW = """
import json
import os
from cayley.htypes import Collect, Parallelizable
from cayley.function_modifiers import load_from, save_to, source

def paths(folder: str, n: int) -> Parallelizable[str]:
    for i in range(n):
        yield os.path.join(folder, f"part-{i}.json")

@load_from.json(path=source("paths"))
def part(data: dict) -> dict:
    return data

def out_path(paths: str) -> str:
    return paths.replace(".json", ".out.json")

@save_to.json(path=source("out_path"))
def summary(part: dict, paths: str) -> dict:
    return {"path": paths, "total": sum(part["values"]), "pid": os.getpid()}

def totals(summary: Collect[dict]) -> dict:
    return {"grand": sum(s["total"] for s in summary), "parts": len(summary)}
"""


def write_parts(folder: Path, n: int) -> None:
    for i in range(n):
        (folder / f"part-{i}.json").write_text(json.dumps({"values": list(range(i + 1))}))


def check(folder: Path, n: int, metadata: dict[str, Any], extra: dict[str, Any]) -> set[int]:
    expected = sum(sum(range(i + 1)) for i in range(n))
    assert json.loads((folder / "report.json").read_text()) == {"grand": expected, "parts": n}
    assert metadata["report"]["file_metadata"]["path"] == str(folder / "report.json")
    per_item = extra["save.summary"]
    assert len(per_item) == n
    pids = set()
    for i in range(n):
        written = json.loads((folder / f"part-{i}.out.json").read_text())
        assert written["total"] == sum(range(i + 1))
        pids.add(written["pid"])
    assert sorted(m["file_metadata"]["path"] for m in per_item) == sorted(
        str(folder / f"part-{i}.out.json") for i in range(n)
    )
    return pids


def materialize(dr: driver.Driver, folder: Path, n: int) -> set[int]:
    write_parts(folder, n)
    metadata, extra = dr.materialize(
        to.json(id="report", dependencies=["totals"], path=str(folder / "report.json")),
        additional_vars=["save.summary"],
        inputs={"folder": str(folder), "n": n},
    )
    return check(folder, n, metadata, extra)


@contextlib.contextmanager
def repository_on_pythonpath() -> Iterator[None]:
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([previous] if previous else [])])
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def dynamic(remote: executors.TaskExecutor) -> driver.Driver:
    return (
        driver.Builder()
        .with_modules(module_of(FLOW))
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(remote)
        .build()
    )
