"""Write a sample orders dataset, then run the feature pipeline sequentially and on processes.

Usage: ``python examples/dataframes/run.py [rows]`` (default 200,000 rows). Prints the
summary of each run and whether they agree; ``--draw FILE.png`` also draws the dataflow.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

import order_pipeline
from order_data import write_orders

from cayley import driver
from cayley.execution import executors


def build(remote: executors.TaskExecutor) -> driver.Driver:
    """The pipeline's driver, its per-partition blocks running on ``remote``."""
    return (
        driver.Builder()
        .with_modules(order_pipeline)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(remote)
        .build()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=200_000)
    parser.add_argument("--draw", help="also draw the dataflow to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_orders(pathlib.Path(tmp) / "orders", args.rows)
        inputs = {"orders_path": path, "rows_per_partition": 50_000, "large_order": 100.0}
        runs = {
            "sequential": build(executors.SynchronousLocalTaskExecutor()),
            "2 processes": build(executors.MultiProcessingExecutor(max_tasks=2)),
        }
        summaries = {}
        for label, dr in runs.items():
            started = time.perf_counter()
            summaries[label] = dr.execute(["summary"], inputs=inputs)["summary"]
            elapsed = time.perf_counter() - started
            print(f"{label:>12}: {summaries[label]} ({elapsed:.2f} s)")
        if args.draw:
            runs["sequential"].display_all_functions(args.draw)
            print(f"dataflow drawn to {args.draw}")
    same = all(s == summaries["sequential"] for s in summaries.values())
    print(f"all runs agree: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
