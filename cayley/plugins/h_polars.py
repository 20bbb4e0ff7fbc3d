"""Polars integration: a result builder that returns a ``polars.DataFrame``.

polars is imported only when the builder runs; without it an :class:`ImportError` names the
``cayley[polars]`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cayley import base

if TYPE_CHECKING:
    import polars as pl

__all__ = ["PolarsDataFrameResult"]

_POLARS_HINT = 'pip install "cayley[polars]"'


def _import_polars() -> Any:
    """The polars module, or an ImportError naming the extra that provides it."""
    try:
        import polars
    except ImportError as exc:
        raise ImportError(
            f"PolarsDataFrameResult needs polars, which is not installed. Install it with: "
            f"{_POLARS_HINT}"
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
        pl = _import_polars()
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
            return _import_polars().DataFrame
        except ImportError:
            return Any  # type: ignore[return-value]
