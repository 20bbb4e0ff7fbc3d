"""The task codec: how a task crosses to a worker process and how its outcome comes back.

One format serves process pools, Ray and Dask; they differ only in how they move bytes and
keep objects, not in what the bytes mean.

Going out, a task is split in two parts:

- the *static* part, shared by every task of a template in a run (template, adapters, run
  id, whether expander generators are drained): pickled once per template by
  :class:`TaskCodec` and cached on the workers under its key (:data:`TEMPLATES`);
- the *per-task* part: the items' inputs and labels, plus *slots*: positions of inputs left
  out of the bytes because the engine hands them over itself (large values kept on a
  cluster).

Modules that workers cannot import are registered to travel by value
(:mod:`cayley.execution.modules`), and everything is pickled with cloudpickle.

Coming back, :func:`run_encoded` packs one :class:`Outcome` record: success with the rows,
or the error with the worker's formatted traceback and the index of the failing item, the
time spent, what worker copies of the adapters report (``BaseWorkerReport``), and which
large results were left on the worker. :meth:`TaskCodec.decode` unpacks it on the driver,
sets ``elapsed``, ``failed_item`` and ``reports`` on the task, and raises the node's own
exception with the worker traceback as its ``__cause__`` (as :mod:`concurrent.futures`
does for process pools).
"""

from __future__ import annotations

import pickle
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

import cloudpickle

from cayley._compat import add_note
from cayley.execution.contract import SerializationError
from cayley.execution.modules import ByValueModules
from cayley.execution.runner import Task, TaskTemplate, execute_task
from cayley.lifecycle.base import LifecycleAdapterSet, adapter_label

__all__ = [
    "DEFAULT_KEEP_BYTES",
    "SCALARS",
    "TEMPLATES",
    "LoadCache",
    "Outcome",
    "Slot",
    "StaticPart",
    "TaskCodec",
    "WorkerTraceback",
    "describe_items",
    "describe_unserializable",
    "is_large",
    "run_encoded",
    "shared_handle",
]

#: Values whose serialized size exceeds this many bytes stay on the cluster.
DEFAULT_KEEP_BYTES = 100_000

#: Types whose values are never large.
SCALARS = frozenset({type(None), bool, int, float, complex})


