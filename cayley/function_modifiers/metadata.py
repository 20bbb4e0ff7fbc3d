"""Decorators attaching metadata (tags) to the nodes a function produces.

``@tag`` adds string tags, ``@tag_outputs`` adds tags per output node, ``@schema.output``
records a dataframe's columns, ``@cache`` sets caching behaviour and format, and
``@ray_remote_options`` passes options to Ray.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from cayley import htypes
from cayley.function_modifiers import base
from cayley.function_modifiers.dataframes import is_dataframe_type, registered_dataframe_types
from cayley.node import Node

__all__ = [
    "RAY_REMOTE_TAG_NAMESPACE",
    "RayRemote",
    "SchemaOutput",
    "cache",
    "ray_remote_options",
    "schema",
    "tag",
    "tag_outputs",
]

RAY_REMOTE_TAG_NAMESPACE = "ray_remote"

TagValue = str | list[str]


def _key_problem(key: Any, bypass_reserved: bool) -> str | None:
    if not isinstance(key, str) or not key:
        return "keys must be non-empty strings"
    parts = key.split(".")
    if not all(part.isidentifier() for part in parts):
        return "each dot-separated part of a key must be a Python identifier"
    if not bypass_reserved and parts[0] in tag.RESERVED_TAG_NAMESPACES:
        return f"the namespace {parts[0]!r} is reserved (pass bypass_reserved_namespaces_=True)"
    return None


def _value_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return None
    if isinstance(value, list):
        if not value:
            return "lists must not be empty"
        if not all(isinstance(v, str) for v in value):
            return "lists must hold strings only"
        if len(set(value)) != len(value):
            return "lists must not repeat a value"
        return None
    return "values must be a string or a list of strings"


def _check_tags(tags: Mapping[str, Any], bypass_reserved: bool) -> None:
    problems = []
    for key, value in tags.items():
        problem = _key_problem(key, bypass_reserved) or _value_problem(value)
        if problem:
            problems.append(f"{key}={value!r} ({problem})")
    if problems:
        raise base.InvalidDecoratorException(
            f"invalid tag(s): {', '.join(problems)}. Reserved namespaces are "
            f"{tag.RESERVED_TAG_NAMESPACES}."
        )


class tag(base.NodeDecorator):
    """Add tags (string or list-of-string values) to the function's nodes.

    ``target_`` selects the nodes (default: the final ones). Keys may be dotted; the
    namespaces in :attr:`RESERVED_TAG_NAMESPACES` need ``bypass_reserved_namespaces_=True``.
    """

    RESERVED_TAG_NAMESPACES = [
        "hamilton",
        "data_quality",
        "gdpr",
        "ccpa",
        "dag",
        "module",
        RAY_REMOTE_TAG_NAMESPACE,
    ]

    def __init__(
        self,
        *,
        target_: base.TargetType = None,
        bypass_reserved_namespaces_: bool = False,
        **tags: TagValue,
    ) -> None:
        super().__init__(target=target_)
        self.tags = tags
        self.bypass_reserved_namespaces = bypass_reserved_namespaces_

    def decorate_node(self, node_: Node) -> Node:
        """The node with the tags added."""
        return node_.copy_with(tags={**node_.tags, **self.tags})

    def validate(self, fn: Callable[..., Any]) -> None:
        """Keys and values must follow the tag rules."""
        _check_tags(self.tags, self.bypass_reserved_namespaces)


class tag_outputs(base.NodeDecorator):
    """Tags per output node: ``@tag_outputs(node_a={"k": "v"}, node_b={...})``.

    Names that the function does not produce are ignored.
    """

    def __init__(self, **tag_mapping: Mapping[str, TagValue]) -> None:
        super().__init__(target=...)
        for tags in tag_mapping.values():
            if not isinstance(tags, Mapping):
                raise base.InvalidDecoratorException(
                    f"@tag_outputs maps node names to dicts of tags, got {tags!r}."
                )
            _check_tags(tags, bypass_reserved=False)
        self.tag_mapping = {name: dict(tags) for name, tags in tag_mapping.items()}

    def decorate_node(self, node_: Node) -> Node:
        """The node with its own tags added, if it is listed."""
        extra = self.tag_mapping.get(node_.name)
        if not extra:
            return node_
        return node_.copy_with(tags={**node_.tags, **extra})


class SchemaOutput(tag):
    """``@schema.output``: records the columns of a dataframe-typed node as a tag."""

    decorator_name = "schema.output"

    def __init__(self, *fields: tuple[str, str], target_: str | None = None) -> None:
        for field in fields:
            if not (
                isinstance(field, tuple)
                and len(field) == 2
                and all(isinstance(part, str) for part in field)
            ):
                raise base.InvalidDecoratorException(
                    f"@schema.output takes (column_name, type_name) string pairs, got {field!r}."
                )
        tag_value = ",".join(f"{name}={type_name}" for name, type_name in fields)
        super().__init__(
            target_=target_,
            bypass_reserved_namespaces_=True,
            **{schema.INTERNAL_SCHEMA_OUTPUT_KEY: tag_value},
        )

    def validate_node(self, node_: Node) -> None:
        """The node must be a dataframe."""
        if not is_dataframe_type(node_.type):
            raise base.InvalidDecoratorException(
                f"node {node_.name!r} has type {htypes.get_type_as_string(node_.type)}, which "
                "is not a dataframe type; known dataframe types are "
                f"{sorted(registered_dataframe_types()) or 'none (no dataframe library loaded)'}."
            )

    @classmethod
    def allows_multiple(cls) -> bool:
        """One schema per function."""
        return False

    def validate(self, fn: Callable[..., Any]) -> None:
        """Checked per node instead."""


class schema:
    """Namespace for ``@schema.output``."""

    INTERNAL_SCHEMA_OUTPUT_KEY = "hamilton.internal.schema_output"

    @staticmethod
    def output(*fields: tuple[str, str], target_: str | None = None) -> SchemaOutput:
        """Record the ``(column, type)`` fields of the dataframe node (shown by visualizers)."""
        return SchemaOutput(*fields, target_=target_)


class RayRemote(tag):
    """``@ray_remote_options``: options for ``ray.remote`` stored as ``ray_remote.*`` tags."""

    decorator_name = "ray_remote_options"

    def __init__(self, **options: int | dict[str, int]) -> None:
        ray_tags = {
            f"{RAY_REMOTE_TAG_NAMESPACE}.{option}": json.dumps(value)
            for option, value in options.items()
        }
        super().__init__(bypass_reserved_namespaces_=True, **ray_tags)


def ray_remote_options(**kwargs: int | dict[str, int]) -> RayRemote:
    """Options (``num_gpus=1``, ``resources={...}``) for running the node with Ray."""
    return RayRemote(**kwargs)


CACHE_BEHAVIORS = Literal["default", "recompute", "ignore", "disable"]
CACHE_MATERIALIZERS = Literal["json", "file", "pickle", "parquet", "csv", "feather", "orc", "excel"]
_BEHAVIORS = ("default", "recompute", "ignore", "disable")


class cache(base.NodeDecorator):
    """Caching behaviour and storage format of the function's nodes (as tags).

    ``behavior`` is one of ``default``, ``recompute``, ``ignore``, ``disable``; ``format``
    names a storage format (``json``, ``parquet``, ``pickle``, ...). Applies to every node
    the function produces unless ``target_`` says otherwise.
    """

    BEHAVIOR_KEY = "cache.behavior"
    FORMAT_KEY = "cache.format"

    def __init__(
        self,
        *,
        behavior: CACHE_BEHAVIORS | None = None,
        format: CACHE_MATERIALIZERS | str | None = None,
        target_: base.TargetType = ...,
    ) -> None:
        super().__init__(target=target_)
        if behavior is not None and behavior not in _BEHAVIORS:
            raise base.InvalidDecoratorException(
                f"@cache behavior must be one of {list(_BEHAVIORS)}, got {behavior!r}."
            )
        if format is not None and not isinstance(format, str):
            raise base.InvalidDecoratorException(
                f"@cache format must be a string such as 'parquet', got {format!r}."
            )
        self.cache_tags: dict[str, str] = {}
        if behavior:
            self.cache_tags[cache.BEHAVIOR_KEY] = behavior
        if format:
            self.cache_tags[cache.FORMAT_KEY] = format

    def decorate_node(self, node_: Node) -> Node:
        """The node with the cache tags added."""
        return node_.copy_with(tags={**node_.tags, **self.cache_tags})
