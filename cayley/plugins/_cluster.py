"""What the Ray and Dask plugins share: running cayley tasks on a cluster of worker processes.

Tasks cross to the workers through the task codec (:mod:`cayley.execution.codec`), the same
one process pools use: the static part of a template goes once per run and is cached on the
workers, the per-task part carries the inputs. Inputs kept on the cluster, and large inputs
put there once per run, travel as slots that the worker fills with the values the engine
hands it. Large results stay on the cluster: the worker takes them out of the rows, the
driver gets the rest back and stands :class:`KeptValue` proxies in for the large ones.

:class:`ClusterExecutor` holds the driver side; an engine supplies how to put, fetch and
submit. Neither Ray nor Dask is imported here.
"""

from __future__ import annotations

import abc
import concurrent.futures
from collections.abc import Callable
from typing import Any, ClassVar

from cayley.execution.calls import node_error_note
from cayley.execution.codec import (
    DEFAULT_KEEP_BYTES,
    SCALARS,
    LoadCache,
    Slot,
    TaskCodec,
    WorkerTraceback,
    describe_items,
    is_large,
    run_encoded,
    shared_handle,
)
from cayley.execution.contract import TaskExecutor
from cayley.execution.modules import ByValueModules, modules_by_value
from cayley.execution.remote import RemoteValue, resolve_remote
from cayley.execution.runner import Task
from cayley.node import Node

__all__ = [
    "DEFAULT_KEEP_BYTES",
    "ByValueModules",
    "ClusterExecutor",
    "KeptValue",
    "LoadCache",
    "SCALARS",
    "WorkerTraceback",
    "describe_items",
    "is_large",
    "modules_by_value",
    "node_note",
    "run_encoded",
    "shared_handle",
    "with_remote_traceback",
]


def node_note(node: Node) -> str:
    """The note :func:`~cayley.execution.calls.note_node_error` puts on an error of ``node``."""
    return node_error_note(node)


def with_remote_traceback(
    exc: BaseException, text: str | None, kind: type[WorkerTraceback]
) -> BaseException:
    """``exc`` with the worker's traceback ``text`` as its cause (a ``kind``), unless it has one."""
    if text and exc.__cause__ is None:
        exc.__cause__ = kind(text)
    return exc


def _fresh_stats() -> dict[str, int]:
    return {"tasks": 0, "items": 0, "kept": 0, "fetched": 0, "shared": 0}


class KeptValue(RemoteValue):
    """A task result left on the cluster of ``owner``, fetched on demand through ``handle``."""

    def __init__(self, owner: ClusterExecutor, handle: Any, where: str) -> None:
        self.owner = owner
        self.handle = handle
        self.where = where

    def resolve(self) -> Any:
        """Fetches the value from the cluster."""
        return self.owner.fetch_kept(self)

    @classmethod
    def resolve_many(cls, values: list[RemoteValue]) -> list[Any]:
        """Fetches values kept by one executor with one call to its cluster."""
        return values[0].owner.fetch_many_kept(values)

    def __repr__(self) -> str:
        return f"<value of {self.where} kept on {self.owner.engine}>"


