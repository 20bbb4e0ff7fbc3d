"""Hypothesis strategies: random :class:`~tests.proving.flows.Flow` graphs and requests.

:func:`flows` draws a dataflow of the shapes a :class:`Shapes` allows: plain nodes, fan-out
blocks (nested up to ``max_depth``), fan-ins with one or several ``Collect`` parameters (of
one block or of sibling blocks), functions that collect and fan out again, block nodes that
read a fan-in of their own block, optional parameters. :func:`requests` draws what to ask
of it: outputs (block nodes included), inputs (optional ones sometimes left out) and
overrides (of block nodes and expanders too).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.proving.flows import Flow, Node, Param

#: ``CAYLEY_FUZZ=deep`` draws fresh random examples, ten times as many; the default profile
#: is derandomized so every CI run checks the same graphs.
PROFILE = os.environ.get("CAYLEY_FUZZ", "ci")


def fuzz_settings(examples: int) -> settings:
    """Settings for a differential test of ``examples`` graphs in the chosen profile."""
    deep = PROFILE == "deep"
    return settings(
        max_examples=examples * 10 if deep else examples,
        derandomize=not deep,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


@dataclass(frozen=True)
class Shapes:
    """Which shapes the generator may produce."""

    max_depth: int = 3
    several_collects: bool = True  # two Collect parameters (one block or sibling blocks)
    regroup: bool = True  # a function that collects and returns Parallelizable
    normalize: bool = True  # block nodes reading a fan-in of their own block
    collect_items: bool = True  # Collect of the expander itself
    gathers_per_block: int = 2
    block_outputs: bool = True  # requesting nodes inside blocks
    block_overrides: bool = True  # overriding block nodes and expanders
    optional: bool = True  # optional parameters (inputs with defaults)
    optional_nodes: bool = True  # optional parameters naming computed nodes
    outside_reads: bool = True  # block nodes and fan-ins reading other computed nodes
    drop_inputs: bool = True  # requests may leave required inputs out
    max_nodes: int = 24  # no new statement once a flow has this many nodes


#: Everything cayley supports.
FULL = Shapes()
#: No fan-out at all.
PLAIN = Shapes(max_depth=0)
#: What Hamilton 1.90 runs correctly: one level of blocks, one Collect per function and per
#: block, no requests or overrides inside blocks, block nodes and fan-ins that read only
#: inputs from outside their block, optional parameters naming inputs only. Outside these
#: shapes it raises KeyError or TypeError, hangs, or (a block node reading another block's
#: fan-in) returns wrong values.
HAMILTON = Shapes(
    max_depth=1,
    several_collects=False,
    regroup=False,
    normalize=False,
    collect_items=False,
    gathers_per_block=1,
    block_outputs=False,
    block_overrides=False,
    optional_nodes=False,
    outside_reads=False,
    drop_inputs=False,
)


class _Generator:
    """Draws one flow, statement by statement, keeping track of what each scope may read."""

    def __init__(self, draw: Any, shapes: Shapes) -> None:
        self.draw = draw
        self.shapes = shapes
        self.flow = Flow()
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def readable(self, scope: tuple[str, ...]) -> list[str]:
        """Names a node in ``scope`` may read plainly."""
        names = [n for n, required in self.flow.inputs.items() if required]
        for node in self.flow.nodes.values():
            if scope[: len(node.inner)] != node.inner:
                continue
            if scope and node.inner != scope and not self.shapes.outside_reads:
                continue
            names.append(node.name)
        return names

    def local(self, scope: tuple[str, ...]) -> list[str]:
        """Names whose reading puts a node in ``scope`` (everything readable at the root)."""
        if not scope:
            return self.readable(scope)
        return [n.name for n in self.flow.nodes.values() if n.inner == scope]

    def collectable(self, inner: tuple[str, ...]) -> list[str]:
        """Names a fan-in of the block ``inner`` may collect."""
        names = [
            n.name for n in self.flow.nodes.values() if n.scope == inner and n.kind != "regroup"
        ]
        names = [n for n in names if not self.flow.nodes[n].expands]
        if self.shapes.collect_items:
            names.append(inner[-1])
        return names

    def optional_param(self, scope: tuple[str, ...]) -> Param | None:
        draw = self.draw
        if not self.shapes.optional or draw(st.integers(0, 3)) != 0:
            return None
        default = draw(st.integers(0, 20))
        if not self.shapes.optional_nodes or draw(st.booleans()):
            optional_inputs = [n for n, required in self.flow.inputs.items() if not required]
            if optional_inputs and draw(st.booleans()):
                name = draw(st.sampled_from(optional_inputs))
            else:
                name = self.fresh("opt")
                self.flow.inputs[name] = False
            return Param(name, "optional", default)
        root_nodes = [n.name for n in self.flow.nodes.values() if not n.scope and not n.expands]
        if not root_nodes:
            return None
        return Param(draw(st.sampled_from(root_nodes)), "optional", default)

    # ---- statements ----------------------------------------------------------------------
    def compute(self, scope: tuple[str, ...]) -> str:
        draw = self.draw
        first = draw(st.sampled_from(self.local(scope)))
        names = [first]
        for name in draw(st.lists(st.sampled_from(self.readable(scope)), max_size=2)):
            if name not in names:
                names.append(name)
        params = [Param(n) for n in names]
        optional = self.optional_param(scope)
        if optional is not None and optional.name not in names:
            params.append(optional)
        constants = tuple(draw(st.integers(1, 7)) for _ in params) + (draw(st.integers(0, 9)),)
        name = self.fresh("n")
        self.flow.add(Node(name, "compute", scope, tuple(params), constants))
        return name

    def gather(
        self, scope: tuple[str, ...], sources: list[list[str]], regroup: bool = False
    ) -> str:
        """A fan-in at ``scope`` collecting one name from each list of ``sources``."""
        draw = self.draw
        params = []
        for options in sources:
            name = draw(st.sampled_from(options))
            if all(p.name != name for p in params):
                params.append(Param(name, "collect"))
        if draw(st.integers(0, 2)) == 0:
            options = self.readable(scope)
            if not self.shapes.outside_reads:
                options = [n for n in options if n in self.flow.inputs]
            extra = draw(st.sampled_from(options))
            if all(p.name != extra for p in params):
                params.append(Param(extra))
        name = self.fresh("regroup" if regroup else "gather")
        kind = "regroup" if regroup else "gather"
        returns_list = not regroup and draw(st.booleans())
        constants = (draw(st.integers(1, 9)),)
        self.flow.add(Node(name, kind, scope, tuple(params), constants, returns_list))
        return name

    def block(self, scope: tuple[str, ...]) -> list[str]:
        """An expander in ``scope``, its block, its fan-ins; returns the fan-ins' names."""
        draw = self.draw
        source = draw(st.sampled_from(self.local(scope)))
        params = [Param(source)]
        if draw(st.booleans()):
            width = self.fresh("width")
            self.flow.inputs[width] = True
            params.append(Param(width))
        constants = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
        expander = self.fresh("fan")
        self.flow.add(
            Node(expander, "expand", scope, tuple(params), constants, False, draw(st.booleans()))
        )
        return self.block_body(scope, expander)

    def block_body(self, scope: tuple[str, ...], expander: str) -> list[str]:
        draw = self.draw
        inner = scope + (expander,)
        self.body(inner, draw(st.integers(1, 3)))
        collectable = self.collectable(inner)
        width = 2 if self.shapes.several_collects else 1
        gathered = []
        for _ in range(draw(st.integers(1, self.shapes.gathers_per_block))):
            sources = [collectable] * draw(st.integers(1, width))
            gathered.append(self.gather(scope, sources))
        if self.shapes.normalize and not self.full() and draw(st.integers(0, 3)) == 0:
            # block nodes reading a fan-in of their own block, gathered again
            local = draw(st.sampled_from(self.local(inner)))
            constants = (draw(st.integers(1, 7)), draw(st.integers(1, 7)), draw(st.integers(0, 9)))
            norm = self.fresh("norm")
            fan_in = draw(st.sampled_from(gathered))
            self.flow.add(Node(norm, "compute", inner, (Param(local), Param(fan_in)), constants))
            gathered.append(self.gather(scope, [[norm]]))
        if self.shapes.regroup and not self.full(room=4) and draw(st.integers(0, 3)) == 0:
            regroup = self.gather(scope, [collectable], regroup=True)
            gathered.extend(self.block_body(scope, regroup))
        return gathered

    def full(self, room: int = 0) -> bool:
        """Whether the flow has (almost) reached its size limit."""
        return len(self.flow.nodes) + room >= self.shapes.max_nodes

    def body(self, scope: tuple[str, ...], statements: int) -> None:
        draw = self.draw
        blocks: list[tuple[str, ...]] = []
        for _ in range(statements):
            if self.full() and len(self.local(scope)) > 1:
                break
            nest = len(scope) < self.shapes.max_depth and not self.full(room=6)
            if nest and draw(st.integers(0, 2)) == 0:
                before = set(self.flow.nodes)
                self.block(scope)
                new = [n for n in self.flow.nodes if n not in before]
                blocks.append(scope + (new[0],))
            else:
                self.compute(scope)
        if self.shapes.several_collects and len(blocks) >= 2 and draw(st.booleans()):
            first, second = draw(
                st.lists(st.sampled_from(blocks), min_size=2, max_size=2, unique=True)
            )
            self.gather(scope, [self.collectable(first), self.collectable(second)])


