"""Rows 60-64: DataFrame dataflows (with_columns, partitioned fan-out, pandera validation)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
from engines import CAYLEY, HAMILTON, Engine
from report import DASH, EXECUTE_ONLY, Row, Settings, fmt, log, ratio_text, sampler

BENCH_DIR = Path(__file__).resolve().parent

#: The 20 column functions of rows 60-61: (name, parameters, expression), in dependency order.
COLUMNS: list[tuple[str, tuple[str, ...], str]] = [
    ("c00", ("x0", "x1"), "x0 + x1"),
    ("c01", ("x2", "x3"), "x2 * x3"),
    ("c02", ("c00", "c01"), "c00 - c01"),
    ("c03", ("c02",), "np.log1p(np.abs(c02))"),
    ("c04", ("c03", "x0"), "c03 * x0"),
    ("c05", ("x1",), "x1 > 0.5"),
    ("c06", ("c04", "c05"), "c04.where(c05, 0.0)"),
    ("c07", ("c06",), "c06.clip(0.0, 1.0)"),
    ("c08", ("c01",), "np.sqrt(np.abs(c01))"),
    ("c09", ("c08", "c07"), "c08 + c07"),
    ("c10", ("c09", "x3"), "c09 / (x3 + 1.0)"),
    ("c11", ("c10",), "c10 ** 2"),
    ("c12", ("c11",), "np.exp(-c11)"),
    ("c13", ("c12", "c02"), "c12 * c02"),
    ("c14", ("c13",), "c13.abs()"),
    ("c15", ("c14", "c12"), "c14 > c12"),
    ("c16", ("c15", "c00"), "c15.astype(float) + c00"),
    ("c17", ("c16",), "np.sin(c16)"),
    ("c18", ("c17",), "c17.cumsum()"),
    ("c19", ("c18",), "c18 - c18.mean()"),
]
PASSED = ["x0", "x1", "x2", "x3"]


def columns_source() -> str:
    """A module of the 20 column functions (``pd.Series`` in, ``pd.Series`` out)."""
    lines = ["import numpy as np", "import pandas as pd", ""]
    for name, params, expression in COLUMNS:
        signature = ", ".join(f"{p}: pd.Series" for p in params)
        lines += [f"def {name}({signature}) -> pd.Series:", f"    return {expression}", ""]
    return "\n".join(lines)


def with_columns_source(package: str, columns_module: str) -> str:
    """``features(raw)`` adding the 20 columns with ``h_pandas.with_columns``."""
    return f"""
import pandas as pd
from {package}.plugins import h_pandas
import {columns_module} as columns

@h_pandas.with_columns(columns, columns_to_pass={PASSED!r}, select={[c[0] for c in COLUMNS]!r})
def features(raw: pd.DataFrame) -> pd.DataFrame:
    return raw
"""


def raw_frame(rows: int) -> Any:
    """``rows`` rows of four random float columns."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    return pd.DataFrame({name: rng.random(rows) for name in PASSED})


def by_hand(columns: Any) -> Callable[[Any], Any]:
    """The column functions called in order on the frame's columns, then one ``assign``."""
    steps = [(name, getattr(columns, name), params) for name, params, _ in COLUMNS]

    def apply(raw: Any) -> Any:
        values = {name: raw[name] for name in PASSED}
        for name, fn, params in steps:
            values[name] = fn(*[values[p] for p in params])
        return raw.assign(**{name: values[name] for name, _, _ in steps})

    return apply


def _rows_for(settings: Settings) -> int:
    return 20_000 if settings.quick else 1_000_000


def _rounds(settings: Settings) -> int:
    """Three times the usual rounds in a full run: the engines differ by about 1% here, well
    inside the run-to-run spread of the DataFrame work itself."""
    return settings.rounds if settings.quick else 3 * settings.rounds


