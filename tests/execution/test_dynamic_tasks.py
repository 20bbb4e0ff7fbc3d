"""Task grouping strategies, task ids, and the task and node hooks of dynamic execution."""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest

from cayley.execution import grouping
from cayley.execution.grouping import GroupingStrategy, NodeGroup, NodeGroupPurpose
from tests.resources import dyn_failing, dyn_mapreduce, dyn_nested
from tests.resources.dyn_harness import build
from tests.resources.dyn_hooks import FileRecorder

NESTED_INPUTS = {"n_outer": 2, "n_inner": 3, "bias": 1}
ITEM_PREFIX = re.compile(r"^(expand-[A-Za-z_]\w*\.\d+\.)*")


class PairsStrategy(GroupingStrategy):
    """A custom strategy: consecutive nodes two by two, named by position."""

    def group_nodes(self, nodes):
        nodes = list(nodes)
        return [
            NodeGroup(f"pair{i // 2}", None, nodes[i : i + 2], NodeGroupPurpose.EXECUTE_SINGLE)
            for i in range(0, len(nodes), 2)
        ]


class ReversedSingles(GroupingStrategy):
    """A custom strategy proposing one group per node, in reverse order."""

    def group_nodes(self, nodes):
        return [NodeGroup(f"single-{n.name}", None, [n]) for n in reversed(list(nodes))]


STRATEGIES = {
    "default": None,
    "repeatable-blocks": grouping.GroupByRepeatableBlocks(),
    "individually": grouping.GroupNodesIndividually(),
    "all-as-one": grouping.GroupNodesAllAsOne(),
    "by-level": grouping.GroupNodesByLevel(),
    "custom-pairs": PairsStrategy(),
    "custom-reversed": ReversedSingles(),
}


@pytest.fixture
def recorder(tmp_path):
    return FileRecorder(str(tmp_path / "events.jsonl"))


# ---- grouping strategies -------------------------------------------------------------------
@pytest.mark.parametrize("strategy", list(STRATEGIES), ids=list(STRATEGIES))
def test_grouping_strategies_give_the_same_results(dynamic_kind, strategy):
    reference = build("plain", dyn_nested, dyn_mapreduce)
    dr = build(dynamic_kind, dyn_nested, dyn_mapreduce, strategy=STRATEGIES[strategy])
    requests = [
        (["top", "grand_total", "leaf_val", "inner"], {**NESTED_INPUTS}),
        (["shares", "shares_plus", "regrouped_total", "pairs", "items_back"], {"n": 4, "scale": 3}),
        (["as_list", "summary"], {"n": 0, "scale": 3}),
    ]
    for outputs, inputs in requests:
        assert dr.execute(outputs, inputs=inputs) == reference.execute(outputs, inputs=inputs)


def test_strategy_leaving_a_node_out_is_rejected():
    class Forgetful(GroupingStrategy):
        def group_nodes(self, nodes):
            return [NodeGroup("most", None, list(nodes)[1:])]

    dr = build("sync", dyn_mapreduce, strategy=Forgetful())
    with pytest.raises(ValueError, match="left nodes .*out of every group"):
        dr.execute(["total"], inputs={"n": 2, "scale": 1})


def test_strategy_repeating_a_node_is_rejected():
    class Greedy(GroupingStrategy):
        def group_nodes(self, nodes):
            nodes = list(nodes)
            return [NodeGroup("all", None, nodes), NodeGroup("first", None, nodes[:1])]

    dr = build("sync", dyn_mapreduce, strategy=Greedy())
    with pytest.raises(ValueError, match="more than one group"):
        dr.execute(["total"], inputs={"n": 2, "scale": 1})


# ---- task ids ----------------------------------------------------------------------------------
def _task_ids(events, hook="task_before"):
    return [e["task_id"] for e in events if e["hook"] == hook]


@pytest.mark.parametrize(
    ("strategy", "inner_base"),
    [("default", "block-inner"), ("individually", "inner_val")],
)
def test_task_ids_are_unique_deterministic_and_path_like(
    dynamic_kind, recorder, strategy, inner_base
):
    dr = build(dynamic_kind, dyn_nested, adapters=[recorder], strategy=STRATEGIES[strategy])
    dr.execute(["grand_total"], inputs=NESTED_INPUTS)
    first = recorder.events()
    recorder.clear()
    dr.execute(["grand_total"], inputs=NESTED_INPUTS)
    second = recorder.events()

    ids = _task_ids(first)
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    assert sorted(ids) == sorted(_task_ids(second))
    assert sorted(_task_ids(first, "submission")) == sorted(ids)
    assert sorted(_task_ids(first, "return")) == sorted(ids)

    expected_inner = {
        f"expand-outer.{o}.expand-inner.{j}.{inner_base}"
        for o in range(NESTED_INPUTS["n_outer"])
        for j in range(NESTED_INPUTS["n_inner"])
    }
    inner_ids = {i for i in ids if i.endswith("." + inner_base)}
    assert inner_ids == expected_inner

    (grouped,) = [e for e in first if e["hook"] == "grouping"]
    templates = set(grouped["task_ids"])
    for task_id in ids:
        base = ITEM_PREFIX.sub("", task_id)
        assert base in templates, (task_id, templates)


