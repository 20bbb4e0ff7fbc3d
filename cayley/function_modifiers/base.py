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
"""

from __future__ import annotations

import abc
import inspect
import types
import typing
import weakref
from collections.abc import Callable, Collection, Iterable, Mapping
from types import EllipsisType
from typing import Any, ClassVar

from cayley import settings
from cayley.graph_utils import find_functions
from cayley.node import Node

__all__ = [
    "CONFIG_DEFAULT_TAG",
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
    "filter_config",
    "find_functions",
    "get_node_decorators",
    "keep_async",
    "node_from_fn",
    "qualified_name",
    "resolve_config",
    "resolve_nodes",
    "sanitize_function_name",
    "split_name",
    "then",
    "type_hints",
]

#: Where the decorators applied to a function are recorded (step name -> decorators).
LIFECYCLE_ATTRIBUTE = "__cayley_lifecycle__"
#: Decorators whose validation waits until build time (annotations not resolvable yet).
PENDING_VALIDATION_ATTRIBUTE = "__cayley_pending_validation__"
#: Set by ``@config`` on the function it resolves: the config keys it depended on.
CONFIG_KEYS_ATTRIBUTE = "__config_decorated__"
#: Set by ``@config.default`` on the function it resolves.
CONFIG_DEFAULT_ATTRIBUTE = "__cayley_config_default__"
#: Set on copies made by :func:`copy_function`: the function they were copied from.
COPIED_FROM_ATTRIBUTE = "__cayley_copied_from__"
#: Tag of nodes made from a ``@config.default`` function: used only when no variant resolved.
CONFIG_DEFAULT_TAG = "cayley.config_default"
#: Tag recording the config keys a ``@config``-decorated function depended on.
CONFIG_TAG = "hamilton.config"

TargetType = str | Collection[str] | None | EllipsisType

_SINGLE_DECORATOR_STEPS = frozenset({"generate", "expand"})


class InvalidDecoratorException(ValueError):
    """A decorator cannot apply to the function (or to the nodes) it was given."""


class MissingConfigParametersException(InvalidDecoratorException):
    """A decorator needs configuration keys that the graph is being built without."""


class UnresolvedAnnotationsError(InvalidDecoratorException):
    """The annotations of a function name something not defined yet."""


def qualified_name(fn: Any) -> str:
    """``module.qualname`` of a function, for error messages."""
    module = getattr(fn, "__module__", None)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"{module}.{name}" if module else name


def type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """The resolved annotations of ``fn`` (``Annotated`` kept; string annotations evaluated)."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except NameError as exc:
        raise UnresolvedAnnotationsError(
            f"cannot resolve the annotations of {qualified_name(fn)}: {exc}"
        ) from exc
    except (SyntaxError, TypeError) as exc:
        raise InvalidDecoratorException(
            f"invalid annotations on {qualified_name(fn)}: {exc}"
        ) from exc


def sanitize_function_name(name: str) -> str:
    """The node name for a function name: everything before the last ``__`` (if any)."""
    index = name.rfind("__")
    return name[:index] if index > 0 else name


def _decorator_label(decorator: Any) -> str:
    label = getattr(decorator, "decorator_name", None)
    return label or type(decorator).__name__


def add_context(exc: BaseException, decorator: Any, fn: Any) -> None:
    """Prefix the message of ``exc`` with the decorator and the function, once."""
    if getattr(exc, "_cayley_context", False):
        return
    prefix = f"@{_decorator_label(decorator)} on function {qualified_name(fn)}"
    message = str(exc)
    exc.args = (f"{prefix}: {message}" if message else prefix,)
    exc._cayley_context = True  # type: ignore[attr-defined]


def _guarded(decorator: Any, fn: Any, call: Callable[..., Any], *args: Any) -> Any:
    try:
        return call(*args)
    except InvalidDecoratorException as exc:
        add_context(exc, decorator, fn)
        raise


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
                f"@{_decorator_label(self)} can only decorate functions, but was applied to "
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
        _attach(fn, self, pending)
        return fn


