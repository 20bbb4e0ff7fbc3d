"""Spans from process workers join the driver's trace (context out, finished spans back)."""

from __future__ import annotations

import types
from collections.abc import Callable

from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cayley import driver
from cayley.execution import executors
from cayley.plugins.h_opentelemetry import OpenTelemetryTracer
from tests.cli.test_opentelemetry import FAN_OUT, by_name, parent_of


def test_process_workers_join_the_trace(
    load: Callable[[str], types.ModuleType],
    tracer: trace.Tracer,
    exporter: InMemorySpanExporter,
) -> None:
    module = load(FAN_OUT)
    dr = (
        driver.Builder()
        .with_modules(module)
        .with_adapters(OpenTelemetryTracer(tracer=tracer))
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(executors.MultiProcessingExecutor(max_tasks=2))
        .build()
    )
    traces = set()
    for n in (4, 3):
        exporter.clear()
        assert dr.execute(["total"], inputs={"n": n}) == {"total": sum(i * i + 1 for i in range(n))}
        spans = by_name(exporter.get_finished_spans())
        (execute,) = spans["execute"]
        trace_id = execute.context.trace_id
        traces.add(trace_id)
        ids = {s.context.span_id: s for group in spans.values() for s in group}
        assert {s.context.trace_id for s in ids.values()} == {trace_id}
        blocks = spans["block-items"]
        assert sorted(b.attributes["item_index"] for b in blocks) == list(range(n))
        assert all(parent_of(b) == execute.context.span_id for b in blocks)
        for name in ("squared", "shifted"):
            assert len(spans[name]) == n
            for span in spans[name]:
                task = ids[parent_of(span)]
                assert task.name == "block-items"
                assert span.attributes["item_index"] == task.attributes["item_index"]
                assert span.attributes["node_version"]
                assert span.resource is execute.resource
    assert len(traces) == 2  # each run is its own trace, the second run's workers included
