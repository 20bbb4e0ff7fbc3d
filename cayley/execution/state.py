"""The state of one run of a plan: instances, expansions, and which templates are ready.

The root of the run is an *instance* of the root scope; every item a ``Parallelizable``
yields becomes an instance of the expander's block scope. Each instance runs each of its
scope's task templates once, as soon as that template's dependencies are met: templates of
the same instance, templates of enclosing instances, and fan-ins (all items of a child
expansion done).

:class:`RunState` keeps that bookkeeping and nothing else, the way
:class:`graphlib.TopologicalSorter` keeps its own: the loop in
:mod:`cayley.execution.scheduler` takes ready instances from :attr:`RunState.ready`, asks
for items with :meth:`RunState.next_expansion` / :meth:`RunState.pull`, and reports what
finished with :meth:`RunState.complete` / :meth:`RunState.complete_light`. The state calls
no hooks and knows no executor.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from cayley._compat import add_note
from cayley.execution.plan_model import COLLECTED, ExecutionPlan, GroupPlan, ScopePlan

__all__ = ["Expansion", "Instance", "LightItem", "RunState"]


class Instance:
    """One execution of a scope: the root, or one item of a fan-out."""

    __slots__ = (
        "parent",
        "index",
        "depth",
        "plan",
        "env",
        "remaining",
        "done",
        "pending",
        "waiters",
        "expansions",
        "expansion",
        "uses",
    )

    def __init__(
        self,
        parent: Instance | None,
        index: int,
        plan: ScopePlan,
        env: dict[str, Any],
        expansion: Expansion | None,
    ) -> None:
        self.parent = parent
        self.index = index
        self.depth = plan.depth
        self.plan = plan
        #: Values this instance computed or received, by name.
        self.env = env
        #: The expansion this instance is an item of (None for the root).
        self.expansion = expansion
        waits = plan.initial_waits
        #: Per template of the scope: dependencies not met yet.
        self.remaining = waits.copy()
        #: Per template of the scope: whether it ran.
        self.done = [False] * len(waits)
        #: Templates of the scope that have not run yet.
        self.pending = len(waits)
        #: Child instances waiting for a template of this one: local index -> waiters.
        self.waiters: dict[int, list[tuple[Instance, int]]] | None = None
        #: This instance's fan-outs, by expander.
        self.expansions: dict[str, Expansion] | None = None
        #: Reads still to come of environment values dropped after their last read.
        self.uses = plan.release_counts.copy() if plan.release_counts else None

    def ancestor(self, depth: int) -> Instance:
        """The enclosing instance at ``depth`` (this one if it is at that depth)."""
        instance = self
        while instance.depth > depth:
            instance = instance.parent  # type: ignore[assignment]
        return instance

    def prefix(self) -> str:
        """Path-like id prefix: ``expand-outer.3.expand-inner.0.`` (empty for the root)."""
        expansion = self.expansion
        if expansion is None:
            return ""
        return f"{expansion.id_head}{self.index}."

    def item_path(self) -> str:
        """Human description of the item, e.g. ``item 3 of 'urls'`` (empty for the root)."""
        expansion = self.expansion
        if expansion is None:
            return ""
        return f"item {self.index}{expansion.path_tail}"


class LightItem:
    """An item of a light scope: its task inputs, without per-instance bookkeeping."""

    __slots__ = ("expansion", "index", "inputs")

    def __init__(self, expansion: Expansion, index: int, inputs: dict[str, Any]) -> None:
        self.expansion = expansion
        self.index = index
        self.inputs = inputs

    prefix = Instance.prefix
    item_path = Instance.item_path


class Expansion:
    """The items of one ``Parallelizable`` node within one instance."""

    __slots__ = (
        "expander",
        "instance",
        "plan",
        "spawner",
        "outer_prefix",
        "outer_path",
        "id_head",
        "path_tail",
        "spawner_task_id",
        "iterator",
        "count",
        "exhausted",
        "done_counts",
        "collected",
        "constants",
        "placeholders",
        "items",
    )

    def __init__(
        self, expander: str, instance: Instance, plan: ScopePlan, spawner: str, value: Any
    ) -> None:
        self.expander = expander
        self.instance = instance
        self.plan = plan
        #: Base id of the template whose task produced the items.
        self.spawner = spawner
        #: The enclosing instance's task-id prefix and item description, computed once
        #: because every item's label starts with them.
        self.outer_prefix = instance.prefix()
        self.outer_path = instance.item_path()
        #: What an item's id prefix and description put around the item's index.
        self.id_head = f"{self.outer_prefix}expand-{expander}."
        self.path_tail = f" of {expander!r}" + (f" in {self.outer_path}" if self.outer_path else "")
        self.spawner_task_id = self.outer_prefix + spawner
        self.iterator: Iterator[Any] = iter(value)
        #: Items pulled so far.
        self.count = 0
        self.exhausted = False
        #: Per template of the child scope: items that ran it.
        self.done_counts = [0] * len(plan.groups)
        #: Per gathered name: one slot per item, filled as items finish.
        self.collected: dict[str, list[Any]] = {name: [] for name in plan.collected_names}
        if plan.collects_items:
            self.collected[expander] = []
        root = instance.ancestor(0)
        self.constants = [(self.collected[n], root.env[n]) for n in plan.constant_names]
        self.placeholders = [
            self.collected[n] for n in plan.collected_names if n not in plan.constant_names
        ]
        #: The items themselves, kept only when a hook wants them once all are known.
        self.items: list[Any] | None = None

    def spawner_id(self) -> str:
        """The id of the task that produced the items (the expander's task)."""
        return self.spawner_task_id

    def expansion_id(self) -> str:
        """``expand-<expander>`` under the instance's prefix: what item task ids start with."""
        return f"{self.outer_prefix}expand-{self.expander}"


class RunState:
    """What has run, what is ready, and what items are still to come, for one run.

    Attributes the loop reads:
        root: the root instance; the run is over when ``root.pending`` is 0.
        ready: per template (``GroupPlan.index``), the instances (or light items) ready
            to run it, in order.
        ready_groups: the templates with a non-empty ready queue.
        ready_count: the number of ready instances over all templates.
        exhausted: expansions whose generator ended since the loop last looked.
    """

    def __init__(
        self, plan: ExecutionPlan, constants: dict[str, Any], keep_items: bool = False
    ) -> None:
        self.plan = plan
        self.keep_items = keep_items
        self.ready: list[deque[Any]] = [deque() for _ in plan.groups]
        self.ready_groups: set[int] = set()
        self.ready_count = 0
        self.active: list[Expansion] = []
        self.exhausted: list[Expansion] = []
        self.root = Instance(None, 0, plan.root, dict(constants), None)
        self.start_instance(self.root)

    # ---- readiness ------------------------------------------------------------------------
    def start_instance(self, instance: Instance) -> None:
        """Queues the instance's templates that wait for nothing; waits for the others."""
        plan = instance.plan
        remaining = instance.remaining
        for group in plan.groups:
            local = group.local_index
            for depth, ancestor_local in group.ancestor_deps:
                ancestor = instance.ancestor(depth)
                if not ancestor.done[ancestor_local]:
                    if ancestor.waiters is None:
                        ancestor.waiters = {}
                    ancestor.waiters.setdefault(ancestor_local, []).append((instance, local))
                    remaining[local] += 1
            if remaining[local] == 0:
                self.ready[group.index].append(instance)
                self.ready_groups.add(group.index)
                self.ready_count += 1

    def release(self, instance: Instance, local: int) -> None:
        """One dependency of the instance's template ``local`` is met."""
        instance.remaining[local] -= 1
        if instance.remaining[local] == 0:
            index = instance.plan.groups[local].index
            self.ready[index].append(instance)
            self.ready_groups.add(index)
            self.ready_count += 1

    def complete(self, instance: Instance, group: GroupPlan, row: tuple[Any, ...]) -> None:
        """The instance ran ``group``; ``row`` holds its exports."""
        env = instance.env
        for pos, name in group.env_exports:
            env[name] = row[pos]
        expansion = instance.expansion
        if group.collect_exports:
            assert expansion is not None
            index = instance.index
            collected = expansion.collected
            for pos, name in group.collect_exports:
                collected[name][index] = row[pos]
        for pos, name in group.expander_exports:
            self.start_expansion(instance, name, group.base_id, row[pos])
        if group.releases:
            self.release_values(instance, group.releases)
        local = group.local_index
        instance.done[local] = True
        instance.pending -= 1
        if not instance.pending:
            # Its fan-ins have read what they gathered; dropping the expansions also breaks
            # the instance <-> expansion cycle, so the instance is freed without waiting
            # for the garbage collector.
            instance.expansions = None
        for dependent in group.local_dependents:
            self.release(instance, dependent)
        if instance.waiters is not None:
            waiting = instance.waiters.pop(local, None)
            if waiting:
                for child, child_local in waiting:
                    self.release(child, child_local)
        if expansion is not None:
            expansion.done_counts[local] += 1
            if expansion.exhausted and expansion.done_counts[local] == expansion.count:
                self.fan_in(expansion, local)

    def complete_light(
        self, group: GroupPlan, items: list[LightItem], rows: list[tuple[Any, ...]]
    ) -> None:
        """Light items ran their scope's only template; ``rows`` hold their exports."""
        exports = group.collect_exports
        for item, row in zip(items, rows):
            expansion = item.expansion
            collected = expansion.collected
            for pos, name in exports:
                collected[name][item.index] = row[pos]
            done = expansion.done_counts[0] + 1
            expansion.done_counts[0] = done
            if done == expansion.count and expansion.exhausted:
                self.fan_in(expansion, 0)

    def fan_in(self, expansion: Expansion, local: int) -> None:
        """Every item of ``expansion`` ran child template ``local`` (-1: every item pulled)."""
        plan = expansion.plan
        if plan.parent_releases:
            names = plan.parent_releases.get(local)
            if names:
                self.release_values(expansion.instance, names)
        for parent_local in plan.barrier_dependents.get(local, ()):
            self.release(expansion.instance, parent_local)

    @staticmethod
    def release_values(instance: Instance, names: tuple[str, ...]) -> None:
        """One read of each of ``names`` is done; values read for the last time are dropped."""
        uses = instance.uses
        assert uses is not None
        for name in names:
            left = uses[name] - 1
            uses[name] = left
            if left == 0:
                instance.env.pop(name, None)

    # ---- expansions -----------------------------------------------------------------------
    def start_expansion(self, instance: Instance, expander: str, spawner: str, value: Any) -> None:
        """The instance's task ``spawner`` produced the items of ``expander``."""
        plan = instance.plan.children[expander]
        try:
            expansion = Expansion(expander, instance, plan, spawner, value)
        except TypeError as exc:
            add_note(
                exc,
                f"node {expander!r} is annotated Parallelizable[...] but returned "
                f"{type(value).__name__}, which is not iterable",
            )
            raise
        if self.keep_items:
            expansion.items = []
        if instance.expansions is None:
            instance.expansions = {}
        instance.expansions[expander] = expansion
        self.active.append(expansion)

    def exhaust(self, expansion: Expansion) -> None:
        """The generator of ``expansion`` ended: fan-ins waiting only for that may run."""
        expansion.exhausted = True
        for local, done in enumerate(expansion.done_counts):
            if done == expansion.count:
                self.fan_in(expansion, local)
        self.fan_in(expansion, -1)
        self.exhausted.append(expansion)

    def pullable(self, expansion: Expansion) -> bool:
        """Whether the templates the items need from enclosing instances have run."""
        instance = expansion.instance
        for depth, local in expansion.plan.pull_prereqs:
            if not instance.ancestor(depth).done[local]:
                return False
        return True

    def next_expansion(self) -> Expansion | None:
        """The innermost expansion whose items may be pulled now, if any."""
        active = self.active
        for position in range(len(active) - 1, -1, -1):
            expansion = active[position]
            if expansion.exhausted:
                del active[position]
                continue
            if self.pullable(expansion):
                return expansion
        return None

    def pull(self, expansion: Expansion, wanted: int, until: float = math.inf) -> None:
        """Takes up to ``wanted`` items from the generator and makes them ready.

        Stops early once :func:`time.perf_counter` passes ``until``, so a slow generator
        does not hold the caller for long.
        """
        plan = expansion.plan
        iterator = expansion.iterator
        expander = expansion.expander
        collected_lists = expansion.placeholders
        constant_lists = expansion.constants
        items_list = expansion.collected.get(expander) if plan.collects_items else None
        hook_items = expansion.items
        parent = expansion.instance
        light_queue = None
        if plan.light:
            group = plan.groups[0]
            light_queue = self.ready[group.index]
            base = {}
            reads_item = False
            for name, _, depth in group.inputs:
                if depth == plan.depth:
                    reads_item = True
                else:
                    base[name] = parent.ancestor(depth).env[name]
            self.ready_groups.add(group.index)
        clock = time.perf_counter
        pulled = 0
        while pulled < wanted:
            # The clock is read before each of the first items and every 16 items after:
            # a slow generator stops after one or two items, a fast one pays nothing per item.
            if clock() > until:
                return
            block = 1 if pulled < 4 else min(16, wanted - pulled)
            pulled += block
            for _ in range(block):
                try:
                    item = next(iterator)
                except StopIteration:
                    self.exhaust(expansion)
                    self.active.remove(expansion)
                    return
                except Exception as exc:
                    add_note(
                        exc,
                        f"while producing item {expansion.count} of node {expander!r}"
                        + (f" in {parent.item_path()}" if parent.expansion is not None else ""),
                    )
                    raise
                index = expansion.count
                expansion.count = index + 1
                for values in collected_lists:
                    values.append(None)
                for values, constant in constant_lists:
                    values.append(constant)
                if items_list is not None:
                    items_list.append(item)
                if hook_items is not None:
                    hook_items.append(item)
                if light_queue is not None:
                    inputs = base.copy()
                    if reads_item:
                        inputs[expander] = item
                    light_queue.append(LightItem(expansion, index, inputs))
                    self.ready_count += 1
                elif plan.groups:
                    instance = Instance(parent, index, plan, {expander: item}, expansion)
                    self.start_instance(instance)

    # ---- values ---------------------------------------------------------------------------
    def inputs_of(self, instance: Instance, group: GroupPlan) -> dict[str, Any]:
        """The values ``group`` reads from outside itself, for ``instance``."""
        values: dict[str, Any] = {}
        depth = instance.depth
        for name, kind, source in group.inputs:
            if kind == COLLECTED:
                values[name] = instance.expansions[source].collected[name]  # type: ignore[index]
            elif source == depth:
                values[name] = instance.env[name]
            else:
                values[name] = instance.ancestor(source).env[name]
        return values

    def outputs(self) -> dict[str, Any]:
        """The requested outputs, once the root instance is done."""
        env = self.root.env
        return {name: env[source] for name, source in self.plan.outputs.items()}

    def pending_templates(self) -> list[str]:
        """Ids of the root templates that have not run (for error messages)."""
        root = self.root
        return [g.base_id for g in self.plan.root.groups if not root.done[g.local_index]]
