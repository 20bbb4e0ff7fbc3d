"""The nodes data I/O adds to a graph: loader pairs and saver nodes, with their tags.

Decorators (``@load_from``, ``@save_to``, ``@dataloader``, ``@datasaver``) and materializers
(``from_``, ``to``) all build their nodes here, so every loader and saver carries the same
tags, whichever way it was declared:

- a loader is two nodes: ``load`` calls the adapter and returns ``(data, metadata)``
  (tag ``hamilton.data_loader.has_metadata=True``), ``select`` keeps the data;
- a saver is one node returning the metadata of what it wrote.

Adapter arguments are either fixed (literals and ``value(...)``) or read from other nodes
(``source(...)``); the latter become the loader's or saver's parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cayley.function_modifiers.base import InvalidDecoratorException, split_name
from cayley.function_modifiers.dependencies import (
    LiteralDependency,
    ParametrizedDependency,
    UpstreamDependency,
)
from cayley.io.data_adapters import AdapterCommon, DataLoader, DataSaver, field_types
from cayley.node import DependencyType, Node

__all__ = [
    "LOADER_TAG",
    "SAVER_TAG",
    "AdapterArguments",
    "LoadCall",
    "SaveCall",
    "SelectData",
    "loader_nodes",
    "saver_node",
    "split_arguments",
]

LOADER_TAG = "hamilton.data_loader"
LOADER_HAS_METADATA_TAG = "hamilton.data_loader.has_metadata"
LOADER_SOURCE_TAG = "hamilton.data_loader.source"
LOADER_CLASSNAME_TAG = "hamilton.data_loader.classname"
LOADER_NODE_TAG = "hamilton.data_loader.node"
SAVER_TAG = "hamilton.data_saver"
SAVER_SINK_TAG = "hamilton.data_saver.sink"
SAVER_CLASSNAME_TAG = "hamilton.data_saver.classname"

#: The type of a saver node's value (and of a loader node's metadata).
METADATA_TYPE = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class AdapterArguments:
    """An adapter's arguments: ``fixed`` values, and ``sources`` (field -> node read)."""

    fixed: Mapping[str, Any]
    sources: Mapping[str, str]

    @property
    def names(self) -> frozenset[str]:
        """Every argument name."""
        return frozenset(self.fixed) | frozenset(self.sources)

    def build(self, adapter: type[AdapterCommon], values: Mapping[str, Any]) -> Any:
        """An ``adapter`` instance, sources read from ``values`` (by node name)."""
        kwargs = dict(self.fixed)
        for field, node_name in self.sources.items():
            kwargs[field] = values[node_name]
        return adapter(**kwargs)

    def input_types(self, adapter: type[AdapterCommon]) -> dict[str, tuple[Any, DependencyType]]:
        """Parameters of a node building ``adapter``: each source, typed by its field."""
        types = field_types(adapter)
        out: dict[str, tuple[Any, DependencyType]] = {}
        for field, node_name in self.sources.items():
            out.setdefault(node_name, (types.get(field, Any), DependencyType.REQUIRED))
        return out


def split_arguments(kwargs: Mapping[str, Any], where: str) -> AdapterArguments:
    """Sort decorator/materializer keyword arguments into fixed values and sources."""
    fixed: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, spec in kwargs.items():
        if isinstance(spec, UpstreamDependency):
            sources[key] = spec.source
        elif isinstance(spec, LiteralDependency):
            fixed[key] = spec.value
        elif isinstance(spec, ParametrizedDependency):
            raise InvalidDecoratorException(
                f"argument {key}={spec!r} ({where}): adapter arguments take a literal, "
                "value(...) or source(...)."
            )
        else:
            fixed[key] = spec
    return AdapterArguments(fixed, sources)


