"""Stores that live in the driver's process: fast, gone when the process ends.

Results are kept pickled, so a node that mutates a value it received from the cache cannot
change what the next hit returns. Other processes (process pools, Ray, Dask workers) get a
copy of an in-memory store as it was when their task was sent: what they add reaches the
driver's store through the cache adapter's worker report, not through the store itself.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import cloudpickle

from cayley.caching.stores.base import (
    MetadataRecord,
    MetadataStore,
    Prefetched,
    ResultNotFound,
    ResultStore,
    StoredSize,
)

__all__ = ["InMemoryMetadataStore", "InMemoryResultStore"]


class InMemoryMetadataStore(MetadataStore):
    """Metadata in dictionaries."""

    def __init__(self) -> None:
        self._records: dict[str, MetadataRecord] = {}
        self._runs: dict[str, float] = {}
        self._history: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def initialize(self, run_id: str) -> None:
        """Records the run."""
        with self._lock:
            self._runs.setdefault(run_id, time.time())
            self._history.setdefault(run_id, [])

    def get(self, cache_key: str) -> str | None:
        """The data version of ``cache_key``, or None."""
        record = self._records.get(cache_key)
        return record.data_version if record is not None else None

    def prefetch(self, node_names: Iterable[str], limit: int, recent_after: float) -> Prefetched:
        """Nothing: looking up one key in memory is as fast as reading a copy."""
        return Prefetched({}, set(), False)

    def set_many(self, records: Sequence[MetadataRecord]) -> None:
        """Stores entries."""
        now = time.time()
        with self._lock:
            for r in records:
                self._records[r.cache_key] = MetadataRecord(
                    r.cache_key,
                    r.data_version,
                    r.node_name,
                    r.code_version,
                    r.run_id,
                    r.task_id,
                    r.created or now,
                    r.last_used or now,
                )
                self._runs.setdefault(r.run_id, now)
                self._history.setdefault(r.run_id, []).append(r.cache_key)

    def touch(self, cache_keys: Iterable[str], when: float) -> None:
        """Sets ``last_used`` of the entries."""
        with self._lock:
            for key in cache_keys:
                r = self._records.get(key)
                if r is not None:
                    self._records[key] = MetadataRecord(
                        r.cache_key,
                        r.data_version,
                        r.node_name,
                        r.code_version,
                        r.run_id,
                        r.task_id,
                        r.created,
                        when,
                    )

    def delete_many(self, cache_keys: Iterable[str]) -> None:
        """Removes entries."""
        with self._lock:
            for key in cache_keys:
                self._records.pop(key, None)

    def delete_all(self) -> None:
        """Removes everything."""
        with self._lock:
            self._records.clear()
            self._runs.clear()
            self._history.clear()

    def entries(self) -> list[MetadataRecord]:
        """Every entry."""
        return list(self._records.values())

    def __len__(self) -> int:
        return len(self._records)

    def get_run_ids(self) -> list[str]:
        """Run ids, oldest first."""
        return [run for run, _ in sorted(self._runs.items(), key=lambda item: item[1])]

    def get_run(self, run_id: str) -> list[dict[str, Any]]:
        """The entries a run stored."""
        if run_id not in self._runs:
            raise IndexError(f"Run {run_id!r} is not recorded in this in-memory store.")
        return [
            self._records[key].as_dict()
            for key in self._history.get(run_id, [])
            if key in self._records
        ]

    def persist_to(self, metadata_store: MetadataStore) -> None:
        """Copies every entry into another store (e.g. a SQLite one, to keep them)."""
        for run_id in self.get_run_ids():
            metadata_store.initialize(run_id)
        metadata_store.set_many(self.entries())

    @classmethod
    def load_from(cls, metadata_store: MetadataStore) -> InMemoryMetadataStore:
        """A new in-memory store holding a copy of another store's entries."""
        store = cls()
        for run_id in metadata_store.get_run_ids():
            store.initialize(run_id)
        store.set_many(metadata_store.entries())
        return store


class InMemoryResultStore(ResultStore):
    """Results pickled in a dictionary.

    Args:
        persist_on_exit: accepted for compatibility with Hamilton, which ignores it too;
            call :meth:`persist_to` to keep the results.
    """

    def __init__(self, persist_on_exit: bool = False) -> None:
        self._results: dict[str, tuple[bytes, float]] = {}

    def set(self, data_version: str, result: Any, **kwargs: Any) -> None:
        """Keeps the pickled result (once per version)."""
        if data_version in self._results:
            return
        try:
            blob = pickle.dumps(result, protocol=5)
        except (pickle.PicklingError, TypeError, AttributeError):
            blob = cloudpickle.dumps(result, protocol=5)
        self._results[data_version] = (blob, time.time())

    def set_pickled(self, data_version: str, blob: bytes) -> None:
        """Keeps an already pickled result (what worker copies report back)."""
        self._results.setdefault(data_version, (blob, time.time()))

    def pickled(self, data_version: str) -> bytes:
        """The pickled result."""
        try:
            return self._results[data_version][0]
        except KeyError:
            raise ResultNotFound(data_version) from None

    def get(self, data_version: str, **kwargs: Any) -> Any:
        """A fresh copy of the stored value."""
        return pickle.loads(self.pickled(data_version))

    def exists(self, data_version: str) -> bool:
        """Whether the version is stored."""
        return data_version in self._results

    def delete(self, data_version: str) -> None:
        """Removes a result."""
        self._results.pop(data_version, None)

    def delete_all(self) -> None:
        """Removes every result."""
        self._results.clear()

    def sizes(self) -> list[StoredSize]:
        """Every result with its pickled size."""
        return [StoredSize(v, len(blob), when) for v, (blob, when) in self._results.items()]

    def persist_to(self, result_store: ResultStore | None = None) -> None:
        """Copies every result into another store (by default ``.cayley_cache/results``)."""
        if result_store is None:
            from cayley.caching.stores.file import FileResultStore

            result_store = FileResultStore(".cayley_cache/results")
        for version in list(self._results):
            result_store.set(version, self.get(version))

    @classmethod
    def load_from(
        cls,
        result_store: ResultStore,
        metadata_store: MetadataStore | None = None,
        data_versions: Iterable[str] | None = None,
    ) -> InMemoryResultStore:
        """A new in-memory store with a copy of another store's results: those of
        ``data_versions``, else those ``metadata_store`` refers to, else all of them."""
        store = cls()
        if data_versions is not None:
            versions = list(data_versions)
        elif metadata_store is not None:
            versions = list(dict.fromkeys(r.data_version for r in metadata_store.entries()))
        else:
            versions = [s.data_version for s in result_store.sizes()]
        for version in versions:
            if result_store.exists(version):
                store.set(version, result_store.get(version))
        return store
