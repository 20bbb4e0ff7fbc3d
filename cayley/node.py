"""The node: one named value of the dataflow, how to compute it and what it needs.

Nodes are immutable once built; decorators derive new nodes with :meth:`Node.copy_with`,
:meth:`Node.reassign_inputs` and :meth:`Node.transform_output`. Edges live in the graph,
never on the node, so one node object can be shared by several graphs and processes.
"""

from __future__ import annotations

import enum
import inspect
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any

from cayley import htypes

__all__ = ["DependencyType", "Node", "NodeType", "matches_query", "validate_tag_filter"]


class NodeType(enum.Enum):
    """The role a node plays in the graph."""

    STANDARD = 1  # computed by a function
    EXTERNAL = 2  # provided by the user (an input)
    PRIOR_RUN = 3  # kept for compatibility; unused
    EXPAND = 4  # returns Parallelizable[T]: runs the downstream block once per item
    COLLECT = 5  # takes at least one Collect[T] parameter


class DependencyType(enum.Enum):
    """Whether a parameter must be provided (REQUIRED) or has a default (OPTIONAL)."""

    REQUIRED = 1
    OPTIONAL = 2

    @staticmethod
    def from_parameter(param: inspect.Parameter) -> DependencyType:
        """OPTIONAL when the parameter has a default value, REQUIRED otherwise."""
        if param.default is inspect.Parameter.empty:
            return DependencyType.REQUIRED
        return DependencyType.OPTIONAL


_NO_CALLABLE_MESSAGE = "node {name!r} is an input: it has no function to call"


def _raise_no_callable(name: str) -> Callable[..., Any]:
    def missing(**_: Any) -> Any:
        raise ValueError(_NO_CALLABLE_MESSAGE.format(name=name))

    return missing


def type_hints_of(fn: Callable[..., Any]) -> dict[str, Any]:
    """``typing.get_type_hints`` with ``Annotated`` kept and a clear error for bad hints."""
    target = inspect.unwrap(fn) if not hasattr(fn, "__signature__") else fn
    try:
        return typing.get_type_hints(target, include_extras=True)
    except NameError as exc:
        raise ValueError(
            f"Could not resolve the type hints of function {_qualname(fn)}: {exc}. "
            "Define or import every name used in its annotations."
        ) from exc


