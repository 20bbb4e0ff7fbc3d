"""Rows 6-10: dynamic execution (fan-out overhead, memory, executors, scheduler CPU)."""

from __future__ import annotations

import json
import math
import multiprocessing
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dataflows
import harness
from engines import CAYLEY, HAMILTON
from report import DASH, DEEP_STACK, EXECUTE_ONLY, Row, Settings, fmt, log, ratio_text, sampler

BENCH_DIR = Path(__file__).resolve().parent


# ---- rows 6-8: dynamic execution ---------------------------------------------------------
def plain_fanout(module: Any) -> Callable[[int], int]:
    """The fan-out's own functions called in a plain loop: the work without the engine."""
    items, plus_one, doubled, total = module.items, module.plus_one, module.doubled, module.total

    def run(n_items: int) -> int:
        results = []
        for item in items(n_items):
            results.append(doubled(plus_one(item)))
        return total(results)

    return run


def bench_fanout(settings: Settings) -> list[Row]:
    """Row 6: per-item overhead of a synchronous fan-out with a 2-node block and a sum."""
    drivers = {
        engine.label: engine.build_dynamic(
            engine.module_from_source(dataflows.fanout_source(engine.package))
        )
        for engine in settings.engines()
    }
    baseline = plain_fanout(CAYLEY.module_from_source(dataflows.fanout_source(CAYLEY.package)))
    hamilton_sizes = set(settings.hamilton_fanout_sizes) if settings.hamilton else set()
    overheads: dict[int, dict[str, float]] = {}
    skipped: dict[int, str] = {}
    last_hamilton: tuple[int, float] | None = None
    for n in sorted(set(settings.fanout_sizes) | hamilton_sizes):
        log(f"  fan-out with {n:,} items")
        expected = n * (n + 1)

        def check(value: int, n: int = n, expected: int = expected) -> None:
            if value != expected:
                raise AssertionError(f"sum over {n} items is {value}, expected {expected}")

        runs: dict[str, Callable[[], None]] = {
            "plain loop": lambda n=n: check(baseline(n)),
        }
        if n in settings.fanout_sizes:
            runs[CAYLEY.label] = lambda n=n: check(
                drivers[CAYLEY.label].execute(["total"], inputs={"n_items": n})["total"]
            )
        if n in hamilton_sizes:
            predicted = last_hamilton[1] * (n / last_hamilton[0]) ** 2 if last_hamilton else 0.0
            if predicted > settings.hamilton_run_cap_s:
                skipped[n] = (
                    f"skipped: ~{predicted:.0f} s per run predicted (quadratic), "
                    f"cap {settings.hamilton_run_cap_s:.0f} s"
                )
            else:
                runs[HAMILTON.label] = lambda n=n: check(
                    drivers[HAMILTON.label].execute(["total"], inputs={"n_items": n})["total"]
                )
        cases: dict[str, Callable[[], float]] = {}
        affordable: list[int] = []
        for label, run in runs.items():
            first = harness.time_batch(run)
            if label == HAMILTON.label:
                last_hamilton = (n, first)
            repeat = max(1, math.ceil(settings.min_sample_s / max(first, 1e-9)))
            cases[label] = lambda run=run, repeat=repeat: harness.time_batch(run, repeat)
            affordable.append(int(settings.fanout_size_budget_s / max(first * repeat, 1e-9)))
        # Every case of a size gets the same number of rounds: what the slowest can afford.
        rounds = max(1 if settings.quick else 3, min(settings.rounds, *affordable))
        medians = {k: harness.median(v) for k, v in harness.interleave(cases, rounds).items()}
        base = medians.pop("plain loop")
        overheads[n] = {k: (v - base) / n * 1e6 for k, v in medians.items()}
    return fanout_rows(settings, overheads, skipped, hamilton_sizes)


