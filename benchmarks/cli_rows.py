"""Rows 40-43: OpenTelemetry tracing overhead, and the ``cayley`` command's wall time.

Dataflows are imported from files here (not executed from strings) because the tracers hash
each function's source for the ``node_version`` attribute: the hashing cost is part of what
a real user pays.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
import tempfile
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dataflows
import harness
from engines import CAYLEY, HAMILTON, Engine
from report import DEEP_STACK, EXECUTE_ONLY, Row, Settings, fmt, ratio_text, sampler

_DIR = Path(tempfile.mkdtemp(prefix="cayley-bench-cli-"))
_ids = itertools.count()
FANOUT_ITEMS = 1000


def module_from_file(source: str) -> types.ModuleType:
    """Writes ``source`` to a file and imports it, so ``inspect.getsource`` works."""
    name = f"bench_file_{next(_ids)}"
    path = _DIR / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def noop_tracer() -> Any:
    """A tracer of OpenTelemetry's no-op provider: spans cost only the API's overhead."""
    from opentelemetry import trace

    return trace.NoOpTracerProvider().get_tracer("bench")


def recording_tracer() -> Any:
    """A tracer of the SDK's provider whose spans are recorded, processed and dropped."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        SimpleSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Discard(SpanExporter):
        """Accepts every span and keeps none."""

        def export(self, spans: Any) -> SpanExportResult:
            """Drops ``spans``."""
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Discard()))
    return provider.get_tracer("bench")


def otel_adapter(engine: Engine, tracer: Any) -> Any:
    """The engine's ``OpenTelemetryTracer`` over ``tracer``."""
    return engine.module("plugins.h_opentelemetry").OpenTelemetryTracer(tracer=tracer)


def null_twin(engine: Engine) -> Any:
    """The engine's ``OpenTelemetryTracer`` with every ``run_*`` hook doing nothing: the same
    hook points registered, so the engine's cost of calling them is the same."""
    base = engine.module("plugins.h_opentelemetry").OpenTelemetryTracer
    hooks = {name: (lambda self, **kwargs: None) for name in dir(base) if name.startswith("run_")}
    return type("NullTwin", (base,), hooks)(tracer=noop_tracer())


def overhead_us(
    settings: Settings,
    runs: dict[str, tuple[Callable[[], None], Callable[[], None]]],
    per: int,
) -> dict[str, float]:
    """Median extra µs per unit (node or item) of the traced run over the plain one.

    Args:
        settings: the run's settings.
        runs: engine label -> (plain run, traced run).
        per: units per run.
    """
    cases: dict[str, Callable[[], float]] = {}
    for label, (plain, traced) in runs.items():
        cases[f"{label} plain"] = sampler(plain, settings)
        cases[f"{label} traced"] = sampler(traced, settings)
    medians = {k: harness.median(v) for k, v in harness.interleave(cases, settings.rounds).items()}
    return {
        label: (medians[f"{label} traced"] - medians[f"{label} plain"]) / per * 1e6
        for label in runs
    }


def chain_overhead(settings: Settings, make_tracer: Callable[[], Any]) -> dict[str, float]:
    """Tracer overhead in µs/node on a chain, per engine (plain drivers)."""
    n = settings.chain_length
    module = module_from_file(dataflows.chain_source(n))
    output = f"n_{n - 1}"
    runs = {}
    for engine in settings.engines():
        plain = engine.build(module)
        traced = engine.build(module, adapters=(otel_adapter(engine, make_tracer()),))

        def run(dr: Any) -> Callable[[], None]:
            def once() -> None:
                if dr.execute([output], inputs={"x": 0})[output] != n:
                    raise AssertionError(f"{output} is wrong")

            return once

        runs[engine.label] = (run(plain), run(traced))
    return overhead_us(settings, runs, n)


def _chain_row(
    number: str,
    title: str,
    us: dict[str, float],
    target: str,
    met: bool | None,
    notes: list[str],
) -> Row:
    cayley, hamilton = us[CAYLEY.label], us.get(HAMILTON.label, math.nan)
    return Row(
        number,
        title,
        fmt(cayley, "µs"),
        fmt(hamilton, "µs"),
        ratio_text(hamilton, cayley),
        target,
        met,
        notes,
    )


