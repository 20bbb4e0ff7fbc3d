"""The writer thread: drains recorded events into the run store, so runs never wait on disk.

Each tracker has at most one writer thread per process. It wakes every ``interval``
seconds (or at once when a run ends), folds the events recorded since into a
:class:`~cayley.tracking.book.RunBook` and stores the changed rows in one transaction. It
stops by itself once no run is in progress and nothing is left to store, and is started
again by the next run.

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
from cayley.tracking.events import FLUSH, FlushRequest

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
_REPLACE_NODE = "INSERT OR REPLACE INTO nodes VALUES (?, ?, ?, ?, ?, ?, ?)"
_INSERT_ITEM = "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)"
_REPLACE_SPAN = "INSERT OR REPLACE INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_REPLACE_WORKER = "INSERT OR REPLACE INTO workers VALUES (?, ?, ?, ?, ?, ?)"
_BUMP_VERSION = "UPDATE runs SET version = version + 1 WHERE run_id = ?"


def store(connection: sqlite3.Connection, changes: Changes) -> None:
    """Writes ``changes`` in one transaction and bumps the version of every run touched."""
    touched = {row[0] for rows in (changes.nodes, changes.items, changes.spans) for row in rows}
    touched.update(row[0] for row in changes.workers)
    touched.difference_update(row[0] for row in changes.runs)
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.executemany("INSERT OR IGNORE INTO graphs VALUES (?, ?)", changes.graphs)
        connection.executemany(_UPSERT_RUN, changes.runs)
        connection.executemany(_REPLACE_NODE, changes.nodes)
        connection.executemany(_INSERT_ITEM, changes.items)
        connection.executemany(_REPLACE_SPAN, changes.spans)
        connection.executemany(_REPLACE_WORKER, changes.workers)
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
    """Drains ``events`` into the store at ``path`` from a thread of its own.

    Args:
        path: the database file.
        events: the queue the tracker's hooks append to.
        describe: describes a run's graph (see :mod:`cayley.tracking.describe`).
        interval: seconds between writes while runs are in progress.
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
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pending: deque[tuple[Changes, int]] = deque()
        self._warned: set[str] = set()
        self._last_beat = time.time()
        self._closing = False

    def ensure_running(self) -> None:
        """Starts the thread unless it is running."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="cayley-run-tracker", daemon=True
                )
                self._thread.start()

    def wake(self) -> None:
        """Makes the thread write now rather than at its next interval."""
        self._wake.set()

    def flush(self, timeout: float) -> BaseException | None:
        """Waits until everything recorded so far is stored; the write error, if any."""
        request = FlushRequest()
        self.events.append((FLUSH, request))
        self.ensure_running()
        self._wake.set()
        if not request.done.wait(timeout):
            return TimeoutError(f"the run store {self.path} was not written within {timeout:.0f} s")
        return request.error

    def stop(self, timeout: float = 10.0) -> None:
        """Stores what is left and waits for the thread to end (a later run restarts it)."""
        thread = self._thread
        if thread is None:
            return
        self._closing = True
        self.flush(timeout)
        thread.join(timeout)
        self._closing = False

    # ---- the thread -----------------------------------------------------------------------
    def _loop(self) -> None:
        connection: sqlite3.Connection | None = None
        idle_since = time.monotonic()
        try:
            while True:
                self._wake.wait(self.interval)
                self._wake.clear()
                events = self.events
                pop = events.popleft
                batch = [pop() for _ in range(len(events))]
                try:
                    changes = self._fold(batch)
                except Exception as exc:  # a bug must not stop recording, nor hang a run
                    self._warn(f"RunTracker failed to record runs and dropped them: {exc!r}")
                    self._release(batch, exc)
                    continue
                connection, error = self._write(connection, changes)
                for request in changes.flushes:
                    request.error = error
                    request.done.set()
                if self.book.active or self._pending:
                    idle_since = time.monotonic()
                elif self._closing or time.monotonic() - idle_since >= _IDLE_EXIT_S:
                    with self._lock:
                        if not self.events:
                            self._thread = None
                            return
        finally:
            if connection is not None:
                connection.close()

    def _fold(self, batch: list[tuple[Any, ...]]) -> Changes:
        book = self.book
        book.apply_all(batch)
        now = time.time()
        if now - self._last_beat >= self.heartbeat_s:
            book.heartbeat(now)
            self._last_beat = now
        return book.changes()

    def _release(self, batch: list[tuple[Any, ...]], error: BaseException) -> None:
        """Drops the runs in progress and answers every flush request waiting on them."""
        requests = self.book.discard()
        requests.extend(event[1] for event in batch if event[0] == FLUSH)
        for request in dict.fromkeys(requests):
            request.error = error
            request.done.set()

    def _write(
        self, connection: sqlite3.Connection | None, changes: Changes
    ) -> tuple[sqlite3.Connection | None, BaseException | None]:
        if changes.has_rows():
            self._pending.append((changes, 0))
        error: BaseException | None = None
        while self._pending:
            batch, attempts = self._pending[0]
            try:
                if connection is None:
                    connection = schema.connect(self.path)
                store(connection, batch)
            except Exception as exc:  # any failure to store: retry, then drop with a warning
                error = exc
                self._pending[0] = (batch, attempts + 1)
                if attempts + 1 >= _RETRIES:
                    self._pending.popleft()
                    self._warn(f"runs could not be recorded in {self.path} and are dropped: {exc}")
                break
            self._pending.popleft()
        return connection, error

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)
