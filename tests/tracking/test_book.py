"""The run book: task ids parsed into items, bulk folding equal to one-by-one folding."""

from __future__ import annotations

import json
import threading

import pytest

from cayley.tracking.book import RunBook
from cayley.tracking.describe import describe_graph
from cayley.tracking.events import ITEM_END, RUN_END, RUN_START, ErrorInfo, RunInfo
from cayley.tracking.state import ItemsState, item_of_task
from tests.tracking.conftest import build, nodes_of, only_run

LIMITS = {"item_detail_limit": 5, "failed_item_limit": 5, "span_limit": 7}


def test_task_ids_name_their_items():
    assert item_of_task("root") is None
    assert item_of_task(None) is None
    assert item_of_task("expand-items.3.block-items") == (3, "item 3 of 'items'")
    assert item_of_task("expand-sub.urls.12.expand-pages.0.block-pages") == (
        0,
        "item 0 of 'pages' in item 12 of 'sub.urls'",
    )


def fold(events: list[tuple], bulk: bool) -> dict[str, list]:
    book = RunBook("host", 1, describe_graph, **LIMITS)
    if bulk:
        book.apply_all(events)
    else:
        for event in events:
            book.apply_all([event])
    (details,) = book.changes().details
    run_id, nodes, spans, workers = details
    return {"nodes": json.loads(nodes), "spans": json.loads(spans), "workers": json.loads(workers)}


def test_items_folded_in_bulk_give_the_rows_of_one_by_one_folding():
    dr = build("sync")
    info = RunInfo(
        project="p",
        graph=dr.graph,
        outputs=["joined"],
        inputs={"n": "int", "bad_item": "int"},
        overrides=[],
        execution_path=["items", "squared", "labelled", "joined"],
        host="host",
        pid=1,
    )
    thread = threading.current_thread()
    error = ErrorInfo("ValueError", "bad", "Traceback ...")
    events: list[tuple] = [(RUN_START, "r", 100.0, info)]
    for index in range(30):
        task = f"expand-items.{index}.block-items"
        start = 101.0 + index
        for name in ("squared", "labelled"):
            failed = name == "squared" and index in (4, 17)
            ended = start + 0.001 * (index + 1)
            events.append(
                (ITEM_END, "r", name, task, start, ended, thread, error if failed else None)
            )
            start = ended
    events.append((RUN_END, "r", 200.0, error))
    one_by_one, bulk = fold(events, bulk=False), fold(events, bulk=True)
    assert bulk == one_by_one
    status, _, _, _, squared = bulk["nodes"]["squared"]
    assert status == "failed"
    assert (squared["items"]["done"], squared["items"]["failed"]) == (28, 2)
    assert len(squared["kept"]) == 5 + 2  # the detail limit, and every failure (under its own)
    assert squared["error"]["item"] == "item 4 of 'items'"
    assert len(bulk["spans"]) == 7
    (calls, busy, _, _) = bulk["workers"][f"1:{threading.current_thread().name}"]
    assert calls == 60  # every call counted, past the limits too


@pytest.mark.parametrize("kind", ["plain", "sync"])
def test_nested_fan_outs_are_groups_within_groups(kind, tracker, store):
    dr = build(kind, tracker)
    assert dr.execute(["grand_total"], inputs={"n_groups": 3})["grand_total"] == 0 + 21 + 63
    run = only_run(store)
    blocks = {block["expander"]: block for block in run["blocks"]}
    assert blocks["groups"]["parent"] is None
    assert blocks["members"]["parent"] == "groups"
    assert blocks["members"]["nodes"] == ["code"]
    assert blocks["members"]["total"] == 6  # 1 + 2 + 3 members
    assert blocks["groups"]["nodes"] == ["members", "group_sum"]
    nodes = nodes_of(run)
    assert nodes["code"]["block"] == "members" and nodes["code"]["scope"] == ["groups", "members"]
    labels = {row["item"] for row in store.items(run["run_id"], "code")}
    if kind == "sync":
        assert "item 1 of 'members' in item 2 of 'groups'" in labels
    assert len(labels) == 6


def test_item_durations_fall_in_log2_microsecond_buckets():
    items = ItemsState(starts=6, done=6)
    items.new_durations.extend([1e-6, 3e-6, 3.5e-6, 100e-6, 2.0, 0.0])
    summary = items.summary(running=False)
    expected = [0] * 21
    expected[0], expected[1], expected[6], expected[20] = 2, 2, 1, 1
    assert summary["histogram"] == expected
    assert summary["min_s"] == 0.0 and summary["max_s"] == 2.0
    assert summary["sum_s"] == pytest.approx(2.0001075)
    items.new_durations.append(5e-6)  # later items add to the same summary
    items.done += 1
    assert items.summary(running=False)["histogram"][2] == 1
