"""What the cache did in a driver's recent runs: the records behind ``Driver.cache``."""

from __future__ import annotations

import threading
from typing import Any

from cayley.caching import reporting
from cayley.caching.events import CachingBehavior, RunLog
from cayley.caching.runstate import RunState

__all__ = ["RunHistory"]


class RunHistory:
    """Per run id: the log, behaviours, code versions, data versions and cache keys.

    Only the ``kept`` most recent runs keep their records (a long-lived driver does not grow
    without bound); ``run_ids`` lists every run.
    """

    def __init__(self, kept: int = 64) -> None:
        self.kept = kept
        self.run_ids: list[str] = []
        self.logs: dict[str, RunLog] = {}
        self.behaviors: dict[str, dict[str, CachingBehavior]] = {}
        self.code_versions: dict[str, dict[str, str]] = {}
        self.data_versions: dict[str, dict[str, Any]] = {}
        self.cache_keys: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def start(
        self, run: RunState, behaviors: dict[str, CachingBehavior], codes: dict[str, str]
    ) -> None:
        """Records a new run (its versions and keys fill in as it goes)."""
        with self._lock:
            self.run_ids.append(run.run_id)
            self.logs[run.run_id] = run.log
            self.behaviors[run.run_id] = behaviors
            self.code_versions[run.run_id] = codes
            self.data_versions[run.run_id] = run.data_versions
            self.cache_keys[run.run_id] = run.cache_keys
            for old in self.run_ids[: -self.kept]:
                for table in (
                    self.logs,
                    self.behaviors,
                    self.code_versions,
                    self.data_versions,
                    self.cache_keys,
                ):
                    table.pop(old, None)

    @property
    def last_run_id(self) -> str:
        """The id of the most recently started run."""
        if not self.run_ids:
            raise IndexError("The cache has not run yet: call execute() first.")
        return self.run_ids[-1]

    def log(self, run_id: str | None) -> RunLog:
        """The log of a run (the last one by default)."""
        run_id = run_id or self.last_run_id
        if run_id not in self.logs:
            raise KeyError(
                f"Run {run_id!r} is unknown or too old: the records of the last {self.kept} "
                "runs are kept."
            )
        return self.logs[run_id]

    def read(self, run_id: str | None, level: str) -> dict[Any, list[Any]]:
        """Events per run id, or for one run per node (see ``CacheAdapter.logs``)."""
        if run_id is not None:
            self.log(run_id)
        return reporting.logs(self.logs, run_id, level)
