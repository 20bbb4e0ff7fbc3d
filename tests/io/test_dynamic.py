"""``materialize`` on the dynamic driver (threads, processes, a local Dask cluster) and the
async driver: loaders and savers are nodes, so they run wherever their block runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cayley import async_driver, driver
from cayley.execution import executors
from cayley.io.materialization import from_, to
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


def _write_parts(folder: Path, n: int) -> None:
    for i in range(n):
        (folder / f"part-{i}.json").write_text(json.dumps({"values": list(range(i + 1))}))


def _check(folder: Path, n: int, metadata: dict[str, Any], extra: dict[str, Any]) -> set[int]:
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


def _materialize(dr: driver.Driver, folder: Path, n: int) -> set[int]:
    _write_parts(folder, n)
    metadata, extra = dr.materialize(
        to.json(id="report", dependencies=["totals"], path=str(folder / "report.json")),
        additional_vars=["save.summary"],
        inputs={"folder": str(folder), "n": n},
    )
    return _check(folder, n, metadata, extra)


@contextlib.contextmanager
def _repository_on_pythonpath() -> Iterator[None]:
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([previous] if previous else [])])
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def _dynamic(remote: executors.TaskExecutor) -> driver.Driver:
    return (
        driver.Builder()
        .with_modules(module_of(FLOW))
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(remote)
        .build()
    )


def test_materialize_on_threads(tmp_path: Path) -> None:
    pids = _materialize(_dynamic(executors.MultiThreadingExecutor(2)), tmp_path, 5)
    assert pids == {os.getpid()}


def test_materialize_on_processes(tmp_path: Path) -> None:
    with _repository_on_pythonpath():
        pids = _materialize(
            _dynamic(executors.MultiProcessingExecutor(2, start_method="fork")), tmp_path, 6
        )
    assert os.getpid() not in pids  # the per-item loaders and savers ran in the workers


def test_materialize_on_a_local_dask_cluster(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from cayley.plugins import h_dask

    with _repository_on_pythonpath():
        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        )
        client = distributed.Client(cluster)
    try:
        pids = _materialize(_dynamic(h_dask.DaskExecutor(client=client)), tmp_path, 4)
        assert os.getpid() not in pids
        # from_ on the cluster: the items come from another folder, chosen at materialize time
        other = tmp_path / "other"
        other.mkdir()
        (other / "names.json").write_text(json.dumps({"values": [5]}))
        dr = _dynamic(h_dask.DaskExecutor(client=client))
        _, extra = dr.materialize(
            from_.literal(target="paths", value=[str(other / "names.json")]),
            additional_vars=["summary"],
            inputs={"folder": "unused", "n": 0},
        )
        assert [s["total"] for s in extra["summary"]] == [5]
    finally:
        client.close()
        cluster.close()


def test_materialize_on_the_async_driver(tmp_path: Path) -> None:
    module = module_of(
        """
import asyncio
from cayley.function_modifiers import load_from, save_to, source

@load_from.json(path=source("in_path"))
async def settings(data: dict) -> dict:
    await asyncio.sleep(0)
    return data

async def doubled(settings: dict) -> dict:
    return {k: v * 2 for k, v in settings.items()}
"""
    )
    (tmp_path / "in.json").write_text(json.dumps({"a": 1}))

    async def run() -> tuple[dict, dict]:
        dr = await async_driver.Builder().with_modules(module).build()
        first = await dr.materialize(
            to.json(id="out", dependencies=["doubled"], path=str(tmp_path / "out.json")),
            additional_vars=["settings"],
            inputs={"in_path": str(tmp_path / "in.json")},
        )
        built = (
            await async_driver.Builder()
            .with_modules(module)
            .with_materializers(from_.literal(target="settings", value={"b": 4}))
            .build()
        )
        return first, await built.execute(["doubled"])

    (metadata, extra), second = asyncio.run(run())
    assert json.loads((tmp_path / "out.json").read_text()) == {"a": 2}
    assert extra == {"settings": {"a": 1}}
    assert metadata["out"]["file_metadata"]["size"] == (tmp_path / "out.json").stat().st_size
    assert second == {"doubled": {"b": 8}}
