"""What a compiled plan is: scopes, task templates and the records that wire them.

:mod:`cayley.execution.plan` builds these; the run state (:mod:`cayley.execution.state`)
and the scheduler read them. The records are named tuples (:class:`TaskInput`,
:class:`Export`, :class:`AncestorDep`, :class:`BarrierDep`); the plans store them as exact
tuples with the same fields, because the run state unpacks them once per instance and
CPython unpacks an exact tuple several times faster than a tuple subclass.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cayley.execution.runner import TaskTemplate

__all__ = [
    "COLLECTED",
    "ENV",
    "AncestorDep",
    "BarrierDep",
    "ExecutionPlan",
    "Export",
    "GroupPlan",
    "Scope",
    "ScopePlan",
    "TaskInput",
    "plain",
]

Scope = tuple[str, ...]

#: Where a task input comes from.
ENV = 0  # the environment of the instance at a given depth (an ancestor or the instance itself)
COLLECTED = 1  # the per-item values gathered by an expansion of the instance


class TaskInput(NamedTuple):
    """A value a template reads from outside itself."""

    name: str
    kind: int  # ENV or COLLECTED
    #: For ENV, the depth of the instance whose environment holds it (0: the root); for
    #: COLLECTED, the expander whose items gathered it.
    source: Any


class Export(NamedTuple):
    """A value a template hands back: its position in the task's rows, and its name."""

    position: int
    name: str


class AncestorDep(NamedTuple):
    """A template of an enclosing instance: its depth and its index within that scope."""

    depth: int
    local: int


class BarrierDep(NamedTuple):
    """A fan-in: every item of ``expander`` ran child template ``local`` (-1: pulled)."""

    expander: str
    local: int


def plain(records: Collection[tuple[Any, ...]]) -> tuple[tuple[Any, ...], ...]:
    """Named tuples as exact tuples with the same fields (fast to unpack)."""
    return tuple(tuple(record) for record in records)


@dataclass(eq=False)
class GroupPlan:
    """A task template plus how the scheduler feeds it and routes its results.

    Record fields hold exact tuples laid out as the named tuple in their comment.
    """

    index: int
    local_index: int
    scope: Scope
    template: TaskTemplate
    inputs: tuple[tuple[str, int, Any], ...]  # TaskInput
    env_exports: tuple[tuple[int, str], ...]  # Export: kept in the instance's environment
    collect_exports: tuple[tuple[int, str], ...]  # Export: gathered into the parent's lists
    expander_exports: tuple[tuple[int, str], ...]  # Export: items of a fan-out
    local_deps: tuple[int, ...] = ()
    ancestor_deps: tuple[tuple[int, int], ...] = ()  # AncestorDep
    barrier_deps: tuple[tuple[str, int], ...] = ()  # BarrierDep
    local_dependents: list[int] = field(default_factory=list)
    depth: int = 0  # how many fan-outs this template runs under
    light: bool = False  # the only template of a light scope (see ScopePlan.light)
    #: Names of its own instance's environment this template reads, counted in
    #: ``ScopePlan.release_counts``.
    releases: tuple[str, ...] = ()
    #: Seconds per item of this template's last task, in any run of the plan: the scheduler
    #: sizes batches from it, so a plan run again batches from its first task.
    item_seconds: float | None = None

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
    pull_prereqs: tuple[tuple[int, int], ...] = ()  # AncestorDep, as exact tuples
    children: dict[str, ScopePlan] = field(default_factory=dict)
    depth: int = 0  # number of enclosing fan-outs
    initial_waits: list[int] = field(default_factory=list)  # per template, before ancestors
    #: One template that needs nothing but the item and values known when items are pulled,
    #: and hands back only gathered values: its items skip per-instance bookkeeping.
    light: bool = False
    #: Per environment name that can be dropped before the instance ends: how many reads
    #: it waits for (templates of the scope, fan-ins of child templates reading it).
    release_counts: dict[str, int] = field(default_factory=dict)
    #: Per template of this (child) scope: names of the parent's environment it reads,
    #: released at the fan-in of that template.
    parent_releases: dict[int, tuple[str, ...]] = field(default_factory=dict)

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
