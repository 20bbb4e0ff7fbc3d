"""Run cayley dataflows on Dask (``dask.distributed``).

Two ways in, with Hamilton's names:

- :class:`DaskExecutor` runs the per-item tasks of ``Parallelizable``/``Collect`` blocks on a
  Dask cluster (``Builder().enable_dynamic_execution().with_remote_executor(...)``): yours,
  through ``client=``, or a local one it starts for the run. Tiny items are batched into one
  Dask task by the scheduler, and large results stay on the workers between tasks.
- :class:`DaskGraphAdapter` turns every node of a plain dataflow into a ``dask.delayed`` call
  (or lets nodes work on Dask collections directly) and computes the result at the end;
  :class:`DaskDataFrameResult` builds a Dask DataFrame from the outputs.

Dask is an optional dependency: ``pip install "cayley[dask]"``. Importing this module imports
Dask; nothing else in cayley does.
"""

from __future__ import annotations

import concurrent.futures
import pickle
import sys
import time
import traceback
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

try:
    import dask
    from dask.base import tokenize
    from dask.delayed import Delayed, delayed
    from distributed import Client, Future, LocalCluster
except ImportError as _missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "cayley.plugins.h_dask needs Dask with dask.distributed, which is not installed: "
        'pip install "cayley[dask]"'
    ) from _missing

import cloudpickle

from cayley import htypes
from cayley.execution.executors import (
    SerializationError,
    TaskExecutor,
    TaskFuture,
    describe_unserializable,
)
from cayley.execution.runner import RemoteValue, Task, execute_task
from cayley.lifecycle.api import GraphAdapter, LegacyResultMixin

__all__ = [
    "DEFAULT_KEEP_BYTES",
    "DaskDataFrameResult",
    "DaskExecutionError",
    "DaskExecutor",
    "DaskGraphAdapter",
    "RemoteTraceback",
    "is_large",
]

#: Values whose serialized size exceeds this many bytes stay on the Dask workers.
DEFAULT_KEEP_BYTES = 100_000


class DaskExecutionError(RuntimeError):
    """Dask could not run a task: its workers died, it was cancelled, or a value was lost."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised on a Dask worker (set as its ``__cause__``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


# ---- helpers --------------------------------------------------------------------------------
_SCALARS = frozenset({type(None), bool, int, float, complex})


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
    stops as soon as the limit is passed (array buffers are counted without being copied).
    """
    kind = type(value)
    if kind in _SCALARS:
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


def _register_by_value(functions: Iterable[Any], registered: set[str]) -> None:
    """Makes cloudpickle copy the code of modules built at run time (they cannot be imported)."""
    for fn in functions:
        module = sys.modules.get(getattr(fn, "__module__", "") or "")
        if module is None or module.__name__ in ("__main__", "builtins"):
            continue
        if module.__name__ in registered:
            continue
        if getattr(module, "__spec__", None) is None or getattr(module, "__file__", None) is None:
            cloudpickle.register_pickle_by_value(module)
            registered.add(module.__name__)


def _unregister_by_value(registered: set[str]) -> None:
    for name in registered:
        module = sys.modules.get(name)
        if module is not None:
            try:
                cloudpickle.unregister_pickle_by_value(module)
            except ValueError:
                pass
    registered.clear()


def _encode_head(
    ok: bool, value: Any, elapsed: float | None, large: Any, text: str | None
) -> bytes:
    """The small part of a task's outcome, pickled with cloudpickle on the worker.

    Pickling here (not by Dask) keeps classes defined in run-time modules identical to the
    driver's, so a node's own exception type can be caught. An error that cannot be pickled
    becomes a RuntimeError with the same message and notes.
    """
    try:
        return cloudpickle.dumps((ok, value, elapsed, large, text))
    except Exception as exc:
        if ok:
            error: BaseException = SerializationError(
                f"Cannot send the results of the task back from the Dask worker: "
                f"{type(exc).__name__}: {exc}"
            )
        else:
            error = RuntimeError(f"{type(value).__name__}: {value}")
            for note in getattr(value, "__notes__", ()):
                error.add_note(note)
            if hasattr(value, "_cayley_item"):
                error._cayley_item = value._cayley_item  # type: ignore[attr-defined]
        return cloudpickle.dumps((False, error, None, None, text))


