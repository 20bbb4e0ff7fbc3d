"""The run store's SQLite schema and how to open it.

One file holds every recorded run. It is opened in WAL mode with a busy timeout, so several
processes can record runs into it at once while viewers read it. Times are Unix seconds.

Tables:
- ``runs``: one row per ``execute``: project, status, start and end, requested outputs,
  input names and types, the error that ended it (JSON: type, message, traceback, node,
  item), a ``version`` counter bumped by every write (viewers poll it for live updates)
  and a ``heartbeat`` refreshed while it runs.
- ``graphs``: the description of a run's graph (nodes with type, tags, documentation,
  source and code version; edges), stored once per distinct graph and shared by runs.
- ``details``: per run, JSON documents of what changes while it runs:
  ``nodes``: {name: {status, started, ended, worker, error, and for nodes inside a fan-out
  ``items`` (counts and a summary of item durations) and ``kept`` (the items stored one by
  one: [label, started, duration, worker, error])}}; nodes without an entry have not
  started. ``spans``: the timeline, [[task_id, label, worker, started, ended, status]], in
  detail up to a limit per run. ``workers``: {worker: [calls, busy seconds, first, last]},
  totals over every call, including those past the limit.
"""

from __future__ import annotations

import os
import sqlite3

__all__ = ["SCHEMA_VERSION", "StoreVersionError", "connect"]

#: Bumped when the tables change incompatibly.
SCHEMA_VERSION = 1

_TABLES = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    status TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    outputs TEXT NOT NULL,
    inputs TEXT NOT NULL,
    overrides TEXT NOT NULL,
    graph_id TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    error TEXT,
    heartbeat REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started DESC);
CREATE INDEX IF NOT EXISTS runs_by_project ON runs (project, started DESC);
CREATE TABLE IF NOT EXISTS graphs (
    graph_id TEXT PRIMARY KEY,
    description TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS details (
    run_id TEXT PRIMARY KEY,
    nodes TEXT NOT NULL,
    spans TEXT NOT NULL,
    workers TEXT NOT NULL
);
"""


class StoreVersionError(RuntimeError):
    """The database was written by an incompatible version of cayley."""


def connect(
    path: str, *, create: bool = True, timeout: float = 10.0, same_thread: bool = True
) -> sqlite3.Connection:
    """Opens the run store at ``path`` in WAL mode with a busy timeout.

    Args:
        path: the database file.
        create: create the file and its tables if missing; with ``False`` a missing file
            raises :class:`FileNotFoundError` instead of leaving an empty database behind.
        timeout: seconds a write waits for another process's transaction.
        same_thread: only the opening thread may use the connection; with ``False`` the
            caller serialises its use (the writer does, with a lock).
    """
    if create:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
    elif not os.path.exists(path):
        raise FileNotFoundError(f"No run store at {path}")
    connection = sqlite3.connect(
        path, timeout=timeout, isolation_level=None, check_same_thread=same_thread
    )
    connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, SCHEMA_VERSION):
        connection.close()
        raise StoreVersionError(
            f"The run store {path} has schema version {version}; this cayley reads and writes "
            f"version {SCHEMA_VERSION}. Record runs into a new file (RunTracker(path=...)) or "
            "open this one with the cayley version that wrote it."
        )
    if create:
        connection.execute("PRAGMA journal_mode = WAL")
    if version == 0 and create:
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _TABLES.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection
