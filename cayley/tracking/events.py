"""What the tracker records while a dataflow runs: event tuples and the records they carry.

Events are plain tuples whose first field is their kind, so recording one costs a tuple and
a ``deque.append`` on the hot path; :mod:`cayley.tracking.book` unpacks each kind in one
place, by the layouts documented here:

- ``(RUN_START, run_id, wall_time, RunInfo)``
- ``(RUN_END, run_id, wall_time, ErrorInfo | None)``
- ``(NODE_START, run_id, node_name, task_id, wall_time, thread)``
- ``(NODE_END, run_id, node_name, task_id, wall_time, thread, ErrorInfo | None)``
- ``(ITEM_END, run_id, node_name, task_id, started, ended, thread, ErrorInfo | None)``:
  a node call inside a fan-out task, recorded once it ended
- ``(ITEMS, run_id, nodes, task_ids, started, ended, errors, thread)``: the node calls of
  one run of a task of fan-out items, as the columns of
  :class:`~cayley.lifecycle.base.ItemTimings`, with ``errors`` mapping the position of each
  failed call to its ``ErrorInfo`` (None when no call failed)
- ``(REPORT, WorkerReport)``: events recorded by an adapter copy in another process

``thread`` is the :class:`threading.Thread` that ran the node; in a report it is the
thread's name (threads do not cross processes), which the book turns into a worker label
(``pid:thread`` or ``host:pid:thread``).
"""

from __future__ import annotations

import sys
import traceback
from typing import Any, NamedTuple

__all__ = [
    "ITEMS",
    "ITEM_END",
    "NODE_END",
    "NODE_START",
    "REPORT",
    "RUN_END",
    "RUN_START",
    "ErrorInfo",
    "RunInfo",
    "WorkerReport",
    "error_info",
    "type_name",
]

RUN_START = 0
RUN_END = 1
NODE_START = 2
NODE_END = 3
REPORT = 4
ITEM_END = 5
ITEMS = 6


class ErrorInfo(NamedTuple):
    """An exception as text: it crosses processes and outlives its frames."""

    type: str
    message: str
    traceback: str


class RunInfo(NamedTuple):
    """What is known about a run when it starts."""

    project: str
    graph: Any  # the driver's FunctionGraph, described by the writer thread
    outputs: list[str]
    inputs: dict[str, str]  # input name -> type name
    overrides: list[str]
    execution_path: list[str]
    host: str
    pid: int


class WorkerReport(NamedTuple):
    """Events recorded by an adapter copy in a worker process, sent back to the driver."""

    host: str
    pid: int
    events: list[tuple[Any, ...]]  # node events whose thread is the thread's name


def type_name(value: Any) -> str:
    """``module.QualName`` of a value's type (builtins without the module)."""
    cls = type(value)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def error_info(error: BaseException) -> ErrorInfo:
    """The type, message and formatted traceback (with notes) of ``error``."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    if sys.version_info < (3, 11):  # older tracebacks do not print PEP 678 notes
        notes = getattr(error, "__notes__", ())
        text += "".join(f"{note}\n" for note in notes)
    return ErrorInfo(type_name(error), str(error), text)
