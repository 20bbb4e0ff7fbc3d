"""Generated dataflows as data: a spec, its module source, and a reference evaluator.

A :class:`Flow` lists nodes in dependency order. Each node says as data what it computes
(its kind, parameters and constants). :meth:`Flow.source` writes that as Python source for
cayley or for Hamilton; :class:`Reference` computes the same values by interpreting the
data directly, without running the generated code, so a bug in how the engines call the
functions cannot hide in the oracle.

Semantics the reference encodes (cayley's, and Hamilton's where it supports the shape):

- a node's *scope* is the tuple of ``Parallelizable`` nodes it runs under; it runs once
  per item of each (once per combination, for nested scopes);
- reading an expander plainly from inside its block gives the current item; a
  ``Collect[...]`` parameter gives the values of one block node for every item of the
  block, in item order (collecting the expander itself gives its items);
- an override replaces a node everywhere (the same value for every item); an overridden
  expander takes its items from the override; nothing only an override needed is computed;
- an optional parameter takes its default when it names an input that was not given;
- requesting a node inside a block gives a list with one value per item (nested lists for
  nested blocks); an overridden node comes back as given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MODULUS = 1009
ITEM_MODULUS = 97
MAX_ITEMS = 5  # an expander yields between 0 and MAX_ITEMS - 1 items

HELPERS = '''
def _v(x):
    """Folds an int or a (nested) list of ints into an int."""
    if isinstance(x, int):
        return x
    return (sum(_v(y) for y in x) * 3 + len(x)) % 1009
'''


def fold(value: Any) -> int:
    """The reference's own version of the generated ``_v`` helper."""
    if isinstance(value, int):
        return value
    return (sum(fold(v) for v in value) * 3 + len(value)) % MODULUS


@dataclass(frozen=True)
class Param:
    """One parameter: ``plain`` (a value), ``collect`` (all items) or ``optional``."""

    name: str
    mode: str = "plain"
    default: int = 0


@dataclass
class Node:
    """One generated function.

    Kinds:
        compute: ``(sum c_i * v(arg_i) + k) % 1009``.
        expand: yields (or returns a list of) ``count = s % 5`` items
            ``(s * c1 + i * c2) % 97``, where ``s`` is the sum of ``v(arg)``.
        gather: collects block values; an int ``(sum_j (j + 2) * sum(v(x) for x in col_j)
            + extra + k) % 1009`` or a list ``[(v(x) * (j + 1) + extra) % 1009 ...]``, where
            ``extra`` is the sum of ``v`` of its plain parameters.
        regroup: collects, then fans out again: yields ``(v(x) * c + extra) % 97`` for every
            collected ``x``.
    """

    name: str
    kind: str
    scope: tuple[str, ...]
    params: tuple[Param, ...]
    constants: tuple[int, ...]
    returns_list: bool = False
    generator: bool = True

    @property
    def expands(self) -> bool:
        """Whether the node is ``Parallelizable`` (its items open a block)."""
        return self.kind in ("expand", "regroup")

    @property
    def inner(self) -> tuple[str, ...]:
        """The scope its value is read in plainly: its own block for an expander."""
        return self.scope + (self.name,) if self.expands else self.scope


