"""The viewer's pages in headless Chromium: every node drawn in its status colour, live updates.

One browser for the module. A screenshot of a run page is saved to the directory named by
``CAYLEY_TEST_ARTIFACTS`` (the test's temporary directory otherwise).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cayley import driver
from cayley.tracking import RunTracker
from cayley.tracking.viewer import ViewerServer
from tests.tracking import flows
from tests.tracking.conftest import build

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium package (bash .ci/run does) "
        "to run the browser tests",
        allow_module_level=True,
    )

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser") / "runs.db"


@pytest.fixture(scope="module")
def viewer(store_file: Path) -> Iterator[ViewerServer]:
    with ViewerServer(store_file) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1050})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


def artifacts(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("CAYLEY_TEST_ARTIFACTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def api(viewer: ViewerServer, path: str) -> Any:
    return httpx.get(viewer.url + path.lstrip("/"), timeout=10).json()


def css_rgb(color: str) -> str:
    """``#2e9e4f`` as cytoscape reports it: ``rgb(46,158,79)``."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red},{green},{blue})"


def drawn_nodes(page: Any) -> dict[str, dict[str, str]]:
    """Node id -> status and background colour, read from cytoscape in the page."""
    return page.evaluate(
        """() => Object.fromEntries(window.cayleyGraph.nodes("[kind != 'block']").map(
               (node) => [node.id(), {status: node.data("status"),
                                      color: node.style("background-color")}]))"""
    )


def test_the_run_page_draws_every_node_in_its_status_colour(page, viewer, store_file, tmp_path):
    tracker = RunTracker(store_file, project="page")
    with pytest.raises(ValueError):
        build("threads", tracker).execute(["joined"], inputs={"n": 40, "bad_item": 13})
    tracker.close()
    (summary,) = api(viewer, "/api/runs?project=page")
    run = api(viewer, f"/api/runs/{summary['run_id']}")

    page.goto(viewer.url + "runs/" + run["run_id"])
    page.wait_for_function("window.cayleyGraph !== undefined && window.cayleyRun !== undefined")
    colours = page.evaluate("window.cayleyStatusColors")
    drawn = drawn_nodes(page)
    expected = {node["name"]: node["status"] for node in run["nodes"]}
    assert {name: state["status"] for name, state in drawn.items()} == expected
    assert set(expected.values()) == {"input", "success", "failed", "skipped"}
    for name, state in drawn.items():
        assert state["color"] == css_rgb(colours[state["status"]]), name
    block_label = page.evaluate("window.cayleyGraph.getElementById('block:items').data('label')")
    assert "1 failed" in block_label
    parents = page.evaluate(
        """window.cayleyGraph.nodes("[kind != 'block']").map(n => [n.id(), n.parent().id()])"""
    )
    assert dict(parents)["squared"] == "block:items"
    panel = page.locator("#error-panel")
    assert panel.is_visible()
    assert "item 13 is bad" in panel.inner_text()
    assert "item 13 of 'items'" in page.locator("#error-where").inner_text()
    lanes = page.locator("#timeline .lane-label").all_inner_texts()
    assert any("cayley-task" in lane for lane in lanes)
    page.evaluate("() => { window.cayleyGraph.getElementById('squared').emit('tap'); }")
    assert "item 13 is bad" in page.locator("#details").inner_text()
    shot = artifacts(tmp_path) / "run-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_a_live_run_changes_state_without_a_reload(page, viewer, store_file):
    flows.GATE.clear()
    tracker = RunTracker(store_file, project="live-page")
    dr = driver.Builder().with_modules(flows).with_adapters(tracker).build()
    runner = threading.Thread(target=lambda: dr.execute(["after_wait"], inputs={"start": 1}))
    runner.start()
    try:
        run_id = None
        for _ in range(200):
            listed = api(viewer, "/api/runs?project=live-page")
            if listed:
                run_id = listed[0]["run_id"]
                break
            threading.Event().wait(0.05)
        assert run_id is not None
        page.goto(viewer.url + "runs/" + run_id)
        page.wait_for_function(
            "window.cayleyGraph && window.cayleyGraph.getElementById('waiting')"
            ".data('status') === 'running'"
        )
        page.evaluate("window.loadedOnce = true")
        colours = page.evaluate("window.cayleyStatusColors")
        assert drawn_nodes(page)["waiting"]["color"] == css_rgb(colours["running"])
        assert drawn_nodes(page)["after_wait"]["status"] == "pending"
        flows.GATE.set()
        page.wait_for_function("document.body.dataset.runStatus === 'success'", timeout=15_000)
        assert page.evaluate("window.loadedOnce") is True  # the same page, not a reload
        drawn = drawn_nodes(page)
        assert drawn["waiting"] == {"status": "success", "color": css_rgb(colours["success"])}
        assert drawn["after_wait"]["status"] == "success"
    finally:
        flows.GATE.set()
        runner.join(30)
        tracker.close()


def test_the_run_list_links_runs_and_filters_by_status(page, viewer, store_file):
    tracker = RunTracker(store_file, project="list-page")
    dr = build("plain", tracker)
    dr.execute(["shown"], inputs={"x": 1, "fail": False})
    with pytest.raises(ValueError):
        dr.execute(["shown"], inputs={"x": 1, "fail": True})
    tracker.close()
    page.goto(viewer.url + "?project=list-page")
    page.wait_for_selector("#runs tbody tr")
    assert page.locator("#runs tbody tr").count() == 2
    page.select_option("#status", "failed")
    page.wait_for_function("document.querySelectorAll('#runs tbody tr').length === 1")
    assert page.locator("#runs tbody tr .status").inner_text() == "failed"
    assert "status=failed" in page.url
    page.locator("#runs tbody tr a").click()
    page.wait_for_function("window.cayleyRun !== undefined")
    assert page.evaluate("window.cayleyRun.status") == "failed"
