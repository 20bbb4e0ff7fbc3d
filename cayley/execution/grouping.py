"""How the nodes of a run are grouped into tasks.

A grouping strategy proposes groups; the planner then splits any group that spans
``Parallelizable`` scopes or fan-in barriers (a task cannot pause half-way for a fan-in),
and rejects groupings whose tasks would depend on each other in a cycle.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from cayley.node import Node

__all__ = [
    "GroupByRepeatableBlocks",
    "GroupNodesAllAsOne",
    "GroupNodesByLevel",
    "GroupNodesIndividually",
    "GroupingStrategy",
    "NodeGroup",
    "NodeGroupPurpose",
]


class NodeGroupPurpose(enum.Enum):
    """What a task is for; executors and hooks may use it."""

    EXPAND_UNORDERED = "expand_unordered"  # produces the items of a Parallelizable
    GATHER = "gather"  # collects the per-item values of a block
    EXECUTE_BLOCK = "execute_block"  # runs once per item
    EXECUTE_SINGLE = "execute_single"  # runs once

    def is_expander(self) -> bool:
        """Whether the group produces items."""
        return self is NodeGroupPurpose.EXPAND_UNORDERED

    def is_gatherer(self) -> bool:
        """Whether the group collects items."""
        return self is NodeGroupPurpose.GATHER


@dataclass
class NodeGroup:
    """A set of nodes meant to run together as one task.

    An empty ``base_id`` lets the planner name the task after its scope (``root``,
    ``block-<expander>``).
    """

    base_id: str
    spawning_task_base_id: str | None = None
    nodes: list[Node] = field(default_factory=list)
    purpose: NodeGroupPurpose = NodeGroupPurpose.EXECUTE_SINGLE


class GroupingStrategy(abc.ABC):
    """Proposes how to split the nodes of a run into tasks."""

    @abc.abstractmethod
    def group_nodes(self, nodes: Sequence[Node]) -> list[NodeGroup]:
        """Groups covering every node exactly once, in any order."""


class GroupByRepeatableBlocks(GroupingStrategy):
    """As few tasks as possible: one per block of each fan-out, one per phase outside blocks.

    This is the default. Tiny per-item tasks are batched by the scheduler, so a block of a
    million items does not mean a million round trips.
    """

    def group_nodes(self, nodes: Sequence[Node]) -> list[NodeGroup]:
        """One proposal with every node; the planner splits it at scope boundaries."""
        return [NodeGroup("", None, list(nodes))] if nodes else []


class GroupNodesAllAsOne(GroupByRepeatableBlocks):
    """Everything in one task where the graph allows it (same as the default)."""


class GroupNodesIndividually(GroupingStrategy):
    """One task per node (and per item inside blocks)."""

    def group_nodes(self, nodes: Sequence[Node]) -> list[NodeGroup]:
        """One group per node, named after it."""
        return [NodeGroup(n.name, None, [n]) for n in nodes]


class GroupNodesByLevel(GroupingStrategy):
    """One task per topological level: nodes at the same distance from the inputs."""

    def group_nodes(self, nodes: Sequence[Node]) -> list[NodeGroup]:
        """Groups ``level_0``, ``level_1``, ... by longest path from the run's sources."""
        by_name = {n.name: n for n in nodes}
        level: dict[str, int] = {}
        for n in nodes:  # nodes arrive in topological order
            level[n.name] = max(
                (level[d] + 1 for d in n.input_types if d in by_name and d in level), default=0
            )
        groups: dict[int, list[Node]] = {}
        for n in nodes:
            groups.setdefault(level[n.name], []).append(n)
        return [NodeGroup(f"level_{i}", None, groups[i]) for i in sorted(groups)]