def _conflicts(
    existing: Iterable[NodeTransformLifecycle], decorator: NodeTransformLifecycle
) -> list[NodeTransformLifecycle]:
    step = decorator.get_lifecycle_name()
    if step in _SINGLE_DECORATOR_STEPS:
        return list(existing)
    if decorator.allows_multiple():
        return []
    return [other for other in existing if type(other) is type(decorator)]


def _conflict_error(
    fn: Any, decorator: NodeTransformLifecycle, others: list[NodeTransformLifecycle]
) -> InvalidDecoratorException:
    step = decorator.get_lifecycle_name()
    other_labels = ", ".join(f"@{_decorator_label(o)}" for o in others)
    error = InvalidDecoratorException(
        f"cannot be combined with {other_labels}: a function takes at most one "
        f"{step!r} decorator of this kind."
    )
    add_context(error, decorator, fn)
    return error


def _attach(fn: Any, decorator: NodeTransformLifecycle, pending: bool) -> None:
    step = decorator.get_lifecycle_name()
    lifecycle = dict(getattr(fn, LIFECYCLE_ATTRIBUTE, None) or {})
    existing = lifecycle.get(step, ())
    others = _conflicts(existing, decorator)
    if others:
        raise _conflict_error(fn, decorator, others)
    lifecycle[step] = (*existing, decorator)
    setattr(fn, LIFECYCLE_ATTRIBUTE, lifecycle)
    if pending:
        waiting = getattr(fn, PENDING_VALIDATION_ATTRIBUTE, ())
        setattr(fn, PENDING_VALIDATION_ATTRIBUTE, (*waiting, decorator))


def lifecycle_of(fn: Any) -> dict[str, tuple[NodeTransformLifecycle, ...]]:
    """The decorators recorded on ``fn``, by lifecycle step."""
    return dict(getattr(fn, LIFECYCLE_ATTRIBUTE, None) or {})


def replace_decorator(fn: Any, old: NodeTransformLifecycle, new: NodeTransformLifecycle) -> None:
    """Swap one recorded decorator of ``fn`` for another of the same step."""
    lifecycle = lifecycle_of(fn)
    step = old.get_lifecycle_name()
    lifecycle[step] = tuple(new if d is old else d for d in lifecycle.get(step, ()))
    setattr(fn, LIFECYCLE_ATTRIBUTE, lifecycle)


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


def keep_async(inner: Callable[..., Any], wrapper: Callable[..., Any]) -> Callable[..., Any]:
    """``wrapper`` (which calls ``inner``), made a coroutine function if ``inner`` is one."""
    if not inspect.iscoroutinefunction(inner):
        return wrapper

    async def awaiting(**kwargs: Any) -> Any:
        result = wrapper(**kwargs)
        return await result if inspect.isawaitable(result) else result

    return awaiting


def then(produce: Callable[..., Any], post: Callable[[Any], Any]) -> Callable[..., Any]:
    """A callable computing ``post(produce(**kwargs))``, awaiting ``produce`` if it is async."""
    if inspect.iscoroutinefunction(produce):

        async def produce_then_async(**kwargs: Any) -> Any:
            return post(await produce(**kwargs))

        return produce_then_async

    def produce_then(**kwargs: Any) -> Any:
        return post(produce(**kwargs))

    return produce_then


def split_name(full_name: str) -> dict[str, Any]:
    """``copy_with`` keywords giving a node the full (possibly dotted) name ``full_name``."""
    *namespace, name = full_name.split(".")
    return {"name": name, "namespace": tuple(namespace)}


_NODE_TEMPLATES: weakref.WeakKeyDictionary[Callable[..., Any], Node] = weakref.WeakKeyDictionary()


