"""Differential fuzzing on a local Ray instance and a local Dask cluster (smaller samples).

The same generated dataflows and requests as ``test_differential.py``; each module starts
one cluster and every example reuses it. Generated modules have no file, so they reach the
workers by value.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import pathlib
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.proving import engines
from tests.proving.strategies import FULL, cases, fuzz_settings

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(240)


@contextlib.contextmanager
def checkout_on_pythonpath() -> Iterator[None]:
    """Worker processes started meanwhile import cayley from this checkout."""
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([previous] if previous else []))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


@pytest.fixture(scope="module")
def ray_executor():
    """A two-CPU local Ray instance for the module, and one executor on it."""
    import ray

    from cayley.plugins import h_ray

    with checkout_on_pythonpath():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield h_ray.RayTaskExecutor(skip_init=True)
    finally:
        kept = builtins.print
        ray.shutdown()
        builtins.print = kept  # Ray swaps print for its own on shutdown


@pytest.fixture(scope="module")
def dask_executor():
    """A local cluster of two single-threaded worker processes, and one executor on it."""
    from distributed import Client, LocalCluster

    from cayley.plugins import h_dask

    with checkout_on_pythonpath():
        cluster = LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        )
        client = Client(cluster)
    try:
        yield h_dask.DaskExecutor(client=client)
    finally:
        client.close()
        cluster.close()


def test_fan_outs_agree_on_ray(ray_executor):
    @fuzz_settings(40)
    @given(cases(FULL), st.booleans())
    def agree(case, everything_remote):
        flow, request = case
        module = engines.module_of(flow)
        label = "Ray" + (", every task" if everything_remote else "")
        dr = engines.dynamic_driver(module, ray_executor, everything_remote=everything_remote)
        engines.check(flow, request, {label: dr})

    agree()


def test_fan_outs_agree_on_dask(dask_executor):
    @fuzz_settings(40)
    @given(cases(FULL), st.booleans())
    def agree(case, everything_remote):
        flow, request = case
        module = engines.module_of(flow)
        label = "Dask" + (", every task" if everything_remote else "")
        dr = engines.dynamic_driver(module, dask_executor, everything_remote=everything_remote)
        engines.check(flow, request, {label: dr})

    agree()
