"""The shortcuts a warm fan-out takes never turn a changed item, code or config into a hit."""

from __future__ import annotations

import sqlite3
import time

from cayley.caching.stores import SQLiteMetadataStore
from cayley.caching.stores.base import MetadataRecord


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
