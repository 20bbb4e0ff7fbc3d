"""Fan-outs are cached per item, on every local executor; a failed run resumes."""

from __future__ import annotations

import pytest

from cayley import driver
from cayley.execution.executors import (
    MultiProcessingExecutor,
    MultiThreadingExecutor,
    SynchronousLocalTaskExecutor,
)
from tests.caching.conftest import RECORD

FAN_OUT = (
    RECORD
    + """
import os
from cayley.htypes import Collect, Parallelizable

def items(values: list) -> Parallelizable[int]:
    _record("items")
    for v in values:
        yield v

def work(items: int) -> int:
    _record(f"work-{items}")
    if os.path.exists(COUNTER + ".fail") and items == 3:
        raise ValueError("item 3 fails while the flag file exists")
    return items * 10

def total(work: Collect[int]) -> int:
    _record("total")
    return sum(work)
"""
)

EXECUTORS = {
    "sync": lambda: SynchronousLocalTaskExecutor(),
    "threads": lambda: MultiThreadingExecutor(max_tasks=2),
    "processes": lambda: MultiProcessingExecutor(max_tasks=2),
}


def build(module, path, kind, **settings):
    return (
        driver.Builder()
        .with_modules(module)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(EXECUTORS[kind]())
        .with_cache(path=path, **settings)
        .build()
    )


@pytest.mark.parametrize("kind", list(EXECUTORS))
def test_items_are_cached_by_content(flows, tmp_path, kind):
    module = flows.module(FAN_OUT)
    dr = build(module, tmp_path / "c", kind)
    assert dr.execute(["total"], inputs={"values": [1, 2, 3]}) == {"total": 60}
    assert sorted(flows.calls()) == ["items", "total", "work-1", "work-2", "work-3"]
    assert dr.execute(["total"], inputs={"values": [1, 2, 3]}) == {"total": 60}
    assert flows.calls() == []
    # one more item: the expander, that item and the fan-in run again
    assert dr.execute(["total"], inputs={"values": [1, 2, 3, 4]}) == {"total": 100}
    assert sorted(flows.calls()) == ["items", "total", "work-4"]
    # the same items in another order: every item hits
    assert dr.execute(["total"], inputs={"values": [3, 1, 2]}) == {"total": 60}
    assert sorted(flows.calls()) == ["items", "total"]


def test_a_failed_run_resumes_with_the_items_that_did_not_finish(flows, tmp_path):
    module = flows.module(FAN_OUT)
    dr = build(module, tmp_path / "c", "sync")
    flag = flows.counter.with_suffix(".txt.fail")
    flag.write_text("")
    with pytest.raises(ValueError, match="item 3 fails"):
        dr.execute(["total"], inputs={"values": [1, 2, 3, 4, 5]})
    first = flows.calls()
    assert first[0] == "items" and first[-1] == "work-3" and "work-1" in first
    flag.unlink()
    assert dr.execute(["total"], inputs={"values": [1, 2, 3, 4, 5]}) == {"total": 150}
    # the generator runs again if the failure came before it was exhausted (then it was not
    # stored); every item that finished is taken from the cache
    again = [name for name in flows.calls() if name != "items"]
    assert again == [f"work-{i}" for i in range(1, 6) if f"work-{i}" not in first[:-1]] + ["total"]
    assert "work-1" not in again and "work-3" in again


def test_requested_block_outputs_are_values(flows, tmp_path):
    module = flows.module(FAN_OUT)
    dr = build(module, tmp_path / "c", "threads")
    first = dr.execute(["work", "total"], inputs={"values": [1, 2]})
    flows.calls()
    assert (
        dr.execute(["work", "total"], inputs={"values": [1, 2]})
        == first
        == {
            "work": [10, 20],
            "total": 30,
        }
    )
    assert flows.calls() == []


def test_fan_out_logs_are_per_task(flows, tmp_path):
    module = flows.module(FAN_OUT)
    dr = build(module, tmp_path / "c", "sync")
    dr.execute(["total"], inputs={"values": [1, 2]})
    dr.execute(["total"], inputs={"values": [1, 2]})
    logs = dr.cache.logs(run_id=dr.cache.last_run_id)
    work_tasks = sorted(task for node, task in logs if node == "work")
    assert len(work_tasks) == 2 and all("expand-items" in task for task in work_tasks)
    versions = dr.cache.data_versions[dr.cache.last_run_id]["work"]
    assert isinstance(versions, dict) and len(versions) == 2


def test_in_memory_stores_on_processes_receive_what_workers_stored(flows, tmp_path):
    from cayley.caching.stores import InMemoryMetadataStore, InMemoryResultStore

    module = flows.module(FAN_OUT)
    metadata, results = InMemoryMetadataStore(), InMemoryResultStore()
    dr = build(module, tmp_path / "c", "processes", metadata_store=metadata, result_store=results)
    assert dr.execute(["total"], inputs={"values": [1, 2, 3]}) == {"total": 60}
    assert sorted(flows.calls()) == ["items", "total", "work-1", "work-2", "work-3"]
    assert sorted(e.node_name for e in metadata.entries()) == [
        "items",
        "total",
        "work",
        "work",
        "work",
    ]
    assert dr.execute(["total"], inputs={"values": [1, 2, 3]}) == {"total": 60}
    assert flows.calls() == []
    assert not (tmp_path / "c" / "results").exists()
