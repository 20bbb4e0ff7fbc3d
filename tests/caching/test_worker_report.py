"""Worker copies of the cache adapter (processes, Ray, Dask) and what they hand back."""

from __future__ import annotations

import pickle

from cayley import driver
from cayley.caching import CachingEventType
from cayley.caching.stores import InMemoryMetadataStore, InMemoryResultStore
from tests.caching.conftest import RECORD

FLOW = (
    RECORD
    + """
def a(x: int) -> int:
    _record("a")
    return x + 1
"""
)


def start_run(dr, run_id="run-1"):
    dr.cache.pre_graph_execute(
        run_id=run_id,
        graph=dr.graph,
        final_vars=["a"],
        inputs={"x": 1},
        overrides={},
        execution_path=["a"],
    )
    return run_id


def test_a_worker_copy_with_in_memory_stores_reports_what_it_stored(flows, tmp_path):
    module = flows.module(FLOW)
    metadata, results = InMemoryMetadataStore(), InMemoryResultStore()
    dr = (
        driver.Builder()
        .with_modules(module)
        .with_cache(path=tmp_path / "c", metadata_store=metadata, result_store=results)
        .build()
    )
    run_id = start_run(dr)
    worker = pickle.loads(pickle.dumps(dr.cache))
    node = dr.graph.nodes["a"]
    assert worker.do_node_execute(run_id=run_id, node_=node, kwargs={"x": 1}, task_id="t") == 2
    assert len(metadata) == 0  # the worker wrote to its copy only
    report = pickle.loads(pickle.dumps(worker.collect_worker_report()))
    assert worker.collect_worker_report() is None  # nothing new since
    dr.cache.receive_worker_report(report=report)
    dr.cache.post_graph_execute(run_id=run_id, graph=dr.graph, success=True, error=None, results={})
    version = dr.cache.data_versions[run_id]["a"]["t"]
    assert results.get(version) == 2
    assert [e.node_name for e in metadata.entries()] == ["a"]
    events = dr.cache.logs(run_id=run_id)[("a", "t")]
    assert [e.event_type for e in events] == [
        CachingEventType.EXECUTE_NODE,
        CachingEventType.SET_RESULT,
    ]
    # the driver's stores now answer the next run
    assert dr.execute(["a"], inputs={"x": 1}) == {"a": 2}
    assert flows.calls() == ["a"]


def test_a_worker_copy_with_shared_stores_writes_them_directly(flows, tmp_path):
    module = flows.module(FLOW)
    dr = driver.Builder().with_modules(module).with_cache(path=tmp_path / "c").build()
    run_id = start_run(dr)
    worker = pickle.loads(pickle.dumps(dr.cache))
    node = dr.graph.nodes["a"]
    worker.do_node_execute(run_id=run_id, node_=node, kwargs={"x": 1}, task_id=None)
    assert [e.node_name for e in dr.cache.metadata_store.entries()] == ["a"]
    dr.cache.post_graph_execute(run_id=run_id, graph=dr.graph, success=True, error=None, results={})
    flows.calls()
    assert dr.execute(["a"], inputs={"x": 1}) == {"a": 2}
    assert flows.calls() == []
