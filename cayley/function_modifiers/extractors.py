"""Decorators exposing parts of a function's result as nodes of their own.

``@extract_columns`` gives one node per dataframe column, ``@extract_fields`` one per dict
field and ``@unpack_fields`` one per tuple element. The function's own node stays, and each
part node reads from it.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable, Collection
from typing import Annotated, Any

from cayley import htypes
from cayley.function_modifiers import base
from cayley.function_modifiers.dataframes import DataFrameKind, dataframe_kind_of
from cayley.node import DependencyType, Node

__all__ = ["extract_columns", "extract_fields", "unpack_fields"]


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _return_type(fn: Callable[..., Any]) -> Any:
    hints = base.type_hints(fn)
    if "return" not in hints:
        raise base.InvalidDecoratorException("the function needs a return type annotation.")
    return hints["return"]


def _is_type_like(tp: Any) -> bool:
    return (
        tp is Any
        or isinstance(tp, (type, typing.TypeVar))
        or typing.get_origin(tp) is not None
        or hasattr(tp, "__supertype__")
    )


def _part_node(name: str, typ: Any, doc: str, fn: Callable[..., Any], whole: Node) -> Node:
    return Node(
        name,
        typ,
        doc,
        callabl=fn,
        input_types={whole.name: (whole.type, DependencyType.REQUIRED)},
        tags=dict(whole.tags),
        originating_functions=whole.originating_functions,
    )


# ---- extract_columns ------------------------------------------------------------------------


def _column_reader(frame_name: str, column: str, kind: DataFrameKind) -> Callable[..., Any]:
    def read_column(**kwargs: Any) -> Any:
        frame = kwargs[frame_name]
        if not kind.has_column(frame, column):
            raise base.InvalidDecoratorException(
                f"No such column: {column} produced by {frame_name}. "
                f"It only produced {list(frame.columns)}."
            )
        return kind.get_column(frame, column)

    return read_column


def _frame_filler(
    produce: Callable[..., Any], kind: DataFrameKind, columns: list[str], fill_with: Any
) -> Callable[..., Any]:
    def fill(frame: Any) -> Any:
        for column in columns:
            if not kind.has_column(frame, column):
                frame = kind.fill_with_scalar(frame, column, fill_with)
        return frame

    return base.then(produce, fill)


class extract_columns(base.SingleNodeNodeTransformer):
    """One node per listed column of the dataframe the function returns.

    Columns are names or ``(name, docstring)`` pairs; each column node has the dataframe
    library's column type (``pd.Series``, ``pl.Series``, or ``pl.Expr`` for a LazyFrame).
    With ``fill_with``, missing columns are added holding that value instead of failing.
    """

    def __init__(self, *columns: tuple[str, str] | str, fill_with: Any = None) -> None:
        super().__init__()
        if not columns:
            raise base.InvalidDecoratorException("@extract_columns needs at least one column name.")
        if isinstance(columns[0], (list, set)):
            raise base.InvalidDecoratorException(
                "@extract_columns takes column names as separate arguments: unpack the list "
                "with `*`, e.g. @extract_columns(*names)."
            )
        names: list[str] = []
        for column in columns:
            if isinstance(column, tuple) and len(column) == 2 and isinstance(column[0], str):
                names.append(column[0])
            elif isinstance(column, str):
                names.append(column)
            else:
                raise base.InvalidDecoratorException(
                    f"@extract_columns takes names or (name, docstring) pairs, got {column!r}."
                )
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise base.InvalidDecoratorException(
                f"@extract_columns lists column(s) {duplicates} more than once."
            )
        self.columns = columns
        self.column_names = names
        self.fill_with = fill_with

    @staticmethod
    def validate_return_type(fn: Callable[..., Any]) -> None:
        """The function must return a dataframe type cayley knows."""
        output_type = _return_type(fn)
        if dataframe_kind_of(output_type) is None:
            raise base.InvalidDecoratorException(
                f"the function returns {htypes.get_type_as_string(output_type)}, which is not a "
                "known dataframe type (pandas DataFrame, polars DataFrame or LazyFrame); "
                "@extract_columns needs a dataframe."
            )

    def validate(self, fn: Callable[..., Any]) -> None:
        """The function must return a dataframe."""
        extract_columns.validate_return_type(fn)

    def transform_node(
        self, node_: Node, config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """The dataframe node (filling missing columns if asked) plus one node per column."""
        kind = dataframe_kind_of(node_.type)
        if kind is None:
            raise base.InvalidDecoratorException(
                f"node {node_.name!r} has type {htypes.get_type_as_string(node_.type)}, which "
                "is not a known dataframe type."
            )
        frame_node = node_
        if self.fill_with is not None:
            filler = _frame_filler(node_.callable, kind, self.column_names, self.fill_with)
            frame_node = node_.copy_with(callabl=filler)
        column_type = kind.column_type()
        out = [frame_node]
        for column in self.columns:
            name, doc = column if isinstance(column, tuple) else (column, node_.documentation)
            reader = _column_reader(node_.name, name, kind)
            out.append(_part_node(name, column_type, doc, reader, node_))
        return out


# ---- extract_fields -------------------------------------------------------------------------


def _is_typeddict(tp: Any) -> bool:
    if typing.is_typeddict(tp):
        return True
    extensions = sys.modules.get("typing_extensions")
    return bool(extensions is not None and extensions.is_typeddict(tp))


_DICT_TYPE_ERROR = (
    "@extract_fields needs a function returning dict (with a dict of field types), "
    "dict[str, T] or a TypedDict; it returns {type}."
)


def _fields_of_typeddict(
    requested: dict[str, Any] | list[str] | None, output_type: Any
) -> dict[str, Any]:
    declared = typing.get_type_hints(output_type, include_extras=True)
    if requested is None:
        return dict(declared)
    errors: list[str] = []
    if isinstance(requested, list):
        errors = [
            f"{f!r} is not a field of {output_type.__name__}"
            for f in requested
            if f not in declared
        ]
        fields = {f: declared[f] for f in requested if f in declared}
    else:
        fields = dict(requested)
        for field, field_type in requested.items():
            expected = declared.get(field)
            if expected is None:
                errors.append(f"{field!r} is not a field of {output_type.__name__}")
            elif not (expected == field_type or htypes.custom_subclass_check(field_type, expected)):
                errors.append(
                    f"field {field!r} is declared {htypes.get_type_as_string(expected)} in "
                    f"{output_type.__name__}, not {htypes.get_type_as_string(field_type)}"
                )
    if errors:
        raise base.InvalidDecoratorException("; ".join(errors) + ".")
    return fields


def resolve_fields(
    requested: dict[str, Any] | list[str] | None, output_type: Any
) -> dict[str, Any]:
    """The fields to extract and their types, given what was asked and the return type."""
    bare = _strip_annotated(output_type)
    type_text = htypes.get_type_as_string(output_type)
    origin = typing.get_origin(bare)
    if bare is dict or bare is typing.Dict:  # noqa: UP006
        if not isinstance(requested, dict):
            raise base.InvalidDecoratorException(
                f"the function returns a bare dict, so @extract_fields needs a dict mapping "
                f"field names to types (got {requested!r})."
            )
        fields = dict(requested)
    elif origin is dict:
        args = typing.get_args(bare)
        if len(args) != 2:
            raise base.InvalidDecoratorException(_DICT_TYPE_ERROR.format(type=type_text))
        if requested is None:
            raise base.InvalidDecoratorException(
                f"the function returns {type_text}; @extract_fields needs the field names "
                "(a list) or a dict mapping field names to types."
            )
        fields = {f: args[1] for f in requested} if isinstance(requested, list) else dict(requested)
    elif _is_typeddict(bare):
        fields = _fields_of_typeddict(requested, bare)
    else:
        raise base.InvalidDecoratorException(_DICT_TYPE_ERROR.format(type=type_text))
    if not fields:
        raise base.InvalidDecoratorException("@extract_fields needs at least one field.")
    errors = []
    for field, field_type in fields.items():
        if not isinstance(field, str):
            errors.append(f"field name {field!r} is not a string")
        elif not _is_type_like(field_type):
            errors.append(f"field {field!r} has {field_type!r} instead of a type")
    if errors:
        raise base.InvalidDecoratorException("; ".join(errors) + ".")
    return fields


def _field_reader(whole_name: str, field: str) -> Callable[..., Any]:
    def read_field(**kwargs: Any) -> Any:
        record = kwargs[whole_name]
        if field not in record:
            raise base.InvalidDecoratorException(
                f"No such field: {field} produced by {whole_name}. "
                f"It only produced {list(record.keys())}."
            )
        return record[field]

    return read_field


def _dict_filler(
    produce: Callable[..., Any], fields: list[str], fill_with: Any
) -> Callable[..., Any]:
    def fill(record: Any) -> Any:
        missing = [f for f in fields if f not in record]
        if missing:
            record = {**record, **dict.fromkeys(missing, fill_with)}
        return record

    return base.then(produce, fill)


class extract_fields(base.SingleNodeNodeTransformer):
    """One node per listed field of the dict the function returns.

    ``fields`` is a dict of name -> type, a list of names (types from ``dict[str, T]`` or the
    TypedDict), a single name followed by more names, or nothing for every TypedDict field.
    With ``fill_with``, missing fields hold that value instead of failing.
    """

    def __init__(
        self,
        fields: dict[str, Any] | list[str] | str | None = None,
        *others: str,
        fill_with: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(fields, dict):
            requested: dict[str, Any] | list[str] | None = dict(fields)
        elif isinstance(fields, (list, tuple)):
            requested = [*fields, *others]
        elif fields is None:
            requested = list(others) or None
        else:
            requested = [fields, *others]
        if isinstance(requested, list) and len(set(requested)) != len(requested):
            raise base.InvalidDecoratorException(
                f"@extract_fields lists a field more than once: {requested}."
            )
        self.fields = requested
        self.fill_with = fill_with

    def validate(self, fn: Callable[..., Any]) -> None:
        """The return type must be a dict type that the requested fields fit."""
        resolve_fields(self.fields, _return_type(fn))

    def transform_node(
        self, node_: Node, config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """The dict node plus one node per field."""
        fields = resolve_fields(self.fields, node_.type)
        whole = node_
        if self.fill_with is not None:
            whole = node_.copy_with(
                callabl=_dict_filler(node_.callable, list(fields), self.fill_with)
            )
        out = [whole]
        for field, field_type in fields.items():
            out.append(
                _part_node(
                    field, field_type, node_.documentation, _field_reader(node_.name, field), node_
                )
            )
        return out


# ---- unpack_fields --------------------------------------------------------------------------


def resolve_tuple_fields(fields: list[str], output_type: Any) -> list[Any]:
    """The types of the first ``len(fields)`` elements of the tuple type ``output_type``."""
    bare = _strip_annotated(output_type)
    if typing.get_origin(bare) is not tuple:
        raise base.InvalidDecoratorException(
            "@unpack_fields needs a function returning a tuple type such as tuple[int, str] "
            f"or tuple[int, ...]; it returns {htypes.get_type_as_string(output_type)}."
        )
    args = list(typing.get_args(bare))
    if args.count(Ellipsis) > 1 or (
        Ellipsis in args and (len(args) != 2 or args[1] is not Ellipsis)
    ):
        raise base.InvalidDecoratorException(
            f"invalid tuple type {output_type!r}: '...' may only follow a single element type."
        )
    if len(args) == 2 and args[1] is Ellipsis:
        args = [args[0]] * len(fields)
    if len(fields) > len(args):
        raise base.InvalidDecoratorException(
            f"unpacks {len(fields)} fields but the return type {output_type!r} has only "
            f"{len(args)} elements."
        )
    bad = [
        f"{fields[i]!r} (index {i}): {a!r}"
        for i, a in enumerate(args[: len(fields)])
        if not _is_type_like(a)
    ]
    if bad:
        raise base.InvalidDecoratorException(
            f"tuple elements without a valid type: {', '.join(bad)}."
        )
    return args[: len(fields)]


def _element_reader(whole_name: str, index: int) -> Callable[..., Any]:
    def read_element(**kwargs: Any) -> Any:
        record = kwargs[whole_name]
        if index >= len(record):
            raise base.InvalidDecoratorException(
                f"Out of bounds field: {index} produced by {whole_name}. "
                f"It only produced {len(record)} fields."
            )
        return record[index]

    return read_element


class unpack_fields(base.SingleNodeNodeTransformer):
    """One node per leading element of the tuple the function returns, named by ``fields``."""

    def __init__(self, *fields: str) -> None:
        super().__init__()
        if not fields or not all(isinstance(f, str) for f in fields):
            raise base.InvalidDecoratorException(
                f"@unpack_fields takes one or more field names, got {fields!r}."
            )
        if len(set(fields)) != len(fields):
            raise base.InvalidDecoratorException(
                f"@unpack_fields lists a field more than once: {list(fields)}."
            )
        self.fields = list(fields)

    def validate(self, fn: Callable[..., Any]) -> None:
        """The return type must be a tuple type with enough elements."""
        resolve_tuple_fields(self.fields, _return_type(fn))

    def transform_node(
        self, node_: Node, config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """The tuple node plus one node per named element."""
        types = resolve_tuple_fields(self.fields, node_.type)
        out = [node_]
        for index, (field, field_type) in enumerate(zip(self.fields, types, strict=True)):
            reader = _element_reader(node_.name, index)
            out.append(_part_node(field, field_type, node_.documentation, reader, node_))
        return out
