"""Finished spans crossing from worker processes to the driver, for ``h_opentelemetry``.

A worker copy of :class:`~cayley.plugins.h_opentelemetry.OpenTelemetryTracer` makes its
spans with a private SDK provider (:class:`WorkerSpans`) whose processor keeps each finished
span as a :class:`SpanRecord` (plain data, picklable, ids kept). On the driver,
:func:`readable_spans` turns the records back into the SDK's ``ReadableSpan`` with the
driver tracer's resource and scope, ready for its span processors.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from opentelemetry.trace import Status, StatusCode

__all__ = ["SpanRecord", "WorkerSpans", "readable_spans", "record_of"]

_SDK_HINT = 'pip install "cayley[opentelemetry]" (it brings opentelemetry-sdk)'


class SpanRecord(NamedTuple):
    """A finished span as it travels from a worker process back to the driver."""

    name: str
    trace_id: int
    span_id: int
    parent_span_id: int | None
    parent_is_remote: bool
    trace_flags: int
    kind: int
    start_time: int
    end_time: int
    attributes: dict[str, Any]
    events: tuple[tuple[str, int, dict[str, Any]], ...]
    status_code: int
    status_description: str | None


class WorkerSpans:
    """On a worker: a private SDK provider whose finished spans wait to go to the driver."""

    def __init__(self, scope: str) -> None:
        try:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
        except ImportError as exc:
            raise ImportError(
                f"Tracing tasks in worker processes needs opentelemetry-sdk there: {_SDK_HINT}"
            ) from exc
        self.lock = threading.Lock()
        self.finished: list[SpanRecord] = []
        owner = self

        class Collect(SpanProcessor):
            """Keeps each finished span as a record until :meth:`WorkerSpans.take`."""

            def on_end(self, span: Any) -> None:
                record = record_of(span)
                with owner.lock:
                    owner.finished.append(record)

        provider = TracerProvider(resource=Resource.get_empty(), shutdown_on_exit=False)
        provider.add_span_processor(Collect())
        self.tracer = provider.get_tracer(scope)

    def take(self) -> list[SpanRecord]:
        """The spans finished since the last call (each handed out once)."""
        with self.lock:
            finished, self.finished = self.finished, []
        return finished


def record_of(span: Any) -> SpanRecord:
    """The picklable record of a finished SDK span."""
    context, parent = span.context, span.parent
    return SpanRecord(
        name=span.name,
        trace_id=context.trace_id,
        span_id=context.span_id,
        parent_span_id=parent.span_id if parent is not None else None,
        parent_is_remote=bool(parent is not None and parent.is_remote),
        trace_flags=int(context.trace_flags),
        kind=span.kind.value,
        start_time=span.start_time,
        end_time=span.end_time,
        attributes=dict(span.attributes or {}),
        events=tuple((e.name, e.timestamp, dict(e.attributes or {})) for e in span.events),
        status_code=span.status.status_code.value,
        status_description=span.status.description,
    )


def readable_spans(records: Iterable[SpanRecord], tracer: Any) -> Iterator[Any]:
    """SDK ``ReadableSpan`` objects of ``records``, with ``tracer``'s resource and scope."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, SpanKind, TraceFlags

    info = tracer.instrumentation_info
    scope = InstrumentationScope(info.name, info.version, info.schema_url)
    for record in records:
        flags = TraceFlags(record.trace_flags)
        parent = None
        if record.parent_span_id is not None:
            parent = SpanContext(
                record.trace_id, record.parent_span_id, record.parent_is_remote, flags
            )
        yield ReadableSpan(
            name=record.name,
            context=SpanContext(record.trace_id, record.span_id, False, flags),
            parent=parent,
            resource=tracer.resource,
            attributes=record.attributes,
            events=[Event(name, attrs, ts) for name, ts, attrs in record.events],
            kind=SpanKind(record.kind),
            status=Status(StatusCode(record.status_code), record.status_description),
            start_time=record.start_time,
            end_time=record.end_time,
            instrumentation_scope=scope,
        )
