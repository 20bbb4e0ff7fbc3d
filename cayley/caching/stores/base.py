"""What a cache store is: a metadata store maps cache keys to data versions, a result store
maps data versions to values.

Results are content-addressed: two nodes (or two runs) producing equal values share one
stored result, and a result is never overwritten with a different value.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CacheDirectoryError",
    "CorruptResultError",
    "MetadataRecord",
    "MetadataStore",
    "Prefetched",
    "ResultNotFound",
    "ResultStore",
    "StoredSize",
]


class CacheDirectoryError(OSError):
    """The cache directory cannot be created or written."""


class ResultNotFound(KeyError):
    """No result is stored for a data version."""


class CorruptResultError(ValueError):
    """A stored result failed its integrity check or could not be read back."""


@dataclass(slots=True, frozen=True)
class MetadataRecord:
    """One cache entry: the node run with these inputs and code produced this data version."""

    cache_key: str
    data_version: str
    node_name: str
    code_version: str
    run_id: str
    task_id: str | None = None
    created: float = 0.0
    last_used: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The fields Hamilton's ``get_run`` lists."""
        return {
            "cache_key": self.cache_key,
            "data_version": self.data_version,
            "node_name": self.node_name,
            "code_version": self.code_version,
        }


@dataclass(slots=True)
class Prefetched:
    """A store's entries for a run's nodes, read at once."""

    versions: dict[str, str]  # cache key -> data version
    recent: set[str]  # keys used after ``recent_after``: no need to mark them used again
    complete: bool  # every entry of those nodes is in ``versions``


@dataclass(slots=True, frozen=True)
class StoredSize:
    """How much room a stored result takes and when it was written (seconds since epoch)."""

    data_version: str
    size: int
    modified: float


def check_directory(path: str | os.PathLike[str]) -> str:
    """Creates ``path`` if needed; raises :class:`CacheDirectoryError` if it is not writable."""
    path = os.fspath(path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise CacheDirectoryError(
            f"Cannot create the cache directory {path!r}: {exc.strerror or exc}. Pass a "
            "writable directory, e.g. Builder().with_cache(path=...)."
        ) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise CacheDirectoryError(
            f"The cache directory {path!r} is not writable. Pass a writable directory, e.g. "
            "Builder().with_cache(path=...), or fix its permissions."
        )
    return path


class MetadataStore(abc.ABC):
    """Maps cache keys to data versions and remembers which runs stored what."""

    @abc.abstractmethod
    def initialize(self, run_id: str) -> None:
        """Records the start of a run."""

    @abc.abstractmethod
    def get(self, cache_key: str) -> str | None:
        """The data version stored for ``cache_key``, or None."""

    def set(
        self,
        cache_key: str,
        data_version: str,
        run_id: str,
        node_name: str,
        code_version: str,
        task_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Stores one entry (see :meth:`set_many`)."""
        self.set_many(
            [MetadataRecord(cache_key, data_version, node_name, code_version, run_id, task_id)]
        )

    def prefetch(self, node_names: Iterable[str], limit: int, recent_after: float) -> Prefetched:
        """Up to ``limit`` entries of these nodes at once (the cache reads them once per run
        instead of asking key by key). A store that cannot list by node returns an
        incomplete, empty answer."""
        return Prefetched({}, set(), False)

    @abc.abstractmethod
    def set_many(self, records: Sequence[MetadataRecord]) -> None:
        """Stores entries atomically, replacing existing ones with the same keys."""

    @abc.abstractmethod
    def touch(self, cache_keys: Iterable[str], when: float) -> None:
        """Marks entries as used at ``when`` (pruning removes the least recently used)."""

    @abc.abstractmethod
    def delete_many(self, cache_keys: Iterable[str]) -> None:
        """Removes entries."""

    def delete(self, cache_key: str) -> None:
        """Removes one entry."""
        self.delete_many([cache_key])

    def delete_data_version(self, data_version: str) -> None:
        """Removes the entries naming ``data_version`` (its result is gone)."""
        self.delete_many(e.cache_key for e in self.entries() if e.data_version == data_version)

    @abc.abstractmethod
    def delete_all(self) -> None:
        """Removes every entry and run."""

    def exists(self, cache_key: str) -> bool:
        """Whether ``cache_key`` has an entry."""
        return self.get(cache_key) is not None

    @abc.abstractmethod
    def entries(self) -> list[MetadataRecord]:
        """Every entry."""

    def __len__(self) -> int:
        return len(self.entries())

    @property
    def size(self) -> int:
        """The number of entries."""
        return len(self)

    @abc.abstractmethod
    def get_run_ids(self) -> list[str]:
        """Ids of the runs recorded, oldest first."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> list[dict[str, Any]]:
        """The entries stored by a run (``cache_key``, ``data_version``, ``node_name``,
        ``code_version``); raises IndexError for an unknown run."""

    @property
    def last_run_id(self) -> str:
        """The id of the most recently started run."""
        run_ids = self.get_run_ids()
        if not run_ids:
            raise IndexError("No run is recorded in this metadata store yet.")
        return run_ids[-1]

    def get_last_run(self) -> list[dict[str, Any]]:
        """The entries of the most recent run."""
        return self.get_run(self.last_run_id)


class ResultStore(abc.ABC):
    """Maps data versions to values."""

    @abc.abstractmethod
    def set(self, data_version: str, result: Any, **kwargs: Any) -> None:
        """Stores ``result`` (once: an existing result for the version is kept)."""

    @abc.abstractmethod
    def get(self, data_version: str, **kwargs: Any) -> Any:
        """The stored value.

        Raises:
            ResultNotFound: nothing is stored for ``data_version``.
            CorruptResultError: what is stored cannot be read back intact.
        """

    @abc.abstractmethod
    def exists(self, data_version: str) -> bool:
        """Whether a result is stored for ``data_version``."""

    @abc.abstractmethod
    def delete(self, data_version: str) -> None:
        """Removes a result (no error if there is none)."""

    @abc.abstractmethod
    def delete_all(self) -> None:
        """Removes every result."""

    @abc.abstractmethod
    def sizes(self) -> list[StoredSize]:
        """Every stored result with its size and write time."""

    def flush(self) -> None:  # noqa: B027 - optional: stores that buffer writes override it
        """Writes buffered results; the cache calls it before recording their metadata."""
