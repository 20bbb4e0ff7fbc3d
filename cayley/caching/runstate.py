"""What the cache adapter knows about each node (once per driver) and each run."""

from __future__ import annotations

import inspect
import threading
import time
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from cayley.caching.behaviors import FORMAT_TAG, READS_TAG, BehaviorSettings
from cayley.caching.code_version import CodeVersioner
from cayley.caching.events import CachingBehavior, CachingEventType, RunLog
from cayley.caching.fingerprinting import UnfingerprintableError, data_version
from cayley.caching.stores.base import (
    CorruptResultError,
    MetadataRecord,
    MetadataStore,
    ResultStore,
)
from cayley.caching.stores.memory import InMemoryMetadataStore, InMemoryResultStore

__all__ = ["NodeInfo", "RunState", "WorkerReport", "record"]

_SHIPPED_ENTRIES = 20_000
_FAILED_RETRIEVAL = CachingEventType.FAILED_RETRIEVAL.value
_SET_CACHE_KEY = CachingEventType.SET_CACHE_KEY.value


def record(table: dict[str, Any], name: str, task_id: str | None, value: str) -> None:
    """Sets ``table[name]`` (``table[name][task_id]`` inside tasks)."""
    if task_id is None:
        table[name] = value
        return
    per_task = table.get(name)
    if per_task.__class__ is not dict:
        per_task = table[name] = {}
    per_task[task_id] = value


@dataclass(slots=True)
class NodeInfo:
    """A node's caching behaviour, code version and what its key leaves out."""

    name: str
    behavior: CachingBehavior
    code_version: str | None
    code_error: str | None
    expander: bool
    keyed: tuple[tuple[str, bool, str | None], ...]  # (parameter, collected?, default version)
    loader: bool  # reads data from outside: the freshness of what it reads enters the key
    format: str | None  # @cache(format=...): store the result through that format's saver
    deferrable: bool  # a hit may stay unloaded (not a fan-out's items, not a coroutine)

    @classmethod
    def build(
        cls, graph: Any, name: str, settings: BehaviorSettings, versioner: CodeVersioner
    ) -> NodeInfo:
        """The info of graph node ``name``."""
        node = graph.nodes[name]
        behavior = settings.resolve(name, node.tags)
        code_version = code_error = None
        if not node.user_defined:
            try:
                code_version = versioner.node_version(node)
            except UnfingerprintableError as exc:
                code_error = str(exc)
        ignored = frozenset(
            dep
            for dep in graph.dependencies[name]
            if settings.resolve(dep, graph.nodes[dep].tags) is CachingBehavior.IGNORE
        )
        defaults = {}
        for param, default in node.default_parameter_values.items():
            try:
                defaults[param] = data_version(default)
            except UnfingerprintableError:
                pass  # keyed by its absence; the default is part of the code version anyway
        keyed = tuple(
            (param, param in node.collect_params, defaults.get(param))
            for param in sorted(node.input_types)
            if param not in ignored
        )
        return cls(
            name=name,
            behavior=behavior,
            code_version=code_version,
            code_error=code_error,
            expander=node.is_expander,
            keyed=keyed,
            loader=bool(node.tags.get(READS_TAG)),
            format=node.tags.get(FORMAT_TAG),
            deferrable=not (node.is_expander or inspect.iscoroutinefunction(node.callable)),
        )


