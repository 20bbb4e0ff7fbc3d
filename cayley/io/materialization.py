"""Materializers: saving and loading chosen per run, as graph rewrites.

``to.<format>(id, dependencies, combine=None, **arguments)`` adds a saver node named ``id``
writing one node (or several joined by the result builder ``combine``, through a node named
``<id>_build_result``). ``from_.<format>(target, **arguments)`` replaces node ``target`` by a
loader pair (``load_data.<target>`` and ``<target>``), so one run can read a node from a
file instead of computing it, and each run can pick the format.

Nothing here executes anything: :func:`rewrite_graph` returns a new graph with those nodes, and
``Driver.materialize`` runs it through the same engine as ``execute`` (every executor, the
dynamic and async drivers, hooks), caching the rewritten graph per set of materializers as it
caches plans.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from cayley.function_modifiers.base import InvalidDecoratorException
from cayley.graph import FunctionGraph
from cayley.graph_types import HamiltonNode
from cayley.io import nodes as io_nodes
from cayley.io.keys import freeze_arguments
from cayley.io.resolve import keyword_signature, resolve_adapter
from cayley.lifecycle.api import ResultBuilder
from cayley.node import DependencyType, Node

__all__ = [
    "ExtractorFactory",
    "MaterializationRequest",
    "MaterializerFactory",
    "from_",
    "modify_graph",
    "rewrite_graph",
    "to",
]

NameResolver = Callable[[Sequence[Any], FunctionGraph], list[str]]


def _close_matches(name: str, names: Collection[str]) -> str:
    matches = difflib.get_close_matches(name, list(names), n=3)
    return f" Did you mean {matches}?" if matches else ""


@functools.lru_cache(maxsize=1024)
def _check_fits(fmt: str, role: str, classes: tuple[type, ...], given: frozenset[str]) -> None:
    """Fail early when no class of the format takes these arguments, whatever the type.

    Cached: the outcome depends only on the classes and the argument names.
    """
    for cls in classes:
        required = set(cls.get_required_arguments())
        if required <= given <= required | set(cls.get_optional_arguments()):
            return
    takes = "; ".join(
        f"{c.__name__} requires {sorted(c.get_required_arguments()) or 'nothing'}" for c in classes
    )
    raise InvalidDecoratorException(
        f"The {fmt} {role}s take none of these argument sets: got {sorted(given)}; {takes} "
        "(see each class's optional arguments)."
    )


@dataclasses.dataclass(frozen=True, eq=False)
class _Combine:
    """The callable of a ``<id>_build_result`` node."""

    builder: Any

    def __call__(self, **outputs: Any) -> Any:
        return self.builder.build_result(**outputs)


class MaterializerFactory:
    """A saver to add to a graph: ``to.<format>(...)`` returns one.

    Args:
        id: the saver node's name; ``materialize`` returns its metadata under this key.
        savers: the candidate saver classes (one format).
        result_builder: joins several dependencies into the one value saved.
        dependencies: the nodes saved (names, node functions or nodes).
        **data_saver_kwargs: the saver's arguments (literals, ``value(...)``, ``source(...)``).
    """

    def __init__(
        self,
        id: str,
        savers: Sequence[type],
        result_builder: Any | None,
        dependencies: Sequence[Any],
        **data_saver_kwargs: Any,
    ) -> None:
        if not isinstance(id, str) or not id:
            raise ValueError(f"A materializer id must be a non-empty node name, got {id!r}.")
        if isinstance(dependencies, (str, bytes)) or not isinstance(dependencies, Sequence):
            raise ValueError(
                f"Materializer {id!r}: dependencies must be a list of nodes, got "
                f"{dependencies!r}. Write dependencies=[{dependencies!r}]."
            )
        if not dependencies:
            raise ValueError(f"Materializer {id!r} has no dependencies: name the node(s) to save.")
        if result_builder is not None and not isinstance(result_builder, ResultBuilder):
            raise TypeError(
                f"Materializer {id!r}: combine must be a result builder (such as "
                f"base.DictResult()), got {result_builder!r}."
            )
        self.id = id
        self.savers = tuple(savers)
        self.fmt = self.savers[0].name()
        self.result_builder = result_builder
        self.dependencies = list(dependencies)
        self.data_saver_kwargs = data_saver_kwargs
        self.arguments = io_nodes.split_arguments(data_saver_kwargs, f"to.{self.fmt}({id!r})")
        _check_fits(self.fmt, "saver", self.savers, self.arguments.names)

    def key(self, graph: FunctionGraph, names: NameResolver | None = None) -> tuple[Any, ...]:
        """What determines the nodes this factory adds to ``graph`` (for caching rewrites).

        Dependencies count by the node they name, the saver classes and ``combine`` by
        identity, the arguments as :func:`~cayley.io.keys.freeze` keys them.
        """
        combine = None if self.result_builder is None else id(self.result_builder)
        return (
            "to",
            self.savers,
            self.id,
            tuple(self._dependency_names(graph, names or _names)),
            combine,
            freeze_arguments(self.data_saver_kwargs),
        )

    def _dependency_names(self, graph: FunctionGraph, names: NameResolver) -> list[str]:
        deps = self.dependencies
        if all(type(d) is str for d in deps):
            return list(deps)
        return names(deps, graph)

    def generate_nodes(
        self, fn_graph: FunctionGraph, names: NameResolver | None = None
    ) -> list[Node]:
        """The saver node (and the joining node when there is ``combine``)."""
        return self._generate(fn_graph.nodes, fn_graph, names or _names)

    def _generate(
        self, known: Mapping[str, Node], graph: FunctionGraph, names: NameResolver
    ) -> list[Node]:
        deps = self._dependency_names(graph, names)
        unknown = [d for d in deps if d not in known]
        if unknown:
            hint = _close_matches(unknown[0], known)
            raise ValueError(
                f"Materializer {self.id!r} depends on {unknown}, which are not nodes of the "
                f"graph.{hint}"
            )
        made: list[Node] = []
        if self.result_builder is not None:
            output_type = self.result_builder.output_type()
            joined = Node(
                f"{self.id}_build_result",
                output_type,
                doc_string=f"Joins {deps} for materializer {self.id!r}.",
                callabl=_Combine(self.result_builder),
                input_types={d: (known[d].type, DependencyType.REQUIRED) for d in deps},
                originating_functions=(self.result_builder.build_result,),
            )
            made.append(joined)
            data_name, data_type = joined.name, joined.type
        elif len(deps) > 1:
            raise ValueError(
                f"Materializer {self.id!r} saves {len(deps)} nodes {deps}: pass "
                "combine=<result builder> (for instance base.DictResult()) to join them into "
                "the one value the saver writes, or save each with its own materializer."
            )
        else:
            data_name, data_type = deps[0], known[deps[0]].type
        adapter = resolve_adapter(
            self.fmt,
            "saver",
            self.savers,
            data_type,
            self.arguments.names,
            f"materializer {self.id!r} saving {data_name!r}",
        )
        made.append(
            io_nodes.saver_node(
                name=self.id,
                adapter=adapter,
                arguments=self.arguments,
                data_name=data_name,
                data_type=data_type,
            )
        )
        return made


class ExtractorFactory:
    """A loader replacing a node of the graph: ``from_.<format>(...)`` returns one.

    Args:
        target: the node (or input) whose value is loaded instead.
        loaders: the candidate loader classes (one format).
        **data_loader_kwargs: the loader's arguments (literals, ``value(...)``, ``source(...)``).
    """

    def __init__(self, target: str, loaders: Sequence[type], **data_loader_kwargs: Any) -> None:
        if not isinstance(target, str) or not target:
            raise ValueError(f"from_ needs target=<node name>, got {target!r}.")
        self.target = target
        self.loaders = tuple(loaders)
        self.fmt = self.loaders[0].name()
        self.data_loader_kwargs = data_loader_kwargs
        self.arguments = io_nodes.split_arguments(
            data_loader_kwargs, f"from_.{self.fmt}({target!r})"
        )
        _check_fits(self.fmt, "loader", self.loaders, self.arguments.names)

    def key(self) -> tuple[Any, ...]:
        """What determines the nodes this factory makes (for caching rewritten graphs).

        The loader classes count by identity, the arguments as :func:`~cayley.io.keys.freeze` keys them.
        """
        return ("from", self.loaders, self.target, freeze_arguments(self.data_loader_kwargs))

    def generate_nodes(self, fn_graph: FunctionGraph) -> list[Node]:
        """``load_data.<target>`` and ``<target>``."""
        return self._generate(fn_graph.nodes)

    def _generate(self, known: Mapping[str, Node]) -> list[Node]:
        if self.target not in known:
            raise ValueError(
                f"from_.{self.fmt}: target {self.target!r} is not a node of the graph, so "
                f"there is nothing to load it into.{_close_matches(self.target, known)}"
            )
        type_ = known[self.target].type
        adapter = resolve_adapter(
            self.fmt,
            "loader",
            self.loaders,
            type_,
            self.arguments.names,
            f"from_ loading node {self.target!r}",
        )
        load, select = io_nodes.loader_nodes(
            load_name=f"load_data.{self.target}",
            select_name=self.target,
            adapter=adapter,
            arguments=self.arguments,
            type_=type_,
            node_label=self.target,
        )
        return [load, select]


def _names(values: Sequence[Any], graph: FunctionGraph) -> list[str]:
    """Node names of ``values`` given as names, nodes or node functions (by their name)."""
    out = []
    for value in values:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, (Node, HamiltonNode)):
            out.append(value.name)
        elif inspect.isfunction(value):
            out.append(value.__name__)
        else:
            raise TypeError(f"Cannot use {value!r} as a node: pass a node name.")
    return out


# ---- requests and rewrites ------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MaterializationRequest:
    """A ``materialize`` call's materializers, sorted, and what it must compute."""

    materializers: tuple[MaterializerFactory, ...]
    extractors: tuple[ExtractorFactory, ...]
    additional_vars: tuple[str, ...]

    @classmethod
    def of(
        cls, factories: Sequence[Any], additional_vars: Sequence[str] = ()
    ) -> MaterializationRequest:
        """Sorts ``factories`` into savers and loaders; rejects anything else."""
        savers: list[MaterializerFactory] = []
        loaders: list[ExtractorFactory] = []
        for factory in factories:
            if isinstance(factory, MaterializerFactory):
                savers.append(factory)
            elif isinstance(factory, ExtractorFactory):
                loaders.append(factory)
            elif isinstance(factory, (list, tuple)):
                raise ValueError(
                    "Materializers are passed one by one: unpack the list with *, as in "
                    "materialize(*[to.json(...), from_.csv(...)])."
                )
            else:
                raise TypeError(
                    f"{factory!r} is not a materializer: use to.<format>(...) or "
                    "from_.<format>(...)."
                )
        ids = [m.id for m in savers]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(
                f"Several materializers share the id(s) {duplicates}; ids must be unique."
            )
        return cls(tuple(savers), tuple(loaders), tuple(additional_vars))

    def key(self, graph: FunctionGraph, names: NameResolver = _names) -> tuple[Any, ...]:
        """Identifies the rewrite of ``graph``: equal keys give graphs that behave the same."""
        return (
            *(f.key() for f in self.extractors),
            *(f.key(graph, names) for f in self.materializers),
        )

    @property
    def outputs(self) -> list[str]:
        """What a run computes: every saver, then the additional variables."""
        return [m.id for m in self.materializers] + [
            v for v in self.additional_vars if v not in {m.id for m in self.materializers}
        ]

    def split(self, results: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(metadata by materializer id, additional variables by name)``."""
        return (
            {m.id: results[m.id] for m in self.materializers},
            {v: results[v] for v in self.additional_vars},
        )


def rewrite_graph(
    graph: FunctionGraph,
    request: MaterializationRequest,
    edge_type_check: Callable[[Any, Any], bool] | None = None,
    names: NameResolver = _names,
) -> FunctionGraph:
    """``graph`` with the request's loaders replacing their targets and its savers added."""
    if not request.materializers and not request.extractors:
        return graph
    nodes: dict[str, Node] = {
        name: node
        for name, node in graph.nodes.items()
        if not node.user_defined or name in graph.config
    }
    known: dict[str, Node] = dict(graph.nodes)
    for extractor in request.extractors:
        load, select = extractor._generate(known)
        if load.name in nodes:
            raise ValueError(
                f"Node {extractor.target!r} is loaded by two from_ materializers; keep one."
            )
        nodes.pop(extractor.target, None)
        nodes[load.name] = load
        nodes[select.name] = select
        known[load.name] = load
        known[select.name] = select
    for materializer in request.materializers:
        for made in materializer._generate(known, graph, names):
            if made.name in known:
                raise ValueError(
                    f"Materializer {materializer.id!r} would add node {made.name!r}, which the "
                    "graph already has; choose another id."
                )
            nodes[made.name] = made
            known[made.name] = made
    return FunctionGraph(nodes, graph.config, edge_type_check)


def modify_graph(
    fn_graph: FunctionGraph,
    materializer_factories: Sequence[MaterializerFactory],
    extractor_factories: Sequence[ExtractorFactory],
) -> FunctionGraph:
    """``fn_graph`` with the extractors' loaders and the materializers' savers."""
    request = MaterializationRequest.of([*materializer_factories, *extractor_factories])
    return rewrite_graph(fn_graph, request)


# ---- to / from_ ----------------------------------------------------------------------------
def _named(fn: Callable[..., Any], label: str, kind: str, classes: Sequence[type]) -> None:
    fn.__name__ = fn.__qualname__ = label
    fn.__doc__ = f"A {kind} for materialize ({', '.join(c.__name__ for c in classes)})."


@functools.lru_cache(maxsize=256)
def _saver_factory(fmt: str, classes: tuple[type, ...]) -> Callable[..., MaterializerFactory]:
    """``to.<fmt>``, made once per format and set of registered classes."""

    def create(
        id: str, dependencies: Sequence[Any], combine: Any | None = None, **kwargs: Any
    ) -> MaterializerFactory:
        return MaterializerFactory(id, classes, combine, dependencies, **kwargs)

    _named(create, f"to.{fmt}", f"{fmt} saver", classes)
    create.__signature__ = keyword_signature(  # type: ignore[attr-defined]
        classes,
        [
            inspect.Parameter("id", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter("dependencies", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter("combine", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
        ],
    )
    return create


@functools.lru_cache(maxsize=256)
def _loader_factory(fmt: str, classes: tuple[type, ...]) -> Callable[..., ExtractorFactory]:
    """``from_.<fmt>``, made once per format and set of registered classes."""

    def create(target: str, **kwargs: Any) -> ExtractorFactory:
        return ExtractorFactory(target, classes, **kwargs)

    _named(create, f"from_.{fmt}", f"{fmt} loader", classes)
    create.__signature__ = keyword_signature(  # type: ignore[attr-defined]
        classes, [inspect.Parameter("target", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    )
    return create


class _MaterializerFamily(type):
    def __getattr__(cls, item: str) -> Callable[..., Any]:
        if item.startswith("__"):
            raise AttributeError(item)
        return cls._factory(item)  # type: ignore[attr-defined]


class to(metaclass=_MaterializerFamily):
    """``to.<format>(id, dependencies, combine=None, **arguments)``: a saver for ``materialize``.

    One attribute per registered saver format; an unknown one raises ``AttributeError``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("Use a format: to.<format>(id=..., dependencies=[...], ...).")

    @classmethod
    def _factory(cls, fmt: str) -> Callable[..., MaterializerFactory]:
        from cayley import registry

        classes = registry.savers_for(fmt)
        if not classes:
            raise AttributeError(
                f"No saver named {fmt!r} for to.<format>; available savers: "
                f"{registry.saver_names()}. Check the spelling, or register a DataSaver with "
                "cayley.registry.register_adapter."
            )
        return _saver_factory(fmt, tuple(classes))


class from_(metaclass=_MaterializerFamily):
    """``from_.<format>(target, **arguments)``: a loader replacing node ``target``.

    One attribute per registered loader format; an unknown one raises ``AttributeError``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("Use a format: from_.<format>(target=..., ...).")

    @classmethod
    def _factory(cls, fmt: str) -> Callable[..., ExtractorFactory]:
        from cayley import registry

        classes = registry.loaders_for(fmt)
        if not classes:
            raise AttributeError(
                f"No loader named {fmt!r} for from_.<format>; available loaders: "
                f"{registry.loader_names()}. Check the spelling, or register a DataLoader with "
                "cayley.registry.register_adapter."
            )
        return _loader_factory(fmt, tuple(classes))
