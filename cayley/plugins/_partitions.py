"""Partitions of a table for fan-out: row slices of a DataFrame or pieces of a parquet dataset.

A :class:`Partition` is a small description of rows ``[start, stop)`` of a table. A
``Parallelizable`` node yields them (``h_pandas.partitions`` / ``h_polars.partitions``), and
a node inside the block calls :meth:`Partition.load` to get the rows as a DataFrame. For a
parquet dataset only the path and row-group numbers travel to the worker, which reads them
itself with pyarrow: the driver never holds the data, and each worker holds only the
partitions it is working on, whatever the executor (threads, processes, Ray, Dask). For an
in-memory DataFrame a partition holds a slice of it (no copy until it is sent to another
process, which copies that slice only).
"""

from __future__ import annotations

import abc
import dataclasses
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cayley._compat import add_note

__all__ = [
    "FramePartition",
    "ParquetPartition",
    "Partition",
    "frame_partitions",
    "parquet_files",
    "parquet_partitions",
    "read_columns",
]

PathLike = str | os.PathLike[str]

_PYARROW_HINT = 'pip install "cayley[io]"'


def import_pyarrow_parquet() -> Any:
    """``pyarrow.parquet``, or an ImportError naming the extra that provides it."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError(
            f"reading parquet partitions needs pyarrow, which is not installed. Install it "
            f"with: {_PYARROW_HINT}"
        ) from exc
    return pq


@dataclasses.dataclass(frozen=True, slots=True)
class Partition(abc.ABC):
    """Rows ``[start, stop)`` of a table, the ``index``-th partition of it."""

    index: int
    start: int
    stop: int

    @property
    def num_rows(self) -> int:
        """How many rows the partition holds."""
        return self.stop - self.start

    def __len__(self) -> int:
        return self.num_rows

    @abc.abstractmethod
    def load(self) -> Any:
        """The partition's rows as a DataFrame (of the library that made the partition)."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Where the rows come from, for messages."""


@dataclasses.dataclass(frozen=True, slots=True)
class FramePartition(Partition):
    """A slice of an in-memory DataFrame (the slice itself is held, without a copy)."""

    frame: Any = dataclasses.field(repr=False, compare=False)

    def load(self) -> Any:
        """The slice."""
        return self.frame

    def describe(self) -> str:
        """``rows 0-99999 of a DataFrame``."""
        return f"rows {self.start}-{self.stop - 1} of a {type(self.frame).__name__}"


@dataclasses.dataclass(frozen=True, slots=True)
class ParquetPartition(Partition):
    """Row groups of one parquet file, read when :meth:`load` is called.

    ``file_start`` is the file's first row within the dataset and ``library`` the frame
    library to convert to (``"pandas"`` or ``"polars"``).
    """

    path: str = ""
    row_groups: tuple[int, ...] = ()
    columns: tuple[str, ...] | None = None
    file_start: int = 0
    library: str = "pandas"

    def read_table(self) -> Any:
        """The rows as a ``pyarrow.Table``, read one column at a time on this thread.

        Decoding a whole row group at once holds about three times its size at the peak;
        column by column, the peak is the rows plus one column's decoding. A fan-out gets its
        parallelism from running partitions at once, so each is decoded on one thread
        (several threads cost about 1.7× the CPU for little gain there).
        """
        pq = import_pyarrow_parquet()
        try:
            reader = pq.ParquetFile(self.path)
            return read_columns(reader, list(self.row_groups), self.columns)
        except Exception as exc:
            add_note(exc, f"while reading partition {self.index}: {self.describe()}")
            raise

    def load(self) -> Any:
        """The rows as a pandas or polars DataFrame."""
        table = self.read_table()
        if self.library == "polars":
            import polars as pl

            return pl.from_arrow(table)
        return _to_pandas(table, self.start - self.file_start, self.start)

    def describe(self) -> str:
        """``row groups [0, 1] of data/part-0.parquet``."""
        return f"row groups {list(self.row_groups)} of {self.path}"


def read_columns(reader: Any, row_groups: list[int], columns: Sequence[str] | None) -> Any:
    """Row groups of a ``pyarrow.parquet.ParquetFile`` as a table, decoded column by column.

    ``columns`` selects columns (the stored pandas index columns are kept, as pyarrow does);
    the file's schema metadata is kept, so pandas types and indexes are restored.
    """
    import pyarrow as pa

    schema = reader.schema_arrow
    names = list(schema.names)
    if columns is not None:
        missing = [c for c in columns if c not in names]
        if missing:
            raise KeyError(f"column(s) {missing} are not in the file; its columns are {names}")
        index = [c for c in _stored_index_columns(schema) if c not in columns]
        names = [*columns, *index]
    arrays = [
        reader.read_row_groups(row_groups, columns=[name], use_threads=False).column(0)
        for name in names
    ]
    fields = [schema.field(name) for name in names]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=schema.metadata))


