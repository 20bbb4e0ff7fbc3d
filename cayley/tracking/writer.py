"""The writer: folds recorded events into the run store, so runs never wait on disk.

Each tracker has one writer per process. While runs are in progress its thread wakes every
``interval`` seconds, folds the events recorded since into a
:class:`~cayley.tracking.book.RunBook` and stores the changed rows in one transaction; when
a run ends, the run's own thread does the same for what is left (:meth:`Writer.flush`), so
``execute`` returns with the run stored. The thread stops by itself once no run is in
progress, and is started again by the next run.

A store that cannot be written (a read-only disk, a locked file for longer than the busy
timeout) does not break the dataflow: the rows are retried a few times, then dropped with a
``RuntimeWarning``, and the run that waits for them gets the warning too.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from cayley.tracking import schema
from cayley.tracking.book import Changes, RunBook

__all__ = ["Writer"]

_RETRIES = 5
_IDLE_EXIT_S = 2.0

_UPSERT_RUN = """
INSERT INTO runs (run_id, project, status, started, ended, outputs, inputs, overrides,
    graph_id, host, pid, error, heartbeat, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
ON CONFLICT (run_id) DO UPDATE SET
    status = excluded.status, ended = excluded.ended, error = excluded.error,
    heartbeat = excluded.heartbeat, version = runs.version + 1
"""
_REPLACE_DETAILS = "INSERT OR REPLACE INTO details VALUES (?, ?, ?, ?)"
_BUMP_VERSION = "UPDATE runs SET version = version + 1 WHERE run_id = ?"


def store(connection: sqlite3.Connection, changes: Changes) -> None:
    """Writes ``changes`` in one transaction and bumps the version of every run touched."""
    touched = {row[0] for row in changes.details}.difference(row[0] for row in changes.runs)
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.executemany("INSERT OR IGNORE INTO graphs VALUES (?, ?)", changes.graphs)
        connection.executemany(_UPSERT_RUN, changes.runs)
        connection.executemany(_REPLACE_DETAILS, changes.details)
        connection.executemany(_BUMP_VERSION, [(run_id,) for run_id in touched])
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


class _DescriptionCache:
    """Graph descriptions by (graph, path, outputs), so a dataflow is described once."""

    def __init__(self, describe: Callable[..., Any], size: int = 16) -> None:
        self.describe = describe
        self.size = size
        self.entries: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()

    def __call__(self, graph: Any, path: list[str], outputs: list[str]) -> Any:
        key = (id(graph), tuple(path), tuple(outputs))
        entry = self.entries.get(key)
        if entry is not None and entry[0] is graph:
            self.entries.move_to_end(key)
            return entry[1]
        description = self.describe(graph, path, outputs)
        self.entries[key] = (graph, description)  # the graph is kept so its id stays unique
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return description


class Writer:
    """Folds ``events`` into the store at ``path``: from a background thread while runs are
    in progress, and in the caller's thread on :meth:`flush`.

    One lock guards the book and the connection, so the background thread and a flushing
    caller take turns; a flush never waits for the thread to wake up.

    Args:
        path: the database file.
        events: the queue the tracker's hooks append to.
        describe: describes a run's graph (see :mod:`cayley.tracking.describe`).
        interval: seconds between background writes while runs are in progress.
        heartbeat: seconds between heartbeats of runs in progress.
        limits: ``item_detail_limit``, ``failed_item_limit`` and ``span_limit`` for the book.
    """

    def __init__(
        self,
        path: str,
        events: deque[tuple[Any, ...]],
        describe: Callable[..., Any],
        interval: float = 0.1,
        heartbeat: float = 2.0,
        **limits: int,
    ) -> None:
        self.path = path
        self.events = events
        self.interval = interval
        self.heartbeat_s = heartbeat
        self.book = RunBook(
            socket.gethostname(), os.getpid(), _DescriptionCache(describe), **limits
        )
        self._wake = threading.Event()
        self._thread_lock = threading.Lock()  # starting and stopping the thread
        self._store_lock = threading.Lock()  # the book, the connection, pending batches
        self._thread: threading.Thread | None = None
        self._connection: sqlite3.Connection | None = None
        self._pending: deque[tuple[Changes, int]] = deque()
        self._warned: set[str] = set()
        self._last_beat = time.time()
        self._closing = False

    def ensure_running(self) -> None:
        """Starts the background thread unless it is running."""
        with self._thread_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="cayley-run-tracker", daemon=True
                )
                self._thread.start()

    def flush(self, timeout: float) -> BaseException | None:
        """Stores everything recorded so far, in this thread; returns the error, if any."""
        if not self._store_lock.acquire(timeout=timeout):
            return TimeoutError(f"the run store {self.path} was busy for more than {timeout:.0f} s")
        try:
            return self._drain()
        finally:
            self._store_lock.release()

    def stop(self, timeout: float = 10.0) -> BaseException | None:
        """Stores what is left and stops the thread (a later run starts it again)."""
        error = self.flush(timeout)
        thread = self._thread
        if thread is not None:
            self._closing = True
            self._wake.set()
            thread.join(timeout)
            self._closing = False
        with self._store_lock:
            if self._connection is not None and not self.book.active:
                self._connection.close()
                self._connection = None
        return error

    # ---- folding and storing (under the store lock) ---------------------------------------
    def _drain(self) -> BaseException | None:
        events = self.events
        pop = events.popleft
        batch = [pop() for _ in range(len(events))]
        try:
            changes = self._fold(batch)
        except Exception as exc:  # a bug must not stop recording, nor hang a run
            self.book.discard()
            self._warn(f"RunTracker failed to record runs and dropped them: {exc!r}")
            return exc
        return self._write(changes)

    def _fold(self, batch: list[tuple[Any, ...]]) -> Changes:
        book = self.book
        book.apply_all(batch)
        now = time.time()
        if now - self._last_beat >= self.heartbeat_s:
            book.heartbeat(now)
            self._last_beat = now
        return book.changes()

    def _write(self, changes: Changes) -> BaseException | None:
        if changes.has_rows():
            self._pending.append((changes, 0))
        while self._pending:
            batch, attempts = self._pending[0]
            try:
                if self._connection is None:
                    self._connection = schema.connect(self.path, same_thread=False)
                store(self._connection, batch)
            except Exception as exc:  # any failure to store: retry, then drop with a warning
                self._pending[0] = (batch, attempts + 1)
                if attempts + 1 >= _RETRIES:
                    self._pending.popleft()
                    self._warn(f"runs could not be recorded in {self.path} and are dropped: {exc}")
                return exc
            self._pending.popleft()
        return None

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    # ---- the background thread ------------------------------------------------------------
    def _loop(self) -> None:
        idle_since = time.monotonic()
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._store_lock:
                self._drain()
                busy = self.book.active or bool(self._pending)
            if busy:
                idle_since = time.monotonic()
            elif self._closing or time.monotonic() - idle_since >= _IDLE_EXIT_S:
                with self._thread_lock:
                    if not self.events:
                        self._thread = None
                        return
