"""The run book: task ids parsed into items, bulk folding equal to one-by-one folding."""

from __future__ import annotations

import threading

import pytest

from cayley.tracking.book import RunBook
from cayley.tracking.describe import describe_graph
from cayley.tracking.events import ITEM_END, RUN_END, RUN_START, ErrorInfo, RunInfo
from cayley.tracking.state import item_of_task
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
            book.apply(event)
    changes = book.changes()
    return {
        "nodes": sorted(changes.nodes),
        "items": sorted(changes.items),
        "spans": sorted(changes.spans),
        "workers": sorted(changes.workers),
    }


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
    squared = next(row for row in bulk["nodes"] if row[1] == "squared")
    assert squared[2] == "failed"
    assert '"done": 28' in squared[6] and '"failed": 2' in squared[6]
    assert len([row for row in bulk["items"] if row[1] == "squared"]) == 5 + 2
    assert len(bulk["spans"]) == 7
    assert bulk["workers"][0][2] == 60  # every call counted, past the limits too


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
