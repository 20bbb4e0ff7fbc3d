"""The viewer's JSON API and event streams, served on a free port, over real recorded runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cayley import driver
from cayley.tracking import RunTracker, queries
from cayley.tracking.viewer import ViewerServer, serve
from tests.tracking import flows
from tests.tracking.conftest import build, nodes_of

ROOT = Path(__file__).resolve().parents[2]
RUN_FIELDS = {"run_id", "project", "status", "started", "ended", "outputs"}


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api") / "runs.db"


@pytest.fixture(scope="module")
def viewer(store_file: Path) -> Iterator[ViewerServer]:
    with ViewerServer(store_file) as server:
        yield server


@pytest.fixture(scope="module")
def client(viewer: ViewerServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=viewer.url, timeout=10) as session:
        yield session


def record(store_file: Path, project: str, kind: str, outputs: list[str], **inputs: Any) -> None:
    """Runs the flows once with a tracker of ``project``; failures are recorded, not raised."""
    tracker = RunTracker(store_file, project=project)
    try:
        build(kind, tracker).execute(outputs, inputs=inputs)
    except ValueError:
        pass
    finally:
        tracker.close()


def test_the_run_list_is_newest_first_and_filters(client, store_file):
    record(store_file, "list", "plain", ["shown"], x=1, fail=False)
    record(store_file, "list", "plain", ["shown"], x=2, fail=True)
    record(store_file, "list", "threads", ["joined"], n=5, bad_item=-1)
    runs = client.get("/api/runs", params={"project": "list"}).json()
    assert len(runs) == 3
    assert all(RUN_FIELDS <= set(run) for run in runs)
    assert [run["status"] for run in runs] == ["success", "failed", "success"]
    assert [run["outputs"] for run in runs] == [["joined"], ["shown"], ["shown"]]
    assert [run["started"] for run in runs] == sorted((r["started"] for r in runs), reverse=True)
    assert all(run["ended"] >= run["started"] for run in runs)
    failed = client.get("/api/runs", params={"project": "list", "status": "failed"}).json()
    assert [run["outputs"] for run in failed] == [["shown"]]
    assert "list" in client.get("/api/projects").json()
    wrong = client.get("/api/runs", params={"status": "done"})
    assert wrong.status_code == 400
    assert "running, success, failed" in wrong.json()["error"]


def test_a_run_has_nodes_edges_statuses_and_the_error(client, store_file):
    record(store_file, "detail", "plain", ["exclaimed"], x=4, fail=True)
    (summary,) = client.get("/api/runs", params={"project": "detail"}).json()
    run = client.get(f"/api/runs/{summary['run_id']}").json()
    assert run["status"] == "failed"
    statuses = {node["name"]: node["status"] for node in run["nodes"]}
    assert statuses == {
        "x": "input",
        "fail": "input",
        "doubled": "success",
        "shown": "failed",
        "exclaimed": "skipped",
    }
    nodes = nodes_of(run)
    assert nodes["doubled"]["duration_s"] >= 0 and nodes["doubled"]["error"] is None
    assert nodes["shown"]["error"]["message"] == "cannot show 8"
    assert sorted(map(tuple, run["edges"])) == [
        ("doubled", "shown"),
        ("fail", "shown"),
        ("shown", "exclaimed"),
        ("x", "doubled"),
    ]
    assert run["error"]["node"] == "shown"
    assert "cannot show 8" in run["error"]["traceback"]
    missing = client.get("/api/runs/no-such-run")
    assert missing.status_code == 404 and "no-such-run" in missing.json()["error"]


def test_fan_outs_on_threads_and_processes_show_blocks_and_items(client, store_file):
    record(store_file, "fan-threads", "threads", ["joined"], n=9, bad_item=4)
    record(store_file, "fan-fork", "fork", ["joined"], n=6, bad_item=-1)
    (failed,) = client.get("/api/runs", params={"project": "fan-threads"}).json()
    run = client.get(f"/api/runs/{failed['run_id']}").json()
    assert run["error"]["item"] == "item 4 of 'items'"
    (block,) = run["blocks"]
    assert (block["expander"], block["failed"], block["complete"]) == ("items", 1, True)
    assert block["nodes"] == ["squared", "labelled"]
    items = client.get(f"/api/runs/{run['run_id']}/nodes/squared/items").json()
    assert items[0]["status"] == "failed" and items[0]["item"] == "item 4 of 'items'"
    assert "item 4 is bad" in items[0]["error"]
    (forked,) = client.get("/api/runs", params={"project": "fan-fork"}).json()
    run = client.get(f"/api/runs/{forked['run_id']}").json()
    assert run["status"] == "success"
    assert {node["name"]: node["status"] for node in run["nodes"]}["joined"] == "success"


def events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """Server-sent events of a streamed response: (event, parsed data)."""
    name, data = None, []
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            data.append(line[len("data: ") :])
        elif not line and name is not None:
            yield name, json.loads("\n".join(data))
            name, data = None, []


def test_a_running_run_streams_its_changes_until_it_ends(client, store_file):
    flows.GATE.clear()
    tracker = RunTracker(store_file, project="live")
    dr = driver.Builder().with_modules(flows).with_adapters(tracker).build()
    outcome: dict[str, Any] = {}
    runner = threading.Thread(
        target=lambda: outcome.update(dr.execute(["after_wait"], inputs={"start": 1}))
    )
    runner.start()
    try:
        run_id = None
        for _ in range(200):
            listed = client.get("/api/runs", params={"project": "live"}).json()
            if listed:
                run_id = listed[0]["run_id"]
                break
            threading.Event().wait(0.05)
        assert run_id is not None
        seen = []
        with client.stream("GET", f"/api/runs/{run_id}/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for name, run in events(response):
                assert name == "run"
                statuses = {node["name"]: node["status"] for node in run["nodes"]}
                seen.append((run["status"], statuses["waiting"], statuses["after_wait"]))
                if statuses["waiting"] == "running":
                    flows.GATE.set()
        assert seen[0][0] == "running"
        assert ("running", "running", "pending") in seen
        assert seen[-1] == ("success", "success", "success")
    finally:
        flows.GATE.set()
        runner.join(30)
        tracker.close()
    assert outcome == {"after_wait": 20}


def test_a_run_whose_process_stopped_recording_is_reported_failed(client, store_file, monkeypatch):
    tracker = RunTracker(store_file, project="abandoned")
    dr = build("plain")
    tracker.pre_graph_execute(
        run_id="abandoned-1",
        graph=dr.graph,
        final_vars=["doubled"],
        inputs={"x": 1},
        overrides={},
        execution_path=["doubled"],
    )
    tracker.flush()
    try:
        assert client.get("/api/runs/abandoned-1").json()["status"] == "running"
        monkeypatch.setattr(queries, "STALE_AFTER_S", -1.0)
        run = client.get("/api/runs/abandoned-1").json()
        assert run["status"] == "failed"
        assert run["error"]["type"] == "Abandoned"
        assert f"process {os.getpid()}" in run["error"]["message"]
        assert nodes_of(run)["doubled"]["status"] == "skipped"
        listed = client.get("/api/runs", params={"project": "abandoned", "status": "failed"})
        assert [r["run_id"] for r in listed.json()] == ["abandoned-1"]
        running = client.get("/api/runs", params={"project": "abandoned", "status": "running"})
        assert running.json() == []
    finally:
        tracker.post_graph_execute(
            run_id="abandoned-1", graph=dr.graph, success=True, error=None, results={}
        )
        tracker.close()


def test_pages_and_vendored_assets_are_served(client):
    index = client.get("/")
    assert index.status_code == 200 and "/static/runs.js" in index.text
    page = client.get("/runs/any-id")
    assert page.status_code == 200 and "/static/vendor/cytoscape.min.js" in page.text
    for asset in ("vendor/cytoscape.min.js", "vendor/cytoscape-dagre.min.js", "run.js"):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200 and len(response.content) > 1000, asset


def test_the_viewer_serves_on_loopback_only(tmp_path):
    with pytest.raises(ValueError, match="loopback"):
        serve(str(tmp_path / "runs.db"), port=0, host="0.0.0.0")
    with pytest.raises(ValueError, match="loopback"):
        ViewerServer(tmp_path / "runs.db", host="192.168.1.4")


def test_the_module_runs_as_a_command():
    done = subprocess.run(
        [sys.executable, "-m", "cayley.tracking.viewer", "--help"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--store" in done.stdout and "--port" in done.stdout