@dataclass
class Flow:
    """A generated dataflow: inputs (name to required?) and nodes in dependency order."""

    inputs: dict[str, bool] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)

    def add(self, node: Node) -> Node:
        """Appends ``node``; its parameters must already exist."""
        for param in node.params:
            assert param.name in self.nodes or param.name in self.inputs, param
        self.nodes[node.name] = node
        return node

    def scope_of(self, name: str) -> tuple[str, ...]:
        """The scope of a node (inputs live at the root)."""
        return self.nodes[name].scope if name in self.nodes else ()

    def annotation(self, name: str) -> str:
        """The type a plain parameter reading ``name`` is annotated with."""
        node = self.nodes.get(name)
        return "list" if node is not None and node.returns_list else "int"

    # ---- source ---------------------------------------------------------------------------
    def source(self, package: str = "cayley") -> str:
        """The module's source, importing ``Collect``/``Parallelizable`` from ``package``."""
        parts = [f"from {package}.htypes import Collect, Parallelizable\n", HELPERS]
        parts.extend(self._function(node) for node in self.nodes.values())
        return "\n\n".join(parts) + "\n"

    def _signature(self, node: Node) -> str:
        params = []
        for param in node.params:
            annotation = self.annotation(param.name)
            if param.mode == "collect":
                params.append(f"{param.name}: Collect[{annotation}]")
            elif param.mode == "optional":
                params.append(f"{param.name}: {annotation} = {param.default}")
            else:
                params.append(f"{param.name}: {annotation}")
        return ", ".join(params)

    def _function(self, node: Node) -> str:
        signature = self._signature(node)
        plain = [p.name for p in node.params if p.mode != "collect"]
        collected = [p.name for p in node.params if p.mode == "collect"]
        extra = " + ".join(f"_v({name})" for name in plain) or "0"
        if node.kind == "compute":
            terms = " + ".join(f"_v({p.name}) * {c}" for p, c in zip(node.params, node.constants))
            body = f"    return ({terms} + {node.constants[-1]}) % {MODULUS}"
            return f"def {node.name}({signature}) -> int:\n{body}"
        if node.kind == "expand":
            c1, c2 = node.constants
            lines = [
                f"    s = {extra}",
                f"    count = s % {MAX_ITEMS}",
            ]
            item = f"(s * {c1} + i * {c2}) % {ITEM_MODULUS}"
            if node.generator:
                lines += ["    for i in range(count):", f"        yield {item}"]
            else:
                lines += [f"    return [{item} for i in range(count)]"]
            return f"def {node.name}({signature}) -> Parallelizable[int]:\n" + "\n".join(lines)
        if node.kind == "gather":
            if node.returns_list:
                pieces = " + ".join(
                    f"[(_v(x) * {j + 1} + extra) % {MODULUS} for x in {name}]"
                    for j, name in enumerate(collected)
                )
                body = f"    extra = {extra}\n    return {pieces}"
                return f"def {node.name}({signature}) -> list:\n{body}"
            sums = " + ".join(
                f"sum(_v(x) for x in {name}) * {j + 2}" for j, name in enumerate(collected)
            )
            body = f"    return ({sums} + {extra} + {node.constants[0]}) % {MODULUS}"
            return f"def {node.name}({signature}) -> int:\n{body}"
        if node.kind == "regroup":
            loops = "\n".join(
                f"    for x in {name}:\n"
                f"        yield (_v(x) * {node.constants[0]} + extra) % {ITEM_MODULUS}"
                for name in collected
            )
            body = f"    extra = {extra}\n{loops}"
            return f"def {node.name}({signature}) -> Parallelizable[int]:\n{body}"
        raise ValueError(f"unknown kind {node.kind!r}")

    # ---- static requirements ----------------------------------------------------------------
    def needed_inputs(
        self, outputs: Iterable[str], given: Iterable[str], overrides: Iterable[str]
    ) -> set[str]:
        """Required inputs the request reads that are neither given nor overridden.

        Walks upstream as the engines do: an override stops the walk; a block's expander is
        needed by anything that collects from the block or asks for a block node (the number
        of items comes from it), even an overridden expander inside the block; an optional
        parameter naming an input that was not given is skipped.
        """
        given, overridden = set(given), set(overrides)
        missing: set[str] = set()
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            if name in overridden:
                return
            if name in self.inputs:
                if name not in given:
                    missing.add(name)
                return
            node = self.nodes[name]
            for param in node.params:
                if param.mode == "optional" and param.name in self.inputs:
                    if param.name not in given and param.name not in overridden:
                        continue
                visit(param.name)
                if param.mode == "collect":
                    source = self.nodes[param.name]
                    if not source.expands or source.scope != node.scope:
                        visit(source.scope[-1])

        for name in outputs:
            node = self.nodes.get(name)
            if node is not None and (name not in overridden or node.expands):
                for expander in node.scope:  # an overridden expander still fans out
                    visit(expander)
            visit(name)
        return missing


