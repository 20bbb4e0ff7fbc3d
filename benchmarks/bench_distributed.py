"""Distributed execution: cayley's Ray and Dask executors against Apache Hamilton's.

Measures, on a local cluster of two single-CPU workers (Ray: ``num_cpus=2``; Dask: two
single-threaded worker processes):

1. per-item overhead of a fan-out of trivial items (``x + 1``), wall time divided by items,
   with the cluster already warm;
2. speedup of 64 pure-Python CPU items of about 20 ms each over running them synchronously;
3. for cayley, the effect of keeping large intermediate results on the cluster: 16 items
   passing an 8 MB array between two tasks, with and without keeping.

Hamilton submits one cluster task per item and its scheduler is quadratic in the number of
items, so its fan-out is measured on fewer items (``--hamilton-items``, 1,000 by default);
per-item figures stay comparable. Run as ``python benchmarks/bench_distributed.py``; needs
``pip install -e ".[bench]" ray "dask[distributed]"``. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import os
import pathlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FLOW = '''
"""Generated dataflow for bench_distributed (the same for cayley and Hamilton)."""
import numpy as np
from {package}.htypes import Collect, Parallelizable

SPIN = {spin}


def items(n: int) -> Parallelizable[int]:
    for i in range(n):
        yield i


def inc(items: int) -> int:
    return items + 1


def total(inc: Collect[int]) -> int:
    return sum(inc)


def cpu_items(n_cpu: int) -> Parallelizable[int]:
    for i in range(n_cpu):
        yield i


def burned(cpu_items: int) -> int:
    acc = 0
    for i in range(SPIN):
        acc = (acc + i * cpu_items) % 1000003
    return acc


def burned_total(burned: Collect[int]) -> int:
    return sum(burned)


def arrays(n_big: int) -> Parallelizable[int]:
    for i in range(n_big):
        yield i


def big(arrays: int) -> np.ndarray:
    return np.full(1_000_000, float(arrays))


def big_sum(big: np.ndarray) -> float:
    return float(big.sum())


def big_total(big_sum: Collect[float]) -> float:
    return sum(big_sum)
'''


def calibrate_spin(target: float = 0.020) -> int:
    """Loop iterations of ``burned`` taking about ``target`` seconds here."""
    spin = 200_000
    for _ in range(3):
        started = time.perf_counter()
        acc = 0
        for i in range(spin):
            acc = (acc + i * 3) % 1000003
        spin = max(1000, int(spin * target / (time.perf_counter() - started)))
    return spin


@contextlib.contextmanager
def flow_modules(spin: int) -> Iterator[tuple[Any, Any]]:
    """The dataflow as importable modules for cayley and Hamilton (workers import them)."""
    with tempfile.TemporaryDirectory(prefix="bench_distributed_") as folder:
        for package in ("cayley", "hamilton"):
            source = FLOW.format(package=package, spin=spin)
            pathlib.Path(folder, f"flow_{package}.py").write_text(source)
        sys.path.insert(0, folder)
        previous = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [folder, str(ROOT)] + ([previous] if previous else [])
        )
        try:
            yield importlib.import_module("flow_cayley"), importlib.import_module("flow_hamilton")
        finally:
            sys.path.remove(folder)
            if previous is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = previous


def timed(run: Callable[[], Any], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def cayley_driver(flow: Any, executor: Any, individually: bool = False) -> Any:
    from cayley import driver
    from cayley.execution.grouping import GroupNodesIndividually

    builder = driver.Builder().with_modules(flow).enable_dynamic_execution()
    builder = builder.with_remote_executor(executor)
    if individually:
        builder = builder.with_grouping_strategy(GroupNodesIndividually())
    return builder.build()


def hamilton_driver(flow: Any, executor: Any) -> Any:
    from hamilton import driver

    return (
        driver.Builder()
        .with_modules(flow)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(executor)
        .build()
    )


def sync_seconds(cayley_flow: Any) -> float:
    """The CPU workload run synchronously in this process (the speedup baseline)."""
    from cayley.execution.executors import SynchronousLocalTaskExecutor

    dr = cayley_driver(cayley_flow, SynchronousLocalTaskExecutor())
    return timed(lambda: dr.execute(["burned_total"], inputs={"n_cpu": 64}), repeat=2)


def measure(
    name: str,
    cayley_dr: Any,
    hamilton_dr: Any | str,
    items: int,
    hamilton_items: int,
    baseline: Callable[[], float],
    big: tuple[Any, Any] | None,
) -> list[dict[str, Any]]:
    """One engine's rows: per-item overhead, CPU speedup, keep-on-cluster effect.

    ``hamilton_dr`` is a message instead of a driver when Hamilton's plugin cannot load.
    """
    rows: list[dict[str, Any]] = []
    cayley_dr.execute(["total"], inputs={"n": 200})
    ours = timed(lambda: cayley_dr.execute(["total"], inputs={"n": items})) / items
    sync_cpu = baseline()
    ours_cpu = timed(lambda: cayley_dr.execute(["burned_total"], inputs={"n_cpu": 64}), 2)
    if isinstance(hamilton_dr, str):
        theirs_text = theirs_cpu_text = hamilton_dr
        ratio = ratio_cpu = "n/a"
    else:
        hamilton_dr.execute(["total"], inputs={"n": 50})
        theirs = timed(lambda: hamilton_dr.execute(["total"], inputs={"n": hamilton_items}), 1)
        theirs /= hamilton_items
        theirs_cpu = timed(lambda: hamilton_dr.execute(["burned_total"], inputs={"n_cpu": 64}), 1)
        theirs_text = f"{theirs * 1e6:,.0f} µs"
        theirs_cpu_text = f"{sync_cpu / theirs_cpu:.2f}× ({theirs_cpu:.2f} s)"
        ratio = f"Hamilton {theirs / ours:,.0f}× slower"
        ratio_cpu = f"cayley {theirs_cpu / ours_cpu:.2f}× faster"
    rows.append(
        {
            "engine": name,
            "measure": f"per-item overhead, trivial fan-out (cayley {items:,} items, "
            f"Hamilton {hamilton_items:,})",
            "cayley": f"{ours * 1e6:,.0f} µs",
            "hamilton": theirs_text,
            "ratio": ratio,
        }
    )
    rows.append(
        {
            "engine": name,
            "measure": f"speedup, 64 × 20 ms CPU items on 2 workers (sync: {sync_cpu:.2f} s)",
            "cayley": f"{sync_cpu / ours_cpu:.2f}× ({ours_cpu:.2f} s)",
            "hamilton": theirs_cpu_text,
            "ratio": ratio_cpu,
        }
    )
    if big is not None:
        kept_dr, unkept_dr = big
        kept = timed(lambda: kept_dr.execute(["big_total"], inputs={"n_big": 16}), 2)
        unkept = timed(lambda: unkept_dr.execute(["big_total"], inputs={"n_big": 16}), 2)
        rows.append(
            {
                "engine": name,
                "measure": "16 items × 8 MB array between two tasks: kept on cluster vs "
                "through the driver (cayley only)",
                "cayley": f"{kept:.2f} s kept",
                "hamilton": f"{unkept:.2f} s not kept",
                "ratio": f"keeping {unkept / kept:.2f}× faster",
            }
        )
    return rows


def bench_ray(
    cayley_flow: Any,
    hamilton_flow: Any,
    items: int,
    hamilton_items: int,
    baseline: Callable[[], float],
) -> list[dict[str, Any]]:
    import ray
    from hamilton.plugins import h_ray as hamilton_ray

    from cayley.plugins import h_ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ours = cayley_driver(cayley_flow, h_ray.RayTaskExecutor(skip_init=True))
        theirs = hamilton_driver(hamilton_flow, hamilton_ray.RayTaskExecutor(skip_init=True))
        big = (
            cayley_driver(cayley_flow, h_ray.RayTaskExecutor(skip_init=True), True),
            cayley_driver(
                cayley_flow, h_ray.RayTaskExecutor(skip_init=True, keep_bytes=1 << 62), True
            ),
        )
        return measure("Ray", ours, theirs, items, hamilton_items, baseline, big)
    finally:
        ray.shutdown()


def bench_dask(
    cayley_flow: Any,
    hamilton_flow: Any,
    items: int,
    hamilton_items: int,
    baseline: Callable[[], float],
) -> list[dict[str, Any]]:
    import logging

    from distributed import Client, LocalCluster

    from cayley.plugins import h_dask

    try:
        from hamilton.plugins import h_dask as hamilton_dask
    except ImportError as exc:  # its module imports dask.dataframe, which needs pyarrow
        hamilton_dask = None
        missing = f"n/a ({exc.name or exc} missing)"

    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    try:
        ours = cayley_driver(cayley_flow, h_dask.DaskExecutor(client=client))
        theirs = (
            hamilton_driver(hamilton_flow, hamilton_dask.DaskExecutor(client=client))
            if hamilton_dask is not None
            else missing
        )
        big = (
            cayley_driver(cayley_flow, h_dask.DaskExecutor(client=client), True),
            cayley_driver(
                cayley_flow, h_dask.DaskExecutor(client=client, keep_bytes=1 << 62), True
            ),
        )
        return measure("Dask", ours, theirs, items, hamilton_items, baseline, big)
    finally:
        client.close()
        cluster.close()


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a markdown table."""
    header = "| engine | measure | cayley | Hamilton 1.90 | ratio |\n|---|---|---:|---:|---|"
    lines = [
        f"| {r['engine']} | {r['measure']} | {r['cayley']} | {r['hamilton']} | {r['ratio']} |"
        for r in rows
    ]
    return "\n".join([header, *lines])


def main() -> None:
    """Runs the benchmarks and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--hamilton-items", type=int, default=1_000)
    parser.add_argument("--engines", default="ray,dask")
    args = parser.parse_args()
    spin = calibrate_spin()
    rows: list[dict[str, Any]] = []
    with flow_modules(spin) as (cayley_flow, hamilton_flow):
        baseline = functools.partial(sync_seconds, cayley_flow)
        for engine in args.engines.split(","):
            bench = {"ray": bench_ray, "dask": bench_dask}[engine.strip()]
            started = time.perf_counter()
            rows.extend(
                bench(cayley_flow, hamilton_flow, args.items, args.hamilton_items, baseline)
            )
            print(f"{engine}: measured in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}.\n")
    print(table(rows))


if __name__ == "__main__":
    main()
