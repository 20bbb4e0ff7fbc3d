"""Dataflows and checks shared by the Ray and Dask plugin tests.

The dataflows are built from source at run time, so their functions (and the hook recorder)
reach cluster workers by value, the way notebook code does. Worker processes import cayley
itself, so the repository root is put on ``PYTHONPATH`` while the clusters start.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cayley import ad_hoc_utils, driver
from cayley.execution.executors import ExecutionManager, TaskExecutor
from cayley.execution.grouping import GroupNodesIndividually

ROOT = pathlib.Path(__file__).resolve().parents[2]

FAN_OUT = """
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def squared(items: int) -> int:
    return items * items

def total(squared: Collect[int]) -> int:
    return sum(squared)
"""

NESTED = """
from cayley.htypes import Collect, Parallelizable

def groups(n: int) -> Parallelizable[int]:
    yield from range(n)

def members(groups: int) -> Parallelizable[tuple]:
    for j in range(groups + 1):
        yield (groups, j)

def code(members: tuple) -> int:
    return members[0] * 10 + members[1]

def group_sum(code: Collect[int]) -> int:
    return sum(code)

def grand_total(group_sum: Collect[int]) -> int:
    return sum(group_sum)
"""

MULTI_COLLECT = """
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def doubled(items: int) -> int:
    return 2 * items

def label(items: int) -> str:
    return f"item-{items}"

def total(doubled: Collect[int]) -> int:
    return sum(doubled)

def labels(label: Collect[str]) -> list:
    return list(label)

def table(doubled: Collect[int], label: Collect[str]) -> dict:
    return dict(zip(label, doubled))
"""

FAILING = """
from cayley.htypes import Collect, Parallelizable

class ItemError(ValueError):
    pass

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def checked(items: int) -> int:
    if items == 3:
        raise ItemError(f"item {items} is bad")
    return items

def total(checked: Collect[int]) -> int:
    return sum(checked)
"""

KILLER = """
import os
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def survived(items: int, marker: str) -> int:
    if items == 2 and not (marker and os.path.exists(marker)):
        if marker:
            open(marker, "w").close()
        os._exit(1)
    return items

def total(survived: Collect[int]) -> int:
    return sum(survived)
"""

LARGE = """
import numpy as np
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def block(items: int) -> np.ndarray:
    return np.full(100_000, float(items))

def block_sum(block: np.ndarray) -> float:
    return float(block.sum())

def total(block_sum: Collect[float]) -> float:
    return sum(block_sum)

def blocks(block: Collect[np.ndarray]) -> int:
    return sum(len(b) for b in block)

def picked(items: int, data: np.ndarray) -> float:
    return float(data[items])

def picked_total(picked: Collect[float]) -> float:
    return sum(picked)
"""

RECORDER = """
import json
import os
from cayley.lifecycle import api

class Recorder(
    api.NodeExecutionHook, api.TaskExecutionHook, api.TaskSubmissionHook, api.TaskReturnHook
):
    def __init__(self, path):
        self.path = path

    def _write(self, **record):
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({**record, "pid": os.getpid()}) + "\\n")

    def run_before_node_execution(self, *, node_name, task_id, **future_kwargs):
        self._write(hook="node_before", node=node_name, task_id=task_id)

    def run_after_node_execution(self, *, node_name, task_id, success, **future_kwargs):
        self._write(hook="node_after", node=node_name, task_id=task_id, success=success)

    def run_before_task_execution(self, *, task_id, nodes, **future_kwargs):
        self._write(hook="task_before", task_id=task_id, nodes=[n.name for n in nodes])

    def run_after_task_execution(self, *, task_id, success, **future_kwargs):
        self._write(hook="task_after", task_id=task_id, success=success)

    def run_before_task_submission(self, *, task_id, **future_kwargs):
        self._write(hook="submission", task_id=task_id)

    def run_after_task_return(self, *, task_id, success, **future_kwargs):
        self._write(hook="return", task_id=task_id, success=success)
"""


BY_VALUE_FLOW = """
from cayley.htypes import Collect, Parallelizable
import HELPERS

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def doubled(items: int) -> int:
    return HELPERS.double(items)

def total(doubled: Collect[int]) -> int:
    return sum(doubled)
"""

FLAKY = """
import os
from cayley.function_modifiers import retry
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

@retry(attempts=3, on=ConnectionError)
def fetched(items: int, log_dir: str) -> int:
    path = os.path.join(log_dir, str(items))
    with open(path, "a") as handle:
        handle.write("x")
    if os.path.getsize(path) < 3:
        raise ConnectionError(f"item {items} not yet")
    return items * 10

def total(fetched: Collect[int]) -> int:
    return sum(fetched)
