"""The cache adapter behind ``Builder.with_cache()`` and ``Driver.cache``.

A cache hit is a node whose value comes from a store instead of its function. For every
node the adapter computes a cache key from the node's name, its code version and the data
versions of the arguments it receives (inputs and overrides included; see
:mod:`cayley.caching.keys`), looks the key up in the metadata store and, on a hit, returns
the stored result instead of calling the function. On a miss it calls the function,
fingerprints the result, stores it and records the key. Keys are made from the arguments
actually passed, so the same rule serves plain runs, every item of a fan-out (items are
keyed by their content), every executor and the async driver.

A hit that no running node consumes and nobody requested is never loaded: it stays a
:class:`~cayley.caching.values.CachedResult` whose data version feeds the keys downstream.
(When another adapter observes node values, every hit is loaded, so it sees real values.)
"""

from __future__ import annotations

import functools
import inspect
import os
import pathlib
import threading
import time
from collections.abc import Iterator
from typing import Any

from cayley.caching import reporting
from cayley.caching.behaviors import LOADER_NODE_TAG, BehaviorSettings, NodeSelection
from cayley.caching.code_version import CodeVersioner
from cayley.caching.events import CachingBehavior, CachingEvent, CachingEventType, RunLog
from cayley.caching.fingerprinting import UnfingerprintableError
from cayley.caching.history import RunHistory
from cayley.caching.keys import cache_key
from cayley.caching.runstate import NodeInfo, RunState, WorkerReport, record
from cayley.caching.stores.base import (
    CorruptResultError,
    MetadataRecord,
    MetadataStore,
    ResultNotFound,
    ResultStore,
)
from cayley.caching.stores.file import FileResultStore
from cayley.caching.stores.sqlite import SQLiteMetadataStore
from cayley.caching.values import CachedResult, VersionMemo, with_loaded_results
from cayley.lifecycle.base import (
    BaseBindAdapters,
    BaseDoNodeExecute,
    BasePostGraphConstruct,
    BasePostGraphExecute,
    BasePreGraphExecute,
    BaseWorkerReport,
    LifecycleAdapterSet,
)

__all__ = [
    "CacheAdapter",
    "CachingBehavior",
    "CachingEvent",
    "CachingEventType",
    "HamiltonCacheAdapter",
]

# Event codes as plain strings: the log records them on every node.
_EXEC = CachingEventType.EXECUTE_NODE.value
_GET = CachingEventType.GET_RESULT.value
_FAILED_EXECUTION = CachingEventType.FAILED_EXECUTION.value
_FAILED_STORAGE = CachingEventType.FAILED_STORAGE.value
_SET_RESULT = CachingEventType.SET_RESULT.value
_UNHASHABLE_DATA_VERSION = CachingEventType.UNHASHABLE_DATA_VERSION.value
_FLUSH_SECONDS = 1.0
_KEPT_RUNS = 64
_PREFETCH_LIMIT = 200_000
_TOUCH_SECONDS = 3600.0  # how stale "last used" may get (pruning's resolution)


