"""Benchmarks cayley against Apache Hamilton in one run and prints a markdown table.

Every number is a median of interleaved repetitions: each round samples cayley and
Hamilton back to back (the order alternating between rounds), so both see the same machine
state. Ratios are Hamilton's cost divided by cayley's (above 1: cayley is faster).

Usage::

    python benchmarks/run.py --write-results  # full run; writes benchmarks/RESULTS.md
    python benchmarks/run.py                  # full run, the document to stdout only
    python benchmarks/run.py --quick          # smoke run: smaller sizes, fewer rounds
    python benchmarks/run.py --no-hamilton    # cayley only (Hamilton is never imported)
    python benchmarks/run.py --no-clusters    # without the Ray and Dask rows (12, 13)
    python benchmarks/run.py --rows 1,6       # selected rows only

Rows are registered in ``BENCHMARKS`` as ``(number, name, function)``; a row function takes
the run's :class:`~report.Settings` and returns :class:`~report.Row` objects. Rows run and
print in numeric order, whatever their order in the list.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import harness
from caching_rows import bench_cache_chain, bench_cache_fanout, bench_fingerprints
from cli_rows import bench_cli, bench_otel_fanout, bench_otel_noop, bench_otel_sdk
from cluster_rows import bench_dask, bench_ray
from core_rows import (
    bench_build,
    bench_chain,
    bench_decorators,
    bench_deep_chain,
    bench_hook,
    bench_import,
)
from dynamic_rows import (
    bench_dynamic_chain,
    bench_fanout,
    bench_parallel,
    bench_rss,
    bench_scheduler_cpu,
)
from engines import REPO_ROOT, ensure_cayley_importable, hamilton_available
from frames_rows import bench_check_output, bench_partitions, bench_with_columns
from io_rows import (
    bench_json_overhead,
    bench_load_csv,
    bench_load_parquet,
    bench_save_csv,
    bench_save_parquet,
)
from report import DASH, Row, Settings, log, render
from results import RESULTS_PATH, commit_text, machine_text, write_results
from tracking_rows import (
    bench_tracking_chain,
    bench_tracking_dynamic_chain,
    bench_tracking_fanout,
    bench_tracking_store_size,
)

BENCHMARKS: list[tuple[str, str, Callable[[Settings], list[Row]]]] = [
    ("1", "chain execute", bench_chain),
    ("2", "deep chain execute", bench_deep_chain),
    ("3", "chain execute with hook", bench_hook),
    ("4", "graph build", bench_build),
    ("5", "import time", bench_import),
    ("6", "fan-out overhead", bench_fanout),
    ("7", "fan-out peak RSS", bench_rss),
    ("8", "dynamic driver on a chain", bench_dynamic_chain),
    ("9", "parallel speedups", bench_parallel),
    ("10", "scheduler CPU while waiting", bench_scheduler_cpu),
    ("11", "decorated graph build", bench_decorators),
    ("12", "Ray: overhead, speedup, values kept on the cluster", bench_ray),
    ("13", "Dask: overhead, speedup, values kept on the cluster", bench_dask),
    ("20", "materialize to parquet", bench_save_parquet),
    ("21", "materialize to csv", bench_save_csv),
    ("22", "load parquet through from_", bench_load_parquet),
    ("23", "load csv through from_", bench_load_csv),
    ("24", "to.json overhead", bench_json_overhead),
    ("30", "cache: chain, warm and cold (rows 30-31)", bench_cache_chain),
    ("32", "cache: fingerprints (rows 32-33)", bench_fingerprints),
    ("34", "cache: warm fan-out", bench_cache_fanout),
    ("50", "run tracker on a chain", bench_tracking_chain),
    ("51", "run tracker on a dynamic chain", bench_tracking_dynamic_chain),
    ("52", "run tracker on fan-outs", bench_tracking_fanout),
    ("54", "run store growth", bench_tracking_store_size),
    ("40", "OpenTelemetry tracer, no-op provider", bench_otel_noop),
    ("41", "OpenTelemetry tracer, SDK provider", bench_otel_sdk),
    ("42", "OpenTelemetry tracer on a fan-out", bench_otel_fanout),
    ("43", "cayley run from the command line", bench_cli),
    ("60", "with_columns on a pandas DataFrame", bench_with_columns),
    ("62", "partitioned parquet fan-out", bench_partitions),
    ("64", "check_output with a pandera schema", bench_check_output),
]


#: Rows that start a Ray or Dask cluster (left out by ``--no-clusters``).
CLUSTER_ROWS = frozenset({"12", "13"})


def row_order(entry: tuple[str, str, Callable[[Settings], list[Row]]]) -> tuple[int, str]:
    """Sort key of a registry entry: its number, then any suffix (``9``, ``12``, ``20``)."""
    match = re.match(r"(\d+)(.*)", entry[0])
    return (int(match.group(1)), match.group(2)) if match else (10**9, entry[0])


def run_benchmarks(settings: Settings, selected: set[str] | None) -> Iterator[Row]:
    """Runs the selected benchmarks in numeric order; a failing one yields an error row.

    Each row's notes end with the share of the machine's CPU that other processes used
    while its benchmark ran.
    """
    for number, name, bench in sorted(BENCHMARKS, key=row_order):
        if selected is not None and number not in selected:
            continue
        log(f"[{number}] {name}")
        start = time.perf_counter()
        with harness.ForeignLoad() as load:
            try:
                rows = bench(settings)
            except Exception as exc:
                log(traceback.format_exc())
                message = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
                rows = [Row(number, name, "error", met=False, notes=[message])]
        if load.share is not None:
            for row in rows:
                row.notes.append(f"other processes: {load.share:.0%} CPU")
        log(f"    {time.perf_counter() - start:.1f} s")
        yield from rows


def load_text() -> str:
    """The 1-minute load average, or a dash where the platform has none."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return DASH


