"""Reading and tending the cache: logs, log files, the run's picture, pruning; async runs."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from cayley import async_driver, driver
from cayley.caching import CachingEvent, CachingEventType
from cayley.caching.stores import InMemoryMetadataStore, InMemoryResultStore
from tests.caching.conftest import RECORD

FLOW = (
    RECORD
    + """
def blob(n: int) -> bytes:
    _record("blob")
    return b"x" * n

def size(blob: bytes) -> int:
    _record("size")
    return len(blob)
"""
)


def build(module, path, **kwargs):
    return driver.Builder().with_modules(module).with_cache(path=path, **kwargs).build()


def test_logs_say_what_happened_and_why(flows, tmp_path):
    dr = build(flows.module(FLOW), tmp_path / "c")
    dr.execute(["size"], inputs={"n": 3})
    first = dr.cache.last_run_id
    dr.execute(["size"], inputs={"n": 3})
    info = dr.cache.logs(run_id=first)
    assert [e.event_type for e in info["size"]] == [
        CachingEventType.EXECUTE_NODE,
        CachingEventType.SET_RESULT,
    ]
    assert info["size"][0].msg == "no stored result for this cache key"
    assert (
        str(info["size"][0]) == "size::adapter::execute_node::no stored result for this cache key"
    )
    debug = dr.cache.logs(run_id=first, level="debug")
    assert CachingEventType.SET_CACHE_KEY in [e.event_type for e in debug["size"]]
    everything = dr.cache.logs()
    assert list(everything) == dr.cache.run_ids
    assert all(isinstance(e, CachingEvent) for e in everything[dr.cache.last_run_id])
    with pytest.raises(ValueError, match="level"):
        dr.cache.logs(run_id=first, level="verbose")


def test_log_to_file_appends_json_lines(flows, tmp_path):
    dr = build(flows.module(FLOW), tmp_path / "c", log_to_file=True)
    dr.execute(["size"], inputs={"n": 3})
    dr.execute(["size"], inputs={"n": 3})
    lines = [
        json.loads(line) for line in (tmp_path / "c" / "cache_logs.jsonl").read_text().splitlines()
    ]
    assert {line["run_id"] for line in lines} == set(dr.cache.run_ids)
    assert {"node_name": "size", "event_type": "get_result"}.items() <= next(
        line for line in lines if line["event_type"] == "get_result" and line["node_name"] == "size"
    ).items()


def test_view_run_colours_nodes_by_cache_status(flows, tmp_path):
    dr = build(flows.module(FLOW), tmp_path / "c")
    dr.execute(["size"], inputs={"n": 3})
    dr.execute(["size"], inputs={"n": 4}, overrides={"blob": b"xxx"})
    dot = dr.cache.view_run()
    source = dot.source
    assert "#9fd89f" in source and "#f6b26b" not in source  # size came from the cache
    assert "from cache" in source  # the legend
    picture = dr.cache.view_run(run_id=dr.cache.run_ids[0], output_file_path=tmp_path / "run.png")
    assert "#f6b26b" in picture.source  # the first run executed everything
    assert (tmp_path / "run.png").stat().st_size > 0


def test_prune_by_age_and_by_size(flows, tmp_path):
    dr = build(flows.module(FLOW), tmp_path / "c")
    for n in (100_000, 200_000, 300_000):
        dr.execute(["size"], inputs={"n": n})
    store = dr.cache.result_store
    assert len(dr.cache.metadata_store) == 6
    report = dr.cache.prune(max_bytes=450_000)
    # the least recently used blobs go first until the rest fits
    kept = {s.data_version: s.size for s in store.sizes()}
    assert sum(kept.values()) <= 450_000 and report.bytes_kept <= 450_000
    assert report.results_removed >= 1 and report.bytes_freed >= 100_000
    flows.calls()
    dr.execute(["size"], inputs={"n": 300_000})
    assert flows.calls() == []  # the most recent run survived
    time.sleep(0.05)
    report = dr.cache.prune(older_than=0.01)
    assert report.entries_removed >= 2
    assert len(dr.cache.metadata_store) == 0
    dr.execute(["size"], inputs={"n": 300_000})
    assert flows.calls() == ["blob", "size"]
    with pytest.raises(TypeError, match="older_than"):
        dr.cache.prune(older_than="yesterday")


def test_in_memory_stores(flows, tmp_path):
    module = flows.module(FLOW)
    metadata, results = InMemoryMetadataStore(), InMemoryResultStore()
    dr = build(module, tmp_path / "c", metadata_store=metadata, result_store=results)
    assert dr.execute(["size"], inputs={"n": 3}) == {"size": 3}
    assert dr.execute(["size"], inputs={"n": 3}) == {"size": 3}
    assert flows.calls() == ["blob", "size"]
    assert len(metadata) == 2 and len(results.sizes()) == 2
    assert not (tmp_path / "c" / "results").exists()


ASYNC_FLOW = (
    RECORD
    + """
import asyncio

async def fetched(n: int) -> int:
    _record("fetched")
    await asyncio.sleep(0)
    return n * 2

def plus(fetched: int) -> int:
    _record("plus")
    return fetched + 1

async def both(fetched: int, plus: int) -> int:
    _record("both")
    return fetched + plus
"""
)


def test_async_driver(flows, tmp_path):
    module = flows.module(ASYNC_FLOW)

    async def run():
        dr = (
            await async_driver.Builder()
            .with_modules(module)
            .with_cache(path=tmp_path / "c")
            .build()
        )
        first = await dr.execute(["both"], inputs={"n": 2})
        second = await dr.execute(["both"], inputs={"n": 2})
        third = await dr.execute(["both"], inputs={"n": 3})
        return first, second, third

    assert asyncio.run(run()) == ({"both": 9}, {"both": 9}, {"both": 13})
    assert flows.calls() == ["fetched", "plus", "both", "fetched", "plus", "both"]


def test_prune_removes_orphans_and_entries_without_results(flows, tmp_path):
    import os

    from cayley.caching.stores import MetadataRecord

    dr = build(flows.module(FLOW), tmp_path / "c")
    dr.execute(["size"], inputs={"n": 100_000})
    store, metadata = dr.cache.result_store, dr.cache.metadata_store
    old = time.time() - 3600
    orphan, fresh_orphan = "ab" * 16, "cd" * 16
    for version in (orphan, fresh_orphan):
        store.set(version, b"y" * 100_000)
    os.utime(tmp_path / "c" / "results" / orphan, (old, old))
    metadata.set_many([MetadataRecord("k" * 32, "ef" * 16, "size", "code", "r", None, old, old)])
    report = dr.cache.prune()
    versions = {s.data_version for s in store.sizes()}
    assert orphan not in versions and fresh_orphan in versions  # recent files are kept
    assert metadata.get("k" * 32) is None
    assert report.results_removed == 1 and report.entries_removed == 1
    flows.calls()
    dr.execute(["size"], inputs={"n": 100_000})
    assert flows.calls() == []  # what runs use is untouched
