"""Rows 20-24: data I/O through materializers against the same call made to pandas directly.

Rows 20-23 save and load a DataFrame (1,000,000 rows in a full run) as parquet and csv with
``Driver.materialize`` (``to.*`` and ``from_.*``) and compare with pandas called directly with
the arguments the adapter passes; the target is at most 5% slower. Row 24 is the fixed cost of
a trivial ``to.json`` materializer: ``materialize`` minus computing the value and
``json.dump``-ing it directly. Hamilton runs the same materializers in the same rounds.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
from engines import CAYLEY, HAMILTON, Engine
from report import DASH, Row, Settings, fmt, ratio_text, sampler

FRAME_SOURCE = """
import pandas as pd

def frame(source_frame: pd.DataFrame) -> pd.DataFrame:
    return source_frame

def used(frame: pd.DataFrame) -> int:
    return len(frame)
"""

SMALL_SOURCE = """
def small() -> dict:
    return {"a": 1, "b": [1, 2, 3]}
"""


def _rows(settings: Settings) -> int:
    return 20_000 if settings.quick else 1_000_000


def _rounds(settings: Settings, fmt_name: str) -> int:
    """Few rounds: samples are long (a 1,000,000-row csv takes seconds to write)."""
    return min(settings.rounds, 3 if fmt_name == "csv" else 5)


def _frame(rows: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "value": rng.random(rows),
            "group": rng.choice(["alpha", "beta", "gamma", "delta"], rows),
            "flag": rng.random(rows) > 0.5,
        }
    )


def _materialization(engine: Engine) -> Any:
    return engine.module("io.materialization")


def _compare(
    settings: Settings, fmt_name: str, cases: dict[str, Callable[[], float]]
) -> dict[str, float]:
    for case in cases.values():
        case()  # warm-up: imports, plans, rewritten graphs
    samples = harness.interleave(cases, _rounds(settings, fmt_name))
    return {name: harness.median(values) for name, values in samples.items()}


def _io_row(
    number: str,
    title: str,
    seconds: dict[str, float],
    notes: list[str],
) -> Row:
    cayley, direct = seconds[CAYLEY.label], seconds["pandas"]
    hamilton = seconds.get(HAMILTON.label, math.nan)
    relative = cayley / direct
    return Row(
        number,
        title,
        f"{fmt(cayley * 1e3, 'ms')} ({relative:.3f}× pandas)",
        DASH
        if math.isnan(hamilton)
        else f"{fmt(hamilton * 1e3, 'ms')} ({hamilton / direct:.3f}× pandas)",
        ratio_text(hamilton, cayley),
        "≤ 1.05× pandas called directly",
        relative <= 1.05,
        [f"pandas directly: {fmt(direct * 1e3, 'ms')}", *notes],
    )


def _save_seconds(
    settings: Settings, fmt_name: str, direct: Callable[[Any, str], None], folder: Path
) -> dict[str, float]:
    df = _frame(_rows(settings))
    cases: dict[str, Callable[[], float]] = {}
    for engine in settings.engines():
        dr = engine.build(engine.module_from_source(FRAME_SOURCE))
        to = _materialization(engine).to
        path = str(folder / f"{engine.package}.{fmt_name}")

        def run(dr: Any = dr, to: Any = to, path: str = path) -> None:
            dr.materialize(
                getattr(to, fmt_name)(id="saved", dependencies=["frame"], path=path),
                inputs={"source_frame": df},
            )

        cases[engine.label] = lambda run=run: harness.time_batch(run)
    pandas_path = str(folder / f"pandas.{fmt_name}")
    cases["pandas"] = lambda: harness.time_batch(lambda: direct(df, pandas_path))
    return _compare(settings, fmt_name, cases)


def _load_seconds(
    settings: Settings,
    fmt_name: str,
    write: Callable[[Any, str], None],
    direct: Callable[[str], Any],
    folder: Path,
) -> dict[str, float]:
    path = str(folder / f"input.{fmt_name}")
    write(_frame(_rows(settings)), path)
    expected = len(direct(path))
    cases: dict[str, Callable[[], float]] = {}
    for engine in settings.engines():
        dr = engine.build(engine.module_from_source(FRAME_SOURCE))
        from_ = _materialization(engine).from_

        def run(dr: Any = dr, from_: Any = from_) -> None:
            _, extra = dr.materialize(
                getattr(from_, fmt_name)(target="frame", path=path), additional_vars=["used"]
            )
            if extra["used"] != expected:
                raise AssertionError(f"loaded {extra['used']} rows, expected {expected}")

        cases[engine.label] = lambda run=run: harness.time_batch(run)
    cases["pandas"] = lambda: harness.time_batch(lambda: direct(path))
    return _compare(settings, fmt_name, cases)


def _with_folder(fn: Callable[[Path], list[Row]], in_memory: bool = False) -> list[Row]:
    """Runs ``fn`` with a fresh folder (on tmpfs if ``in_memory`` and there is one)."""
    where = "/dev/shm" if in_memory and os.path.isdir("/dev/shm") else None
    folder = Path(tempfile.mkdtemp(prefix="cayley-bench-io-", dir=where))
    try:
        return fn(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bench_save_parquet(settings: Settings) -> list[Row]:
    """Row 20: ``to.parquet`` of a large DataFrame vs ``DataFrame.to_parquet``."""
    rows = _rows(settings)

    def run(folder: Path) -> list[Row]:
        seconds = _save_seconds(
            settings, "parquet", lambda df, path: df.to_parquet(path, compression="snappy"), folder
        )
        return [
            _io_row("20", f"to.parquet, {rows:,}-row DataFrame (ms)", seconds, ["snappy, pyarrow"])
        ]

    return _with_folder(run)


def bench_save_csv(settings: Settings) -> list[Row]:
    """Row 21: ``to.csv`` of a large DataFrame vs ``DataFrame.to_csv``."""
    rows = _rows(settings)

    def run(folder: Path) -> list[Row]:
        seconds = _save_seconds(
            settings, "csv", lambda df, path: df.to_csv(path, index=False), folder
        )
        return [
            _io_row(
                "21",
                f"to.csv, {rows:,}-row DataFrame (ms)",
                seconds,
                ["index=False (the adapter's default)"],
            )
        ]

    return _with_folder(run)


def bench_load_parquet(settings: Settings) -> list[Row]:
    """Row 22: ``from_.parquet`` of a large file vs ``pandas.read_parquet``."""
    import pandas as pd

    rows = _rows(settings)

    def run(folder: Path) -> list[Row]:
        seconds = _load_seconds(
            settings,
            "parquet",
            lambda df, path: df.to_parquet(path),
            lambda path: pd.read_parquet(path, dtype_backend="numpy_nullable"),
            folder,
        )
        return [
            _io_row(
                "22",
                f"from_.parquet, {rows:,} rows (ms)",
                seconds,
                ["dtype_backend='numpy_nullable' (the adapter's default)"],
            )
        ]

    return _with_folder(run)


def bench_load_csv(settings: Settings) -> list[Row]:
    """Row 23: ``from_.csv`` of a large file vs ``pandas.read_csv``."""
    import pandas as pd

    rows = _rows(settings)

    def run(folder: Path) -> list[Row]:
        seconds = _load_seconds(
            settings,
            "csv",
            lambda df, path: df.to_csv(path, index=False),
            lambda path: pd.read_csv(path, dtype_backend="numpy_nullable"),
            folder,
        )
        return [
            _io_row(
                "23",
                f"from_.csv, {rows:,} rows (ms)",
                seconds,
                ["dtype_backend='numpy_nullable' (the adapter's default)"],
            )
        ]

    return _with_folder(run)


def bench_json_overhead(settings: Settings) -> list[Row]:
    """Row 24: fixed cost of ``materialize(to.json(...))`` over computing and dumping directly."""

    def run(folder: Path) -> list[Row]:
        cases: dict[str, Callable[[], float]] = {}
        for engine in settings.engines():
            module = engine.module_from_source(SMALL_SOURCE)
            dr = engine.build(module)
            to = _materialization(engine).to
            path = str(folder / f"{engine.package}.json")

            def materialize(dr: Any = dr, to: Any = to, path: str = path) -> None:
                dr.materialize(to.json(id="saved", dependencies=["small"], path=path))

            cases[engine.label] = sampler(materialize, settings)
        small = CAYLEY.module_from_source(SMALL_SOURCE).small
        direct_path = str(folder / "direct.json")

        def direct() -> None:
            with open(direct_path, "w", encoding="utf-8") as f:
                json.dump(small(), f)

        atomic_path = CAYLEY.module("io.atomic").atomic_path

        def direct_atomic() -> None:
            with atomic_path(direct_path) as target, open(target, "w", encoding="utf-8") as f:
                json.dump(small(), f)

        cases["direct"] = sampler(direct, settings)
        cases["direct_atomic"] = sampler(direct_atomic, settings)
        samples = harness.interleave(cases, settings.rounds)
        seconds = {name: harness.median(values) for name, values in samples.items()}
        cayley = (seconds[CAYLEY.label] - seconds["direct"]) * 1e6
        hamilton = (seconds.get(HAMILTON.label, math.nan) - seconds["direct"]) * 1e6
        rename = (seconds["direct_atomic"] - seconds["direct"]) * 1e6
        return [
            Row(
                "24",
                "to.json of a small dict: materialize overhead (µs)",
                fmt(cayley, "µs"),
                fmt(hamilton, "µs"),
                ratio_text(hamilton, cayley),
                "≤ 200 µs",
                cayley <= 200,
                [
                    f"materialize(to.json(...)) − computing the dict and json.dump-ing it "
                    f"directly ({fmt(seconds['direct'] * 1e6, 'µs')}); the materializer is "
                    "made anew each call",
                    f"of which the atomic save (temporary file + rename, which Hamilton does "
                    f"not do) costs {fmt(rename, 'µs')} when done by hand",
                    f"files in {folder.parent} (tmpfs where available: the row measures the "
                    "materializer, not the disk)",
                    "execute only¹",
                ],
            )
        ]

    return _with_folder(run, in_memory=True)


__all__ = [
    "bench_json_overhead",
    "bench_load_csv",
    "bench_load_parquet",
    "bench_save_csv",
    "bench_save_parquet",
]
