"""Run state apart from the loop: a plan driven by hand through :class:`RunState`."""

from __future__ import annotations

from cayley import ad_hoc_utils, driver
from cayley.execution.grouping import GroupByRepeatableBlocks
from cayley.execution.plan import compile_plan
from cayley.execution.runner import Task, execute_task
from cayley.execution.state import LightItem, RunState

NESTED = """
from cayley.htypes import Collect, Parallelizable

def groups(n: int) -> Parallelizable[int]:
    yield from range(n)

def members(groups: int) -> Parallelizable[tuple]:
    for j in range(groups + 1):
        yield (groups, j)

def code(members: tuple) -> int:
    return members[0] * 10 + members[1]

def group_sum(code: Collect[int]) -> int:
    return sum(code)

def grand_total(group_sum: Collect[int]) -> int:
    return sum(group_sum)
"""


def _run_by_hand(outputs: list[str], n: int, pull: int) -> tuple[dict, int]:
    """Runs a plan with the state alone: take what is ready, run it, report it, pull items."""
    flow = ad_hoc_utils.module_from_source(NESTED)
    graph = driver.Builder().with_modules(flow).build().graph
    plan = compile_plan(graph, outputs, ["n"], [], GroupByRepeatableBlocks())
    state = RunState(plan, {"n": n})
    tasks = 0
    while state.root.pending:
        if state.ready_count:
            index = max(state.ready_groups)
            group = plan.groups[index]
            ready = state.ready[index]
            instances = [ready.popleft() for _ in range(len(ready))]
            state.ready_count -= len(instances)
            state.ready_groups.discard(index)
            inputs = [
                i.inputs if isinstance(i, LightItem) else state.inputs_of(i, group)
                for i in instances
            ]
            rows = execute_task(Task(group.template, inputs, None, "by-hand"))
            tasks += 1
            if group.light:
                state.complete_light(group, instances, rows)
            else:
                for instance, row in zip(instances, rows):
                    state.complete(instance, group, row)
            continue
        expansion = state.next_expansion()
        assert expansion is not None, "nothing ready and no items to pull"
        state.pull(expansion, pull)
    return state.outputs(), tasks


def test_a_nested_plan_runs_from_the_state_alone():
    expected = sum(10 * g + j for g in range(5) for j in range(g + 1))
    outputs, _ = _run_by_hand(["grand_total", "group_sum"], 5, pull=2)
    assert outputs == {
        "grand_total": expected,
        "group_sum": [sum(10 * g + j for j in range(g + 1)) for g in range(5)],
    }


def test_how_many_items_are_pulled_at_once_is_the_callers_choice():
    one, tasks_one = _run_by_hand(["grand_total"], 4, pull=1)
    many, tasks_many = _run_by_hand(["grand_total"], 4, pull=100)
    assert one == many
    assert tasks_many < tasks_one  # bigger pulls let the caller batch more


def test_exhausted_expansions_are_reported_to_the_caller():
    flow = ad_hoc_utils.module_from_source(NESTED)
    graph = driver.Builder().with_modules(flow).build().graph
    plan = compile_plan(graph, ["grand_total"], ["n"], [], GroupByRepeatableBlocks())
    state = RunState(plan, {"n": 2}, keep_items=True)
    root_group = plan.groups[0]
    (root,) = state.ready[root_group.index]
    rows = execute_task(
        Task(root_group.template, [state.inputs_of(root, root_group)], None, "by-hand")
    )
    state.complete(root, root_group, rows[0])
    expansion = state.next_expansion()
    assert expansion.expander == "groups" and expansion.spawner_id() == root_group.base_id
    state.pull(expansion, 10)
    assert state.exhausted == [expansion] and expansion.items == [0, 1]