def fanout_rows(
    settings: Settings,
    overheads: dict[int, dict[str, float]],
    skipped: dict[int, str],
    hamilton_sizes: set[int],
) -> list[Row]:
    """Rows 6a.. (one per size) and a flatness row for cayley's sizes ≥ 1,000."""
    rows = []
    for index, (n, by_engine) in enumerate(sorted(overheads.items())):
        cayley = by_engine.get(CAYLEY.label, math.nan)
        hamilton = by_engine.get(HAMILTON.label, math.nan)
        if n in skipped:
            hamilton_text = skipped[n]
        elif settings.hamilton and n not in hamilton_sizes:
            hamilton_text = "not run (quadratic)"
        else:
            hamilton_text = fmt(hamilton, "µs")
        rows.append(
            Row(
                f"6{chr(ord('a') + index)}",
                f"Fan-out, sync, {n:,} items: overhead (µs/item)",
                fmt(cayley, "µs"),
                hamilton_text,
                ratio_text(hamilton, cayley),
                "≤ 3 µs/item" if n >= 1000 else "(reference)",
                (cayley <= 3.0) if n >= 1000 and not math.isnan(cayley) else None,
                ["(run − plain loop of the same functions) / items"] if index == 0 else [],
            )
        )
    sized = {n: v[CAYLEY.label] for n, v in overheads.items() if n >= 1000 and CAYLEY.label in v}
    if len(sized) >= 2:
        largest = sized[max(sized)]
        smallest = min(sized.values())
        growth = largest / smallest if smallest > 0 else math.inf
        rows.append(
            Row(
                "6*",
                f"Fan-out overhead growth, {min(sized):,} → {max(sized):,} items",
                f"{growth:.2f}× of the lowest",
                target="flat: largest size ≤ 1.25× the lowest",
                met=growth <= 1.25,
                notes=[
                    "per-item overhead at the largest size over the lowest per-item overhead "
                    "at any size"
                ],
            )
        )
    return rows


def bench_rss(settings: Settings) -> list[Row]:
    """Row 7: peak RSS growth while summing many fan-out items, in a fresh interpreter."""
    n = settings.rss_items
    completed = subprocess.run(
        [sys.executable, str(BENCH_DIR / "probes.py"), "rss", str(n)],
        env=CAYLEY.subprocess_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.strip().splitlines()[-1])
    probe = json.loads(completed.stdout)
    growth = probe["growth_mib"]
    return [
        Row(
            "7",
            f"Fan-out of {n:,} items summed: peak RSS growth (MiB)",
            fmt(growth, "MiB"),
            "not run (quadratic)" if settings.hamilton else DASH,
            target="≤ 100 MiB",
            met=growth <= 100,
            notes=[
                f"fresh subprocess: RSS {fmt(probe['before_mib'], 'MiB')} before, "
                f"peak {fmt(probe['after_mib'], 'MiB')} during the run (VmHWM)"
            ],
        )
    ]


def dynamic_chain_us(settings: Settings, n: int) -> tuple[dict[str, float], dict[str, str]]:
    """Median µs/node of plain and dynamic drivers on an ``n``-node chain, per engine."""
    source = dataflows.chain_source(n)
    output = f"n_{n - 1}"
    cases: dict[str, Callable[[], float]] = {}
    errors: dict[str, str] = {}
    for engine in settings.engines():
        for kind, dr in (
            ("plain", engine.build(engine.module_from_source(source))),
            ("dynamic", engine.build_dynamic(engine.module_from_source(source))),
        ):

            def run(dr: Any = dr) -> None:
                if dr.execute([output], inputs={"x": 0})[output] != n:
                    raise AssertionError(f"{output} is wrong")

            try:
                cases[f"{engine.label} {kind}"] = sampler(run, settings)
            except RecursionError:
                errors[engine.label] = "RecursionError"
    us = {
        k: harness.median(v) / n * 1e6
        for k, v in harness.interleave(cases, settings.rounds).items()
    }
    return us, errors


