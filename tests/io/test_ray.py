"""``materialize`` on a local Ray instance: per-item loaders and savers run in Ray workers."""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cayley.io.materialization import to
from tests.io import dynamic_flow

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    """A local two-CPU Ray instance for this module."""
    with dynamic_flow.repository_on_pythonpath():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    kept = builtins.print
    ray.shutdown()
    builtins.print = kept  # Ray swaps print for its own on shutdown


def test_materialize_on_ray(ray_instance: Any, tmp_path: Path) -> None:
    from cayley.plugins import h_ray

    dr = dynamic_flow.dynamic(h_ray.RayTaskExecutor())
    pids = dynamic_flow.materialize(dr, tmp_path, 5)
    assert os.getpid() not in pids
    # a second run with another report path reuses nothing stale
    again, _ = dr.materialize(
        to.json(id="report", dependencies=["totals"], path=str(tmp_path / "again.json")),
        inputs={"folder": str(tmp_path), "n": 2},
    )
    assert json.loads((tmp_path / "again.json").read_text()) == {"grand": 0 + 1, "parts": 2}
    assert again["report"]["file_metadata"]["path"] == str(tmp_path / "again.json")
