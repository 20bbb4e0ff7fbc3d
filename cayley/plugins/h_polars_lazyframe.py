"""Polars LazyFrame integration: a result builder and ``with_columns`` on LazyFrames.

Column functions of :class:`with_columns` here build ``pl.Expr`` expressions: each passed
column is ``pl.col(name)``, and the selected expressions are added with one
``LazyFrame.with_columns`` call, so nothing is computed until the frame is collected.

polars is imported only when these are used; without it an :class:`ImportError` names the
``cayley[polars]`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cayley import base
from cayley.function_modifiers.with_columns import with_columns_base
from cayley.plugins.h_polars import import_polars

if TYPE_CHECKING:
    import polars as pl

__all__ = ["PolarsLazyFrameResult", "with_columns"]


class PolarsLazyFrameResult(base.ResultMixin):
    """Builds a ``polars.LazyFrame`` from the outputs.

    A single LazyFrame output is returned as is; otherwise the outputs become
    ``pl.LazyFrame(outputs)`` (columns of equal length).
    """

    @staticmethod
    def build_result(**outputs: Any) -> pl.LazyFrame:
        """The LazyFrame made of the outputs."""
        pl = import_polars("PolarsLazyFrameResult")
        if len(outputs) == 1:
            (value,) = outputs.values()
            if isinstance(value, pl.LazyFrame):
                return value
        return pl.LazyFrame(outputs)

    def input_types(self) -> list[type]:
        """Any value is accepted."""
        return [Any]  # type: ignore[list-item]

    def output_type(self) -> type:
        """``polars.LazyFrame`` (``Any`` when polars is not installed)."""
        try:
            return import_polars("PolarsLazyFrameResult").LazyFrame
        except ImportError:
            return Any  # type: ignore[return-value]


class with_columns(with_columns_base):
    """Add expression columns to a ``pl.LazyFrame`` parameter.

    Example (``c_plus_d`` takes and returns ``pl.Expr``)::

        @with_columns(c_plus_d, columns_to_pass=["c", "d"])
        def features(raw: pl.LazyFrame) -> pl.LazyFrame:
            return raw  # with the column c_plus_d, once collected

    Arguments are those of :class:`cayley.plugins.h_pandas.with_columns`; by default every
    node returning ``pl.Expr`` is added.
    """

    def default_dataframe_type(self) -> type:
        """``pl.LazyFrame`` (needs polars: the error names the extra to install)."""
        return import_polars("h_polars_lazyframe.with_columns").LazyFrame

    def column_type(self) -> type:
        """``pl.Expr``."""
        return import_polars().Expr

    def read_column(self, frame: pl.LazyFrame, column: str) -> pl.Expr:
        """``pl.col(column)``: checked when the frame is collected."""
        return import_polars().col(column)

    def frame_columns(self, frame: pl.LazyFrame) -> list[str] | None:
        """Unknown without resolving the query plan."""
        return None

    def merge(self, frame: pl.LazyFrame, columns: dict[str, Any]) -> pl.LazyFrame:
        """``frame.with_columns(**columns)``."""
        return frame.with_columns(**columns) if columns else frame