def bench_dynamic_chain(settings: Settings) -> list[Row]:
    """Row 8: a dynamic-execution driver on a 1,000-node chain (no fan-out) vs the plain one."""
    n = settings.chain_length
    us, errors = harness.run_with_deep_stack(lambda: dynamic_chain_us(settings, n))

    def describe(label: str) -> str:
        if label in errors:
            return errors[label]
        dynamic, plain = us[f"{label} dynamic"], us[f"{label} plain"]
        return f"{fmt(dynamic, 'µs')} (plain {fmt(plain, 'µs')}): {dynamic / plain:.2f}×"

    cayley_ratio = us[f"{CAYLEY.label} dynamic"] / us[f"{CAYLEY.label} plain"]
    row = Row(
        "8",
        f"Dynamic driver, {n:,}-node chain, no fan-out: µs/node, dynamic ÷ plain",
        describe(CAYLEY.label),
        target="dynamic ÷ plain ≈ 1 (≤ 1.2)",
        met=cayley_ratio <= 1.2,
        notes=["ratio column compares the dynamic drivers", EXECUTE_ONLY, DEEP_STACK],
    )
    if settings.hamilton:
        row.hamilton = describe(HAMILTON.label)
        row.ratio = ratio_text(
            us.get(f"{HAMILTON.label} dynamic", math.nan), us[f"{CAYLEY.label} dynamic"]
        )
    return [row]


@dataclass
class Speedup:
    """A median speedup and how many of the rounds it was taken over were quiet."""

    value: float
    kept: int
    attempted: int


def paired_speedups(
    pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]], settings: Settings
) -> dict[str, Speedup]:
    """Median ratio sync ÷ parallel per label, each round timing the two back to back.

    A parallel run needs idle cores: a round is quiet when other processes used at most
    ``settings.max_foreign_share`` of the machine's CPU while every label of it ran. Rounds
    continue until ``settings.parallel_rounds`` are quiet or the time budget is spent.
    Every label's median is taken over the same rounds: the quiet ones, or all of them when
    none was quiet.
    """
    rounds: list[tuple[dict[str, float], bool]] = []
    start = time.perf_counter()
    while True:
        labels = list(pairs) if len(rounds) % 2 == 0 else list(reversed(pairs))
        ratios: dict[str, float] = {}
        quiet = True
        for label in labels:
            sync, parallel = pairs[label]
            with harness.ForeignLoad() as load:
                sync_s, parallel_s = harness.time_batch(sync), harness.time_batch(parallel)
            quiet = quiet and (load.share is None or load.share <= settings.max_foreign_share)
            ratios[label] = sync_s / parallel_s
        rounds.append((ratios, quiet))
        enough = sum(q for _, q in rounds) >= settings.parallel_rounds
        spent = time.perf_counter() - start > settings.parallel_budget_s
        if enough or (len(rounds) >= settings.parallel_rounds and spent):
            break
    chosen = [ratios for ratios, q in rounds if q] or [ratios for ratios, _ in rounds]
    kept = sum(q for _, q in rounds)
    return {
        label: Speedup(harness.median([r[label] for r in chosen]), kept, len(rounds))
        for label in pairs
    }


POOL_REFERENCE = "multiprocessing.Pool"


def pool_reference(n: int, iterations: int) -> tuple[Callable[[], object], Callable[[], object]]:
    """The same CPU work in a plain loop and on a bare ``multiprocessing.Pool(2)``.

    The pool's speedup is what the machine allows without any dataflow engine; the pool
    is started inside the timing, as the executors start theirs.
    """
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)

    def serial() -> None:
        dataflows.burn_items(n, iterations)

    def parallel() -> None:
        with context.Pool(2) as pool:
            pool.starmap(dataflows.burn_items, [(1, iterations)] * n, chunksize=1)

    return serial, parallel


