"""Loaders miss when what they read changes; @cache(format=...) stores through savers."""

from __future__ import annotations

import json
import os

import pandas as pd

from cayley import driver
from cayley.caching import CachingEventType
from tests.caching.conftest import RECORD

LOADING = (
    RECORD
    + """
from cayley.function_modifiers import dataloader, load_from, source

@load_from.json(path=source("path"))
def total(data: dict) -> int:
    _record("total")
    return sum(data.values())

@dataloader()
def remote(day: int) -> tuple[dict, dict]:
    _record("remote")
    return {"day": day % 2}, {"source": "somewhere"}

def parity(remote: dict) -> int:
    _record("parity")
    return remote["day"]
"""
)


def executed(dr):
    logs = dr.cache.logs(run_id=dr.cache.last_run_id)
    return sorted(
        n
        for n, events in logs.items()
        if any(e.event_type == CachingEventType.EXECUTE_NODE for e in events)
    )


def test_a_loader_misses_when_its_file_changes(flows, tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"a": 1, "b": 2}))
    module = flows.module(LOADING)
    dr = driver.Builder().with_modules(module).with_cache(path=tmp_path / "c").build()
    inputs = {"path": str(path)}
    assert dr.execute(["total"], inputs=inputs) == {"total": 3}
    assert flows.calls() == ["total"]
    assert dr.execute(["total"], inputs=inputs) == {"total": 3}
    assert flows.calls() == [] and executed(dr) == []
    path.write_text(json.dumps({"a": 1, "b": 5}))
    assert dr.execute(["total"], inputs=inputs) == {"total": 6}
    assert flows.calls() == ["total"]
    # rewritten with the same content: read again, and what depends on it hits
    stat = path.stat()
    path.write_text(json.dumps({"a": 1, "b": 5}))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert dr.execute(["total"], inputs=inputs) == {"total": 6}
    assert flows.calls() == []
    assert "total.load_data.data" in executed(dr)


def test_a_loader_that_cannot_tell_runs_every_time(flows, tmp_path):
    module = flows.module(LOADING)
    dr = driver.Builder().with_modules(module).with_cache(path=tmp_path / "c").build()
    assert dr.execute(["parity"], inputs={"day": 1}) == {"parity": 1}
    assert flows.calls() == ["remote", "parity"]
    assert dr.execute(["parity"], inputs={"day": 3}) == {"parity": 1}
    assert flows.calls() == ["remote"]  # same data: parity hits
    logs = dr.cache.logs(run_id=dr.cache.last_run_id)
    reads = [n for n in logs if n != "remote" and n != "parity"]
    assert len(reads) == 1
    assert "changes cannot be detected" in logs[reads[0]][0].msg


def test_builder_settings_name_a_loader_by_what_it_loads(flows, tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"a": 1}))
    module = flows.module(LOADING)
    dr = (
        driver.Builder()
        .with_modules(module)
        .with_cache(path=tmp_path / "c", recompute=["data"])
        .build()
    )
    dr.execute(["total"], inputs={"path": str(path)})
    dr.execute(["total"], inputs={"path": str(path)})
    assert executed(dr) == ["total.load_data.data", "total.select_data.data"]
    assert flows.calls() == ["total"]


FORMATTED = (
    RECORD
    + """
import pandas as pd
from cayley.function_modifiers import cache

@cache(format="parquet")
def frame(n: int) -> pd.DataFrame:
    _record("frame")
    return pd.DataFrame({"x": list(range(n))})

@cache(format="json")
def mapping(n: int) -> dict:
    _record("mapping")
    return {"n": n}

def rows(frame: pd.DataFrame, mapping: dict) -> int:
    _record("rows")
    return len(frame) + mapping["n"]
"""
)


def test_cache_format_stores_through_the_formats_saver(flows, tmp_path):
    module = flows.module(FORMATTED)
    dr = driver.Builder().with_modules(module).with_cache(path=tmp_path / "c").build()
    first = dr.execute(["frame", "mapping"], inputs={"n": 3})
    assert flows.calls() == ["frame", "mapping"]
    results = tmp_path / "c" / "results"
    assert len(list(results.glob("*.parquet"))) == 1 and len(list(results.glob("*.json"))) == 1
    second = dr.execute(["frame", "mapping"], inputs={"n": 3})
    assert flows.calls() == []
    pd.testing.assert_frame_equal(second["frame"], first["frame"])
    assert second["mapping"] == {"n": 3}
    assert dr.execute(["rows"], inputs={"n": 3}) == {"rows": 6}
    assert flows.calls() == ["rows"]
    version = dr.cache.data_versions[dr.cache.run_ids[0]]["mapping"]
    assert dr.cache.result_store.get(version) == {"n": 3}
