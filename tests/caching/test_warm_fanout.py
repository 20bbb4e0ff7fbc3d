"""The shortcuts a warm fan-out takes never turn a changed item, code or config into a hit."""

from __future__ import annotations

import gc
import sqlite3
import time

import pytest

from cayley import driver
from cayley.caching import CachingEventType, data_version
from cayley.caching.stores import SQLiteMetadataStore
from cayley.caching.stores.base import MetadataRecord
from cayley.execution.executors import SynchronousLocalTaskExecutor
from tests.caching.conftest import RECORD

BLOCK = (
    RECORD
    + """
from cayley.htypes import Collect, Parallelizable

def items(values: list) -> Parallelizable[object]:
    for v in values:
        yield v

def first(items: object, factor: int) -> object:
    _record(f"first-{items!r}")
    return (items, factor)

def second(first: object) -> str:
    _record(f"second-{first[0]!r}")
    return f"{first[0]!r}x{first[1]}"

def joined(second: Collect[str]) -> str:
    return ",".join(second)
"""
)


def build(module, path, **config):
    return (
        driver.Builder()
        .with_modules(module)
        .with_config(config)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(SynchronousLocalTaskExecutor())
        .with_cache(path=path)
        .build()
    )


def run(dr, values, factor=2):
    return dr.execute(["joined"], inputs={"values": values, "factor": factor})["joined"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (1, True),  # equal, and hash alike
        (1, 1.0),
        (0.0, -0.0),
        ("1", b"1"),  # str and bytes with the same content hash alike
        (2**63, 2**63 + 1),
        ("a" * 100, "a" * 99 + "b"),  # too long to be remembered by value
    ],
)
def test_items_equal_or_alike_to_earlier_ones_but_different_miss(flows, tmp_path, before, after):
    dr = build(flows.module(BLOCK), tmp_path / "c")
    assert run(dr, [before, 7]) == f"{before!r}x2,7x2"
    assert run(dr, [before, 7]) == f"{before!r}x2,7x2"
    flows.calls()
    assert run(dr, [after, 7]) == f"{after!r}x2,7x2"
    assert flows.calls() == [f"first-{after!r}", f"second-{after!r}"]


def test_scalar_versions_are_those_of_their_pickles():
    assert data_version(5) == data_version(5) != data_version(True)
    assert data_version(1) != data_version(1.0) != data_version("1") != data_version(b"1")
    assert data_version(0.0) != data_version(-0.0)
    assert data_version(2**100) == data_version(2**100) != data_version(2**100 + 1)


def test_a_changed_input_config_or_function_misses_for_every_item(flows, tmp_path):
    source = BLOCK.replace("factor: int", "factor: int")
    dr = build(flows.module(source), tmp_path / "c")
    assert run(dr, [1, 2]) == "1x2,2x2"
    assert run(dr, [1, 2]) == "1x2,2x2"
    flows.calls()
    # an input every item reads
    assert run(dr, [1, 2], factor=3) == "1x3,2x3"
    assert sorted(flows.calls()) == ["first-1", "first-2", "second-1", "second-2"]
    # a config value every item reads (config overrides the input of the same name)
    configured = build(flows.module(source), tmp_path / "c", factor=5)
    assert configured.execute(["joined"], inputs={"values": [1, 2]})["joined"] == "1x5,2x5"
    assert sorted(flows.calls()) == ["first-1", "first-2", "second-1", "second-2"]
    # the second node of the block edited: it misses, the first still hits
    edited = build(
        flows.module(source.replace('f"{first[0]!r}x', 'f"{first[0]!r}*')), tmp_path / "c"
    )
    assert run(edited, [1, 2]) == "1*2,2*2"
    assert sorted(flows.calls()) == ["second-1", "second-2"]


def test_an_unreadable_item_hit_is_recomputed_from_its_own_arguments(flows, tmp_path):
    dr = build(flows.module(BLOCK), tmp_path / "c")
    assert run(dr, [1, 2, 3]) == "1x2,2x2,3x2"
    flows.calls()
    versions = dr.cache.data_versions[dr.cache.last_run_id]["first"]
    damaged = sorted(versions.items())[1][1]  # the second item's result
    dr.cache.result_store.delete(damaged)
    # the second node edited: it runs and reads the first node's (lazy) hits
    edited = build(
        flows.module(BLOCK.replace('f"{first[0]!r}x', 'f"{first[0]!r}=')), tmp_path / "c"
    )
    assert run(edited, [1, 2, 3]) == "1=2,2=2,3=2"
    calls = flows.calls()
    assert [c for c in calls if c.startswith("first")] == ["first-2"]
    assert sorted(c for c in calls if c.startswith("second")) == [
        "second-1",
        "second-2",
        "second-3",
    ]


def _record(key: str, node: str, last_used: float) -> MetadataRecord:
    return MetadataRecord(key, "v" + key, node, "code", "run", None, last_used, last_used)


