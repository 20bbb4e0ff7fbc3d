"""Rows 62-63 in a fresh interpreter: a partitioned parquet fan-out, sequential vs 2 processes.

Usage: ``python benchmarks/frames_probe.py [--quick] [--no-hamilton]``. Writes a parquet
dataset (10,000,000 rows of a key and 7 float columns in 500,000-row groups; 200,000 rows
in 20,000-row groups with ``--quick``) to a temporary directory, then times the same
dataflow with its partitions run in this process and on 2 worker processes, and records how
much each worker's resident memory grew while it processed partitions. Prints one JSON
object.

Each partition is loaded, given 3 columns by ``with_columns``, and reduced to sums per key;
the per-partition sums are concatenated and summed. Memory is read in the workers
themselves: the block's first node notes ``VmRSS`` and resets the peak mark
(``/proc/self/clear_refs``), its last node reads ``VmHWM``. Before its first partition a
worker runs the same steps on a 100-row file, so the baseline includes the code those steps
load on first use.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from dynamic_rows import paired_speedups
from engines import CAYLEY, HAMILTON, ensure_cayley_importable, hamilton_available
from report import Settings

VALUES = 7

COLUMNS = """
import numpy as np
import pandas as pd

def ratio(v0: pd.Series, v1: pd.Series) -> pd.Series:
    return v0 / (v1 + 1.0)

def score(ratio: pd.Series, v2: pd.Series, v3: pd.Series) -> pd.Series:
    return np.log1p(ratio) * v2 - v3

def flagged(score: pd.Series) -> pd.Series:
    return score > 0.0
"""


def flow_source(package: str, columns_module: str) -> str:
    """The partitioned dataflow; partitions come from cayley's helper for both engines."""
    return f"""
import os
from pathlib import Path
import pandas as pd
from {package}.htypes import Collect, Parallelizable
from {package}.plugins import h_pandas
from cayley.plugins.h_pandas import Partition, partitions
import {columns_module} as columns

def _status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0

def partition(path: str, rows: int) -> Parallelizable[Partition]:
    yield from partitions(path, rows=rows)

_WARM = []

def _warm_up(warm_path):
    # Runs every step once on a 100-row file, so that code loaded on first use (pyarrow's
    # reader, pandas' group-by) is in the baseline rather than counted as partition memory.
    (tiny,) = partitions(warm_path)
    frame = tiny.load()
    ratio = columns.ratio(frame["v0"], frame["v1"])
    score = columns.score(ratio, frame["v2"], frame["v3"])
    frame.assign(ratio=ratio, score=score, flagged=columns.flagged(score)).groupby("key").agg(
        score=("score", "sum"), flagged=("flagged", "sum"), rows=("ratio", "size")
    )
    _WARM.append(True)

def rss_before(partition: Partition, warm_path: str) -> int:
    if not _WARM:
        _warm_up(warm_path)
    rss = _status("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return rss

def loaded(partition: Partition, rss_before: int) -> pd.DataFrame:
    return partition.load()

@h_pandas.with_columns(
    columns, columns_to_pass=["v0", "v1", "v2", "v3"], select=["ratio", "score", "flagged"]
)
def features(loaded: pd.DataFrame) -> pd.DataFrame:
    return loaded

def per_key(features: pd.DataFrame) -> pd.DataFrame:
    return features.groupby("key").agg(
        score=("score", "sum"), flagged=("flagged", "sum"), rows=("ratio", "size")
    )

def memory(per_key: pd.DataFrame, rss_before: int) -> tuple:
    return (os.getpid(), rss_before, _status("VmHWM"))

def totals(per_key: Collect[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(per_key).groupby(level=0).sum()

def memories(memory: Collect[tuple]) -> list:
    return list(memory)
"""


def write_dataset(path: Path, rows: int, group_rows: int) -> None:
    """``rows`` rows (an int64 key and float columns) in row groups of ``group_rows``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(11)
    fields = [("key", pa.int64())] + [(f"v{i}", pa.float64()) for i in range(VALUES)]
    schema = pa.schema(fields)
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, group_rows):
            n = min(group_rows, rows - start)
            arrays = [pa.array(rng.integers(0, 1000, n))]
            arrays += [pa.array(rng.random(n)) for _ in range(VALUES)]
            writer.write_table(pa.table(arrays, schema=schema), row_group_size=group_rows)


def pool_work(partition: Any) -> Any:
    """One partition's work without any dataflow engine (the same steps as the flow)."""
    import numpy as np

    frame = partition.load()
    ratio = frame["v0"] / (frame["v1"] + 1.0)
    score = np.log1p(ratio) * frame["v2"] - frame["v3"]
    features = frame.assign(ratio=ratio, score=score, flagged=score > 0.0)
    return features.groupby("key").agg(
        score=("score", "sum"), flagged=("flagged", "sum"), rows=("ratio", "size")
    )


def pool_reference(path: str, group_rows: int) -> tuple[Any, Any]:
    """The same work in a plain loop and on a bare fork ``multiprocessing.Pool(2)``.

    The pool's speedup is what the machine allows for this work with no engine at all; the
    pool starts inside the timing, as the executor's workers do.
    """
    import multiprocessing

    from cayley.plugins import h_pandas

    parts = list(h_pandas.partitions(path, rows=group_rows))
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)

    def serial() -> None:
        for part in parts:
            pool_work(part)

    def parallel() -> None:
        with context.Pool(2) as pool:
            pool.map(pool_work, parts, chunksize=1)

    return serial, parallel


