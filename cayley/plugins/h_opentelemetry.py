"""OpenTelemetry spans for every execute, task and node, in one trace wherever they ran.

.. code-block:: python

    from cayley import driver
    from cayley.plugins.h_opentelemetry import OpenTelemetryTracer

    dr = driver.Builder().with_modules(etl).with_adapters(OpenTelemetryTracer()).build()

The spans nest as the work does: ``execute`` (one per ``execute`` call) holds one span per
task (under dynamic execution) and each task one span per node it ran. Span names have low
cardinality: the node's name, the task's template (``block-urls``: the item is in the
attributes), ``execute``. Nodes run in a fan-out carry ``item_index`` and ``expander``; a
failing node, task or run has status ERROR and the exception recorded as an event. The
execute span is a child of whatever span is current when ``execute`` is called, and each
node's span is current while the node runs, so spans made inside node code nest under it.

Tasks run on threads find their parent explicitly (a thread does not inherit the caller's
context). Tasks run in other processes (process pools, Ray, Dask) join the same trace: the
driver puts the W3C trace context of the run in the adapter copy the task carries, the
worker parents its spans on it and hands its finished spans back with the task's result,
and the driver passes them to its own tracer provider's span processors. That last step
needs the OpenTelemetry SDK's tracer on the driver (``opentelemetry.sdk.trace``).

The graph's and nodes' code versions (span attributes) are computed once per driver, not
once per run (Hamilton #1714), and only when a span records.

Needs the ``opentelemetry`` extra: ``pip install "cayley[opentelemetry]"``.
"""

from __future__ import annotations

import contextvars
import json
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError as _missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "cayley.plugins.h_opentelemetry needs opentelemetry, which is not installed: "
        'pip install "cayley[opentelemetry]"'
    ) from _missing

from cayley.graph_types import HamiltonGraph, HamiltonNode
from cayley.lifecycle.api import (
    GraphExecutionHook,
    NodeExecutionHook,
    TaskExecutionHook,
    TaskSubmissionHook,
)
from cayley.lifecycle.base import BaseWorkerReport
from cayley.plugins._otel_spans import SpanRecord, WorkerSpans, readable_spans

__all__ = ["OpenTelemetryTracer", "SpanRecord"]

_PROPAGATOR = TraceContextTextMapPropagator()
_GRAPHS_KEPT = 8


@dataclass(slots=True)
class _Frame:
    """A span this adapter made current in this context, and what its children inherit."""

    owner: int
    run_id: str
    span: Any
    token: object
    item_index: int | None
    expander: str | None
    owns_span: bool  # False: the run's span made current again on a worker thread


#: The spans the adapters made current here, innermost last (each thread/task has its own).
_FRAMES: contextvars.ContextVar[tuple[_Frame, ...]] = contextvars.ContextVar(
    "cayley_otel_frames", default=()
)


@dataclass(slots=True)
class _GraphAttributes:
    """Per graph (so once per driver, not per run): node versions and span attributes."""

    graph: HamiltonGraph | None  # None on a worker, which receives the versions instead
    versions: dict[str, str | None] = field(default_factory=dict)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def version(self, name: str) -> str | None:
        """The node's code version (hashed on first use)."""
        if name not in self.versions and self.graph is not None:
            try:
                self.versions[name] = self.graph[name].version
            except KeyError:  # a step the plan made, such as an overridden expander's items
                self.versions[name] = None
        return self.versions.get(name)

    def all_versions(self) -> dict[str, str | None]:
        """Every node's version (what a worker copy needs)."""
        if self.graph is not None:
            for node in self.graph.nodes:
                self.version(node.name)
        return self.versions

    def node(self, name: str, tags: dict[str, Any], return_type: Any) -> dict[str, Any]:
        """A node span's attributes that do not change from run to run."""
        attributes = self.nodes.get(name)
        if attributes is None:
            attributes = {"type": str(return_type), "tags": json.dumps(tags, default=str)}
            version = self.version(name)
            if version is not None:
                attributes["node_version"] = version
            self.nodes[name] = attributes
        return attributes


