"""Building, validating and querying the function graph.

:class:`FunctionGraph` turns modules into nodes, wires parameters to producers (creating
input nodes for parameters nobody produces), checks edge types, rejects cycles and assigns
every node its *scope*: the stack of ``Parallelizable`` expanders it runs under. The graph
is immutable after construction; execution state lives elsewhere.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from cayley import htypes
from cayley.graph_utils import find_functions
from cayley.node import DependencyType, Node, NodeType

__all__ = ["FunctionGraph", "GraphError", "CycleError", "ScopeError"]

Scope = tuple[str, ...]


class GraphError(ValueError):
    """The functions do not form a valid dataflow."""


class CycleError(GraphError):
    """The dependencies form a cycle."""


class ScopeError(GraphError):
    """``Parallelizable``/``Collect`` are combined in a way that has no meaning."""


def _check_fan_annotations(node: Node) -> None:
    """Raises ScopeError where ``Parallelizable``/``Collect`` sit where they mean nothing."""
    if node.type is htypes.Parallelizable:
        raise ScopeError(
            f"Node {node.name!r} returns a bare Parallelizable: name the item type, "
            "e.g. -> Parallelizable[int]."
        )
    if node.type is htypes.Collect or htypes.is_collect(node.type):
        raise ScopeError(
            f"Node {node.name!r} is annotated to return {_type_name(node.type)}; Collect[...] "
            "annotates a parameter that gathers the values of a block. Return list[...] instead."
        )
    for param, (param_type, _) in node.input_types.items():
        if param_type in (htypes.Parallelizable, htypes.Collect):
            raise ScopeError(
                f"Parameter {param!r} of node {node.name!r} is annotated with a bare "
                f"{param_type.__name__}: name the item type, e.g. Collect[int]."
            )
        if htypes.is_parallelizable(param_type):
            item = _type_name(htypes.element_type(param_type))
            raise ScopeError(
                f"Parameter {param!r} of node {node.name!r} is annotated {_type_name(param_type)}; "
                f"Parallelizable[...] is the return annotation of a fan-out. Annotate the "
                f"parameter {item} to run once per item, or Collect[{item}] to receive every item."
            )


def _type_name(tp: Any) -> str:
    return htypes.get_type_as_string(tp)


def _with_consumer_origins(input_node: Node, consumers: list[Node]) -> Node:
    """The input node credited to the functions of the nodes consuming it (as Hamilton does:
    ``Variable.originating_functions`` of an input names its consumers)."""
    if input_node.originating_functions:
        return input_node
    origins: dict[int, Callable[..., Any]] = {}  # by identity, in first-seen order
    for consumer in consumers:
        for fn in consumer.originating_functions or ():
            origins.setdefault(id(fn), fn)
    if not origins:
        return input_node
    return input_node.copy_with(originating_functions=tuple(origins.values()))


class FunctionGraph:
    """An immutable, validated dataflow graph.

    Attributes:
        nodes: name -> :class:`Node`, inputs included.
        dependencies: name -> names of the nodes its parameters come from, in parameter order.
        dependents: name -> names of the nodes consuming it.
        config: the configuration the graph was built with.
        scopes: name -> the expanders (outermost first) the node runs under.
        topological_index: name -> position in a fixed topological order.

    ``edge_type_check(consumer_type, producer_type)`` may accept edges the built-in rules
    reject (adapters' ``do_check_edge_types_match``, called with Hamilton's argument order:
    ``type_from`` is the consumer's annotation, ``type_to`` the producer's type).
    """

    def __init__(
        self,
        nodes: Mapping[str, Node],
        config: Mapping[str, Any] | None = None,
        edge_type_check: Callable[[Any, Any], bool] | None = None,
    ) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.nodes: dict[str, Node] = {}
        self.dependencies: dict[str, tuple[str, ...]] = {}
        self.dependents: dict[str, list[str]] = {}
        self._wire(dict(nodes), edge_type_check)
        self.topological_index = self._topological_order()
        self.scopes = self._assign_scopes()

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_modules(
        cls,
        *modules: types.ModuleType,
        config: Mapping[str, Any] | None = None,
        allow_module_overrides: bool = False,
        edge_type_check: Callable[[Any, Any], bool] | None = None,
    ) -> FunctionGraph:
        """Crawl ``modules`` for public functions, resolve their decorators and build the graph.

        A node made from a ``@config.default`` function is used only when no other variant
        of the same name is defined.
        """
        # Imported here: decorators are only needed once modules are crawled.
        from cayley.function_modifiers.base import CONFIG_DEFAULT_TAG, resolve_nodes

        config = dict(config or {})
        nodes: dict[str, Node] = {}
        defaults: dict[str, Node] = {}
        origin_of: dict[str, str] = {}
        for module in modules:
            for _, fn in find_functions(module):
                origin = f"module {module.__name__} (function {fn.__name__})"
                for node in resolve_nodes(fn, config):
                    name = node.name
                    if name in config:
                        continue  # a config value replaces the node of the same name
                    if node.tags.get(CONFIG_DEFAULT_TAG):
                        defaults.setdefault(name, node)
                        continue
                    if name in nodes and not allow_module_overrides:
                        raise GraphError(
                            f"Cannot define function {name} more than once. It is defined in "
                            f"{origin_of[name]} and again in {origin}. Rename one, or use "
                            "Builder().allow_module_overrides() to let the later module win."
                        )
                    nodes[name] = node
                    origin_of[name] = origin
        for name, node in defaults.items():
            nodes.setdefault(name, node)
        for key in config:
            if key not in nodes:
                nodes[key] = Node(key, Any, node_source=NodeType.EXTERNAL)
        return cls(nodes, config, edge_type_check)

    def _wire(
        self, nodes: dict[str, Node], edge_type_check: Callable[[Any, Any], bool] | None
    ) -> None:
        inputs: dict[str, Node] = {}
        input_consumers: dict[str, list[str]] = {}
        for node in nodes.values():
            _check_fan_annotations(node)
            deps: list[str] = []
            for param, (param_type, _) in node.input_types.items():
                producer = nodes.get(param)
                if producer is not None and producer.user_defined:
                    producer = None  # declared input: treat like an implicit one
                if producer is not None:
                    if not (
                        htypes.types_match(param_type, producer.type)
                        or (
                            edge_type_check is not None
                            and edge_type_check(param_type, producer.type)
                        )
                    ):
                        raise GraphError(
                            f"Type mismatch between {producer.name!r} and {node.name!r}: node "
                            f"{node.name!r} expects parameter {param!r} to be "
                            f"{_type_name(param_type)}, but node {producer.name!r} produces "
                            f"{_type_name(producer.type)}. Change one of the two annotations "
                            "so that they agree."
                        )
                else:
                    element = htypes.element_type(param_type)
                    existing = inputs.get(param)
                    declared = nodes.get(param)
                    if existing is None and declared is not None and declared.type is not Any:
                        existing = declared
                    if existing is None:
                        inputs[param] = Node(param, element, node_source=NodeType.EXTERNAL)
                    else:
                        inputs[param] = self._narrow_input(
                            existing, element, param, node.name, input_consumers.get(param, [])
                        )
                    input_consumers.setdefault(param, []).append(node.name)
                deps.append(param)
            self.dependencies[node.name] = tuple(deps)
        for name, consumers in input_consumers.items():
            inputs[name] = _with_consumer_origins(inputs[name], [nodes[c] for c in consumers])
        for name, node in nodes.items():
            if not node.user_defined:
                self.nodes[name] = node
        for name, node in nodes.items():
            if node.user_defined and name not in inputs:
                self.nodes[name] = node
        self.nodes.update(inputs)
        for name in self.nodes:
            self.dependencies.setdefault(name, ())
            self.dependents.setdefault(name, [])
        for name, deps in self.dependencies.items():
            for dep in deps:
                self.dependents[dep].append(name)

    @staticmethod
    def _narrow_input(
        existing: Node, wanted: Any, name: str, consumer: str, others: list[str]
    ) -> Node:
        if existing.type == wanted or wanted is Any:
            return existing
        if existing.type is Any:
            return existing.copy_with(typ=wanted)
        if htypes.types_match(existing.type, wanted):
            return existing.copy_with(typ=wanted)  # the new consumer is stricter
        if htypes.types_match(wanted, existing.type):
            return existing
        raise GraphError(
            f"Two or more functions are requesting input {name!r}, but have incompatible types: "
            f"{consumer!r} requires {name!r} to be {_type_name(wanted)}, but {others} require it "
            f"to be {_type_name(existing.type)}. Annotate the parameter with one type in every "
            "function."
        )

    def _topological_order(self) -> dict[str, int]:
        """Kahn-free iterative DFS that also reports the first cycle it meets, as a path."""
        order: dict[str, int] = {}
        state: dict[str, int] = {}  # 1 = on the stack, 2 = done
        for root in self.nodes:
            if root in state:
                continue
            stack: list[tuple[str, int]] = [(root, 0)]
            state[root] = 1
            path = [root]
            while stack:
                name, index = stack[-1]
                deps = self.dependencies[name]
                if index < len(deps):
                    stack[-1] = (name, index + 1)
                    dep = deps[index]
                    dep_state = state.get(dep)
                    if dep_state is None:
                        state[dep] = 1
                        stack.append((dep, 0))
                        path.append(dep)
                    elif dep_state == 1:
                        cycle = path[path.index(dep) :]
                        # path runs consumer -> producer; show data flow producer -> consumer
                        shown = list(reversed(cycle)) + [cycle[-1]]
                        raise CycleError(
                            "The graph has a cycle: "
                            + " -> ".join(shown)
                            + ". Each of these nodes depends, directly or not, on itself. "
                            "Break the loop: rename the parameter that closes it, or compute "
                            "the value from other nodes."
                        )
                else:
                    stack.pop()
                    path.pop()
                    state[name] = 2
                    order[name] = len(order)
        return order

    def _assign_scopes(self) -> dict[str, Scope]:
        scopes: dict[str, Scope] = {}
        for name in sorted(self.nodes, key=self.topological_index.__getitem__):
            node = self.nodes[name]
            contributions: list[tuple[Scope, str]] = []
            for param, dep in zip(node.input_types, self.dependencies[name]):
                dep_scope = scopes[dep]
                dep_node = self.nodes[dep]
                if param in node.collect_params:
                    if dep_node.is_expander:
                        scope = dep_scope
                    elif not dep_scope:
                        raise ScopeError(
                            f"Node {name!r} collects parameter {param!r} (Collect[...]), but "
                            f"{dep!r} is not inside a Parallelizable block: there is nothing to "
                            "collect. Make an upstream function return Parallelizable[...]."
                        )
                    else:
                        scope = dep_scope[:-1]
                elif dep_node.is_expander:
                    scope = dep_scope + (dep,)
                else:
                    scope = dep_scope
                contributions.append((scope, param))
            own: Scope = max((c[0] for c in contributions), key=len, default=())
            for scope, param in contributions:
                if own[: len(scope)] != scope:
                    raise ScopeError(
                        f"Node {name!r} mixes items of different Parallelizable blocks: parameter "
                        f"{param!r} runs under {list(scope) or 'no block'} while another "
                        f"parameter runs under {list(own)}. Collect one of them first."
                    )
            for param, dep in zip(node.input_types, self.dependencies[name]):
                if param in node.collect_params and not self.nodes[dep].is_expander:
                    if scopes[dep][:-1] != own:
                        raise ScopeError(
                            f"Node {name!r} collects {dep!r} (parameter {param!r}) but also uses "
                            f"per-item values of the same block; put the Collect in a function "
                            "of its own and depend on that."
                        )
                elif param in node.collect_params and own != scopes[dep]:
                    raise ScopeError(
                        f"Node {name!r} collects the items of {dep!r} (parameter {param!r}) but "
                        "also uses per-item values of that block; put the Collect in a function "
                        "of its own and depend on that."
                    )
            scopes[name] = own
        return scopes

    # ---- queries ------------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def get_nodes(self) -> list[Node]:
        """All nodes, inputs included."""
        return list(self.nodes.values())

    def _walk(self, start: Iterable[str], edges: Mapping[str, Sequence[str]]) -> set[str]:
        seen: set[str] = set()
        stack = list(start)
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            stack.extend(edges[name])
        return seen

    def check_names(self, names: Iterable[str]) -> None:
        """Raise ``ValueError`` listing every name that is not a node."""
        unknown = [n for n in names if n not in self.nodes]
        if unknown:
            hints = []
            for name in unknown:
                close = difflib.get_close_matches(str(name), list(self.nodes), n=3)
                if close:
                    hints.append(f"{name!r}: did you mean {' or '.join(map(repr, close))}?")
            hint = (" " + " ".join(hints)) if hints else " Check for typos?"
            raise ValueError(
                f"Unknown nodes {unknown} requested.{hint} "
                "Driver.list_available_variables() lists every node."
            )

    def upstream_of(self, *names: str) -> set[str]:
        """The nodes ``names`` depend on, transitively, including themselves."""
        self.check_names(names)
        return self._walk(names, self.dependencies)

    def downstream_of(self, *names: str) -> set[str]:
        """The nodes depending on ``names``, transitively, including themselves."""
        self.check_names(names)
        return self._walk(names, self.dependents)

    def path_between(self, upstream: str, downstream: str) -> set[str]:
        """Nodes on any path from ``upstream`` to ``downstream`` (empty if there is none)."""
        return self.downstream_of(upstream) & self.upstream_of(downstream)

    def in_topological_order(self, names: Iterable[str]) -> list[str]:
        """``names`` sorted so producers come before consumers."""
        return sorted(names, key=self.topological_index.__getitem__)

    def required_nodes(
        self, outputs: Iterable[str], provided: Collection[str], overridden: Collection[str]
    ) -> set[str]:
        """Nodes needed to compute ``outputs`` given provided inputs and overrides.

        The walk stops at overrides; optional parameters are followed only when their producer
        is computed or the input is provided.
        """
        needed: set[str] = set()
        stack = list(outputs)
        while stack:
            name = stack.pop()
            if name in needed:
                continue
            needed.add(name)
            if name in overridden:
                continue
            node = self.nodes[name]
            for (_, (_, dep_type)), dep in zip(node.input_types.items(), self.dependencies[name]):
                if (
                    dep_type == DependencyType.OPTIONAL
                    and self.nodes[dep].user_defined
                    and dep not in provided
                    and dep not in overridden
                ):
                    continue
                stack.append(dep)
        return needed
