"""Read-only public views of the graph: :class:`HamiltonNode` and :class:`HamiltonGraph`.

The names are kept for compatibility with code written against Hamilton.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cayley import htypes
from cayley.node import Node

if TYPE_CHECKING:
    from cayley.graph import FunctionGraph

__all__ = ["HamiltonGraph", "HamiltonNode", "hash_source_code"]


def _strip_docstrings(source: str) -> str:
    tree = ast.parse(textwrap.dedent(source))
    for item in ast.walk(tree):
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and item.body:
            first = item.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                item.body = item.body[1:] or [ast.Pass()]
    return ast.unparse(tree)  # comments never survive parsing


def hash_source_code(source: str | Callable[..., Any], strip: bool = False) -> str:
    """sha256 of a function's source; with ``strip``, docstrings and comments are ignored."""
    text = inspect.getsource(source) if callable(source) else source
    text = text.strip()
    if strip:
        try:
            text = _strip_docstrings(text)
        except SyntaxError:
            pass
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class HamiltonNode:
    """A read-only description of one node."""

    name: str
    type: Any
    tags: dict[str, Any]
    is_external_input: bool
    originating_functions: tuple[Callable[..., Any], ...] | None
    documentation: str | None
    required_dependencies: set[str]
    optional_dependencies: set[str]
    optional_dependencies_default_values: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def from_node(n: Node) -> HamiltonNode:
        """The public view of an internal node."""
        return HamiltonNode(
            name=n.name,
            type=n.type,
            tags=n.tags,
            is_external_input=n.user_defined,
            originating_functions=n.originating_functions,
            documentation=n.documentation,
            required_dependencies=n.required_dependencies,
            optional_dependencies=n.optional_dependencies,
            optional_dependencies_default_values=dict(n.default_parameter_values),
        )

    @functools.cached_property
    def version(self) -> str | None:
        """Hash of the originating function's source without docstrings and comments.

        An input's version is its name; ``None`` when the source is not available.
        """
        if not self.originating_functions:
            return self.name if self.is_external_input else None
        try:
            return hash_source_code(self.originating_functions[0], strip=True)
        except (OSError, TypeError):
            return None

    def as_dict(self, include_optional_dependencies_default_values: bool = False) -> dict[str, Any]:
        """A JSON-friendly description."""
        try:
            source = (
                inspect.getsource(self.originating_functions[0])
                if self.originating_functions
                else None
            )
        except (OSError, TypeError):
            source = None
        result: dict[str, Any] = {
            "name": self.name,
            "tags": self.tags,
            "output_type": htypes.get_type_as_string(self.type),
            "required_dependencies": sorted(self.required_dependencies),
            "optional_dependencies": sorted(self.optional_dependencies),
            "source": source,
            "documentation": self.documentation,
            "version": self.version,
        }
        if include_optional_dependencies_default_values:
            result["optional_dependencies_default_values"] = (
                self.optional_dependencies_default_values
            )
        return result

    def __repr__(self) -> str:
        return f'Node("{self.name}": {htypes.get_type_as_string(self.type)})'

    def __hash__(self) -> int:
        return hash(self.name)


@dataclass
class HamiltonGraph:
    """A read-only description of the whole graph."""

    nodes: list[HamiltonNode]

    @staticmethod
    def from_graph(fn_graph: FunctionGraph) -> HamiltonGraph:
        """The public view of a function graph."""
        return HamiltonGraph([HamiltonNode.from_node(n) for n in fn_graph.nodes.values()])

    @functools.cached_property
    def version(self) -> str:
        """Hash over the sorted versions of all nodes."""
        versions = sorted(v for v in (n.version for n in self.nodes) if v is not None)
        return hashlib.sha256(str(versions).encode()).hexdigest()

    @functools.cached_property
    def _by_name(self) -> dict[str, HamiltonNode]:
        return {n.name: n for n in self.nodes}

    def __getitem__(self, name: str) -> HamiltonNode:
        return self._by_name[name]

    def filter_nodes(self, filter: Callable[[HamiltonNode], bool]) -> list[HamiltonNode]:
        """Nodes for which ``filter`` returns True (Hamilton's keyword: ``filter=``)."""
        return [n for n in self.nodes if filter(n) is True]
