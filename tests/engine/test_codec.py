"""The task codec on its own: what goes to a worker and what comes back, without a pool."""

from __future__ import annotations

import threading

import cloudpickle
import pytest

from cayley import ad_hoc_utils, driver
from cayley.execution.codec import Outcome, TaskCodec, WorkerTraceback, run_encoded
from cayley.execution.contract import SerializationError
from cayley.execution.runner import Task, TaskLabel
from cayley.lifecycle import api
from cayley.lifecycle.base import BaseWorkerReport, LifecycleAdapterSet

SOURCE = """
import threading

class Odd(Exception):
    def __init__(self, lock):
        super().__init__("odd item")
        self.lock = lock

def value(x: int) -> int:
    if x == 3:
        raise ValueError(f"bad {x}")
    if x == 5:
        raise Odd(threading.Lock())
    return x * 10

def locked(x: int) -> object:
    return threading.Lock()

def big(x: int) -> bytes:
    return b"z" * (1000 * x)
"""


def _task(output: str, xs: list[int], adapters=None) -> Task:
    flow = ad_hoc_utils.module_from_source(SOURCE)
    plan = driver.Builder().with_modules(flow).build()._plan_for([output], ["x"], [])
    labels = [TaskLabel(f"t.{i}", None, f"item {i} of 'x'", i, "x") for i in range(len(xs))]
    return Task(plan.groups[0].template, [{"x": x} for x in xs], labels, "run", adapters)


def _round_trip(task: Task, codec: TaskCodec | None = None, **options):
    codec = codec or TaskCodec("process")
    static = codec.static_part(task)
    packed, taken = run_encoded(static.key, lambda: static.blob, codec.encode(task), **options)
    worker_view = Task(task.template, task.inputs, task.labels, task.run_id, task.adapters)
    return codec, packed, taken, worker_view


def test_rows_come_back_with_the_time_spent():
    task = _task("value", [1, 2])
    codec, packed, _, received = _round_trip(task)
    outcome = codec.decode(packed, received)
    assert outcome.ok and outcome.value == [(10,), (20,)]
    assert received.elapsed > 0 and received.failed_item is None


def test_an_error_comes_back_with_its_item_and_the_worker_traceback():
    task = _task("value", [1, 2, 3, 4])
    codec, packed, _, received = _round_trip(task)
    with pytest.raises(ValueError, match="bad 3") as info:
        codec.decode(packed, received)
    assert received.failed_item == 2
    cause = info.value.__cause__
    assert isinstance(cause, WorkerTraceback)
    assert "Traceback" in str(cause) and ", in value\n" in str(cause)
    assert "while computing node 'value'" in "\n".join(info.value.__notes__)


def test_an_error_that_cannot_be_pickled_keeps_its_message_notes_and_item():
    task = _task("value", [5])
    codec, packed, _, received = _round_trip(task)
    with pytest.raises(RuntimeError, match="Odd: odd item") as info:
        codec.decode(packed, received)
    assert received.failed_item == 0
    assert any("while computing node 'value'" in note for note in info.value.__notes__)


def test_a_result_that_cannot_be_pickled_names_the_node_and_item():
    task = _task("locked", [7, 8])
    codec, packed, _, received = _round_trip(task)
    with pytest.raises(SerializationError, match="result of node 'locked'") as info:
        codec.decode(packed, received)
    assert received.failed_item == 0
    assert "item 0 of 'x'" in "\n".join(info.value.__notes__)


def test_the_static_part_is_pickled_once_per_template_and_run():
    codec = TaskCodec("process")
    first, second = _task("value", [1]), None
    second = Task(first.template, [{"x": 2}], None, first.run_id)
    assert codec.static_part(first) is codec.static_part(second)
    key = codec.static_part(first).key
    codec.clear()
    assert codec.static_part(first).key != key


def test_large_results_stay_on_the_worker_when_split():
    task = _task("big", [1, 50])
    codec, packed, taken, received = _round_trip(task, keep_bytes=10_000, split=True)
    outcome = codec.decode(packed, received)
    assert outcome.large == ((1, 0),)
    assert outcome.value[0] == (b"z" * 1000,) and outcome.value[1] == (None,)
    assert taken == {1: b"z" * 50_000}
    _, packed, taken, received = _round_trip(task, keep_bytes=10_000, split=False)
    outcome = codec.decode(packed, received)
    assert outcome.large == ((1, 0),) and taken == {}
    assert outcome.value[1] == (b"z" * 50_000,)


class Spans(api.NodeExecutionHook, BaseWorkerReport):
    """Collects node names on worker copies; the driver's instance receives them."""

    def __init__(self):
        self.names: list[str] = []
        self.received: list[object] = []

    def run_before_node_execution(self, *, node_name, **future_kwargs):
        self.names.append(node_name)

    def run_after_node_execution(self, **future_kwargs):
        pass

    def collect_worker_report(self):
        names, self.names = self.names, []
        return names or None

    def receive_worker_report(self, *, report):
        self.received.append(report)


def test_worker_reports_travel_in_the_outcome_in_adapter_order():
    spans = Spans()
    adapters = LifecycleAdapterSet(spans)
    task = _task("value", [1, 2], adapters)
    # the worker runs a copy of the adapters, as a worker process would
    copy = cloudpickle.loads(cloudpickle.dumps(adapters))
    codec = TaskCodec("process")
    static = codec.static_part(task)
    task_copy = Task(task.template, task.inputs, task.labels, task.run_id, copy)
    static_copy = codec.static_part(task_copy)
    packed, _ = run_encoded(static_copy.key, lambda: static_copy.blob, codec.encode(task))
    codec.decode(packed, task)
    assert task.reports == (["value", "value"],)
    assert spans.names == [] and static.key != static_copy.key


def test_reports_also_come_back_from_a_failed_task():
    spans = Spans()
    task = _task("value", [1, 3], LifecycleAdapterSet(spans))
    codec, packed, _, received = _round_trip(task)
    with pytest.raises(ValueError):
        codec.decode(packed, received)
    assert received.reports == (["value", "value"],)


def test_a_report_that_cannot_be_pickled_is_a_clear_error():
    class Bad(Spans):
        def collect_worker_report(self):
            return threading.Lock()

    task = _task("value", [1], LifecycleAdapterSet(Bad()))
    codec, packed, _, received = _round_trip(task)
    with pytest.raises(SerializationError, match="collect_worker_report"):
        codec.decode(packed, received)


def test_outcome_is_a_named_record():
    outcome = Outcome(True, [(1,)], None, None, 0.5, None)
    assert outcome.ok and outcome.value == [(1,)] and outcome.large == ()
