"""Cache metadata in SQLite, shared by threads and processes.

The database runs in WAL mode with a busy timeout, so several drivers (threads, processes,
cluster workers on a shared filesystem) read and write one cache directory at once; every
write is one transaction. A connection is opened lazily in each process, so the store can
be pickled to worker processes.
"""

from __future__ import annotations

import os
import pathlib
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cayley.caching.stores.base import (
    CacheDirectoryError,
    MetadataRecord,
    MetadataStore,
    Prefetched,
    check_directory,
)

__all__ = ["SQLiteMetadataStore"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS cache_metadata (
        cache_key TEXT PRIMARY KEY,
        data_version TEXT NOT NULL,
        node_name TEXT NOT NULL,
        code_version TEXT NOT NULL,
        run_id TEXT,
        created REAL NOT NULL,
        last_used REAL NOT NULL
    )""",
    "CREATE TABLE IF NOT EXISTS run_ids (run_id TEXT PRIMARY KEY, started REAL NOT NULL)",
    """CREATE TABLE IF NOT EXISTS history (
        run_id TEXT NOT NULL, cache_key TEXT NOT NULL, node_name TEXT, task_id TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS history_run ON history (run_id)",
    # Covers what a run reads of its nodes' entries, so reading them never visits the table.
    "CREATE INDEX IF NOT EXISTS metadata_node_entries "
    "ON cache_metadata (node_name, cache_key, data_version, last_used)",
    "DROP INDEX IF EXISTS metadata_node",  # made redundant by the one above
)
_CHUNK = 500
_REUSE_SECONDS = 60.0  # how long an unchanged database's entries may be reused by prefetch


@dataclass(frozen=True, slots=True)
class _LastRead:
    """What :meth:`SQLiteMetadataStore.prefetch` read last, and when the database was at."""

    names: tuple[str, ...]
    limit: int
    recent_after: float
    database_version: int  # ``PRAGMA data_version`` then: other connections' commits change it
    found: Prefetched


class SQLiteMetadataStore(MetadataStore):
    """Metadata in ``path/metadata_store.db``.

    Args:
        path: the directory holding the database (created if needed).
        connection_kwargs: extra keyword arguments of :func:`sqlite3.connect`.

    Raises:
        CacheDirectoryError: the directory or database cannot be created or written.
    """

    def __init__(
        self, path: str | os.PathLike[str], connection_kwargs: dict[str, Any] | None = None
    ) -> None:
        self.directory = pathlib.Path(check_directory(path)).resolve()
        self.db_path = self.directory / "metadata_store.db"
        self.connection_kwargs = dict(connection_kwargs or {})
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._last_read: _LastRead | None = None
        with self._lock:
            self._connect()

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.directory, "connection_kwargs": self.connection_kwargs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.directory = pathlib.Path(state["path"])
        self.db_path = self.directory / "metadata_store.db"
        self.connection_kwargs = state["connection_kwargs"]
        self._lock = threading.Lock()
        self._connection = None
        self._pid = os.getpid()
        self._last_read = None

    def __repr__(self) -> str:
        return f"SQLiteMetadataStore({str(self.directory)!r})"

    def _connect(self) -> sqlite3.Connection:
        """The process's connection (a forked child opens its own)."""
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        kwargs = {"timeout": 60.0, **self.connection_kwargs}
        try:
            connection = sqlite3.connect(
                str(self.db_path), isolation_level=None, check_same_thread=False, **kwargs
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                connection.execute(statement)
        except sqlite3.OperationalError as exc:
            raise CacheDirectoryError(
                f"Cannot open the cache metadata database {str(self.db_path)!r}: {exc}. Pass a "
                "writable directory, e.g. Builder().with_cache(path=...)."
            ) from exc
        self._connection = connection
        self._pid = os.getpid()
        self._last_read = None  # database versions are counted per connection
        return connection

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connect().execute(sql, params).fetchall()

    def _write(
        self,
        statements: Iterable[tuple[str, Sequence[Any]]],
        many: bool = False,
        entries: bool = True,
    ) -> None:
        """Runs statements in one transaction (``many``: each with a list of parameter rows;
        ``entries``: they may change cache entries, so what prefetch read is stale)."""
        with self._lock:
            connection = self._connect()
            if entries:
                self._last_read = None
            connection.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    if many:
                        connection.executemany(sql, params)
                    else:
                        connection.execute(sql, params)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def close(self) -> None:
        """Closes this process's connection (a later call reopens it)."""
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None

    # ---- MetadataStore ----------------------------------------------------------------------
    def initialize(self, run_id: str) -> None:
        """Records the run."""
        self._write(
            [("INSERT OR IGNORE INTO run_ids VALUES (?, ?)", (run_id, time.time()))], entries=False
        )

    def get(self, cache_key: str) -> str | None:
        """The data version of ``cache_key``, or None."""
        with self._lock:
            row = (
                self._connect()
                .execute(
                    "SELECT data_version FROM cache_metadata WHERE cache_key = ?", (cache_key,)
                )
                .fetchone()
            )
        return row[0] if row else None

    def set_many(self, records: Sequence[MetadataRecord]) -> None:
        """Stores entries and the run history in one transaction."""
        if not records:
            return
        now = time.time()
        entries = [
            (
                r.cache_key,
                r.data_version,
                r.node_name,
                r.code_version,
                r.run_id,
                r.created or now,
                r.last_used or now,
            )
            for r in records
        ]
        history = [(r.run_id, r.cache_key, r.node_name, r.task_id) for r in records]
        self._write(
            [
                ("INSERT OR REPLACE INTO cache_metadata VALUES (?, ?, ?, ?, ?, ?, ?)", entries),
                ("INSERT INTO history VALUES (?, ?, ?, ?)", history),
            ],
            many=True,
        )

    def prefetch(self, node_names: Iterable[str], limit: int, recent_after: float) -> Prefetched:
        """Entries of these nodes, which of them were used after ``recent_after``, and
        whether that is all of them.

        When nothing has changed the database since the last read of the same nodes (no
        commit by any other connection, as ``PRAGMA data_version`` tells, and no write
        through this store) and that read is under a minute old, it is answered again
        without reading the entries: a driver running the same flow repeatedly reads them
        once. (A key used within that minute may then count as recently used when it was
        used an hour and a minute ago; pruning's resolution is an hour anyway.)"""
        names = tuple(node_names)
        with self._lock:
            connection = self._connect()
            (database_version,) = connection.execute("PRAGMA data_version").fetchone()
            last = self._last_read
            if (
                last is not None
                and last.names == names
                and last.limit == limit
                and last.database_version == database_version
                and 0.0 <= recent_after - last.recent_after <= _REUSE_SECONDS
            ):
                found = last.found
            else:
                found = self._read_entries(connection, names, limit, recent_after)
                self._last_read = _LastRead(names, limit, recent_after, database_version, found)
        return Prefetched(dict(found.versions), set(found.recent), found.complete)

    @staticmethod
    def _read_entries(
        connection: sqlite3.Connection, names: Sequence[str], limit: int, recent_after: float
    ) -> Prefetched:
        versions: dict[str, str] = {}
        stale: set[str] = set()
        complete = True
        connection.execute("BEGIN")  # one snapshot for both questions
        try:
            for start in range(0, len(names), _CHUNK):
                chunk = names[start : start + _CHUNK]
                where = f"FROM cache_metadata WHERE node_name IN ({','.join('?' * len(chunk))})"
                # (key, version) rows straight into the dict: no Python loop per entry
                versions.update(
                    connection.execute(
                        f"SELECT cache_key, data_version {where} LIMIT ?",
                        (*chunk, limit - len(versions) + 1),
                    )
                )
                # few entries are stale (the cache marks what it uses): ask for those
                stale.update(
                    key
                    for (key,) in connection.execute(
                        f"SELECT cache_key {where} AND last_used <= ?", (*chunk, recent_after)
                    )
                )
                if len(versions) > limit:
                    complete = False
                    break
        finally:
            connection.execute("COMMIT")
        return Prefetched(versions, versions.keys() - stale, complete)

    def touch(self, cache_keys: Iterable[str], when: float) -> None:
        """Sets ``last_used`` of the entries."""
        keys = list(dict.fromkeys(cache_keys))
        statements = []
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            statements.append(
                (
                    f"UPDATE cache_metadata SET last_used = ? WHERE cache_key IN ({marks})",
                    (when, *chunk),
                )
            )
        if statements:
            self._write(statements)

    def delete_many(self, cache_keys: Iterable[str]) -> None:
        """Removes entries."""
        keys = list(cache_keys)
        statements = []
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            statements.append((f"DELETE FROM cache_metadata WHERE cache_key IN ({marks})", chunk))
            statements.append((f"DELETE FROM history WHERE cache_key IN ({marks})", chunk))
        if statements:
            self._write(statements)

    def delete_data_version(self, data_version: str) -> None:
        """Removes the entries naming ``data_version``."""
        self._write(
            [
                (
                    "DELETE FROM history WHERE cache_key IN "
                    "(SELECT cache_key FROM cache_metadata WHERE data_version = ?)",
                    (data_version,),
                ),
                ("DELETE FROM cache_metadata WHERE data_version = ?", (data_version,)),
            ]
        )

    def delete_all(self) -> None:
        """Removes every entry, run and history row."""
        self._write(
            [
                ("DELETE FROM cache_metadata", ()),
                ("DELETE FROM history", ()),
                ("DELETE FROM run_ids", ()),
            ]
        )

    def entries(self) -> list[MetadataRecord]:
        """Every entry."""
        rows = self._read(
            "SELECT cache_key, data_version, node_name, code_version, run_id, NULL, created, "
            "last_used FROM cache_metadata"
        )
        return [MetadataRecord(*row) for row in rows]

    def __len__(self) -> int:
        return self._read("SELECT COUNT(*) FROM cache_metadata")[0][0]

    def get_run_ids(self) -> list[str]:
        """Run ids, oldest first."""
        return [r[0] for r in self._read("SELECT run_id FROM run_ids ORDER BY started, rowid")]

    def get_run(self, run_id: str) -> list[dict[str, Any]]:
        """The entries a run stored."""
        if not self._read("SELECT 1 FROM run_ids WHERE run_id = ?", (run_id,)):
            raise IndexError(f"Run {run_id!r} is not recorded in {self.db_path}.")
        rows = self._read(
            "SELECT m.cache_key, m.data_version, m.node_name, m.code_version FROM history h "
            "JOIN cache_metadata m ON h.cache_key = m.cache_key WHERE h.run_id = ?",
            (run_id,),
        )
        return [
            {"cache_key": k, "data_version": d, "node_name": n, "code_version": c}
            for k, d, n, c in rows
        ]

    def forget_history(self, keep_runs: int) -> None:
        """Drops the history of all but the ``keep_runs`` most recent runs."""
        self._write(
            [
                (
                    "DELETE FROM history WHERE run_id NOT IN "
                    "(SELECT run_id FROM run_ids ORDER BY started DESC LIMIT ?)",
                    (keep_runs,),
                ),
                (
                    "DELETE FROM run_ids WHERE run_id NOT IN "
                    "(SELECT run_id FROM run_ids ORDER BY started DESC LIMIT ?)",
                    (keep_runs,),
                ),
            ]
        )
