"""``BaseWorkerReport`` on local executors: worker copies hand data back to the driver.

Cluster executors are covered in ``test_cluster_engines.py``.
"""

from __future__ import annotations

import os

import pytest

from cayley import ad_hoc_utils
from cayley.lifecycle import api
from cayley.lifecycle.base import BaseWorkerReport
from tests.engine.conftest import FAN_OUT, dynamic, make_executor


class Spans(api.NodeExecutionHook, api.TaskReturnHook, BaseWorkerReport):
    """Records node starts where they run; the driver's instance logs what it receives."""

    def __init__(self):
        self.pending: list[tuple[str, str, int]] = []
        self.events: list[tuple[str, object]] = []
        self.collected = 0

    def __getstate__(self):
        # Worker copies start empty: the driver's own records stay on the driver.
        return {**self.__dict__, "pending": [], "events": []}

    def run_before_node_execution(self, *, node_name, task_id, **future_kwargs):
        self.pending.append((node_name, task_id, os.getpid()))

    def run_after_node_execution(self, **future_kwargs):
        pass

    def run_after_task_return(self, *, task_id, **future_kwargs):
        self.events.append(("return", task_id))

    def collect_worker_report(self):
        self.collected += 1
        spans, self.pending = self.pending, []
        return spans or None

    def receive_worker_report(self, *, report):
        self.events.append(("report", report))


def check_reports(spans: Spans, n: int) -> None:
    """Every block task's return comes after a report, from a worker, naming that task."""
    block_ids = {f"expand-items.{i}.block-items" for i in range(n)}
    reported: set[str] = set()
    for kind, payload in spans.events:
        if kind == "report":
            for node, task_id, pid in payload:
                assert node == "squared" and pid != os.getpid()
                reported.add(task_id)
        elif payload in block_ids:
            assert payload in reported, f"{payload} returned before its report arrived"
    assert reported == block_ids
    on_driver = [task_id for _, task_id, _ in spans.pending if task_id in block_ids]
    assert on_driver == [], "node hooks of block tasks ran on the driver's instance"


@pytest.mark.timeout(60)
def test_process_workers_report_to_the_driver_before_the_task_returns():
    spans = Spans()
    dr = dynamic(ad_hoc_utils.module_from_source(FAN_OUT), make_executor("fork"), spans)
    assert dr.execute(["total"], inputs={"n": 6}) == {"total": 55}
    check_reports(spans, 6)
    assert spans.collected == 0, "the driver's own instance was asked to collect"


@pytest.mark.parametrize("kind", ["sync", "threads"])
def test_in_process_executors_neither_collect_nor_receive(kind):
    spans = Spans()
    dr = dynamic(ad_hoc_utils.module_from_source(FAN_OUT), make_executor(kind), spans)
    assert dr.execute(["total"], inputs={"n": 4}) == {"total": 14}
    assert spans.collected == 0
    assert [kind for kind, _ in spans.events if kind == "report"] == []
    assert sorted(t for _, t, _ in spans.pending if t and t.startswith("expand-")) == [
        f"expand-items.{i}.block-items" for i in range(4)
    ]