class ClusterExecutor(TaskExecutor):
    """Runs per-item tasks on a cluster, keeping large results and inputs there.

    Subclasses name their engine and supply :meth:`_new_template` (the per-template record,
    with a ``split`` flag: whether results are expected to be large), :meth:`_put`,
    :meth:`_fetch_one`, :meth:`_fetch_many`, :meth:`_stop` and ``submit``, which builds on
    :meth:`_prepare`, :meth:`_track` and :meth:`_settle`.
    """

    in_process = False
    keeps_values_remote = True
    chunk_target_seconds = 0.1

    engine: ClassVar[str] = "cluster"
    _store: ClassVar[str] = "the cluster"
    _error_type: ClassVar[type[Exception]] = RuntimeError
    _fetch_errors: ClassVar[tuple[type[BaseException], ...]] = (Exception,)
    _traceback_type: ClassVar[type[WorkerTraceback]] = WorkerTraceback

    def __init__(self, keep_bytes: int) -> None:
        self.keep_bytes = keep_bytes
        self.capacity = 4
        self.codec = TaskCodec(self.engine, self._traceback_type)
        self._templates: dict[str, Any] = {}  # static key -> the engine's template record
        self._shared: dict[int, tuple[Any, Any]] = {}
        self._active: dict[concurrent.futures.Future, Any] = {}
        #: Counters of the current or last run: tasks, items, values kept on the cluster,
        #: kept values fetched by the driver, and inputs the driver put there.
        self.stats: dict[str, int] = _fresh_stats()

    # ---- lifecycle ----------------------------------------------------------------------
    def init(self) -> None:
        """Sets the counters of :attr:`stats` to zero."""
        self.stats = _fresh_stats()

    @abc.abstractmethod
    def _stop(self) -> None:
        """Stops what this executor started on the engine."""

    def _release(self) -> None:
        self._templates.clear()
        self._shared.clear()
        self._active.clear()
        self.codec.clear()
        self._stop()

    def finalize(self) -> None:
        """Forgets the run's objects; stops the engine if this executor started it."""
        self._release()

    # ---- submission ---------------------------------------------------------------------
    @abc.abstractmethod
    def _new_template(self, task: Task, key: str, static: bytes) -> Any:
        """The record of a new template: ``static`` is its static part, ``key`` its cache key."""

    @abc.abstractmethod
    def _put(self, value: Any) -> Any:
        """Places ``value`` on the cluster; returns its handle."""

    def _template_info(self, task: Task) -> Any:
        part = self.codec.static_part(task)
        info = self._templates.get(part.key)
        if info is None:
            info = self._templates[part.key] = self._new_template(task, part.key, part.blob)
        return info

    def _put_shared(self, value: Any) -> Any:
        self.stats["shared"] += 1
        return self._put(value)

    def _share(self, value: Any) -> Any:
        """A handle for a large plain input (put once per run), else None."""
        return shared_handle(self._shared, value, self.keep_bytes, self._put_shared)

    def _outgoing(self, task: Task) -> tuple[list[dict[str, Any]], list[Slot], list[Any]]:
        """The task's inputs with kept values and large inputs replaced by slots."""
        inputs: list[dict[str, Any]] = []
        slots: list[Slot] = []
        handles: list[Any] = []
        for item, values in enumerate(task.inputs):
            out = dict(values)
            for name, value in values.items():
                if isinstance(value, KeptValue) and value.owner is self:
                    slots.append(Slot(item, name, -1))
                    handles.append(value.handle)
                    out[name] = None
                elif type(value) is list and any(isinstance(v, RemoteValue) for v in value):
                    copy = list(resolve_remote(value, keep=self))
                    for position, element in enumerate(copy):
                        if isinstance(element, KeptValue) and element.owner is self:
                            slots.append(Slot(item, name, position))
                            handles.append(element.handle)
                            copy[position] = None
                    out[name] = copy
                elif isinstance(value, RemoteValue):
                    out[name] = value.resolve()
                else:
                    handle = self._share(value)
                    if handle is not None:
                        slots.append(Slot(item, name, -1))
                        handles.append(handle)
                        out[name] = None
            inputs.append(out)
        return inputs, slots, handles

    def _prepare(self, task: Task) -> tuple[Any, bytes, list[Any]]:
        """The template record, the per-task bytes and the handles of its slots."""
        info = self._template_info(task)
        inputs, slots, handles = self._outgoing(task)
        return info, self.codec.encode(task, inputs, slots), handles

    def _track(self, future: concurrent.futures.Future, pending: Any, items: int) -> None:
        """Counts a submitted task and keeps ``pending`` (to cancel) until ``future`` is done."""
        self._active[future] = pending
        future.add_done_callback(self._forget)
        self.stats["tasks"] += 1
        self.stats["items"] += items

    def _forget(self, future: concurrent.futures.Future) -> None:
        self._active.pop(future, None)

    def _lost(self, task: Task, message: str) -> BaseException:
        """The error of a task the engine could not run; pinned on its item when alone."""
        if len(task.inputs) == 1:
            task.failed_item = 0
        return self._error_type(message)

    # ---- results ------------------------------------------------------------------------
    def _settle(
        self,
        packed: bytes,
        task: Task,
        info: Any,
        kept: Callable[[int, int], Any] | None,
    ) -> list[tuple[Any, ...]]:
        """The rows of a task from its packed outcome; raises the node's error.

        ``kept(item, export)`` gives the handle of a large result the worker took out of the
        rows; None when the task was not split. Whether the template's next tasks are split
        follows whether this one had large results.
        """
        outcome = self.codec.decode(packed, task)
        rows, large = outcome.value, outcome.large
        if kept is None:
            if large:
                info.split = True
            return rows
        info.split = bool(large)
        if large:
            rows = [list(row) for row in rows]
            labels = task.labels
            exports = task.template.exports
            for r, j in large:
                where = f"{exports[j]!r}" + (
                    f" ({labels[r].item})" if labels and labels[r].item else ""
                )
                rows[r][j] = KeptValue(self, kept(r, j), where)
            rows = [tuple(row) for row in rows]
            self.stats["kept"] += len(large)
        return rows

    @abc.abstractmethod
    def _fetch_one(self, handle: Any) -> Any:
        """The value behind one handle."""

    @abc.abstractmethod
    def _fetch_many(self, handles: list[Any]) -> list[Any]:
        """The values behind several handles, in one call to the engine."""

    def fetch_kept(self, value: KeptValue) -> Any:
        """The value behind a :class:`KeptValue` of this executor."""
        self.stats["fetched"] += 1
        try:
            return self._fetch_one(value.handle)
        except self._fetch_errors as exc:
            raise self._error_type(
                f"Could not fetch {value.where} from {self._store}: {type(exc).__name__}: {exc}"
            ) from exc

    def fetch_many_kept(self, values: list[KeptValue]) -> list[Any]:
        """The values behind several :class:`KeptValue` objects of this executor, in one call."""
        self.stats["fetched"] += len(values)
        return self._fetch_many([v.handle for v in values])
