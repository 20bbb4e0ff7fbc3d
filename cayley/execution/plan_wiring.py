"""Linking the templates of a plan once they are built.

Each pass below fills in fields of the :mod:`cayley.execution.plan_model` records that
depend on all templates at once: which templates and fan-ins each waits for, what a
parent gathers from a child scope, which scopes are light, after which reads an
environment value can be dropped, and which templates must finish before a fan-out's
items are pulled.
"""

from __future__ import annotations

from collections.abc import Collection

from cayley.execution.plan_model import (
    COLLECTED,
    ENV,
    AncestorDep,
    BarrierDep,
    GroupPlan,
    Scope,
    ScopePlan,
    plain,
)
from cayley.node import Node

__all__ = [
    "assign_pull_prereqs",
    "fill_gathered_names",
    "mark_light_scopes",
    "plan_releases",
    "wire_dependencies",
]


def wire_dependencies(
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


def fill_gathered_names(
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


def mark_light_scopes(scopes: dict[Scope, ScopePlan]) -> None:
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


def plan_releases(scopes: dict[Scope, ScopePlan], outputs: Collection[str]) -> None:
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


def assign_pull_prereqs(scopes: dict[Scope, ScopePlan], groups: list[GroupPlan]) -> None:
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
