"""Run cayley dataflows on Ray.

Two ways in, with Hamilton's names:

- :class:`RayTaskExecutor` runs the per-item tasks of ``Parallelizable``/``Collect`` blocks as
  Ray tasks (``Builder().enable_dynamic_execution().with_remote_executor(...)``). Tiny items
  are batched into one Ray task by the scheduler; large results stay in Ray's object store
  between tasks; a task whose worker process dies is run again by Ray (``max_retries``).
- :class:`RayGraphAdapter` runs every node of a plain dataflow as its own Ray task, passing
  ``ObjectRef`` objects between nodes, and honours ``@ray_remote_options(...)`` per node.

Ray is an optional dependency: ``pip install "cayley[ray]"``. Importing this module imports
Ray; nothing else in cayley does.
"""

from __future__ import annotations

import concurrent.futures
import json
import pickle
import sys
import time
import traceback
import types
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

try:
    import ray
    from ray import exceptions as ray_exceptions
except ImportError as _missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        'cayley.plugins.h_ray needs Ray, which is not installed: pip install "cayley[ray]"'
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
from cayley.lifecycle.base import (
    BaseDoBuildResult,
    BaseDoCheckEdgeTypesMatch,
    BaseDoNodeExecute,
    BaseDoValidateInput,
    BasePostGraphExecute,
)

__all__ = [
    "DEFAULT_KEEP_BYTES",
    "RAY_REMOTE_TAG_NAMESPACE",
    "RayExecutionError",
    "RayGraphAdapter",
    "RayTaskExecutor",
    "RemoteTraceback",
    "is_large",
    "parse_ray_remote_options_from_tags",
    "raify",
]

#: Tag prefix written by ``@ray_remote_options``: ``ray_remote.<option>`` = JSON value.
RAY_REMOTE_TAG_NAMESPACE = "ray_remote"

#: Values whose serialized size exceeds this many bytes stay in Ray's object store.
DEFAULT_KEEP_BYTES = 100_000


class RayExecutionError(RuntimeError):
    """Ray could not run a task: its worker died, it was cancelled, or a value was lost."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised on a Ray worker (set as its ``__cause__``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


# ---- helpers shared by the executor and the adapter -----------------------------------------
def raify(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` in a form ``ray.remote`` accepts (it rejects ``functools.partial`` objects)."""
    if isinstance(fn, types.FunctionType):
        return fn

    def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return call


def parse_ray_remote_options_from_tags(tags: dict[str, Any]) -> dict[str, Any]:
    """The ``ray.remote`` options stored in a node's ``ray_remote.<option>`` tags."""
    prefix = RAY_REMOTE_TAG_NAMESPACE + "."
    options = {}
    for name, value in tags.items():
        if name.startswith(prefix):
            options[name[len(prefix) :]] = json.loads(value) if isinstance(value, str) else value
    return options


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
        size = len(data) if not isinstance(data, memoryview) else data.nbytes
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


def _modules_by_value(functions: Iterable[Any]) -> list[Any]:
    """Modules of ``functions`` that another process could not import (built at run time)."""
    modules = []
    for fn in functions:
        module = sys.modules.get(getattr(fn, "__module__", "") or "")
        if module is None or module.__name__ in ("__main__", "builtins"):
            continue
        if getattr(module, "__spec__", None) is None or getattr(module, "__file__", None) is None:
            modules.append(module)
    return modules


class _ByValue:
    """Registers run-time modules with cloudpickle while a run lasts."""

    def __init__(self) -> None:
        self.registered: set[str] = set()

    def add(self, functions: Iterable[Any]) -> None:
        for module in _modules_by_value(functions):
            if module.__name__ not in self.registered:
                cloudpickle.register_pickle_by_value(module)
                self.registered.add(module.__name__)

    def clear(self) -> None:
        for name in self.registered:
            module = sys.modules.get(name)
            if module is not None:
                try:
                    cloudpickle.unregister_pickle_by_value(module)
                except ValueError:
                    pass
        self.registered.clear()