def test_prefetch_lists_entries_and_which_were_used_recently(tmp_path):
    store = SQLiteMetadataStore(tmp_path)
    now = time.time()
    store.set_many(
        [_record("k1", "a", now), _record("k2", "a", now - 7200), _record("k3", "b", now)]
    )
    found = store.prefetch(["a", "b", "c"], 10, now - 3600)
    assert found.versions == {"k1": "vk1", "k2": "vk2", "k3": "vk3"}
    assert found.recent == {"k1", "k3"} and found.complete
    assert store.prefetch(["a"], 10, now - 3600).versions == {"k1": "vk1", "k2": "vk2"}
    assert not store.prefetch(["a", "b"], 2, now - 3600).complete
    store.touch(["k2"], now)
    assert store.prefetch(["a"], 10, now - 3600).recent == {"k1", "k2"}


def test_prefetch_reads_only_an_index_and_old_databases_get_it(tmp_path):
    db = sqlite3.connect(tmp_path / "metadata_store.db")
    db.execute(
        "CREATE TABLE cache_metadata (cache_key TEXT PRIMARY KEY, data_version TEXT NOT NULL, "
        "node_name TEXT NOT NULL, code_version TEXT NOT NULL, run_id TEXT, created REAL NOT "
        "NULL, last_used REAL NOT NULL)"
    )
    db.execute("CREATE INDEX metadata_node ON cache_metadata (node_name)")
    db.execute("INSERT INTO cache_metadata VALUES ('k', 'v', 'a', 'c', 'r', 1.0, 1.0)")
    db.commit()
    db.close()
    store = SQLiteMetadataStore(tmp_path)
    assert store.prefetch(["a"], 10, 0.0).versions == {"k": "v"}
    db = sqlite3.connect(tmp_path / "metadata_store.db")
    indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "metadata_node_entries" in indexes and "metadata_node" not in indexes
    for sql in (
        "SELECT cache_key, data_version FROM cache_metadata WHERE node_name IN (?, ?)",
        "SELECT cache_key FROM cache_metadata WHERE node_name IN (?, ?) AND last_used <= ?",
    ):
        plan = " ".join(
            str(row) for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", (1, 2, 3)[: sql.count("?")])
        )
        assert "COVERING INDEX metadata_node_entries" in plan, plan
    db.close()


def test_prefetch_answers_again_only_while_nothing_changed_the_database(tmp_path):
    store, other = SQLiteMetadataStore(tmp_path), SQLiteMetadataStore(tmp_path)
    now = time.time()
    store.set_many([_record("k1", "a", now), _record("k2", "a", now)])
    assert store.prefetch(["a"], 10, now - 3600).versions == {"k1": "vk1", "k2": "vk2"}
    # another connection (or process) commits: read again
    other.delete("k1")
    other.set_many([_record("k3", "a", now)])
    assert store.prefetch(["a"], 10, now - 3600).versions == {"k2": "vk2", "k3": "vk3"}
    # a write through this store: read again
    store.delete("k2")
    assert store.prefetch(["a"], 10, now - 3600).versions == {"k3": "vk3"}
    # what a caller does with an answer does not change the next one
    store.prefetch(["a"], 10, now - 3600).versions.clear()
    assert store.prefetch(["a"], 10, now - 3600).versions == {"k3": "vk3"}
    # an hour later, "recently used" is asked again
    assert store.prefetch(["a"], 10, now - 3600).recent == {"k3"}
    assert store.prefetch(["a"], 10, now + 1).recent == set()


def test_a_driver_sees_entries_removed_by_another_process_between_runs(flows, tmp_path):
    dr = build(flows.module(BLOCK), tmp_path / "c")
    assert run(dr, [1, 2]) == "1x2,2x2"
    assert run(dr, [1, 2]) == "1x2,2x2"
    flows.calls()
    other = SQLiteMetadataStore(tmp_path / "c")
    other.delete_many([e.cache_key for e in other.entries() if e.node_name == "second"])
    assert run(dr, [1, 2]) == "1x2,2x2"
    assert sorted(flows.calls()) == ["second-1", "second-2"]


def test_logs_of_finished_runs_are_left_out_of_garbage_collection(flows, tmp_path):
    dr = build(flows.module(BLOCK), tmp_path / "c")
    run(dr, [1, 2])
    run(dr, [1, 2])
    log = dr.cache.history.log(None)
    gc.collect()  # untracks the events,
    gc.collect()  # then the tuple holding only them
    assert not gc.is_tracked(log.events)  # a driver keeps 64 such logs: never walked
    assert len(log.events) > 8
    logs = dr.cache.logs(run_id=dr.cache.last_run_id, level="debug")
    assert sum(1 for key in logs if isinstance(key, tuple) and key[0] == "second") == 2
    log.add("adapter", CachingEventType.EXECUTE_NODE.value, "second", msg="after the run")
    assert log.events[-1][3:6] == ("second", None, "after the run")
