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


class MissingInputsError(ValueError):
    """Inputs the requested outputs need were not provided."""


def _identity(value: Any) -> Any:
    return value


def _gather(values: list[Any]) -> list[Any]:
    return values


def _missing_inputs_message(graph: FunctionGraph, missing: Sequence[str], needed: set[str]) -> str:
    lines = []
    for name in missing:
        consumers = sorted(c for c in graph.dependents[name] if c in needed)
        if consumers:
            lines.append(f"  Error: Required input {name} not provided for nodes: {consumers}.")
        else:
            lines.append(f"  Error: Input {name} was requested as an output but not provided.")
    lines.append(
        "Pass them in execute(inputs={...}) or in the config, or override the nodes that need them."
    )
    return f"{len(missing)} errors encountered:\n" + "\n".join(lines)


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
    needed = _needed_nodes(graph, outputs, provided, overridden)
    _check_missing_inputs(graph, needed, provided, overridden)
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
    _wire_dependencies(plans, producer_of, table.nodes, scopes)
    _fill_gathered_names(plans, scopes, groups.of)
    _assign_pull_prereqs(scopes, plans)
    _mark_light_scopes(scopes)
    _plan_releases(scopes, set(output_map.values()))

    return ExecutionPlan(
        root=scopes[()],
        groups=plans,
        outputs=output_map,
        constants=tuple(sorted(constants)),
        execution_path=[n for n in order if n in table.nodes and n not in constants],
        scopes=scopes,
    )


def _needed_nodes(
    graph: FunctionGraph,
    outputs: Sequence[str],
    provided: Collection[str],
    overridden: Collection[str],
) -> set[str]:
    """The nodes the outputs need, plus the expanders of every scope they run in.

    A block runs once per item even when its nodes no longer read the item (overrides), and
    an overridden node gathered by a Collect still comes once per item: its fan-out too.
    """
    needed = graph.required_nodes(outputs, provided, overridden)
    while True:
        expanders = set()
        for name in needed:
            node = graph.nodes[name]
            if name in overridden:
                if node.is_expander and not node.user_defined:
                    # An overridden expander still fans out in its own scope.
                    expanders.update(graph.scopes[name])
                continue
            expanders.update(graph.scopes[name])
            for param, dep in zip(node.input_types, graph.dependencies[name]):
                if param in node.collect_params and dep in overridden:
                    expanders.update(graph.scopes[dep])
        expanders -= needed
        if not expanders:
            return needed
        needed |= graph.required_nodes(expanders, provided, overridden)


def _check_missing_inputs(
    graph: FunctionGraph,
    needed: set[str],
    provided: Collection[str],
    overridden: Collection[str],
) -> None:
    """Raises MissingInputsError if a needed user input is neither provided nor overridden."""
    missing = sorted(
        n
        for n in needed
        if graph.nodes[n].user_defined and n not in provided and n not in overridden
    )
    if missing:
        raise MissingInputsError(_missing_inputs_message(graph, missing, needed))


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


def _wire_dependencies(
    plans: list[GroupPlan],
    producer_of: dict[str, GroupPlan],
    nodes: dict[str, Node],
    scopes: dict[Scope, ScopePlan],
) -> None:
    """Sets each plan's local, ancestor and barrier deps, their dependents and initial waits."""
    for plan in plans:
        local: list[int] = []
        ancestors: list[AncestorDep] = []
        barriers: list[BarrierDep] = []
        for name, kind, arg in plan.inputs:
            producer = producer_of.get(name)
            if kind == COLLECTED:
                child = scopes[plan.scope + (arg,)]
                if producer is None or nodes[name].is_expander:
                    # the items themselves, or a constant per item
                    barriers.append(BarrierDep(arg, -1))
                    child.barrier_dependents.setdefault(-1, []).append(plan.local_index)
                else:
                    barriers.append(BarrierDep(arg, producer.local_index))
                    child.barrier_dependents.setdefault(producer.local_index, []).append(
                        plan.local_index
                    )
            elif producer is not None and producer is not plan:
                if producer.scope == plan.scope:
                    local.append(producer.local_index)
                    producer.local_dependents.append(plan.local_index)
                else:
                    ancestors.append(AncestorDep(producer.depth, producer.local_index))
        plan.local_deps = tuple(sorted(set(local)))
        plan.ancestor_deps = plain(sorted(set(ancestors)))
        plan.barrier_deps = plain(sorted(set(barriers)))
    for plan in plans:
        plan.local_dependents = sorted(set(plan.local_dependents))
    for scope_plan in scopes.values():
        for dependents in scope_plan.barrier_dependents.values():
            dependents[:] = sorted(set(dependents))
        scope_plan.initial_waits = [g.static_wait_count for g in scope_plan.groups]