@dataclasses.dataclass(frozen=True, eq=False)
class LoadCall:
    """A loader node's callable: builds the loader, returns ``(data, metadata)``."""

    adapter: type[DataLoader]
    arguments: AdapterArguments
    type_: Any

    def loader(self, kwargs: Mapping[str, Any]) -> DataLoader:
        """The loader this call would use given the node's keyword arguments."""
        return self.arguments.build(self.adapter, kwargs)

    def __call__(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        result = self.loader(kwargs).load_data(self.type_)
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
            raise TypeError(
                f"{self.adapter.__qualname__}.load_data must return a (data, metadata) tuple with "
                f"a dict of metadata; it returned {type(result).__name__}."
            )
        return result


@dataclasses.dataclass(frozen=True, eq=False)
class SelectData:
    """A select node's callable: the data part of its loader's ``(data, metadata)``."""

    param: str

    def __call__(self, **kwargs: Any) -> Any:
        return kwargs[self.param][0]


@dataclasses.dataclass(frozen=True, eq=False)
class SaveCall:
    """A saver node's callable: builds the saver, writes the data, returns the metadata."""

    adapter: type[DataSaver]
    arguments: AdapterArguments
    data_param: str

    def __call__(self, **kwargs: Any) -> Any:
        saver = self.arguments.build(self.adapter, kwargs)
        return saver.save_data(kwargs[self.data_param])


def _named(full_name: str) -> dict[str, Any]:
    return split_name(full_name)


def loader_tags(source: str, classname: str, node_label: str, has_metadata: bool) -> dict[str, Any]:
    """The ``hamilton.data_loader*`` tags of a loader node."""
    return {
        LOADER_TAG: True,
        LOADER_HAS_METADATA_TAG: has_metadata,
        LOADER_SOURCE_TAG: source,
        LOADER_CLASSNAME_TAG: classname,
        LOADER_NODE_TAG: node_label,
    }


def saver_tags(sink: str, classname: str) -> dict[str, Any]:
    """The ``hamilton.data_saver*`` tags of a saver node."""
    return {SAVER_TAG: True, SAVER_SINK_TAG: sink, SAVER_CLASSNAME_TAG: classname}


def loader_nodes(
    *,
    load_name: str,
    select_name: str,
    adapter: type[DataLoader],
    arguments: AdapterArguments,
    type_: Any,
    node_label: str,
    origins: Sequence[Callable[..., Any]] = (),
) -> tuple[Node, Node]:
    """The ``(load, select)`` pair reading a value of ``type_`` with ``adapter``.

    ``node_label`` is what the ``hamilton.data_loader.node`` tag records (the parameter or
    node being loaded).
    """
    fmt = adapter.name()
    load = Node(
        **_named(load_name),
        typ=tuple[type_, METADATA_TYPE],
        doc_string=f"Loads {node_label} with {adapter.__name__} ({fmt}).",
        callabl=LoadCall(adapter, arguments, type_),
        input_types=arguments.input_types(adapter),
        tags=loader_tags(fmt, adapter.__name__, node_label, True),
        originating_functions=tuple(origins) or None,
    )
    select = Node(
        **_named(select_name),
        typ=type_,
        doc_string=f"The data {load_name} loaded.",
        callabl=SelectData(load_name),
        input_types={load_name: (load.type, DependencyType.REQUIRED)},
        tags=loader_tags(fmt, adapter.__name__, node_label, False),
        originating_functions=tuple(origins) or None,
    )
    return load, select


def saver_node(
    *,
    name: str,
    adapter: type[DataSaver],
    arguments: AdapterArguments,
    data_name: str,
    data_type: Any,
    origins: Sequence[Callable[..., Any]] = (),
) -> Node:
    """A node saving the value of node ``data_name`` with ``adapter``; its value is the metadata."""
    if data_name in arguments.sources.values():
        raise InvalidDecoratorException(
            f"saver {name!r} reads {data_name!r} both as the data to save and as an argument "
            f"(source({data_name!r})); pass the argument another way."
        )
    input_types = {data_name: (data_type, DependencyType.REQUIRED)}
    input_types.update(arguments.input_types(adapter))
    return Node(
        **_named(name),
        typ=METADATA_TYPE,
        doc_string=f"Saves {data_name} with {adapter.__name__} ({adapter.name()}).",
        callabl=SaveCall(adapter, arguments, data_name),
        input_types=input_types,
        tags=saver_tags(adapter.name(), adapter.__name__),
        originating_functions=tuple(origins) or None,
    )