def _engine_driver(engine: Engine, source_for: Callable[[str, str], str]) -> Any:
    columns = engine.module_from_source(columns_source())
    return engine.build(engine.module_from_source(source_for(engine.package, columns.__name__)))


def bench_with_columns(settings: Settings) -> list[Row]:
    """Rows 60-61: with_columns of 20 column functions vs the same functions by hand."""
    import pandas as pd

    rows = _rows_for(settings)
    raw = raw_frame(rows)
    reference = by_hand(CAYLEY.module_from_source(columns_source()))
    expected = reference(raw)
    runs: dict[str, Callable[[], object]] = {"by hand": lambda: reference(raw)}
    for engine in settings.engines():
        dr = _engine_driver(engine, with_columns_source)
        result = dr.execute(["features"], inputs={"raw": raw})["features"]
        pd.testing.assert_frame_equal(result, expected)
        runs[engine.label] = lambda dr=dr: dr.execute(["features"], inputs={"raw": raw})
    log(f"  with_columns, 20 columns, {rows:,} rows")
    cases = {label: sampler(run, settings) for label, run in runs.items()}
    samples = harness.interleave(cases, _rounds(settings))
    medians = {k: harness.median(v) for k, v in samples.items()}
    hand, cayley = medians["by hand"], medians[CAYLEY.label]
    hamilton = medians.get(HAMILTON.label, float("nan"))
    title = f"with_columns, 20 column functions, {rows:,}-row pandas DataFrame"
    over_hand = cayley / hand
    return [
        Row(
            "60",
            f"{title}: time ÷ by hand",
            f"{over_hand:.3f}× ({fmt(cayley * 1e3, 'ms')})",
            DASH,
            target="≤ 1.1×",
            met=over_hand <= 1.1,
            notes=[
                f"by hand: the same functions called in order, then one DataFrame.assign: "
                f"{fmt(hand * 1e3, 'ms')}",
                EXECUTE_ONLY,
            ],
        ),
        Row(
            "61",
            f"{title}: execute (ms)",
            fmt(cayley * 1e3, "ms"),
            fmt(hamilton * 1e3, "ms"),
            ratio_text(hamilton, cayley),
            target="faster than Hamilton",
            met=None if not settings.hamilton else hamilton > cayley,
            notes=[EXECUTE_ONLY],
        ),
    ]


# ---- rows 62-63: partitioned fan-out ------------------------------------------------------
def bench_partitions(settings: Settings) -> list[Row]:
    """Rows 62-63: a partitioned parquet fan-out on 2 processes: speedup and worker memory.

    Runs ``frames_probe.py`` in a fresh interpreter, which writes the dataset itself.
    """
    args = [sys.executable, str(BENCH_DIR / "frames_probe.py")]
    if settings.quick:
        args.append("--quick")
    if not settings.hamilton:
        args.append("--no-hamilton")
    completed = subprocess.run(
        args, env=CAYLEY.subprocess_env(), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.strip().splitlines()[-1])
    probe = json.loads(completed.stdout)
    rows, parts, workers = probe["rows"], probe["partitions"], probe["workers"]
    speedup = probe["speedup"]
    hamilton = probe.get("hamilton") or {}
    hamilton_cell = DASH
    if "error" in hamilton:
        hamilton_cell = f"fails: {hamilton['error']}"
    elif "speedup" in hamilton:
        hamilton_cell = f"{hamilton['speedup']:.2f}×"
    partition_mib = probe["partition_bytes"] / 2**20
    growth = [g / 2**20 for g in probe["worker_growth_bytes"]]
    worst = max(growth) / partition_mib if growth else float("nan")
    first_peak, later_peak = probe["partition_peaks_bytes"]
    title = f"Partitioned fan-out, {rows:,}-row parquet dataset in {parts} partitions"
    return [
        Row(
            "62",
            f"{title}: speedup on {workers} processes vs sequential",
            f"{speedup:.2f}×",
            hamilton_cell,
            target="≥ 1.7×",
            met=speedup >= 1.7,
            notes=[
                f"bare multiprocessing.Pool(2) on the same work: {probe['pool_speedup']:.2f}×",
                f"sequential {fmt(probe['sequential_s'], 's')}, {workers} processes "
                f"{fmt(probe['parallel_s'], 's')} (medians; pool start included); per "
                "partition: load, with_columns (3 columns), group-by, then concat + sum; "
                f"median over quiet rounds³ ({probe['kept']}/{probe['attempted']})",
            ],
        ),
        Row(
            "63",
            f"{title}: peak worker memory growth ÷ one partition",
            f"{worst:.2f}×",
            DASH,
            target="≤ 2×",
            met=worst <= 2.0,
            notes=[
                f"one partition in memory: {fmt(partition_mib, 'MiB')}; growth per worker: "
                + ", ".join(fmt(g, "MiB") for g in growth)
                + " (VmHWM during the run − VmRSS once warm, before its first partition); "
                "peak RSS per worker: "
                + ", ".join(fmt(p / 2**20, "MiB") for p in probe["worker_peak_bytes"])
                + "; highest peak RSS during a worker's first partition "
                + fmt(first_peak / 2**20, "MiB")
                + ", during any later one "
                + fmt(later_peak / 2**20, "MiB")
                + " (memory does not grow with the number of partitions)",
            ],
        ),
    ]