def _describe_items(task: Task) -> str:
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


def _locate(error: BaseException, task: Task) -> BaseException:
    """Marks ``error`` as raised by the task's only item, so the scheduler names the item."""
    if len(task.inputs) == 1:
        error._cayley_item = 0  # type: ignore[attr-defined]
    return error


# ---- worker side ----------------------------------------------------------------------------
_STATIC_CACHE: OrderedDict[str, Any] = OrderedDict()
_STATIC_CACHE_SIZE = 64


def _run_on_worker(
    key: str, static: bytes, blob: bytes, values: list[Any], split: bool, keep_bytes: int
) -> Any:
    """Worker side of :class:`DaskExecutor`: rebuilds the task, runs it, splits results.

    Returns the head ``(ok, rows or error, elapsed, large positions, traceback)`` pickled by
    :func:`_encode_head`; when ``split``, returns ``(head, {position: large value})`` with
    the large values taken out of the rows, so that the driver fetches the head alone.
    """
    large_values: dict[int, Any] = {}
    try:
        parts = _STATIC_CACHE.get(key)
        if parts is None:
            parts = cloudpickle.loads(static)
            _STATIC_CACHE[key] = parts
            if len(_STATIC_CACHE) > _STATIC_CACHE_SIZE:
                _STATIC_CACHE.popitem(last=False)
        template, adapters, run_id, materialize = parts
        inputs, labels, slots = cloudpickle.loads(blob)
        for index, (item, name, position) in enumerate(slots):
            if position < 0:
                inputs[item][name] = values[index]
            else:
                inputs[item][name][position] = values[index]
        task = Task(template, inputs, labels, run_id, adapters, materialize)
        rows = execute_task(task)
        width = len(template.exports)
        keep = [j for j, name in enumerate(template.exports) if name not in template.expanders]
        large = [(r, j) for r, row in enumerate(rows) for j in keep if is_large(row[j], keep_bytes)]
        if split and large:
            rows = [list(row) for row in rows]
            for r, j in large:
                large_values[r * width + j] = rows[r][j]
                rows[r][j] = None
            rows = [tuple(row) for row in rows]
        head = _encode_head(True, rows, task.elapsed, large, None)
    except Exception as exc:
        head = _encode_head(False, exc, None, None, "".join(traceback.format_exception(exc)))
    return (head, large_values) if split else head


def _head_of(result: tuple[Any, dict[int, Any]]) -> Any:
    """The small part of a split result."""
    return result[0]


def _large_value(result: tuple[Any, dict[int, Any]], position: int) -> Any:
    """One large value of a split result."""
    return result[1][position]


# ---- driver side ----------------------------------------------------------------------------
class _DaskValue(RemoteValue):
    """A task result left in a Dask worker's memory."""

    def __init__(self, owner: DaskExecutor, future: Future, where: str) -> None:
        self.owner = owner
        self.future = future
        self.where = where

    def resolve(self) -> Any:
        """Fetches the value from the worker holding it."""
        self.owner.stats["fetched"] += 1
        try:
            return self.future.result()
        except Exception as exc:
            raise DaskExecutionError(
                f"Could not fetch {self.where} from the Dask cluster: {type(exc).__name__}: {exc}"
            ) from exc

    def __repr__(self) -> str:
        return f"<value of {self.where} kept on Dask>"


@dataclass(eq=False)
class _TemplateInfo:
    key: str
    static: bytes
    split: bool = True


def _identity(raw: Any) -> Any:
    return raw


