"""``post_item_timings``: the node calls of fan-out items, handed over once per task run."""

from __future__ import annotations

import time
from typing import Any

import pytest

from cayley import ad_hoc_utils, driver
from cayley.execution import executors
from cayley.lifecycle import api
from cayley.lifecycle.base import (
    BasePostItemTimings,
    BaseWorkerReport,
    ItemTimings,
    LifecycleAdapterSet,
)

FLOW = """
from cayley.function_modifiers import retry
from cayley.htypes import Collect, Parallelizable

FAILED = set()

def items(n: int) -> Parallelizable[int]:
    yield from range(n)

def squared(items: int, bad: int) -> int:
    if items == bad:
        raise ValueError(f"item {items} is bad")
    return items * items

@retry(attempts=2, on=KeyError)
def checked(squared: int, flaky: int) -> int:
    if flaky >= 0 and squared == flaky * flaky and squared not in FAILED:
        FAILED.add(squared)
        raise KeyError(squared)
    return squared

def total(checked: Collect[int]) -> int:
    return sum(checked)
"""

ITEM_NODES = ["squared", "checked"]


def task_id(index: int) -> str:
    return f"expand-items.{index}.block-items"


class Timed(BasePostItemTimings, api.NodeExecutionHook, BaseWorkerReport):
    """Keeps every ItemTimings it gets and the nodes its node hooks saw; worker copies send
    their records back."""

    def __init__(self) -> None:
        self.timings: list[ItemTimings] = []
        self.hooked: list[tuple[str, str | None]] = []

    def __getstate__(self) -> dict[str, Any]:
        return {"timings": [], "hooked": []}

    def post_item_timings(self, *, run_id: str, timings: ItemTimings, **future_kwargs: Any) -> None:
        self.timings.append(timings)

    def run_before_node_execution(self, *, node_name: str, task_id: str | None, **kwargs: Any):
        self.hooked.append((node_name, task_id))

    def run_after_node_execution(self, **future_kwargs: Any) -> None:
        pass

    def collect_worker_report(self) -> Any:
        report = (
            [(t.nodes, t.task_ids, t.started, t.ended, sorted(t.errors)) for t in self.timings],
            self.hooked,
        )
        self.timings, self.hooked = [], []
        return report if report[0] or report[1] else None

    def receive_worker_report(self, *, report: Any) -> None:
        for nodes, task_ids, started, ended, errors in report[0]:
            self.timings.append(
                ItemTimings(nodes, task_ids, started, ended, {k: None for k in errors})
            )
        self.hooked.extend(report[1])

    def calls(self) -> list[tuple[str, str]]:
        """Every (node, task id) received, in order."""
        return [pair for t in self.timings for pair in zip(t.nodes, t.task_ids)]


