"""polars DataFrame and LazyFrame formats: csv, parquet, feather, json, ndjson, avro, database.

Arguments and defaults are those of Hamilton's polars adapters. Arguments polars has renamed
since (``row_count_name`` → ``row_index_name``, ``dtypes`` → ``schema_overrides``,
``comment_char`` → ``comment_prefix``) are translated, and arguments it has dropped are ignored
while left at their default, so dataflows written for older polars run on the installed one.
Savers take DataFrames and LazyFrames (collected first) and write local paths atomically.
polars is imported when the format is used: ``pip install "cayley[polars]"``.
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Callable, Collection
from typing import Any, ClassVar

from cayley.io.atomic import atomic_path
from cayley.io.data_adapters import DataLoader, DataSaver
from cayley.io.freshness import file_token
from cayley.io.libraries import library_kwargs, require
from cayley.io.utils import (
    DATAFRAME_METADATA,
    METADATA_VERSION,
    get_dataframe_metadata,
    get_file_and_dataframe_metadata,
    get_file_metadata,
    get_sql_metadata,
)

__all__ = [
    "PolarsAvroReader",
    "PolarsAvroWriter",
    "PolarsCSVReader",
    "PolarsCSVWriter",
    "PolarsDatabaseReader",
    "PolarsFeatherReader",
    "PolarsFeatherWriter",
    "PolarsJSONReader",
    "PolarsJSONWriter",
    "PolarsNDJSONReader",
    "PolarsNDJSONWriter",
    "PolarsParquetReader",
    "PolarsParquetWriter",
    "PolarsScanCSVReader",
    "PolarsScanFeatherReader",
    "PolarsScanParquetReader",
]

PathOrBuffer = str | os.PathLike | io.IOBase | bytes

#: Argument names polars has changed since Hamilton's adapters were written.
_RENAMED = {
    "comment_char": "comment_prefix",
    "dtypes": "schema_overrides",
    "row_count_name": "row_index_name",
    "row_count_offset": "row_index_offset",
}


def _polars(fmt: str) -> Any:
    return require("polars", fmt)


class _Polars:
    library: ClassVar[str | None] = "polars"
    #: Field holding the path (or buffer) read or written.
    path_field: ClassVar[str] = "file"
    #: The polars type read or written.
    frame: ClassVar[str] = "DataFrame"

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [getattr(_polars(cls.name()), cls.frame)]  # type: ignore[attr-defined]

    def _target(self) -> Any:
        target = getattr(self, self.path_field)
        if target is None:
            raise ValueError(f"{type(self).__name__} needs {self.path_field}=<path>.")
        return target


class _PolarsReader(_Polars, DataLoader):
    def _read(self, reader: str, exclude: Collection[str] = ()) -> tuple[Any, dict[str, Any]]:
        pl = _polars(self.name())
        fn: Callable[..., Any] = getattr(pl, reader)
        target = self._target()
        kwargs = library_kwargs(self, fn, exclude={self.path_field, *exclude}, rename=_RENAMED)
        frame = fn(target, **kwargs)
        return frame, get_file_and_dataframe_metadata(target, frame)

    def source_token(self) -> str | None:
        """Path, size and modification time of the file(s) read."""
        return file_token(getattr(self, self.path_field))


class _PolarsScanReader(_PolarsReader):
    """LazyFrame readers: ``columns`` becomes a ``select`` (scans take no column list)."""

    frame: ClassVar[str] = "LazyFrame"

    def _scan(self, scanner: str) -> tuple[Any, dict[str, Any]]:
        pl = _polars(self.name())
        fn: Callable[..., Any] = getattr(pl, scanner)
        target = self._target()
        kwargs = library_kwargs(self, fn, exclude={self.path_field, "columns"}, rename=_RENAMED)
        frame = fn(target, **kwargs)
        columns = getattr(self, "columns", None)
        if columns:
            frame = frame.select(columns)
        schema = frame.collect_schema()
        metadata = get_file_metadata(target)
        metadata[DATAFRAME_METADATA] = {
            "__version__": METADATA_VERSION,
            "rows": None,  # unknown until the LazyFrame is collected
            "columns": len(schema),
            "column_names": list(schema.names()),
            "datatypes": [str(t) for t in schema.dtypes()],
        }
        return frame, metadata


class _PolarsWriter(_Polars, DataSaver):
    @classmethod
    def applicable_types(cls) -> Collection[type]:
        pl = _polars(cls.name())
        return [pl.DataFrame, pl.LazyFrame]

    def _write(self, data: Any, writer: str) -> dict[str, Any]:
        pl = _polars(self.name())
        if isinstance(data, pl.LazyFrame):
            data = data.collect()
        fn: Callable[..., Any] = getattr(pl.DataFrame, writer)
        target = self._target()
        kwargs = library_kwargs(self, fn, exclude={self.path_field}, rename=_RENAMED)
        with atomic_path(target) as path:
            fn(data, path, **kwargs)
        return get_file_and_dataframe_metadata(target, data)


# ---- csv -----------------------------------------------------------------------------------
@dataclasses.dataclass
class PolarsCSVReader(_PolarsReader):
    """``csv`` → polars DataFrame: :func:`polars.read_csv`."""

    file: PathOrBuffer
    has_header: bool = True
    include_header: bool = True
    columns: Any = None
    new_columns: list[str] | None = None
    separator: str = ","
    comment_char: str | None = None
    quote_char: str | None = '"'
    skip_rows: int = 0
    dtypes: Any = None
    null_values: Any = None
    missing_utf8_is_empty_string: bool = False
    ignore_errors: bool = False
    try_parse_dates: bool = False
    n_threads: int | None = None
    infer_schema_length: int | None = 100
    batch_size: int = 8192
    n_rows: int | None = None
    encoding: str = "utf8"
    low_memory: bool = False
    rechunk: bool = True
    use_pyarrow: bool = False
    storage_options: dict[str, Any] | None = None
    skip_rows_after_header: int = 0
    row_count_name: str | None = None
    row_count_offset: int = 0
    sample_size: int = 1024
    eol_char: str = "\n"
    raise_if_empty: bool = True

    @classmethod
    def name(cls) -> str:
        return "csv"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self._read("read_csv")


@dataclasses.dataclass
class PolarsScanCSVReader(_PolarsScanReader):
    """``csv`` → polars LazyFrame: :func:`polars.scan_csv`."""

    file: PathOrBuffer
    has_header: bool = True
    columns: Any = None
    new_columns: list[str] | None = None
    separator: str = ","
    comment_char: str | None = None
    quote_char: str | None = '"'
    skip_rows: int = 0
    dtypes: Any = None
    null_values: Any = None
    missing_utf8_is_empty_string: bool = False
    ignore_errors: bool = False
    try_parse_dates: bool = False
    n_threads: int | None = None
    infer_schema_length: int | None = 100
    batch_size: int = 8192
    n_rows: int | None = None
    encoding: str = "utf8"
    low_memory: bool = False
    rechunk: bool = True
    use_pyarrow: bool = False
    storage_options: dict[str, Any] | None = None
    skip_rows_after_header: int = 0
    row_count_name: str | None = None
    row_count_offset: int = 0
    eol_char: str = "\n"
    raise_if_empty: bool = True

    @classmethod
    def name(cls) -> str:
        return "csv"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self._scan("scan_csv")


@dataclasses.dataclass
class PolarsCSVWriter(_PolarsWriter):
    """polars → ``csv``: :meth:`polars.DataFrame.write_csv`."""

    file: PathOrBuffer
    include_header: bool = True
    separator: str = ","
    line_terminator: str = "\n"
    quote_char: str = '"'
    batch_size: int = 1024
    datetime_format: str | None = None
    date_format: str | None = None
    time_format: str | None = None
    float_precision: int | None = None
    null_value: str | None = None
    quote_style: str | None = None

    @classmethod
    def name(cls) -> str:
        return "csv"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self._write(data, "write_csv")


# ---- parquet -------------------------------------------------------------------------------
@dataclasses.dataclass
class PolarsParquetReader(_PolarsReader):
    """``parquet`` → polars DataFrame: :func:`polars.read_parquet`."""

    file: PathOrBuffer
    columns: Any = None
    n_rows: int | None = None
    use_pyarrow: bool = False
    memory_map: bool = True
    storage_options: dict[str, Any] | None = None
    parallel: str = "auto"
    row_count_name: str | None = None
    row_count_offset: int = 0
    low_memory: bool = False
    pyarrow_options: dict[str, Any] | None = None
    use_statistics: bool = True
    rechunk: bool = True

    @classmethod
    def name(cls) -> str:
        return "parquet"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self._read("read_parquet")


@dataclasses.dataclass
class PolarsScanParquetReader(_PolarsScanReader):
    """``parquet`` → polars LazyFrame: :func:`polars.scan_parquet`."""

    file: PathOrBuffer
    columns: Any = None
    n_rows: int | None = None
    use_pyarrow: bool = False
    memory_map: bool = True
    storage_options: dict[str, Any] | None = None
    parallel: str = "auto"
    row_count_name: str | None = None
    row_count_offset: int = 0
    low_memory: bool = False
    use_statistics: bool = True
    rechunk: bool = True

    @classmethod
    def name(cls) -> str:
        return "parquet"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self._scan("scan_parquet")


@dataclasses.dataclass
class PolarsParquetWriter(_PolarsWriter):
    """polars → ``parquet``: :meth:`polars.DataFrame.write_parquet`."""

    file: PathOrBuffer
    compression: str = "zstd"
    compression_level: int | None = None
    statistics: bool = False
    row_group_size: int | None = None
    use_pyarrow: bool = False
    pyarrow_options: dict[str, Any] | None = None

    @classmethod
    def name(cls) -> str:
        return "parquet"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self._write(data, "write_parquet")


# ---- feather (Arrow IPC) -------------------------------------------------------------------
@dataclasses.dataclass
class PolarsFeatherReader(_PolarsReader):
    """``feather`` → polars DataFrame: :func:`polars.read_ipc`."""

    path_field: ClassVar[str] = "source"

    source: PathOrBuffer
    columns: Any = None
    n_rows: int | None = None
    use_pyarrow: bool = False
    memory_map: bool = True
    storage_options: dict[str, Any] | None = None
    row_count_name: str | None = None
    row_count_offset: int = 0
    rechunk: bool = True

    @classmethod
    def name(cls) -> str:
        return "feather"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self._read("read_ipc")


@dataclasses.dataclass
class PolarsScanFeatherReader(_PolarsScanReader):
    """``feather`` → polars LazyFrame: :func:`polars.scan_ipc`."""

    path_field: ClassVar[str] = "source"

    source: PathOrBuffer
    columns: Any = None
    n_rows: int | None = None
    use_pyarrow: bool = False
    memory_map: bool = True
    storage_options: dict[str, Any] | None = None
    row_count_name: str | None = None
    row_count_offset: int = 0
    rechunk: bool = True

    @classmethod
    def name(cls) -> str:
        return "feather"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self._scan("scan_ipc")


@dataclasses.dataclass
class PolarsFeatherWriter(_PolarsWriter):
    """polars → ``feather``: :meth:`polars.DataFrame.write_ipc`."""

    file: PathOrBuffer | None = None
    compression: str = "uncompressed"

    @classmethod
    def name(cls) -> str:
        return "feather"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self._write(data, "write_ipc")


# ---- json and ndjson -----------------------------------------------------------------------
@dataclasses.dataclass
class PolarsJSONReader(_PolarsReader):
    """``json`` → polars DataFrame: :func:`polars.read_json`."""

    path_field: ClassVar[str] = "source"

    source: PathOrBuffer
    schema: Any = None
    schema_overrides: Any = None

    @classmethod
    def name(cls) -> str:
        return "json"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self._read("read_json")


@dataclasses.dataclass
class PolarsJSONWriter(_PolarsWriter):
    """polars → ``json``: :meth:`polars.DataFrame.write_json` (a list of row objects)."""

    file: PathOrBuffer

    @classmethod
    def name(cls) -> str:
        return "json"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self._write(data, "write_json")


@dataclasses.dataclass
class PolarsNDJSONReader(_PolarsReader):
    """``ndjson`` → polars DataFrame: :func:`polars.read_ndjson` (one JSON object per line)."""

    path_field: ClassVar[str] = "source"

    source: PathOrBuffer
    schema: Any = None
    schema_overrides: Any = None

    @classmethod
    def name(cls) -> str:
        return "ndjson"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self._read("read_ndjson")


@dataclasses.dataclass
class PolarsNDJSONWriter(_PolarsWriter):
    """polars → ``ndjson``: :meth:`polars.DataFrame.write_ndjson`."""

    file: PathOrBuffer

    @classmethod
    def name(cls) -> str:
        return "ndjson"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self._write(data, "write_ndjson")


# ---- avro ----------------------------------------------------------------------------------
@dataclasses.dataclass
class PolarsAvroReader(_PolarsReader):
    """``avro`` → polars DataFrame: :func:`polars.read_avro`."""

    file: PathOrBuffer
    columns: Any = None
    n_rows: int | None = None

    @classmethod
    def name(cls) -> str:
        return "avro"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self._read("read_avro")


@dataclasses.dataclass
class PolarsAvroWriter(_PolarsWriter):
    """polars → ``avro``: :meth:`polars.DataFrame.write_avro`."""

    file: PathOrBuffer
    compression: str = "uncompressed"

    @classmethod
    def name(cls) -> str:
        return "avro"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self._write(data, "write_avro")


# ---- database ------------------------------------------------------------------------------
@dataclasses.dataclass
class PolarsDatabaseReader(_Polars, DataLoader):
    """``database`` → polars DataFrame: :func:`polars.read_database` (DB-API connections too)."""

    query: str
    connection: Any
    iter_batches: bool = False
    batch_size: int | None = None
    schema_overrides: Any = None
    infer_schema_length: int | None = None
    execute_options: dict[str, Any] | None = None

    @classmethod
    def name(cls) -> str:
        return "database"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        pl = _polars(self.name())
        kwargs = library_kwargs(self, pl.read_database, exclude={"query", "connection"})
        frame = pl.read_database(self.query, self.connection, **kwargs)
        return frame, {**get_sql_metadata(self.query, frame), **get_dataframe_metadata(frame)}


DATAFRAME_ADAPTERS: tuple[type, ...] = (
    PolarsCSVReader,
    PolarsCSVWriter,
    PolarsParquetReader,
    PolarsParquetWriter,
    PolarsFeatherReader,
    PolarsFeatherWriter,
    PolarsAvroReader,
    PolarsAvroWriter,
    PolarsJSONReader,
    PolarsJSONWriter,
    PolarsNDJSONReader,
    PolarsNDJSONWriter,
    PolarsDatabaseReader,
)
LAZYFRAME_ADAPTERS: tuple[type, ...] = (
    PolarsScanCSVReader,
    PolarsScanParquetReader,
    PolarsScanFeatherReader,
)