class CacheAdapter(
    BaseBindAdapters,
    BasePostGraphConstruct,
    BasePreGraphExecute,
    BaseDoNodeExecute,
    BasePostGraphExecute,
    BaseWorkerReport,
):
    """Caches node results across runs (see ``Builder.with_cache`` for the arguments).

    Attributes:
        metadata_store: cache key -> data version (SQLite in ``path`` by default).
        result_store: data version -> value (files in ``path/results`` by default).
        run_ids: the runs executed, oldest first.
        behaviors, data_versions, code_versions, cache_keys: per run id, per node (per
            task id inside fan-outs), what the cache decided, saw and computed.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ".cayley_cache",
        metadata_store: MetadataStore | None = None,
        result_store: ResultStore | None = None,
        default: NodeSelection = None,
        recompute: NodeSelection = None,
        ignore: NodeSelection = None,
        disable: NodeSelection = None,
        default_behavior: str | CachingBehavior | None = None,
        default_loader_behavior: str | CachingBehavior | None = None,
        default_saver_behavior: str | CachingBehavior | None = None,
        log_to_file: bool = False,
    ) -> None:
        self.settings = BehaviorSettings(
            default,
            recompute,
            ignore,
            disable,
            default_behavior,
            default_loader_behavior,
            default_saver_behavior,
        )
        self.path = pathlib.Path(path)
        self.metadata_store = (
            metadata_store if metadata_store is not None else SQLiteMetadataStore(path)
        )
        self.result_store = (
            result_store if result_store is not None else FileResultStore(self.path / "results")
        )
        self.log_to_file = log_to_file
        self._set_history(RunHistory(_KEPT_RUNS))
        self._graph: Any = None
        self._versioner = CodeVersioner()
        self._infos: dict[str, NodeInfo] = {}
        self._runs: dict[str, RunState] = {}
        self._observed = False  # another adapter sees node values: load every hit
        self._memo = VersionMemo()
        self._lock = threading.Lock()
        self._on_worker = False
        self._report = WorkerReport()

    def _set_history(self, history: RunHistory) -> None:
        self.history = history
        #: Hamilton's attribute names for the history's records (the same objects).
        self.run_ids = history.run_ids
        self.behaviors = history.behaviors
        self.code_versions = history.code_versions
        self.data_versions = history.data_versions
        self.cache_keys = history.cache_keys

    # ---- pickling: worker copies ------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("_lock", "_graph", "_versioner", "_memo", "_report", "history"):
            del state[name]
        for name in ("behaviors", "code_versions", "data_versions", "cache_keys", "run_ids"):
            del state[name]
        state["_runs"] = {k: run.for_worker() for k, run in self._runs.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._set_history(RunHistory(_KEPT_RUNS))
        self._lock = threading.Lock()
        self._graph = None
        self._versioner = CodeVersioner()
        self._memo = VersionMemo()
        self._on_worker = True
        self._report = WorkerReport()
        for run in self._runs.values():
            run.recompute = functools.partial(self._recompute, run)

    # ---- lifecycle hooks --------------------------------------------------------------------
    def bind_adapters(self, *, adapters: LifecycleAdapterSet) -> None:
        """Notes whether another adapter observes node values (then hits are always loaded)."""
        hooks = (*adapters.pre_node_execute, *adapters.post_node_execute)
        self._observed = any(hook.__self__ is not self for hook in hooks)

    def post_graph_construct(self, *, graph: Any, modules: Any, config: dict) -> None:
        """Checks the node names of the settings and prepares code versioning."""
        labels = {n.tags.get(LOADER_NODE_TAG) for n in graph.nodes.values()}
        unknown = sorted(self.settings.named() - set(graph.nodes) - labels)
        if unknown:
            raise ValueError(
                f"with_cache names nodes {unknown} that are not in the graph; known nodes "
                f"include {sorted(graph.nodes)[:10]}. Check the spelling."
            )
        self._graph = graph
        self._versioner = CodeVersioner(modules)
        self._infos = {}
        self.settings.forget()

    def pre_graph_execute(
        self,
        *,
        run_id: str,
        graph: Any,
        final_vars: list[str],
        inputs: dict,
        overrides: dict,
        execution_path: list[str] | None = None,
        **future_kwargs: Any,
    ) -> None:
        """Starts the run: resolves behaviours and code versions of the nodes it runs."""
        if self._graph is not graph:
            self._graph = graph
            self._infos = {}
            self.settings.forget()
        path = list(execution_path) if execution_path is not None else list(graph.nodes)
        infos = {name: self._info(name) for name in path}
        run = RunState.start(
            run_id, infos, final_vars, inputs or {}, overrides or {}, lazy=not self._observed
        )
        behaviors = {name: info.behavior for name, info in infos.items()}
        codes = {n: i.code_version for n, i in infos.items() if i.code_version is not None}
        found = self.metadata_store.prefetch(path, _PREFETCH_LIMIT, time.time() - _TOUCH_SECONDS)
        run.known, run.known_complete, run.recent = found.versions, found.complete, found.recent
        run.recompute = functools.partial(self._recompute, run)
        with self._lock:
            self._runs[run_id] = run
        self.history.start(run, behaviors, codes)
        self.metadata_store.initialize(run_id)

    def post_graph_execute(
        self,
        *,
        run_id: str,
        graph: Any,
        success: bool,
        error: Exception | None,
        results: Any,
        **future_kwargs: Any,
    ) -> None:
        """Writes what the run stored and used to the metadata store."""
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        run.flush(self.metadata_store, self.result_store)
        self._memo.clear()
        if self.log_to_file:
            reporting.append_jsonl(self.path / "cache_logs.jsonl", run.log.materialize("debug"))
        run.log.close()

    def collect_worker_report(self) -> Any:
        """On a worker copy: what it logged, versioned and (for in-memory stores) stored."""
        report, self._report = self._report, WorkerReport()
        for run in self._runs.values():
            report.take(run)
        return None if report.empty else report

    def receive_worker_report(self, *, report: Any) -> None:
        """On the driver: merges what a worker copy collected into the run and the stores."""
        run = self._runs.get(report.run_id)
        if run is None:
            return
        run.merge(report)
        report.store_in(self.metadata_store, self.result_store)

    # ---- the node ---------------------------------------------------------------------------
    def do_node_execute(
        self, *, run_id: str, node_: Any, kwargs: dict, task_id: str | None = None
    ) -> Any:
        """The node's value: from the cache on a hit, from its function otherwise."""
        name = node_.name
        run = self._runs.get(run_id)
        if run is None:
            run = self._adopt_run(run_id)
        if name not in run.path:  # plan-made steps (gathering outputs, overridden fan-outs)
            return node_.callable(**with_loaded_results(kwargs, self._load))
        info = self._infos.get(name) or self._info(name)
        behavior = info.behavior
        if behavior is CachingBehavior.IGNORE or behavior is CachingBehavior.DISABLE:
            run.log.add("adapter", _EXEC, name, task_id, behavior.name.lower())
            result = node_.callable(**with_loaded_results(kwargs, self._load))
            if behavior is CachingBehavior.DISABLE:
                return self._finish(run, info, node_, None, result, task_id, store=False)
            return result
        key, reason = cache_key(info, node_, kwargs, self._memo)
        if key is not None:
            version = run.find(name, task_id, key, behavior, self.metadata_store)
            if version is not None:
                if run.lazy and info.deferrable and name not in run.outputs:
                    # Not read now: if unreadable when a node needs it, it is recomputed.
                    run.log.events.append(
                        (time.time(), "result_store", _GET, name, task_id, "hit", version)
                    )
                    return CachedResult(
                        name, version, run.run_id, run.recompute, node_, kwargs, key, task_id
                    )
                hit = self._read(run, name, task_id, version)
                if hit is not _MISS:
                    return hit
                reason = "no stored result for this cache key"
            elif behavior is CachingBehavior.DEFAULT:
                reason = "no stored result for this cache key"
            else:
                reason = "behavior is recompute"
        run.log.add("adapter", _EXEC, name, task_id, reason)
        return self._execute(run, info, node_, kwargs, key, task_id)

    def _read(self, run: RunState, name: str, task_id: str | None, version: str) -> Any:
        """A hit's stored value, or _MISS (forgotten) when it cannot be read."""
        try:
            value = self.result_store.get(version)
        except (ResultNotFound, CorruptResultError) as exc:
            run.forget_unreadable(
                self.metadata_store, self.result_store, name, task_id, version, exc
            )
            return _MISS
        run.log.add("result_store", _GET, name, task_id, "hit", version)
        self._memo.remember(value, version)
        return value

    def _execute(
        self,
        run: RunState,
        info: NodeInfo,
        node_: Any,
        kwargs: dict,
        key: str | None,
        task_id: str | None,
    ) -> Any:
        try:
            result = node_.callable(**with_loaded_results(kwargs, self._load))
        except Exception as exc:
            run.log.add("adapter", _FAILED_EXECUTION, node_.name, task_id, repr(exc))
            raise
        if inspect.isawaitable(result):
            return self._finish_async(run, info, node_, key, result, task_id)
        if info.expander:
            return self._storing_items(run, info, node_, key, result, task_id)
        return self._finish(run, info, node_, key, result, task_id, store=key is not None)

    async def _finish_async(
        self,
        run: RunState,
        info: NodeInfo,
        node_: Any,
        key: str | None,
        result: Any,
        task_id: str | None,
    ) -> Any:
        value = await result
        return self._finish(run, info, node_, key, value, task_id, store=key is not None)

    def _storing_items(
        self,
        run: RunState,
        info: NodeInfo,
        node_: Any,
        key: str | None,
        result: Any,
        task_id: str | None,
    ) -> Iterator[Any]:
        """Yields a fan-out's items as they come; stores them all once it is exhausted."""
        items = []
        for item in result:
            items.append(item)
            yield item
        self._finish(run, info, node_, key, items, task_id, store=key is not None)

    def _finish(
        self,
        run: RunState,
        info: NodeInfo,
        node_: Any,
        key: str | None,
        result: Any,
        task_id: str | None,
        store: bool,
    ) -> Any:
        """Fingerprints a computed result and, with a key, stores it."""
        name = node_.name
        try:
            memo = self._memo
            version = memo.items_version(result) if info.expander else memo.version_of(result)
        except UnfingerprintableError as exc:
            run.log.add("adapter", _UNHASHABLE_DATA_VERSION, name, task_id, str(exc))
            return result
        if not store or key is None:
            record(run.data_versions, name, task_id, version)
            return result
        try:
            if info.format is not None and isinstance(self.result_store, FileResultStore):
                result, version = self.result_store.set_read_back(
                    version, result, info.format, self._memo.version_of
                )
            else:
                self.result_store.set(version, result)
        except Exception as exc:
            record(run.data_versions, name, task_id, version)
            run.log.add("result_store", _FAILED_STORAGE, name, task_id, str(exc))
            run.warn(f"cayley cache: could not store the result of node {name!r}: {exc}")
            return result
        record(run.data_versions, name, task_id, version)
        entry = MetadataRecord(key, version, name, info.code_version or "", run.run_id, task_id)
        run.log.add("result_store", _SET_RESULT, name, task_id, value=version)
        self._add_record(run, entry)
        return result

    # ---- loading hits -----------------------------------------------------------------------
    def _load(self, cached: CachedResult) -> Any:
        """Reads a cached result; recomputes it (with a warning) if it cannot be read."""
        try:
            value = self.result_store.get(cached.data_version)
        except (ResultNotFound, CorruptResultError) as exc:
            run = self._runs.get(cached.run_id)
            if run is not None:
                run.forget_unreadable(
                    self.metadata_store,
                    self.result_store,
                    cached.node_name,
                    None,
                    cached.data_version,
                    exc,
                )
            if cached.recompute is None:
                raise CorruptResultError(
                    f"The cached result of node {cached.node_name!r} (data version "
                    f"{cached.data_version}) cannot be read in this worker: {exc}. Its cache "
                    "entries have been removed; run again to recompute it."
                ) from exc
            return cached.recompute(cached)
        self._memo.remember(value, cached.data_version)
        return value

    def _recompute(self, run: RunState, cached: CachedResult) -> Any:
        info = self._info(cached.node_name)
        return self._execute(
            run, info, cached.node, cached.kwargs, cached.cache_key, cached.task_id
        )

    # ---- bookkeeping ------------------------------------------------------------------------
    def _info(self, name: str) -> NodeInfo:
        info = self._infos.get(name)
        if info is None:
            info = NodeInfo.build(self._graph, name, self.settings, self._versioner)
            self._infos[name] = info
        return info

    def _adopt_run(self, run_id: str) -> RunState:
        """The state of a run this copy was not sent (loads every hit, knows no outputs)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                run = RunState(run_id, frozenset(self._infos), frozenset(), False, RunLog(run_id))
                run.recompute = functools.partial(self._recompute, run)
                self._runs[run_id] = run
        return run

    def _add_record(self, run: RunState, record: MetadataRecord) -> None:
        if self._on_worker:
            self.result_store.flush()
            self.metadata_store.set_many([record])
            self._report.add_record(run, record, self.result_store)
            return
        run.pending.append(record)
        if time.monotonic() - run.last_flush > _FLUSH_SECONDS:
            run.flush(self.metadata_store, self.result_store)

    # ---- reading the cache ------------------------------------------------------------------
    @property
    def last_run_id(self) -> str:
        """The id of the most recently started run."""
        return self.history.last_run_id

    def logs(self, run_id: str | None = None, level: str = "info") -> dict[Any, list[Any]]:
        """What the cache did: per run id, or for one run per node (``(node, task_id)``
        inside fan-outs). ``level="info"`` lists retrievals, executions (with the reason for
        each miss), stores and failures; ``"debug"`` everything."""
        return self.history.read(run_id, level)

    def view_run(self, run_id: str | None = None, output_file_path: str | None = None) -> Any:
        """The graph of a run (the last by default), each node coloured by whether it came
        from the cache; written to ``output_file_path`` when given."""
        log = self.history.log(run_id)
        behaviors = self.history.behaviors[log.run_id]
        return reporting.view_run(self._graph, log, behaviors, output_file_path)

    def prune(self, older_than: Any = None, max_bytes: int | None = None) -> reporting.PruneReport:
        """Removes cached results unused for ``older_than`` (seconds or a ``timedelta``), then
        the least recently used ones until the results take at most ``max_bytes``."""
        return reporting.prune(self.metadata_store, self.result_store, older_than, max_bytes)

    def version_data(self, result: Any, run_id: str | None = None) -> str:
        """The data version of a value."""
        return self._memo.version_of(result)

    def version_code(self, node_name: str, run_id: str | None = None) -> str | None:
        """The code version of a node (None if it cannot be versioned)."""
        return self._info(node_name).code_version


_MISS = object()

#: The name Hamilton code imports.
HamiltonCacheAdapter = CacheAdapter
