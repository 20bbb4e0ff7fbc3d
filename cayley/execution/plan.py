"""Compiling a request into an execution plan, once per (outputs, inputs, overrides).

The plan prunes the graph to what the outputs need, assigns every node a *scope* (the
``Parallelizable`` expanders it runs under) and a *phase* (how many scope crossings lie
upstream of it), and groups nodes into task templates. Within a scope, a phase is a set
of nodes that can run together without waiting for a fan-in; crossing a scope or a fan-in
always moves to a later phase, so templates can never wait on each other in a cycle.

Everything that does not depend on input values is resolved here: the ordered steps of
each template, where each of its inputs comes from, what it must hand back, and which
templates and fan-ins it waits for.
"""

from __future__ import annotations

import graphlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from cayley import htypes
from cayley.execution.grouping import GroupingStrategy, NodeGroupPurpose
from cayley.execution.runner import Step, TaskTemplate
from cayley.graph import FunctionGraph
from cayley.node import DependencyType, Node

__all__ = ["ExecutionPlan", "GroupPlan", "ScopePlan", "compile_plan", "MissingInputsError"]

Scope = tuple[str, ...]

#: Where a task input comes from.
ENV = 0  # the environment of the instance at a given depth (an ancestor or the instance itself)
COLLECTED = 1  # the per-item values gathered by an expansion of the instance


class MissingInputsError(ValueError):
    """Inputs the requested outputs need were not provided."""


def _identity(value: Any) -> Any:
    return value


def _gather(values: list[Any]) -> list[Any]:
    return values


@dataclass(eq=False)
class GroupPlan:
    """A task template plus how the scheduler feeds it and routes its results."""

    index: int
    local_index: int
    scope: Scope
    template: TaskTemplate
    inputs: tuple[tuple[str, int, Any], ...]  # (name, ENV, depth) | (name, COLLECTED, expander)
    env_exports: tuple[tuple[int, str], ...]  # (position in exports, name)
    collect_exports: tuple[tuple[int, str], ...]
    expander_exports: tuple[tuple[int, str], ...]
    local_deps: tuple[int, ...] = ()
    ancestor_deps: tuple[tuple[int, int], ...] = ()  # (depth, local index there)
    barrier_deps: tuple[tuple[str, int], ...] = ()  # (expander, child local index | -1)
    local_dependents: list[int] = field(default_factory=list)
    depth: int = 0  # how many fan-outs this template runs under
    light: bool = False  # the only template of a light scope (see ScopePlan.light)

    def __post_init__(self) -> None:
        self.depth = len(self.scope)

    @property
    def base_id(self) -> str:
        """The template's id; task ids are built from it."""
        return self.template.base_id

    @property
    def static_wait_count(self) -> int:
        """Dependencies resolved inside the instance itself (local templates and fan-ins)."""
        return len(self.local_deps) + len(self.barrier_deps)


@dataclass(eq=False)
class ScopePlan:
    """The templates that run once per instance of a scope (the root, or an item)."""

    scope: Scope
    groups: list[GroupPlan] = field(default_factory=list)
    collected_names: tuple[str, ...] = ()  # values gathered into the parent's lists
    collects_items: bool = False  # the parent gathers the items themselves
    constant_names: tuple[str, ...] = ()  # gathered names that are overrides: same per item
    barrier_dependents: dict[int, list[int]] = field(default_factory=dict)
    pull_prereqs: tuple[tuple[int, int], ...] = ()
    children: dict[str, ScopePlan] = field(default_factory=dict)
    depth: int = 0  # number of enclosing fan-outs
    initial_waits: list[int] = field(default_factory=list)  # per template, before ancestors
    #: One template that needs nothing but the item and values known when items are pulled,
    #: and hands back only gathered values: its items skip per-instance bookkeeping.
    light: bool = False

    def __post_init__(self) -> None:
        self.depth = len(self.scope)


@dataclass(eq=False)
class ExecutionPlan:
    """Everything needed to run one kind of request."""

    root: ScopePlan
    groups: list[GroupPlan]
    outputs: dict[str, str]  # requested name -> name in the root environment
    constants: tuple[str, ...]  # inputs and overrides the run reads
    execution_path: list[str]  # graph nodes that will run, in topological order
    scopes: dict[Scope, ScopePlan]

    @property
    def is_flat(self) -> bool:
        """Whether the plan has no fan-out at all."""
        return not self.root.children