# ---- row 64: pandera validation ---------------------------------------------------------
def schema_source(package: str, columns_module: str) -> str:
    """``checked(raw)`` validated by ``check_output(schema=...)``; the schema is in ``columns``."""
    return f"""
import pandas as pd
from {package}.function_modifiers import check_output
import {columns_module} as columns

@check_output(schema=columns.SCHEMA, importance="fail")
def checked(raw: pd.DataFrame) -> pd.DataFrame:
    return raw
"""


SCHEMA_SOURCE = """
import pandera.pandas as pa

SCHEMA = pa.DataFrameSchema(
    {name: pa.Column(float, [pa.Check.ge(0.0), pa.Check.le(1.0)]) for name in NAMES}
)
"""


def bench_check_output(settings: Settings) -> list[Row]:
    """Row 64: check_output(schema=...) vs calling the pandera schema by hand."""
    rows = _rows_for(settings)
    raw = raw_frame(rows)
    source = SCHEMA_SOURCE.replace("NAMES", repr(PASSED))
    schema = CAYLEY.module_from_source(source).SCHEMA

    def validate_by_hand() -> object:
        return schema.validate(raw, lazy=True, inplace=True)

    runs: dict[str, Callable[[], object]] = {"by hand": validate_by_hand}
    for engine in settings.engines():
        schema_module = engine.module_from_source(source)
        dr = engine.build(
            engine.module_from_source(schema_source(engine.package, schema_module.__name__))
        )
        runs[engine.label] = lambda dr=dr: dr.execute(["checked"], inputs={"raw": raw})
    log(f"  check_output(schema=...), {rows:,} rows")
    cases = {label: sampler(run, settings) for label, run in runs.items()}
    samples = harness.interleave(cases, _rounds(settings))
    medians = {k: harness.median(v) for k, v in samples.items()}
    hand, cayley = medians["by hand"], medians[CAYLEY.label]
    hamilton = medians.get(HAMILTON.label, float("nan"))
    return [
        Row(
            "64",
            f"check_output(schema=pandera schema), {rows:,}-row DataFrame: time ÷ by hand",
            f"{cayley / hand:.3f}× ({fmt(cayley * 1e3, 'ms')})",
            fmt(hamilton * 1e3, "ms"),
            ratio_text(hamilton, cayley),
            target="≤ 1.1× by hand",
            met=cayley / hand <= 1.1,
            notes=[
                f"by hand: schema.validate(frame, lazy=True): {fmt(hand * 1e3, 'ms')}; "
                "4 columns × 2 checks",
                EXECUTE_ONLY,
            ],
        )
    ]