def _encode_head(
    ok: bool, value: Any, elapsed: float | None, large: Any, text: str | None
) -> bytes:
    """The small part of a task's outcome, pickled with cloudpickle on the worker.

    Pickling here (not by Ray) keeps classes defined in run-time modules identical to the
    driver's, so a node's own exception type can be caught. An error that cannot be pickled
    becomes a RuntimeError with the same message and notes.
    """
    try:
        return cloudpickle.dumps((ok, value, elapsed, large, text))
    except Exception as exc:
        if ok:
            error: BaseException = SerializationError(
                f"Cannot send the results of the task back from the Ray worker: "
                f"{type(exc).__name__}: {exc}"
            )
        else:
            error = RuntimeError(f"{type(value).__name__}: {value}")
            for note in getattr(value, "__notes__", ()):
                error.add_note(note)
            if hasattr(value, "_cayley_item"):
                error._cayley_item = value._cayley_item  # type: ignore[attr-defined]
        return cloudpickle.dumps((False, error, None, None, text))


def _with_remote_traceback(exc: BaseException, text: str | None) -> BaseException:
    if text and exc.__cause__ is None:
        exc.__cause__ = RemoteTraceback(text)
    return exc


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


def _static_part(key: str, holder: list[Any]) -> Any:
    static = _STATIC_CACHE.get(key)
    if static is None:
        static = cloudpickle.loads(ray.get(holder[0]))
        _STATIC_CACHE[key] = static
        if len(_STATIC_CACHE) > _STATIC_CACHE_SIZE:
            _STATIC_CACHE.popitem(last=False)
    return static


def _fill_slots(
    inputs: list[dict[str, Any]], slots: list[tuple[int, str, int]], values: list[Any]
) -> None:
    """Puts fetched values where the driver left ``(item, name, position)`` slots."""
    for index, (item, name, position) in enumerate(slots):
        if position < 0:
            inputs[item][name] = values[index]
        else:
            inputs[item][name][position] = values[index]


def _run_on_worker(
    key: str, holder: list[Any], blob: bytes, refs: list[Any], extra: int, keep_bytes: int
) -> Any:
    """Worker side of :class:`RayTaskExecutor`: rebuilds the task, runs it, splits results.

    Returns ``(ok, rows or error, elapsed, large positions, traceback)`` pickled by
    :func:`_encode_head`. With ``extra`` > 0 (one per item and export), that head is followed
    by ``extra`` values: the large results at their positions (``None`` elsewhere), which Ray
    keeps in its object store.
    """
    split = extra > 0
    extras: list[Any] = [None] * extra
    try:
        template, adapters, run_id, materialize = _static_part(key, holder)
        inputs, labels, slots = cloudpickle.loads(blob)
        if refs:
            _fill_slots(inputs, slots, ray.get(refs))
        task = Task(template, inputs, labels, run_id, adapters, materialize)
        width = len(template.exports)
        rows = execute_task(task)
        keep = [j for j, name in enumerate(template.exports) if name not in template.expanders]
        large: list[tuple[int, int]] = []
        for r, row in enumerate(rows):
            for j in keep:
                if is_large(row[j], keep_bytes):
                    large.append((r, j))
        if split and large:
            rows = [list(row) for row in rows]
            for r, j in large:
                extras[r * width + j] = rows[r][j]
                rows[r][j] = None
            rows = [tuple(row) for row in rows]
        head = _encode_head(True, rows, task.elapsed, large, None)
    except Exception as exc:
        head = _encode_head(False, exc, None, None, "".join(traceback.format_exception(exc)))
        extras = [None] * extra
    if not split:
        return head
    return (head, *extras)


_REMOTE_TASK = ray.remote(_run_on_worker)


# ---- driver side ----------------------------------------------------------------------------
class _RayValue(RemoteValue):
    """A task result left in Ray's object store."""

    def __init__(self, owner: RayTaskExecutor, ref: Any, where: str) -> None:
        self.owner = owner
        self.ref = ref
        self.where = where

    def resolve(self) -> Any:
        """Fetches the value from the object store."""
        self.owner.stats["fetched"] += 1
        try:
            return ray.get(self.ref)
        except ray_exceptions.RayError as exc:
            raise RayExecutionError(
                f"Could not fetch {self.where} from Ray's object store: {type(exc).__name__}: {exc}"
            ) from exc

    def __repr__(self) -> str:
        return f"<value of {self.where} kept on Ray>"


