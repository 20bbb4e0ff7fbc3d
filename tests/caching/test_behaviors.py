"""DEFAULT, RECOMPUTE, DISABLE and IGNORE, chosen by the builder or by @cache."""

from __future__ import annotations

import pytest

from cayley import driver
from cayley.caching import CachingBehavior
from tests.caching.conftest import RECORD

FLOW = (
    RECORD
    + """
from cayley.function_modifiers import cache

def client(url: str) -> dict:
    _record("client")
    return {"url": url, "session": len(url)}

def raw(client: dict, day: int) -> int:
    _record("raw")
    return day * 10

def clean(raw: int) -> int:
    _record("clean")
    return raw // 10

def report(clean: int) -> str:
    _record("report")
    return f"day {clean}"

@cache(behavior="recompute")
def tagged(clean: int) -> int:
    _record("tagged")
    return clean
"""
)


def runs(flows, tmp_path, outputs=("report",), inputs=None, **settings):
    """Executes twice; returns the nodes each run executed and the driver."""
    module = flows.module(FLOW)
    dr = driver.Builder().with_modules(module).with_cache(path=tmp_path / "c", **settings).build()
    inputs = inputs or {"url": "db://x", "day": 3}
    executed = []
    for _ in range(2):
        dr.execute(list(outputs), inputs=inputs)
        executed.append(flows.calls())
    return executed, dr


def test_default_everything_hits_the_second_time(flows, tmp_path):
    executed, _ = runs(flows, tmp_path)
    assert executed == [["client", "raw", "clean", "report"], []]


def test_recompute_runs_the_node_and_dependents_hit_on_equal_values(flows, tmp_path):
    executed, dr = runs(flows, tmp_path, recompute=["raw"])
    assert executed[1] == ["raw"]
    assert dr.cache.behaviors[dr.cache.last_run_id]["raw"] is CachingBehavior.RECOMPUTE


def test_disable_never_stores_but_versions_its_result(flows, tmp_path):
    executed, dr = runs(flows, tmp_path, disable=["clean"])
    assert executed[1] == ["clean"]  # report still hits: clean returned the same value
    run = dr.cache.last_run_id
    assert "clean" in dr.cache.data_versions[run]
    assert "clean" not in dr.cache.cache_keys[run]
    assert "clean" not in {e["node_name"] for e in dr.cache.metadata_store.get_run(run)}


def test_ignore_leaves_the_node_out_of_downstream_keys(flows, tmp_path):
    executed, _ = runs(flows, tmp_path, ignore=["client"])
    assert executed[1] == ["client"]
    module = flows.module(FLOW)
    dr = (
        driver.Builder()
        .with_modules(module)
        .with_cache(path=tmp_path / "c", ignore=["client"])
        .build()
    )
    # a different client (another url) does not change raw's key: it is ignored
    dr.execute(["report"], inputs={"url": "db://other", "day": 3})
    assert flows.calls() == ["client"]


def test_ignoring_an_input_is_the_documented_risk(flows, tmp_path):
    """IGNORE leaves a value out of its consumers' keys, so they do not see it change."""
    module = flows.module(FLOW)
    dr = (
        driver.Builder()
        .with_modules(module)
        .with_cache(path=tmp_path / "c", ignore=["url"])
        .build()
    )
    assert dr.execute(["client"], inputs={"url": "a", "day": 3}) == {
        "client": {"url": "a", "session": 1}
    }
    flows.calls()
    assert dr.execute(["client"], inputs={"url": "bb", "day": 3}) == {
        "client": {"url": "a", "session": 1}
    }
    assert flows.calls() == []


def test_tag_applies_and_builder_settings_beat_it(flows, tmp_path):
    executed, _ = runs(flows, tmp_path, outputs=("tagged",))
    assert executed[1] == ["tagged"]  # @cache(behavior="recompute")
    executed, dr = runs(flows, tmp_path / "b", outputs=("tagged",), default=["tagged"])
    assert executed[1] == []
    assert dr.cache.behaviors[dr.cache.last_run_id]["tagged"] is CachingBehavior.DEFAULT


def test_true_applies_to_every_node_and_names_are_more_specific(flows, tmp_path):
    executed, _ = runs(flows, tmp_path, recompute=True, default=["client"])
    assert executed[1] == ["raw", "clean", "report"]


def test_default_behavior(flows, tmp_path):
    executed, _ = runs(flows, tmp_path, default_behavior="disable", default=["raw"])
    assert executed[1] == ["client", "clean", "report"]


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"recompute": True, "disable": True}, "only one of"),
        ({"recompute": ["raw"], "disable": ["raw"]}, "listed under both"),
        ({"recompute": "raw"}, "got the string 'raw'"),
        ({"default_behavior": "sometimes"}, "not a caching behavior"),
        ({"ignore": ["rwa"]}, "not in the graph"),
    ],
)
def test_bad_settings_are_clear_errors(flows, tmp_path, settings, message):
    module = flows.module(FLOW)
    with pytest.raises((ValueError, TypeError), match=message):
        driver.Builder().with_modules(module).with_cache(path=tmp_path / "c", **settings).build()


def test_with_cache_twice_is_an_error(tmp_path):
    builder = driver.Builder().with_cache(path=tmp_path / "c")
    with pytest.raises(ValueError, match="already"):
        builder.with_cache(path=tmp_path / "d")


def test_driver_without_cache_says_how_to_add_one(flows):
    dr = driver.Builder().with_modules(flows.module(FLOW)).build()
    with pytest.raises(KeyError, match="with_cache"):
        dr.cache  # noqa: B018
