"""Rows 12-13: fan-outs on a local Ray instance and a local Dask cluster, both engines.

Each row starts its own cluster of two single-CPU workers (Ray: ``num_cpus=2``; Dask: two
single-threaded worker processes), runs cayley and Hamilton on it in the same rounds, and
stops it. The dataflows are the ones of rows 6 and 9, written to files that the workers
import (Hamilton pickles functions by reference).

- a: per-item overhead of a trivial fan-out, (run − the same functions in a plain loop) /
  items, with the cluster warm;
- b: speedup of CPU-bound items over the engine's own synchronous run, timed back to back in
  quiet rounds (as row 9);
- c: cayley only: 8 MB arrays passed between two tasks per item, kept on the cluster
  against fetched through the driver.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dataflows
import harness
from dynamic_rows import paired_speedups, plain_fanout
from engines import CAYLEY, HAMILTON, Engine, ensure_cayley_importable
from report import DASH, Row, Settings, fmt, log, ratio_text, sampler

SPEEDUP_TARGET = 1.7

LARGE_SOURCE = '''
import numpy as np

from cayley.htypes import Collect, Parallelizable


def arrays(n_arrays: int, floats: int) -> Parallelizable[int]:
    """Yields 0 .. n_arrays - 1."""
    for i in range(n_arrays):
        yield i


def big(arrays: int, floats: int) -> np.ndarray:
    """An array of ``floats`` float64 values, made on a worker."""
    return np.full(floats, float(arrays))


def big_sum(big: np.ndarray) -> float:
    """Read by a second task of the same item."""
    return float(big.sum())


def big_total(big_sum: Collect[float]) -> float:
    """Sums the items."""
    return sum(big_sum)
'''


@dataclass
class Cluster:
    """A running cluster: executors of both engines on it."""

    name: str
    cayley_executor: Callable[..., Any]  # keyword arguments: keep_bytes
    hamilton_executor: Callable[[], Any] | None  # None: Hamilton's plugin cannot load
    hamilton_missing: str = ""


@contextlib.contextmanager
def flow_files() -> Iterator[Path]:
    """The dataflows as files in a directory that this process and the workers import from."""
    folder = Path(tempfile.mkdtemp(prefix="cayley_bench_cluster_"))
    for engine in (CAYLEY, HAMILTON):
        package = engine.package
        (folder / f"cluster_fanout_{package}.py").write_text(dataflows.fanout_source(package))
        (folder / f"cluster_work_{package}.py").write_text(dataflows.parallel_work_source(package))
    (folder / "cluster_large_cayley.py").write_text(LARGE_SOURCE)
    previous = os.environ.get("PYTHONPATH")
    root = str(ensure_cayley_importable())
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(folder), root] + ([previous] if previous else [])
    )
    sys.path.insert(0, str(folder))
    try:
        yield folder
    finally:
        sys.path.remove(str(folder))
        for name in list(sys.modules):
            if name.startswith("cluster_"):
                del sys.modules[name]
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def ray_cluster(settings: Settings) -> Iterator[Cluster]:
    """A local Ray instance of two CPUs."""
    import builtins

    import ray

    from cayley.plugins import h_ray

    hamilton_executor = None
    missing = ""
    if settings.hamilton:
        try:
            from hamilton.plugins import h_ray as hamilton_ray

            hamilton_executor = lambda: hamilton_ray.RayTaskExecutor(skip_init=True)  # noqa: E731
        except ImportError as exc:
            missing = f"n/a ({exc.name or exc} missing)"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    kept_print = builtins.print
    try:
        yield Cluster(
            "Ray",
            lambda **kwargs: h_ray.RayTaskExecutor(skip_init=True, **kwargs),
            hamilton_executor,
            missing,
        )
    finally:
        ray.shutdown()
        builtins.print = kept_print  # Ray swaps print for its own on shutdown


@contextlib.contextmanager
def dask_cluster(settings: Settings) -> Iterator[Cluster]:
    """A local Dask cluster of two single-threaded worker processes."""
    import logging

    from distributed import Client, LocalCluster

    from cayley.plugins import h_dask

    hamilton_executor = None
    missing = ""
    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    if settings.hamilton:
        try:
            from hamilton.plugins import h_dask as hamilton_dask

            hamilton_executor = lambda: hamilton_dask.DaskExecutor(client=client)  # noqa: E731
        except ImportError as exc:  # its module imports dask.dataframe and pyarrow
            missing = f"n/a ({exc.name or exc} missing)"
    try:
        yield Cluster(
            "Dask",
            lambda **kwargs: h_dask.DaskExecutor(client=client, **kwargs),
            hamilton_executor,
            missing,
        )
    finally:
        client.close()
        cluster.close()


def _driver(engine: Engine, module: Any, remote: Any, individually: bool = False) -> Any:
    """A dynamic driver of ``engine`` with blocks on ``remote``."""
    dr = engine.builder(module).enable_dynamic_execution(allow_experimental_mode=True)
    if individually:
        dr = dr.with_grouping_strategy(engine.module("execution.grouping").GroupNodesIndividually())
    executors = engine.module("execution.executors")
    return (
        dr.with_local_executor(executors.SynchronousLocalTaskExecutor())
        .with_remote_executor(remote)
        .build()
    )


def _executors(cluster: Cluster) -> dict[Engine, Any]:
    """One fresh executor per engine that can run on ``cluster``."""
    found = {CAYLEY: cluster.cayley_executor()}
    if cluster.hamilton_executor is not None:
        found[HAMILTON] = cluster.hamilton_executor()
    return found


def overhead_row(number: str, cluster: Cluster, settings: Settings) -> Row:
    """Per-item overhead of a trivial fan-out on the cluster, both engines, same rounds."""
    sizes = {CAYLEY: settings.cluster_items, HAMILTON: settings.cluster_hamilton_items}
    cases: dict[str, Callable[[], float]] = {}
    for engine, executor in _executors(cluster).items():
        module = importlib.import_module(f"cluster_fanout_{engine.package}")
        dr = _driver(engine, module, executor)
        n = sizes[engine]
        expected = n * (n + 1)

        def run(dr: Any = dr, n: int = n, expected: int = expected) -> None:
            if dr.execute(["total"], inputs={"n_items": n})["total"] != expected:
                raise AssertionError(f"wrong total over {n} items")

        cases[engine.label] = sampler(run, settings)
        baseline = plain_fanout(module)
        cases[f"{engine.label} plain loop"] = sampler(
            lambda baseline=baseline, n=n: baseline(n), settings
        )
    medians = {
        k: harness.median(v) for k, v in harness.interleave(cases, settings.cluster_rounds).items()
    }
    us = {
        engine.label: (medians[engine.label] - medians[f"{engine.label} plain loop"])
        / sizes[engine]
        * 1e6
        for engine in (CAYLEY, HAMILTON)
        if engine.label in medians
    }
    cayley, hamilton = us[CAYLEY.label], us.get(HAMILTON.label, math.nan)
    chunk_ms = cluster.cayley_executor().chunk_target_seconds * 1e3
    notes = [
        "(run − plain loop of the same functions) / items, cluster warm, median of "
        f"{settings.cluster_rounds} interleaved rounds",
        f"cayley {sizes[CAYLEY]:,} items batched into tasks of about {chunk_ms:.0f} ms",
    ]
    if settings.hamilton:
        notes.append(
            f"Hamilton {sizes[HAMILTON]:,} items, one task each (its scheduler's cost grows "
            "quadratically with items)"
        )
    return Row(
        number,
        f"{cluster.name}, trivial fan-out: overhead (µs/item)",
        fmt(cayley, "µs"),
        cluster.hamilton_missing or (fmt(hamilton, "µs") if settings.hamilton else DASH),
        ratio_text(hamilton, cayley),
        "faster than Hamilton",
        (cayley < hamilton) if not math.isnan(hamilton) else None,
        notes,
    )


def speedup_row(number: str, cluster: Cluster, settings: Settings) -> Row:
    """CPU-bound items on the two workers against the same engine's synchronous run."""
    iterations = dataflows.calibrate_burn(settings.parallel_work_s)
    n = settings.parallel_items
    expected = n * (n - 1) // 2
    pairs = {}
    for engine, executor in _executors(cluster).items():
        module = importlib.import_module(f"cluster_work_{engine.package}")
        runs = []
        for remote in (engine.executor("SynchronousLocalTaskExecutor"), executor):
            dr = _driver(engine, module, remote)

            def run(dr: Any = dr) -> None:
                inputs = {"n_items": n, "burn_iterations": iterations}
                if dr.execute(["cpu_total"], inputs=inputs)["cpu_total"] != expected:
                    raise AssertionError("wrong cpu_total")

            run()
            runs.append(run)
        pairs[engine.label] = (runs[0], runs[1])
    speedups = paired_speedups(pairs, settings)
    cayley = speedups[CAYLEY.label]
    hamilton = speedups.get(HAMILTON.label)
    kept = f"{cayley.kept}/{cayley.attempted}"
    return Row(
        number,
        f"{cluster.name}, {n} items × {settings.parallel_work_s * 1e3:.0f} ms pure-Python CPU "
        "on 2 workers: speedup vs sync",
        f"{cayley.value:.2f}×",
        cluster.hamilton_missing or (f"{hamilton.value:.2f}×" if hamilton else DASH),
        f"{cayley.value / hamilton.value:.3g}×" if hamilton else DASH,
        f"≥ {SPEEDUP_TARGET}×",
        cayley.value >= SPEEDUP_TARGET,
        [
            f"median of sync ÷ cluster timed back to back, the same quiet rounds³ for both "
            f"engines ({kept})"
        ],
    )


