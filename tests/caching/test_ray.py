"""The cache on a local Ray instance: workers read and write the cache directory."""

from __future__ import annotations

import builtins

import pytest

from tests.caching.cluster_flow import check_cold_then_warm, repository_on_pythonpath

ray = pytest.importorskip("ray")

from cayley.plugins import h_ray  # noqa: E402

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def ray_instance():
    """One local two-CPU Ray instance for the module."""
    with repository_on_pythonpath():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    kept = builtins.print
    ray.shutdown()
    builtins.print = kept  # Ray swaps print for its own on shutdown


def test_fan_out_on_ray_is_cached_per_item(ray_instance, tmp_path):
    check_cold_then_warm(h_ray.RayTaskExecutor(), tmp_path)
