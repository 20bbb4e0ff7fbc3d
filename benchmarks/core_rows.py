"""Rows 1-5 and 11: the plain driver (execute, hooks, build, import) and decorators."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import dataflows
import harness
from engines import CAYLEY, HAMILTON, Engine
from report import DEEP_STACK, EXECUTE_ONLY, Row, Settings, fmt, ratio_text, sampler


# ---- rows 1-3: plain driver on a chain ---------------------------------------------------
def chain_per_node_us(
    settings: Settings, length: int, with_hook: bool = False
) -> tuple[dict[str, float], dict[str, str]]:
    """Median µs/node of ``execute`` on a ``length``-node chain, per engine.

    Drivers are built once and run once before timing, so graph construction and plan
    compilation are excluded. An engine that fails is reported by its error's name.
    """
    source = dataflows.chain_source(length)
    output = f"n_{length - 1}"
    cases: dict[str, Callable[[], float]] = {}
    errors: dict[str, str] = {}
    for engine in settings.engines():
        hook = engine.counting_hook() if with_hook else None
        dr = engine.build(engine.module_from_source(source), adapters=(hook,) if hook else ())

        def run(dr: Any = dr) -> None:
            if dr.execute([output], inputs={"x": 0})[output] != length:
                raise AssertionError(f"{output} is wrong")

        try:
            cases[engine.label] = sampler(run, settings)
        except RecursionError:
            errors[engine.label] = "RecursionError"
            continue
        if hook is not None and hook.before < length:
            raise AssertionError(f"{engine.label}'s hook saw {hook.before} of {length} nodes")
    samples = harness.interleave(cases, settings.rounds)
    return {k: harness.median(v) / length * 1e6 for k, v in samples.items()}, errors


def wide_per_node_us(settings: Settings, engine: Engine, width: int) -> float:
    """Median µs/node of ``execute`` requesting all nodes of a ``width``-node flat graph."""
    dr = engine.build(engine.module_from_source(dataflows.wide_source(width)))
    outputs = [f"w_{i}" for i in range(width)]
    run = sampler(lambda: dr.execute(outputs, inputs={"x": 0}), settings)
    return harness.median(harness.interleave({"wide": run}, settings.rounds)["wide"]) / width * 1e6


def bench_chain(settings: Settings) -> list[Row]:
    """Row 1: plain ``execute`` of a 1,000-node chain."""
    n = settings.chain_length
    us, errors = harness.run_with_deep_stack(lambda: chain_per_node_us(settings, n))
    return [chain_row("1", f"Execute {n:,}-node chain (µs/node)", us, errors, settings)]


def bench_deep_chain(settings: Settings) -> list[Row]:
    """Row 2: the same on a 10,000-node chain (a wide graph for Hamilton if it cannot)."""
    n = settings.deep_chain_length
    us, errors = harness.run_with_deep_stack(lambda: chain_per_node_us(settings, n))
    row = chain_row("2", f"Execute {n:,}-node chain (µs/node)", us, errors, settings)
    if settings.hamilton and HAMILTON.label in errors:
        wide = harness.run_with_deep_stack(lambda: wide_per_node_us(settings, HAMILTON, n))
        row.hamilton = f"{fmt(wide, 'µs')} (wide graph)"
        row.ratio = ratio_text(wide, us[CAYLEY.label])
        row.met = us[CAYLEY.label] <= 1.0 and wide / us[CAYLEY.label] >= 10
        row.notes.append(
            f"Hamilton: RecursionError on the chain even with the deep stack, so its figure "
            f"is for {n:,} independent nodes (depth 1)"
        )
    return [row]


def hamilton_cell(us: dict[str, float], errors: dict[str, str], unit: str = "µs") -> str:
    """Hamilton's figure, its error's name, or a dash when it was not run."""
    return errors.get(HAMILTON.label) or fmt(us.get(HAMILTON.label, math.nan), unit)


def chain_row(
    number: str, title: str, us: dict[str, float], errors: dict[str, str], settings: Settings
) -> Row:
    """A row for rows 1 and 2: cayley ≤ 1 µs/node and at least 10× faster than Hamilton."""
    cayley = us[CAYLEY.label]
    hamilton = us.get(HAMILTON.label, math.nan)
    speedup = hamilton / cayley if cayley > 0 else math.nan
    met = cayley <= 1.0 and (not settings.hamilton or speedup >= 10)
    notes = [EXECUTE_ONLY, DEEP_STACK]
    if not settings.hamilton:
        notes.append("10× condition not checked without Hamilton")
    return Row(
        number,
        title,
        fmt(cayley, "µs"),
        hamilton_cell(us, errors),
        ratio_text(hamilton, cayley),
        "≤ 1 µs/node, ≥ 10× faster",
        met,
        notes,
    )


def bench_hook(settings: Settings) -> list[Row]:
    """Row 3: a 1,000-node chain with one counting ``NodeExecutionHook``."""
    n = settings.chain_length
    us, errors = harness.run_with_deep_stack(lambda: chain_per_node_us(settings, n, with_hook=True))
    cayley, hamilton = us[CAYLEY.label], us.get(HAMILTON.label, math.nan)
    return [
        Row(
            "3",
            f"Execute {n:,}-node chain + 1 NodeExecutionHook (µs/node)",
            fmt(cayley, "µs"),
            hamilton_cell(us, errors),
            ratio_text(hamilton, cayley),
            "≤ 2 µs/node",
            cayley <= 2.0,
            ["the hook increments a counter before and after each node", EXECUTE_ONLY, DEEP_STACK],
        )
    ]


# ---- row 4: graph construction -----------------------------------------------------------
def build_seconds(
    settings: Settings, source: Callable[[Engine], str], config: dict[str, Any] | None = None
) -> dict[str, float]:
    """Median seconds of ``Builder()...build()`` per engine, a fresh module per sample.

    Args:
        settings: the run's settings.
        source: the dataflow's source text for an engine.
        config: the driver's configuration.
    """
    cases: dict[str, Callable[[], float]] = {}
    for engine in settings.engines():
        text = source(engine)

        def sample(engine: Engine = engine, text: str = text) -> float:
            module = engine.module_from_source(text)
            return harness.time_batch(
                lambda: engine.builder(module).with_config(dict(config or {})).build()
            )

        sample()
        cases[engine.label] = sample
    samples = harness.interleave(cases, settings.rounds)
    return {k: harness.median(v) for k, v in samples.items()}


def bench_build(settings: Settings) -> list[Row]:
    """Row 4: driver construction for a 5,000-node chain."""
    n = settings.build_nodes
    text = dataflows.chain_source(n)
    seconds = build_seconds(settings, lambda engine: text)
    cayley, hamilton = seconds[CAYLEY.label], seconds.get(HAMILTON.label, math.nan)
    return [
        Row(
            "4",
            f"Build {n:,}-node graph (ms)",
            fmt(cayley * 1e3, "ms"),
            fmt(hamilton * 1e3, "ms"),
            ratio_text(hamilton, cayley),
            "faster than Hamilton",
            (hamilton > cayley) if settings.hamilton else None,
            ["Builder().with_modules(m).build(); module source executed outside the timing"],
        )
    ]


# ---- row 5: import time ------------------------------------------------------------------
def bench_import(settings: Settings) -> list[Row]:
    """Row 5: ``python -c "import <pkg>.driver"`` wall time in fresh subprocesses."""
    python = sys.executable
    cases: dict[str, Callable[[], float]] = {
        "bare": lambda: harness.subprocess_wall_time([python, "-c", "pass"]),
        "cayley": lambda: harness.subprocess_wall_time(
            [python, "-c", "import cayley.driver"], CAYLEY.subprocess_env()
        ),
    }
    if settings.hamilton:
        command = [python, "-c", "import hamilton.driver"]
        default_env = HAMILTON.subprocess_env(HAMILTON_AUTOLOAD_EXTENSIONS=None)
        no_autoload_env = HAMILTON.subprocess_env(HAMILTON_AUTOLOAD_EXTENSIONS="0")
        cases["hamilton"] = lambda: harness.subprocess_wall_time(command, default_env)
        cases["hamilton_no_autoload"] = lambda: harness.subprocess_wall_time(
            command, no_autoload_env
        )
    for case in cases.values():
        case()
    ms = {
        k: harness.median(v) * 1e3
        for k, v in harness.interleave(cases, settings.import_rounds).items()
    }
    cayley, hamilton = ms["cayley"], ms.get("hamilton", math.nan)
    notes = [
        f"median of {settings.import_rounds}",
        f"bare `python -c pass`: {fmt(ms['bare'], 'ms')}",
    ]
    if settings.hamilton:
        notes.append(
            f"Hamilton with HAMILTON_AUTOLOAD_EXTENSIONS=0: {fmt(ms['hamilton_no_autoload'], 'ms')}"
        )
    return [
        Row(
            "5",
            '`python -c "import <pkg>.driver"` wall time (ms)',
            fmt(cayley, "ms"),
            fmt(hamilton, "ms"),
            ratio_text(hamilton, cayley),
            "≤ 150 ms",
            cayley <= 150,
            notes,
        )
    ]


# ---- row 11: decorators ------------------------------------------------------------------
def decorators_supported() -> str | None:
    """``None`` when cayley's decorators needed by row 11 work, else the reason."""
    try:
        module = CAYLEY.module_from_source(dataflows.decorated_source(CAYLEY.package, 2))
        dr = CAYLEY.builder(module).with_config({"mode": "a"}).build()
        result = dr.execute(["variant_1", "c_1_b"], inputs={"base": 3})
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
    if result["variant_1"] != 10 or list(result["c_1_b"]) != [4]:
        return f"wrong results: {result}"
    return None


def bench_decorators(settings: Settings) -> list[Row]:
    """Row 11: building a graph of 1,000 decorated functions."""
    groups = settings.decorated_groups
    title = f"Build graph of {groups * 5:,} decorated functions (ms)"
    target = "not slower than Hamilton"
    reason = decorators_supported()
    if reason is not None:
        return [Row("11", title, "n/a yet", target=target, notes=[reason])]
    seconds = build_seconds(
        settings,
        lambda engine: dataflows.decorated_source(engine.package, groups),
        config={"mode": "a"},
    )
    cayley, hamilton = seconds[CAYLEY.label], seconds.get(HAMILTON.label, math.nan)
    return [
        Row(
            "11",
            title,
            fmt(cayley * 1e3, "ms"),
            fmt(hamilton * 1e3, "ms"),
            ratio_text(hamilton, cayley),
            target,
            (hamilton >= cayley) if settings.hamilton else None,
            ["@parameterize, @extract_columns (pandas), @check_output(range=...), @config.when"],
        )
    ]
