"""Partitioned ``with_columns`` on a real local Ray instance: task executor and graph adapter."""

from __future__ import annotations

import builtins

import pandas as pd
import pytest

ray = pytest.importorskip("ray")

from cayley import ad_hoc_utils, base, driver  # noqa: E402
from cayley.plugins import h_ray  # noqa: E402
from tests.dataframes.conftest import (  # noqa: E402
    FANOUT_FLOW,
    FEATURES_FLOW,
    LARGE_ORDER,
    example_on_pythonpath,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def ray_instance():
    """A one-CPU local Ray instance for the module."""
    if ray.is_initialized():
        pytest.skip("Ray is already running in this session")
    with example_on_pythonpath():
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield ray
    kept = builtins.print
    ray.shutdown()
    builtins.print = kept  # Ray swaps print for its own on shutdown


def test_partitioned_with_columns_on_ray(ray_instance, pipeline_inputs, expected) -> None:
    dr = (
        driver.Builder()
        .with_modules(ad_hoc_utils.module_from_source(FANOUT_FLOW))
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(h_ray.RayTaskExecutor())
        .build()
    )
    result = dr.execute(["all_features"], inputs=pipeline_inputs)
    pd.testing.assert_frame_equal(result["all_features"], expected[0])


def test_with_columns_nodes_on_the_ray_graph_adapter(ray_instance, orders_path, expected) -> None:
    adapter = h_ray.RayGraphAdapter(result_builder=base.DictResult())
    flow = ad_hoc_utils.module_from_source(FEATURES_FLOW)
    dr = driver.Builder().with_modules(flow).with_adapters(adapter).build()
    inputs = {"orders_path": orders_path, "large_order": LARGE_ORDER}
    pd.testing.assert_frame_equal(dr.execute(["features"], inputs=inputs)["features"], expected[0])