def keep_row(number: str, cluster: Cluster, settings: Settings) -> Row:
    """cayley: large per-item results kept on the cluster against fetched by the driver."""
    module = importlib.import_module("cluster_large_cayley")
    n, floats = settings.cluster_arrays, settings.cluster_array_floats
    expected = float(floats * sum(range(n)))
    cases = {}
    for label, keep_bytes in (("kept", None), ("not kept", 1 << 62)):
        executor = (
            cluster.cayley_executor()
            if keep_bytes is None
            else cluster.cayley_executor(keep_bytes=keep_bytes)
        )
        dr = _driver(CAYLEY, module, executor, individually=True)

        def run(dr: Any = dr) -> None:
            result = dr.execute(["big_total"], inputs={"n_arrays": n, "floats": floats})
            if result["big_total"] != expected:
                raise AssertionError("wrong big_total")

        cases[label] = sampler(run, settings)
    medians = {
        k: harness.median(v) for k, v in harness.interleave(cases, settings.cluster_rounds).items()
    }
    kept, not_kept = medians["kept"], medians["not kept"]
    return Row(
        number,
        f"{cluster.name}, {n} items × {floats * 8 / 1e6:.0f} MB array between two tasks, kept on "
        "the cluster (ms)",
        fmt(kept * 1e3, "ms"),
        "no equivalent" if settings.hamilton else DASH,
        target="faster than fetching through the driver",
        met=kept < not_kept,
        notes=[
            f"fetched through the driver (keep_bytes=2**62): {fmt(not_kept * 1e3, 'ms')}, "
            f"{not_kept / kept:.2f}× the kept time",
            f"median of {settings.cluster_rounds} interleaved rounds",
        ],
    )


def cluster_rows(
    number: str, name: str, start: Callable[[Settings], Any], settings: Settings
) -> list[Row]:
    """Rows ``<number>a``-``c`` on a freshly started cluster."""
    module = {"Ray": "ray", "Dask": "distributed"}[name]
    if importlib.util.find_spec(module) is None:
        return [Row(number, f"{name} rows", f"n/a ({module} not installed)", met=None)]
    with flow_files(), start(settings) as cluster:
        rows = []
        for suffix, make in (("a", overhead_row), ("b", speedup_row), ("c", keep_row)):
            log(f"  {name} {number}{suffix}")
            rows.append(make(f"{number}{suffix}", cluster, settings))
    return rows


def bench_ray(settings: Settings) -> list[Row]:
    """Rows 12a-c: Ray."""
    return cluster_rows("12", "Ray", ray_cluster, settings)


def bench_dask(settings: Settings) -> list[Row]:
    """Rows 13a-c: Dask."""
    return cluster_rows("13", "Dask", dask_cluster, settings)