def parallel_speedups(settings: Settings) -> dict[str, dict[str, Speedup]]:
    """Speedups of processes (CPU work) and threads (sleeps) over the synchronous executor."""
    iterations = dataflows.calibrate_burn(settings.parallel_work_s)
    n = settings.parallel_items
    expected = n * (n - 1) // 2
    scenarios = {
        "cpu": ("MultiProcessingExecutor", "cpu_total", {"burn_iterations": iterations}),
        "sleep": ("MultiThreadingExecutor", "sleep_total", {"sleep_s": settings.parallel_work_s}),
    }
    speedups: dict[str, dict[str, Speedup]] = {}
    for scenario, (executor, output, extra) in scenarios.items():
        log(f"  {scenario}: {n} items of {settings.parallel_work_s * 1e3:.0f} ms on {executor}")
        pairs = {}
        for engine in settings.engines():
            source = dataflows.parallel_work_source(engine.package)
            runs = []
            for remote in (
                engine.executor("SynchronousLocalTaskExecutor"),
                engine.executor(executor, max_tasks=2),
            ):
                dr = engine.build_dynamic(engine.module_from_source(source), remote)

                def run(dr: Any = dr, output: str = output, extra: dict = extra) -> None:
                    result = dr.execute([output], inputs={"n_items": n, **extra})[output]
                    if result != expected:
                        raise AssertionError(f"{output} is {result}, expected {expected}")

                run()
                runs.append(run)
            pairs[engine.label] = (runs[0], runs[1])
        if scenario == "cpu":
            pairs[POOL_REFERENCE] = pool_reference(n, iterations)
        speedups[scenario] = paired_speedups(pairs, settings)
    return speedups


def bench_parallel(settings: Settings) -> list[Row]:
    """Row 9: speedups on 2 processes (CPU-bound items) and 2 threads (sleeping items)."""
    speedups = parallel_speedups(settings)
    n, ms = settings.parallel_items, settings.parallel_work_s * 1e3
    rows = []
    for suffix, scenario, title, target in (
        ("a", "cpu", f"{ms:.0f} ms pure-Python CPU", 1.85),
        ("b", "sleep", f"{ms:.0f} ms time.sleep", 1.95),
    ):
        executor = "MultiProcessingExecutor" if scenario == "cpu" else "MultiThreadingExecutor"
        by_engine = speedups[scenario]
        cayley = by_engine[CAYLEY.label]
        hamilton = by_engine.get(HAMILTON.label)
        kept = f"{cayley.kept}/{cayley.attempted}"
        reference_notes = []
        if POOL_REFERENCE in by_engine:
            ceiling = by_engine[POOL_REFERENCE]
            reference_notes.append(
                f"bare multiprocessing.Pool(2) on the same work: {ceiling.value:.2f}×"
            )
        rows.append(
            Row(
                f"9{suffix}",
                f"{n} items × {title} on {executor}(max_tasks=2): speedup vs sync",
                f"{cayley.value:.2f}×",
                DASH if hamilton is None else f"{hamilton.value:.2f}×",
                DASH if hamilton is None else f"{cayley.value / hamilton.value:.3g}×",
                f"≥ {target}×",
                cayley.value >= target,
                [
                    *reference_notes,
                    f"median of sync ÷ parallel timed back to back, the same quiet rounds³ for "
                    f"every engine ({kept})",
                ],
            )
        )
    return rows


def bench_scheduler_cpu(settings: Settings) -> list[Row]:
    """Row 10: process CPU time over wall time while sleeping items run on 4 threads."""
    n = settings.sleep_tasks
    cases: dict[str, Callable[[], float]] = {}
    for engine in settings.engines():
        dr = engine.build_dynamic(
            engine.module_from_source(dataflows.parallel_work_source(engine.package)),
            engine.executor("MultiThreadingExecutor", max_tasks=n),
        )

        def sample(dr: Any = dr, sleep_s: float = settings.sleep_s) -> float:
            cpu, wall = time.process_time(), time.perf_counter()
            dr.execute(["sleep_total"], inputs={"n_items": n, "sleep_s": sleep_s})
            return (time.process_time() - cpu) / (time.perf_counter() - wall)

        sample(sleep_s=0.01)
        cases[engine.label] = sample
    share = {
        k: harness.median(v) * 100
        for k, v in harness.interleave(cases, settings.sleep_rounds).items()
    }
    cayley, hamilton = share[CAYLEY.label], share.get(HAMILTON.label, math.nan)
    return [
        Row(
            "10",
            f"{n} × {settings.sleep_s:g} s sleeps on MultiThreadingExecutor({n}): CPU ÷ wall",
            f"{fmt(cayley)} %",
            DASH if math.isnan(hamilton) else f"{fmt(hamilton)} %",
            ratio_text(hamilton, cayley),
            "≤ 5 %",
            cayley <= 5,
            ["time.process_time() (all threads) over wall time"],
        )
    ]
