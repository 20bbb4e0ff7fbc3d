"""``materialize`` on the dynamic driver (threads, processes, a local Dask cluster) and the
async driver: loaders and savers are nodes, so they run wherever their block runs."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from cayley import async_driver
from cayley.execution import executors
from cayley.io.materialization import from_, to
from tests.io import dynamic_flow
from tests.io.helpers import module_of


def test_materialize_on_threads(tmp_path: Path) -> None:
    pids = dynamic_flow.materialize(
        dynamic_flow.dynamic(executors.MultiThreadingExecutor(2)), tmp_path, 5
    )
    assert pids == {os.getpid()}


def test_materialize_on_processes(tmp_path: Path) -> None:
    with dynamic_flow.repository_on_pythonpath():
        pids = dynamic_flow.materialize(
            dynamic_flow.dynamic(executors.MultiProcessingExecutor(2, start_method="fork")),
            tmp_path,
            6,
        )
    assert os.getpid() not in pids  # the per-item loaders and savers ran in the workers


def test_materialize_on_a_local_dask_cluster(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from cayley.plugins import h_dask

    with dynamic_flow.repository_on_pythonpath():
        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        )
        client = distributed.Client(cluster)
    try:
        pids = dynamic_flow.materialize(
            dynamic_flow.dynamic(h_dask.DaskExecutor(client=client)), tmp_path, 4
        )
        assert os.getpid() not in pids
        # from_ on the cluster: the items come from another folder, chosen at materialize time
        other = tmp_path / "other"
        other.mkdir()
        (other / "names.json").write_text(json.dumps({"values": [5]}))
        dr = dynamic_flow.dynamic(h_dask.DaskExecutor(client=client))
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