@dataclass(slots=True)
class _RunTrace:
    """One run as this process sees it: its span (on the driver) and its graph's attributes."""

    span: Any
    context: otel_context.Context | None
    attributes: _GraphAttributes
    tracer: Any  # the driver's tracer, or a worker copy's private one
    #: The execute span records nothing (a no-op provider, or sampled out): no task or
    #: node spans are made; tasks on other threads only make the run's context current.
    silent: bool = False
    carrier: dict[str, str] | None = None


_OK = Status(StatusCode.OK)


def _status(span: Any, error: BaseException | None) -> None:
    if error is None:
        span.set_status(_OK)
    else:
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        span.record_exception(error)


def _task_name(task_id: str, item_index: int | None, expander: str | None) -> str:
    """The task's template: ``expand-urls.3.block-urls`` -> ``block-urls``."""
    if item_index is None or expander is None:
        return task_id
    return task_id.rpartition(f"expand-{expander}.{item_index}.")[2] or task_id


class OpenTelemetryTracer(
    GraphExecutionHook, TaskSubmissionHook, TaskExecutionHook, NodeExecutionHook, BaseWorkerReport
):
    """Traces runs with OpenTelemetry: a span per execute, per task and per node.

    Args:
        tracer_name: the name of the tracer taken from the global tracer provider
            (default: this module's name).
        tracer: a tracer to use instead; give at most one of the two.
    """

    def __init__(self, tracer_name: str | None = None, tracer: trace.Tracer | None = None) -> None:
        if tracer_name and tracer:
            raise ValueError(
                f"Give OpenTelemetryTracer either tracer_name or tracer, not both; got "
                f"tracer_name={tracer_name!r} and tracer={tracer!r}."
            )
        self.tracer_name = tracer_name or __name__
        self.tracer: trace.Tracer = tracer or trace.get_tracer(self.tracer_name)
        self._own_tracer = tracer is None
        self._runs: dict[str, _RunTrace] = {}
        self._graphs: dict[int, _GraphAttributes] = {}  # id(graph view) -> its attributes
        self._worker: WorkerSpans | None = None
        self._warned = False

    # ---- crossing to worker processes ---------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """What a worker copy needs: the tracer's name, each run's trace context and versions."""
        runs = {
            run_id: (run.carrier, run.attributes.all_versions())
            for run_id, run in list(self._runs.items())
            if run.carrier is not None
        }
        return {"tracer_name": self.tracer_name, "runs": runs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A copy: the spans of the driver's runs it carries are made by a private provider
        and go back to the driver; runs of its own use this process's global provider."""
        self.tracer_name = state["tracer_name"]
        self.tracer = trace.get_tracer(self.tracer_name)
        self._own_tracer = True
        self._graphs = {}
        self._warned = False
        self._worker = WorkerSpans(self.tracer_name) if state["runs"] else None
        self._runs = {
            run_id: _RunTrace(
                None,
                _PROPAGATOR.extract(carrier),
                _GraphAttributes(None, versions),
                self._worker.tracer,  # type: ignore[union-attr]
            )
            for run_id, (carrier, versions) in state["runs"].items()
        }

    def collect_worker_report(self) -> list[SpanRecord] | None:
        """On a worker copy: the spans finished since the last call, or None."""
        if self._worker is None:
            return None
        return self._worker.take() or None

    def receive_worker_report(self, *, report: Any) -> None:
        """On the driver: hands a worker's finished spans to this tracer's span processors."""
        tracer = self._sdk_tracer()
        if tracer is None:
            if not self._warned:
                self._warned = True
                warnings.warn(
                    "Spans from worker processes are dropped: OpenTelemetryTracer needs a tracer "
                    "of the OpenTelemetry SDK (opentelemetry.sdk.trace.TracerProvider) to hand "
                    f"them to its span processors; got {type(self.tracer).__name__}.",
                    RuntimeWarning,
                    stacklevel=2,
                )
            return
        for span in readable_spans(report, tracer):
            tracer.span_processor.on_end(span)

    def _sdk_tracer(self) -> Any:
        from opentelemetry.sdk.trace import Tracer as SdkTracer

        tracer = self.tracer
        if not isinstance(tracer, SdkTracer) and self._own_tracer:
            # Made before a provider was set: ask the global provider again.
            tracer = trace.get_tracer(self.tracer_name)
        return tracer if isinstance(tracer, SdkTracer) else None

    # ---- spans made current --------------------------------------------------------------
    def _enter(
        self,
        run_id: str,
        span: Any,
        item_index: int | None = None,
        expander: str | None = None,
        owns_span: bool = True,
    ) -> None:
        token = otel_context.attach(trace.set_span_in_context(span))
        frame = _Frame(id(self), run_id, span, token, item_index, expander, owns_span)
        _FRAMES.set((*_FRAMES.get(), frame))

    def _exit(self, error: BaseException | None, span: Any = None, owned: bool = True) -> None:
        """Ends this adapter's innermost span (or ``span``) and makes its parent current.

        With ``owned=False`` the innermost borrowed frame (the run's span made current on a
        worker thread) is left instead, and no span ends. Frames this adapter left open
        above the one found (a hook of another adapter failed in between) go with it.
        """
        frames = _FRAMES.get()
        me = id(self)
        for position in range(len(frames) - 1, -1, -1):
            frame = frames[position]
            if (
                frame.owner == me
                and frame.owns_span == owned
                and (span is None or frame.span is span)
            ):
                break
        else:
            if span is not None and owned:
                _status(span, error)
                span.end()
            return
        for above in reversed(frames[position + 1 :]):
            if above.owner == me and above.owns_span:
                above.span.end()
        _FRAMES.set(frames[:position])
        otel_context.detach(frame.token)
        if owned:
            _status(frame.span, error)
            frame.span.end()

    def _silent(self, run_id: str) -> bool:
        """Whether the run makes no task or node spans (here, in this process)."""
        run = self._runs.get(run_id)
        return run is None or run.silent  # unknown: a worker copy of a run recording nothing

    def _innermost(self, run_id: str) -> _Frame | None:
        frames = _FRAMES.get()
        if frames:
            frame = frames[-1]
            if frame.owner == id(self) and frame.run_id == run_id:
                return frame
        return None

    # ---- the run -------------------------------------------------------------------------
    def run_before_graph_execution(
        self,
        *,
        graph: HamiltonGraph,
        final_vars: list[str],
        inputs: dict[str, Any],
        overrides: dict[str, Any],
        execution_path: Collection[str],
        run_id: str,
        **future_kwargs: Any,
    ) -> None:
        """Starts the run's ``execute`` span under the current span and makes it current."""
        span = self.tracer.start_span("execute")
        if span.is_recording():
            span.set_attributes(
                {
                    "run_id": run_id,
                    "graph_version": graph.version,  # cached on the driver's graph view
                    "final_vars": list(final_vars),
                    "inputs": sorted(inputs or ()),
                    "overrides": sorted(overrides or ()),
                    "execution_path": list(execution_path),
                }
            )
        attributes = self._graphs.get(id(graph))
        if attributes is None or attributes.graph is not graph:
            attributes = self._graphs[id(graph)] = _GraphAttributes(graph)
            while len(self._graphs) > _GRAPHS_KEPT:  # one adapter, many drivers: keep the latest
                del self._graphs[next(iter(self._graphs))]
        silent = not span.is_recording()
        self._runs[run_id] = _RunTrace(
            span, trace.set_span_in_context(span), attributes, self.tracer, silent
        )
        self._enter(run_id, span)

    def run_after_graph_execution(
        self,
        *,
        graph: HamiltonGraph,
        success: bool,
        error: Exception | None,
        results: dict[str, Any] | None,
        run_id: str,
        **future_kwargs: Any,
    ) -> None:
        """Ends the run's span, with the error if it failed."""
        run = self._runs.pop(run_id, None)
        if run is not None:
            self._exit(error, run.span)

    # ---- tasks ---------------------------------------------------------------------------
    def run_before_task_submission(
        self,
        *,
        run_id: str,
        task_id: str,
        nodes: list[HamiltonNode],
        inputs: dict[str, Any],
        overrides: dict[str, Any],
        spawning_task_id: str | None,
        purpose: Any,
        **future_kwargs: Any,
    ) -> None:
        """On the driver: puts the run's W3C trace context where the task's copy of this
        adapter will find it (once per run)."""
        run = self._runs.get(run_id)
        if run is not None and run.carrier is None and not run.silent:
            carrier: dict[str, str] = {}
            _PROPAGATOR.inject(carrier, context=run.context)
            run.carrier = carrier

    def run_before_task_execution(
        self,
        *,
        task_id: str,
        run_id: str,
        nodes: list[HamiltonNode],
        inputs: dict[str, Any],
        overrides: dict[str, Any],
        spawning_task_id: str | None,
        purpose: Any,
        item_index: int | None = None,
        expander: str | None = None,
        **future_kwargs: Any,
    ) -> None:
        """Starts the task's span under the run's span (wherever the task runs)."""
        run = self._runs.get(run_id)
        if run is None:
            return  # a worker copy of a run that records nothing
        if run.silent:
            if self._innermost(run_id) is None:
                # Another thread: make the run's context current for code in the nodes.
                self._enter(run_id, run.span, owns_span=False)
            return
        attributes: dict[str, Any] = {
            "run_id": run_id,
            "task_id": task_id,
            "nodes": [n.name for n in nodes],
            "inputs": sorted(inputs or ()),
            "overrides": sorted(overrides or ()),
            "purpose": str(getattr(purpose, "value", purpose)),
        }
        if spawning_task_id is not None:
            attributes["spawning_task_id"] = spawning_task_id
        if item_index is not None:
            attributes["item_index"] = item_index
        if expander is not None:
            attributes["expander"] = expander
        span = run.tracer.start_span(
            _task_name(task_id, item_index, expander), context=run.context, attributes=attributes
        )
        self._enter(run_id, span, item_index, expander)

    def run_after_task_execution(
        self,
        *,
        task_id: str,
        run_id: str,
        nodes: list[HamiltonNode],
        results: dict[str, Any] | None,
        success: bool,
        error: Exception | None,
        spawning_task_id: str | None,
        purpose: Any,
        **future_kwargs: Any,
    ) -> None:
        """Ends the task's span."""
        if not self._silent(run_id):
            self._exit(error)
            return
        outer = self._innermost(run_id)
        if outer is not None and not outer.owns_span:
            self._exit(error, owned=False)

    # ---- nodes ---------------------------------------------------------------------------
    def run_before_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_kwargs: dict[str, Any],
        node_return_type: type,
        task_id: str | None,
        run_id: str,
        node_input_types: dict[str, Any],
        **future_kwargs: Any,
    ) -> None:
        """Starts the node's span under its task's (or the run's) and makes it current."""
        run = self._runs.get(run_id)
        if run is None or run.silent:
            return
        attributes = run.attributes.node(node_name, node_tags, node_return_type) | {
            "run_id": run_id
        }
        if task_id is not None:
            attributes["task_id"] = task_id
        outer = self._innermost(run_id)
        item_index = expander = None
        if outer is not None:
            parent = None  # the current context: the task's span (or the run's)
            item_index, expander = outer.item_index, outer.expander
            if item_index is not None:
                attributes["item_index"] = item_index
                attributes["expander"] = expander
        else:
            parent = run.context
        span = run.tracer.start_span(node_name, context=parent, attributes=attributes)
        self._enter(run_id, span, item_index, expander)

    def run_after_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_kwargs: dict[str, Any],
        node_return_type: type,
        result: Any,
        error: Exception | None,
        success: bool,
        task_id: str | None,
        run_id: str,
        **future_kwargs: Any,
    ) -> None:
        """Ends the node's span, with the error if the node raised."""
        if not self._silent(run_id):
            self._exit(error)
