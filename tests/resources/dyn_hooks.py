"""A lifecycle adapter recording every task and node hook to a file.

Task execution and node hooks run wherever the task runs (possibly a worker process), so
events are appended as JSON lines to a file that every process can write to.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cayley.lifecycle import api


def _names(nodes: Any) -> list[str]:
    return [n.name for n in nodes] if nodes is not None else []


def _purpose(purpose: Any) -> str | None:
    return getattr(purpose, "name", None if purpose is None else str(purpose))


class FileRecorder(
    api.TaskGroupingHook,
    api.TaskSubmissionHook,
    api.TaskExecutionHook,
    api.TaskReturnHook,
    api.NodeExecutionHook,
):
    """Appends one JSON object per hook call to ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _write(self, hook: str, kwargs: dict[str, Any], **fields: Any) -> None:
        record = {"hook": hook, "keys": sorted(kwargs), "pid": os.getpid(), **fields}
        line = json.dumps(record, default=repr) + "\n"
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)

    def events(self) -> list[dict[str, Any]]:
        """Everything recorded so far."""
        if not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def clear(self) -> None:
        """Forgets recorded events."""
        if os.path.exists(self.path):
            os.remove(self.path)

    # ---- task grouping ------------------------------------------------------------------
    def run_after_task_grouping(self, *, run_id: str, task_ids: list[str], **future_kwargs):
        kwargs = {"run_id": run_id, "task_ids": task_ids, **future_kwargs}
        self._write("grouping", kwargs, run_id=run_id, task_ids=list(task_ids))

    def run_after_task_expansion(
        self, *, run_id: str, task_id: str, parameters: dict, **future_kwargs
    ):
        kwargs = {"run_id": run_id, "task_id": task_id, "parameters": parameters, **future_kwargs}
        self._write(
            "expansion", kwargs, run_id=run_id, task_id=task_id, parameters=dict(parameters)
        )

    # ---- submission and return (driver side) ---------------------------------------------
    def run_before_task_submission(
        self,
        *,
        run_id,
        task_id,
        nodes,
        inputs,
        overrides,
        spawning_task_id,
        purpose,
        **future_kwargs,
    ):
        kwargs = dict(
            run_id=run_id,
            task_id=task_id,
            nodes=nodes,
            inputs=inputs,
            overrides=overrides,
            spawning_task_id=spawning_task_id,
            purpose=purpose,
            **future_kwargs,
        )
        self._write(
            "submission",
            kwargs,
            run_id=run_id,
            task_id=task_id,
            nodes=_names(nodes),
            spawning_task_id=spawning_task_id,
            purpose=_purpose(purpose),
            inputs=dict(inputs),
        )

    def run_after_task_return(
        self,
        *,
        run_id,
        task_id,
        nodes,
        result,
        success,
        error,
        spawning_task_id,
        purpose,
        **future_kwargs,
    ):
        kwargs = dict(
            run_id=run_id,
            task_id=task_id,
            nodes=nodes,
            result=result,
            success=success,
            error=error,
            spawning_task_id=spawning_task_id,
            purpose=purpose,
            **future_kwargs,
        )
        self._write(
            "return",
            kwargs,
            run_id=run_id,
            task_id=task_id,
            nodes=_names(nodes),
            success=success,
            error=None if error is None else type(error).__name__,
            spawning_task_id=spawning_task_id,
            purpose=_purpose(purpose),
        )

    # ---- task execution (executor side) ----------------------------------------------------
    def run_before_task_execution(
        self,
        *,
        task_id,
        run_id,
        nodes,
        inputs,
        overrides,
        spawning_task_id,
        purpose,
        **future_kwargs,
    ):
        kwargs = dict(
            task_id=task_id,
            run_id=run_id,
            nodes=nodes,
            inputs=inputs,
            overrides=overrides,
            spawning_task_id=spawning_task_id,
            purpose=purpose,
            **future_kwargs,
        )
        self._write(
            "task_before",
            kwargs,
            run_id=run_id,
            task_id=task_id,
            nodes=_names(nodes),
            spawning_task_id=spawning_task_id,
            purpose=_purpose(purpose),
            inputs=dict(inputs),
        )

    def run_after_task_execution(
        self,
        *,
        task_id,
        run_id,
        nodes,
        results,
        success,
        error,
        spawning_task_id,
        purpose,
        **future_kwargs,
    ):
        kwargs = dict(
            task_id=task_id,
            run_id=run_id,
            nodes=nodes,
            results=results,
            success=success,
            error=error,
            spawning_task_id=spawning_task_id,
            purpose=purpose,
            **future_kwargs,
        )
        self._write(
            "task_after",
            kwargs,
            run_id=run_id,
            task_id=task_id,
            nodes=_names(nodes),
            success=success,
            error=None if error is None else type(error).__name__,
            spawning_task_id=spawning_task_id,
            purpose=_purpose(purpose),
        )

    # ---- nodes (executor side) ----------------------------------------------------------------
    def run_before_node_execution(
        self,
        *,
        node_name,
        node_tags,
        node_kwargs,
        node_return_type,
        task_id,
        run_id,
        node_input_types,
        **future_kwargs,
    ):
        kwargs = dict(
            node_name=node_name,
            node_tags=node_tags,
            node_kwargs=node_kwargs,
            node_return_type=node_return_type,
            task_id=task_id,
            run_id=run_id,
            node_input_types=node_input_types,
            **future_kwargs,
        )
        self._write(
            "node_before",
            kwargs,
            run_id=run_id,
            task_id=task_id,
            node=node_name,
            node_kwargs=node_kwargs,
        )

    def run_after_node_execution(
        self,
        *,
        node_name,
        node_tags,
        node_kwargs,
        node_return_type,
        result,
        error,
        success,
        task_id,
        run_id,
        **future_kwargs,
    ):
        kwargs = dict(
            node_name=node_name,
            node_tags=node_tags,
            node_kwargs=node_kwargs,
            node_return_type=node_return_type,
            result=result,
            error=error,
            success=success,
            task_id=task_id,
            run_id=run_id,
            **future_kwargs,
        )
        self._write(
            "node_after",
            kwargs,
            run_id=run_id,
            task_id=task_id,
            node=node_name,
            success=success,
            error=None if error is None else type(error).__name__,
        )
