"""What the Ray and Dask plugins share: running cayley tasks on a cluster of worker processes.

A task travels as a static part (template, adapters, run id), serialized once per template
and cached on the workers, and a small per-task part (inputs, labels). Inputs kept on the
cluster, and large inputs put there once per run, travel as slots that the worker fills
with the values the engine hands it. Large results stay on the cluster: the worker takes
them out of the rows, the driver gets the rest back as a small cloudpickled head and
stands :class:`KeptValue` proxies in for the large ones.

:class:`ClusterExecutor` holds the driver side; an engine supplies how to put, fetch and
submit. Neither Ray nor Dask is imported here.
"""

from __future__ import annotations

import abc
import concurrent.futures
import pickle
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar

import cloudpickle

from cayley._compat import add_note
from cayley.execution.executors import (
    ByValueModules,
    SerializationError,
    TaskExecutor,
    describe_unserializable,
    modules_by_value,
)
from cayley.execution.runner import (
    RemoteValue,
    Task,
    execute_task,
    node_error_note,
    resolve_remote,
)
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
    "encode_head",
    "is_large",
    "locate",
    "modules_by_value",
    "node_note",
    "run_task",
    "shared_handle",
    "with_remote_traceback",
]

#: Values whose serialized size exceeds this many bytes stay on the cluster.
DEFAULT_KEEP_BYTES = 100_000

#: Types whose values are never large.
SCALARS = frozenset({type(None), bool, int, float, complex})


class WorkerTraceback(Exception):
    """The traceback of an exception raised on a cluster worker (set as its ``__cause__``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


# ---- sizes ----------------------------------------------------------------------------------
class _TooBig(Exception):
    pass


class _Meter:
    """A write-only file that counts bytes and gives up past a limit."""

    __slots__ = ("size", "limit")

    def __init__(self, limit: int) -> None:
        self.size = 0
        self.limit = limit

    def write(self, data: Any) -> int:
        size = data.nbytes if isinstance(data, memoryview) else len(data)
        self.size += size
        if self.size > self.limit:
            raise _TooBig
        return size


def is_large(value: Any, limit: int) -> bool:
    """Whether ``value`` serializes to more than ``limit`` bytes.

    Scalars and short strings answer at once; anything else is pickled into a counter that
    stops as soon as the limit is passed (array buffers are counted without being copied),
    so the check never costs more than serializing ``limit`` bytes.
    """
    kind = type(value)
    if kind in SCALARS:
        return False
    if kind is str or kind is bytes or kind is bytearray:
        return len(value) > limit
    meter = _Meter(limit)

    def count_buffer(buffer: pickle.PickleBuffer) -> bool:
        meter.size += memoryview(buffer).nbytes
        if meter.size > limit:
            raise _TooBig
        return False

    try:
        cloudpickle.CloudPickler(meter, protocol=5, buffer_callback=count_buffer).dump(value)
    except _TooBig:
        return True
    except Exception:
        return False
    return False


def shared_handle(
    shared: dict[int, tuple[Any, Any]], value: Any, limit: int, put: Callable[[Any], Any]
) -> Any:
    """The cluster handle of a large ``value``, put there once while ``shared`` is kept.

    ``shared`` maps ``id(value)`` to ``(value, handle)``; ``put`` places a value on the
    cluster. Returns None for values of ``limit`` bytes or less.
    """
    if type(value) in SCALARS:
        return None
    found = shared.get(id(value))
    if found is not None and found[0] is value:
        return found[1]
    if not is_large(value, limit):
        return None
    handle = put(value)
    shared[id(value)] = (value, handle)
    return handle


# ---- errors ---------------------------------------------------------------------------------
def node_note(node: Node) -> str:
    """The note :func:`~cayley.execution.runner.note_node_error` puts on an error of ``node``."""
    return node_error_note(node)


def with_remote_traceback(
    exc: BaseException, text: str | None, kind: type[WorkerTraceback]
) -> BaseException:
    """``exc`` with the worker's traceback ``text`` as its cause (a ``kind``), unless it has one."""
    if text and exc.__cause__ is None:
        exc.__cause__ = kind(text)
    return exc


def encode_head(
    engine: str, ok: bool, value: Any, elapsed: float | None, large: Any, text: str | None
) -> bytes:
    """The small part of a task's outcome, pickled with cloudpickle on the ``engine`` worker.

    Pickling here (not by the engine) keeps classes defined in run-time modules identical to
    the driver's, so a node's own exception type can be caught. An error that cannot be
    pickled becomes a RuntimeError with the same message and notes.
    """
    try:
        return cloudpickle.dumps((ok, value, elapsed, large, text))
    except Exception as exc:
        if ok:
            error: BaseException = SerializationError(
                f"Cannot send the results of the task back from the {engine} worker: "
                f"{type(exc).__name__}: {exc}"
            )
        else:
            error = RuntimeError(f"{type(value).__name__}: {value}")
            for note in getattr(value, "__notes__", ()):
                add_note(error, note)
            if hasattr(value, "_cayley_item"):
                error._cayley_item = value._cayley_item  # type: ignore[attr-defined]
        return cloudpickle.dumps((False, error, None, None, text))