"""

REPORTER = """
import os
from cayley.lifecycle import api
from cayley.lifecycle.base import BaseWorkerReport

class Spans(api.NodeExecutionHook, api.TaskReturnHook, BaseWorkerReport):
    def __init__(self):
        self.pending = []
        self.events = []

    def __getstate__(self):
        return {**self.__dict__, "pending": [], "events": []}

    def run_before_node_execution(self, *, node_name, task_id, **future_kwargs):
        self.pending.append((node_name, task_id, os.getpid()))

    def run_after_node_execution(self, **future_kwargs):
        pass

    def run_after_task_return(self, *, task_id, **future_kwargs):
        self.events.append(("return", task_id))

    def collect_worker_report(self):
        spans, self.pending = self.pending, []
        return spans or None

    def receive_worker_report(self, *, report):
        self.events.append(("report", report))
"""

SLEEPER = """
import os, time
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def slept(items: int, mark_dir: str, seconds: float) -> int:
    open(os.path.join(mark_dir, str(items)), "w").close()
    time.sleep(seconds)
    return items

def total(slept: Collect[int]) -> int:
    return sum(slept)
"""


@contextlib.contextmanager
def repository_on_pythonpath() -> Iterator[None]:
    """Lets worker processes started meanwhile import cayley from this checkout."""
    previous = os.environ.get("PYTHONPATH")
    parts = [str(ROOT)] + ([previous] if previous else [])
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def module(source: str) -> Any:
    """A fresh module built from ``source`` (its functions travel to workers by value)."""
    return ad_hoc_utils.module_from_source(source)


class AllOn(ExecutionManager):
    """Sends every task (expanders and collects included) to one executor."""

    def __init__(self, executor: TaskExecutor) -> None:
        super().__init__([executor])
        self.executor = executor

    def get_executor_for_task(self, task: Any) -> TaskExecutor:
        """Always the one executor."""
        return self.executor


def build(
    executor: TaskExecutor,
    flow: Any,
    adapters: tuple[Any, ...] = (),
    individually: bool = False,
    everything: bool = False,
) -> driver.Driver:
    """A dynamic driver running ``flow``'s blocks (or all its tasks) on ``executor``."""
    builder = (
        driver.Builder().with_modules(flow).enable_dynamic_execution(allow_experimental_mode=True)
    )
    if everything:
        builder = builder.with_execution_manager(AllOn(executor))
    else:
        builder = builder.with_remote_executor(executor)
    if adapters:
        builder = builder.with_adapters(*adapters)
    if individually:
        builder = builder.with_grouping_strategy(GroupNodesIndividually())
    return builder.build()