def _qualname(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    return f"{module}.{name}" if module else name


class Node:
    """One value of the dataflow: its name, type, function, dependencies and tags.

    ``input_types`` maps each parameter name to ``(type, DependencyType)``; the callable is
    invoked with keyword arguments named by those parameters, optional ones omitted when
    absent so their defaults apply.
    """

    __slots__ = (
        "_name",
        "_namespace",
        "_type",
        "_callable",
        "_doc",
        "_node_source",
        "_input_types",
        "_tags",
        "_originating_functions",
        "_default_values",
        "_collect_params",
        "_is_expander",
        "_bare_input_types",
    )

    def __init__(
        self,
        name: str,
        typ: Any,
        doc_string: str = "",
        callabl: Callable[..., Any] | None = None,
        node_source: NodeType = NodeType.STANDARD,
        input_types: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        namespace: tuple[str, ...] = (),
        originating_functions: tuple[Callable[..., Any], ...] | list | None = None,
        optional_values: Mapping[str, Any] | None = None,
    ) -> None:
        self._name = name
        self._namespace = tuple(namespace)
        self._type = typ
        self._doc = doc_string or ""
        self._node_source = node_source
        self._tags = dict(tags or {})
        self._originating_functions = (
            tuple(originating_functions) if originating_functions else None
        )
        self._default_values = dict(optional_values or {})
        if input_types is None:
            if callabl is not None and node_source != NodeType.EXTERNAL:
                input_types = _input_types_from_signature(callabl)
                for pname, param in inspect.signature(callabl).parameters.items():
                    if param.default is not inspect.Parameter.empty:
                        self._default_values.setdefault(pname, param.default)
            else:
                input_types = {}
        normalized: dict[str, tuple[Any, DependencyType]] = {}
        for key, value in input_types.items():
            if (
                isinstance(value, tuple)
                and len(value) == 2
                and isinstance(value[1], DependencyType)
            ):
                normalized[key] = value
            else:
                normalized[key] = (value, DependencyType.REQUIRED)
        self._input_types = normalized
        self._bare_input_types = {key: tp for key, (tp, _) in normalized.items()}
        if callabl is None:
            callabl = _raise_no_callable(self.name)
        self._callable = callabl
        self._collect_params = frozenset(
            key for key, (tp, _) in normalized.items() if htypes.is_collect(tp)
        )
        self._is_expander = htypes.is_parallelizable(typ)

    # ---- identity -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The full, namespaced name (``outer.inner`` for nodes made inside a subdag)."""
        if self._namespace:
            return ".".join(self._namespace + (self._name,))
        return self._name

    @property
    def namespace(self) -> tuple[str, ...]:
        """The namespace parts the name is prefixed with."""
        return self._namespace

    @property
    def type(self) -> Any:
        """The annotated output type (``Parallelizable[T]`` for expanders)."""
        return self._type

    @property
    def callable(self) -> Callable[..., Any]:
        """The function computing the node, called with keyword arguments."""
        return self._callable

    @property
    def documentation(self) -> str:
        """The node's docstring."""
        return self._doc

    @property
    def input_types(self) -> dict[str, tuple[Any, DependencyType]]:
        """Parameter name -> (type, DependencyType)."""
        return self._input_types

    @property
    def input_type_map(self) -> dict[str, Any]:
        """Parameter name -> type (what node hooks receive as ``node_input_types``)."""
        return self._bare_input_types

    @property
    def tags(self) -> dict[str, Any]:
        """Tags: ``module`` plus whatever decorators added."""
        return self._tags

    @property
    def node_role(self) -> NodeType:
        """COLLECT if the node takes a Collect parameter, else EXPAND if it fans out."""
        if self._collect_params:
            return NodeType.COLLECT
        if self._is_expander:
            return NodeType.EXPAND
        return self._node_source

    @property
    def user_defined(self) -> bool:
        """Whether the node is an input the user provides."""
        return self._node_source == NodeType.EXTERNAL

    @property
    def is_expander(self) -> bool:
        """Whether the node returns ``Parallelizable[T]``."""
        return self._is_expander

    @property
    def collect_params(self) -> frozenset[str]:
        """Parameters annotated ``Collect[T]``."""
        return self._collect_params

    @property
    def originating_functions(self) -> tuple[Callable[..., Any], ...] | None:
        """The user functions this node was made from."""
        return self._originating_functions

    @property
    def default_parameter_values(self) -> dict[str, Any]:
        """Defaults of optional parameters."""
        return self._default_values

    optional_values = default_parameter_values

    @property
    def required_dependencies(self) -> set[str]:
        """Names of parameters without a default."""
        return {k for k, (_, dt) in self._input_types.items() if dt == DependencyType.REQUIRED}

    @property
    def optional_dependencies(self) -> set[str]:
        """Names of parameters with a default."""
        return {k for k, (_, dt) in self._input_types.items() if dt == DependencyType.OPTIONAL}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Calls the node's function: ``node(**kwargs)`` is ``node.callable(**kwargs)``."""
        return self._callable(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Node {self.name}: {htypes.get_type_as_string(self._type)}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return (
            self.name == other.name
            and self._type == other._type
            and self._input_types == other._input_types
            and self._node_source == other._node_source
            and self._callable == other._callable
        )

    def __hash__(self) -> int:
        return hash(self.name)

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def from_fn(cls, fn: Callable[..., Any], name: str | None = None) -> Node:
        """Make a node from a function: its name, return hint and parameter hints."""
        hints = type_hints_of(fn)
        if "return" not in hints:
            raise ValueError(
                f"Missing type hint for the return value of function {_qualname(fn)}. "
                "Annotate it, e.g. `def f(...) -> int:`."
            )
        signature = inspect.signature(fn)
        input_types: dict[str, tuple[Any, DependencyType]] = {}
        defaults: dict[str, Any] = {}
        for pname, param in signature.parameters.items():
            if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                continue
            if pname not in hints:
                raise ValueError(
                    f"Missing type hint for parameter {pname!r} of function {_qualname(fn)}. "
                    "Every parameter of a node function needs an annotation."
                )
            input_types[pname] = (hints[pname], DependencyType.from_parameter(param))
            if param.default is not inspect.Parameter.empty:
                defaults[pname] = param.default
        module = getattr(fn, "__module__", None)
        tags = {"module": module} if module else {}
        return cls(
            name if name is not None else fn.__name__,
            hints["return"],
            fn.__doc__ or "",
            callabl=fn,
            input_types=input_types,
            tags=tags,
            originating_functions=(fn,),
            optional_values=defaults,
        )

    def copy_with(self, include_refs: bool = True, **overrides: Any) -> Node:
        """A copy with some constructor arguments replaced.

        Accepts the constructor's keywords (``name``, ``typ``, ``doc_string``, ``callabl``,
        ``node_source``, ``input_types``, ``tags``, ``namespace``, ``originating_functions``,
        ``optional_values``).
        """
        kwargs: dict[str, Any] = {
            "name": self._name,
            "typ": self._type,
            "doc_string": self._doc,
            "callabl": self._callable,
            "node_source": self._node_source,
            "input_types": self._input_types,
            "tags": self._tags,
            "namespace": self._namespace,
            "originating_functions": self._originating_functions,
            "optional_values": self._default_values,
        }
        unknown = set(overrides) - set(kwargs)
        if unknown:
            raise TypeError(f"Node.copy_with got unknown arguments: {sorted(unknown)}")
        kwargs.update(overrides)
        return Node(**kwargs)

    def copy(self, include_refs: bool = True) -> Node:
        """A shallow copy."""
        return self.copy_with()

    def reassign_inputs(
        self,
        input_names: Mapping[str, str] | None = None,
        input_values: Mapping[str, Any] | None = None,
    ) -> Node:
        """Rename parameters (``old -> new``) and/or bind some to fixed values.

        The callable keeps receiving its original parameter names, and stays a coroutine
        function if it was one. Names that are not parameters are not checked here (the
        decorators that call this validate their arguments); values bound to such names are
        passed to the callable as extra keyword arguments.
        """
        input_names = dict(input_names or {})
        input_values = dict(input_values or {})
        reverse = {new: old for old, new in input_names.items()}
        fn = self._callable

        def call_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
            renamed = {reverse.get(key, key): value for key, value in kwargs.items()}
            renamed.update(input_values)
            return renamed

        if inspect.iscoroutinefunction(fn):

            async def renamed_async(**kwargs: Any) -> Any:
                return await fn(**call_kwargs(kwargs))

            callabl: Callable[..., Any] = renamed_async
        else:

            def renamed(**kwargs: Any) -> Any:
                return fn(**call_kwargs(kwargs))

            callabl = renamed

        new_input_types = {
            input_names.get(key, key): value
            for key, value in self._input_types.items()
            if key not in input_values
        }
        defaults = {
            input_names.get(k, k): v
            for k, v in self._default_values.items()
            if k not in input_values
        }
        return self.copy_with(
            callabl=callabl, input_types=new_input_types, optional_values=defaults
        )

    def transform_output(
        self, transform: Callable[[Any, dict[str, Any]], Any], output_type: Any
    ) -> Node:
        """A node computing ``transform(result, kwargs)`` with a new output type.

        ``kwargs`` are the keyword arguments the node was called with. An ``async def`` node
        stays a coroutine function: its result is awaited before ``transform`` sees it.
        """
        fn = self._callable
        if inspect.iscoroutinefunction(fn):

            async def transformed_async(**kwargs: Any) -> Any:
                return transform(await fn(**kwargs), kwargs)

            return self.copy_with(callabl=transformed_async, typ=output_type)

        def transformed(**kwargs: Any) -> Any:
            return transform(fn(**kwargs), kwargs)

        return self.copy_with(callabl=transformed, typ=output_type)

    def with_tags(self, **tags: Any) -> Node:
        """A copy with tags added (later values win)."""
        return self.copy_with(tags={**self._tags, **tags})


def _input_types_from_signature(fn: Callable[..., Any]) -> dict[str, tuple[Any, DependencyType]]:
    hints = type_hints_of(fn)
    result: dict[str, tuple[Any, DependencyType]] = {}
    for pname, param in inspect.signature(fn).parameters.items():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        result[pname] = (hints.get(pname, Any), DependencyType.from_parameter(param))
    return result


def validate_tag_filter(query: Mapping[str, Any]) -> None:
    """Raises ValueError unless every value of a tag filter is a string, a non-empty list
    (tuple, set) of strings, or None."""
    for key, wanted in query.items():
        if wanted is None or isinstance(wanted, str):
            continue
        if isinstance(wanted, (list, tuple, set, frozenset)) and wanted:
            continue
        raise ValueError(
            f"Tag filter values must be a string, a list of strings or None, and a list may "
            f"not be empty; got {wanted!r} ({type(wanted).__name__}) for tag {key!r}."
        )


def matches_query(tags: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    """Tag-filter semantics: AND across keys; a list matches any member; None means present."""
    for key, wanted in query.items():
        if key not in tags:
            return False
        if wanted is None:
            continue
        actual = tags[key]
        actual_values = actual if isinstance(actual, list) else [actual]
        if isinstance(wanted, str):
            if wanted not in actual_values:
                return False
        elif isinstance(wanted, (list, tuple, set, frozenset)):
            if not any(w in actual_values for w in wanted):
                return False
        else:
            raise ValueError(
                f"Tag filter values must be a string, a list of strings or None; "
                f"got {wanted!r} ({type(wanted).__name__}) for tag {key!r}"
            )
    return True


def names_of(nodes: Collection[Node]) -> list[str]:
    """Names of nodes, in order."""
    return [n.name for n in nodes]