class DaskExecutor(TaskExecutor):
    """Runs per-item tasks on a Dask cluster, for ``Builder().with_remote_executor(...)``.

    With ``client=`` (``distributed.Client("tcp://scheduler:8786")`` or a client of a
    ``LocalCluster``) tasks go to that cluster, which is left running. Without it, a local
    cluster of worker processes is started at the beginning of each run and closed at its
    end, successful or not.

    Args:
        client: the client of the cluster to use.
        max_retries: for the cluster this executor starts: how many times a task is run
            again after the worker running it died (Dask's ``allowed-failures``; 0 makes the
            run fail at once). A cluster of your own follows its own
            ``distributed.scheduler.allowed-failures`` setting (3 by default).
        cluster_kwargs: arguments for the ``LocalCluster`` this executor starts (defaults:
            one single-threaded worker process per core, no dashboard).
        keep_bytes: results larger than this stay on the workers (see below).

    Large results (more than ``keep_bytes``, 100 kB by default) stay on the workers and go
    from task to task as futures; they are fetched only when a step on the driver or the
    caller needs them.

    Cheap items are batched so that one Dask task runs for about ``chunk_target_seconds``;
    when a worker dies in a batch, the error can name the batch but not the item that killed
    it. Set ``chunk_target_seconds = 0`` to run every item in its own task.
    """

    inline = False
    runs_in_process = False
    chunk_target_seconds = 0.05
    returns_remote_values = True

    def __init__(
        self,
        *,
        client: Client | None = None,
        max_retries: int | None = None,
        cluster_kwargs: dict[str, Any] | None = None,
        keep_bytes: int = DEFAULT_KEEP_BYTES,
    ) -> None:
        if client is not None and (max_retries is not None or cluster_kwargs):
            raise ValueError(
                "max_retries and cluster_kwargs configure the cluster DaskExecutor starts when "
                "no client is given. For your own cluster, set "
                "distributed.scheduler.allowed-failures in its Dask configuration instead."
            )
        if max_retries is not None and max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self.client = client
        self.max_retries = max_retries
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.keep_bytes = keep_bytes
        self.capacity = 4
        self._cluster: LocalCluster | None = None
        self._own_client: Client | None = None
        self._templates: dict[tuple[int, int], _TemplateInfo] = {}
        self._shared: dict[int, tuple[Any, Future]] = {}
        self._active: dict[concurrent.futures.Future, list[Future]] = {}
        self._registered: set[str] = set()
        #: Counters of the current or last run: tasks, items, values kept on the workers,
        #: kept values fetched by the driver, and inputs the driver scattered.
        self.stats: dict[str, int] = {"tasks": 0, "items": 0, "kept": 0, "fetched": 0, "shared": 0}

    # ---- lifecycle ----------------------------------------------------------------------
    @property
    def _client(self) -> Client:
        client = self.client or self._own_client
        if client is None:
            raise RuntimeError(
                "DaskExecutor has no cluster: init() starts one (the driver calls it at the "
                "start of each run), or pass client=..."
            )
        return client

    def init(self) -> None:
        """Starts a local cluster when no client was given; sizes the number of tasks.

        Two tasks per worker thread keep workers busy while results travel back. When the
        cluster does not run a task again after its worker died (``allowed-failures`` of 0),
        one task per thread: a task queued behind one that kills its worker would fail too.
        """
        self.stats = {"tasks": 0, "items": 0, "kept": 0, "fetched": 0, "shared": 0}
        if self.client is None and self._own_client is None:
            settings: dict[str, Any] = {
                "n_workers": None,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
            settings.update(self.cluster_kwargs)
            config = {}
            if self.max_retries is not None:
                config["distributed.scheduler.allowed-failures"] = self.max_retries
            with dask.config.set(config), warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Port .* is already in use")
                self._cluster = LocalCluster(**settings)
            self._own_client = Client(self._cluster, set_as_default=False)
        client = self._client
        try:
            client.run(lambda: __import__("cayley.execution.runner").__name__)
        except ImportError as exc:
            self._release()
            raise DaskExecutionError(
                "The Dask workers cannot import cayley, so they cannot run its tasks: install "
                f"cayley (the same version) where the workers run. {type(exc).__name__}: {exc}"
            ) from exc
        workers = client.scheduler_info().get("workers", {})
        threads = max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))
        try:
            retries = client.run_on_scheduler(
                lambda dask_scheduler: dask_scheduler.allowed_failures
            )
        except Exception:
            retries = 1
        self.capacity = 2 * threads if retries else threads

    def _release(self) -> None:
        self._templates.clear()
        self._shared.clear()
        self._active.clear()
        _unregister_by_value(self._registered)
        if self._own_client is not None:
            client, cluster = self._own_client, self._cluster
            self._own_client = self._cluster = None
            client.close()
            if cluster is not None:
                cluster.close()

    def finalize(self) -> None:
        """Forgets the run's futures; closes the cluster this executor started."""
        self._release()

    def cancel(self) -> None:
        """Cancels tasks in flight; closes the cluster this executor started."""
        pending = [f for futures in self._active.values() for f in futures]
        client = self.client or self._own_client
        if pending and client is not None:
            try:
                client.cancel(pending, force=True)
            except Exception:
                pass
        self._release()

    def can_submit_task(self) -> bool:
        """Whether fewer than ``capacity`` tasks are in flight."""
        return len(self._active) < self.capacity

    # ---- submission ---------------------------------------------------------------------
    def _template_info(self, task: Task) -> _TemplateInfo:
        cache_key = (id(task.template), id(task.adapters))
        info = self._templates.get(cache_key)
        if info is None:
            functions: list[Any] = []
            for step in task.template.steps:
                functions.append(step[1])
                functions.extend(step[4].originating_functions or ())
            if task.adapters is not None:
                functions.extend(type(adapter) for adapter in task.adapters.adapters)
            _register_by_value(functions, self._registered)
            static = cloudpickle.dumps(
                (task.template, task.adapters, task.run_id, task.materialize_expanders)
            )
            key = f"{task.run_id}:{id(task.template)}:{time.monotonic_ns()}"
            info = _TemplateInfo(key=key, static=static)
            self._templates[cache_key] = info
        return info

    def _share(self, value: Any) -> Future | None:
        """A future for a large plain input (scattered once per run), else None."""
        if type(value) in _SCALARS:
            return None
        found = self._shared.get(id(value))
        if found is not None and found[0] is value:
            return found[1]
        if not is_large(value, self.keep_bytes):
            return None
        future = self._client.scatter(value, hash=False)
        self._shared[id(value)] = (value, future)
        self.stats["shared"] += 1
        return future

    def _outgoing(self, task: Task) -> tuple[list[dict[str, Any]], list[Any], list[Future]]:
        """The task's inputs with kept values and large inputs replaced by slots."""
        inputs: list[dict[str, Any]] = []
        slots: list[tuple[int, str, int]] = []
        futures: list[Future] = []
        for item, values in enumerate(task.inputs):
            out = dict(values)
            for name, value in values.items():
                if isinstance(value, _DaskValue) and value.owner is self:
                    slots.append((item, name, -1))
                    futures.append(value.future)
                    out[name] = None
                elif type(value) is list and any(isinstance(v, RemoteValue) for v in value):
                    copy = list(value)
                    for position, element in enumerate(value):
                        if isinstance(element, _DaskValue) and element.owner is self:
                            slots.append((item, name, position))
                            futures.append(element.future)
                            copy[position] = None
                        elif isinstance(element, RemoteValue):
                            copy[position] = element.resolve()
                    out[name] = copy
                elif isinstance(value, RemoteValue):
                    out[name] = value.resolve()
                else:
                    future = self._share(value)
                    if future is not None:
                        slots.append((item, name, -1))
                        futures.append(future)
                        out[name] = None
            inputs.append(out)
        return inputs, slots, futures

    def submit_task(self, task: Task) -> TaskFuture:
        """Sends the task to the cluster; the future completes when its rows are back."""
        client = self._client
        try:
            info = self._template_info(task)
            inputs, slots, futures = self._outgoing(task)
            blob = cloudpickle.dumps((inputs, task.labels, slots))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise describe_unserializable(task, exc) from exc
        split = info.split and bool(task.template.exports)
        name = f"cayley-{task.template.base_id}-{uuid.uuid4().hex}"
        main = client.submit(
            _run_on_worker,
            info.key,
            info.static,
            blob,
            futures,
            split,
            self.keep_bytes,
            key=name,
            pure=False,
        )
        done: concurrent.futures.Future = concurrent.futures.Future()
        if split:
            head = client.submit(_head_of, main, key=name + "-head", pure=False)
            self._active[done] = [main, head]
            head.add_done_callback(lambda f: self._complete(done, f, main, task, info))
        else:
            self._active[done] = [main]
            main.add_done_callback(lambda f: self._complete(done, f, None, task, info))
        done.add_done_callback(self._forget)
        self.stats["tasks"] += 1
        self.stats["items"] += len(inputs)
        return TaskFuture(done, _identity)

    def _forget(self, future: concurrent.futures.Future) -> None:
        self._active.pop(future, None)

    def _complete(
        self,
        done: concurrent.futures.Future,
        head_future: Future,
        main: Future | None,
        task: Task,
        info: _TemplateInfo,
    ) -> None:
        """Runs on Dask's callback thread: fetches the head and settles ``done``."""
        try:
            try:
                ok, rows, elapsed, large, text = cloudpickle.loads(head_future.result())
            except Exception as exc:
                raise self._explain(task, exc) from exc
            if not ok:
                if text and rows.__cause__ is None:
                    rows.__cause__ = RemoteTraceback(text)
                raise rows
            if main is None:
                if large:
                    info.split = True
            else:
                info.split = bool(large)
                if large:
                    rows = self._proxies(rows, large, main, task)
            done.set_result((rows, elapsed))
        except BaseException as exc:
            done.set_exception(exc)

    def _proxies(
        self, rows: list[tuple[Any, ...]], large: list[tuple[int, int]], main: Future, task: Task
    ) -> list[tuple[Any, ...]]:
        width = len(task.template.exports)
        exports = task.template.exports
        labels = task.labels
        out = [list(row) for row in rows]
        for r, j in large:
            where = f"{exports[j]!r}" + (
                f" ({labels[r].item})" if labels and labels[r].item else ""
            )
            future = main.client.submit(
                _large_value, main, r * width + j, key=f"{main.key}-{r}-{j}", pure=False
            )
            out[r][j] = _DaskValue(self, future, where)
        self.stats["kept"] += len(large)
        return [tuple(row) for row in out]

    def _explain(self, task: Task, exc: BaseException) -> BaseException:
        where = _describe_items(task)
        kind = type(exc).__name__
        if kind == "KilledWorker":
            message = (
                f"The Dask workers running {where} died: {exc} Allow more attempts with "
                "DaskExecutor(max_retries=...) or the cluster's "
                "distributed.scheduler.allowed-failures setting."
            )
        elif isinstance(exc, concurrent.futures.CancelledError) or kind.endswith("CancelledError"):
            message = f"Dask cancelled {where}: {exc}"
        else:
            message = f"Dask could not run {where}: {kind}: {exc}"
        return _locate(DaskExecutionError(message), task)

    def resolve_many(self, values: list[RemoteValue]) -> list[Any]:
        """Fetches several kept values of this executor with one call to the cluster."""
        self.stats["fetched"] += len(values)
        return self._client.gather([v.future for v in values])  # type: ignore[attr-defined]