def bench_otel_noop(settings: Settings) -> list[Row]:
    """Row 40: tracer overhead per node with OpenTelemetry's no-op provider."""
    us = harness.run_with_deep_stack(lambda: chain_overhead(settings, noop_tracer))
    n = settings.chain_length
    return [
        _chain_row(
            "40",
            f"OpenTelemetryTracer, no-op provider, {n:,}-node chain: overhead (µs/node)",
            us,
            "≤ 5 µs/node",
            us[CAYLEY.label] <= 5.0,
            ["(traced run − plain run) / nodes", EXECUTE_ONLY, DEEP_STACK],
        )
    ]


def bench_otel_sdk(settings: Settings) -> list[Row]:
    """Row 41: the same with the SDK's provider recording every span."""
    us = harness.run_with_deep_stack(lambda: chain_overhead(settings, recording_tracer))
    n = settings.chain_length
    hamilton = us.get(HAMILTON.label, math.nan)
    return [
        _chain_row(
            "41",
            f"OpenTelemetryTracer, SDK provider recording, {n:,}-node chain: overhead (µs/node)",
            us,
            "faster than Hamilton",
            (hamilton > us[CAYLEY.label]) if settings.hamilton else None,
            [
                "spans go through a SimpleSpanProcessor to an exporter that drops them",
                "Hamilton re-hashes every node's source on every run (its #1714)",
                EXECUTE_ONLY,
                DEEP_STACK,
            ],
        )
    ]


def bench_otel_fanout(settings: Settings) -> list[Row]:
    """Row 42: the tracer's own cost per fan-out item, no-op provider.

    The baseline carries an adapter registering the same hook points and doing nothing,
    so the engine's cost of calling task and node hooks per item is left out.
    """
    items = FANOUT_ITEMS
    expected = items * (items + 1)
    runs = {}
    for engine in settings.engines():
        module = module_from_file(dataflows.fanout_source(engine.package))

        def build(adapter: Any, engine: Engine = engine, module: Any = module) -> Any:
            return (
                engine.builder(module)
                .enable_dynamic_execution(allow_experimental_mode=True)
                .with_local_executor(engine.executor("SynchronousLocalTaskExecutor"))
                .with_remote_executor(engine.executor("SynchronousLocalTaskExecutor"))
                .with_adapters(adapter)
                .build()
            )

        def run(dr: Any) -> Callable[[], None]:
            def once() -> None:
                if dr.execute(["total"], inputs={"n_items": items})["total"] != expected:
                    raise AssertionError("fan-out total is wrong")

            return once

        traced = build(otel_adapter(engine, noop_tracer()))
        runs[engine.label] = (run(build(null_twin(engine))), run(traced))
    us = overhead_us(settings, runs, items)
    cayley, hamilton = us[CAYLEY.label], us.get(HAMILTON.label, math.nan)
    return [
        Row(
            "42",
            f"OpenTelemetryTracer, no-op provider, sync fan-out of {items:,} items: its own "
            "cost (µs/item)",
            fmt(cayley, "µs"),
            fmt(hamilton, "µs"),
            ratio_text(hamilton, cayley),
            "≤ 5 µs/item",
            cayley <= 5.0,
            [
                "(traced run − run with an adapter registering the same hooks, doing nothing) "
                "/ items; three span sites per item: its task and the block's two nodes",
                EXECUTE_ONLY,
            ],
        )
    ]


def bench_cli(settings: Settings) -> list[Row]:
    """Row 43: ``cayley run`` on a 1,000-node chain file, in a fresh process."""
    n = settings.chain_length
    path = _DIR / "cli_chain.py"
    path.write_text(dataflows.chain_source(n))
    python = sys.executable
    env = CAYLEY.subprocess_env()
    command = [python, "-m", "cayley", "run", str(path), "-o", f"n_{n - 1}", "--inputs"]
    cases: dict[str, Callable[[], float]] = {
        "bare": lambda: harness.subprocess_wall_time([python, "-c", "pass"]),
        "cayley": lambda: harness.subprocess_wall_time([*command, '{"x": 0}'], env),
    }
    medians = {
        k: harness.median(v) for k, v in harness.interleave(cases, settings.import_rounds).items()
    }
    seconds = medians["cayley"] - medians["bare"]
    return [
        Row(
            "43",
            f"`cayley run` on a {n:,}-node chain file, fresh process (ms)",
            fmt(seconds * 1e3, "ms"),
            target="≤ 1,000 ms",
            met=seconds <= 1.0,
            notes=[
                "wall time minus a bare `python -c pass`: import, build, execute, print JSON",
                "Hamilton's CLI has no run command",
            ],
        )
    ]
