"""A fan-out run on a cluster with the cache, checked cold then warm (shared by Ray/Dask)."""

from __future__ import annotations

import contextlib
import os
import pathlib
from collections.abc import Iterator
from typing import Any

from cayley import ad_hoc_utils, driver

ROOT = pathlib.Path(__file__).resolve().parents[2]

SOURCE = """
from cayley.htypes import Collect, Parallelizable

def _record(name):
    with open(COUNTER, "a") as f:
        f.write(name + "\\n")

def items(values: list) -> Parallelizable[int]:
    for v in values:
        yield v

def work(items: int) -> int:
    _record(f"work-{items}")
    return items * 10

def total(work: Collect[int]) -> int:
    _record("total")
    return sum(work)
"""


@contextlib.contextmanager
def repository_on_pythonpath() -> Iterator[None]:
    """Lets cluster workers started meanwhile import cayley from this checkout."""
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([previous] if previous else []))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def calls(counter: pathlib.Path) -> list[str]:
    """What the workers recorded, sorted; resets the record."""
    if not counter.exists():
        return []
    names = sorted(counter.read_text().split())
    counter.unlink()
    return names


def check_cold_then_warm(executor: Any, tmp_path: pathlib.Path) -> Any:
    """Workers store results in the shared directory; the second run takes them all."""
    counter = tmp_path / "calls.txt"
    module = ad_hoc_utils.module_from_source(SOURCE.replace("COUNTER", repr(str(counter))))
    dr = (
        driver.Builder()
        .with_modules(module)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(executor)
        .with_cache(path=tmp_path / "cache")
        .build()
    )
    values = list(range(1, 9))
    assert dr.execute(["total"], inputs={"values": values}) == {"total": 360}
    assert calls(counter) == sorted(["total", *(f"work-{i}" for i in values)])
    assert dr.execute(["total"], inputs={"values": values}) == {"total": 360}
    assert calls(counter) == []
    assert dr.execute(["total"], inputs={"values": [*values, 9]}) == {"total": 450}
    assert calls(counter) == ["total", "work-9"]
    return dr