class Reference:
    """Computes requested outputs of a :class:`Flow` by interpreting its nodes.

    Args:
        flow: the dataflow.
        inputs: the values given for inputs.
        overrides: values replacing nodes (or inputs).
    """

    def __init__(self, flow: Flow, inputs: dict[str, Any], overrides: dict[str, Any]) -> None:
        self.flow = flow
        self.inputs = inputs
        self.overrides = overrides
        self.memo: dict[tuple[str, tuple[int, ...]], Any] = {}

    def items(self, expander: str, path: tuple[int, ...]) -> list[int]:
        """The items of ``expander`` for the enclosing items ``path``."""
        return self.value(expander, path[: len(self.flow.nodes[expander].scope)])

    def read(self, name: str, path: tuple[int, ...]) -> Any:
        """A plain read of ``name`` by a node running at ``path``."""
        if name in self.overrides and not (
            name in self.flow.nodes and self.flow.nodes[name].expands
        ):
            return self.overrides[name]
        if name in self.flow.inputs:
            return self.inputs[name]
        node = self.flow.nodes[name]
        if node.expands:  # read from inside its block: the current item
            depth = len(node.scope)
            return self.items(name, path)[path[depth]]
        return self.value(name, path[: len(node.scope)])

    def collect(self, name: str, node: Node, path: tuple[int, ...]) -> list[Any]:
        """A ``Collect`` parameter reading ``name`` in ``node`` running at ``path``."""
        source = self.flow.nodes[name]
        if source.expands and source.scope == node.scope:
            return list(self.items(name, path))
        expander = source.scope[-1]
        count = len(self.items(expander, path))
        return [self.read(name, path + (i,)) for i in range(count)]

    def value(self, name: str, path: tuple[int, ...]) -> Any:
        """The value of node ``name`` at ``path`` (an expander's value is its item list)."""
        if name in self.overrides:
            value = self.overrides[name]
            node = self.flow.nodes.get(name)
            return list(value) if node is not None and node.expands else value
        if name in self.flow.inputs:
            return self.inputs[name]
        key = (name, path)
        if key in self.memo:
            return self.memo[key]
        node = self.flow.nodes[name]
        plain: list[Any] = []
        collected: list[list[Any]] = []
        for param in node.params:
            if param.mode == "collect":
                collected.append(self.collect(param.name, node, path))
            elif (
                param.mode == "optional"
                and param.name in self.flow.inputs
                and param.name not in self.inputs
                and param.name not in self.overrides
            ):
                plain.append(param.default)
            else:
                plain.append(self.read(param.name, path))
        result = self.compute(node, plain, collected)
        self.memo[key] = result
        return result

    @staticmethod
    def compute(node: Node, plain: list[Any], collected: list[list[Any]]) -> Any:
        """What ``node`` computes from its plain and collected arguments."""
        extra = sum(fold(x) for x in plain)
        if node.kind == "compute":
            total = sum(fold(x) * c for x, c in zip(plain, node.constants))
            return (total + node.constants[-1]) % MODULUS
        if node.kind == "expand":
            c1, c2 = node.constants
            return [(extra * c1 + i * c2) % ITEM_MODULUS for i in range(extra % MAX_ITEMS)]
        if node.kind == "gather":
            if node.returns_list:
                return [
                    (fold(x) * (j + 1) + extra) % MODULUS
                    for j, values in enumerate(collected)
                    for x in values
                ]
            sums = sum(sum(fold(x) for x in values) * (j + 2) for j, values in enumerate(collected))
            return (sums + extra + node.constants[0]) % MODULUS
        if node.kind == "regroup":
            return [
                (fold(x) * node.constants[0] + extra) % ITEM_MODULUS
                for values in collected
                for x in values
            ]
        raise ValueError(f"unknown kind {node.kind!r}")

    def output(self, name: str, path: tuple[int, ...] = ()) -> Any:
        """What ``execute`` returns for ``name``: per-item lists for nodes inside blocks."""
        if name in self.overrides:
            node = self.flow.nodes.get(name)
            if node is None or not node.expands:
                return self.overrides[name]
        scope = self.flow.scope_of(name)
        if len(path) == len(scope):
            return self.value(name, path)
        count = len(self.items(scope[len(path)], path))
        return [self.output(name, path + (i,)) for i in range(count)]

    def outputs(self, names: Iterable[str]) -> dict[str, Any]:
        """:meth:`output` for every name."""
        return {name: self.output(name) for name in names}

    def items_run(self) -> int:
        """How many (node, item) values inside blocks were computed."""
        return sum(1 for _, path in self.memo if path)