@pytest.mark.parametrize("strategy", ["default", "individually"])
def test_spawning_task_id_is_the_task_that_ran_the_expander(dynamic_kind, recorder, strategy):
    """An item's task was spawned by a task the hooks saw: the one that ran its expander."""
    dr = build(dynamic_kind, dyn_nested, adapters=[recorder], strategy=STRATEGIES[strategy])
    dr.execute(["grand_total"], inputs=NESTED_INPUTS)
    events = recorder.events()
    submitted = {e["task_id"]: e for e in events if e["hook"] == "submission"}
    checked = 0
    for event in events:
        if event["hook"] not in ("submission", "task_before", "task_after", "return"):
            continue
        task_id = event["task_id"]
        spawner = event["spawning_task_id"]
        if "." not in task_id:
            assert spawner is None
            continue
        prefix = ITEM_PREFIX.match(task_id).group(0)  # expand-outer.0.expand-inner.1.
        last = prefix.rindex("expand-")
        expander = prefix[last:].split(".")[0].removeprefix("expand-")
        assert spawner in submitted, (task_id, spawner)
        assert expander in submitted[spawner]["nodes"], (task_id, spawner)
        # the spawner runs in the enclosing item (or at the root)
        assert ITEM_PREFIX.match(spawner).group(0) == prefix[:last], (task_id, spawner)
        checked += 1
    assert checked >= NESTED_INPUTS["n_outer"] * (1 + NESTED_INPUTS["n_inner"])


def test_task_ids_are_stable_for_a_single_fan_out(recorder):
    dr = build("sync", dyn_mapreduce, adapters=[recorder])
    dr.execute(["total"], inputs={"n": 3, "scale": 1})
    block_ids = [i for i in _task_ids(recorder.events()) if i.startswith("expand-")]
    assert block_ids == [f"expand-items.{i}.block-items" for i in range(3)]


# ---- task hooks -------------------------------------------------------------------------------
SUBMISSION_KEYS = {
    "run_id",
    "task_id",
    "nodes",
    "inputs",
    "overrides",
    "spawning_task_id",
    "purpose",
}
RETURN_KEYS = {
    "run_id",
    "task_id",
    "nodes",
    "result",
    "success",
    "error",
    "spawning_task_id",
    "purpose",
}
TASK_BEFORE_KEYS = SUBMISSION_KEYS
TASK_AFTER_KEYS = {
    "run_id",
    "task_id",
    "nodes",
    "results",
    "success",
    "error",
    "spawning_task_id",
    "purpose",
}
NODE_BEFORE_KEYS = {
    "node_name",
    "node_tags",
    "node_kwargs",
    "node_return_type",
    "task_id",
    "run_id",
    "node_input_types",
}
NODE_AFTER_KEYS = {
    "node_name",
    "node_tags",
    "node_kwargs",
    "node_return_type",
    "result",
    "error",
    "success",
    "task_id",
    "run_id",
}
KEYS = {
    "grouping": {"run_id", "task_ids"},
    "expansion": {"run_id", "task_id", "parameters"},
    "submission": SUBMISSION_KEYS,
    "return": RETURN_KEYS,
    "task_before": TASK_BEFORE_KEYS,
    "task_after": TASK_AFTER_KEYS,
    "node_before": NODE_BEFORE_KEYS,
    "node_after": NODE_AFTER_KEYS,
}


