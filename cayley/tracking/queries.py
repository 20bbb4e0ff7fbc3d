"""Reading the run store: the JSON-ready views the viewer serves.

Only the standard library and the database: this module imports nothing of the engine.
Every call opens the file read-only, so a viewer never creates or changes a store.

A run still marked ``running`` whose recording process has shown no sign of life (its
writer refreshes a heartbeat every few seconds) for :data:`STALE_AFTER_S` seconds is
reported as ``failed``: its process ended before the run did.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

__all__ = ["STALE_AFTER_S", "RunStore"]

#: Seconds without a heartbeat after which a running run is reported as abandoned.
STALE_AFTER_S = 60.0
_RUN_COLUMNS = (
    "run_id, project, status, started, ended, outputs, inputs, overrides, graph_id, host, "
    "pid, error, heartbeat, version"
)


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds")


class RunStore:
    """Read access to a run store file.

    Args:
        path: the SQLite file written by :class:`~cayley.tracking.RunTracker`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.path.abspath(os.fspath(path))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection | None]:
        if not os.path.exists(self.path):
            yield None
            return
        uri = pathlib.Path(self.path).as_uri() + "?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=10.0)
        try:
            connection.execute("PRAGMA busy_timeout = 10000")
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            yield connection if "runs" in tables else None
        finally:
            connection.close()

    # ---- runs -----------------------------------------------------------------------------
    def list_runs(
        self, project: str | None = None, status: str | None = None, limit: int = 500
    ) -> list[dict[str, Any]]:
        """Runs, newest first, optionally of one project and with one status."""
        clauses: list[str] = []
        params: list[Any] = []
        if project:
            clauses.append("project = ?")
            params.append(project)
        stale = time.time() - STALE_AFTER_S  # running runs without a heartbeat since: failed
        if status == "success":
            clauses.append("status = 'success'")
        elif status == "running":
            clauses.append("status = 'running' AND heartbeat >= ?")
            params.append(stale)
        elif status == "failed":
            clauses.append("(status = 'failed' OR (status = 'running' AND heartbeat < ?))")
            params.append(stale)
        elif status:
            raise ValueError(f"status must be running, success or failed; got {status!r}")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as connection:
            if connection is None:
                return []
            rows = connection.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs {where} ORDER BY started DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        now = time.time()
        return [_run_summary(row, now)[0] for row in rows]

    def projects(self) -> list[str]:
        """The projects that have runs, sorted."""
        with self._connect() as connection:
            if connection is None:
                return []
            return [
                row[0]
                for row in connection.execute("SELECT DISTINCT project FROM runs ORDER BY project")
            ]

    def changes_token(self) -> tuple[int, float]:
        """Changes whenever a run is added or updated (for polling the list)."""
        with self._connect() as connection:
            if connection is None:
                return (0, 0.0)
            count, total = connection.execute(
                "SELECT count(*), total(version) FROM runs"
            ).fetchone()
            return (count, total)

    def run_version(self, run_id: str) -> tuple[int, str] | None:
        """The run's write counter and status; ``None`` if there is no such run."""
        with self._connect() as connection:
            if connection is None:
                return None
            row = connection.execute(
                "SELECT version, status, heartbeat FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        if row is None:
            return None
        version, status, heartbeat = row
        return version, _live_status(status, heartbeat, time.time())

    def run(self, run_id: str) -> dict[str, Any] | None:
        """The run with its graph, node states, fan-out blocks, timeline and error."""
        with self._connect() as connection:
            if connection is None:
                return None
            row = connection.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            if row is None:
                return None
            description = connection.execute(
                "SELECT description FROM graphs WHERE graph_id = ?", (row[8],)
            ).fetchone()
            details = connection.execute(
                "SELECT nodes, spans, workers FROM details WHERE run_id = ?", (run_id,)
            ).fetchone()
        run, span = _run_summary(row, time.time())
        graph = json.loads(description[0]) if description else {"nodes": [], "edges": []}
        states, spans, workers = (json.loads(text) for text in details or ("{}", "[]", "{}"))
        nodes = _nodes(graph["nodes"], states, run["status"])
        run["nodes"] = nodes
        run["edges"] = graph["edges"]
        run["blocks"] = _blocks(nodes, run["status"] != "running")
        run["timeline"] = _timeline(span, nodes, spans, workers)
        return run

    def items(
        self, run_id: str, node: str, limit: int = 200, offset: int = 0
    ) -> list[dict[str, Any]]:
        """The items of a fan-out node stored one by one, failed ones first."""
        with self._connect() as connection:
            if connection is None:
                return []
            row = connection.execute(
                "SELECT nodes FROM details WHERE run_id = ?", (run_id,)
            ).fetchone()
        if row is None:
            return []
        doc = json.loads(row[0]).get(node)
        kept = (doc[4] or {}).get("kept", []) if doc else []
        kept.sort(key=lambda item: (item[4] is None, item[1]))
        return [
            {
                "item": label,
                "started_s": start_us / 1e6,
                "duration_s": duration_us / 1e6,
                "worker": worker,
                "status": "failed" if error is not None else "success",
                "error": error,
            }
            for label, start_us, duration_us, worker, error in kept[offset : offset + limit]
        ]


def _live_status(status: str, heartbeat: float, now: float) -> str:
    if status == "running" and now - heartbeat > STALE_AFTER_S:
        return "failed"
    return status


class _Span(NamedTuple):
    """When a run started and (if it has) ended, in Unix seconds."""

    started: float
    ended: float | None


def _run_summary(row: tuple[Any, ...], now: float) -> tuple[dict[str, Any], _Span]:
    (
        run_id,
        project,
        status,
        started,
        ended,
        outputs,
        inputs,
        overrides,
        graph_id,
        host,
        pid,
        error,
        heartbeat,
        version,
    ) = row
    live = _live_status(status, heartbeat, now)
    error_detail = json.loads(error) if error else None
    if live != status:
        error_detail = {
            "type": "Abandoned",
            "message": (
                f"process {pid} on {host} stopped recording this run at {_iso(heartbeat)} "
                "before it finished (the process probably ended)"
            ),
            "traceback": "",
            "node": None,
            "item": None,
        }
    return {
        "run_id": run_id,
        "project": project,
        "status": live,
        "started": _iso(started),
        "ended": _iso(ended),
        "duration_s": (ended - started) if ended is not None else None,
        "outputs": json.loads(outputs),
        "inputs": json.loads(inputs),
        "overrides": json.loads(overrides),
        "host": host,
        "pid": pid,
        "graph_id": graph_id,
        "error": error_detail,
        "version": version,
    }, _Span(started, ended if ended is not None else (heartbeat if live != status else None))


def _seconds(micros: int | None) -> float | None:
    return None if micros is None else micros / 1e6


def _nodes(
    described: list[dict[str, Any]], states: dict[str, list[Any]], run_status: str
) -> list[dict[str, Any]]:
    nodes = []
    for node in described:
        status, start_us, end_us, worker, extra = states.get(
            node["name"], (None, None, None, None, None)
        )
        extra = extra or {}
        items = extra.get("items")
        scope = node["scope"]
        block = scope[-1] if scope and not node["is_input"] else None
        if node["is_input"]:
            status = "input"
        elif status is None:  # not started: waiting, never run, or a fan-out without items
            status = {"running": "pending", "failed": "skipped"}.get(run_status, "success")
            if block is not None and run_status == "success":
                items = {
                    "total": 0,
                    "done": 0,
                    "failed": 0,
                    "retried": 0,
                    "running": 0,
                    "sum_s": 0.0,
                    "min_s": None,
                    "max_s": None,
                    "histogram": [],
                }
        elif run_status == "failed" and status in ("running", "pending"):
            status = "skipped" if status == "pending" else "failed"
        if items is not None:
            duration = items["sum_s"] if items["done"] or items["failed"] else None
        elif start_us is not None and end_us is not None:
            duration = (end_us - start_us) / 1e6
        else:
            duration = None
        nodes.append(
            {
                "name": node["name"],
                "status": status,
                "duration_s": duration,
                "error": extra.get("error"),
                "type": node["type"],
                "tags": node["tags"],
                "documentation": node["documentation"],
                "source": node["source"],
                "version": node["version"],
                "is_input": node["is_input"],
                "is_expander": node["is_expander"],
                "block": block,
                "scope": scope,
                "collects": node["collects"],
                "started_s": _seconds(start_us),
                "ended_s": _seconds(end_us),
                "worker": worker,
                "items": items,
                "retries": extra.get("retries", 0),
            }
        )
    return nodes


def _blocks(nodes: list[dict[str, Any]], finished: bool) -> list[dict[str, Any]]:
    """Per fan-out: its nodes and item counts (an item is done once all its nodes are)."""
    members: dict[str, list[dict[str, Any]]] = {}
    parents: dict[str, str | None] = {}
    for node in nodes:
        if node["block"] is not None:
            members.setdefault(node["block"], []).append(node)
            scope = node["scope"]
            parents[node["block"]] = scope[-2] if len(scope) > 1 else None
    blocks = []
    for expander, block_nodes in members.items():
        counts = [node["items"] or {} for node in block_nodes]
        total = max((c.get("total", 0) for c in counts), default=0)
        done = min((c.get("done", 0) for c in counts), default=0)
        failed = sum(c.get("failed", 0) for c in counts)
        complete = finished or all(n["status"] in ("success", "failed") for n in block_nodes)
        blocks.append(
            {
                "expander": expander,
                "parent": parents[expander],
                "nodes": [node["name"] for node in block_nodes],
                "total": total,
                "done": done,
                "failed": failed,
                "running": 0 if complete else max(0, total - done - failed),
                "complete": complete,
            }
        )
    return blocks


def _timeline(
    run: _Span,
    nodes: list[dict[str, Any]],
    spans: list[list[Any]],
    workers: dict[str, list[Any]],
) -> dict[str, Any]:
    """Bars per worker: tasks (or, in runs without tasks, node calls), relative to the start."""
    start, end = run
    by_worker: dict[str, list[dict[str, Any]]] = {}
    has_tasks = any(span[0] is not None for span in spans)
    for task_id, label, worker, start_us, end_us, status in spans:
        by_worker.setdefault(worker, []).append(
            {
                "label": label,
                "task_id": task_id,
                "start_s": start_us / 1e6,
                "end_s": _seconds(end_us),
                "status": status,
            }
        )
    if not has_tasks:
        for node in nodes:
            if node["block"] is None and node["worker"] and node["started_s"] is not None:
                by_worker.setdefault(node["worker"], []).append(
                    {
                        "label": node["name"],
                        "task_id": None,
                        "start_s": node["started_s"],
                        "end_s": node["ended_s"],
                        "status": node["status"],
                    }
                )
    lanes = []
    for worker in set(by_worker) | set(workers):
        bars = sorted(by_worker.get(worker, []), key=lambda bar: bar["start_s"])
        calls, busy_us, first_us, _ = workers.get(worker, (len(bars), 0, 0, 0))
        lane = {"worker": worker, "calls": calls, "busy_s": busy_us / 1e6, "spans": bars}
        lanes.append((first_us, worker, lane))
    return {
        "duration_s": (end - start) if end is not None else time.time() - start,
        "workers": [lane for _, _, lane in sorted(lanes, key=lambda lane: lane[:2])],
    }