@dataclass(eq=False)
class _TemplateInfo:
    key: str
    holder: list[Any]
    options: dict[str, Any]
    remote: Any
    split: bool = True


class _RayTaskFuture(TaskFuture):
    """A task future whose Ray-level failures become :class:`RayExecutionError`."""

    __slots__ = ("_explain",)

    def __init__(
        self,
        future: concurrent.futures.Future,
        decode: Callable[[Any], Any],
        explain: Callable[[BaseException], BaseException],
    ) -> None:
        super().__init__(future, decode)
        self._explain = explain

    def get_result(self) -> Any:
        """The task's rows; raises the node's own exception, or why Ray could not run it."""
        try:
            return super().get_result()
        except ray_exceptions.RayError as exc:
            raise self._explain(exc) from exc


class RayTaskExecutor(TaskExecutor):
    """Runs per-item tasks on Ray, for ``Builder().with_remote_executor(...)``.

    Ray is started at the beginning of each run and shut down at its end, successful or not,
    unless it is already running (``ray.init()`` called by you, or ``skip_init=True``), in
    which case it is left alone. Pass ``ray_init_config={"address": "ray://host:10001"}`` (or
    ``"auto"``) to connect to an existing cluster.

    Args:
        num_cpus: CPUs of the local Ray instance started for the run (all cores when None).
        ray_init_config: keyword arguments for ``ray.init``.
        skip_init: never start nor stop Ray (it must be running, or Ray starts it itself).
        max_retries: how many times Ray runs a task again when its worker process dies;
            0 makes such a run fail at once with :class:`RayExecutionError`.
        remote_options: extra ``.options(...)`` for every Ray task (``num_cpus``,
            ``resources``, ``runtime_env``...). ``@ray_remote_options`` tags of the task's
            nodes are applied on top.
        keep_bytes: results larger than this stay in the object store (see below).

    Large results (more than ``keep_bytes``, 100 kB by default) stay in Ray's object store
    and go from task to task by reference; they are fetched only when a step on the driver
    or the caller needs them.

    Cheap items are batched so that one Ray task runs for about ``chunk_target_seconds``;
    when a worker dies in a batch, the error can name the batch but not the item that killed
    it. Set ``chunk_target_seconds = 0`` to run every item in its own task.
    """

    inline = False
    runs_in_process = False
    chunk_target_seconds = 0.05
    returns_remote_values = True

    def __init__(
        self,
        num_cpus: int | None = None,
        ray_init_config: dict[str, Any] | None = None,
        skip_init: bool = False,
        *,
        max_retries: int = 3,
        remote_options: dict[str, Any] | None = None,
        keep_bytes: int = DEFAULT_KEEP_BYTES,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self.num_cpus = num_cpus
        self.ray_init_config = dict(ray_init_config or {})
        self.skip_init = skip_init
        self.max_retries = max_retries
        self.remote_options = dict(remote_options or {})
        self.keep_bytes = keep_bytes
        self.capacity = 4
        self._started = False
        self._templates: dict[tuple[int, int], _TemplateInfo] = {}
        self._shared: dict[int, tuple[Any, Any]] = {}
        self._active: dict[concurrent.futures.Future, Any] = {}
        self._by_value = _ByValue()
        #: Counters of the current or last run: tasks, items, values kept in the object
        #: store, kept values fetched by the driver, and inputs the driver put there.
        self.stats: dict[str, int] = {"tasks": 0, "items": 0, "kept": 0, "fetched": 0, "shared": 0}

    # ---- lifecycle ----------------------------------------------------------------------
    def init(self) -> None:
        """Starts (or connects to) Ray unless it is running; sizes the number of tasks."""
        self.stats = {"tasks": 0, "items": 0, "kept": 0, "fetched": 0, "shared": 0}
        if not ray.is_initialized() and not self.skip_init:
            config = dict(self.ray_init_config)
            if self.num_cpus is not None:
                config.setdefault("num_cpus", self.num_cpus)
            ray.init(**config)
            self._started = True
        if ray.is_initialized():
            cpus = ray.cluster_resources().get("CPU", 1.0)
            self.capacity = max(2, int(2 * cpus))

    def _release(self) -> None:
        self._templates.clear()
        self._shared.clear()
        self._active.clear()
        self._by_value.clear()
        if self._started:
            self._started = False
            ray.shutdown()

    def finalize(self) -> None:
        """Forgets the run's objects; shuts Ray down if this executor started it."""
        self._release()

    def cancel(self) -> None:
        """Cancels tasks in flight; shuts Ray down if this executor started it."""
        if ray.is_initialized():
            for ref in list(self._active.values()):
                try:
                    ray.cancel(ref, force=False)
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
            template = task.template
            functions = []
            options: dict[str, Any] = dict(self.remote_options)
            for step in template.steps:
                functions.append(step[1])
                functions.extend(step[4].originating_functions or ())
                options.update(parse_ray_remote_options_from_tags(step[4].tags))
            if task.adapters is not None:
                functions.extend(type(adapter) for adapter in task.adapters.adapters)
            self._by_value.add(functions)
            blob = cloudpickle.dumps(
                (template, task.adapters, task.run_id, task.materialize_expanders)
            )
            options.setdefault("max_retries", self.max_retries)
            options.setdefault("name", f"cayley:{template.base_id}")
            info = _TemplateInfo(
                key=f"{task.run_id}:{id(template)}:{time.monotonic_ns()}",
                holder=[ray.put(blob)],
                options=options,
                remote=_REMOTE_TASK.options(**options),
            )
            self._templates[cache_key] = info
        return info

    def _share(self, value: Any) -> Any:
        """An ObjectRef for a large plain input (put once per run), else None."""
        if type(value) in _SCALARS:
            return None
        found = self._shared.get(id(value))
        if found is not None and found[0] is value:
            return found[1]
        if not is_large(value, self.keep_bytes):
            return None
        ref = ray.put(value)
        self._shared[id(value)] = (value, ref)
        self.stats["shared"] += 1
        return ref

    def _outgoing(self, task: Task) -> tuple[list[dict[str, Any]], list[Any], list[Any]]:
        """The task's inputs with kept values and large inputs replaced by slots."""
        inputs: list[dict[str, Any]] = []
        slots: list[tuple[int, str, int]] = []
        refs: list[Any] = []
        for item, values in enumerate(task.inputs):
            out = dict(values)
            for name, value in values.items():
                if isinstance(value, _RayValue) and value.owner is self:
                    slots.append((item, name, -1))
                    refs.append(value.ref)
                    out[name] = None
                elif type(value) is list and any(isinstance(v, _RayValue) for v in value):
                    copy = list(value)
                    for position, element in enumerate(value):
                        if isinstance(element, _RayValue):
                            if element.owner is self:
                                slots.append((item, name, position))
                                refs.append(element.ref)
                                copy[position] = None
                            else:
                                copy[position] = element.resolve()
                    out[name] = copy
                elif isinstance(value, RemoteValue):
                    out[name] = value.resolve()
                else:
                    ref = self._share(value)
                    if ref is not None:
                        slots.append((item, name, -1))
                        refs.append(ref)
                        out[name] = None
            inputs.append(out)
        return inputs, slots, refs

    def submit_task(self, task: Task) -> TaskFuture:
        """Sends the task to Ray; the future completes when its first result arrives."""
        try:
            info = self._template_info(task)
            inputs, slots, refs = self._outgoing(task)
            blob = cloudpickle.dumps((inputs, task.labels, slots))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise describe_unserializable(task, exc) from exc
        split = info.split
        width = len(task.template.exports)
        extra = len(inputs) * width if split else 0
        remote = (
            _REMOTE_TASK.options(**info.options, num_returns=1 + extra) if extra else info.remote
        )
        result = remote.remote(info.key, info.holder, blob, refs, extra, self.keep_bytes)
        split = extra > 0
        head = result[0] if split else result
        future = head.future()
        self._active[future] = head
        future.add_done_callback(self._forget)
        self.stats["tasks"] += 1
        self.stats["items"] += len(inputs)
        return _RayTaskFuture(
            future,
            self._decoder(task, info, result if split else None, width),
            lambda exc: self._explain(task, exc),
        )

    def _forget(self, future: concurrent.futures.Future) -> None:
        self._active.pop(future, None)

    def _decoder(
        self, task: Task, info: _TemplateInfo, returns: list[Any] | None, width: int
    ) -> Callable[[Any], tuple[list[tuple[Any, ...]], float | None]]:
        def decode(head: bytes) -> tuple[list[tuple[Any, ...]], float | None]:
            ok, rows, elapsed, large, text = cloudpickle.loads(head)
            if not ok:
                raise _with_remote_traceback(rows, text)
            if returns is None:
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
                    rows[r][j] = _RayValue(self, returns[1 + r * width + j], where)
                rows = [tuple(row) for row in rows]
                self.stats["kept"] += len(large)
            return rows, elapsed

        return decode

    def _explain(self, task: Task, exc: BaseException) -> BaseException:
        where = _describe_items(task)
        if isinstance(exc, ray_exceptions.WorkerCrashedError):
            retries = self.max_retries
            message = (
                f"The Ray worker running {where} died (tried {retries + 1} time(s), "
                f"max_retries={retries}). Raise RayTaskExecutor(max_retries=...) to run it "
                f"again on another worker. Ray said: {exc}"
            )
        elif isinstance(exc, ray_exceptions.TaskCancelledError):
            message = f"Ray cancelled {where}: {exc}"
        elif isinstance(getattr(exc, "cause", None), BaseException):
            cause = exc.cause  # type: ignore[attr-defined]
            message = f"Ray could not run {where}: {type(cause).__name__}: {cause}"
        else:
            message = f"Ray could not run {where}: {type(exc).__name__}: {exc}"
        return _locate(RayExecutionError(message), task)

    def resolve_many(self, values: list[RemoteValue]) -> list[Any]:
        """Fetches several kept values of this executor with one call to Ray."""
        self.stats["fetched"] += len(values)
        return ray.get([v.ref for v in values])  # type: ignore[attr-defined]


# ---- node-level adapter ---------------------------------------------------------------------
_NODE_CACHE: OrderedDict[str, Any] = OrderedDict()
_NODE_CACHE_SIZE = 256


def _run_node(key: str, blob: bytes, note: str, /, **kwargs: Any) -> Any:
    """Worker side of :class:`RayGraphAdapter`: calls one node's function."""
    fn = _NODE_CACHE.get(key)
    if fn is None:
        fn = cloudpickle.loads(blob)
        _NODE_CACHE[key] = fn
        if len(_NODE_CACHE) > _NODE_CACHE_SIZE:
            _NODE_CACHE.popitem(last=False)
    try:
        return fn(**kwargs)
    except Exception as exc:
        exc.add_note(note)
        raise


_REMOTE_NODE = ray.remote(_run_node)


def _origin(node: Any) -> str:
    fns = node.originating_functions
    if not fns:
        return ""
    fn = fns[0]
    return f" (function {getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)})"


def _unwrap(exc: ray_exceptions.RayTaskError) -> BaseException:
    """The exception the node raised, with the worker's traceback as its cause."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException) and not isinstance(cause, ray_exceptions.RayError):
        return _with_remote_traceback(cause, getattr(exc, "traceback_str", None))
    return exc


class RayGraphAdapter(
    BaseDoNodeExecute,
    BaseDoBuildResult,
    BaseDoValidateInput,
    BaseDoCheckEdgeTypesMatch,
    BasePostGraphExecute,
):
    """Runs each node of a plain (non-dynamic) dataflow as a Ray task.

    Nodes return ``ObjectRef`` objects at once and Ray runs them as soon as their inputs are
    ready, so independent branches run in parallel; the result builder runs on the caller
    after the requested outputs are fetched. Node hooks run on the caller around the
    submission of each node and see ``ObjectRef`` results. Large inputs of the run are put
    into the object store once, not once per node.

    Args:
        result_builder: shapes the outputs (``base.DictResult()``,
            ``base.PandasDataFrameResult()``...); required.
        ray_init_config: if given, ``ray.init(**ray_init_config)`` is called now (for example
            ``{"address": "auto"}`` to join a running cluster); otherwise Ray starts itself
            on first use unless it is already running.
        shutdown_ray_on_completion: shut Ray down after each execution.
    """

    def __init__(
        self,
        result_builder: Any,
        ray_init_config: dict[str, Any] | None = None,
        shutdown_ray_on_completion: bool = False,
        *,
        keep_bytes: int = DEFAULT_KEEP_BYTES,
    ) -> None:
        if not result_builder:
            raise ValueError(
                "RayGraphAdapter needs a result builder, for example "
                "RayGraphAdapter(result_builder=base.DictResult())."
            )
        self.result_builder = result_builder
        self.ray_init_config = ray_init_config
        self.shutdown_ray_on_completion = shutdown_ray_on_completion
        self.keep_bytes = keep_bytes
        self._nodes: dict[int, tuple[Any, str, bytes, str, Any]] = {}
        self._shared: dict[int, tuple[Any, Any]] = {}
        self._by_value = _ByValue()
        if ray_init_config is not None and not ray.is_initialized():
            ray.init(**ray_init_config)

    def _remote_for(self, node_: Any) -> tuple[str, bytes, str, Any]:
        found = self._nodes.get(id(node_))
        if found is not None and found[0] is node_:
            return found[1:]
        self._by_value.add([node_.callable, *(node_.originating_functions or ())])
        blob = cloudpickle.dumps(node_.callable)
        options = {"name": node_.name, **parse_ray_remote_options_from_tags(node_.tags)}
        remote = _REMOTE_NODE.options(**options)
        key = f"{node_.name}:{uuid.uuid4().hex}"
        note = f"while computing node {node_.name!r}{_origin(node_)}"
        self._nodes[id(node_)] = (node_, key, blob, note, remote)
        return key, blob, note, remote

    def do_node_execute(
        self, *, run_id: str, node_: Any, kwargs: dict[str, Any], task_id: str | None = None
    ) -> Any:
        """Submits the node to Ray and returns its ``ObjectRef``."""
        key, blob, note, remote = self._remote_for(node_)
        arguments = {}
        for name, value in kwargs.items():
            if type(value) in _SCALARS or isinstance(value, ray.ObjectRef):
                arguments[name] = value
                continue
            found = self._shared.get(id(value))
            if found is not None and found[0] is value:
                arguments[name] = found[1]
            elif is_large(value, self.keep_bytes):
                ref = ray.put(value)
                self._shared[id(value)] = (value, ref)
                arguments[name] = ref
            else:
                arguments[name] = value
        return remote.remote(key, blob, note, **arguments)

    def do_build_result(self, *, outputs: dict[str, Any]) -> Any:
        """Fetches the requested outputs and builds the result on the caller."""
        names = [name for name, value in outputs.items() if isinstance(value, ray.ObjectRef)]
        values = dict(outputs)
        if names:
            try:
                fetched = ray.get([outputs[name] for name in names])
            except ray_exceptions.RayTaskError as exc:
                raise _unwrap(exc) from None
            values.update(zip(names, fetched))
        return self.result_builder.build_result(**values)

    def do_validate_input(self, *, node_type: type, input_value: Any) -> bool:
        """Accepts ``ObjectRef`` values (their type is known only once computed)."""
        if isinstance(input_value, ray.ObjectRef):
            return True
        return htypes.check_input_type(node_type, input_value)

    def do_check_edge_types_match(self, *, type_from: type, type_to: type) -> bool:
        """Identical types match (the default checks apply too)."""
        return type_from == type_to

    def post_graph_execute(
        self,
        *,
        run_id: str,
        graph: Any,
        success: bool,
        error: Exception | None,
        results: dict | None,
    ) -> None:
        """Forgets the run's shared inputs; shuts Ray down if asked to."""
        self._shared.clear()
        if self.shutdown_ray_on_completion:
            self._nodes.clear()
            self._by_value.clear()
            ray.shutdown()
