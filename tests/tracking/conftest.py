"""Fixtures of the tracking tests: a tracker on a fresh store, drivers over the test flows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cayley import driver
from cayley.execution import executors
from cayley.tracking import RunTracker
from cayley.tracking.queries import RunStore
from tests.tracking import flows


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where the test's runs are recorded."""
    return tmp_path / "runs.db"


@pytest.fixture
def tracker(store_path: Path) -> Iterator[RunTracker]:
    """A tracker on the test's store; its writer thread is stopped afterwards."""
    tracker = RunTracker(store_path, project="tests")
    yield tracker
    tracker.close()


@pytest.fixture
def store(store_path: Path) -> RunStore:
    """Read access to the test's store."""
    return RunStore(store_path)


def build(kind: str, *adapters: Any) -> driver.Driver:
    """A driver over ``flows`` running fan-outs the way ``kind`` says.

    ``plain``: no dynamic execution; ``sync``: dynamic, every task in the caller's thread;
    ``threads``: items on two threads; ``fork``: items on two forked processes.
    """
    builder = driver.Builder().with_modules(flows).with_adapters(*adapters)
    remote: Callable[[], executors.TaskExecutor] | None = {
        "plain": None,
        "sync": executors.SynchronousLocalTaskExecutor,
        "threads": lambda: executors.MultiThreadingExecutor(max_tasks=2),
        "fork": lambda: executors.MultiProcessingExecutor(max_tasks=2, start_method="fork"),
    }[kind]
    if remote is not None:
        builder = (
            builder.enable_dynamic_execution()
            .with_local_executor(executors.SynchronousLocalTaskExecutor())
            .with_remote_executor(remote())
        )
    return builder.build()


def only_run(store: RunStore) -> dict[str, Any]:
    """The store's one run, in full."""
    runs = store.list_runs()
    assert len(runs) == 1, runs
    run = store.run(runs[0]["run_id"])
    assert run is not None
    return run


def nodes_of(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The run's nodes by name."""
    return {node["name"]: node for node in run["nodes"]}
