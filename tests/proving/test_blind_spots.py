"""Behaviour the rest of the suite let through when it was broken on purpose.

Each test here failed when the matching bug was put into the engine by hand:

- an overridden node is requested, and the inputs only its own function needed are absent;
- a batched item fails while only a ``TaskReturnHook`` or ``TaskSubmissionHook`` is
  registered: the error and the hook must still name the item;
- cheap items are batched on threads and processes, and the batch size follows the measured
  time of an item (slow items are not batched);
- intermediate values are freed after their last use (weak references), on the plain and
  the dynamic path;
- with no hook registered, the engine runs its fast path: no per-node or per-item hook
  machinery (observed with a profiler, counting Python calls outside the node functions).

Only public API is used (drivers, executors, lifecycle classes, ``sys.setprofile``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cayley import ad_hoc_utils, driver
from cayley.execution import executors, grouping
from cayley.lifecycle import api

KINDS = ["plain", "sync", "threads", "fork"]


def remote_executor(kind: str) -> executors.TaskExecutor:
    """A fresh executor for blocks of ``kind``."""
    if kind == "threads":
        return executors.MultiThreadingExecutor(2)
    if kind == "fork":
        return executors.MultiProcessingExecutor(2, start_method="fork")
    return executors.SynchronousLocalTaskExecutor()


def make_driver(kind: str, flow: Any, adapters: tuple[Any, ...] = (), **options: Any):
    """A plain driver, or a dynamic one with blocks on ``kind``'s executor."""
    builder = driver.Builder().with_modules(flow)
    if adapters:
        builder = builder.with_adapters(*adapters)
    if options.get("strategy") is not None:
        builder = builder.with_grouping_strategy(options["strategy"])
    if kind == "plain":
        return builder.build()
    builder = builder.enable_dynamic_execution(allow_experimental_mode=True)
    if options.get("manager") is not None:
        return builder.with_execution_manager(options["manager"]).build()
    return builder.with_remote_executor(remote_executor(kind)).build()


# ---- 1. overrides cut the inputs they make unnecessary ---------------------------------------
OVERRIDDEN = ad_hoc_utils.module_from_source(
    """
from cayley.htypes import Collect, Parallelizable

def loaded(path: str) -> int:
    raise AssertionError("an overridden node must not run")

def cleaned(loaded: int, threshold: int) -> int:
    return loaded - threshold

def report(cleaned: int, title: str) -> str:
    return f"{title}: {cleaned}"

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def scaled(items: int, scale: int) -> int:
    return items * scale

def total(scaled: Collect[int]) -> int:
    return sum(scaled)
"""
)


@pytest.mark.parametrize("kind", KINDS)
def test_overridden_node_needs_none_of_its_upstream_inputs(kind):
    dr = make_driver(kind, OVERRIDDEN)
    # neither `path` nor `threshold` is given: only `cleaned` needed them
    assert dr.execute(["cleaned"], overrides={"cleaned": 7}) == {"cleaned": 7}
    assert dr.execute(["report"], inputs={"title": "t"}, overrides={"cleaned": 7}) == {
        "report": "t: 7"
    }
    # an overridden block node needs the items (n) but not the block's own input (scale)
    assert dr.execute(["total"], inputs={"n": 4}, overrides={"scaled": 5}) == {"total": 20}
    # an overridden expander needs nothing upstream of it
    assert dr.execute(["total"], inputs={"scale": 3}, overrides={"items": [1, 2]}) == {"total": 9}
    with pytest.raises(ValueError, match="threshold"):
        dr.execute(["report"], inputs={"title": "t"}, overrides={"loaded": 1})


# ---- 2. the failing item of a batch is named with task hooks alone ------------------------------
FAILING = ad_hoc_utils.module_from_source(
    """
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def checked(items: int) -> int:
    if items == 137:
        raise ValueError(f"item {items} is bad")
    return items

def total(checked: Collect[int]) -> int:
    return sum(checked)
"""
)


class ReturnHook(api.TaskReturnHook):
    """Records the returned block tasks (the driver process calls it)."""

    def __init__(self) -> None:
        self.returns: list[dict[str, Any]] = []
        self.task_ids: list[str] = []

    def run_after_task_return(
        self, *, task_id: str, result: Any, success: bool, error: Any, **future_kwargs: Any
    ) -> None:
        self.task_ids.append(task_id)
        if task_id.endswith("block-items"):
            self.returns.append(
                {
                    "task_id": task_id,
                    "result": result,
                    "success": success,
                    "error": error,
                    "spawning_task_id": future_kwargs.get("spawning_task_id"),
                }
            )


