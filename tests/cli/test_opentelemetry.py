"""OpenTelemetryTracer with the SDK's in-memory exporter: span tree, fan-out items, errors."""

from __future__ import annotations

import pickle
import types
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from cayley import driver, graph_types
from cayley.execution import executors
from cayley.plugins.h_opentelemetry import OpenTelemetryTracer

CHAIN = """
def a(x: int) -> int:
    return x + 1

def b(a: int) -> int:
    '''Doubles.'''
    return a * 2
"""

FAN_OUT = """
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def squared(items: int) -> int:
    if items == 99:
        raise ValueError("no 99")
    return items * items

def shifted(squared: int) -> int:
    return squared + 1

def total(shifted: Collect[int]) -> int:
    return sum(shifted)
"""


def by_name(spans: Any) -> dict[str, list[ReadableSpan]]:
    named: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        named.setdefault(span.name, []).append(span)
    return named


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def test_plain_run_nests_nodes_under_execute(
    load: Callable[[str], types.ModuleType], tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    module = load(CHAIN)
    dr = (
        driver.Builder()
        .with_modules(module)
        .with_adapters(OpenTelemetryTracer(tracer=tracer))
        .build()
    )
    with tracer.start_as_current_span("caller") as caller:
        assert dr.execute(["b"], inputs={"x": 1}) == {"b": 4}
    spans = by_name(exporter.get_finished_spans())
    (execute,) = spans["execute"]
    (a,), (b,) = spans["a"], spans["b"]
    assert parent_of(execute) == caller.get_span_context().span_id
    assert parent_of(a) == parent_of(b) == execute.context.span_id
    assert {s.context.trace_id for s in (execute, a, b)} == {caller.get_span_context().trace_id}
    graph = dr.hamilton_graph
    assert execute.attributes["graph_version"] == graph.version
    assert execute.attributes["final_vars"] == ("b",)
    assert execute.attributes["inputs"] == ("x",)
    assert execute.attributes["execution_path"] == ("a", "b")
    assert b.attributes["node_version"] == graph["b"].version
    assert b.attributes["type"] == "<class 'int'>"
    assert b.attributes["run_id"] == execute.attributes["run_id"]
    assert all(s.status.status_code == StatusCode.OK for s in (execute, a, b))
    assert trace.get_current_span() is trace.INVALID_SPAN  # nothing left current


def test_fan_out_on_threads_carries_items_and_expander(
    load: Callable[[str], types.ModuleType], tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    module = load(FAN_OUT)
    dr = (
        driver.Builder()
        .with_modules(module)
        .with_adapters(OpenTelemetryTracer(tracer=tracer))
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(executors.MultiThreadingExecutor(max_tasks=3))
        .build()
    )
    assert dr.execute(["total"], inputs={"n": 5}) == {"total": sum(i * i + 1 for i in range(5))}
    spans = by_name(exporter.get_finished_spans())
    (execute,) = spans["execute"]
    ids = {s.context.span_id: s for group in spans.values() for s in group}
    assert {s.context.trace_id for s in ids.values()} == {execute.context.trace_id}
    blocks = spans["block-items"]
    assert sorted(s.attributes["item_index"] for s in blocks) == [0, 1, 2, 3, 4]
    for block in blocks:
        assert parent_of(block) == execute.context.span_id
        assert block.attributes["expander"] == "items"
        index = block.attributes["item_index"]
        assert block.attributes["task_id"] == f"expand-items.{index}.block-items"
    for name in ("squared", "shifted"):
        assert len(spans[name]) == 5
        for span in spans[name]:
            task = ids[parent_of(span)]
            assert task.name == "block-items"
            assert span.attributes["item_index"] == task.attributes["item_index"]
            assert span.attributes["expander"] == "items"
    (items,) = spans["items"]
    assert "item_index" not in items.attributes
    expanding = ids[parent_of(items)]
    assert "items" in expanding.attributes["nodes"]
    assert ids[parent_of(expanding)] is execute


def test_errors_set_status_and_record_the_exception(
    load: Callable[[str], types.ModuleType], tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    module = load(FAN_OUT)
    dr = (
        driver.Builder()
        .with_modules(module)
        .with_adapters(OpenTelemetryTracer(tracer=tracer))
        .enable_dynamic_execution(allow_experimental_mode=True)
        .build()
    )
    with pytest.raises(ValueError, match="no 99"):
        dr.execute(["total"], overrides={"items": [1, 99]})
    spans = by_name(exporter.get_finished_spans())
    (failed,) = [s for s in spans["squared"] if s.status.status_code == StatusCode.ERROR]
    assert failed.attributes["item_index"] == 1
    assert failed.status.description == "ValueError: no 99"
    (event,) = failed.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "no 99"
    (task,) = [s for s in spans["block-items"] if s.status.status_code == StatusCode.ERROR]
    assert task.context.span_id == parent_of(failed)
    (execute,) = spans["execute"]
    assert execute.status.status_code == StatusCode.ERROR
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_graph_is_hashed_once_per_driver(
    load: Callable[[str], types.ModuleType],
    tracer: trace.Tracer,
    exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[Any] = []
    original = graph_types.hash_source_code

    def counting(source: Any, strip: bool = False) -> str:
        calls.append(source)
        return original(source, strip)

    monkeypatch.setattr(graph_types, "hash_source_code", counting)
    module = load(CHAIN)
    dr = (
        driver.Builder()
        .with_modules(module)
        .with_adapters(OpenTelemetryTracer(tracer=tracer))
        .build()
    )
    dr.execute(["b"], inputs={"x": 0})
    first_run = len(calls)
    assert first_run >= 2  # a and b at least
    for x in range(1, 4):
        dr.execute(["b"], inputs={"x": x})
    assert len(calls) == first_run  # later runs hash nothing again
    versions = {
        s.attributes["graph_version"] for s in by_name(exporter.get_finished_spans())["execute"]
    }
    assert len(versions) == 1


def test_no_op_provider_and_arguments(load: Callable[[str], types.ModuleType]) -> None:
    module = load(CHAIN)
    quiet = OpenTelemetryTracer(tracer=trace.NoOpTracerProvider().get_tracer("x"))
    dr = driver.Builder().with_modules(module).with_adapters(quiet).build()
    assert dr.execute(["b"], inputs={"x": 1}) == {"b": 4}
    assert OpenTelemetryTracer(tracer_name="mine").tracer_name == "mine"
    with pytest.raises(ValueError, match="either tracer_name or tracer, not both"):
        OpenTelemetryTracer(tracer_name="a", tracer=quiet.tracer)


def test_worker_copy_joins_the_trace_through_its_report(
    load: Callable[[str], types.ModuleType], tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    """The two halves of the worker protocol, without a pool: the driver's instance and a
    pickled copy standing in for the one a worker process unpickles."""
    module = load(FAN_OUT)
    dr = driver.Builder().with_modules(module).build()
    graph = dr.hamilton_graph
    on_driver = OpenTelemetryTracer(tracer=tracer)
    on_driver.run_before_graph_execution(
        graph=graph, final_vars=["total"], inputs={"n": 1}, overrides={}, execution_path=[],
        run_id="r1",
    )  # fmt: skip
    task = {"run_id": "r1", "nodes": [graph["squared"]], "inputs": {"items": 3}, "overrides": {}}
    label = {"task_id": "expand-items.7.block-items", "spawning_task_id": "expand-items",
             "purpose": "execute_block"}  # fmt: skip
    on_driver.run_before_task_submission(**task, **label)
    worker = pickle.loads(pickle.dumps(on_driver))
    assert worker.collect_worker_report() is None  # nothing ran yet
    worker.run_before_task_execution(**task, **label, item_index=7, expander="items")
    node = {"node_name": "squared", "node_tags": {}, "node_kwargs": {"items": 3},
            "node_return_type": int, "task_id": label["task_id"], "run_id": "r1"}  # fmt: skip
    worker.run_before_node_execution(**node, node_input_types={"items": int})
    worker.run_after_node_execution(**node, result=9, error=None, success=True)
    worker.run_after_task_execution(**task | {"inputs": None}, **label, results={}, success=True,
                                    error=None)  # fmt: skip
    report = pickle.loads(pickle.dumps(worker.collect_worker_report()))
    assert [r.name for r in report] == ["squared", "block-items"]
    assert worker.collect_worker_report() is None
    assert exporter.get_finished_spans() == ()  # the worker's spans wait for the report
    on_driver.receive_worker_report(report=report)
    on_driver.run_after_graph_execution(
        graph=graph, success=True, error=None, results={}, run_id="r1"
    )
    spans = by_name(exporter.get_finished_spans())
    (execute,), (block,), (squared,) = spans["execute"], spans["block-items"], spans["squared"]
    assert parent_of(block) == execute.context.span_id
    assert parent_of(squared) == block.context.span_id
    assert {s.context.trace_id for s in (execute, block, squared)} == {execute.context.trace_id}
    assert squared.attributes["node_version"] == graph["squared"].version
    assert squared.attributes["item_index"] == 7 and squared.attributes["expander"] == "items"
    assert block.resource is execute.resource
    assert block.instrumentation_scope.name == "tests"


def test_a_copy_made_between_runs_traces_its_own_runs_with_the_global_provider(
    load: Callable[[str], types.ModuleType],
) -> None:
    copy = pickle.loads(pickle.dumps(OpenTelemetryTracer(tracer_name="tests.copy")))
    dr = driver.Builder().with_modules(load(CHAIN)).with_adapters(copy).build()
    assert dr.execute(["b"], inputs={"x": 1}) == {"b": 4}
    assert copy.collect_worker_report() is None  # nothing waits to be sent anywhere
    assert copy.tracer_name == "tests.copy"


SEEN = """
from opentelemetry import trace
from cayley.htypes import Collect, Parallelizable

SEEN = []

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def traced(items: int) -> int:
    SEEN.append(trace.get_current_span().get_span_context())
    return items

def gathered(traced: Collect[int]) -> list:
    return traced
"""


def test_sampled_out_run_makes_no_spans_but_keeps_its_context_on_threads(
    load: Callable[[str], types.ModuleType], exporter: InMemorySpanExporter
) -> None:
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    module = load(SEEN)
    dr = (
        driver.Builder()
        .with_modules(module)
        .with_adapters(OpenTelemetryTracer(tracer=tracer))
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(executors.MultiThreadingExecutor(max_tasks=2))
        .build()
    )
    with tracer.start_as_current_span("caller") as caller:
        assert dr.execute(["gathered"], inputs={"n": 4}) == {"gathered": [0, 1, 2, 3]}
    assert exporter.get_finished_spans() == ()
    # Code in the nodes, on pool threads, still sees the (unsampled) trace it belongs to.
    trace_id = caller.get_span_context().trace_id
    assert [c.trace_id for c in module.SEEN] == [trace_id] * 4
    assert not any(c.trace_flags.sampled for c in module.SEEN)