def describe_items(task: Task) -> str:
    """``task 'x' (nodes 'a', 'b'; item 3 of 'x')`` for error messages."""
    nodes = ", ".join(repr(n.name) for n in task.template.nodes) or repr(task.template.base_id)
    items = [label.item for label in task.labels or [] if label.item]
    where = f"task {task.task_id!r} (nodes {nodes}"
    if items:
        more = f" and {len(items) - 3} more" if len(items) > 3 else ""
        where += f"; {'; '.join(items[:3])}{more}"
    elif len(task.inputs) > 1:
        where += f"; one of its {len(task.inputs)} items"
    return where + ")"


def locate(error: BaseException, task: Task) -> BaseException:
    """Marks ``error`` as raised by the task's only item, so the scheduler names the item."""
    if len(task.inputs) == 1:
        error._cayley_item = 0  # type: ignore[attr-defined]
    return error


# ---- worker side ----------------------------------------------------------------------------
class LoadCache:
    """The last ``size`` objects loaded on a worker, by key (the oldest is dropped first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str, load: Callable[[], Any]) -> Any:
        """The object cached under ``key``, loaded with ``load`` when it is not there."""
        found = self._items.get(key)
        if found is None:
            found = load()
            self._items[key] = found
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return found


_STATIC = LoadCache(64)


def _fill_slots(
    inputs: list[dict[str, Any]], slots: list[tuple[int, str, int]], values: list[Any]
) -> None:
    """Puts fetched values where the driver left ``(item, name, position)`` slots."""
    for index, (item, name, position) in enumerate(slots):
        if position < 0:
            inputs[item][name] = values[index]
        else:
            inputs[item][name][position] = values[index]


def run_task(
    engine: str,
    key: str,
    static: Callable[[], bytes],
    blob: bytes,
    fetch: Callable[[], list[Any]],
    split: bool,
    keep_bytes: int,
) -> tuple[bytes, dict[int, Any]]:
    """Worker side of a :class:`ClusterExecutor`: rebuilds the task, runs it, splits results.

    ``static`` gives the template's serialized static part (loaded once per ``key``);
    ``fetch`` gives the values of the slots of ``blob``. Returns the head
    ``(ok, rows or error, elapsed, large positions, traceback)`` pickled by
    :func:`encode_head`, and, when ``split``, the large results taken out of the rows by
    position ``item * len(exports) + export``.
    """
    taken: dict[int, Any] = {}
    try:
        template, adapters, run_id, materialize = _STATIC.get(
            key, lambda: cloudpickle.loads(static())
        )
        inputs, labels, slots = cloudpickle.loads(blob)
        _fill_slots(inputs, slots, fetch())
        task = Task(template, inputs, labels, run_id, adapters, materialize)
        rows = execute_task(task)
        width = len(template.exports)
        keep = [j for j, name in enumerate(template.exports) if name not in template.expanders]
        large = [(r, j) for r, row in enumerate(rows) for j in keep if is_large(row[j], keep_bytes)]
        if split and large:
            rows = [list(row) for row in rows]
            for r, j in large:
                taken[r * width + j] = rows[r][j]
                rows[r][j] = None
            rows = [tuple(row) for row in rows]
        head = encode_head(engine, True, rows, task.elapsed, large, None)
    except Exception as exc:
        head = encode_head(engine, False, exc, None, None, "".join(traceback.format_exception(exc)))
        taken = {}
    return head, taken


# ---- driver side ----------------------------------------------------------------------------
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
        return self.owner._fetch_kept(self)

    def __repr__(self) -> str:
        return f"<value of {self.where} kept on {self.owner._engine}>"


class ClusterExecutor(TaskExecutor):
    """Runs per-item tasks on a cluster, keeping large results and inputs there.

    Subclasses name their engine and supply :meth:`_new_template` (the per-template record,
    with a ``split`` flag: whether results are expected to be large), :meth:`_put`,
    :meth:`_fetch_one`, :meth:`_fetch_many`, :meth:`_stop` and ``submit_task``, which
    builds on :meth:`_prepare`, :meth:`_track` and :meth:`_settle`.
    """

    inline = False
    runs_in_process = False
    chunk_target_seconds = 0.1
    returns_remote_values = True

    _engine: ClassVar[str] = "cluster"
    _store: ClassVar[str] = "the cluster"
    _error_type: ClassVar[type[Exception]] = RuntimeError
    _fetch_errors: ClassVar[tuple[type[BaseException], ...]] = (Exception,)
    _traceback_type: ClassVar[type[WorkerTraceback]] = WorkerTraceback

    def __init__(self, keep_bytes: int) -> None:
        self.keep_bytes = keep_bytes
        self.capacity = 4
        self._templates: dict[tuple[int, int], Any] = {}
        self._shared: dict[int, tuple[Any, Any]] = {}
        self._active: dict[concurrent.futures.Future, Any] = {}
        self._by_value = ByValueModules()
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
        self._by_value.clear()
        self._stop()

    def finalize(self) -> None:
        """Forgets the run's objects; stops the engine if this executor started it."""
        self._release()

    def can_submit_task(self) -> bool:
        """Whether fewer than ``capacity`` tasks are in flight."""
        return len(self._active) < self.capacity

    # ---- submission ---------------------------------------------------------------------
    @abc.abstractmethod
    def _new_template(self, task: Task, key: str, static: bytes) -> Any:
        """The record of a new template: ``static`` is its static part, ``key`` its cache key."""

    @abc.abstractmethod
    def _put(self, value: Any) -> Any:
        """Places ``value`` on the cluster; returns its handle."""

    def _template_info(self, task: Task) -> Any:
        cache_key = (id(task.template), id(task.adapters))
        info = self._templates.get(cache_key)
        if info is None:
            self._by_value.add_task(task)
            static = cloudpickle.dumps(
                (task.template, task.adapters, task.run_id, task.materialize_expanders)
            )
            key = f"{task.run_id}:{id(task.template)}:{time.monotonic_ns()}"
            info = self._new_template(task, key, static)
            self._templates[cache_key] = info
        return info

    def _put_shared(self, value: Any) -> Any:
        self.stats["shared"] += 1
        return self._put(value)

    def _share(self, value: Any) -> Any:
        """A handle for a large plain input (put once per run), else None."""
        return shared_handle(self._shared, value, self.keep_bytes, self._put_shared)

    def _outgoing(self, task: Task) -> tuple[list[dict[str, Any]], list[Any], list[Any]]:
        """The task's inputs with kept values and large inputs replaced by slots."""
        inputs: list[dict[str, Any]] = []
        slots: list[tuple[int, str, int]] = []
        handles: list[Any] = []
        for item, values in enumerate(task.inputs):
            out = dict(values)
            for name, value in values.items():
                if isinstance(value, KeptValue) and value.owner is self:
                    slots.append((item, name, -1))
                    handles.append(value.handle)
                    out[name] = None
                elif type(value) is list and any(isinstance(v, RemoteValue) for v in value):
                    copy = list(resolve_remote(value, keep=self))
                    for position, element in enumerate(copy):
                        if isinstance(element, KeptValue) and element.owner is self:
                            slots.append((item, name, position))
                            handles.append(element.handle)
                            copy[position] = None
                    out[name] = copy
                elif isinstance(value, RemoteValue):
                    out[name] = value.resolve()
                else:
                    handle = self._share(value)
                    if handle is not None:
                        slots.append((item, name, -1))
                        handles.append(handle)
                        out[name] = None
            inputs.append(out)
        return inputs, slots, handles

    def _prepare(self, task: Task) -> tuple[Any, bytes, list[Any]]:
        """The template record, the per-task blob and the handles of its slots."""
        try:
            info = self._template_info(task)
            inputs, slots, handles = self._outgoing(task)
            blob = cloudpickle.dumps((inputs, task.labels, slots))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise describe_unserializable(task, exc) from exc
        return info, blob, handles

    def _track(self, future: concurrent.futures.Future, pending: Any, items: int) -> None:
        """Counts a submitted task and keeps ``pending`` (to cancel) until ``future`` is done."""
        self._active[future] = pending
        future.add_done_callback(self._forget)
        self.stats["tasks"] += 1
        self.stats["items"] += items

    def _forget(self, future: concurrent.futures.Future) -> None:
        self._active.pop(future, None)

    # ---- results ------------------------------------------------------------------------
    def _settle(
        self,
        outcome: tuple[Any, ...],
        task: Task,
        info: Any,
        kept: Callable[[int, int], Any] | None,
    ) -> tuple[list[tuple[Any, ...]], float | None]:
        """The rows and time of a task from its unpickled head; raises the node's error.

        ``kept(item, export)`` gives the handle of a large result the worker took out of the
        rows; None when the task was not split. Whether the template's next tasks are split
        follows whether this one had large results.
        """
        ok, rows, elapsed, large, text = outcome
        if not ok:
            raise with_remote_traceback(rows, text, self._traceback_type)
        if kept is None:
            if large:
                info.split = True
            return rows, elapsed
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
        return rows, elapsed

    @abc.abstractmethod
    def _fetch_one(self, handle: Any) -> Any:
        """The value behind one handle."""

    @abc.abstractmethod
    def _fetch_many(self, handles: list[Any]) -> list[Any]:
        """The values behind several handles, in one call to the engine."""

    def _fetch_kept(self, value: KeptValue) -> Any:
        self.stats["fetched"] += 1
        try:
            return self._fetch_one(value.handle)
        except self._fetch_errors as exc:
            raise self._error_type(
                f"Could not fetch {value.where} from {self._store}: {type(exc).__name__}: {exc}"
            ) from exc

    def resolve_many(self, values: list[RemoteValue]) -> list[Any]:
        """Fetches several kept values of this executor with one call to the cluster."""
        self.stats["fetched"] += len(values)
        return self._fetch_many([v.handle for v in values])  # type: ignore[attr-defined]