def _missing_inputs_message(graph: FunctionGraph, missing: Sequence[str], needed: set[str]) -> str:
    lines = []
    for name in missing:
        consumers = sorted(c for c in graph.dependents[name] if c in needed)
        if consumers:
            lines.append(f"  Error: Required input {name} not provided for nodes: {consumers}.")
        else:
            lines.append(f"  Error: Input {name} was requested as an output but not provided.")
    return f"{len(missing)} errors encountered:\n" + "\n".join(lines)


def compile_plan(
    graph: FunctionGraph,
    outputs: Sequence[str],
    provided: Collection[str],
    overridden: Collection[str],
    strategy: GroupingStrategy,
) -> ExecutionPlan:
    """Compiles the plan computing ``outputs`` from inputs named ``provided``."""
    graph.check_names(outputs)
    needed = graph.required_nodes(outputs, provided, overridden)
    # A block runs once per item even when its nodes no longer read the item (overrides):
    # the expanders of every needed scope are needed too.
    # An overridden node gathered by a Collect still comes once per item: its fan-out too.
    while True:
        expanders = set()
        for name in needed:
            if name in overridden:
                continue
            expanders.update(graph.scopes[name])
            node = graph.nodes[name]
            for param, dep in zip(node.input_types, graph.dependencies[name]):
                if param in node.collect_params and dep in overridden:
                    expanders.update(graph.scopes[dep])
        expanders -= needed
        if not expanders:
            break
        needed |= graph.required_nodes(expanders, provided, overridden)
    missing = sorted(
        n
        for n in needed
        if graph.nodes[n].user_defined and n not in provided and n not in overridden
    )
    if missing:
        raise MissingInputsError(_missing_inputs_message(graph, missing, needed))
    order = graph.in_topological_order(needed)
    constants = {n for n in needed if n in overridden or graph.nodes[n].user_defined}
    scope: dict[str, Scope] = {}
    nodes: dict[str, Node] = {}
    # (parameter, source name, gathered?) for each computed node, optional misses dropped
    args: dict[str, list[tuple[str, str, bool]]] = {}
    for name in order:
        node = graph.nodes[name]
        if name in constants and not (node.is_expander and not node.user_defined):
            continue
        if name in constants:
            # An overridden expander still fans out: its items are the override's.
            nodes[name] = Node(name, node.type, callabl=_identity, input_types={"value": Any})
            args[name] = [("value", name, False)]
        else:
            nodes[name] = node
            args[name] = [
                (param, dep, param in node.collect_params)
                for (param, (_, dep_type)), dep in zip(
                    node.input_types.items(), graph.dependencies[name]
                )
                if dep in needed or dep_type == DependencyType.REQUIRED
            ]
        scope[name] = graph.scopes[name]
    computed = list(nodes)

    # Outputs computed inside blocks come back as (nested) lists: gather them up to the root.
    output_map: dict[str, str] = {}
    synthetic: list[str] = []
    for out in dict.fromkeys(outputs):
        if out in constants and out not in nodes:
            output_map[out] = out
            continue
        current = out
        current_scope = scope[out]
        gathered = False
        if nodes[out].is_expander:
            gathered = True  # requesting an expander gives its items
        elif not current_scope:
            output_map[out] = out
            continue
        level_count = len(current_scope) + (1 if gathered else 0)
        for step in range(level_count):
            new = f"{out}\x00gathered{step}"
            is_items = gathered and step == 0
            nodes[new] = Node(
                new, list, callabl=_gather, input_types={"values": htypes.Collect[Any]}
            )
            args[new] = [("values", current, True)]
            current_scope = current_scope if is_items else current_scope[:-1]
            scope[new] = current_scope
            synthetic.append(new)
            current = new
        output_map[out] = current

    all_names = computed + synthetic
    phase = _phases(all_names, args, nodes, scope, graph.scopes)

    # The strategy proposes; scopes and phases split the proposals.
    proposals = strategy.group_nodes([nodes[n] for n in computed]) if computed else []
    proposal_of: dict[str, tuple[int, str]] = {}
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
            proposal_of[node.name] = (index, group.base_id)
    left_out = [n for n in computed if n not in proposal_of]
    if left_out:
        raise ValueError(
            f"Grouping strategy {type(strategy).__name__} left nodes {left_out} out of every group."
        )
    for name in synthetic:
        proposal_of[name] = (-1, "")

    keyed: dict[tuple[int, Scope, int], list[str]] = {}
    for name in all_names:
        keyed.setdefault((proposal_of[name][0], scope[name], phase[name]), []).append(name)

    # Names: the proposal's id, or the scope's ("root", "block-<expander>"), suffixed by phase.
    group_key_names: dict[tuple[int, Scope, int], str] = {}
    by_base: dict[str, list[tuple[int, Scope, int]]] = {}
    for key in keyed:
        base = proposal_of[keyed[key][0]][1]
        if not base:
            base = f"block-{key[1][-1]}" if key[1] else "root"
        by_base.setdefault(base, []).append(key)
    used: set[str] = set()
    for base, keys in by_base.items():
        keys.sort(key=lambda k: (len(k[1]), k[2], k[0]))
        for i, key in enumerate(keys):
            candidate = base if i == 0 else f"{base}-{i}"
            while candidate in used:
                candidate += "'"
            used.add(candidate)
            group_key_names[key] = candidate

    group_of: dict[str, tuple[int, Scope, int]] = {}
    for key, members in keyed.items():
        for name in members:
            group_of[name] = key

    # Inputs of each group, and dependencies between groups.
    def expander_of(name: str) -> str:
        return (scope[name] if name in scope else graph.scopes[name])[-1]

    group_inputs: dict[tuple, dict[str, tuple[str, int, Any]]] = {k: {} for k in keyed}
    group_deps: dict[tuple, set[tuple]] = {k: set() for k in keyed}
    consumers: dict[str, set[tuple[tuple, int]]] = {}  # produced name -> {(group, kind)}
    for key, members in keyed.items():
        produced: set[str] = set()
        for name in members:
            for _, dep, is_collect in args[name]:
                if dep in produced:
                    continue
                computed_dep = dep in nodes and dep != name
                if is_collect:
                    is_items = computed_dep and nodes[dep].is_expander
                    group_inputs[key][dep] = (dep, COLLECTED, dep if is_items else expander_of(dep))
                elif not computed_dep:
                    group_inputs[key][dep] = (dep, ENV, 0)  # an input or an override
                else:
                    depth = len(scope[dep]) + (1 if nodes[dep].is_expander else 0)
                    group_inputs[key][dep] = (dep, ENV, depth)
                if computed_dep:
                    group_deps[key].add(group_of[dep])
                    consumers.setdefault(dep, set()).add((key, COLLECTED if is_collect else ENV))
            produced.add(name)
        group_deps[key].discard(key)

    sorter = graphlib.TopologicalSorter(group_deps)
    try:
        group_order = list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = " -> ".join(group_key_names[k] for k in exc.args[1])
        raise ValueError(
            f"Grouping strategy {type(strategy).__name__} produced tasks that depend on each "
            f"other in a cycle: {cycle}. Group nodes so that each task can run start to finish."
        ) from exc

    outputs_at_root = set(output_map.values())
    scopes: dict[Scope, ScopePlan] = {(): ScopePlan(())}
    for name in computed:
        if nodes[name].is_expander:
            child = scope[name] + (name,)
            scopes.setdefault(child, ScopePlan(child))
    for key in group_order:
        scopes.setdefault(key[1], ScopePlan(key[1]))
    for sc, plan in scopes.items():
        if sc:
            scopes[sc[:-1]].children[sc[-1]] = plan

    groups: list[GroupPlan] = []
    plan_of: dict[tuple, GroupPlan] = {}
    for key in group_order:
        members = keyed[key]
        member_set = set(members)
        exports: list[str] = []
        for name in members:
            external = any(ck != key for ck, _ in consumers.get(name, ()))
            if external or name in outputs_at_root or nodes[name].is_expander:
                exports.append(name)
        export_set = set(exports)
        last_use: dict[str, int] = {}
        for i, name in enumerate(members):
            for _, dep, _ in args[name]:
                last_use[dep] = i
        drops: list[list[str]] = [[] for _ in members]
        for dep, i in last_use.items():
            if dep not in export_set and (dep in member_set or dep in group_inputs[key]):
                if dep == members[i]:
                    continue
                drops[i].append(dep)
        steps: list[Step] = []
        for i, name in enumerate(members):
            node = nodes[name]
            pairs = tuple((param, dep) for param, dep, _ in args[name])
            steps.append((name, node.callable, pairs, tuple(drops[i]), node))
        purpose = _purpose(members, nodes, key[1])
        graph_nodes = tuple(nodes[n] for n in members if "\x00" not in n)
        template = TaskTemplate(
            base_id=group_key_names[key],
            steps=tuple(steps),
            exports=tuple(exports),
            expanders=frozenset(n for n in members if nodes[n].is_expander),
            purpose=purpose,
            nodes=graph_nodes,
        )
        env_exports, collect_exports, expander_exports = [], [], []
        for pos, name in enumerate(exports):
            kinds = {kind for _, kind in consumers.get(name, ())}
            if nodes[name].is_expander:
                expander_exports.append((pos, name))  # items go to the child instances
                continue
            if ENV in kinds or name in outputs_at_root:
                env_exports.append((pos, name))
            if COLLECTED in kinds:
                collect_exports.append((pos, name))
        scope_plan = scopes[key[1]]
        group = GroupPlan(
            index=len(groups),
            local_index=len(scope_plan.groups),
            scope=key[1],
            template=template,
            inputs=tuple(group_inputs[key].values()),
            env_exports=tuple(env_exports),
            collect_exports=tuple(collect_exports),
            expander_exports=tuple(expander_exports),
        )
        scope_plan.groups.append(group)
        groups.append(group)
        plan_of[key] = group

    for group in groups:
        local, ancestors, barriers = [], [], []
        for name, kind, arg in group.inputs:
            producer = plan_of[group_of[name]] if name in group_of else None
            if kind == COLLECTED:
                child = scopes[group.scope + (arg,)]
                if producer is None or nodes[name].is_expander:
                    barriers.append((arg, -1))  # the items themselves, or a constant per item
                    child.barrier_dependents.setdefault(-1, []).append(group.local_index)
                else:
                    barriers.append((arg, producer.local_index))
                    child.barrier_dependents.setdefault(producer.local_index, []).append(
                        group.local_index
                    )
            elif producer is not None and producer is not group:
                if producer.scope == group.scope:
                    local.append(producer.local_index)
                    producer.local_dependents.append(group.local_index)
                else:
                    ancestors.append((producer.depth, producer.local_index))
        group.local_deps = tuple(sorted(set(local)))
        group.ancestor_deps = tuple(sorted(set(ancestors)))
        group.barrier_deps = tuple(sorted(set(barriers)))

    # What the parent gathers from each child scope.
    for group in groups:
        for name, kind, expander in group.inputs:
            if kind != COLLECTED:
                continue
            child = scopes[group.scope + (expander,)]
            if name == expander:
                child.collects_items = True
            elif name not in child.collected_names:
                child.collected_names += (name,)

    for plan in scopes.values():
        plan.constant_names = tuple(n for n in plan.collected_names if n not in group_of)
        plan.initial_waits = [g.static_wait_count for g in plan.groups]
    _assign_pull_prereqs(scopes, groups)
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
    for plan in scopes.values():
        for dependents in plan.barrier_dependents.values():
            dependents[:] = sorted(set(dependents))
    for group in groups:
        group.local_dependents = sorted(set(group.local_dependents))

    execution_path = [n for n in order if n in nodes and n not in constants]
    return ExecutionPlan(
        root=scopes[()],
        groups=groups,
        outputs=output_map,
        constants=tuple(sorted(constants)),
        execution_path=execution_path,
        scopes=scopes,
    )


def _phases(
    names: list[str],
    args: dict[str, list[tuple[str, str, bool]]],
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
    for g in groups:
        for local in g.local_deps:
            dependents[by_scope_local[(g.scope, local)].index].add(g.index)
        for depth, local in g.ancestor_deps:
            dependents[by_scope_local[(g.scope[:depth], local)].index].add(g.index)
        for expander, local in g.barrier_deps:
            if local >= 0:
                dependents[by_scope_local[(g.scope + (expander,), local)].index].add(g.index)
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
                    prereqs.add((depth, local))
        plan.pull_prereqs = tuple(sorted(prereqs))