@dataclass(eq=False)
class RunState:
    """One run as the cache sees it."""

    run_id: str
    path: frozenset[str]  # graph nodes the run computes
    outputs: frozenset[str]  # requested outputs: always loaded
    lazy: bool  # hits nobody consumes stay CachedResult objects
    log: RunLog
    known: dict[str, str] = field(default_factory=dict)  # cache key -> data version
    known_complete: bool = False  # ``known`` holds every entry of the run's nodes
    recent: set[str] = field(default_factory=set)  # keys marked used recently enough
    data_versions: dict[str, Any] = field(default_factory=dict)
    cache_keys: dict[str, Any] = field(default_factory=dict)
    pending: list[MetadataRecord] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    last_flush: float = field(default_factory=time.monotonic)
    warned: set[str] = field(default_factory=set)
    flushing: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: ``recompute(cached_result)`` for the hits of this run (the adapter sets it; a
    #: worker copy sets its own).
    recompute: Callable[[Any], Any] | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls,
        run_id: str,
        infos: Mapping[str, NodeInfo],
        final_vars: Collection[str],
        inputs: Collection[str],
        overrides: Collection[str],
        lazy: bool,
    ) -> RunState:
        """A run computing the nodes of ``infos``, with what it was asked logged: each node's
        behaviour, the inputs, the overrides and the requested outputs."""
        log = RunLog(run_id)
        for name, info in infos.items():
            log.add("adapter", CachingEventType.RESOLVE_BEHAVIOR.value, name, value=info.behavior)
        for kind, names in (
            (CachingEventType.IS_INPUT, inputs),
            (CachingEventType.IS_OVERRIDE, overrides),
            (CachingEventType.IS_FINAL_VAR, final_vars),
        ):
            for name in names:
                log.add("adapter", kind.value, name)
        return cls(
            run_id=run_id,
            path=frozenset(infos),
            outputs=frozenset(final_vars),
            lazy=lazy,
            log=log,
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["flushing"]
        state["recompute"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.flushing = threading.Lock()

    def find(
        self,
        name: str,
        task_id: str | None,
        key: str,
        behavior: CachingBehavior,
        metadata: MetadataStore,
    ) -> str | None:
        """Records the node's cache key; with the DEFAULT behaviour, the data version stored
        for it (recorded as the node's, and the entry marked used), else None."""
        if task_id is None:
            self.cache_keys[name] = key
        else:
            per_task = self.cache_keys.get(name)
            if per_task.__class__ is not dict:
                per_task = self.cache_keys[name] = {}
            per_task[task_id] = key
        self.log.events.append((time.time(), "adapter", _SET_CACHE_KEY, name, task_id, None, key))
        if behavior is not CachingBehavior.DEFAULT:
            return None
        version = self.known.get(key)
        if version is None:
            if self.known_complete:
                return None
            version = metadata.get(key)
            if version is None:
                return None
        if task_id is None:
            self.data_versions[name] = version
        else:
            per_task = self.data_versions.get(name)
            if per_task.__class__ is not dict:
                per_task = self.data_versions[name] = {}
            per_task[task_id] = version
        if key not in self.recent:
            self.touched.append(key)
        return version

    def flush(self, metadata: MetadataStore, results: ResultStore) -> None:
        """Writes the results and entries stored so far and marks the hits used."""
        with self.flushing:  # other threads keep appending: take what is there now
            self.last_flush = time.monotonic()
            records = self.pending[: len(self.pending)]
            del self.pending[: len(records)]
            touched = self.touched[: len(self.touched)]
            del self.touched[: len(touched)]
        try:
            results.flush()
            metadata.set_many(records)
            if touched:
                metadata.touch(touched, time.time())
        except Exception as exc:
            self.warn(f"cayley cache: could not write the cache metadata: {exc}")

    def forget_unreadable(
        self,
        metadata: MetadataStore,
        results: ResultStore,
        name: str,
        task_id: str | None,
        version: str,
        exc: Exception,
    ) -> None:
        """Forgets a stored result that cannot be read (the entries naming it too); logs why."""
        if isinstance(exc, CorruptResultError):
            results.delete(version)
            self.warn(f"cayley cache: {exc}; node {name!r} is recomputed and stored again.")
        metadata.delete_data_version(version)
        self.log.add("result_store", _FAILED_RETRIEVAL, name, task_id, str(exc), version)

    def warn(self, message: str) -> None:
        """A RuntimeWarning, once per run and message."""
        if message not in self.warned:
            self.warned.add(message)
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    def for_worker(self) -> RunState:
        """A fresh state with the run's settings, for a worker copy of the adapter.

        The prefetched entries travel along unless there are many: then workers ask the
        metadata store key by key rather than receive megabytes with every template.
        """
        small = len(self.known) <= _SHIPPED_ENTRIES
        return RunState(
            self.run_id,
            self.path,
            self.outputs,
            self.lazy,
            RunLog(self.run_id),
            self.known if small else {},
            self.known_complete and small,
            self.recent if small else set(),
        )

    def merge(self, report: WorkerReport) -> None:
        """Adds what a worker copy recorded."""
        self.log.events.extend(report.events)
        for name, task_id, version in report.data_versions:
            record(self.data_versions, name, task_id, version)
        for name, task_id, key in report.cache_keys:
            record(self.cache_keys, name, task_id, key)
        self.touched.extend(report.touched)


@dataclass(eq=False)
class WorkerReport:
    """What a worker copy of the adapter sends back to the driver after a task."""

    run_id: str = ""
    events: list[Any] = field(default_factory=list)
    data_versions: list[tuple[str, str | None, str]] = field(default_factory=list)
    cache_keys: list[tuple[str, str | None, str]] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    records: list[MetadataRecord] = field(default_factory=list)
    results: dict[str, bytes] = field(default_factory=dict)  # in-memory result stores only

    @property
    def empty(self) -> bool:
        """Whether there is nothing to send."""
        return not (self.events or self.data_versions or self.records or self.touched)

    def add_record(self, run: RunState, record: MetadataRecord, store: ResultStore) -> None:
        """Takes a stored entry (and its pickled result when the store is in memory)."""
        self.run_id = run.run_id
        self.records.append(record)
        if isinstance(store, InMemoryResultStore):
            self.results[record.data_version] = store.pickled(record.data_version)

    def store_in(self, metadata: MetadataStore, results: ResultStore) -> None:
        """On the driver: puts the entries and results shipped for in-memory stores into them
        (other stores are shared with the workers, which wrote there themselves)."""
        if isinstance(results, InMemoryResultStore):
            for version, blob in self.results.items():
                results.set_pickled(version, blob)
        if isinstance(metadata, InMemoryMetadataStore):
            metadata.set_many(self.records)

    def take(self, run: RunState) -> None:
        """Moves the run's log, versions, keys and used keys into the report."""
        self.run_id = run.run_id
        self.events.extend(run.log.events)
        run.log.events.clear()
        for table, out in (
            (run.data_versions, self.data_versions),
            (run.cache_keys, self.cache_keys),
        ):
            for name, value in table.items():
                if isinstance(value, dict):
                    out.extend((name, task_id, v) for task_id, v in value.items())
                else:
                    out.append((name, None, value))
            table.clear()
        self.touched.extend(run.touched)
        run.touched.clear()