def _template_node(fn: Callable[..., Any]) -> Node:
    """``Node.from_fn(fn)``, computed once per function (nodes are immutable)."""
    try:
        template = _NODE_TEMPLATES.get(fn)
    except TypeError:
        return Node.from_fn(fn)
    if template is None:
        template = Node.from_fn(fn)
        try:
            _NODE_TEMPLATES[fn] = template
        except TypeError:
            pass
    return template


def node_from_fn(fn: Callable[..., Any], name: str | None = None) -> Node:
    """:meth:`Node.from_fn`, plus the ``hamilton.config`` tag for ``@config``-resolved functions.

    Signatures and annotations are read once per function: later builds reuse that node.
    """
    source_fn = getattr(fn, COPIED_FROM_ATTRIBUTE, None) or fn
    node_ = _template_node(source_fn)
    changes: dict[str, Any] = {}
    if source_fn is not fn:
        changes.update(name=fn.__name__, callabl=fn)
    if name is not None:
        changes["name"] = name
    keys = getattr(fn, CONFIG_KEYS_ATTRIBUTE, None)
    if keys is not None:
        changes["tags"] = {**node_.tags, CONFIG_TAG: ",".join(keys)}
    return node_.copy_with(**changes) if changes else node_


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


def resolve_config(
    name_for_error: str,
    config: Mapping[str, Any],
    config_required: list[str] | None,
    config_optional_with_defaults: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The part of ``config`` a decorator declared, optional keys filled with their defaults.

    ``config_required=None`` means the decorator sees the whole config.
    """
    if config_required is None:
        return dict(config)
    optional = dict(config_optional_with_defaults or {})
    optional.setdefault(settings.ENABLE_POWER_USER_MODE, False)
    missing = [key for key in config_required if key not in config and key not in optional]
    if missing:
        raise MissingConfigParametersException(
            f"{name_for_error} requires config key(s) {missing}, which the config does not "
            f"provide (config keys: {sorted(config)}). Pass them with the driver's config."
        )
    resolved = {key: config[key] if key in config else optional[key] for key in config_required}
    for key, default in optional.items():
        resolved[key] = config.get(key, default)
    return resolved


def filter_config(config: Mapping[str, Any], decorator: NodeTransformLifecycle) -> dict[str, Any]:
    """The config ``decorator`` gets to see (see :func:`resolve_config`)."""
    return resolve_config(
        f"@{_decorator_label(decorator)}",
        config,
        decorator.required_config(),
        decorator.optional_config(),
    )


def get_node_decorators(
    fn: Callable[..., Any], config: Mapping[str, Any]
) -> dict[str, list[NodeTransformLifecycle]]:
    """The decorators of ``fn`` by step, dynamic ones resolved against ``config``."""
    steps = {step: list(decs) for step, decs in lifecycle_of(fn).items()}
    for dynamic in steps.pop("dynamic", ()):
        produced = _guarded(dynamic, fn, dynamic.resolve, dict(config), fn)
        steps.setdefault(produced.get_lifecycle_name(), []).append(produced)
    return steps


def _check_multiplicity(fn: Any, steps: Mapping[str, list[NodeTransformLifecycle]]) -> None:
    for decorators in steps.values():
        for index, decorator in enumerate(decorators):
            others = _conflicts(decorators[:index], decorator)
            if others:
                raise _conflict_error(fn, decorator, others)


def _apply_resolvers(
    resolvers: Iterable[NodeTransformLifecycle], fn: Any, config: Mapping[str, Any]
) -> Any:
    for resolver in resolvers:
        cfg = _guarded(resolver, fn, filter_config, config, resolver)
        fn = _guarded(resolver, fn, resolver.resolve, fn, cfg)  # type: ignore[attr-defined]
        if fn is None:
            return None
    return fn


def _run_step(
    decorators: Iterable[NodeTransformLifecycle],
    nodes: Collection[Node],
    config: Mapping[str, Any],
    fn: Any,
) -> Collection[Node]:
    for decorator in decorators:
        cfg = _guarded(decorator, fn, filter_config, config, decorator)
        nodes = _guarded(decorator, fn, decorator.transform_dag, nodes, cfg, fn)  # type: ignore[attr-defined]
    return nodes


def _finalize(nodes: Collection[Node], original: Any, resolved: Any) -> list[Node]:
    is_default = getattr(resolved, CONFIG_DEFAULT_ATTRIBUTE, False)
    out: list[Node] = []
    for node_ in nodes:
        origins = node_.originating_functions or ()
        new_origins = origins
        if resolved is not original and any(f is resolved for f in origins):
            new_origins = tuple(original if f is resolved else f for f in origins)
        if not any(f is original for f in new_origins):
            new_origins = (*new_origins, original)
        changes: dict[str, Any] = {}
        if new_origins != origins:
            changes["originating_functions"] = new_origins
        if is_default and not node_.tags.get(CONFIG_DEFAULT_TAG):
            changes["tags"] = {**node_.tags, CONFIG_DEFAULT_TAG: True}
        out.append(node_.copy_with(**changes) if changes else node_)
    return out


def resolve_nodes(fn: Callable[..., Any], config: Mapping[str, Any]) -> list[Node]:
    """The nodes ``fn`` contributes to a graph built with ``config`` (see the module docstring).

    A function without decorators gives ``[Node.from_fn(fn)]``; an excluded one gives ``[]``.
    """
    lifecycle = getattr(fn, LIFECYCLE_ATTRIBUTE, None)
    if not lifecycle:
        return [_template_node(fn)]
    original = fn
    for decorator in getattr(fn, PENDING_VALIDATION_ATTRIBUTE, ()):
        _guarded(decorator, fn, decorator.validate, fn)
    steps = {step: list(decs) for step, decs in lifecycle.items()}
    resolved = _apply_resolvers(steps.get("resolve", ()), fn, config)
    if resolved is None:
        return []
    dynamic = steps.pop("dynamic", ())
    if dynamic:
        produced = [_guarded(d, resolved, d.resolve, dict(config), resolved) for d in dynamic]
        for decorator in produced:
            steps.setdefault(decorator.get_lifecycle_name(), []).append(decorator)
        _check_multiplicity(original, steps)
        late_resolvers = [d for d in produced if d.get_lifecycle_name() == "resolve"]
        resolved = _apply_resolvers(late_resolvers, resolved, config)
        if resolved is None:
            return []
    creators = steps.get("generate")
    if creators:
        (creator,) = creators
        cfg = _guarded(creator, resolved, filter_config, config, creator)
        nodes: Collection[Node] = _guarded(creator, resolved, creator.generate_nodes, resolved, cfg)
    else:
        nodes = [node_from_fn(resolved)]
    nodes = _run_step(steps.get("inject", ()), nodes, config, resolved)
    nodes = _run_step(steps.get("expand", ()), nodes, config, resolved)
    nodes = _run_step(steps.get("transform", ()), nodes, config, resolved)
    nodes = _run_step(steps.get(NodeDecorator.DECORATE_NODES, ()), nodes, config, resolved)
    return _finalize(nodes, original, resolved)


def copy_function(fn: types.FunctionType, name: str) -> types.FunctionType:
    """A copy of ``fn`` under another ``__name__``, without its recorded decorators.

    Other attributes are copied, not shared; the copy remembers the function it came from.
    """
    copied = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    copied.__kwdefaults__ = dict(fn.__kwdefaults__) if fn.__kwdefaults__ else None
    copied.__dict__.update(fn.__dict__)
    copied.__dict__.setdefault(COPIED_FROM_ATTRIBUTE, fn)
    copied.__dict__.pop(LIFECYCLE_ATTRIBUTE, None)
    copied.__dict__.pop(PENDING_VALIDATION_ATTRIBUTE, None)
    copied.__annotations__ = dict(fn.__annotations__)
    copied.__doc__ = fn.__doc__
    copied.__module__ = fn.__module__
    copied.__qualname__ = fn.__qualname__
    return copied
