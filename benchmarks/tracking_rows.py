"""Rows 50-54: what recording runs with ``cayley.tracking.RunTracker`` costs.

Each figure compares the same driver with and without a tracker, run back to back in
interleaved rounds; the tracked run includes storing the run (``execute`` returns once the
run is in the database). Each tracked driver records into its own fresh file.

Hamilton has no local run tracker to put beside it: its tracker (``hamilton-sdk``) sends
runs to the Hamilton UI server, so the Hamilton column stays empty.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import dataflows
import harness
from engines import CAYLEY
from report import Row, Settings, fmt, sampler

NO_HAMILTON = "Hamilton's tracker needs the Hamilton UI server: nothing local to compare"


@contextmanager
def store_dir() -> Iterator[str]:
    """A scratch directory for run stores, removed afterwards."""
    path = tempfile.mkdtemp(prefix="cayley-bench-runs-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def tracker(directory: str, name: str) -> Any:
    """A RunTracker recording into ``directory/name.db``."""
    from cayley.tracking import RunTracker

    return RunTracker(os.path.join(directory, f"{name}.db"), project="bench")


def tracked_and_plain(
    settings: Settings, build: Callable[[tuple[Any, ...]], Any], run: Callable[[Any], None]
) -> tuple[float, float]:
    """Median seconds per run of the driver without and with a tracker."""
    with store_dir() as directory:
        recorder = tracker(directory, "run")
        drivers = {"plain": build(()), "tracked": build((recorder,))}
        cases = {label: sampler(lambda dr=dr: run(dr), settings) for label, dr in drivers.items()}
        medians = {
            k: harness.median(v) for k, v in harness.interleave(cases, settings.rounds).items()
        }
        recorder.close()
    return medians["plain"], medians["tracked"]


def chain_overhead_us(settings: Settings, dynamic: bool) -> tuple[float, float]:
    """(tracker overhead, untracked time) in µs per node of a chain."""
    n = settings.chain_length
    module = CAYLEY.module_from_source(dataflows.chain_source(n))
    output = f"n_{n - 1}"

    def build(adapters: tuple[Any, ...]) -> Any:
        builder = CAYLEY.builder(module).with_adapters(*adapters)
        if dynamic:
            executors = CAYLEY.module("execution.executors")
            builder = (
                builder.enable_dynamic_execution()
                .with_local_executor(executors.SynchronousLocalTaskExecutor())
                .with_remote_executor(executors.SynchronousLocalTaskExecutor())
            )
        return builder.build()

    def run(dr: Any) -> None:
        if dr.execute([output], inputs={"x": 0})[output] != n:
            raise AssertionError(f"{output} is wrong")

    plain, tracked = tracked_and_plain(settings, build, run)
    return (tracked - plain) / n * 1e6, plain / n * 1e6


def fanout_sizes(settings: Settings) -> tuple[int, ...]:
    """Items per run for the per-item rows."""
    return (10**3, 10**4) if settings.quick else (10**4, 10**5)


def fanout_overhead_us(settings: Settings, n: int) -> tuple[float, float]:
    """(tracker overhead, untracked time) in µs per item of a synchronous fan-out."""
    module = CAYLEY.module_from_source(dataflows.fanout_source(CAYLEY.package))
    expected = n * (n + 1)

    def build(adapters: tuple[Any, ...]) -> Any:
        executors = CAYLEY.module("execution.executors")
        return (
            CAYLEY.builder(module)
            .with_adapters(*adapters)
            .enable_dynamic_execution()
            .with_local_executor(executors.SynchronousLocalTaskExecutor())
            .with_remote_executor(executors.SynchronousLocalTaskExecutor())
            .build()
        )

    def run(dr: Any) -> None:
        if dr.execute(["total"], inputs={"n_items": n})["total"] != expected:
            raise AssertionError(f"sum over {n} items is wrong")

    plain, tracked = tracked_and_plain(settings, build, run)
    return (tracked - plain) / n * 1e6, plain / n * 1e6


def chain_row(settings: Settings, number: str, dynamic: bool) -> Row:
    overhead, plain = chain_overhead_us(settings, dynamic)
    kind = "dynamic driver" if dynamic else "plain driver"
    return Row(
        number,
        f"RunTracker on a {settings.chain_length:,}-node chain, {kind}: overhead (µs/node)",
        fmt(overhead, "µs"),
        target="≤ 10 µs/node",
        met=overhead <= 10,
        notes=[f"untracked: {fmt(plain, 'µs')}/node", NO_HAMILTON],
    )


def bench_tracking_chain(settings: Settings) -> list[Row]:
    """Row 50: tracker overhead per node, plain driver."""
    return [chain_row(settings, "50", dynamic=False)]


def bench_tracking_dynamic_chain(settings: Settings) -> list[Row]:
    """Row 51: tracker overhead per node, dynamic driver (the chain is one task)."""
    return [chain_row(settings, "51", dynamic=True)]


def bench_tracking_fanout(settings: Settings) -> list[Row]:
    """Rows 52-53: tracker overhead per fan-out item at two sizes."""
    rows = []
    for number, n in zip(("52", "53"), fanout_sizes(settings)):
        overhead, plain = fanout_overhead_us(settings, n)
        rows.append(
            Row(
                number,
                f"RunTracker on a sync fan-out of {n:,} items (2-node block): overhead (µs/item)",
                fmt(overhead, "µs"),
                target="≤ 5 µs/item",
                met=overhead <= 5,
                notes=[
                    f"untracked: {fmt(plain, 'µs')}/item (the functions included)",
                    "dataflow of row 6",
                    NO_HAMILTON,
                ],
            )
        )
    return rows


def store_bytes(path: str) -> int:
    """Size of a SQLite store once its write-ahead log is folded into the file."""
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return os.path.getsize(path)


def bench_tracking_store_size(settings: Settings) -> list[Row]:
    """Row 54: store growth per run as fan-outs grow (items are summarised)."""
    module = CAYLEY.module_from_source(dataflows.fanout_source(CAYLEY.package))
    executors = CAYLEY.module("execution.executors")
    runs = 3
    growth: dict[int, float] = {}
    with store_dir() as directory:
        for n in fanout_sizes(settings):
            recorder = tracker(directory, f"size-{n}")
            dr = (
                CAYLEY.builder(module)
                .with_adapters(recorder)
                .enable_dynamic_execution()
                .with_local_executor(executors.SynchronousLocalTaskExecutor())
                .with_remote_executor(executors.SynchronousLocalTaskExecutor())
                .build()
            )
            dr.execute(["total"], inputs={"n_items": n})
            before = store_bytes(recorder.path)
            for _ in range(runs):
                dr.execute(["total"], inputs={"n_items": n})
            recorder.close()
            growth[n] = (store_bytes(recorder.path) - before) / runs
    small, large = sorted(growth)
    per_run = growth[large] / 1024
    ratio = growth[large] / growth[small] if growth[small] > 0 else math.inf
    return [
        Row(
            "54",
            f"Run store growth per run, fan-out of {large:,} items (KiB/run)",
            fmt(per_run, "KiB"),
            target="≤ 512 KiB/run, ≤ 1.25× the growth at 10× fewer items",
            met=per_run <= 512 and ratio <= 1.25,
            notes=[
                f"{small:,} items: {fmt(growth[small] / 1024, 'KiB')}/run ({ratio:.2f}×)",
                "items past the per-node detail limit are summarised",
                NO_HAMILTON,
            ],
        )
    ]
