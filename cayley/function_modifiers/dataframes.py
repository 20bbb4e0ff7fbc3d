"""Which types are dataframes, what their columns are, and how to read or add a column.

Nothing here imports a dataframe library: a library's types are looked up in ``sys.modules``
only, so a type can be a dataframe only once its library has been imported (which any
annotation mentioning it already did). Other libraries register with
:func:`register_dataframe_type`.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from collections.abc import Callable
from typing import Annotated, Any

__all__ = [
    "DataFrameKind",
    "column_type_of",
    "dataframe_kind_of",
    "is_column_type",
    "is_dataframe_type",
    "register_dataframe_type",
    "registered_dataframe_types",
]


def _index(frame: Any, column: str) -> Any:
    return frame[column]


def _has_column(frame: Any, column: str) -> bool:
    return column in frame.columns


def _pandas_fill(frame: Any, column: str, value: Any) -> Any:
    frame[column] = value
    return frame


def _polars_fill(frame: Any, column: str, value: Any) -> Any:
    import polars as pl

    return frame.with_columns(pl.lit(value).alias(column))


def _polars_lazy_column(frame: Any, column: str) -> Any:
    import polars as pl

    return pl.col(column)


def _always_has_column(frame: Any, column: str) -> bool:
    return True


@dataclasses.dataclass(frozen=True)
class DataFrameKind:
    """How one dataframe type is handled.

    ``frame`` and ``column`` are either the types themselves or ``"module:Attribute"``
    references resolved through ``sys.modules`` (never imported).
    """

    frame: Any
    column: Any
    get_column: Callable[[Any, str], Any] = _index
    fill_with_scalar: Callable[[Any, str, Any], Any] = _pandas_fill
    has_column: Callable[[Any, str], bool] = _has_column

    def _lookup(self, ref: Any) -> Any:
        if not isinstance(ref, str):
            return ref
        module_name, _, attribute = ref.partition(":")
        module = sys.modules.get(module_name)
        return getattr(module, attribute, None) if module is not None else None

    def frame_type(self) -> type | None:
        """The dataframe type, if its library is loaded."""
        return self._lookup(self.frame)

    def column_type(self) -> Any:
        """The column type, if its library is loaded."""
        return self._lookup(self.column)


_KINDS: list[DataFrameKind] = [
    DataFrameKind("pandas:DataFrame", "pandas:Series"),
    DataFrameKind("polars:DataFrame", "polars:Series", fill_with_scalar=_polars_fill),
    DataFrameKind(
        "polars:LazyFrame",
        "polars:Expr",
        get_column=_polars_lazy_column,
        fill_with_scalar=_polars_fill,
        has_column=_always_has_column,
    ),
]


def register_dataframe_type(
    frame: Any,
    column: Any,
    get_column: Callable[[Any, str], Any] = _index,
    fill_with_scalar: Callable[[Any, str, Any], Any] = _pandas_fill,
    has_column: Callable[[Any, str], bool] = _has_column,
) -> None:
    """Teach ``extract_columns`` (and ``schema.output``) about another dataframe type.

    ``fill_with_scalar(frame, column, value)`` returns the frame with the column added.
    """
    _KINDS.insert(0, DataFrameKind(frame, column, get_column, fill_with_scalar, has_column))


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def dataframe_kind_of(tp: Any) -> DataFrameKind | None:
    """The kind of the dataframe type ``tp`` (subclasses included), or ``None``."""
    tp = _strip_annotated(tp)
    if not isinstance(tp, type):
        return None
    for kind in _KINDS:
        frame_type = kind.frame_type()
        if frame_type is not None and issubclass(tp, frame_type):
            return kind
    return None


def is_dataframe_type(tp: Any) -> bool:
    """Whether ``tp`` is a known dataframe type."""
    return dataframe_kind_of(tp) is not None


def is_column_type(tp: Any) -> bool:
    """Whether ``tp`` is (a subclass of) the column type of a known dataframe type."""
    if not isinstance(tp, type):
        return False
    for kind in _KINDS:
        column = kind.column_type()
        if isinstance(column, type) and issubclass(tp, column):
            return True
    return False


def column_type_of(tp: Any) -> Any:
    """The column type of the dataframe type ``tp``, or ``None`` if ``tp`` is not one."""
    kind = dataframe_kind_of(tp)
    return kind.column_type() if kind is not None else None


def registered_dataframe_types() -> dict[str, type]:
    """The dataframe types whose library is loaded, by qualified name."""
    out: dict[str, type] = {}
    for kind in _KINDS:
        frame_type = kind.frame_type()
        if frame_type is not None:
            out[f"{frame_type.__module__}.{frame_type.__qualname__}"] = frame_type
    return out