# ---- node-level adapter ---------------------------------------------------------------------
class _NodeCall:
    """A node's function (or a result builder) ready for Dask's graph.

    Dask pickles graphs with the standard pickle, which would refer to functions of modules
    built at run time by name; this wrapper pickles the function with cloudpickle instead,
    and names the node in the notes of the errors it raises.
    """

    __slots__ = ("fn", "note")

    def __init__(self, fn: Callable[..., Any], note: str | None = None) -> None:
        self.fn = fn
        self.note = note

    def __call__(self, **kwargs: Any) -> Any:
        try:
            return self.fn(**kwargs)
        except Exception as exc:
            if self.note and self.note not in getattr(exc, "__notes__", ()):
                exc.add_note(self.note)
            raise

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_call, (cloudpickle.dumps(self.fn), self.note))


def _restore_call(blob: bytes, note: str | None) -> _NodeCall:
    return _NodeCall(cloudpickle.loads(blob), note)


def _origin(node: Any) -> str:
    fns = node.originating_functions
    if not fns:
        return ""
    fn = fns[0]
    return f" (function {getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)})"


def _dask_dataframe() -> Any:
    return sys.modules.get("dask.dataframe")


def _dask_array() -> Any:
    return sys.modules.get("dask.array")


class DaskGraphAdapter(GraphAdapter):
    """Runs a plain (non-dynamic) dataflow through Dask.

    With ``use_delayed=True`` every node becomes a ``dask.delayed`` call, so the dataflow is
    one Dask graph whose independent parts run in parallel on the cluster; the result builder
    runs on the cluster too and ``compute_at_end=True`` brings the result back. With
    ``use_delayed=False`` nodes run as plain calls, which suits functions working on Dask
    collections (``dask.dataframe``, ``dask.array``): they build lazy graphs, and the result
    is computed at the end, or returned lazy with ``compute_at_end=False``.

    Args:
        dask_client: the client whose cluster computes the result (None: Dask's default
            scheduler).
        result_builder: shapes the outputs; ``base.PandasDataFrameResult()`` when None.
        visualize_kwargs: if given, ``visualize(**visualize_kwargs)`` is called on the final
            lazy result (needs graphviz).
        use_delayed: wrap each node in ``dask.delayed``.
        compute_at_end: compute the result before returning it.
    """

    def __init__(
        self,
        dask_client: Client | None,
        result_builder: Any = None,
        visualize_kwargs: dict[str, Any] | None = None,
        use_delayed: bool = True,
        compute_at_end: bool = True,
    ) -> None:
        if result_builder is None:
            from cayley.base import PandasDataFrameResult

            result_builder = PandasDataFrameResult()
        self.client = dask_client
        self.result_builder = result_builder
        self.visualize_kwargs = visualize_kwargs
        self.use_delayed = use_delayed
        self.compute_at_end = compute_at_end
        self._calls: dict[int, tuple[Any, _NodeCall]] = {}
        self._registered: set[str] = set()

    @staticmethod
    def check_input_type(node_type: type, input_value: Any) -> bool:
        """Accepts Delayed values, and Dask collections where pandas/numpy ones are expected."""
        if isinstance(input_value, Delayed):
            return True
        dd = _dask_dataframe()
        if dd is not None and isinstance(input_value, dd.Series):
            if _is_pandas(node_type, "Series"):
                return True
        da = _dask_array()
        if da is not None and isinstance(input_value, da.Array):
            if getattr(node_type, "__module__", "") == "numpy":
                return True
        return htypes.check_input_type(node_type, input_value)

    @staticmethod
    def check_node_type_equivalence(node_type: type, input_type: type) -> bool:
        """Lets a pandas Series feed a Dask Series or Dask array parameter."""
        if _is_pandas(input_type, "Series"):
            dd = _dask_dataframe()
            if dd is not None and node_type is dd.Series:
                return True
            da = _dask_array()
            if da is not None and node_type is da.Array:
                return True
        return node_type == input_type

    def _call_for(self, node: Any) -> _NodeCall:
        found = self._calls.get(id(node))
        if found is not None and found[0] is node:
            return found[1]
        _register_by_value([node.callable, *(node.originating_functions or ())], self._registered)
        call = _NodeCall(node.callable, f"while computing node {node.name!r}{_origin(node)}")
        self._calls[id(node)] = (node, call)
        return call

    def execute_node(self, node: Any, kwargs: dict[str, Any]) -> Any:
        """A ``dask.delayed`` call of the node (or the plain call when ``use_delayed=False``)."""
        if not self.use_delayed:
            return node.callable(**kwargs)
        token = tokenize(node.name, kwargs)
        call = self._call_for(node)
        return delayed(call, name=f"{node.name}-{token}", pure=True)(
            **kwargs, dask_key_name=f"{node.name}-{token}"
        )

    def build_result(self, **outputs: Any) -> Any:
        """Builds the result with the result builder; computes it if ``compute_at_end``."""
        if self.use_delayed:
            build = _NodeCall(self.result_builder.build_result)
            result = delayed(build, name="build_result", pure=True)(**outputs)
        else:
            result = self.result_builder.build_result(**outputs)
        if self.visualize_kwargs is not None:
            result.visualize(**self.visualize_kwargs)
        if not self.compute_at_end:
            return result
        if self.client is not None:
            (computed,) = dask.compute(result, scheduler=self.client)
        else:
            (computed,) = dask.compute(result)
        return computed


