"""Compiling a request into an execution plan, once per (outputs, inputs, overrides).

The plan prunes the graph to what the outputs need, assigns every node a *scope* (the
``Parallelizable`` expanders it runs under) and a *phase* (how many scope crossings lie
upstream of it), and groups nodes into task templates. Within a scope, a phase is a set
of nodes that can run together without waiting for a fan-in; crossing a scope or a fan-in
always moves to a later phase, so templates can never wait on each other in a cycle.

Everything that does not depend on input values is resolved here: the ordered steps of
each template, where each of its inputs comes from, what it must hand back, and which
templates and fan-ins it waits for.

The compiled plan's classes live in :mod:`cayley.execution.plan_model`.
"""

from __future__ import annotations

import graphlib
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cayley import htypes
from cayley.execution.grouping import GroupingStrategy, NodeGroupPurpose
from cayley.execution.plan_model import (
    COLLECTED,
    ENV,
    AncestorDep,
    BarrierDep,
    ExecutionPlan,
    Export,
    GroupPlan,
    Scope,
    ScopePlan,
    TaskInput,
    plain,
)
from cayley.execution.plan_request import (
    MissingInputsError,
    check_missing_inputs,
    needed_nodes,
)
from cayley.execution.plan_wiring import (
    assign_pull_prereqs,
    fill_gathered_names,
    mark_light_scopes,
    plan_releases,
    wire_dependencies,
)
from cayley.execution.runner import Step, TaskTemplate
from cayley.graph import FunctionGraph
from cayley.node import DependencyType, Node

__all__ = [
    "COLLECTED",
    "ENV",
    "AncestorDep",
    "BarrierDep",
    "ExecutionPlan",
    "Export",
    "GroupPlan",
    "MissingInputsError",
    "ScopePlan",
    "TaskInput",
    "compile_plan",
]


class _Arg(NamedTuple):
    param: str
    source: str  # the name of the value passed
    gathered: bool  # a Collect[...] parameter


class _Proposal(NamedTuple):
    index: int  # position among the strategy's groups (-1: a gather the planner added)
    base_id: str  # the id the strategy proposed ("" to name the group after its scope)


class _GroupKey(NamedTuple):
    proposal: int  # index of the strategy's proposal (-1 for gathers)
    scope: Scope
    phase: int


def _identity(value: Any) -> Any:
    return value


def _gather(values: list[Any]) -> list[Any]:
    return values


@dataclass(eq=False)
class _NodeTable:
    """The nodes a plan computes (graph nodes, identity steps, gathers) and their arguments."""

    nodes: dict[str, Node] = field(default_factory=dict)
    args: dict[str, list[_Arg]] = field(default_factory=dict)  # optional misses dropped
    scope: dict[str, Scope] = field(default_factory=dict)


@dataclass(eq=False)
class _Groups:
    """The computed nodes split into groups, and what flows between the groups."""

    members: dict[_GroupKey, list[str]]
    names: dict[_GroupKey, str]
    of: dict[str, _GroupKey]  # node name -> its group
    inputs: dict[_GroupKey, dict[str, TaskInput]]
    deps: dict[_GroupKey, set[_GroupKey]]
    consumers: dict[str, set[tuple[_GroupKey, int]]]  # produced name -> {(group, kind)}


def compile_plan(
    graph: FunctionGraph,
    outputs: Sequence[str],
    provided: Collection[str],
    overridden: Collection[str],
    strategy: GroupingStrategy,
) -> ExecutionPlan:
    """Compiles the plan computing ``outputs`` from inputs named ``provided``."""
    graph.check_names(outputs)
    needed = needed_nodes(graph, outputs, provided, overridden)
    check_missing_inputs(graph, needed, provided, overridden)
    order = graph.in_topological_order(needed)
    constants = {n for n in needed if n in overridden or graph.nodes[n].user_defined}
    table = _computed_nodes(graph, order, needed, constants)
    computed = list(table.nodes)
    output_map, synthetic = _gather_outputs(outputs, constants, table)
    all_names = computed + synthetic
    phase = _phases(all_names, table.args, table.nodes, table.scope, graph.scopes)

    proposal_of = _proposals(strategy, computed, synthetic, table.nodes)
    members = _split_proposals(all_names, proposal_of, table.scope, phase)
    groups = _link_groups(members, _name_groups(members, proposal_of), table, graph.scopes)
    group_order = _order_groups(groups, strategy)

    scopes = _scope_plans(computed, table, group_order)
    plans = _build_group_plans(group_order, groups, table, set(output_map.values()), scopes)
    plan_of = dict(zip(group_order, plans))
    producer_of = {name: plan_of[key] for name, key in groups.of.items()}
    wire_dependencies(plans, producer_of, table.nodes, scopes)
    fill_gathered_names(plans, scopes, groups.of)
    assign_pull_prereqs(scopes, plans)
    mark_light_scopes(scopes)
    plan_releases(scopes, set(output_map.values()))

    return ExecutionPlan(
        root=scopes[()],
        groups=plans,
        outputs=output_map,
        constants=tuple(sorted(constants)),
        execution_path=[n for n in order if n in table.nodes and n not in constants],
        scopes=scopes,
    )


