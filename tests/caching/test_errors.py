"""Damaged, missing or unwritable caches never give a wrong value or a crash."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from cayley import driver
from cayley.caching.stores import CacheDirectoryError, FileResultStore, SQLiteMetadataStore
from tests.caching.conftest import RECORD

FLOW = (
    RECORD
    + """
def big(n: int) -> bytes:
    _record("big")
    return bytes(range(256)) * n

def small(n: int) -> int:
    _record("small")
    return n + 1

def both(big: bytes, small: int) -> int:
    _record("both")
    return len(big) + small
"""
)


def build(module, path):
    return driver.Builder().with_modules(module).with_cache(path=path).build()


def test_an_unwritable_cache_directory_is_a_clear_error_at_build(flows, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a directory")
    with pytest.raises(CacheDirectoryError, match="Cannot create the cache directory"):
        build(flows.module(FLOW), blocker / "cache")
    with pytest.raises(CacheDirectoryError):
        FileResultStore(blocker / "results")
    with pytest.raises(CacheDirectoryError):
        SQLiteMetadataStore(blocker / "meta")


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_a_damaged_result_file_is_recomputed_with_a_warning(flows, tmp_path, damage):
    dr = build(flows.module(FLOW), tmp_path / "c")
    assert dr.execute(["big"], inputs={"n": 1000}) == {"big": bytes(range(256)) * 1000}
    flows.calls()
    version = dr.cache.data_versions[dr.cache.last_run_id]["big"]
    path = tmp_path / "c" / "results" / version
    raw = bytearray(path.read_bytes())
    if damage == "flip":
        raw[len(raw) // 2] ^= 0x01  # still unpickles, to a different value
    elif damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw = bytearray(b"garbage")
    path.write_bytes(bytes(raw))
    with pytest.warns(RuntimeWarning, match="recomputed"):
        assert dr.execute(["big"], inputs={"n": 1000}) == {"big": bytes(range(256)) * 1000}
    assert flows.calls() == ["big"]
    # stored again, intact
    assert dr.execute(["big"], inputs={"n": 1000}) == {"big": bytes(range(256)) * 1000}
    assert flows.calls() == []


def test_a_damaged_result_a_running_node_needs_is_recomputed(flows, tmp_path):
    dr = build(flows.module(FLOW), tmp_path / "c")
    dr.execute(["big", "small"], inputs={"n": 1000})
    flows.calls()
    version = dr.cache.data_versions[dr.cache.last_run_id]["big"]
    path = tmp_path / "c" / "results" / version
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.warns(RuntimeWarning, match="recomputed"):
        assert dr.execute(["both"], inputs={"n": 1000}) == {"both": 256 * 1000 + 1001}
    assert flows.calls() == ["big", "both"]


def test_missing_results_are_recomputed(flows, tmp_path):
    dr = build(flows.module(FLOW), tmp_path / "c")
    dr.execute(["both"], inputs={"n": 1000})
    flows.calls()
    dr.cache.result_store.delete_all()
    assert dr.execute(["both"], inputs={"n": 1000}) == {"both": 256 * 1000 + 1001}
    assert sorted(flows.calls()) == ["big", "both", "small"]
    assert dr.execute(["both"], inputs={"n": 1000}) == {"both": 256 * 1000 + 1001}
    assert flows.calls() == []


def test_a_small_result_damaged_in_the_table_is_recomputed(flows, tmp_path):
    import sqlite3

    dr = build(flows.module(FLOW), tmp_path / "c")
    dr.execute(["small"], inputs={"n": 1})
    flows.calls()
    db = sqlite3.connect(tmp_path / "c" / "results" / "inline_results.db")
    db.execute("UPDATE results SET blob = substr(blob, 1, length(blob) - 3)")
    db.commit()
    db.close()
    with pytest.warns(RuntimeWarning, match="recomputed"):
        assert dr.execute(["small"], inputs={"n": 1}) == {"small": 2}
    assert flows.calls() == ["small"]


def test_a_result_that_cannot_be_stored_warns_and_the_run_goes_on(flows, tmp_path):
    dr = build(flows.module(FLOW), tmp_path / "c")
    results = tmp_path / "c" / "results"

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    dr.cache.result_store.set = refuse
    with pytest.warns(RuntimeWarning, match="could not store the result of node"):
        assert dr.execute(["both"], inputs={"n": 10}) == {"both": 2571}
    assert not any(p.name != "inline_results.db" for p in results.iterdir())


WRITER = """
import sys
sys.path[:0] = [{root!r}, {flows!r}]
from cayley import driver
import {module} as flow
dr = driver.Builder().with_modules(flow).with_cache(path={cache!r}).build()
for n in range(40):
    out = dr.execute(["both"], inputs={{"n": n % 20}})
    assert out == {{"both": 256 * (n % 20) + n % 20 + 1}}, out
"""


def test_two_processes_share_one_cache_directory(flows, tmp_path):
    module = flows.module(FLOW)
    root = os.getcwd()
    script = textwrap.dedent(
        WRITER.format(
            root=root, flows=str(flows.root), module=module.__name__, cache=str(tmp_path / "c")
        )
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    calls = flows.calls()
    # every (node, n) computed at most once per process, and everything is cached now
    assert calls.count("both") <= 40
    dr = build(module, tmp_path / "c")
    for n in range(20):
        assert dr.execute(["both"], inputs={"n": n}) == {"both": 256 * n + n + 1}
    assert flows.calls() == []
    entries = dr.cache.metadata_store.entries()
    assert {e.node_name for e in entries} == {"big", "small", "both"}
    assert len(entries) == 60