def build(engine: Any, flow: Any, remote: Any) -> Any:
    """A dynamic driver running ``flow``'s blocks on ``remote``."""
    return engine.build_dynamic(flow, remote)


def worker_memory(memories: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Per worker: resident bytes before its first partition, and its peak resident bytes."""
    by_pid: dict[int, tuple[int, int]] = {}
    for pid, before, peak in memories:
        low, high = by_pid.get(pid, (before, peak))
        by_pid[pid] = (min(low, before), max(high, peak))
    return list(by_pid.values())


def partition_peaks(memories: list[tuple[int, int, int]]) -> tuple[int, int]:
    """The highest peak RSS while a worker ran its first partition, and while it ran a later
    one (the peak mark is reset at each partition's start)."""
    first: dict[int, int] = {}
    later = 0
    for pid, _, peak in memories:
        if pid not in first:
            first[pid] = peak
        else:
            later = max(later, peak)
    return max(first.values(), default=0), later


def hamilton_attempt(path: str, inputs: dict[str, Any], expected: Any) -> dict[str, Any]:
    """The same dataflow on Hamilton's 2-process executor: its speedup, or why it fails."""
    flow = HAMILTON.module_from_source(
        flow_source("hamilton", HAMILTON.module_from_source(COLUMNS).__name__)
    )
    try:
        parallel = build(HAMILTON, flow, HAMILTON.executor("MultiProcessingExecutor", 2))
        result = parallel.execute(["totals"], inputs=inputs)["totals"]
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"}
    if not result.equals(expected):
        return {"error": "wrong result"}
    sequential = build(HAMILTON, flow, HAMILTON.executor("SynchronousLocalTaskExecutor"))
    speedup = paired_speedups(
        {
            "hamilton": (
                lambda: sequential.execute(["totals"], inputs=inputs),
                lambda: parallel.execute(["totals"], inputs=inputs),
            )
        },
        Settings.smoke(True),
    )["hamilton"]
    return {"speedup": speedup.value}


def main(argv: list[str] | None = None) -> None:
    """Writes the dataset, measures, prints the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-hamilton", action="store_true")
    args = parser.parse_args(argv)
    ensure_cayley_importable()
    settings = (Settings.smoke if args.quick else Settings.full)(False)
    rows, group_rows = (200_000, 20_000) if args.quick else (10_000_000, 500_000)
    workers = 2
    from cayley.plugins import h_pandas

    with tempfile.TemporaryDirectory(prefix="cayley-frames-") as tmp:
        path = str(Path(tmp) / "dataset.parquet")
        write_dataset(Path(path), rows, group_rows)
        warm_path = str(Path(tmp) / "warm.parquet")
        write_dataset(Path(warm_path), 100, 100)
        inputs = {"path": path, "rows": group_rows, "warm_path": warm_path}
        partition_bytes = int(
            next(h_pandas.partitions(path, rows=group_rows)).load().memory_usage(deep=True).sum()
        )
        flow = CAYLEY.module_from_source(
            flow_source("cayley", CAYLEY.module_from_source(COLUMNS).__name__)
        )
        sequential = build(CAYLEY, flow, CAYLEY.executor("SynchronousLocalTaskExecutor"))
        parallel = build(
            CAYLEY, flow, CAYLEY.executor("MultiProcessingExecutor", max_tasks=workers)
        )
        expected = sequential.execute(["totals"], inputs=inputs)["totals"]
        measured = parallel.execute(["totals", "memories"], inputs=inputs)
        workers_memory = worker_memory(measured["memories"])
        if not measured["totals"].equals(expected):
            raise AssertionError("the parallel run's totals differ from the sequential run's")
        if int(expected["rows"].sum()) != rows:
            raise AssertionError(f"{int(expected['rows'].sum())} rows summed, not {rows}")
        timings: dict[str, list[float]] = {"sequential": [], "parallel": []}

        def timed(label: str, dr: Any) -> Any:
            def run() -> None:
                started = time.perf_counter()
                dr.execute(["totals"], inputs=inputs)
                timings[label].append(time.perf_counter() - started)

            return run

        speedups = paired_speedups(
            {
                "cayley": (timed("sequential", sequential), timed("parallel", parallel)),
                "pool": pool_reference(path, group_rows),
            },
            settings,
        )
        speedup = speedups["cayley"]
        hamilton: dict[str, Any] = {}
        if not args.no_hamilton and hamilton_available():
            hamilton = hamilton_attempt(path, inputs, expected)
    print(
        json.dumps(
            {
                "rows": rows,
                "partitions": rows // group_rows,
                "workers": workers,
                "speedup": speedup.value,
                "pool_speedup": speedups["pool"].value,
                "kept": speedup.kept,
                "attempted": speedup.attempted,
                "sequential_s": statistics.median(timings["sequential"]),
                "parallel_s": statistics.median(timings["parallel"]),
                "partition_bytes": partition_bytes,
                "worker_growth_bytes": [high - low for low, high in workers_memory],
                "worker_peak_bytes": [high for _, high in workers_memory],
                "partition_peaks_bytes": partition_peaks(measured["memories"]),
                "hamilton": hamilton,
            }
        )
    )


if __name__ == "__main__":
    main()
