"""Partitioned ``with_columns`` on a real local Dask cluster: task executor and graph adapter."""

from __future__ import annotations

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from distributed import Client, LocalCluster  # noqa: E402

from cayley import ad_hoc_utils, base, driver  # noqa: E402
from cayley.plugins import h_dask  # noqa: E402
from tests.dataframes.conftest import (  # noqa: E402
    FANOUT_FLOW,
    FEATURES_FLOW,
    LARGE_ORDER,
    example_on_pythonpath,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def dask_client():
    """One single-threaded worker process for the module."""
    with example_on_pythonpath():
        cluster = LocalCluster(
            n_workers=1, processes=True, threads_per_worker=1, dashboard_address=None
        )
        client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_partitioned_with_columns_on_dask(dask_client, pipeline_inputs, expected) -> None:
    dr = (
        driver.Builder()
        .with_modules(ad_hoc_utils.module_from_source(FANOUT_FLOW))
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(h_dask.DaskExecutor(client=dask_client))
        .build()
    )
    result = dr.execute(["all_features"], inputs=pipeline_inputs)
    pd.testing.assert_frame_equal(result["all_features"], expected[0])


def test_with_columns_nodes_on_the_dask_graph_adapter(dask_client, orders_path, expected) -> None:
    adapter = h_dask.DaskGraphAdapter(dask_client, result_builder=base.DictResult())
    flow = ad_hoc_utils.module_from_source(FEATURES_FLOW)
    dr = driver.Builder().with_modules(flow).with_adapters(adapter).build()
    inputs = {"orders_path": orders_path, "large_order": LARGE_ORDER}
    pd.testing.assert_frame_equal(dr.execute(["features"], inputs=inputs)["features"], expected[0])