class Checks:
    """Scenarios every distributed executor must pass, given a factory of fresh executors.

    Also carries the helpers and dataflow sources, so test modules need no imports from here.
    """

    root = ROOT
    sources = {
        "fan_out": FAN_OUT,
        "nested": NESTED,
        "multi_collect": MULTI_COLLECT,
        "failing": FAILING,
        "killer": KILLER,
        "large": LARGE,
        "recorder": RECORDER,
        "flaky": FLAKY,
        "reporter": REPORTER,
    }
    module = staticmethod(module)
    build = staticmethod(build)
    repository_on_pythonpath = staticmethod(repository_on_pythonpath)

    def fan_out(self, make: Callable[[], TaskExecutor]) -> TaskExecutor:
        """Empty, small and 3,000-item fan-outs; tiny items are batched."""
        executor = make()
        dr = build(executor, module(FAN_OUT))
        assert dr.execute(["total"], inputs={"n": 0}) == {"total": 0}
        assert dr.execute(["total"], inputs={"n": 7}) == {"total": sum(i * i for i in range(7))}
        result = dr.execute(["total", "squared"], inputs={"n": 3000})
        assert result["total"] == sum(i * i for i in range(3000))
        assert result["squared"] == [i * i for i in range(3000)]
        assert executor.stats["items"] == 3000
        assert executor.stats["tasks"] < 3000 / 4, "tiny items were not batched"
        assert executor.stats["kept"] == 0
        return executor

    def nested(self, make: Callable[[], TaskExecutor]) -> None:
        """A fan-out inside a fan-out."""
        dr = build(make(), module(NESTED))
        n = 6
        expected = [sum(10 * g + j for j in range(g + 1)) for g in range(n)]
        result = dr.execute(["grand_total", "group_sum"], inputs={"n": n})
        assert result == {"grand_total": sum(expected), "group_sum": expected}

    def several_collects(self, make: Callable[[], TaskExecutor]) -> None:
        """Two collects of one block, one of them in a function taking both."""
        dr = build(make(), module(MULTI_COLLECT))
        result = dr.execute(["total", "labels", "table"], inputs={"n": 40})
        assert result["total"] == sum(2 * i for i in range(40))
        assert result["labels"] == [f"item-{i}" for i in range(40)]
        assert result["table"] == {f"item-{i}": 2 * i for i in range(40)}

    def hooks(self, make: Callable[[], TaskExecutor], tmp_path: pathlib.Path) -> None:
        """Node and task hooks fire with the task ids, execution hooks on the workers."""
        recorder_module = module(RECORDER)
        path = tmp_path / "events.jsonl"
        dr = build(make(), module(FAN_OUT), adapters=(recorder_module.Recorder(str(path)),))
        assert dr.execute(["total"], inputs={"n": 5}) == {"total": 30}
        events = [json.loads(line) for line in path.read_text().splitlines()]
        block_ids = [f"expand-items.{i}.block-items" for i in range(5)]
        by_hook: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            by_hook.setdefault(event["hook"], []).append(event)
        for hook in ("submission", "return", "task_before", "task_after"):
            ids = [e["task_id"] for e in by_hook[hook]]
            assert set(block_ids) <= set(ids), (hook, ids)
        remote = [e for e in by_hook["task_before"] if e["task_id"] in block_ids]
        assert all(e["nodes"] == ["squared"] for e in remote)
        assert all(e["pid"] != os.getpid() for e in remote), "block tasks ran on the driver"
        node_ids = sorted(e["task_id"] for e in by_hook["node_before"] if e["node"] == "squared")
        assert node_ids == sorted(block_ids)
        assert all(e["success"] for e in by_hook["node_after"] + by_hook["return"])

    def error(self, make: Callable[[], TaskExecutor]) -> BaseException:
        """A node error arrives with its own type, its notes and the worker traceback."""
        flow = module(FAILING)
        dr = build(make(), flow)
        with pytest.raises(flow.ItemError) as info:
            dr.execute(["total"], inputs={"n": 8})
        error = info.value
        assert type(error) is flow.ItemError
        assert str(error) == "item 3 is bad"
        notes = "\n".join(getattr(error, "__notes__", []))
        assert "while computing node 'checked'" in notes
        assert "item 3 of 'items'" in notes
        assert "Traceback" in str(error.__cause__)
        return error

    def large_values(self, make: Callable[[], TaskExecutor]) -> TaskExecutor:
        """Large block results go to the next task by reference."""
        executor = make()
        dr = build(executor, module(LARGE), individually=True)
        n = 6
        assert dr.execute(["total"], inputs={"n": n}) == {"total": sum(1e5 * i for i in range(n))}
        assert executor.stats["kept"] == n, executor.stats
        # block_sum's tasks got the arrays by reference; the scheduler may fetch one value
        # when it first meets the template, to choose its executor.
        assert executor.stats["fetched"] <= 1, executor.stats
        assert dr.execute(["blocks"], inputs={"n": n}) == {"blocks": n * 100_000}
        assert executor.stats["fetched"] >= n, "a driver-side collect must fetch every array"
        return executor

    def shared_input(self, make: Callable[[], TaskExecutor]) -> TaskExecutor:
        """A large input read by every item is sent to the cluster once."""
        import numpy as np

        executor = make()
        data = np.arange(300_000, dtype=np.float64)
        dr = build(executor, module(LARGE))
        result = dr.execute(["picked_total"], inputs={"n": 50, "data": data})
        assert result == {"picked_total": float(sum(range(50)))}
        assert executor.stats["shared"] == 1, executor.stats
        return executor

    def everything_on_the_cluster(self, make: Callable[[], TaskExecutor]) -> None:
        """Expanders and collects run on the cluster too (nested blocks, large values)."""
        executor = make()
        dr = build(executor, module(NESTED), everything=True)
        expected = [sum(10 * g + j for j in range(g + 1)) for g in range(4)]
        assert dr.execute(["grand_total"], inputs={"n": 4}) == {"grand_total": sum(expected)}
        dr = build(executor, module(LARGE), everything=True)
        result = dr.execute(["total", "blocks"], inputs={"n": 3})
        assert result == {"total": 300_000.0, "blocks": 300_000}

    def killed_worker_is_retried(
        self, make: Callable[[], TaskExecutor], tmp_path: pathlib.Path
    ) -> None:
        """A worker killed by an item is replaced and the item runs again."""
        marker = tmp_path / "killed-once"
        dr = build(make(), module(KILLER))
        result = dr.execute(["total"], inputs={"n": 5, "marker": str(marker)})
        assert marker.exists(), "the worker was never killed"
        assert result == {"total": 10}

    def killed_worker_fails_fast(
        self, executor: TaskExecutor, error_type: type[BaseException], limit: float = 5.0
    ) -> BaseException:
        """Without retries, a killed worker fails the run quickly, naming node and item."""
        # One item per task: a worker death can only be pinned on the item it ran alone.
        executor.chunk_target_seconds = 0.0
        dr = build(executor, module(KILLER))
        started = time.perf_counter()
        with pytest.raises(error_type) as info:
            dr.execute(["total"], inputs={"n": 5, "marker": ""})
        assert time.perf_counter() - started < limit
        message = "\n".join([str(info.value), *getattr(info.value, "__notes__", [])])
        assert "'survived'" in message and "item 2 of 'items'" in message, message
        return info.value

    def modules_by_value(
        self, make: Callable[[], TaskExecutor], tmp_path: pathlib.Path, name: str
    ) -> None:
        """A module run from a file by another name, and a helper module from a directory
        added to ``sys.path`` at run time, reach the workers by value."""
        import importlib.util
        import sys

        helpers = f"{name}_helpers"
        helper_dir = tmp_path / "runtime"
        helper_dir.mkdir()
        (helper_dir / f"{helpers}.py").write_text("def double(value):\n    return 2 * value\n")
        (tmp_path / "flow_file.py").write_text(BY_VALUE_FLOW.replace("HELPERS", helpers))
        sys.path.insert(0, str(helper_dir))
        try:
            spec = importlib.util.spec_from_file_location(name, tmp_path / "flow_file.py")
            flow = importlib.util.module_from_spec(spec)
            sys.modules[name] = flow
            spec.loader.exec_module(flow)
            assert build(make(), flow).execute(["total"], inputs={"n": 6}) == {"total": 30}
        finally:
            sys.path.remove(str(helper_dir))
            sys.modules.pop(name, None)
            sys.modules.pop(helpers, None)

    def retry_per_item(self, make: Callable[[], TaskExecutor], tmp_path: pathlib.Path) -> None:
        """``@retry`` runs each item again on the workers until it succeeds."""
        dr = build(make(), module(FLAKY))
        assert dr.execute(["total"], inputs={"n": 4, "log_dir": str(tmp_path)}) == {"total": 60}
        assert sorted(p.stat().st_size for p in tmp_path.iterdir()) == [3, 3, 3, 3]

    def worker_reports(self, make: Callable[[], TaskExecutor]) -> None:
        """Adapter copies on the workers report to the driver's instance before the return
        hooks of their task."""
        spans = module(REPORTER).Spans()
        dr = build(make(), module(FAN_OUT), adapters=(spans,))
        assert dr.execute(["total"], inputs={"n": 5}) == {"total": 30}
        block_ids = {f"expand-items.{i}.block-items" for i in range(5)}
        reported: set[str] = set()
        for kind, payload in spans.events:
            if kind == "report":
                for node, task_id, pid in payload:
                    assert node == "squared" and pid != os.getpid()
                    reported.add(task_id)
            elif payload in block_ids:
                assert payload in reported, f"{payload} returned before its report"
        assert reported == block_ids

    def interrupted(
        self, make: Callable[[], TaskExecutor], tmp_path: pathlib.Path, seconds: float
    ) -> None:
        """Ctrl-C while items run on the cluster stops the run within 5 seconds."""
        import signal
        import threading

        main = threading.main_thread().ident
        assert main == threading.get_ident(), "run the test in the main thread"

        sent: list[float] = []

        def interrupt() -> None:
            deadline = time.monotonic() + 30
            while not any(tmp_path.iterdir()) and time.monotonic() < deadline:
                time.sleep(0.02)
            sent.append(time.monotonic())
            signal.pthread_kill(main, signal.SIGINT)

        dr = build(make(), module(SLEEPER))
        watcher = threading.Thread(target=interrupt, daemon=True)
        watcher.start()
        with pytest.raises(KeyboardInterrupt):
            dr.execute(["total"], inputs={"n": 4, "mark_dir": str(tmp_path), "seconds": seconds})
        stopped = time.monotonic()
        watcher.join()
        assert stopped - sent[0] < 5

    def unserializable_input(self, make: Callable[[], TaskExecutor]) -> None:
        """An input that cannot be pickled is named in the error."""
        import threading

        from cayley.execution.executors import SerializationError

        flow = module(
            """
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def locked(items: int, lock: object) -> int:
    return items

def total(locked: Collect[int]) -> int:
    return sum(locked)
"""
        )
        dr = build(make(), flow)
        with pytest.raises(SerializationError, match="lock"):
            dr.execute(["total"], inputs={"n": 2, "lock": threading.Lock()})


@pytest.fixture(scope="session")
def checks() -> Checks:
    """The shared scenarios."""
    return Checks()
