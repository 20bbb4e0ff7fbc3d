"""Run cayley dataflows on Dask (``dask.distributed``).

Two ways in, with Hamilton's names:

- :class:`DaskExecutor` runs the per-item tasks of ``Parallelizable``/``Collect`` blocks on a
  Dask cluster (``Builder().enable_dynamic_execution().with_remote_executor(...)``): yours,
  through ``client=``, or a local one it starts for the run. Tiny items are batched into one
  Dask task by the scheduler, and large results stay on the workers between tasks.
- :class:`DaskGraphAdapter` turns every node of a plain dataflow into a ``dask.delayed`` call
  (or lets nodes work on Dask collections directly) and computes the result at the end;
  :class:`DaskDataFrameResult` builds a Dask DataFrame from the outputs (both defined in
  :mod:`cayley.plugins.h_dask_graph`).

Dask is an optional dependency: ``pip install "cayley[dask]"``. Importing this module imports
Dask; nothing else in cayley does.
"""

from __future__ import annotations

import concurrent.futures
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:
    import dask
    from distributed import Client, Future, LocalCluster
except ImportError as _missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "cayley.plugins.h_dask needs Dask with dask.distributed, which is not installed: "
        'pip install "cayley[dask]"'
    ) from _missing


from cayley.execution.runner import Task
from cayley.plugins._cluster import (
    DEFAULT_KEEP_BYTES,
    ClusterExecutor,
    WorkerTraceback,
    describe_items,
    is_large,
    run_encoded,
)
from cayley.plugins.h_dask_graph import DaskDataFrameResult, DaskGraphAdapter

__all__ = [
    "DEFAULT_KEEP_BYTES",
    "DaskDataFrameResult",
    "DaskExecutionError",
    "DaskExecutor",
    "DaskGraphAdapter",
    "RemoteTraceback",
    "is_large",
]


class DaskExecutionError(RuntimeError):
    """Dask could not run a task: its workers died, it was cancelled, or a value was lost."""


class RemoteTraceback(WorkerTraceback):
    """The traceback of an exception raised on a Dask worker (set as its ``__cause__``)."""


# ---- worker side ----------------------------------------------------------------------------
def _run_on_worker(
    key: str, static: bytes, blob: bytes, values: list[Any], split: bool, keep_bytes: int
) -> Any:
    """Worker side of :class:`DaskExecutor`: runs the task through the task codec.

    Returns the packed outcome made by :func:`~cayley.execution.codec.run_encoded`; when
    ``split``, returns ``(outcome, {position: large value})`` with the large values taken out
    of the rows, so that the driver fetches the outcome alone.
    """
    packed, taken = run_encoded(
        key,
        lambda: static,
        blob,
        fetch=lambda: values,
        keep_bytes=keep_bytes,
        split=split,
        engine="Dask",
    )
    return (packed, taken) if split else packed


def _head_of(result: tuple[Any, dict[int, Any]]) -> Any:
    """The small part of a split result."""
    return result[0]


def _large_value(result: tuple[Any, dict[int, Any]], position: int) -> Any:
    """One large value of a split result."""
    return result[1][position]


# ---- driver side ----------------------------------------------------------------------------
@dataclass(eq=False)
class _TemplateInfo:
    key: str
    static: bytes
    split: bool = True


class DaskExecutor(ClusterExecutor):
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

    engine = "Dask"
    _store = "the Dask cluster"
    _error_type = DaskExecutionError
    _fetch_errors = (Exception,)
    _traceback_type = RemoteTraceback

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
        super().__init__(keep_bytes)
        self.client = client
        self.max_retries = max_retries
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self._cluster: LocalCluster | None = None
        self._own_client: Client | None = None
        self._sized: Client | None = None  # the client whose workers were last counted

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
        super().init()
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
        if self._sized is client:
            return  # the workers were counted on an earlier run
        workers = client.scheduler_info().get("workers", {})
        threads = max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))
        retries = self.max_retries
        if retries is None:
            retries = dask.config.get("distributed.scheduler.allowed-failures", 3)
        self.capacity = 2 * threads if retries else threads
        self._sized = client

    def _stop(self) -> None:
        if self._own_client is not None:
            client, cluster = self._own_client, self._cluster
            self._own_client = self._cluster = None
            client.close()
            if cluster is not None:
                cluster.close()

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

    # ---- submission ---------------------------------------------------------------------
    def _new_template(self, task: Task, key: str, static: bytes) -> _TemplateInfo:
        return _TemplateInfo(key=key, static=static)

    def _put(self, value: Any) -> Future:
        return self._client.scatter(value, hash=False)

    def submit(self, task: Task) -> concurrent.futures.Future:
        """Sends the task to the cluster; the future completes when its rows are back."""
        client = self._client
        info, blob, futures = self._prepare(task)
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
            self._track(done, [main, head], len(task.inputs))
            head.add_done_callback(lambda f: self._complete(done, f, main, task, info))
        else:
            self._track(done, [main], len(task.inputs))
            main.add_done_callback(lambda f: self._complete(done, f, None, task, info))
        return done

    def _complete(
        self,
        done: concurrent.futures.Future,
        head_future: Future,
        main: Future | None,
        task: Task,
        info: _TemplateInfo,
    ) -> None:
        """Runs on Dask's callback thread: fetches the outcome and settles ``done``."""
        try:
            try:
                packed = head_future.result()
            except Exception as exc:
                raise self._explain(task, exc) from exc
            kept = None if main is None else self._large_futures(main, task)
            done.set_result(self._settle(packed, task, info, kept))
        except BaseException as exc:
            done.set_exception(exc)

    @staticmethod
    def _large_futures(main: Future, task: Task) -> Callable[[int, int], Future]:
        """Futures of the large values of a split result, by item and export."""
        width = len(task.template.exports)

        def large(r: int, j: int) -> Future:
            return main.client.submit(
                _large_value, main, r * width + j, key=f"{main.key}-{r}-{j}", pure=False
            )

        return large

    def _explain(self, task: Task, exc: BaseException) -> BaseException:
        where = describe_items(task)
        kind = type(exc).__name__
        if isinstance(exc, ImportError) and "cayley" in str(exc):
            message = (
                f"The Dask workers cannot import cayley, so they cannot run {where}: install "
                f"cayley (the same version) where the workers run. {kind}: {exc}"
            )
        elif kind == "KilledWorker":
            message = (
                f"The Dask workers running {where} died: {exc} Allow more attempts with "
                "DaskExecutor(max_retries=...) or the cluster's "
                "distributed.scheduler.allowed-failures setting."
            )
        elif isinstance(exc, concurrent.futures.CancelledError) or kind.endswith("CancelledError"):
            message = f"Dask cancelled {where}: {exc}"
        else:
            message = f"Dask could not run {where}: {kind}: {exc}"
        return self._lost(task, message)

    def _fetch_one(self, handle: Future) -> Any:
        return handle.result()

    def _fetch_many(self, handles: list[Future]) -> list[Any]:
        return self._client.gather(handles)