class WorkerTraceback(Exception):
    """The traceback of an exception raised in a worker (set as its ``__cause__``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


class Outcome(NamedTuple):
    """What a worker sends back for one task."""

    ok: bool
    value: Any  # the rows (one tuple of exports per item), or the exception raised
    traceback: str | None  # the worker's formatted traceback of the exception
    item: int | None  # position of the failing item in the task's inputs
    elapsed: float  # seconds the worker spent running the task
    reports: tuple[Any, ...] | None  # per BaseWorkerReport adapter, what its copy collected
    large: tuple[tuple[int, int], ...] = ()  # (item, export) of results left on the worker


class Slot(NamedTuple):
    """An input left out of the per-task bytes: the engine hands its value to the worker."""

    item: int  # position of the item in the task's inputs
    name: str  # the input's name
    position: int  # index inside a gathered list, or -1 for the value itself


class StaticPart(NamedTuple):
    """The static part of a template's tasks in one run: its cache key and its bytes."""

    key: str
    blob: bytes


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
    """The engine handle of a large ``value``, put there once while ``shared`` is kept.

    ``shared`` maps ``id(value)`` to ``(value, handle)``; ``put`` places a value on the
    engine. Returns None for values of ``limit`` bytes or less.
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


# ---- worker side ----------------------------------------------------------------------------
class LoadCache:
    """The last ``size`` objects loaded in a worker, by key (the oldest is dropped first)."""

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


#: Static parts loaded in this worker process, by key.
TEMPLATES = LoadCache(64)


def _fill_slots(inputs: list[dict[str, Any]], slots: list[Slot], values: list[Any]) -> None:
    for (item, name, position), value in zip(slots, values):
        if position < 0:
            inputs[item][name] = value
        else:
            inputs[item][name][position] = value


def _collect_reports(adapters: LifecycleAdapterSet | None) -> tuple[Any, ...] | None:
    if adapters is None or not adapters.collect_worker_report:
        return None
    reports = []
    for collect in adapters.collect_worker_report:
        try:
            reports.append(collect())
        except Exception as exc:
            add_note(exc, f"raised in lifecycle adapter {adapter_label(collect)}")
            raise
    return tuple(reports) if any(r is not None for r in reports) else None


def _split_large(
    rows: list[tuple[Any, ...]], task: Task, keep_bytes: int, split: bool
) -> tuple[list[tuple[Any, ...]], tuple[tuple[int, int], ...], dict[int, Any]]:
    """Finds results larger than ``keep_bytes``; with ``split``, takes them out of the rows.

    Returns the rows, the (item, export) positions of the large results, and the values
    taken out by ``item * width + export``.
    """
    template = task.template
    width = len(template.exports)
    kept = [j for j, name in enumerate(template.exports) if name not in template.expanders]
    large = tuple(
        (r, j) for r, row in enumerate(rows) for j in kept if is_large(row[j], keep_bytes)
    )
    taken: dict[int, Any] = {}
    if large and split:
        lists = [list(row) for row in rows]
        for r, j in large:
            taken[r * width + j] = lists[r][j]
            lists[r][j] = None
        rows = [tuple(row) for row in lists]
    return rows, large, taken


_STAY_LOCAL = (
    "Run the block on MultiThreadingExecutor (tasks stay in this process, nothing is serialised)"
)


def _unsendable_result(task: Task, rows: list[tuple[Any, ...]], engine: str) -> Outcome | None:
    """An error outcome naming the node and item whose result cannot be pickled, if any."""
    for index, row in enumerate(rows):
        for name, value in zip(task.template.exports, row):
            try:
                cloudpickle.dumps(value)
            except Exception as exc:
                label = task.labels[index].item if task.labels else None
                problem = SerializationError(
                    f"The result of node {name!r} ({type(value).__name__}) cannot be sent back "
                    f"from the {engine} worker: {type(exc).__name__}: {exc}. {_STAY_LOCAL} or "
                    f"return a value that pickles (plain data rather than handles, locks or "
                    f"connections)."
                )
                add_note(
                    problem, f"while returning node {name!r}" + (f", {label}" if label else "")
                )
                return Outcome(False, problem, None, index, task.elapsed, None)
    return None


def _pack(outcome: Outcome, engine: str, task: Task | None = None) -> bytes:
    """``outcome`` pickled with cloudpickle; what cannot be pickled becomes an error.

    Pickling here (not by the engine) keeps classes of by-value modules identical to the
    driver's, so a node's own exception type can be caught there.
    """
    try:
        return cloudpickle.dumps(outcome)
    except Exception as exc:
        problem = exc
    if outcome.reports is not None:
        try:
            cloudpickle.dumps(outcome.reports)
        except Exception as exc:
            error: BaseException = SerializationError(
                f"A worker report of the {engine} worker cannot be sent back: "
                f"{type(exc).__name__}: {exc}. collect_worker_report() must return "
                "picklable data."
            )
            return cloudpickle.dumps(outcome._replace(ok=False, value=error, reports=None))
    if outcome.ok:
        bad = _unsendable_result(task, outcome.value, engine) if task is not None else None
        if bad is not None:
            return cloudpickle.dumps(bad)
        error = SerializationError(
            f"Cannot send the results of the task back from the {engine} worker: "
            f"{type(problem).__name__}: {problem}"
        )
    else:
        error = RuntimeError(f"{type(outcome.value).__name__}: {outcome.value}")
        for note in getattr(outcome.value, "__notes__", ()):
            add_note(error, note)
    return cloudpickle.dumps(outcome._replace(ok=False, value=error, large=(), reports=None))


def _reports_after_failure(task: Task | None) -> tuple[Any, ...] | None:
    """What adapter copies collected during a task that failed."""
    if task is None:
        return None  # the task could not even be rebuilt
    try:
        return _collect_reports(task.adapters)
    except Exception:
        return None  # the task's own error is the one to report


def run_encoded(
    key: str,
    static: Callable[[], bytes],
    blob: bytes,
    fetch: Callable[[], list[Any]] | None = None,
    keep_bytes: int | None = None,
    split: bool = False,
    engine: str = "process",
) -> tuple[bytes, dict[int, Any]]:
    """Worker side: rebuilds a task, runs it and packs its :class:`Outcome`.

    ``static`` gives the template's static bytes (loaded once per ``key``); ``fetch`` gives
    the values of the slots of ``blob``. With ``keep_bytes``, the outcome lists in ``large``
    the results bigger than that; with ``split`` too, they stay here: they are returned
    apart, by position ``item * len(exports) + export``. Returns the packed outcome and
    those values.
    """
    started = time.perf_counter()
    task: Task | None = None
    try:
        template, adapters, run_id, materialize = TEMPLATES.get(
            key, lambda: cloudpickle.loads(static())
        )
        inputs, labels, slots = cloudpickle.loads(blob)
        if slots:
            _fill_slots(inputs, slots, fetch() if fetch is not None else [])
        task = Task(template, inputs, labels, run_id, adapters, materialize)
        rows = execute_task(task)
    except Exception as exc:
        outcome = Outcome(
            ok=False,
            value=exc,
            traceback="".join(traceback.format_exception(exc)),
            item=task.failed_item if task is not None else None,
            elapsed=time.perf_counter() - started,
            reports=_reports_after_failure(task),
        )
        return _pack(outcome, engine), {}
    try:
        reports = _collect_reports(adapters)
    except Exception as exc:
        text = "".join(traceback.format_exception(exc))
        return _pack(Outcome(False, exc, text, None, task.elapsed, None), engine), {}
    taken: dict[int, Any] = {}
    large: tuple[tuple[int, int], ...] = ()
    if keep_bytes is not None:
        rows, large, taken = _split_large(rows, task, keep_bytes, split)
    packed = _pack(Outcome(True, rows, None, None, task.elapsed, reports, large), engine, task)
    return packed, taken


# ---- driver side ----------------------------------------------------------------------------
def _objects_of(template: TaskTemplate, adapters: LifecycleAdapterSet | None) -> list[Any]:
    """The functions and classes a static part refers to (for by-value modules)."""
    objects: list[Any] = []
    for step in template.steps:
        objects.append(step.fn)
        if step.retry is not None:
            objects.append(step.retry.fn)
        objects.extend(step.node.originating_functions or ())
    if adapters is not None:
        objects.extend(type(adapter) for adapter in adapters.adapters)
    return objects


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


def describe_unserializable(task: Task, error: Exception) -> SerializationError:
    """Names the node and argument (or node function) that cannot be serialised."""
    consumers: dict[str, list[str]] = {}
    for step in task.template.steps:
        for param, source in step.args:
            consumers.setdefault(source, []).append(f"{step.name}({param}=...)")
    for values in task.inputs:
        for key, value in values.items():
            try:
                cloudpickle.dumps(value)
            except Exception as exc:
                where = ", ".join(consumers.get(key, [key]))
                return SerializationError(
                    f"Cannot send value {key!r} of type {type(value).__name__} to another process "
                    f"for node argument {where}: {type(exc).__name__}: {exc}. {_STAY_LOCAL} or "
                    f"create the value inside a node of the block, so each worker makes its own."
                )
    for step in task.template.steps:
        try:
            cloudpickle.dumps(step.fn)
        except Exception as exc:
            return SerializationError(
                f"Cannot send the function of node {step.name!r} to another process: "
                f"{type(exc).__name__}: {exc}. {_STAY_LOCAL} or keep what the function "
                f"refers to (closures, default arguments) picklable."
            )
    return SerializationError(f"Cannot send task {task.task_id!r} to another process: {error}")


_PICKLING_ERRORS = (pickle.PicklingError, TypeError, AttributeError, ValueError)


class TaskCodec:
    """The driver side of the codec, for one executor: encodes tasks, decodes outcomes.

    Holds the run's template cache (one static part per template and adapter set) and the
    modules registered to travel by value; :meth:`clear` forgets both at the end of a run.

    Args:
        engine: how error messages name the workers ("process", "Ray", "Dask").
        traceback_type: the class wrapping a worker's traceback as the error's cause.
    """

    def __init__(self, engine: str, traceback_type: type[WorkerTraceback] = WorkerTraceback):
        self.engine = engine
        self.traceback_type = traceback_type
        self.modules = ByValueModules()
        self._static: dict[tuple[int, int], tuple[Any, StaticPart]] = {}

    def static_part(self, task: Task) -> StaticPart:
        """The static part of ``task``'s template, pickled on first use in the run."""
        cache_key = (id(task.template), id(task.adapters))
        found = self._static.get(cache_key)
        if found is not None:
            return found[1]
        adapters = None if task.adapters is None else task.adapters.for_workers()
        self.modules.add(_objects_of(task.template, adapters))
        static = (task.template, adapters, task.run_id, task.materialize_expanders)
        try:
            blob = cloudpickle.dumps(static)
        except _PICKLING_ERRORS as exc:
            raise describe_unserializable(task, exc) from exc
        part = StaticPart(f"{task.run_id}:{id(task.template)}:{time.monotonic_ns()}", blob)
        self._static[cache_key] = (task.template, part)
        return part

    def encode(
        self,
        task: Task,
        inputs: list[dict[str, Any]] | None = None,
        slots: list[Slot] | tuple[Slot, ...] = (),
    ) -> bytes:
        """The per-task part: the items' inputs (``task.inputs`` unless given), labels, slots."""
        try:
            return cloudpickle.dumps(
                (task.inputs if inputs is None else inputs, task.labels, list(slots))
            )
        except _PICKLING_ERRORS as exc:
            raise describe_unserializable(task, exc) from exc

    def decode(self, packed: bytes, task: Task) -> Outcome:
        """The outcome of ``task``; raises the task's error with the worker's traceback.

        Sets ``elapsed``, ``failed_item`` and ``reports`` on the task either way.
        """
        outcome: Outcome = cloudpickle.loads(packed)
        task.elapsed = outcome.elapsed
        task.failed_item = outcome.item
        task.reports = outcome.reports
        if not outcome.ok:
            error = outcome.value
            if outcome.traceback and error.__cause__ is None:
                error.__cause__ = self.traceback_type(outcome.traceback)
            raise error
        return outcome

    def clear(self) -> None:
        """Forgets the run's static parts and unregisters its by-value modules."""
        self._static.clear()
        self.modules.clear()