class SubmissionHook(api.TaskSubmissionHook):
    """Records submitted task ids."""

    def __init__(self) -> None:
        self.task_ids: list[str] = []

    def run_before_task_submission(self, *, task_id: str, **future_kwargs: Any) -> None:
        self.task_ids.append(task_id)


@pytest.mark.parametrize("kind", ["threads", "fork"])
@pytest.mark.parametrize("hook_class", [ReturnHook, SubmissionHook])
def test_failing_item_of_a_batch_is_named_with_only_a_task_hook(kind, hook_class):
    hook = hook_class()
    dr = make_driver(kind, FAILING, adapters=(hook,))
    with pytest.raises(ValueError) as info:
        dr.execute(["total"], inputs={"n": 400})
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "item 137 of 'items'" in notes, notes
    assert "'checked'" in notes, notes
    failing_task = "expand-items.137.block-items"
    if isinstance(hook, ReturnHook):
        failures = [r for r in hook.returns if not r["success"]]
        assert [r["task_id"] for r in failures] == [failing_task]
        assert failures[0]["error"] is info.value
        # the item's task was spawned by the task that ran the expander, which hooks saw
        spawner = failures[0]["spawning_task_id"]
        assert spawner in hook.task_ids and not spawner.endswith("block-items"), spawner
        ok = [r for r in hook.returns if r["success"]]
        assert all(r["result"] == {"checked": int(r["task_id"].split(".")[1])} for r in ok)
    else:
        assert failing_task in hook.task_ids
        assert len(set(hook.task_ids)) == len(hook.task_ids), "a task id was submitted twice"


class ExpanderPeek(api.TaskReturnHook):
    """Reads what the task that ran the expander returned, as a user's hook might."""

    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    def run_after_task_return(self, *, result: Any, **future_kwargs: Any) -> None:
        if result and "items" in result:
            self.seen.append(list(result["items"]))


@pytest.mark.parametrize("kind", ["sync", "threads"])
def test_a_return_hook_reading_the_expander_result_loses_no_item(kind):
    hook = ExpanderPeek()
    dr = make_driver(kind, FAILING, adapters=(hook,))
    assert dr.execute(["total"], inputs={"n": 5}) == {"total": 10}
    assert hook.seen == [[0, 1, 2, 3, 4]]


class LockedReturns(api.TaskReturnHook):
    """A driver-side hook holding state that cannot be pickled."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0

    def run_after_task_return(self, **future_kwargs: Any) -> None:
        with self.lock:
            self.count += 1


def test_driver_side_hooks_are_not_sent_to_worker_processes():
    hook = LockedReturns()
    dr = make_driver("fork", FAILING, adapters=(hook,))
    assert dr.execute(["total"], inputs={"n": 5}) == {"total": 10}
    assert hook.count >= 5


# ---- 3. cheap items are batched; the batch size follows the item time -----------------------
SLEEPY = ad_hoc_utils.module_from_source(
    """
import os
import time
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def worked(items: int, log: str, seconds: float) -> int:
    with open(log, "a") as handle:
        handle.write(f"run {items}\\n")
    if seconds:
        time.sleep(seconds)
    return items

def total(worked: Collect[int]) -> int:
    return sum(worked)
"""
)


class LoggedSubmissions(api.TaskSubmissionHook):
    """Appends one line per submitted block item to the log the items also write to."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def run_before_task_submission(self, *, task_id: str, **future_kwargs: Any) -> None:
        if task_id.endswith("block-items"):
            with open(self.log, "a") as handle:
                handle.write(f"submit {task_id}\n")


def most_submitted_ahead(log: Path) -> int:
    """The largest number of items submitted but not yet started, over the run.

    An item's submission is logged before its task leaves the driver, and the item logs
    when it starts, so the log's order is causal. A batch of ``k`` items is submitted as a
    whole: ``k`` items wait at once. Unbatched items wait at most one per free worker.
    """
    waiting = most = 0
    for line in log.read_text().splitlines():
        waiting += 1 if line.startswith("submit") else -1
        most = max(most, waiting)
    return most