def context_lines(
    settings: Settings, command: str, elapsed: float, load_before: str, load_after: str
) -> list[str]:
    """Machine, versions, load and command of the run."""
    hamilton = (
        f"apache-hamilton {importlib.metadata.version('apache-hamilton')}"
        if settings.hamilton
        else "Hamilton not run"
    )
    lines = [
        f"- command: `{command}`",
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- commit: {commit_text()}",
        f"- machine: {machine_text()}",
        f"- cayley from {ensure_cayley_importable() / 'cayley'}; {hamilton}",
        f"- 1-minute load average: {load_before} at start, {load_after} at end; "
        f"total run time {elapsed:.0f} s",
        "- each figure: median of interleaved rounds (cayley and Hamilton alternate, the "
        "order flipping every round)",
    ]
    if settings.quick:
        lines.append("- **quick mode**: smaller sizes and fewer rounds; targets are indicative")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    parser.add_argument(
        "--no-hamilton", action="store_true", help="measure cayley only; never import Hamilton"
    )
    parser.add_argument(
        "--no-clusters", action="store_true", help="leave out the Ray and Dask rows (12, 13)"
    )
    parser.add_argument("--rows", help="comma-separated row numbers to run, e.g. 1,6,9")
    parser.add_argument("--list", action="store_true", help="list the registered rows and exit")
    parser.add_argument(
        "--write-results",
        nargs="?",
        const=str(RESULTS_PATH),
        metavar="PATH",
        help=f"also write the document to PATH (default {RESULTS_PATH.relative_to(REPO_ROOT)})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmarks and prints the markdown table; returns the exit status."""
    args = parse_args(argv)
    if args.list:
        for number, name, _ in sorted(BENCHMARKS, key=row_order):
            print(f"{number}\t{name}")
        return 0
    ensure_cayley_importable()
    with_hamilton = not args.no_hamilton and hamilton_available()
    if not args.no_hamilton and not with_hamilton:
        log("apache-hamilton is not installed: measuring cayley only")
    settings = (Settings.smoke if args.quick else Settings.full)(with_hamilton)
    selected = (
        {part.strip() for part in args.rows.split(",")}
        if args.rows
        else {number for number, _, _ in BENCHMARKS}
    )
    if args.no_clusters:
        selected -= CLUSTER_ROWS
    command = " ".join(["python benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])])
    load_before, start = load_text(), time.perf_counter()
    rows = list(run_benchmarks(settings, selected))
    elapsed = time.perf_counter() - start
    document = render(rows, context_lines(settings, command, elapsed, load_before, load_text()))
    print(document)
    if args.write_results:
        log(f"wrote {write_results(document, Path(args.write_results))}")
    return 1 if any(row.cayley == "error" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
