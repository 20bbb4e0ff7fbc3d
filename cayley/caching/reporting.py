"""Reading and tending the cache: logs, a run's picture, and pruning old results."""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cayley.caching.events import CachingBehavior, CachingEvent, CachingEventType, RunLog
from cayley.caching.stores.base import MetadataStore, ResultStore

__all__ = ["PruneReport", "append_jsonl", "logs", "prune", "view_run"]

#: Results written less than this long ago are never removed as orphans: a run in another
#: process may be about to record them.
ORPHAN_GRACE_SECONDS = 600.0

_STATUS_STYLES = {
    "from cache": {"fillcolor": "#9fd89f"},
    "executed": {"fillcolor": "#f6b26b"},
    "partly from cache": {"fillcolor": "#ffe599"},
    "not cached": {"fillcolor": "#d9d9d9"},
}


def logs(runs: Mapping[str, RunLog], run_id: str | None, level: str) -> dict[Any, list[Any]]:
    """Per run id the run's events; for one run, per node (``(node, task)`` in fan-outs)."""
    if run_id is None:
        return {rid: log.materialize(level) for rid, log in runs.items()}
    if run_id not in runs:
        raise KeyError(f"Run {run_id!r} is unknown or too old for its logs to be kept.")
    grouped: dict[Any, list[CachingEvent]] = {}
    for event in runs[run_id].materialize(level):
        key = event.node_name if event.task_id is None else (event.node_name, event.task_id)
        grouped.setdefault(key, []).append(event)
    return grouped


def append_jsonl(path: pathlib.Path, events: Iterable[CachingEvent]) -> None:
    """Appends events as JSON lines."""
    with open(path, "a", encoding="utf-8") as file:
        for event in events:
            file.write(json.dumps(event.as_dict(), default=str) + "\n")


def node_statuses(log: RunLog, behaviors: Mapping[str, CachingBehavior]) -> dict[str, str]:
    """Per node: ``from cache``, ``executed``, ``partly from cache`` or ``not cached``."""
    hits: dict[str, int] = {}
    runs: dict[str, int] = {}
    for _, _, kind, node, _, _, _ in log.events:
        if kind == CachingEventType.GET_RESULT.value:
            hits[node] = hits.get(node, 0) + 1
        elif kind == CachingEventType.EXECUTE_NODE.value:
            runs[node] = runs.get(node, 0) + 1
    statuses = {}
    for node in set(hits) | set(runs):
        if behaviors.get(node) in (CachingBehavior.DISABLE, CachingBehavior.IGNORE):
            statuses[node] = "not cached"
        elif node in hits and node in runs:
            statuses[node] = "partly from cache"
        else:
            statuses[node] = "from cache" if node in hits else "executed"
    return statuses


def view_run(
    graph: Any,
    log: RunLog,
    behaviors: Mapping[str, CachingBehavior],
    output_file_path: str | os.PathLike[str] | None,
) -> Any:
    """A graphviz drawing of the run's nodes coloured by status (rendered if a path is given)."""
    from cayley.visualization import DisplayOptions, build_digraph, render

    statuses = node_statuses(log, behaviors)

    def style(*, node: Any, node_class: str) -> tuple[dict[str, str], str | None, str | None]:
        status = statuses.get(node.name)
        if status is None:
            return {}, None, None
        return dict(_STATUS_STYLES[status]), "function", status

    names = set(statuses) | {
        dep
        for name in statuses
        for dep in graph.dependencies[name]
        if graph.nodes[dep].user_defined
    }
    dot = build_digraph(graph, names, options=DisplayOptions(custom_style_function=style))
    if output_file_path is not None:
        render(dot, output_file_path)
    return dot


@dataclass(frozen=True)
class PruneReport:
    """What :func:`prune` removed."""

    entries_removed: int
    results_removed: int
    bytes_freed: int
    bytes_kept: int


def _seconds(older_than: Any) -> float:
    if isinstance(older_than, datetime.timedelta):
        return older_than.total_seconds()
    if isinstance(older_than, (int, float)) and older_than >= 0:
        return float(older_than)
    raise TypeError(
        f"older_than must be a number of seconds or a datetime.timedelta, got {older_than!r}"
    )


def prune(
    metadata: MetadataStore,
    results: ResultStore,
    older_than: Any = None,
    max_bytes: int | None = None,
) -> PruneReport:
    """Removes entries unused for ``older_than`` and the results nobody refers to any more;
    then, with ``max_bytes``, the least recently used results until they fit. Entries whose
    result is gone are removed too.

    Results (and entries) written in the last few minutes are kept even if unreferenced:
    another process may be recording them right now.
    """
    if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes < 0):
        raise ValueError(f"max_bytes must be a non-negative integer, got {max_bytes!r}")
    now = time.time()
    entries = metadata.entries()
    doomed = set()
    if older_than is not None:
        cutoff = now - _seconds(older_than)
        doomed = {e.cache_key for e in entries if e.last_used < cutoff}
    sizes = results.sizes()
    stored = {s.data_version for s in sizes}
    # entries whose result is gone (removed by hand, damaged) only cost a lookup: drop them
    doomed.update(
        e.cache_key
        for e in entries
        if e.data_version not in stored and now - e.created > ORPHAN_GRACE_SECONDS
    )
    kept = [e for e in entries if e.cache_key not in doomed]
    last_used: dict[str, float] = {}
    for e in kept:
        last_used[e.data_version] = max(last_used.get(e.data_version, 0.0), e.last_used)
    removed_versions = set()
    freed = 0
    for stored in sizes:
        if stored.data_version not in last_used and now - stored.modified > ORPHAN_GRACE_SECONDS:
            removed_versions.add(stored.data_version)
    by_version = {s.data_version: s for s in sizes if s.data_version in last_used}
    total = sum(s.size for s in by_version.values())
    if max_bytes is not None and total > max_bytes:
        for version in sorted(by_version, key=lambda v: last_used[v]):
            if total <= max_bytes:
                break
            total -= by_version[version].size
            removed_versions.add(version)
            doomed.update(e.cache_key for e in kept if e.data_version == version)
    if doomed:
        metadata.delete_many(doomed)
    size_of = {s.data_version: s.size for s in sizes}
    for version in removed_versions:
        results.delete(version)
        freed += size_of.get(version, 0)
    return PruneReport(len(doomed), len(removed_versions), freed, total)