def _stored_index_columns(schema: Any) -> list[str]:
    """Names of the columns holding a stored pandas index."""
    metadata = schema.pandas_metadata or {}
    return [c for c in metadata.get("index_columns", []) if isinstance(c, str)]


def _to_pandas(table: Any, file_offset: int, dataset_offset: int) -> Any:
    """``table`` as pandas, with the index rows of a stored RangeIndex would have had."""
    metadata = table.schema.pandas_metadata or {}
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    index_columns = metadata.get("index_columns") or [
        {"kind": "range", "name": None, "start": 0, "step": 1}
    ]
    if len(index_columns) != 1 or not isinstance(index_columns[0], dict):
        return frame  # the index was stored as columns and is restored from them
    spec = index_columns[0]
    if spec.get("kind") != "range":
        return frame
    import pandas as pd

    start, step = int(spec.get("start", 0)), int(spec.get("step", 1))
    # A default index numbers the rows of the whole dataset, as reading it all at once does.
    offset = dataset_offset if (start, step) == (0, 1) else file_offset
    first = start + offset * step
    frame.index = pd.RangeIndex(first, first + len(frame) * step, step, name=spec.get("name"))
    return frame


def _check_rows(rows: int | None, required: bool) -> None:
    if rows is None:
        if required:
            raise ValueError(
                "rows=... is needed to cut a DataFrame into partitions, e.g. rows=100_000."
            )
        return
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be a positive int, got {rows!r}.")


def frame_partitions(frame: Any, rows: int | None, slicer: Any) -> Iterator[FramePartition]:
    """Slices of ``rows`` rows of ``frame``; ``slicer(frame, start, stop)`` cuts one."""
    _check_rows(rows, required=True)
    assert rows is not None
    total = len(frame)
    for index, start in enumerate(range(0, total, rows)):
        stop = min(start + rows, total)
        yield FramePartition(index, start, stop, slicer(frame, start, stop))


def parquet_files(source: PathLike | Sequence[PathLike]) -> list[str]:
    """The parquet files of ``source``: a file, a directory (searched recursively, names
    starting with ``_`` or ``.`` skipped, sorted) or a list of files, in that order."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(("_", ".")) for part in p.relative_to(path).parts)
            )
            if not files:
                raise FileNotFoundError(f"no parquet files under directory {str(path)!r}.")
            return [str(p) for p in files]
        if not path.exists():
            raise FileNotFoundError(f"parquet source {str(path)!r} does not exist.")
        return [str(path)]
    files = [str(p) for p in source]
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise FileNotFoundError(f"parquet file(s) {missing} do not exist.")
    if not files:
        raise ValueError("the list of parquet files is empty.")
    return files


def _groups(sizes: Sequence[int], rows: int | None) -> Iterator[tuple[int, ...]]:
    """Runs of consecutive row groups of at most ``rows`` rows (at least one group each)."""
    if rows is None:
        for i in range(len(sizes)):
            yield (i,)
        return
    current: list[int] = []
    count = 0
    for i, size in enumerate(sizes):
        if current and count + size > rows:
            yield tuple(current)
            current, count = [], 0
        current.append(i)
        count += size
    if current:
        yield tuple(current)


def parquet_partitions(
    source: PathLike | Sequence[PathLike],
    rows: int | None,
    columns: Iterable[str] | None,
    library: str,
) -> Iterator[ParquetPartition]:
    """Partitions of a parquet dataset: runs of whole row groups of one file each.

    Only file footers are read here, one file at a time, as partitions are asked for.
    """
    _check_rows(rows, required=False)
    pq = import_pyarrow_parquet()
    wanted = None if columns is None else tuple(columns)
    index = 0
    dataset_row = 0
    for path in parquet_files(source):
        metadata = pq.ParquetFile(path).metadata
        sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
        file_start = dataset_row
        for groups in _groups(sizes, rows):
            count = sum(sizes[g] for g in groups)
            yield ParquetPartition(
                index,
                dataset_row,
                dataset_row + count,
                path=path,
                row_groups=groups,
                columns=wanted,
                file_start=file_start,
                library=library,
            )
            index += 1
            dataset_row += count
