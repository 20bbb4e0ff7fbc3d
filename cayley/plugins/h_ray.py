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
import types
import uuid
from collections.abc import Callable
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
from cayley._compat import add_note
from cayley.execution.runner import Task
from cayley.lifecycle.base import (
    BaseDoBuildResult,
    BaseDoCheckEdgeTypesMatch,
    BaseDoNodeExecute,
    BaseDoValidateInput,
    BasePostGraphExecute,
)
from cayley.plugins._cluster import (
    DEFAULT_KEEP_BYTES,
    ByValueModules,
    ClusterExecutor,
    LoadCache,
    WorkerTraceback,
    describe_items,
    is_large,
    node_note,
    run_encoded,
    shared_handle,
    with_remote_traceback,
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


def _shutdown_ray() -> None:
    """``ray.shutdown()``, keeping the ``print`` Ray replaces on shutdown."""
    import builtins

    kept = builtins.print
    ray.shutdown()
    builtins.print = kept


class RayExecutionError(RuntimeError):
    """Ray could not run a task: its worker died, it was cancelled, or a value was lost."""


class RemoteTraceback(WorkerTraceback):
    """The traceback of an exception raised on a Ray worker (set as its ``__cause__``)."""


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


# ---- worker side ----------------------------------------------------------------------------
def _run_on_worker(
    key: str, holder: list[Any], blob: bytes, refs: list[Any], extra: int, keep_bytes: int
) -> Any:
    """Worker side of :class:`RayTaskExecutor`: runs the task through the task codec.

    Returns the packed outcome made by :func:`~cayley.execution.codec.run_encoded`. With
    ``extra`` > 0 (one per item and export), it is followed by ``extra`` values: the large
    results at their positions (``None`` elsewhere), which Ray keeps in its object store.
    """
    packed, taken = run_encoded(
        key,
        lambda: ray.get(holder[0]),
        blob,
        fetch=lambda: ray.get(refs) if refs else [],
        keep_bytes=keep_bytes,
        split=extra > 0,
        engine="Ray",
    )
    if not extra:
        return packed
    extras: list[Any] = [None] * extra
    for position, value in taken.items():
        extras[position] = value
    return (packed, *extras)


_REMOTE_TASK = ray.remote(_run_on_worker)


# ---- driver side ----------------------------------------------------------------------------
@dataclass(eq=False)
class _TemplateInfo:
    key: str
    holder: list[Any]
    options: dict[str, Any]
    remote: Any
    split: bool = True


class RayTaskExecutor(ClusterExecutor):
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

    engine = "Ray"
    _store = "Ray's object store"
    _error_type = RayExecutionError
    _fetch_errors = (ray_exceptions.RayError,)
    _traceback_type = RemoteTraceback

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
        super().__init__(keep_bytes)
        self.num_cpus = num_cpus
        self.ray_init_config = dict(ray_init_config or {})
        self.skip_init = skip_init
        self.max_retries = max_retries
        self.remote_options = dict(remote_options or {})
        self._started = False

    # ---- lifecycle ----------------------------------------------------------------------
    def init(self) -> None:
        """Starts (or connects to) Ray unless it is running; sizes the number of tasks."""
        super().init()
        if not ray.is_initialized() and not self.skip_init:
            config = dict(self.ray_init_config)
            if self.num_cpus is not None:
                config.setdefault("num_cpus", self.num_cpus)
            ray.init(**config)
            self._started = True
        if ray.is_initialized():
            cpus = ray.cluster_resources().get("CPU", 1.0)
            self.capacity = max(2, int(2 * cpus))

    def _stop(self) -> None:
        if self._started:
            self._started = False
            _shutdown_ray()

    def cancel(self) -> None:
        """Cancels tasks in flight; shuts Ray down if this executor started it."""
        if ray.is_initialized():
            for ref in list(self._active.values()):
                try:
                    ray.cancel(ref, force=False)
                except Exception:
                    pass
        self._release()

    # ---- submission ---------------------------------------------------------------------
    def _new_template(self, task: Task, key: str, static: bytes) -> _TemplateInfo:
        options: dict[str, Any] = dict(self.remote_options)
        for step in task.template.steps:
            options.update(parse_ray_remote_options_from_tags(step.node.tags))
        options.setdefault("max_retries", self.max_retries)
        options.setdefault("name", f"cayley:{task.template.base_id}")
        return _TemplateInfo(
            key=key,
            holder=[ray.put(static)],
            options=options,
            remote=_REMOTE_TASK.options(**options),
        )

    def _put(self, value: Any) -> Any:
        return ray.put(value)

    def submit(self, task: Task) -> concurrent.futures.Future:
        """Sends the task to Ray; the future completes when its packed outcome arrives."""
        info, blob, refs = self._prepare(task)
        width = len(task.template.exports)
        extra = len(task.inputs) * width if info.split else 0
        remote = (
            _REMOTE_TASK.options(**info.options, num_returns=1 + extra) if extra else info.remote
        )
        result = remote.remote(info.key, info.holder, blob, refs, extra, self.keep_bytes)
        head = result[0] if extra else result
        done: concurrent.futures.Future = concurrent.futures.Future()
        self._track(done, head, len(task.inputs))
        kept = None if not extra else (lambda r, j: result[1 + r * width + j])
        head.future().add_done_callback(lambda raw: self._complete(done, raw, task, info, kept))
        return done

    def _complete(
        self,
        done: concurrent.futures.Future,
        raw: concurrent.futures.Future,
        task: Task,
        info: _TemplateInfo,
        kept: Callable[[int, int], Any] | None,
    ) -> None:
        """Runs on Ray's callback thread: decodes the outcome and settles ``done``."""
        try:
            try:
                packed = raw.result()
            except ray_exceptions.RayError as exc:
                raise self._explain(task, exc) from exc
            done.set_result(self._settle(packed, task, info, kept))
        except BaseException as exc:
            done.set_exception(exc)

    def _explain(self, task: Task, exc: BaseException) -> BaseException:
        where = describe_items(task)
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
        return self._lost(task, message)

    def _fetch_one(self, handle: Any) -> Any:
        return ray.get(handle)

    def _fetch_many(self, handles: list[Any]) -> list[Any]:
        return ray.get(handles)


# ---- node-level adapter ---------------------------------------------------------------------
_NODE_CACHE = LoadCache(256)


def _run_node(key: str, blob: bytes, note: str, /, **kwargs: Any) -> Any:
    """Worker side of :class:`RayGraphAdapter`: calls one node's function."""
    fn = _NODE_CACHE.get(key, lambda: cloudpickle.loads(blob))
    try:
        return fn(**kwargs)
    except Exception as exc:
        add_note(exc, note)
        raise


_REMOTE_NODE = ray.remote(_run_node)


def _unwrap(exc: ray_exceptions.RayTaskError) -> BaseException:
    """The exception the node raised, with the worker's traceback as its cause."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException) and not isinstance(cause, ray_exceptions.RayError):
        return with_remote_traceback(cause, getattr(exc, "traceback_str", None), RemoteTraceback)
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
        self._by_value = ByValueModules()
        if ray_init_config is not None and not ray.is_initialized():
            ray.init(**ray_init_config)

    def _remote_for(self, node_: Any) -> tuple[str, bytes, str, Any]:
        found = self._nodes.get(id(node_))
        if found is not None and found[0] is node_:
            return found[1:]
        self._by_value.add_node(node_)
        blob = cloudpickle.dumps(node_.callable)
        options = {"name": node_.name, **parse_ray_remote_options_from_tags(node_.tags)}
        remote = _REMOTE_NODE.options(**options)
        key = f"{node_.name}:{uuid.uuid4().hex}"
        note = node_note(node_)
        self._nodes[id(node_)] = (node_, key, blob, note, remote)
        return key, blob, note, remote

    def do_node_execute(
        self, *, run_id: str, node_: Any, kwargs: dict[str, Any], task_id: str | None = None
    ) -> Any:
        """Submits the node to Ray and returns its ``ObjectRef``."""
        key, blob, note, remote = self._remote_for(node_)
        arguments = {}
        for name, value in kwargs.items():
            ref = None
            if not isinstance(value, ray.ObjectRef):
                ref = shared_handle(self._shared, value, self.keep_bytes, ray.put)
            arguments[name] = value if ref is None else ref
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
            _shutdown_ray()
