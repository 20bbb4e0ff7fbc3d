"""pandas integration: ``with_columns``, and fanning out over the partitions of a table.

``with_columns`` runs column functions (``pd.Series`` in, ``pd.Series`` out) against a
DataFrame parameter and hands the function the frame with the new columns; see
:mod:`cayley.function_modifiers.with_columns` for the node names it creates.

``partitions(source, rows=...)`` cuts a DataFrame, a parquet file or a directory of parquet
files into :class:`Partition` objects for a ``Parallelizable`` node; a node of the block
calls ``partition.load()`` and ``concat`` puts the per-partition results back together, in
order, copying once::

    def partition(path: str) -> Parallelizable[h_pandas.Partition]:
        yield from h_pandas.partitions(path, rows=1_000_000)

    def rows(partition: h_pandas.Partition) -> pd.DataFrame:
        return partition.load()

    def features(...) -> pd.DataFrame: ...   # per partition, e.g. with @with_columns

    def all_features(features: Collect[pd.DataFrame]) -> pd.DataFrame:
        return h_pandas.concat(features)

pandas is needed to import this module (``pip install "cayley[pandas]"``); parquet sources
also need pyarrow (``pip install "cayley[io]"``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

try:
    import pandas as pd
except ImportError as exc:  # pragma: no cover - exercised with pandas hidden
    raise ImportError(
        "cayley.plugins.h_pandas needs pandas, which is not installed. Install it with: pip "
        'install "cayley[pandas]"'
    ) from exc

from cayley.function_modifiers.with_columns import with_columns_base
from cayley.plugins._partitions import (
    FramePartition,
    ParquetPartition,
    Partition,
    frame_partitions,
    parquet_partitions,
)

__all__ = [
    "FramePartition",
    "ParquetPartition",
    "Partition",
    "concat",
    "partitions",
    "with_columns",
]


class with_columns(with_columns_base):
    """Add columns computed by column functions to a pandas DataFrame parameter.

    Example (``a_plus_b`` and ``ratio`` take and return ``pd.Series``)::

        @with_columns(a_plus_b, ratio, columns_to_pass=["a", "b"], select=["a_plus_b", "ratio"])
        def features(raw: pd.DataFrame) -> pd.DataFrame:
            return raw  # now with the columns a_plus_b and ratio

    Args:
        load_from: column functions, or modules of them.
        columns_to_pass: columns of the frame handed to the functions by name.
        pass_dataframe_as: name under which the functions receive the whole frame.
        on_input: the DataFrame parameter (default: the first parameter); without
            ``columns_to_pass``/``pass_dataframe_as`` the functions read it under its name.
        select: the nodes to add as columns (default: every node returning ``pd.Series``);
            a selected scalar is broadcast to every row.
        namespace: prefix of the generated nodes (default: the function's name).
        config_required: config keys the functions need (``None``: the whole config).
    """

    def default_dataframe_type(self) -> type:
        """``pd.DataFrame``."""
        return pd.DataFrame

    def column_type(self) -> type:
        """``pd.Series``."""
        return pd.Series

    def read_column(self, frame: pd.DataFrame, column: str) -> pd.Series:
        """``frame[column]``."""
        return frame[column]

    def merge(self, frame: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
        """A new frame: ``frame``'s columns (not copied) plus ``columns``, set in order."""
        if not columns:
            return frame
        out = frame.copy(deep=False)
        for name, column in columns.items():
            out[name] = column
        return out


def _slice(frame: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    return frame.iloc[start:stop]


def partitions(
    source: pd.DataFrame | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    rows: int | None = None,
    columns: Iterable[str] | None = None,
) -> Iterator[Partition]:
    """The partitions of a table, in order, for a ``Parallelizable`` node to yield.

    Args:
        source: a ``pd.DataFrame``; a parquet file; a directory of parquet files (read in
            sorted path order, files and folders starting with ``_`` or ``.`` skipped); or a
            list of parquet files.
        rows: rows per partition. Required for a DataFrame. For parquet, consecutive row
            groups of a file are joined up to ``rows`` rows (row groups are never split, so a
            larger row group is a partition of its own); without ``rows``, one partition per
            row group.
        columns: only these columns (all by default).

    Each :class:`Partition` knows its rows (``start``, ``stop``) and gives them as a
    ``pd.DataFrame`` with ``load()``. Parquet partitions are read by ``load()``, wherever
    the node calling it runs; the index is what reading the whole dataset would give.
    """
    if isinstance(source, pd.DataFrame):
        frame = source if columns is None else source[list(columns)]
        return frame_partitions(frame, rows, _slice)
    return parquet_partitions(source, rows, columns, library="pandas")


def concat(parts: Iterable[pd.DataFrame | pd.Series], ignore_index: bool = False) -> Any:
    """The per-partition results one after the other, in one new frame (each row copied once).

    Takes the list a ``Collect`` parameter receives; an empty list gives an empty DataFrame
    and a single part is returned as it is. ``ignore_index=True`` numbers the rows afresh.
    """
    parts = list(parts)
    if not parts:
        return pd.DataFrame()
    if len(parts) == 1 and not ignore_index:
        return parts[0]
    return pd.concat(parts, ignore_index=ignore_index)