def submitted_ahead(kind: str, n: int, seconds: float, tmp_path: Path) -> int:
    log = tmp_path / f"{kind}-{n}-{seconds}.log"
    dr = make_driver(kind, SLEEPY, adapters=(LoggedSubmissions(log),))
    result = dr.execute(["total"], inputs={"n": n, "log": str(log), "seconds": seconds})
    assert result == {"total": n * (n - 1) // 2}
    lines = log.read_text().splitlines()
    assert sum(line.startswith("run") for line in lines) == n
    return most_submitted_ahead(log)


@pytest.mark.parametrize(("kind", "slow"), [("threads", 0.01), ("fork", 0.06)])
def test_cheap_items_are_batched_and_slow_ones_are_not(kind, slow, tmp_path):
    """Two workers: cheap items go many to a task, items slower than a task's target alone."""
    # Unbatched, at most one or two items per worker wait; batched, whole chunks do.
    cheap = submitted_ahead(kind, 2000, 0.0, tmp_path)
    assert cheap >= 16, f"cheap items were not batched ({cheap} submitted ahead at most)"
    slow_ahead = submitted_ahead(kind, 16, slow, tmp_path)
    assert slow_ahead <= 6, f"slow items were batched ({slow_ahead} submitted ahead at most)"


# ---- 4. values are freed after their last use ------------------------------------------------
TRACKED = """
import weakref
from cayley.htypes import Collect, Parallelizable

REFS = {}


class Box:
    def __init__(self, value):
        self.value = value


def _track(name, box):
    REFS.setdefault(name, []).append(weakref.ref(box))
    return box


def _alive(*names):
    return {name: sum(r() is not None for r in REFS.get(name, [])) for name in names}


def source(x: int) -> Box:
    return _track("source", Box(x))


def middle(source: Box) -> Box:
    return _track("middle", Box(source.value + 1))


def after_middle(middle: Box) -> dict:
    return _alive("source", "middle")


def items(n: int) -> Parallelizable[int]:
    yield from range(n)


def big(items: int) -> Box:
    return _track("big", Box(items))


def small(big: Box) -> int:
    return big.value


def total(small: Collect[int], after_middle: dict) -> dict:
    return {"in block": _alive("big"), "before": after_middle, "now": _alive("source", "middle")}
"""


@pytest.mark.parametrize("kind", ["plain", "sync", "threads"])
def test_values_are_freed_after_their_last_use(kind):
    flow = ad_hoc_utils.module_from_source(TRACKED)
    result = make_driver(kind, flow).execute(["total"], inputs={"x": 1, "n": 300})["total"]
    # `source` was last used by `middle`: gone while `after_middle` ran; `middle` was alive
    assert result["before"] == {"source": 0, "middle": 1}
    # every item's `big` was last used by the same item's `small`
    assert result["in block"] == {"big": 0}
    assert result["now"] == {"source": 0, "middle": 0}
    assert len(flow.REFS["big"]) == 300


BROADCAST = """
import weakref
from cayley.htypes import Collect, Parallelizable

REFS = []


class Box:
    def __init__(self, value):
        self.value = value


def data(x: int) -> Box:
    box = Box(x)
    REFS.append(weakref.ref(box))
    return box


def items(n: int) -> Parallelizable[int]:
    yield from range(n)


def shifted(items: int, data: Box) -> int:
    return items + data.value


def total(shifted: Collect[int]) -> int:
    return sum(shifted)


def report(total: int) -> dict:
    return {"total": total, "data alive": sum(r() is not None for r in REFS)}
"""


@pytest.mark.parametrize(
    ("kind", "strategy"),
    [("plain", None), ("sync", None), ("threads", None), ("sync", "individually")],
)
def test_value_read_by_a_block_is_freed_after_the_fan_in(kind, strategy):
    flow = ad_hoc_utils.module_from_source(BROADCAST)
    chosen = grouping.GroupNodesIndividually() if strategy else None
    dr = make_driver(kind, flow, strategy=chosen)
    assert dr.execute(["report"], inputs={"x": 1, "n": 10})["report"] == {
        "total": 55,
        "data alive": 0,
    }


NESTED_BROADCAST = """
import weakref
from cayley.htypes import Collect, Parallelizable

REFS = {"data": [], "rows": []}


class Box:
    def __init__(self, value):
        self.value = value


def data(x: int) -> Box:
    box = Box(x)
    REFS["data"].append(weakref.ref(box))
    return box


def files(n: int) -> Parallelizable[int]:
    yield from range(n)


def rows(files: int) -> Box:
    box = Box(files)
    REFS["rows"].append(weakref.ref(box))
    return box


def row(rows: Box) -> Parallelizable[int]:
    yield from range(rows.value + 1)


def cell(row: int, rows: Box, data: Box) -> int:
    return row + rows.value * data.value


def per_file(cell: Collect[int], files: int) -> dict:
    own = [box for box in (r() for r in REFS["rows"]) if box is not None and box.value == files]
    return {"sum": sum(cell), "own rows alive": len(own)}


def report(per_file: Collect[dict]) -> dict:
    alive = {k: sum(r() is not None for r in refs) for k, refs in REFS.items()}
    return {"files": list(per_file), "alive": alive}
"""


@pytest.mark.parametrize(
    ("kind", "strategy"), [("plain", None), ("threads", None), ("sync", "individually")]
)
def test_values_read_by_nested_blocks_are_freed_after_their_fan_in(kind, strategy):
    flow = ad_hoc_utils.module_from_source(NESTED_BROADCAST)
    chosen = grouping.GroupNodesIndividually() if strategy else None
    dr = make_driver(kind, flow, strategy=chosen)
    report = dr.execute(["report"], inputs={"x": 2, "n": 3})["report"]
    # file k has rows 0..k; cell = row + 2k
    assert [f["sum"] for f in report["files"]] == [0, 1 + 2 * 2, 3 + 3 * 4]
    # when a file's fan-in ran, its own `rows` had been read for the last time and dropped
    assert [f["own rows alive"] for f in report["files"]] == [0, 0, 0], report
    # `data` is read two fan-outs down: kept until the run ends, then dropped
    assert report["alive"]["rows"] == 0
    assert sum(r() is not None for r in flow.REFS["data"]) == 0


# ---- 5. the no-hook fast path ----------------------------------------------------------------
FAN_OUT = ad_hoc_utils.module_from_source(
    """
from cayley.htypes import Collect, Parallelizable

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def a(items: int) -> int:
    return items + 1

def b(a: int) -> int:
    return a * 2

def c(b: int) -> int:
    return b - 1

def d(c: int) -> int:
    return c + 3

def total(d: Collect[int]) -> int:
    return sum(d)
"""
)
CHAIN_LENGTH = 300
CHAIN = ad_hoc_utils.module_from_source(
    "def n0(x: int) -> int:\n    return x + 1\n"
    + "".join(
        f"def n{i}(n{i - 1}: int) -> int:\n    return n{i - 1} + 1\n"
        for i in range(1, CHAIN_LENGTH)
    )
)


class CountingNodeHook(api.NodeExecutionHook):
    """The lightest possible node hook."""

    def run_before_node_execution(self, **future_kwargs: Any) -> None:
        pass

    def run_after_node_execution(self, **future_kwargs: Any) -> None:
        pass


def calls_outside(flow: Any, run: Callable[[], object]) -> int:
    """Python function calls during ``run()``, in every thread, outside ``flow``'s functions."""
    node_code = {fn.__code__ for fn in vars(flow).values() if hasattr(fn, "__code__")}
    calls: list[int] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code not in node_code:
            calls.append(1)

    run()  # warm-up: plans are compiled once per request
    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    return len(calls)


@pytest.mark.parametrize("kind", ["plain", "sync", "threads"])
def test_without_hooks_the_engine_adds_no_calls_per_node(kind):
    chain = make_driver(kind, CHAIN)
    hooked = make_driver(kind, CHAIN, adapters=(CountingNodeHook(),))
    output = f"n{CHAIN_LENGTH - 1}"

    def run(dr: Any) -> Callable[[], object]:
        return lambda: dr.execute([output], inputs={"x": 0})

    plain_calls = calls_outside(CHAIN, run(chain))
    hooked_calls = calls_outside(CHAIN, run(hooked))
    assert hooked_calls >= 2 * CHAIN_LENGTH, "the profiler does not see hook calls"
    assert plain_calls < CHAIN_LENGTH / 2, (
        f"{plain_calls} calls for {CHAIN_LENGTH} nodes without hooks: the hook path was taken"
    )


@pytest.mark.parametrize("kind", ["plain", "sync", "threads"])
def test_without_hooks_each_item_costs_at_most_a_few_calls(kind):
    """Per item of a four-node block: the hook path costs at least two calls per node."""
    dr = make_driver(kind, FAN_OUT)

    def run(n: int) -> Callable[[], object]:
        return lambda: dr.execute(["total"], inputs={"n": n})

    small, large = 1000, 5000
    per_item = (calls_outside(FAN_OUT, run(large)) - calls_outside(FAN_OUT, run(small))) / (
        large - small
    )
    assert per_item <= 3, f"{per_item:.1f} calls per item without hooks: the hook path was taken"
    hooked = make_driver(kind, FAN_OUT, adapters=(CountingNodeHook(),))
    hooked_calls = calls_outside(FAN_OUT, lambda: hooked.execute(["total"], inputs={"n": small}))
    assert hooked_calls >= 8 * small, "the profiler does not see hook calls"
