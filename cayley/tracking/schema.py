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
- ``nodes``: one row per run and node: status, times, worker and a JSON ``detail`` with
  the error and, for nodes inside a fan-out, item counts and a summary of item durations.
- ``items``: per-item timings of nodes inside fan-outs, kept in detail up to a limit per
  node (failed items always, up to a separate limit).
- ``spans``: the timeline: tasks (or node calls, in runs without tasks) per worker, in
  detail up to a limit per run.
- ``workers``: per run and worker, totals over every span, including those past the limit.
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
CREATE TABLE IF NOT EXISTS nodes (
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    started REAL,
    ended REAL,
    worker TEXT,
    detail TEXT,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items (
    run_id TEXT NOT NULL,
    node TEXT NOT NULL,
    label TEXT NOT NULL,
    started REAL NOT NULL,
    duration_s REAL NOT NULL,
    worker TEXT NOT NULL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS items_by_node ON items (run_id, node);
CREATE TABLE IF NOT EXISTS spans (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    task_id TEXT,
    label TEXT NOT NULL,
    worker TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    status TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS workers (
    run_id TEXT NOT NULL,
    worker TEXT NOT NULL,
    calls INTEGER NOT NULL,
    busy_s REAL NOT NULL,
    first REAL NOT NULL,
    last REAL NOT NULL,
    PRIMARY KEY (run_id, worker)
) WITHOUT ROWID;
"""


class StoreVersionError(RuntimeError):
    """The database was written by an incompatible version of cayley."""


def connect(path: str, *, create: bool = True, timeout: float = 10.0) -> sqlite3.Connection:
    """Opens the run store at ``path`` in WAL mode with a busy timeout.

    Args:
        path: the database file.
        create: create the file and its tables if missing; with ``False`` a missing file
            raises :class:`FileNotFoundError` instead of leaving an empty database behind.
        timeout: seconds a write waits for another process's transaction.
    """
    if create:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
    elif not os.path.exists(path):
        raise FileNotFoundError(f"No run store at {path}")
    connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
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
