"""Results on disk, one per data version, safe for several processes at once.

Large results are files: pickled to a temporary file in the same directory and renamed
into place, so a reader sees a whole file or none. Small results (up to ``inline_bytes``
pickled) go to a SQLite table beside them, written in batches: creating a file per value
costs far more than the value. Every result carries a checksum of its content: one that was
truncated or damaged is reported as corrupt (the cache then recomputes the value), never
read back as a wrong value. Values that ``pickle`` cannot handle (lambdas, local classes)
are written with cloudpickle.
"""

from __future__ import annotations

import glob
import os
import pickle
import re
import sqlite3
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from typing import Any

import cloudpickle

from cayley.caching.hashing import digest, new_hasher
from cayley.caching.stores import formats
from cayley.caching.stores.base import (
    CacheDirectoryError,
    CorruptResultError,
    ResultNotFound,
    ResultStore,
    StoredSize,
    check_directory,
)

__all__ = ["FileResultStore"]

_MAGIC = b"CAYLEYR1"
_DIGEST_LEN = 32  # hex digits
_NAME = re.compile(r"[0-9a-f]{16,64}")
_FORMATTED = re.compile(r"[0-9a-f]{16,64}\.\w+")
_INLINE_DB = "inline_results.db"


class _HashingWriter:
    """Writes to a file while hashing what is written."""

    __slots__ = ("file", "hasher")

    def __init__(self, file: Any) -> None:
        self.file = file
        self.hasher = new_hasher()

    def write(self, data: Any) -> int:
        self.hasher.update(data)
        return self.file.write(data)


def _dump(result: Any, file: Any) -> None:
    """Writes magic, pickle and checksum of ``result`` to ``file`` (seekable)."""
    file.write(_MAGIC)
    writer = _HashingWriter(file)
    try:
        pickle.dump(result, writer, protocol=5)
    except (pickle.PicklingError, TypeError, AttributeError):
        file.seek(len(_MAGIC))
        file.truncate()
        writer = _HashingWriter(file)
        cloudpickle.dump(result, writer, protocol=5)
    file.write(writer.hasher.hexdigest().encode())


def _undump(raw: bytes, where: str) -> Any:
    if len(raw) < len(_MAGIC) + _DIGEST_LEN or not raw.startswith(_MAGIC):
        raise CorruptResultError(f"{where} is not a complete cayley result")
    payload = memoryview(raw)[len(_MAGIC) : -_DIGEST_LEN]
    hasher = new_hasher()
    hasher.update(payload)
    if hasher.hexdigest().encode() != raw[-_DIGEST_LEN:]:
        raise CorruptResultError(f"{where} failed its checksum: it is damaged")
    try:
        return pickle.loads(payload)
    except Exception as exc:
        raise CorruptResultError(
            f"{where} cannot be unpickled: {type(exc).__name__}: {exc}"
        ) from exc