def _computed_nodes(
    graph: FunctionGraph, order: Sequence[str], needed: set[str], constants: set[str]
) -> _NodeTable:
    """The table of nodes to compute, in topological order, with their arguments and scopes."""
    table = _NodeTable()
    for name in order:
        node = graph.nodes[name]
        if name in constants:
            if not node.is_expander or node.user_defined:
                continue
            # An overridden expander still fans out: its items are the override's.
            table.nodes[name] = Node(name, node.type, callabl=_identity, input_types={"value": Any})
            table.args[name] = [_Arg("value", name, False)]
        else:
            table.nodes[name] = node
            table.args[name] = [
                _Arg(param, dep, param in node.collect_params)
                for (param, (_, dep_type)), dep in zip(
                    node.input_types.items(), graph.dependencies[name]
                )
                if dep in needed or dep_type == DependencyType.REQUIRED
            ]
        table.scope[name] = graph.scopes[name]
    return table


def _gather_outputs(
    outputs: Sequence[str], constants: set[str], table: _NodeTable
) -> tuple[dict[str, str], list[str]]:
    """Maps each output to its name at the root, adding gather nodes to ``table`` as needed.

    Outputs computed inside blocks come back as (nested) lists: one gather node per level
    lifts them up to the root. Requesting an expander gives its items, one more level.
    Returns the output map and the names of the gather nodes added.
    """
    output_map: dict[str, str] = {}
    synthetic: list[str] = []
    for out in dict.fromkeys(outputs):
        if out in constants and out not in table.nodes:
            output_map[out] = out
            continue
        current = out
        current_scope = table.scope[out]
        gathered = table.nodes[out].is_expander
        if not gathered and not current_scope:
            output_map[out] = out
            continue
        for step in range(len(current_scope) + (1 if gathered else 0)):
            new = f"{out}\x00gathered{step}"
            is_items = gathered and step == 0
            table.nodes[new] = Node(
                new, list, callabl=_gather, input_types={"values": htypes.Collect[Any]}
            )
            table.args[new] = [_Arg("values", current, True)]
            current_scope = current_scope if is_items else current_scope[:-1]
            table.scope[new] = current_scope
            synthetic.append(new)
            current = new
        output_map[out] = current
    return output_map, synthetic


def _proposals(
    strategy: GroupingStrategy,
    computed: list[str],
    synthetic: list[str],
    nodes: dict[str, Node],
) -> dict[str, _Proposal]:
    """Each node's proposal from the strategy; gathers get ``_Proposal(-1, "")``."""
    proposals = strategy.group_nodes([nodes[n] for n in computed]) if computed else []
    proposal_of: dict[str, _Proposal] = {}
    for index, group in enumerate(proposals):
        for node in group.nodes:
            if node.name not in nodes:
                raise ValueError(
                    f"Grouping strategy {type(strategy).__name__} returned node {node.name!r}, "
                    "which this run does not compute."
                )
            if node.name in proposal_of:
                raise ValueError(
                    f"Grouping strategy {type(strategy).__name__} put node {node.name!r} in "
                    "more than one group."
                )
            proposal_of[node.name] = _Proposal(index, group.base_id)
    left_out = [n for n in computed if n not in proposal_of]
    if left_out:
        raise ValueError(
            f"Grouping strategy {type(strategy).__name__} left nodes {left_out} out of every group."
        )
    for name in synthetic:
        proposal_of[name] = _Proposal(-1, "")
    return proposal_of


def _split_proposals(
    names: list[str],
    proposal_of: dict[str, _Proposal],
    scope: dict[str, Scope],
    phase: dict[str, int],
) -> dict[_GroupKey, list[str]]:
    """The members of each group: a proposal split by scope and phase, in node order."""
    members: dict[_GroupKey, list[str]] = {}
    for name in names:
        key = _GroupKey(proposal_of[name].index, scope[name], phase[name])
        members.setdefault(key, []).append(name)
    return members


