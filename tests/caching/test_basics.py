"""A second run reuses results; what changes (inputs, overrides, code) misses."""

from __future__ import annotations

import pytest

from cayley import driver
from cayley.caching import CachedResult, CachingEventType
from tests.caching.conftest import RECORD

CHAIN = (
    RECORD
    + """
def a(x: int) -> int:
    _record("a")
    return x + 1

def b(a: int) -> int:
    _record("b")
    return a * 2

def c(b: int, a: int) -> int:
    _record("c")
    return b + a
"""
)


def build(module, path, **kwargs):
    return driver.Builder().with_modules(module).with_cache(path=path, **kwargs).build()


def test_second_run_retrieves_every_node(flows, tmp_path):
    dr = build(flows.module(CHAIN), tmp_path / "cache")
    assert dr.execute(["c"], inputs={"x": 1}) == {"c": 6}
    assert flows.calls() == ["a", "b", "c"]
    assert dr.execute(["c"], inputs={"x": 1}) == {"c": 6}
    assert flows.calls() == []
    logs = dr.cache.logs(run_id=dr.cache.last_run_id)
    assert {name: [e.event_type for e in events] for name, events in logs.items()} == {
        "a": [CachingEventType.GET_RESULT],
        "b": [CachingEventType.GET_RESULT],
        "c": [CachingEventType.GET_RESULT],
    }


def test_new_driver_and_new_process_state_reuse_the_directory(flows, tmp_path):
    module = flows.module(CHAIN)
    build(module, tmp_path / "cache").execute(["c"], inputs={"x": 1})
    flows.calls()
    again = build(module, tmp_path / "cache")
    assert again.execute(["c"], inputs={"x": 1}) == {"c": 6}
    assert flows.calls() == []


def test_changed_input_reruns_what_depends_on_it(flows, tmp_path):
    dr = build(flows.module(CHAIN), tmp_path / "cache")
    dr.execute(["c"], inputs={"x": 1})
    flows.calls()
    assert dr.execute(["c"], inputs={"x": 2}) == {"c": 9}
    assert flows.calls() == ["a", "b", "c"]


def test_override_enters_the_keys(flows, tmp_path):
    dr = build(flows.module(CHAIN), tmp_path / "cache")
    dr.execute(["c"], inputs={"x": 1})
    flows.calls()
    assert dr.execute(["c"], inputs={"x": 1}, overrides={"b": 100}) == {"c": 102}
    assert flows.calls() == ["c"]
    # an override equal to the computed value is the same data: a hit
    assert dr.execute(["c"], inputs={"x": 1}, overrides={"b": 4}) == {"c": 6}
    assert flows.calls() == []


def test_unneeded_hits_are_not_loaded(flows, tmp_path):
    dr = build(flows.module(CHAIN), tmp_path / "cache")
    dr.execute(["c"], inputs={"x": 1})
    loaded = []
    store = dr.cache.result_store
    original = store.get

    def spy(version, **kwargs):
        loaded.append(version)
        return original(version, **kwargs)

    store.get = spy
    assert dr.execute(["c"], inputs={"x": 1}) == {"c": 6}
    versions = dr.cache.data_versions[dr.cache.last_run_id]
    assert loaded == [versions["c"]]  # only the requested output


def test_a_miss_loads_the_hits_it_consumes(flows, tmp_path):
    module = flows.module(CHAIN)
    dr = build(module, tmp_path / "cache")
    dr.execute(["b"], inputs={"x": 1})
    flows.calls()
    assert dr.execute(["c"], inputs={"x": 1}) == {"c": 6}
    assert flows.calls() == ["c"]


def test_requested_outputs_are_values_not_placeholders(flows, tmp_path):
    dr = build(flows.module(CHAIN), tmp_path / "cache")
    dr.execute(["a", "b", "c"], inputs={"x": 1})
    result = dr.execute(["a", "b", "c"], inputs={"x": 1})
    assert result == {"a": 2, "b": 4, "c": 6}
    assert not any(isinstance(v, CachedResult) for v in result.values())


def test_driver_cache_properties(flows, tmp_path):
    dr = build(flows.module(CHAIN), tmp_path / "cache")
    dr.execute(["c"], inputs={"x": 1})
    run = dr.cache.last_run_id
    assert dr.cache.run_ids == [run]
    assert set(dr.cache.data_versions[run]) == {"a", "b", "c"}
    assert set(dr.cache.cache_keys[run]) == {"a", "b", "c"}
    assert set(dr.cache.code_versions[run]) == {"a", "b", "c"}
    assert {n: b.name for n, b in dr.cache.behaviors[run].items()} == {
        "a": "DEFAULT",
        "b": "DEFAULT",
        "c": "DEFAULT",
    }
    stored = dr.cache.metadata_store.get_run(run)
    assert {e["node_name"] for e in stored} == {"a", "b", "c"}
    assert dr.cache.result_store.exists(dr.cache.data_versions[run]["c"])


DEFAULTED = (
    RECORD
    + """
def shifted(x: int, k: int = 3) -> int:
    _record("shifted")
    return x + k
"""
)


def test_a_default_and_the_same_value_passed_share_a_key(flows, tmp_path):
    dr = build(flows.module(DEFAULTED), tmp_path / "cache")
    assert dr.execute(["shifted"], inputs={"x": 1}) == {"shifted": 4}
    assert dr.execute(["shifted"], inputs={"x": 1, "k": 3}) == {"shifted": 4}
    assert flows.calls() == ["shifted"]
    assert dr.execute(["shifted"], inputs={"x": 1, "k": 4}) == {"shifted": 5}
    assert flows.calls() == ["shifted"]


def test_a_failing_node_is_logged_and_stores_nothing(flows, tmp_path):
    module = flows.module(CHAIN.replace("return a * 2", 'raise ValueError("b broke")'))
    dr = build(module, tmp_path / "cache")
    with pytest.raises(ValueError, match="b broke"):
        dr.execute(["c"], inputs={"x": 1})
    events = dr.cache.logs(run_id=dr.cache.last_run_id, level="debug")["b"]
    assert CachingEventType.FAILED_EXECUTION in [e.event_type for e in events]
    assert [e.node_name for e in dr.cache.metadata_store.entries()] == ["a"]


def test_other_adapters_see_real_values_not_placeholders(flows, tmp_path):
    from cayley.lifecycle import NodeExecutionHook

    class Seen(NodeExecutionHook):
        def __init__(self):
            self.results = {}

        def run_before_node_execution(self, **kwargs):
            pass

        def run_after_node_execution(self, *, node_name, result, **kwargs):
            self.results[node_name] = result

    seen = Seen()
    module = flows.module(CHAIN)
    dr = (
        driver.Builder()
        .with_modules(module)
        .with_cache(path=tmp_path / "cache")
        .with_adapters(seen)
        .build()
    )
    dr.execute(["c"], inputs={"x": 1})
    seen.results.clear()
    flows.calls()
    assert dr.execute(["c"], inputs={"x": 1}) == {"c": 6}
    assert flows.calls() == []  # all hits, loaded so the hook sees their values
    assert seen.results == {"a": 2, "b": 4, "c": 6}