def _is_pandas(tp: Any, name: str) -> bool:
    return (
        getattr(tp, "__module__", "").startswith("pandas") and getattr(tp, "__name__", "") == name
    )


class DaskDataFrameResult(LegacyResultMixin):
    """Builds one Dask DataFrame from the outputs, joined column-wise on their index.

    Dask Series and DataFrames are used as they are; pandas ones are converted (one
    partition); arrays and lists become columns; scalars (and Dask scalars, computed) are
    repeated along the index of the first indexed output. A DataFrame output ``df`` with
    column ``c`` becomes column ``"df.c"``. Needs ``dask[dataframe]``.
    """

    @staticmethod
    def build_result(**outputs: Any) -> Any:
        """The outputs, outer-joined on their index, as a Dask DataFrame."""
        import dask.array as da
        import dask.dataframe as dd
        import numpy as np
        import pandas as pd

        if not outputs:
            raise ValueError("DaskDataFrameResult needs at least one output to build a frame.")
        scalar_types = tuple(
            t for t in (getattr(dd, "Scalar", None), _dask_expr_scalar()) if t is not None
        )
        parts: list[Any] = []
        columns: list[str] = []
        index = None
        length = 0
        pending_scalars: list[tuple[int, Any]] = []
        for name, value in outputs.items():
            if isinstance(value, (pd.Series, pd.DataFrame)):
                value = dd.from_pandas(value, npartitions=1)
            if isinstance(value, (dd.Series, dd.DataFrame)):
                if index is None:
                    index = value.index
                    length = len(value)
                parts.append(value)
                if isinstance(value, dd.DataFrame):
                    columns.extend(f"{name}.{column}" for column in value.columns)
                else:
                    columns.append(name)
            elif isinstance(value, (np.ndarray, np.generic)):
                parts.append(dd.from_array(np.asarray(value)))
                columns.append(name)
            elif isinstance(value, (list, tuple)):
                parts.append(dd.from_array(da.from_array(np.asarray(value))))
                columns.append(name)
            else:
                if scalar_types and isinstance(value, scalar_types):
                    value = value.compute()
                pending_scalars.append((len(parts), value))
                parts.append(None)
                columns.append(name)
        for position, scalar in pending_scalars:
            if index is None:
                frame = pd.DataFrame([scalar], index=[0])
            else:
                frame = pd.DataFrame([scalar] * length, index=index.compute())
            parts[position] = dd.from_pandas(frame, npartitions=1)
        combined = dd.concat(parts, axis=1, join="outer")
        combined.columns = columns
        return combined


def _dask_expr_scalar() -> Any:
    try:
        from dask.dataframe.dask_expr import Scalar
    except ImportError:
        return None
    return Scalar