class FileResultStore(ResultStore):
    """Stores results under ``path``: files named by data version, small ones in a table.

    Args:
        path: the directory (created if needed).
        create_dir: create the directory now (otherwise on the first write).
        inline_bytes: results whose pickle is at most this size are kept in
            ``path/inline_results.db`` and written at :meth:`flush`; 0 writes every result
            as a file.

    Raises:
        CacheDirectoryError: the directory cannot be created or written.
    """

    def __init__(
        self, path: str | os.PathLike[str], create_dir: bool = True, inline_bytes: int = 65536
    ) -> None:
        self.path = os.path.realpath(os.fspath(path))
        self.inline_bytes = inline_bytes
        if create_dir:
            check_directory(self.path)
        self._setup()

    def _setup(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, bytes] = {}
        self._db: sqlite3.Connection | None = None
        self._pid = os.getpid()

    def __getstate__(self) -> dict[str, Any]:
        self.flush()
        return {"path": self.path, "inline_bytes": self.inline_bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self.inline_bytes = state["inline_bytes"]
        self._setup()

    def __repr__(self) -> str:
        return f"FileResultStore({self.path!r})"

    # ---- where results live -----------------------------------------------------------------
    def _file(self, data_version: str) -> str:
        if not _NAME.fullmatch(data_version):
            raise ValueError(f"{data_version!r} is not a data version")
        return os.path.join(self.path, data_version)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            check_directory(self.path)
            try:
                db = sqlite3.connect(
                    os.path.join(self.path, _INLINE_DB),
                    timeout=60.0,
                    isolation_level=None,
                    check_same_thread=False,
                )
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS results (data_version TEXT PRIMARY KEY, "
                    "blob BLOB NOT NULL, written REAL NOT NULL)"
                )
            except sqlite3.OperationalError as exc:
                raise CacheDirectoryError(
                    f"Cannot open the result table in {self.path!r}: {exc}. Pass a writable "
                    "cache directory."
                ) from exc
            self._db = db
            self._pid = os.getpid()
        return self._db

    def _inline(self, data_version: str) -> bytes | None:
        with self._lock:
            blob = self._pending.get(data_version)
            if blob is not None:
                return blob
            row = (
                self._connection()
                .execute("SELECT blob FROM results WHERE data_version = ?", (data_version,))
                .fetchone()
            )
        return row[0] if row else None

    # ---- ResultStore ------------------------------------------------------------------------
    def exists(self, data_version: str) -> bool:
        """Whether the result is stored."""
        return os.path.exists(self._file(data_version)) or self._inline(data_version) is not None

    def set(self, data_version: str, result: Any, format: str | None = None, **kwargs: Any) -> None:
        """Stores the result, unless one is stored for the version already.

        Small results wait for :meth:`flush`; large ones are written at once. With a
        ``format`` (``"parquet"``, ``"json"``...) the result is written by that format's
        saver for its type, when there is one (else it is pickled, with a warning).
        """
        target = self._file(data_version)
        if data_version in self._pending:
            return
        if format is not None and format != "pickle":
            record = formats.save(self.path, data_version, result, format)
            if record is not None:
                result = record
            else:
                warnings.warn(
                    f"cayley cache: no {format!r} saver and loader handle "
                    f"{type(result).__name__}; the result is stored pickled.",
                    RuntimeWarning,
                    stacklevel=3,
                )
        buffers: list[pickle.PickleBuffer] = []
        try:
            stream: bytes | None = pickle.dumps(result, protocol=5, buffer_callback=buffers.append)
        except (pickle.PicklingError, TypeError, AttributeError):
            stream = None  # cloudpickle below
        if stream is not None and not buffers and len(stream) <= self.inline_bytes:
            blob = b"".join((_MAGIC, stream, digest(stream).encode()))
            with self._lock:
                self._pending[data_version] = blob
            return
        if os.path.exists(target):
            return
        check_directory(self.path)
        temp = os.path.join(
            self.path,
            f".{data_version}.{os.getpid()}.{threading.get_ident()}.{uuid.uuid4().hex[:8]}.tmp",
        )
        try:
            with open(temp, "wb") as file:
                if stream is not None and not buffers:
                    file.write(_MAGIC)
                    file.write(stream)
                    file.write(digest(stream).encode())
                else:  # large buffers go straight to the file, uncopied
                    _dump(result, file)
            os.replace(temp, target)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise

    def set_read_back(
        self, data_version: str, result: Any, format: str, version_of: Callable[[Any], str]
    ) -> tuple[Any, str]:
        """Stores ``result`` through ``format`` and returns what reading it back gives, with
        its data version (by ``version_of``).

        A format may not round-trip every detail (parquet turns int64 columns into nullable
        Int64): whoever stores a result must see what later reads will. When the read-back
        value has another version, it is kept under that version instead.
        """
        self.set(data_version, result, format=format)
        self.flush()
        loaded = self.get(data_version)
        loaded_version = version_of(loaded)
        if loaded_version != data_version:
            self.set(loaded_version, loaded, format=format)
            self.delete(data_version)
        return loaded, loaded_version

    def flush(self) -> None:
        """Writes the small results waiting in memory, in one transaction."""
        if not self._pending:
            return
        with self._lock:
            pending, self._pending = self._pending, {}
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                db.executemany(
                    "INSERT OR IGNORE INTO results VALUES (?, ?, ?)",
                    [(version, blob, now) for version, blob in pending.items()],
                )
            except BaseException:
                db.execute("ROLLBACK")
                self._pending.update(pending)
                raise
            db.execute("COMMIT")

    def get(self, data_version: str, **kwargs: Any) -> Any:
        """Reads the result back after checking its checksum."""
        target = self._file(data_version)
        try:
            with open(target, "rb") as file:
                raw = file.read()
        except FileNotFoundError:
            blob = self._inline(data_version)
            if blob is None:
                raise ResultNotFound(data_version) from None
            value = _undump(blob, f"the stored result {data_version}")
            if type(value) is formats.Materialized:
                return formats.load(self.path, value)
            return value
        return _undump(raw, target)

    def delete(self, data_version: str) -> None:
        """Removes the result (or a leftover temporary file listed by :meth:`sizes`)."""
        if data_version.endswith(".tmp") and os.sep not in data_version:
            try:
                os.unlink(os.path.join(self.path, data_version))
            except FileNotFoundError:
                pass
            return
        for path in [self._file(data_version), *glob.glob(self._file(data_version) + ".*")]:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        with self._lock:
            self._pending.pop(data_version, None)
            if os.path.exists(os.path.join(self.path, _INLINE_DB)):
                self._connection().execute(
                    "DELETE FROM results WHERE data_version = ?", (data_version,)
                )

    def delete_all(self) -> None:
        """Removes every result (and leftover temporary files)."""
        with self._lock:
            self._pending.clear()
            if os.path.exists(os.path.join(self.path, _INLINE_DB)):
                self._connection().execute("DELETE FROM results")
        for entry in os.scandir(self.path) if os.path.isdir(self.path) else ():
            if _NAME.fullmatch(entry.name) or entry.name.endswith(".tmp"):
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    pass

    def sizes(self) -> list[StoredSize]:
        """Every stored result with its size and write time (leftover temporary files are
        listed under their own name, so pruning removes them)."""
        self.flush()
        found = []
        for entry in os.scandir(self.path) if os.path.isdir(self.path) else ():
            name = entry.name
            version = name.split(".", 1)[0] if _FORMATTED.fullmatch(name) else name
            if _NAME.fullmatch(version) or name.endswith(".tmp"):
                try:
                    stat = entry.stat()
                except FileNotFoundError:
                    continue
                found.append(StoredSize(version, stat.st_size, stat.st_mtime))
        if os.path.exists(os.path.join(self.path, _INLINE_DB)):
            with self._lock:
                rows = (
                    self._connection()
                    .execute("SELECT data_version, length(blob), written FROM results")
                    .fetchall()
                )
            found.extend(StoredSize(v, size, written) for v, size, written in rows)
        return found

    def delete_expired(self) -> None:
        """Kept for compatibility: results do not expire by themselves (use ``prune``)."""