def test_task_hooks_fire_with_hamiltons_keyword_arguments(dynamic_kind, recorder):
    dr = build(dynamic_kind, dyn_nested, adapters=[recorder])
    result = dr.execute(["grand_total"], inputs=NESTED_INPUTS)
    assert result == {"grand_total": 32}
    events = recorder.events()
    counts = Counter(e["hook"] for e in events)
    assert set(counts) == set(KEYS)
    for event in events:
        assert KEYS[event["hook"]] <= set(event["keys"]), event

    run_ids = {e["run_id"] for e in events}
    assert len(run_ids) == 1

    # one grouping announcement; one expansion per fan-out instance
    assert counts["grouping"] == 1
    expansions = {e["task_id"]: e["parameters"] for e in events if e["hook"] == "expansion"}
    assert expansions == {
        "expand-outer": {"0": 0, "1": 1},
        "expand-outer.0.expand-inner": {"0": 0, "1": 1, "2": 2},
        "expand-outer.1.expand-inner": {"0": 10, "1": 11, "2": 12},
    }

    # every task is submitted, executed and returned exactly once, successfully
    for hook in ("submission", "task_before", "task_after", "return"):
        assert counts[hook] == counts["submission"]
    assert all(e["success"] for e in events if e["hook"] in ("task_after", "return"))
    purposes = {e["purpose"] for e in events if e["hook"] == "submission"}
    assert purposes <= {p.name for p in NodeGroupPurpose}
    block_purposes = {
        e["purpose"] for e in events if e["hook"] == "submission" and "block-inner" in e["task_id"]
    }
    assert block_purposes == {"EXECUTE_BLOCK"}

    # driver-side hooks run in the driver; execution hooks where the task runs
    driver_pid = os.getpid()
    for event in events:
        if event["hook"] in ("grouping", "expansion", "submission", "return"):
            assert event["pid"] == driver_pid
    block_pids = {
        e["pid"] for e in events if e["hook"] == "task_before" and "block-inner" in e["task_id"]
    }
    if dynamic_kind == "fork":
        assert driver_pid not in block_pids
    else:
        assert block_pids == {driver_pid}


def test_each_run_has_its_own_run_id(recorder):
    dr = build("sync", dyn_mapreduce, adapters=[recorder])
    dr.execute(["total"], inputs={"n": 2, "scale": 1})
    dr.execute(["total"], inputs={"n": 2, "scale": 1})
    groupings = [e["run_id"] for e in recorder.events() if e["hook"] == "grouping"]
    assert len(groupings) == 2 and groupings[0] != groupings[1]


def test_hooks_fire_per_item_when_items_are_batched(dynamic_kind, recorder):
    n = 60
    dr = build(dynamic_kind, dyn_mapreduce, adapters=[recorder])
    assert dr.execute(["total"], inputs={"n": n, "scale": 1}) == {"total": sum(range(n))}
    events = recorder.events()
    for hook in ("submission", "task_before", "task_after", "return"):
        block = [e["task_id"] for e in events if e["hook"] == hook and e["task_id"] != "root"]
        block = [i for i in block if i.startswith("expand-items.")]
        assert sorted(block) == sorted(f"expand-items.{i}.block-items" for i in range(n)), hook


# ---- node hooks -------------------------------------------------------------------------------
def test_node_hooks_fire_for_every_node_of_every_item(dynamic_kind, recorder):
    dr = build(dynamic_kind, dyn_nested, adapters=[recorder])
    dr.execute(["top", "grand_total"], inputs=NESTED_INPUTS)
    events = recorder.events()
    before = [e for e in events if e["hook"] == "node_before"]
    after = [e for e in events if e["hook"] == "node_after"]
    n_outer, n_inner = NESTED_INPUTS["n_outer"], NESTED_INPUTS["n_inner"]
    leaves = sum(
        (o * 10 + j + NESTED_INPUTS["bias"]) % 3 for o in range(n_outer) for j in range(n_inner)
    )
    expected = {
        "outer": 1,
        "outer_val": n_outer,
        "inner": n_outer,
        "inner_val": n_outer * n_inner,
        "inner_sum": n_outer,
        "outer_result": n_outer,
        "grand": 1,
        "grand_total": 1,
        "leaf": n_outer * n_inner,
        "leaf_val": leaves,
        "leaf_sum": n_outer * n_inner,
        "mid_list": n_outer,
        "top": 1,
    }
    assert Counter(e["node"] for e in before) == expected
    assert Counter(e["node"] for e in after) == expected
    assert all(e["success"] for e in after)

    # (node, task id) pairs are unique, and the task id is the one of the running task
    pairs = [(e["node"], e["task_id"]) for e in before]
    assert len(pairs) == len(set(pairs))
    task_nodes = {e["task_id"]: set(e["nodes"]) for e in events if e["hook"] == "task_before"}
    for node, task_id in pairs:
        assert node in task_nodes[task_id], (node, task_id)
    inner_tasks = sorted(t for n, t in pairs if n == "inner_val")
    assert inner_tasks == sorted(
        f"expand-outer.{o}.expand-inner.{j}.block-inner"
        for o in range(n_outer)
        for j in range(n_inner)
    )
    # each item's node sees its own item
    inner_kwargs = sorted(
        (e["task_id"], e["node_kwargs"]["inner"]) for e in before if e["node"] == "inner_val"
    )
    assert inner_kwargs == sorted(
        (f"expand-outer.{o}.expand-inner.{j}.block-inner", o * 10 + j)
        for o in range(n_outer)
        for j in range(n_inner)
    )


