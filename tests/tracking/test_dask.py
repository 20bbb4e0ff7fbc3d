"""Runs on a Dask cluster are recorded: workers hand their records back after each task.

One small in-process cluster (one worker thread): the tracker copies travel pickled with
the tasks as they would to remote workers, and their reports come back the same way.
"""

from __future__ import annotations

import pytest

from cayley import driver
from cayley.tracking import RunTracker
from tests.tracking import flows
from tests.tracking.conftest import nodes_of

distributed = pytest.importorskip("distributed")
h_dask = pytest.importorskip("cayley.plugins.h_dask")


def test_a_fan_out_on_dask_is_recorded_with_its_items_and_workers(store_path, store):
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    client = distributed.Client(cluster)
    tracker = RunTracker(store_path, project="dask")
    try:
        dr = (
            driver.Builder()
            .with_modules(flows)
            .with_adapters(tracker)
            .enable_dynamic_execution()
            .with_remote_executor(h_dask.DaskExecutor(client=client))
            .build()
        )
        assert dr.execute(["joined"], inputs={"n": 7, "bad_item": -1})["joined"].count("#") == 7
        with pytest.raises(ValueError, match="item 2 is bad"):
            dr.execute(["joined"], inputs={"n": 7, "bad_item": 2})
    finally:
        tracker.close()
        client.close()
        cluster.close()
    runs = store.list_runs(project="dask")
    assert [run["status"] for run in runs] == ["failed", "success"]
    succeeded = store.run(runs[1]["run_id"])
    squared = nodes_of(succeeded)["squared"]
    assert (squared["status"], squared["items"]["done"], squared["items"]["total"]) == (
        "success",
        7,
        7,
    )
    workers = {lane["worker"] for lane in succeeded["timeline"]["workers"]}
    assert any("Dask" in worker for worker in workers), workers
    failed = store.run(runs[0]["run_id"])
    assert (failed["error"]["node"], failed["error"]["item"]) == ("squared", "item 2 of 'items'")