class Counter(api.NodeExecutionHook):
    """A plain node hook next to the timed adapter: it still sees every call."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def run_before_node_execution(self, *, node_name: str, **future_kwargs: Any) -> None:
        self.seen.append(node_name)

    def run_after_node_execution(self, **future_kwargs: Any) -> None:
        pass


def build(remote: executors.TaskExecutor | None, *adapters: Any) -> driver.Driver:
    module = ad_hoc_utils.module_from_source(FLOW)
    builder = driver.Builder().with_modules(module).with_adapters(*adapters)
    if remote is not None:
        builder = builder.enable_dynamic_execution().with_remote_executor(remote)
    return builder.build()


def test_the_set_sorts_the_hook_and_sends_it_to_workers():
    timed, counter = Timed(), Counter()
    adapters = LifecycleAdapterSet(timed, counter)
    assert adapters.post_item_timings == (timed.post_item_timings,)
    assert adapters.does_hook("post_item_timings") and adapters.has_task_hooks
    view = adapters.item_adapters
    assert view is not None
    assert view.public_node_hooks is not None
    assert view.public_node_hooks.before == (counter.run_before_node_execution,)
    assert adapters.public_node_hooks is not None and len(adapters.public_node_hooks.before) == 2
    assert LifecycleAdapterSet(counter).item_adapters is None

    class OnlyTimings(BasePostItemTimings):
        def post_item_timings(self, **future_kwargs: Any) -> None:
            pass

    only = OnlyTimings()
    workers = LifecycleAdapterSet(only).for_workers()
    assert workers is not None and workers.adapters == (only,)
    assert workers.post_item_timings == (only.post_item_timings,)
    assert LifecycleAdapterSet(only).without_task_hooks().post_item_timings == ()


def test_items_come_in_bulk_and_skip_the_adapters_own_node_hooks():
    timed, counter = Timed(), Counter()
    dr = build(executors.SynchronousLocalTaskExecutor(), timed, counter)
    before = time.time()
    assert dr.execute(["total"], inputs={"n": 40, "bad": -1, "flaky": -1}) == {
        "total": sum(i * i for i in range(40))
    }
    after = time.time()
    expected = [(node, task_id(i)) for i in range(40) for node in ITEM_NODES]
    assert timed.calls() == expected
    for timings in timed.timings:
        assert timings.errors == {}
        assert all(before <= s <= e <= after for s, e in zip(timings.started, timings.ended))
        # calls of one task follow each other
        assert all(e <= s for e, s in zip(timings.ended, timings.started[1:]))
    assert len(timed.timings) < 40, "cheap items are handed over per batch, not per item"
    assert {name for name, _ in timed.hooked} == {"items", "total"}
    assert all(not (t or "").startswith("expand-") for _, t in timed.hooked)
    assert counter.seen.count("squared") == 40 and counter.seen.count("checked") == 40


def test_a_failing_item_is_handed_over_with_its_error_before_the_run_fails():
    timed = Timed()
    dr = build(executors.SynchronousLocalTaskExecutor(), timed)
    with pytest.raises(ValueError, match="item 3 is bad") as caught:
        dr.execute(["total"], inputs={"n": 6, "bad": 3, "flaky": -1})
    calls = timed.calls()
    assert calls[-1] == ("squared", task_id(3))
    assert calls[:6] == [(node, task_id(i)) for i in range(3) for node in ITEM_NODES]
    (failed,) = [t for t in timed.timings if t.errors]
    (position,) = failed.errors
    assert failed.nodes[position] == "squared" and failed.errors[position] is caught.value
    assert position == len(failed.nodes) - 1


def test_every_attempt_of_a_retried_node_is_a_call():
    timed = Timed()
    dr = build(executors.SynchronousLocalTaskExecutor(), timed)
    assert dr.execute(["total"], inputs={"n": 5, "bad": -1, "flaky": 2})["total"] == 30
    calls = timed.calls()
    assert calls.count(("checked", task_id(2))) == 2
    assert len(calls) == 11
    errors = [
        (t.nodes[k], t.task_ids[k], type(e)) for t in timed.timings for k, e in t.errors.items()
    ]
    assert errors == [("checked", task_id(2), KeyError)]


@pytest.mark.parametrize("kind", ["threads", "fork", "spawn"])
def test_worker_copies_time_their_items(kind):
    timed = Timed()
    remote = (
        executors.MultiThreadingExecutor(2)
        if kind == "threads"
        else executors.MultiProcessingExecutor(2, start_method=kind)
    )
    dr = build(remote, timed)
    assert dr.execute(["total"], inputs={"n": 12, "bad": -1, "flaky": -1})["total"] == 506
    assert sorted(timed.calls()) == sorted(
        (node, task_id(i)) for i in range(12) for node in ITEM_NODES
    )
    assert all(not (t or "").startswith("expand-") for _, t in timed.hooked)


def test_a_driver_without_dynamic_execution_calls_node_hooks_for_items():
    timed = Timed()
    dr = build(None, timed)
    assert dr.execute(["total"], inputs={"n": 3, "bad": -1, "flaky": -1})["total"] == 5
    assert timed.timings == []
    assert [name for name, _ in timed.hooked].count("squared") == 3


class Doubling(api.NodeExecutionMethod, api.TaskExecutionHook):
    """Runs each node itself (doubling ``squared``) and counts the item tasks it sees."""

    def __init__(self) -> None:
        self.tasks = 0

    def run_to_execute_node(self, *, node_callable: Any, node_kwargs: dict, **kwargs: Any):
        result = node_callable(**node_kwargs)
        return 2 * result if kwargs["node_name"] == "squared" else result

    def run_before_task_execution(self, *, task_id: str, **future_kwargs: Any) -> None:
        self.tasks += task_id.startswith("expand-")

    def run_after_task_execution(self, **future_kwargs: Any) -> None:
        pass


def test_calls_through_an_adapter_method_and_task_hooks_are_timed_too():
    timed, doubling = Timed(), Doubling()
    dr = build(executors.SynchronousLocalTaskExecutor(), timed, doubling)
    assert dr.execute(["total"], inputs={"n": 4, "bad": -1, "flaky": 0})["total"] == 28
    assert doubling.tasks == 4
    calls = timed.calls()
    assert calls.count(("checked", task_id(0))) == 1, "a method's call retries by itself"
    assert sorted(calls) == sorted((node, task_id(i)) for i in range(4) for node in ITEM_NODES)
    for timings in timed.timings:
        assert all(s <= e for s, e in zip(timings.started, timings.ended))