def test_node_hooks_on_the_plain_driver_fire_per_item(recorder):
    dr = build("plain", dyn_mapreduce, adapters=[recorder])
    dr.execute(["total"], inputs={"n": 4, "scale": 1})
    events = recorder.events()
    counts = Counter(e["node"] for e in events if e["hook"] == "node_after")
    assert counts == {"items": 1, "scaled": 4, "shifted": 4, "total": 1}


def test_task_execution_inputs_hold_the_item(dynamic_kind, recorder):
    dr = build(dynamic_kind, dyn_mapreduce, adapters=[recorder])
    dr.execute(["total"], inputs={"n": 3, "scale": 2})
    block = {
        e["task_id"]: e["inputs"]
        for e in recorder.events()
        if e["hook"] == "task_before" and e["task_id"].startswith("expand-items.")
    }
    assert block == {f"expand-items.{i}.block-items": {"items": i, "scale": 2} for i in range(3)}


def test_task_submission_hook_receives_the_task_inputs(recorder):
    dr = build("sync", dyn_mapreduce, adapters=[recorder])
    dr.execute(["total"], inputs={"n": 3, "scale": 2})
    events = recorder.events()
    executed = {e["task_id"]: e["inputs"] for e in events if e["hook"] == "task_before"}
    submitted = {e["task_id"]: e["inputs"] for e in events if e["hook"] == "submission"}
    assert submitted == executed


@pytest.mark.timeout(60)
def test_hooks_run_in_spawned_workers(recorder):
    dr = build("spawn", dyn_nested, adapters=[recorder])
    assert dr.execute(["grand_total"], inputs=NESTED_INPUTS) == {"grand_total": 32}
    events = recorder.events()
    driver_pid = os.getpid()
    inner = [e for e in events if e["hook"] == "node_before" and e["node"] == "inner_val"]
    assert len(inner) == NESTED_INPUTS["n_outer"] * NESTED_INPUTS["n_inner"]
    assert driver_pid not in {e["pid"] for e in inner}
    assert {e["task_id"] for e in inner} == {
        f"expand-outer.{o}.expand-inner.{j}.block-inner"
        for o in range(NESTED_INPUTS["n_outer"])
        for j in range(NESTED_INPUTS["n_inner"])
    }
    for event in events:
        assert KEYS[event["hook"]] <= set(event["keys"]), event


def test_expansion_hook_for_empty_and_overridden_fan_outs(recorder):
    dr = build("sync", dyn_mapreduce, adapters=[recorder])
    dr.execute(["total"], inputs={"n": 0, "scale": 1})
    dr.execute(["total"], inputs={"scale": 1}, overrides={"items": [7, 8]})
    expansions = [
        (e["task_id"], e["parameters"]) for e in recorder.events() if e["hook"] == "expansion"
    ]
    assert expansions == [("expand-items", {}), ("expand-items", {"0": 7, "1": 8})]


def test_failed_task_is_reported_to_the_return_hook(dynamic_kind, recorder, tmp_path):
    dr = build(dynamic_kind, dyn_failing, adapters=[recorder])
    marks = tmp_path / "marks"
    marks.mkdir()
    with pytest.raises(dyn_failing.ItemFailure):
        dr.execute(["total"], inputs={"n": 3, "bad": 1, "mark_dir": str(marks)})
    events = recorder.events()
    failed = [e for e in events if e["hook"] == "return" and not e["success"]]
    assert [(e["task_id"], e["error"]) for e in failed] == [
        ("expand-items.1.block-items", "ItemFailure")
    ]
    after = [e for e in events if e["hook"] == "task_after" and not e["success"]]
    assert [(e["task_id"], e["error"]) for e in after] == [
        ("expand-items.1.block-items", "ItemFailure")
    ]
    node_failures = [e for e in events if e["hook"] == "node_after" and not e["success"]]
    assert [(e["node"], e["task_id"]) for e in node_failures] == [
        ("work", "expand-items.1.block-items")
    ]
