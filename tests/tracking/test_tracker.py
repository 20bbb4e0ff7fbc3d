"""RunTracker records real runs: success, failure, rejection, fan-outs on every executor."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cayley import driver
from cayley.graph_types import hash_source_code
from cayley.tracking import RunTracker, writer
from tests.tracking import flows
from tests.tracking.conftest import build, nodes_of, only_run

ROOT = Path(__file__).resolve().parents[2]
MAIN = f"{os.getpid()}:MainThread"


def test_a_successful_run_is_stored_when_execute_returns(tracker, store):
    dr = driver.Builder().with_modules(flows).with_adapters(tracker).build()
    before = time.time()
    assert dr.execute(["shown"], inputs={"x": 3, "fail": False}) == {"shown": "<6>"}
    run = only_run(store)  # no wait: execute returned, so the run is in the database

    assert run["status"] == "success"
    assert run["project"] == "tests"
    assert run["outputs"] == ["shown"]
    assert run["inputs"] == {"x": "int", "fail": "bool"}
    assert run["error"] is None
    assert before - 1 <= run["duration_s"] + before <= time.time() + 1
    nodes = nodes_of(run)
    assert set(nodes) == {"x", "fail", "doubled", "shown"}  # `exclaimed` was not requested
    assert nodes["x"]["status"] == nodes["fail"]["status"] == "input"
    doubled = nodes["doubled"]
    assert doubled["status"] == "success"
    assert doubled["type"] == "int"
    assert doubled["documentation"] == "Twice x."
    assert doubled["source"].startswith("def doubled(x: int) -> int:")
    assert doubled["version"] == hash_source_code(flows.doubled, strip=True)
    assert doubled["worker"] == MAIN
    assert 0 <= doubled["duration_s"] < 1
    assert nodes["shown"]["tags"]["owner"] == "data"
    assert sorted(run["edges"]) == [["doubled", "shown"], ["fail", "shown"], ["x", "doubled"]]
    lanes = run["timeline"]["workers"]
    assert [lane["worker"] for lane in lanes] == [MAIN]
    assert [span["label"] for span in lanes[0]["spans"]] == ["doubled", "shown"]


def test_a_failed_run_names_the_node_and_keeps_the_traceback(tracker, store):
    dr = driver.Builder().with_modules(flows).with_adapters(tracker).build()
    with pytest.raises(ValueError, match="cannot show 6"):
        dr.execute(["exclaimed"], inputs={"x": 3, "fail": True})
    run = only_run(store)
    assert run["status"] == "failed"
    error = run["error"]
    assert error["type"] == "ValueError"
    assert error["message"] == "cannot show 6"
    assert error["node"] == "shown" and error["item"] is None
    assert 'raise ValueError(f"cannot show {doubled}")' in error["traceback"]
    assert "while computing node 'shown'" in error["traceback"]
    nodes = nodes_of(run)
    assert nodes["doubled"]["status"] == "success"
    assert nodes["shown"]["status"] == "failed"
    assert nodes["shown"]["error"]["message"] == "cannot show 6"
    assert "Traceback" in nodes["shown"]["error"]["traceback"]
    assert nodes["exclaimed"]["status"] == "skipped"


def test_a_run_rejected_before_it_starts_is_recorded_with_the_reason(tracker, store):
    dr = driver.Builder().with_modules(flows).with_adapters(tracker).build()
    with pytest.raises(ValueError) as raised:
        dr.execute(["shown"], inputs={"fail": False})  # x is missing
    run = only_run(store)
    assert run["status"] == "failed"
    assert run["error"]["message"] == str(raised.value)
    assert "x" in run["error"]["message"]
    nodes = nodes_of(run)
    assert {"doubled", "shown"} <= set(nodes)
    assert {nodes["doubled"]["status"], nodes["shown"]["status"]} == {"skipped"}


@pytest.mark.parametrize("kind", ["plain", "sync", "threads"])
def test_fan_out_items_are_counted_timed_and_attributed(kind, tracker, store):
    dr = build(kind, tracker)
    result = dr.execute(["joined"], inputs={"n": 20, "bad_item": -1})
    assert result["joined"] == ",".join(f"#{i * i}" for i in range(20))
    run = only_run(store)
    assert run["status"] == "success"
    nodes = nodes_of(run)
    for name in ("squared", "labelled"):
        node = nodes[name]
        assert node["block"] == "items"
        assert node["status"] == "success"
        items = node["items"]
        assert (items["total"], items["done"], items["failed"], items["running"]) == (20, 20, 0, 0)
        assert sum(items["histogram"]) == 20
        assert 0 < items["min_s"] <= items["max_s"] <= items["sum_s"]
        assert node["duration_s"] == pytest.approx(items["sum_s"])
    assert nodes["items"]["block"] is None and nodes["items"]["is_expander"]
    assert nodes["joined"]["collects"] == ["items"]
    assert run["blocks"] == [
        {
            "expander": "items",
            "parent": None,
            "nodes": ["squared", "labelled"],
            "total": 20,
            "done": 20,
            "failed": 0,
            "running": 0,
            "complete": True,
        }
    ]
    stored = store.items(run["run_id"], "squared")
    assert sorted(row["item"] for row in stored) == sorted(
        f"item {i} of 'items'" for i in range(20)
    )
    assert {row["status"] for row in stored} == {"success"}
    lanes = {lane["worker"]: lane for lane in run["timeline"]["workers"]}
    item_spans = [
        span for lane in lanes.values() for span in lane["spans"] if "of 'items'" in span["label"]
    ]
    if kind == "plain":  # no tasks: each call of a block node is a bar
        assert len(item_spans) == 40 and set(lanes) == {MAIN}
    else:  # one bar per item task
        assert len(item_spans) == 20
        assert all(span["task_id"].startswith("expand-items.") for span in item_spans)
    if kind == "threads":
        assert any(":cayley-task" in worker for worker in lanes)
    assert (
        sum(lane["calls"] for lane in lanes.values()) == 40 + 2
    )  # two block nodes per item, then items and joined


def test_a_failing_item_is_named_in_the_run_and_its_node(tracker, store):
    dr = build("threads", tracker)
    with pytest.raises(ValueError, match="item 7 is bad"):
        dr.execute(["joined"], inputs={"n": 12, "bad_item": 7})
    run = only_run(store)
    assert run["status"] == "failed"
    assert run["error"]["node"] == "squared"
    assert run["error"]["item"] == "item 7 of 'items'"
    nodes = nodes_of(run)
    squared = nodes["squared"]
    assert squared["status"] == "failed"
    assert squared["items"]["failed"] == 1
    assert squared["error"]["item"] == "item 7 of 'items'"
    assert "item 7 is bad" in squared["error"]["traceback"]
    assert nodes["joined"]["status"] == "skipped"
    failed_rows = [row for row in store.items(run["run_id"], "squared") if row["error"]]
    assert [row["item"] for row in failed_rows] == ["item 7 of 'items'"]
    assert run["blocks"][0]["failed"] == 1


def test_large_fan_outs_are_summarised(store_path, store):
    tracker = RunTracker(store_path, item_detail_limit=10, span_limit=15)
    try:
        build("sync", tracker).execute(["joined"], inputs={"n": 400, "bad_item": -1})
    finally:
        tracker.close()
    run = only_run(store)
    squared = nodes_of(run)["squared"]["items"]
    assert (squared["total"], squared["done"], squared["failed"]) == (400, 400, 0)
    assert sum(squared["histogram"]) == 400
    assert len(store.items(run["run_id"], "squared", limit=1000)) == 10
    spans = [span for lane in run["timeline"]["workers"] for span in lane["spans"]]
    assert len(spans) == 15
    assert sum(lane["calls"] for lane in run["timeline"]["workers"]) == 800 + 2


def test_fan_out_on_processes_is_recorded_by_the_workers(tracker, store):
    dr = build("fork", tracker)
    assert dr.execute(["joined"], inputs={"n": 6, "bad_item": -1})["joined"].count("#") == 6
    run = only_run(store)
    assert run["status"] == "success"
    nodes = nodes_of(run)
    assert nodes["items"]["worker"] == nodes["joined"]["worker"] == MAIN
    for name in ("squared", "labelled"):
        items = nodes[name]["items"]
        assert (nodes[name]["status"], items["total"], items["done"]) == ("success", 6, 6)
    stored = store.items(run["run_id"], "squared")
    assert sorted(row["item"] for row in stored) == [f"item {i} of 'items'" for i in range(6)]
    workers = {row["worker"] for row in stored}
    pids = {int(worker.split(":")[0]) for worker in workers}
    assert os.getpid() not in pids and pids  # recorded in the worker processes
    lanes = {lane["worker"]: lane for lane in run["timeline"]["workers"]}
    assert workers <= set(lanes)
    item_bars = [span for lane in lanes.values() for span in lane["spans"] if span["task_id"]]
    assert len([bar for bar in item_bars if bar["task_id"].startswith("expand-")]) == 6


def test_a_failing_item_on_processes_is_named(tracker, store):
    dr = build("fork", tracker)
    with pytest.raises(ValueError, match="item 3 is bad"):
        dr.execute(["joined"], inputs={"n": 6, "bad_item": 3})
    run = only_run(store)
    assert (run["error"]["node"], run["error"]["item"]) == ("squared", "item 3 of 'items'")
    squared = nodes_of(run)["squared"]
    assert squared["status"] == "failed" and squared["items"]["failed"] == 1
    assert "item 3 is bad" in squared["error"]["traceback"]


def test_worker_copies_hand_their_records_to_the_driver(tracker, store):
    dr = build("sync")
    copy = pickle.loads(pickle.dumps(tracker))
    assert (copy.path, copy.project, copy.limits) == (tracker.path, "tests", tracker.limits)
    assert copy.collect_worker_report() is None
    path = ["n", "bad_item", "items", "squared", "labelled", "joined"]
    tracker.pre_graph_execute(
        run_id="r1",
        graph=dr.graph,
        final_vars=["joined"],
        inputs={"n": 2, "bad_item": -1},
        overrides={},
        execution_path=path[2:],
    )
    common = {"node_tags": {}, "node_kwargs": {}, "node_return_type": int, "run_id": "r1"}
    for index in range(2):
        task = f"expand-items.{index}.block-items"
        copy.run_before_node_execution(node_name="squared", task_id=task, **common)
        copy.run_after_node_execution(
            node_name="squared", task_id=task, result=1, error=None, success=True, **common
        )
    report = pickle.loads(pickle.dumps(copy.collect_worker_report()))
    assert report.pid == os.getpid() and len(report.events) == 2
    assert copy.collect_worker_report() is None  # each report carries new records only
    tracker.receive_worker_report(report=report)
    tracker.post_graph_execute(run_id="r1", graph=dr.graph, success=True, error=None, results={})
    run = store.run("r1")
    squared = nodes_of(run)["squared"]
    assert squared["items"]["done"] == 2
    assert [lane["worker"] for lane in run["timeline"]["workers"]] == [MAIN]
    with pytest.raises(TypeError, match="WorkerReport"):
        tracker.receive_worker_report(report={"events": []})


def test_several_processes_record_into_one_store(store_path, store):
    script = (
        "import sys\n"
        "from cayley import driver\n"
        "from cayley.tracking import RunTracker\n"
        "from tests.tracking import flows\n"
        f"tracker = RunTracker({str(store_path)!r}, project=sys.argv[1])\n"
        "dr = driver.Builder().with_modules(flows).with_adapters(tracker).build()\n"
        "for x in range(3):\n"
        "    dr.execute(['shown'], inputs={'x': x, 'fail': False})\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen([sys.executable, "-c", script, f"p{i}"], env=env, cwd=ROOT)
        for i in range(2)
    ]
    assert [child.wait(timeout=60) for child in children] == [0, 0]
    runs = store.list_runs()
    assert len(runs) == 6
    assert {run["status"] for run in runs} == {"success"}
    assert store.projects() == ["p0", "p1"]
    assert len(store.list_runs(project="p1")) == 3
    starts = [run["started"] for run in runs]
    assert starts == sorted(starts, reverse=True)


def test_an_unwritable_store_warns_and_the_run_still_succeeds(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    tracker = RunTracker(blocker / "runs.db")
    dr = driver.Builder().with_modules(flows).with_adapters(tracker).build()
    with pytest.warns(RuntimeWarning) as record:
        assert dr.execute(["doubled"], inputs={"x": 2}) == {"doubled": 4}
        tracker.close()
    messages = [str(warning.message) for warning in record]
    assert any(f"could not store runs in {tracker.path}" in m for m in messages), messages
    assert any("are dropped" in m for m in messages), messages


def test_the_writer_thread_stops_when_idle_and_restarts(tracker, store, monkeypatch):
    monkeypatch.setattr(writer, "_IDLE_EXIT_S", 0.05)
    dr = driver.Builder().with_modules(flows).with_adapters(tracker).build()
    dr.execute(["doubled"], inputs={"x": 1})

    def writers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "cayley-run-tracker"]

    deadline = time.monotonic() + 5
    while writers() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert writers() == []
    dr.execute(["doubled"], inputs={"x": 2})
    assert len(store.list_runs()) == 2


def test_settings_are_checked():
    with pytest.raises(ValueError, match="project"):
        RunTracker(project="")
    with pytest.raises(ValueError, match="span_limit"):
        RunTracker(span_limit=-1)


def test_the_viewer_imports_nothing_of_the_engine():
    code = (
        "import sys, cayley.tracking.viewer, cayley.tracking\n"
        "print(sorted(m for m in sys.modules if m.startswith('cayley.')"
        " and not m.startswith('cayley.tracking')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("kind", ["plain", "threads", "fork"])
def test_retried_attempts_are_counted_but_do_not_fail_the_node(kind, tracker, store):
    flows.FAILED_ONCE.clear()
    dr = build(kind, tracker)
    result = dr.execute(["fetched_all", "flaky"], inputs={"n": 9, "x": 5})
    assert result == {"fetched_all": sum(range(9)), "flaky": 5}
    run = only_run(store)
    assert run["status"] == "success" and run["error"] is None
    nodes = nodes_of(run)
    assert nodes["flaky"]["status"] == "success"
    assert nodes["flaky"]["error"] is None and nodes["flaky"]["retries"] == 1
    fetched = nodes["fetched"]
    assert fetched["status"] == "success" and fetched["error"] is None
    items = fetched["items"]
    assert (items["total"], items["done"], items["failed"], items["retried"]) == (9, 9, 0, 3)
