"""The cache on a local Dask cluster: workers read and write the cache directory."""

from __future__ import annotations

import pytest

from tests.caching.cluster_flow import check_cold_then_warm, repository_on_pythonpath

distributed = pytest.importorskip("distributed")

from distributed import Client, LocalCluster  # noqa: E402

from cayley.plugins import h_dask  # noqa: E402

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def dask_client():
    """A local cluster of two single-threaded worker processes for the module."""
    with repository_on_pythonpath():
        cluster = LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        )
        client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_fan_out_on_dask_is_cached_per_item(dask_client, tmp_path):
    check_cold_then_warm(h_dask.DaskExecutor(client=dask_client), tmp_path)