def _name_groups(
    members: dict[_GroupKey, list[str]], proposal_of: dict[str, _Proposal]
) -> dict[_GroupKey, str]:
    """A unique id per group: the proposal's id, or the scope's, suffixed when split.

    Groups without a proposed id are named after their scope ("root", "block-<expander>").
    """
    by_base: dict[str, list[_GroupKey]] = {}
    for key, names in members.items():
        base = proposal_of[names[0]].base_id
        if not base:
            base = f"block-{key.scope[-1]}" if key.scope else "root"
        by_base.setdefault(base, []).append(key)
    group_names: dict[_GroupKey, str] = {}
    used: set[str] = set()
    for base, keys in by_base.items():
        keys.sort(key=lambda k: (len(k.scope), k.phase, k.proposal))
        for i, key in enumerate(keys):
            candidate = base if i == 0 else f"{base}-{i}"
            while candidate in used:
                candidate += "'"
            used.add(candidate)
            group_names[key] = candidate
    return group_names


def _link_groups(
    members: dict[_GroupKey, list[str]],
    group_names: dict[_GroupKey, str],
    table: _NodeTable,
    graph_scopes: dict[str, Scope],
) -> _Groups:
    """The groups with their inputs, the groups they depend on, and who consumes each name."""
    group_of = {name: key for key, names in members.items() for name in names}

    def expander_of(name: str) -> str:
        return (table.scope[name] if name in table.scope else graph_scopes[name])[-1]

    inputs: dict[_GroupKey, dict[str, TaskInput]] = {k: {} for k in members}
    deps: dict[_GroupKey, set[_GroupKey]] = {k: set() for k in members}
    consumers: dict[str, set[tuple[_GroupKey, int]]] = {}
    for key, names in members.items():
        produced: set[str] = set()
        for name in names:
            for _, dep, is_collect in table.args[name]:
                if dep in produced:
                    continue
                computed_dep = dep in table.nodes and dep != name
                if is_collect:
                    is_items = computed_dep and table.nodes[dep].is_expander
                    source = dep if is_items else expander_of(dep)
                    inputs[key][dep] = TaskInput(dep, COLLECTED, source)
                elif not computed_dep:
                    inputs[key][dep] = TaskInput(dep, ENV, 0)  # an input or an override
                else:
                    depth = len(table.scope[dep]) + (1 if table.nodes[dep].is_expander else 0)
                    inputs[key][dep] = TaskInput(dep, ENV, depth)
                if computed_dep:
                    deps[key].add(group_of[dep])
                    consumers.setdefault(dep, set()).add((key, COLLECTED if is_collect else ENV))
            produced.add(name)
        deps[key].discard(key)
    return _Groups(members, group_names, group_of, inputs, deps, consumers)


def _order_groups(groups: _Groups, strategy: GroupingStrategy) -> list[_GroupKey]:
    """The groups in dependency order; raises if the strategy's grouping makes a cycle."""
    sorter = graphlib.TopologicalSorter(groups.deps)
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = " -> ".join(groups.names[k] for k in exc.args[1])
        raise ValueError(
            f"Grouping strategy {type(strategy).__name__} produced tasks that depend on each "
            f"other in a cycle: {cycle}. Group nodes so that each task can run start to finish."
        ) from exc


def _scope_plans(
    computed: list[str], table: _NodeTable, group_order: list[_GroupKey]
) -> dict[Scope, ScopePlan]:
    """An empty ScopePlan per scope (the root, each fan-out, each group's), linked to parents."""
    scopes: dict[Scope, ScopePlan] = {(): ScopePlan(())}
    for name in computed:
        if table.nodes[name].is_expander:
            child = table.scope[name] + (name,)
            scopes.setdefault(child, ScopePlan(child))
    for key in group_order:
        scopes.setdefault(key.scope, ScopePlan(key.scope))
    for sc, plan in scopes.items():
        if sc:
            scopes[sc[:-1]].children[sc[-1]] = plan
    return scopes


def _build_group_plans(
    group_order: list[_GroupKey],
    groups: _Groups,
    table: _NodeTable,
    outputs_at_root: set[str],
    scopes: dict[Scope, ScopePlan],
) -> list[GroupPlan]:
    """A GroupPlan per group in ``group_order``, each also appended to its ScopePlan."""
    plans: list[GroupPlan] = []
    for key in group_order:
        template = _template(key, groups, table, outputs_at_root)
        env_exports, collect_exports, expander_exports = _export_routes(
            template.exports, table.nodes, groups.consumers, outputs_at_root
        )
        scope_plan = scopes[key.scope]
        plan = GroupPlan(
            index=len(plans),
            local_index=len(scope_plan.groups),
            scope=key.scope,
            template=template,
            inputs=plain(groups.inputs[key].values()),
            env_exports=plain(env_exports),
            collect_exports=plain(collect_exports),
            expander_exports=plain(expander_exports),
        )
        scope_plan.groups.append(plan)
        plans.append(plan)
    return plans


