"""The decorator lifecycle: how decorators attach to functions and how functions become nodes.

A decorator is an instance of one of the lifecycle classes below. Applying it to a function
validates it against that function and records it there; nothing else happens until the graph
is built, when :func:`resolve_nodes` runs the recorded decorators in a fixed order of steps:

1. ``resolve`` (:class:`NodeResolver`): may replace the function, or drop it (``@config``).
2. ``dynamic`` (:class:`DynamicResolver`): builds more decorators from the config (``@resolve``).
3. ``generate`` (:class:`NodeCreator`, at most one): turns the function into its first nodes.
4. ``inject`` (:class:`NodeInjector`): adds nodes feeding parameters nothing inside produces.
5. ``expand`` (:class:`NodeExpander`, at most one): turns the single node into several.
6. ``transform`` (:class:`NodeTransformer`): replaces selected nodes (the sinks by default).
7. ``decorate_nodes`` (:class:`NodeDecorator`): adjusts the metadata of selected nodes.

Within a step, decorators run from the one written nearest the function outwards. Because each
step only sees nodes, any number of decorators stack on one function without special cases.

The lifecycle classes live here. Recording decorators on functions is
:mod:`~cayley.function_modifiers.attachment`, reading functions into nodes is
:mod:`~cayley.function_modifiers.function_nodes`, and running the steps is
:mod:`~cayley.function_modifiers.resolution`; their names are re-exported here.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Callable, Collection
from types import EllipsisType
from typing import Any, ClassVar

from cayley.function_modifiers.attachment import (
    LIFECYCLE_ATTRIBUTE,
    PENDING_VALIDATION_ATTRIBUTE,
    InvalidDecoratorException,
    MissingConfigParametersException,
    UnresolvedAnnotationsError,
    add_context,
    attach,
    decorator_label,
    lifecycle_of,
    qualified_name,
    replace_decorator,
)
from cayley.function_modifiers.function_nodes import (
    CONFIG_KEYS_ATTRIBUTE,
    CONFIG_TAG,
    COPIED_FROM_ATTRIBUTE,
    copy_function,
    keep_async,
    node_from_fn,
    sanitize_function_name,
    split_name,
    then,
    type_hints,
)
from cayley.function_modifiers.resolution import (
    CONFIG_DEFAULT_ATTRIBUTE,
    CONFIG_DEFAULT_TAG,
    filter_config,
    get_node_decorators,
    resolve_config,
    resolve_nodes,
)
from cayley.graph_utils import find_functions
from cayley.node import Node

__all__ = [
    "CONFIG_DEFAULT_ATTRIBUTE",
    "CONFIG_DEFAULT_TAG",
    "CONFIG_KEYS_ATTRIBUTE",
    "CONFIG_TAG",
    "COPIED_FROM_ATTRIBUTE",
    "LIFECYCLE_ATTRIBUTE",
    "PENDING_VALIDATION_ATTRIBUTE",
    "DefaultNodeCreator",
    "DefaultNodeDecorator",
    "DefaultNodeResolver",
    "DynamicResolver",
    "InvalidDecoratorException",
    "MissingConfigParametersException",
    "NodeCreator",
    "NodeDecorator",
    "NodeExpander",
    "NodeInjector",
    "NodeResolver",
    "NodeTransformLifecycle",
    "NodeTransformer",
    "SingleNodeNodeTransformer",
    "SubDAGModifier",
    "TargetType",
    "UnresolvedAnnotationsError",
    "add_context",
    "copy_function",
    "filter_config",
    "find_functions",
    "get_node_decorators",
    "keep_async",
    "lifecycle_of",
    "node_from_fn",
    "qualified_name",
    "replace_decorator",
    "resolve_config",
    "resolve_nodes",
    "sanitize_function_name",
    "split_name",
    "then",
    "type_hints",
]

TargetType = str | Collection[str] | None | EllipsisType


class NodeTransformLifecycle(abc.ABC):
    """Base of every decorator: one step of the lifecycle, applied by calling it on a function."""

    #: Name used in error messages (the class name when ``None``).
    decorator_name: ClassVar[str | None] = None

    @classmethod
    @abc.abstractmethod
    def get_lifecycle_name(cls) -> str:
        """The lifecycle step this decorator belongs to."""

    @classmethod
    @abc.abstractmethod
    def allows_multiple(cls) -> bool:
        """Whether several decorators of this kind may decorate one function."""

    @abc.abstractmethod
    def validate(self, fn: Callable[..., Any]) -> None:
        """Check the decorator fits ``fn``; raise :class:`InvalidDecoratorException` if not."""

    def required_config(self) -> list[str] | None:
        """Config keys this decorator needs (``None``: it sees the whole config)."""
        return []

    def optional_config(self) -> dict[str, Any] | None:
        """Config keys this decorator may use, with their defaults."""
        return {}

    @property
    def name(self) -> str:
        """The decorator's class name."""
        return type(self).__name__

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Validate against ``fn`` and record this decorator on it; returns ``fn`` itself."""
        if not inspect.isfunction(fn):
            raise InvalidDecoratorException(
                f"@{decorator_label(self)} can only decorate functions, but was applied to "
                f"{fn!r} ({type(fn).__name__})."
            )
        pending = False
        try:
            self.validate(fn)
        except UnresolvedAnnotationsError:
            pending = True
        except InvalidDecoratorException as exc:
            add_context(exc, self, fn)
            raise
        attach(fn, self, pending)
        return fn


class NodeResolver(NodeTransformLifecycle):
    """Step ``resolve``: decides which function (if any) the graph gets."""

    @abc.abstractmethod
    def resolve(self, fn: Callable[..., Any], config: dict[str, Any]) -> Callable[..., Any] | None:
        """The function to build nodes from, or ``None`` to leave it out of the graph."""

    @classmethod
    def get_lifecycle_name(cls) -> str:
        return "resolve"

    @classmethod
    def allows_multiple(cls) -> bool:
        return True


class DynamicResolver(NodeTransformLifecycle):
    """Step ``dynamic``: produces another decorator once the config is known."""

    @abc.abstractmethod
    def resolve(self, config: dict[str, Any], fn: Callable[..., Any]) -> NodeTransformLifecycle:
        """The decorator to apply to ``fn`` given ``config``."""

    @classmethod
    def get_lifecycle_name(cls) -> str:
        return "dynamic"

    @classmethod
    def allows_multiple(cls) -> bool:
        return True

    def validate(self, fn: Callable[..., Any]) -> None:
        """Nothing to check before the config is known."""


class NodeCreator(NodeTransformLifecycle):
    """Step ``generate``: turns the function into its first nodes."""

    @abc.abstractmethod
    def generate_nodes(self, fn: Callable[..., Any], config: dict[str, Any]) -> list[Node]:
        """The nodes ``fn`` stands for."""

    @classmethod
    def get_lifecycle_name(cls) -> str:
        return "generate"

    @classmethod
    def allows_multiple(cls) -> bool:
        return False


class SubDAGModifier(NodeTransformLifecycle, abc.ABC):
    """A step that rewrites the whole set of nodes produced so far."""

    @abc.abstractmethod
    def transform_dag(
        self, nodes: Collection[Node], config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """The new set of nodes."""


class NodeInjector(SubDAGModifier, abc.ABC):
    """Step ``inject``: adds nodes that feed parameters nothing inside the function produces."""

    @staticmethod
    def find_injectable_params(nodes: Collection[Node]) -> dict[str, Any]:
        """Parameters of ``nodes`` not produced by any of them, with their types."""
        names = {n.name for n in nodes}
        found: dict[str, Any] = {}
        for node_ in nodes:
            for param, (type_, _) in node_.input_types.items():
                if param not in names:
                    found[param] = type_
        return found

    def transform_dag(
        self, nodes: Collection[Node], config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """Add the injected nodes and point the consumers at them."""
        params = self.find_injectable_params(nodes)
        injected, renames = self.inject_nodes(params, config, fn)
        renames = {old: new for old, new in renames.items() if old != new}
        out: list[Node] = []
        for node_ in nodes:
            mapping = {k: v for k, v in renames.items() if k in node_.input_types}
            out.append(node_.reassign_inputs(input_names=mapping) if mapping else node_)
        out.extend(injected)
        return out

    @abc.abstractmethod
    def inject_nodes(
        self, params: dict[str, Any], config: dict[str, Any], fn: Callable[..., Any]
    ) -> tuple[list[Node], dict[str, str]]:
        """Nodes to add, and a parameter renaming (old name -> name of the injected node)."""

    @classmethod
    def get_lifecycle_name(cls) -> str:
        return "inject"

    @classmethod
    def allows_multiple(cls) -> bool:
        return True


class NodeExpander(SubDAGModifier):
    """Step ``expand``: turns the function's single node into several."""

    EXPAND_NODES = "expand_nodes"

    def transform_dag(
        self, nodes: Collection[Node], config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """Expand the one node; several nodes at this point are an error."""
        if len(nodes) != 1:
            raise InvalidDecoratorException(
                f"expands a single node, but the function already produced {len(nodes)} "
                f"({', '.join(sorted(n.name for n in nodes))}). Expanders cannot follow "
                "decorators that create several nodes."
            )
        (node_,) = nodes
        return self.expand_node(node_, config, fn)

    @abc.abstractmethod
    def expand_node(
        self, node_: Node, config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """The nodes that replace ``node_``."""

    @classmethod
    def get_lifecycle_name(cls) -> str:
        return "expand"

    @classmethod
    def allows_multiple(cls) -> bool:
        return False


class NodeTransformer(SubDAGModifier):
    """Step ``transform``: replaces selected nodes with the nodes :meth:`transform_node` gives.

    ``target`` selects the nodes: ``None`` the sinks (nodes no other node of the function
    consumes and not tagged :attr:`NON_FINAL_TAG`), a name, a collection of names, or ``...``
    for every node.
    """

    NON_FINAL_TAG = "hamilton.non_final_node"

    def __init__(self, target: TargetType) -> None:
        self._early_validate_target(target, allow_multiple=True)
        self.target = target

    @classmethod
    def _early_validate_target(cls, target: TargetType, allow_multiple: bool) -> None:
        """Reject targets of the wrong shape before any node exists."""
        if isinstance(target, str) or target is None or target is Ellipsis:
            return
        if isinstance(target, Collection) and all(isinstance(t, str) for t in target):
            if len(target) > 1 and not allow_multiple:
                raise InvalidDecoratorException(f"accepts a single target, got {list(target)}.")
            return
        raise InvalidDecoratorException(
            f"invalid target {target!r}: use None, a node name, a collection of names or ..."
        )

    @staticmethod
    def _extract_final_nodes(nodes: Collection[Node]) -> list[Node]:
        consumed = {param for n in nodes for param in n.input_types}
        return [
            n
            for n in nodes
            if n.name not in consumed and not n.tags.get(NodeTransformer.NON_FINAL_TAG)
        ]

    @staticmethod
    def select_nodes(target: TargetType, nodes: Collection[Node]) -> list[Node]:
        """The nodes of ``nodes`` that ``target`` designates."""
        if target is None:
            return NodeTransformer._extract_final_nodes(nodes)
        if target is Ellipsis:
            return list(nodes)
        wanted = [target] if isinstance(target, str) else list(target)
        selected = [n for n in nodes if n.name in wanted]
        missing = set(wanted) - {n.name for n in selected}
        if missing:
            raise InvalidDecoratorException(
                f"target node(s) {sorted(missing)} not found; the function produces "
                f"{sorted(n.name for n in nodes)}."
            )
        return selected

    @staticmethod
    def compliment(all_nodes: Collection[Node], nodes_to_transform: Collection[Node]) -> list[Node]:
        """The nodes of ``all_nodes`` that are not being transformed."""
        chosen = {id(n) for n in nodes_to_transform}
        return [n for n in all_nodes if id(n) not in chosen]

    def transform_targets(
        self, targets: Collection[Node], config: dict[str, Any], fn: Callable[..., Any]
    ) -> list[Node]:
        """Transform each selected node."""
        out: list[Node] = []
        for node_ in targets:
            out.extend(self.transform_node(node_, config, fn))
        return out

    def transform_dag(
        self, nodes: Collection[Node], config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """Keep the unselected nodes and replace the selected ones."""
        targets = self.select_nodes(self.target, nodes)
        return [*self.compliment(nodes, targets), *self.transform_targets(targets, config, fn)]

    @abc.abstractmethod
    def transform_node(
        self, node_: Node, config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """The nodes replacing ``node_``."""

    @classmethod
    def get_lifecycle_name(cls) -> str:
        return "transform"

    @classmethod
    def allows_multiple(cls) -> bool:
        return True


class SingleNodeNodeTransformer(NodeTransformer, abc.ABC):
    """A transformer that applies to exactly one node: the single sink."""

    def __init__(self) -> None:
        super().__init__(target=None)

    def transform_targets(
        self, targets: Collection[Node], config: dict[str, Any], fn: Callable[..., Any]
    ) -> list[Node]:
        """Transform the single sink; several sinks are an error."""
        if len(targets) != 1:
            raise InvalidDecoratorException(
                f"applies to a single node, but the function produces {len(targets)} final "
                f"nodes ({', '.join(sorted(n.name for n in targets))})."
            )
        return super().transform_targets(targets, config, fn)


class NodeDecorator(NodeTransformer, abc.ABC):
    """Step ``decorate_nodes``: returns each selected node with adjusted metadata."""

    DECORATE_NODES = "decorate_nodes"

    def __init__(self, target: TargetType) -> None:
        super().__init__(target=target)

    def validate_node(self, node_: Node) -> None:
        """Check one selected node; raise :class:`InvalidDecoratorException` if unfit."""

    def transform_node(
        self, node_: Node, config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """Validate then decorate ``node_``."""
        self.validate_node(node_)
        return [self.decorate_node(node_)]

    @abc.abstractmethod
    def decorate_node(self, node_: Node) -> Node:
        """A copy of ``node_`` with the metadata adjusted."""

    @classmethod
    def get_lifecycle_name(cls) -> str:
        return NodeDecorator.DECORATE_NODES

    @classmethod
    def allows_multiple(cls) -> bool:
        return True

    def validate(self, fn: Callable[..., Any]) -> None:
        """Nothing to check on the function itself."""


class DefaultNodeCreator(NodeCreator):
    """The node a plain function stands for."""

    def generate_nodes(self, fn: Callable[..., Any], config: dict[str, Any]) -> list[Node]:
        return [node_from_fn(fn)]

    def validate(self, fn: Callable[..., Any]) -> None:
        """Any function will do."""


class DefaultNodeResolver(NodeResolver):
    """Keeps the function as it is."""

    def resolve(self, fn: Callable[..., Any], config: dict[str, Any]) -> Callable[..., Any]:
        return fn

    def validate(self, fn: Callable[..., Any]) -> None:
        """Any function will do."""


class DefaultNodeDecorator(NodeDecorator):
    """Leaves nodes unchanged."""

    def __init__(self) -> None:
        super().__init__(target=...)

    def decorate_node(self, node_: Node) -> Node:
        return node_