def _fill_gathered_names(
    plans: list[GroupPlan], scopes: dict[Scope, ScopePlan], computed: Collection[str]
) -> None:
    """Sets what each parent gathers from a child scope, and which of those are constants."""
    for plan in plans:
        for name, kind, expander in plan.inputs:
            if kind != COLLECTED:
                continue
            child = scopes[plan.scope + (expander,)]
            if name == expander:
                child.collects_items = True
            elif name not in child.collected_names:
                child.collected_names += (name,)
    for scope_plan in scopes.values():
        scope_plan.constant_names = tuple(
            n for n in scope_plan.collected_names if n not in computed
        )


def _mark_light_scopes(scopes: dict[Scope, ScopePlan]) -> None:
    """Marks light the block scopes whose only template needs no per-instance bookkeeping."""
    for sc, plan in scopes.items():
        if sc and len(plan.groups) == 1 and not plan.children:
            g = plan.groups[0]
            plan.light = (
                not g.local_deps
                and not g.barrier_deps
                and not g.env_exports
                and not g.expander_exports
                and set(g.ancestor_deps) <= set(plan.pull_prereqs)
                and all(kind == ENV for _, kind, _ in g.inputs)
            )
            g.light = plan.light


def _plan_releases(scopes: dict[Scope, ScopePlan], outputs: Collection[str]) -> None:
    """Counts, per scope, the reads after which an environment value can be dropped.

    A value in an instance's environment is read by templates of the same scope (done
    when that template completes for the instance) and by templates of a direct child
    scope (done at the fan-in of that template over the instance's expansion). Values
    read deeper, requested outputs and per-item constants stay until the instance ends.
    """
    kept = set(outputs)
    for plan in scopes.values():
        kept.update(plan.constant_names)
    for sc, plan in scopes.items():
        if plan.light:
            continue
        depth = len(sc)
        counts: dict[str, int] = {}
        pinned: set[str] = set(kept) if depth == 0 else set()
        for other_scope, other in scopes.items():
            if other_scope[:depth] != sc:
                continue
            for g in other.groups:
                reads = [n for n, kind, source in g.inputs if kind == ENV and source == depth]
                if not reads:
                    continue
                if other_scope == sc:
                    g.releases = tuple(reads)
                elif len(other_scope) == depth + 1:
                    other.parent_releases[g.local_index] = tuple(reads)
                else:
                    pinned.update(reads)
                    continue
                for name in reads:
                    counts[name] = counts.get(name, 0) + 1
        plan.release_counts = {n: c for n, c in counts.items() if n not in pinned}
    for plan in scopes.values():
        for g in plan.groups:
            g.releases = tuple(n for n in g.releases if n in plan.release_counts)
        parent = scopes.get(plan.scope[:-1]) if plan.scope else None
        if parent is not None:
            plan.parent_releases = {
                local: names
                for local, reads in plan.parent_releases.items()
                if (names := tuple(n for n in reads if n in parent.release_counts))
            }


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


def _assign_pull_prereqs(scopes: dict[Scope, ScopePlan], groups: list[GroupPlan]) -> None:
    """For each fan-out: the ancestor templates that must finish before items are pulled.

    Those are the ancestor dependencies of the block's templates that do not themselves wait
    for the block (a later phase that needs the block's fan-in cannot be waited for).
    """
    dependents: dict[int, set[int]] = {g.index: set() for g in groups}
    by_scope_local = {(g.scope, g.local_index): g for g in groups}
    expanded_by = {(g.scope, name): g for g in groups for name in g.template.expanders}
    for g in groups:
        for local in g.local_deps:
            dependents[by_scope_local[(g.scope, local)].index].add(g.index)
        for depth, local in g.ancestor_deps:
            dependents[by_scope_local[(g.scope[:depth], local)].index].add(g.index)
        for expander, local in g.barrier_deps:
            if local >= 0:
                dependents[by_scope_local[(g.scope + (expander,), local)].index].add(g.index)
            elif (g.scope, expander) in expanded_by:
                # waiting for every item of an expander waits for the template running it
                dependents[expanded_by[(g.scope, expander)].index].add(g.index)
    for sc, plan in scopes.items():
        if not sc:
            continue
        # Templates inside the block, and fan-ins of its bare items (or of per-item
        # constants), which wait for every item to be pulled.
        inside = [
            g.index
            for g in groups
            if g.scope[: len(sc)] == sc or (g.scope == sc[:-1] and (sc[-1], -1) in g.barrier_deps)
        ]
        downstream: set[int] = set(inside)
        stack = list(inside)
        while stack:
            i = stack.pop()
            for j in dependents[i]:
                if j not in downstream:
                    downstream.add(j)
                    stack.append(j)
        prereqs = set()
        for g in plan.groups:
            for depth, local in g.ancestor_deps:
                producer = by_scope_local[(g.scope[:depth], local)]
                if producer.index not in downstream:
                    prereqs.add(AncestorDep(depth, local))
        plan.pull_prereqs = plain(sorted(prereqs))
