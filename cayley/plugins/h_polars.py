"""Polars integration: a result builder, ``with_columns`` and partitions for fan-out.

* :class:`PolarsDataFrameResult` builds a ``polars.DataFrame`` from the outputs.
* :class:`with_columns` runs column functions (``pl.Series`` in, ``pl.Series`` or ``pl.Expr``
  out) against a ``pl.DataFrame`` parameter; see
  :mod:`cayley.function_modifiers.with_columns` for the nodes it creates.
* :func:`partitions` cuts a ``pl.DataFrame`` or a parquet dataset into partitions for a
  ``Parallelizable`` node, and :func:`concat` joins the per-partition results in order.

polars is imported only when one of these is used; without it an :class:`ImportError`
names the ``cayley[polars]`` extra. LazyFrames have their own module,
:mod:`cayley.plugins.h_polars_lazyframe`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from cayley import base
from cayley.function_modifiers.with_columns import with_columns_base
from cayley.plugins._partitions import (
    FramePartition,
    ParquetPartition,
    Partition,
    frame_partitions,
    parquet_partitions,
)

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "FramePartition",
    "ParquetPartition",
    "Partition",
    "PolarsDataFrameResult",
    "concat",
    "partitions",
    "with_columns",
]

_POLARS_HINT = 'pip install "cayley[polars]"'


def import_polars(what: str = "PolarsDataFrameResult") -> Any:
    """The polars module, or an ImportError naming the extra that provides it."""
    try:
        import polars
    except ImportError as exc:
        raise ImportError(
            f"{what} needs polars, which is not installed. Install it with: {_POLARS_HINT}"
        ) from exc
    return polars


class PolarsDataFrameResult(base.ResultMixin):
    """Builds a ``polars.DataFrame`` from the outputs.

    With a single output: a DataFrame is returned as is, a LazyFrame is collected, a Series
    becomes a one-column frame named after the output, and any other value becomes a
    one-row, one-column frame. Several outputs become ``pl.DataFrame(outputs)``, so their
    lengths must agree (polars raises otherwise).
    """

    @staticmethod
    def build_result(**outputs: Any) -> pl.DataFrame:
        """The DataFrame made of the outputs."""
        pl = import_polars()
        if len(outputs) == 1:
            ((name, value),) = outputs.items()
            if isinstance(value, pl.DataFrame):
                return value
            if isinstance(value, pl.LazyFrame):
                return value.collect()
            if not isinstance(value, pl.Series):
                return pl.DataFrame({name: [value]})
        return pl.DataFrame(outputs)

    def input_types(self) -> list[type]:
        """Any value is accepted (Series, sequences and scalars make sense)."""
        return [Any]  # type: ignore[list-item]

    def output_type(self) -> type:
        """``polars.DataFrame`` (``Any`` when polars is not installed)."""
        try:
            return import_polars().DataFrame
        except ImportError:
            return Any  # type: ignore[return-value]


class with_columns(with_columns_base):
    """Add columns computed by column functions to a ``pl.DataFrame`` parameter.

    Example (``a_plus_b`` takes and returns ``pl.Series``)::

        @with_columns(a_plus_b, columns_to_pass=["a", "b"], select=["a_plus_b"])
        def features(raw: pl.DataFrame) -> pl.DataFrame:
            return raw  # now with the column a_plus_b

    Arguments are those of :class:`cayley.plugins.h_pandas.with_columns`. By default every
    node returning ``pl.Series`` is added; selected ``pl.Expr`` nodes and scalars are added
    too (expressions are evaluated against the frame, scalars broadcast).
    """

    def default_dataframe_type(self) -> type:
        """``pl.DataFrame`` (needs polars: the error names the extra to install)."""
        return import_polars("h_polars.with_columns").DataFrame

    def column_type(self) -> type:
        """``pl.Series``."""
        return import_polars().Series

    def read_column(self, frame: pl.DataFrame, column: str) -> pl.Series:
        """``frame.get_column(column)`` (``KeyError`` when it is missing)."""
        pl = import_polars()
        try:
            return frame.get_column(column)
        except pl.exceptions.ColumnNotFoundError as exc:
            raise KeyError(column) from exc

    def merge(self, frame: pl.DataFrame, columns: dict[str, Any]) -> pl.DataFrame:
        """``frame.with_columns(**columns)``."""
        return frame.with_columns(**columns) if columns else frame


def _slice(frame: pl.DataFrame, start: int, stop: int) -> pl.DataFrame:
    return frame.slice(start, stop - start)


def partitions(
    source: pl.DataFrame | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    rows: int | None = None,
    columns: Iterable[str] | None = None,
) -> Iterator[Partition]:
    """The partitions of a table, in order, for a ``Parallelizable`` node to yield.

    As :func:`cayley.plugins.h_pandas.partitions`, with ``load()`` giving a ``pl.DataFrame``
    (slices of a DataFrame share its memory).
    """
    pl = import_polars("h_polars.partitions")
    if isinstance(source, pl.LazyFrame):
        raise TypeError(
            "h_polars.partitions takes a pl.DataFrame or parquet paths, not a LazyFrame: "
            "collect it first, or partition the parquet files it scans."
        )
    if isinstance(source, pl.DataFrame):
        frame = source if columns is None else source.select(list(columns))
        return frame_partitions(frame, rows, _slice)
    return parquet_partitions(source, rows, columns, library="polars")


def concat(parts: Iterable[pl.DataFrame], rechunk: bool = True) -> pl.DataFrame:
    """The per-partition results one after the other, in one frame.

    With ``rechunk`` (the default) the rows are copied once into contiguous memory; without,
    the parts' memory is reused as is. An empty list gives an empty DataFrame.
    """
    pl = import_polars("h_polars.concat")
    parts = list(parts)
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts, how="vertical", rechunk=rechunk)