@st.composite
def flows(draw: Any, shapes: Shapes = FULL) -> Flow:
    """A random dataflow of the given shapes, with at least one block when blocks are allowed."""
    generator = _Generator(draw, shapes)
    for i in range(draw(st.integers(1, 2))):
        generator.flow.inputs[f"in{i}"] = True
    if shapes.max_depth > 0:
        generator.block(())
    generator.body((), draw(st.integers(1, 4)))
    return generator.flow


@dataclass(frozen=True)
class Request:
    """What one ``execute`` asks: outputs, inputs and overrides."""

    outputs: tuple[str, ...]
    inputs: dict[str, int]
    overrides: dict[str, Any]


@st.composite
def requests(draw: Any, flow: Flow, shapes: Shapes = FULL) -> Request:
    """Outputs, inputs and overrides for ``flow``."""
    nodes = list(flow.nodes.values())
    requestable = [n.name for n in nodes if shapes.block_outputs or not (n.scope or n.expands)]
    outputs = draw(st.lists(st.sampled_from(requestable), min_size=1, max_size=4, unique=True))
    overridable = [n for n in nodes if shapes.block_overrides or (not n.scope and not n.expands)]
    chosen = draw(st.lists(st.sampled_from(overridable), max_size=2, unique_by=lambda n: n.name))
    if not shapes.block_overrides:
        # Hamilton cannot override a fan-in whose block would still have to run
        chosen = [n for n in chosen if n.kind != "gather"]
    overrides: dict[str, Any] = {}
    for node in chosen:
        if node.expands or node.returns_list:
            overrides[node.name] = draw(st.lists(st.integers(0, 50), max_size=4))
        else:
            overrides[node.name] = draw(st.integers(0, 50))
    inputs = {}
    for name, required in flow.inputs.items():
        if required or draw(st.booleans()):
            inputs[name] = draw(st.integers(0, 30))
    if shapes.drop_inputs and draw(st.integers(0, 5)) == 5:
        # leave out an input: fine when only overridden nodes needed it, an error otherwise
        droppable = [n for n in inputs if flow.inputs[n]]
        if droppable:
            del inputs[draw(st.sampled_from(droppable))]
    return Request(tuple(outputs), inputs, overrides)


@st.composite
def cases(draw: Any, shapes: Shapes = FULL) -> tuple[Flow, Request]:
    """A flow and one request of it."""
    flow = draw(flows(shapes))
    return flow, draw(requests(flow, shapes))
