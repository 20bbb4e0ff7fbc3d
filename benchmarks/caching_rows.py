"""Rows 30-34: the result cache (``Builder().with_cache()``), cayley beside Hamilton's.

- 30: a warm run of a 1,000-node chain, every node a hit (µs/node);
- 31: a cold run of the same chain with caching on, minus the uncached run (µs/node);
- 32, 33: fingerprinting a large numpy array and a pandas DataFrame (GB/s);
- 34: a warm fan-out, every item a hit (µs/item).

Each engine gets its own fresh cache directory; drivers are built outside the timings.
"""

from __future__ import annotations

import gc
import importlib
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dataflows
import harness
from engines import CAYLEY, HAMILTON, Engine
from report import DEEP_STACK, Row, Settings, fmt, log, ratio_text

_FRESH = "each sample on a new cache directory and a new driver"
_PROBE_BYTES = 16 * 2**20
_SLOW_SAMPLE_S = 10.0


def _cached_driver(engine: Engine, module: Any, path: Path) -> Any:
    return engine.builder(module).with_cache(path=str(path)).build()


def _scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="cayley-bench-cache-"))


# ---- rows 30-31: chain ---------------------------------------------------------------------
def _chain_samples(settings: Settings) -> dict[str, dict[str, float]]:
    """Per engine: median µs/node of a warm run, of a cold run and of the uncached run."""
    n = settings.chain_length
    output = f"n_{n - 1}"
    source = dataflows.chain_source(n)
    results: dict[str, dict[str, float]] = {}
    scratch = _scratch()
    try:
        for engine in settings.engines():
            module = engine.module_from_source(source)
            plain = engine.build(module)

            def run(dr: Any, label: str = engine.label) -> float:
                start = time.perf_counter()
                value = dr.execute([output], inputs={"x": 0})[output]
                elapsed = time.perf_counter() - start
                if value != n:
                    raise AssertionError(f"{label}: {output} is {value}, expected {n}")
                return elapsed

            warm = _cached_driver(engine, module, scratch / f"{engine.package}-warm")
            run(warm)  # fills the cache
            run(plain)
            counter = iter(range(10**6))

            def cold(
                engine: Engine = engine, module: Any = module, counter: Any = counter
            ) -> float:
                dr = _cached_driver(engine, module, scratch / f"{engine.package}-{next(counter)}")
                return run(dr)

            rounds = settings.rounds if not settings.quick else 2
            samples = harness.interleave(
                {
                    "warm": lambda dr=warm: run(dr),
                    "cold": cold,
                    "plain": lambda dr=plain: run(dr),
                },
                rounds,
            )
            results[engine.label] = {k: harness.median(v) / n * 1e6 for k, v in samples.items()}
            log(f"  {engine.label}: {results[engine.label]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return results


def bench_cache_chain(settings: Settings) -> list[Row]:
    """Rows 30 and 31: warm and cold runs of a 1,000-node chain with the cache on."""
    n = settings.chain_length
    us = harness.run_with_deep_stack(lambda: _chain_samples(settings))
    cayley = us[CAYLEY.label]
    hamilton = us.get(HAMILTON.label, {})
    warm_c, warm_h = cayley["warm"], hamilton.get("warm", math.nan)
    cold_c = cayley["cold"] - cayley["plain"]
    cold_h = hamilton.get("cold", math.nan) - hamilton.get("plain", math.nan)
    return [
        Row(
            "30",
            f"Cache: warm {n:,}-node chain, all hits (µs/node)",
            fmt(warm_c, "µs"),
            fmt(warm_h, "µs"),
            ratio_text(warm_h, warm_c),
            "≤ 50 µs/node",
            warm_c <= 50,
            ["SQLite metadata and file results, as with_cache() sets up", DEEP_STACK],
        ),
        Row(
            "31",
            f"Cache: cold {n:,}-node chain, overhead over the uncached run (µs/node)",
            fmt(cold_c, "µs"),
            fmt(cold_h, "µs"),
            ratio_text(cold_h, cold_c),
            "≤ 200 µs/node",
            cold_c <= 200,
            [_FRESH + " (code versions computed in the run)", DEEP_STACK],
        ),
    ]


# ---- rows 32-33: fingerprints --------------------------------------------------------------
def _fingerprinters(settings: Settings) -> dict[str, Callable[[Any], object]]:
    found: dict[str, Callable[[Any], object]] = {
        CAYLEY.label: importlib.import_module("cayley.caching.fingerprinting").data_version
    }
    if settings.hamilton:
        found[HAMILTON.label] = importlib.import_module(
            "hamilton.caching.fingerprinting"
        ).hash_value
    return found


def _gbps(
    settings: Settings, make: Callable[[int], Any], size: int, nbytes: Callable[[Any], int]
) -> tuple[dict[str, float], dict[str, int]]:
    """GB/s per engine, and the size each was measured at.

    An engine whose first pass over a small value predicts more than
    ``_SLOW_SAMPLE_S`` per sample at ``size`` is measured at the small size instead.
    """
    probe_value = make(_PROBE_BYTES)
    sizes: dict[str, int] = {}
    for label, fingerprint in _fingerprinters(settings).items():
        start = time.perf_counter()
        fingerprint(probe_value)
        predicted = (time.perf_counter() - start) * size / nbytes(probe_value)
        sizes[label] = size if predicted <= _SLOW_SAMPLE_S else _PROBE_BYTES
    del probe_value
    gbps: dict[str, float] = {}
    for measured_size in sorted(set(sizes.values())):
        value = make(measured_size)
        real = nbytes(value)
        cases = {}
        for label, fingerprint in _fingerprinters(settings).items():
            if sizes[label] != measured_size:
                continue
            fingerprint(value)  # warm up (imports, first touch)

            def sample(
                fingerprint: Callable[[Any], object] = fingerprint, value: Any = value
            ) -> float:
                gc.collect()
                start = time.perf_counter()
                fingerprint(value)
                return time.perf_counter() - start

            cases[label] = sample
        rounds = 3 if settings.quick else 5
        for label, samples in harness.interleave(cases, rounds).items():
            gbps[label] = real / harness.median(samples) / 1e9
        cases.clear()
        del value
        gc.collect()
    return gbps, sizes


def bench_fingerprints(settings: Settings) -> list[Row]:
    """Rows 32 and 33: fingerprint throughput on a numpy array and a pandas DataFrame."""
    import numpy as np
    import pandas as pd

    size = (64 if settings.quick else 1024) * 2**20
    rng = np.random.default_rng(0)
    rows = []
    cases = [
        ("32", "numpy float64 array", lambda n: rng.random(n // 8), lambda a: a.nbytes),
        (
            "33",
            "pandas DataFrame (8 float64 columns)",
            lambda n: pd.DataFrame({f"c{i}": rng.random(n // 64) for i in range(8)}),
            lambda df: int(df.memory_usage(index=True).sum()),
        ),
    ]
    for number, what, make, nbytes in cases:
        gbps, sizes = _gbps(settings, make, size, nbytes)
        cayley, hamilton = gbps[CAYLEY.label], gbps.get(HAMILTON.label, math.nan)
        notes = ["cayley: xxh3-128 of the pickle stream, buffers hashed in place"]
        if sizes.get(HAMILTON.label, size) != size:
            notes.append(
                f"Hamilton measured on {sizes[HAMILTON.label] / 2**20:.0f} MiB: at its speed "
                f"one {size / 2**30:.3g} GiB sample would take over {_SLOW_SAMPLE_S:.0f} s"
            )
        rows.append(
            Row(
                number,
                f"Cache: fingerprint a {size / 2**30:.3g} GiB {what} (GB/s)",
                fmt(cayley, "GB/s"),
                fmt(hamilton, "GB/s"),
                ratio_text(1 / hamilton if hamilton else math.nan, 1 / cayley),
                "≥ 1 GB/s",
                cayley >= 1.0,
                notes,
            )
        )
    return rows


# ---- row 34: fan-out -----------------------------------------------------------------------
def _warm_fanout_us(engine: Engine, n: int, path: Path, settings: Settings) -> float:
    module = engine.module_from_source(dataflows.fanout_source(engine.package))
    executors = engine.module("execution.executors")
    dr = (
        engine.builder(module)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_local_executor(executors.SynchronousLocalTaskExecutor())
        .with_remote_executor(executors.SynchronousLocalTaskExecutor())
        .with_cache(path=str(path))
        .build()
    )
    expected = n * (n + 1)

    def run() -> float:
        start = time.perf_counter()
        value = dr.execute(["total"], inputs={"n_items": n})["total"]
        elapsed = time.perf_counter() - start
        if value != expected:
            raise AssertionError(f"{engine.label}: total is {value}, expected {expected}")
        return elapsed

    run()  # fills the cache
    rounds = 2 if settings.quick else 5
    samples = harness.interleave({"warm": run}, rounds)["warm"]
    return harness.median(samples) / n * 1e6


def bench_cache_fanout(settings: Settings) -> list[Row]:
    """Row 34: a warm fan-out, a two-node block per item and a sum, every item a hit."""
    n = 1_000 if settings.quick else 10_000
    hamilton_n = min(n, 1_000)
    scratch = _scratch()
    try:
        cayley = _warm_fanout_us(CAYLEY, n, scratch / "cayley", settings)
        hamilton = (
            _warm_fanout_us(HAMILTON, hamilton_n, scratch / "hamilton", settings)
            if settings.hamilton
            else math.nan
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    notes = ["synchronous executors"]
    if settings.hamilton and hamilton_n != n:
        notes.append(
            f"Hamilton at {hamilton_n:,} items (its fan-out cost grows faster than linearly)"
        )
    return [
        Row(
            "34",
            f"Cache: warm fan-out of {n:,} items, all hits (µs/item)",
            fmt(cayley, "µs"),
            fmt(hamilton, "µs"),
            ratio_text(hamilton, cayley),
            "≤ 30 µs/item",
            cayley <= 30,
            notes,
        )
    ]