def _template(
    key: _GroupKey, groups: _Groups, table: _NodeTable, outputs_at_root: set[str]
) -> TaskTemplate:
    """The task template of one group: its steps, what it exports, and its purpose."""
    members = groups.members[key]
    exports: list[str] = []
    for name in members:
        external = any(ck != key for ck, _ in groups.consumers.get(name, ()))
        if external or name in outputs_at_root or table.nodes[name].is_expander:
            exports.append(name)
    drops = _drops(members, table.args, set(exports), groups.inputs[key])
    retrying = _retrying_call_type()
    steps: list[Step] = []
    for name, dropped in zip(members, drops):
        node = table.nodes[name]
        pairs = tuple((arg.param, arg.source) for arg in table.args[name])
        fn = node.callable
        retry = fn if retrying is not None and isinstance(fn, retrying) else None
        steps.append(Step(name, fn, pairs, tuple(dropped), node, retry))
    return TaskTemplate(
        base_id=groups.names[key],
        steps=tuple(steps),
        exports=tuple(exports),
        expanders=frozenset(n for n in members if table.nodes[n].is_expander),
        purpose=_purpose(members, table.nodes, key.scope),
        nodes=tuple(table.nodes[n] for n in members if "\x00" not in n),  # no gathers
    )


def _retrying_call_type() -> type | None:
    """The class of ``@retry`` node functions, if the decorator was ever imported.

    Without the import no node can retry, and compiling a plan does not load the
    decorator catalogue.
    """
    module = sys.modules.get("cayley.function_modifiers.retry")
    return None if module is None else module.RetryingCall


def _drops(
    members: list[str],
    args: dict[str, list[_Arg]],
    exports: set[str],
    inputs: dict[str, TaskInput],
) -> list[list[str]]:
    """Per step, the values the task no longer needs after it (not exported, used last)."""
    last_use: dict[str, int] = {}
    for i, name in enumerate(members):
        for _, dep, _ in args[name]:
            last_use[dep] = i
    member_set = set(members)
    drops: list[list[str]] = [[] for _ in members]
    for dep, i in last_use.items():
        if dep in exports or dep == members[i]:
            continue
        if dep in member_set or dep in inputs:
            drops[i].append(dep)
    return drops


def _export_routes(
    exports: tuple[str, ...],
    nodes: dict[str, Node],
    consumers: dict[str, set[tuple[_GroupKey, int]]],
    outputs_at_root: set[str],
) -> tuple[tuple[Export, ...], tuple[Export, ...], tuple[Export, ...]]:
    """The exports going to the environment, to gathers, and to fan-outs."""
    env_exports: list[Export] = []
    collect_exports: list[Export] = []
    expander_exports: list[Export] = []
    for pos, name in enumerate(exports):
        kinds = {kind for _, kind in consumers.get(name, ())}
        if nodes[name].is_expander:
            expander_exports.append(Export(pos, name))  # items go to the child instances
            continue
        if ENV in kinds or name in outputs_at_root:
            env_exports.append(Export(pos, name))
        if COLLECTED in kinds:
            collect_exports.append(Export(pos, name))
    return tuple(env_exports), tuple(collect_exports), tuple(expander_exports)


def _phases(
    names: list[str],
    args: dict[str, list[_Arg]],
    nodes: dict[str, Node],
    scope: dict[str, Scope],
    graph_scopes: dict[str, Scope],
) -> dict[str, int]:
    """How many scope crossings or fan-ins lie upstream of each node.

    A node inside a block comes after its block's expander even when no parameter reads the
    item (overrides can cut that edge), and a fan-in of an override still waits for the
    items of the override's block.
    """
    after: dict[str, set[str]] = {}
    for name in names:
        before = {dep for _, dep, _ in args[name] if dep in nodes and dep != name}
        if scope[name]:
            before.add(scope[name][-1])
        for _, dep, is_collect in args[name]:
            if is_collect and dep not in nodes:
                before.add(graph_scopes[dep][-1])
        after[name] = before
    phase: dict[str, int] = {}
    for name in graphlib.TopologicalSorter(after).static_order():
        level = 0
        if scope[name]:
            level = phase[scope[name][-1]] + 1
        for _, dep, is_collect in args[name]:
            if dep == name:
                continue
            if dep not in nodes:
                if is_collect:  # an override gathered per item: wait for the items
                    level = max(level, phase[graph_scopes[dep][-1]] + 1)
                continue
            crossing = is_collect or scope[dep] != scope[name] or nodes[dep].is_expander
            level = max(level, phase[dep] + (1 if crossing else 0))
        phase[name] = level
    return phase


def _purpose(members: Sequence[str], nodes: dict[str, Node], scope: Scope) -> NodeGroupPurpose:
    if any(nodes[n].is_expander for n in members):
        return NodeGroupPurpose.EXPAND_UNORDERED
    if any(nodes[n].collect_params for n in members):
        return NodeGroupPurpose.GATHER
    if scope:
        return NodeGroupPurpose.EXECUTE_BLOCK
    return NodeGroupPurpose.EXECUTE_SINGLE
