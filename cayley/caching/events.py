"""Caching behaviours and the events a run of the cache logs.

Events are recorded as plain tuples on the hot path and turned into
:class:`CachingEvent` objects only when someone reads the logs.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from typing import Any, Literal

__all__ = [
    "CachingBehavior",
    "CachingEvent",
    "CachingEventType",
    "RunLog",
    "INFO_EVENTS",
]


class CachingBehavior(enum.Enum):
    """How the cache treats a node.

    DEFAULT: use a stored result when the node's code and inputs are unchanged, else run
        the node and store its result.
    RECOMPUTE: always run the node and store its result (for nodes whose result is not a
        function of their inputs: random draws, reads of external systems); nodes downstream
        still hit when it returns an equal value.
    DISABLE: run the node as if there were no cache: nothing is retrieved or stored. Its
        result is still fingerprinted, so nodes downstream can hit.
    IGNORE: like DISABLE, and the node is also left out of the cache keys of the nodes that
        depend on it (for clients and connections that do not change results). If it does
        change them, those nodes return stale results: use it only for such values.
    """

    DEFAULT = 1
    RECOMPUTE = 2
    DISABLE = 3
    IGNORE = 4

    @classmethod
    def from_string(cls, string: str) -> CachingBehavior:
        """``"recompute"`` -> ``CachingBehavior.RECOMPUTE``."""
        try:
            return cls[string.upper()]
        except (KeyError, AttributeError):
            raise ValueError(
                f"{string!r} is not a caching behavior; use one of {[b.name.lower() for b in cls]}."
            ) from None


class CachingEventType(enum.Enum):
    """What happened to a node."""

    GET_DATA_VERSION = "get_data_version"
    SET_DATA_VERSION = "set_data_version"
    GET_CACHE_KEY = "get_cache_key"
    SET_CACHE_KEY = "set_cache_key"
    GET_RESULT = "get_result"
    SET_RESULT = "set_result"
    MISSING_RESULT = "missing_result"
    FAILED_RETRIEVAL = "failed_retrieval"
    FAILED_STORAGE = "failed_storage"
    EXECUTE_NODE = "execute_node"
    FAILED_EXECUTION = "failed_execution"
    RESOLVE_BEHAVIOR = "resolve_behavior"
    UNHASHABLE_DATA_VERSION = "unhashable_data_version"
    IS_OVERRIDE = "is_override"
    IS_INPUT = "is_input"
    IS_FINAL_VAR = "is_final_var"


#: The events ``logs(level="info")`` shows: what was retrieved, executed (and why), stored,
#: and what went wrong.
INFO_EVENTS = frozenset(
    {
        CachingEventType.GET_RESULT,
        CachingEventType.EXECUTE_NODE,
        CachingEventType.SET_RESULT,
        CachingEventType.FAILED_RETRIEVAL,
        CachingEventType.FAILED_STORAGE,
        CachingEventType.UNHASHABLE_DATA_VERSION,
    }
)

Actor = Literal["adapter", "metadata_store", "result_store"]


@dataclasses.dataclass(frozen=True)
class CachingEvent:
    """One thing the cache did for a node (and, in fan-outs, a task)."""

    run_id: str
    actor: Actor
    event_type: CachingEventType
    node_name: str
    task_id: str | None = None
    msg: str | None = None
    value: Any | None = None
    timestamp: float = 0.0

    def __str__(self) -> str:
        parts = [self.node_name]
        if self.task_id is not None:
            parts.append(self.task_id)
        parts += [self.actor, self.event_type.value]
        if self.msg:
            parts.append(self.msg)
        return "::".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict."""
        return {
            "run_id": self.run_id,
            "timestamp": self.timestamp,
            "node_name": self.node_name,
            "task_id": self.task_id,
            "actor": self.actor,
            "event_type": self.event_type.value,
            "msg": self.msg,
            "value": str(self.value) if self.value is not None else None,
        }


#: (timestamp, actor, event type value, node, task id, message, value)
RawEvent = tuple[float, str, str, str, "str | None", "str | None", Any]


class RunLog:
    """The events of one run, as raw tuples (cheap to record).

    The tuples hold only strings, numbers and None, so the garbage collector stops tracking
    them: a fan-out of many items does not make every later collection slower. Once the run
    is over, :meth:`close` keeps the events in a tuple, which the collector stops visiting
    too (a driver keeps the logs of its recent runs: as lists, every full collection would
    walk through all their events).
    """

    __slots__ = ("run_id", "events")

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.events: list[RawEvent] | tuple[RawEvent, ...] = []

    def close(self) -> None:
        """Keeps the events recorded so far in a tuple (later events are still recorded)."""
        self.events = tuple(self.events)

    def add(
        self,
        actor: str,
        code: str,
        node_name: str,
        task_id: str | None = None,
        msg: str | None = None,
        value: Any = None,
    ) -> None:
        """Records one event; ``code`` is a :class:`CachingEventType` value (``value`` is kept
        as text unless it is a string or None)."""
        if value is not None and type(value) is not str:
            value = value.name if isinstance(value, enum.Enum) else str(value)
        if type(self.events) is tuple:  # closed: an event after the run (a late recompute)
            self.events = list(self.events)
        self.events.append((time.time(), actor, code, node_name, task_id, msg, value))

    def materialize(self, level: str) -> list[CachingEvent]:
        """The events at ``level`` (``"info"`` or ``"debug"``) as objects."""
        if level not in ("info", "debug"):
            raise ValueError(f"level must be 'info' or 'debug', got {level!r}")
        events = []
        for stamp, actor, code, node, task, msg, value in self.events:
            kind = CachingEventType(code)
            if level == "info" and kind not in INFO_EVENTS:
                continue
            if kind is CachingEventType.RESOLVE_BEHAVIOR and value is not None:
                value = CachingBehavior[value]
            events.append(
                CachingEvent(self.run_id, actor, kind, node, task, msg, value, stamp)  # type: ignore[arg-type]
            )
        return events
