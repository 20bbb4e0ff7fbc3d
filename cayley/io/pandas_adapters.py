"""pandas DataFrame formats: csv, parquet, feather, excel, json, pickle and sql.

Arguments and defaults are those of Hamilton's pandas adapters, passed on to the pandas
function of the same name (``read_csv``, ``DataFrame.to_parquet``...) when set; see
:func:`cayley.io.libraries.library_kwargs`. pandas (and pyarrow for parquet and feather,
openpyxl for excel) is imported when the format is used: ``pip install "cayley[io]"``.
Writers to local paths are atomic (:mod:`cayley.io.atomic`). More formats are in
:mod:`cayley.io.pandas_more_adapters`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from cayley.io.atomic import atomic_directory, atomic_path
from cayley.io.data_adapters import DataLoader, DataSaver
from cayley.io.libraries import library_kwargs, require
from cayley.io.pandas_base import PandasFrameAdapter, PandasReader, PandasWriter, PathOrBuffer
from cayley.io.utils import (
    get_dataframe_metadata,
    get_file_and_dataframe_metadata,
    get_sql_metadata,
)

__all__ = [
    "PandasCSVReader",
    "PandasCSVWriter",
    "PandasExcelReader",
    "PandasExcelWriter",
    "PandasFeatherReader",
    "PandasFeatherWriter",
    "PandasJsonReader",
    "PandasJsonWriter",
    "PandasParquetReader",
    "PandasParquetWriter",
    "PandasPickleReader",
    "PandasPickleWriter",
    "PandasSqlReader",
    "PandasSqlWriter",
]


# ---- csv -----------------------------------------------------------------------------------
@dataclasses.dataclass
class PandasCSVReader(PandasReader):
    """``csv`` → pandas: :func:`pandas.read_csv`."""

    path: PathOrBuffer
    sep: str | None = ","
    delimiter: str | None = None
    header: Any = "infer"
    names: Any = None
    index_col: Any = None
    usecols: Any = None
    dtype: Any = None
    engine: str | None = None
    converters: Any = None
    true_values: Any = None
    false_values: Any = None
    skipinitialspace: bool = False
    skiprows: Any = None
    skipfooter: int = 0
    nrows: int | None = None
    na_values: Any = None
    keep_default_na: bool = True
    na_filter: bool = True
    verbose: bool | None = None
    skip_blank_lines: bool = True
    parse_dates: Any = False
    keep_date_col: bool | None = None
    date_format: Any = None
    dayfirst: bool = False
    cache_dates: bool = True
    iterator: bool = False
    chunksize: int | None = None
    compression: Any = "infer"
    thousands: str | None = None
    decimal: str = "."
    lineterminator: str | None = None
    quotechar: str | None = None
    quoting: int = 0
    doublequote: bool = True
    escapechar: str | None = None
    comment: str | None = None
    encoding: str = "utf-8"
    encoding_errors: str = "strict"
    dialect: Any = None
    on_bad_lines: Any = "error"
    delim_whitespace: bool | None = None
    low_memory: bool = True
    memory_map: bool = False
    float_precision: str | None = None
    storage_options: dict[str, Any] | None = None
    dtype_backend: str = "numpy_nullable"

    @classmethod
    def name(cls) -> str:
        return "csv"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self.read_with("read_csv")


@dataclasses.dataclass
class PandasCSVWriter(PandasWriter):
    """pandas → ``csv``: :meth:`pandas.DataFrame.to_csv` (without the index by default)."""

    path: PathOrBuffer
    sep: str | None = ","
    na_rep: str = ""
    float_format: Any = None
    columns: Any = None
    header: Any = True
    index: bool | None = False
    index_label: Any = None
    mode: str = "w"
    encoding: str | None = None
    compression: Any = "infer"
    quoting: int | None = None
    quotechar: str | None = '"'
    lineterminator: str | None = None
    chunksize: int | None = None
    date_format: str | None = None
    doublequote: bool = True
    escapechar: str | None = None
    decimal: str = "."
    errors: str = "strict"
    storage_options: dict[str, Any] | None = None

    @classmethod
    def name(cls) -> str:
        return "csv"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self.write_with(data, "to_csv", append=self.mode.startswith("a"))


# ---- parquet -------------------------------------------------------------------------------
def _auto(engine: str) -> tuple[str, ...]:
    """``("engine",)`` when it is ``"auto"``: pandas picks the engine itself (and warns if told)."""
    return ("engine",) if engine == "auto" else ()


@dataclasses.dataclass
class PandasParquetReader(PandasReader):
    """``parquet`` → pandas: :func:`pandas.read_parquet` (pyarrow)."""

    path: PathOrBuffer
    engine: str = "auto"
    columns: list[str] | None = None
    storage_options: dict[str, Any] | None = None
    use_nullable_dtypes: bool = False
    dtype_backend: str = "numpy_nullable"
    filesystem: Any = None
    filters: Any = None

    @classmethod
    def name(cls) -> str:
        return "parquet"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        pd = require("pandas", self.name())
        if self.engine in ("auto", "pyarrow"):
            require("pyarrow", self.name())
        kwargs = library_kwargs(
            self, pd.read_parquet, exclude={"path", "use_nullable_dtypes", *_auto(self.engine)}
        )
        if self.use_nullable_dtypes:
            kwargs["dtype_backend"] = "numpy_nullable"
        df = pd.read_parquet(self.path, **kwargs)
        return df, get_file_and_dataframe_metadata(self.path, df)


@dataclasses.dataclass
class PandasParquetWriter(PandasWriter):
    """pandas → ``parquet``: :meth:`pandas.DataFrame.to_parquet` (a directory with partition_cols)."""

    path: PathOrBuffer
    engine: str = "auto"
    compression: str | None = "snappy"
    index: bool | None = None
    partition_cols: list[str] | None = None
    storage_options: dict[str, Any] | None = None
    extra_kwargs: dict[str, Any] | None = None

    @classmethod
    def name(cls) -> str:
        return "parquet"

    def save_data(self, data: Any) -> dict[str, Any]:
        if self.engine in ("auto", "pyarrow"):
            require("pyarrow", self.name())
        if not self.partition_cols:
            return self.write_with(
                data,
                "to_parquet",
                exclude={"extra_kwargs", *_auto(self.engine)},
                extra=self.extra_kwargs,
            )
        pd = require("pandas", self.name())
        kwargs = library_kwargs(
            self, pd.DataFrame.to_parquet, exclude={"path", "extra_kwargs", *_auto(self.engine)}
        )
        kwargs.update(self.extra_kwargs or {})
        with atomic_directory(self.path) as path:
            data.to_parquet(path, **kwargs)
        return get_file_and_dataframe_metadata(self.path, data)


# ---- feather -------------------------------------------------------------------------------
@dataclasses.dataclass
class PandasFeatherReader(PandasReader):
    """``feather`` → pandas: :func:`pandas.read_feather` (pyarrow)."""

    path: PathOrBuffer
    columns: list[str] | None = None
    use_threads: bool = True
    storage_options: dict[str, Any] | None = None
    dtype_backend: str = "numpy_nullable"

    @classmethod
    def name(cls) -> str:
        return "feather"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        require("pyarrow", self.name())
        return self.read_with("read_feather")


@dataclasses.dataclass
class PandasFeatherWriter(PandasWriter):
    """pandas → ``feather``: :meth:`pandas.DataFrame.to_feather` (pyarrow)."""

    path: PathOrBuffer
    dest: str | None = None
    compression: str | None = None
    compression_level: int | None = None
    chunksize: int | None = None
    version: int | None = 2

    @classmethod
    def name(cls) -> str:
        return "feather"

    def save_data(self, data: Any) -> dict[str, Any]:
        require("pyarrow", self.name())
        return self.write_with(data, "to_feather", exclude={"dest"})


# ---- excel ---------------------------------------------------------------------------------
@dataclasses.dataclass
class PandasExcelReader(PandasReader):
    """``excel`` → pandas: :func:`pandas.read_excel` (openpyxl for .xlsx)."""

    path: PathOrBuffer | None = None
    sheet_name: Any = 0
    header: Any = 0
    names: Any = None
    index_col: Any = None
    usecols: Any = None
    dtype: Any = None
    engine: str | None = None
    converters: Any = None
    true_values: Any = None
    false_values: Any = None
    skiprows: Any = None
    nrows: int | None = None
    keep_default_na: bool = True
    na_filter: bool = True
    verbose: bool | None = None
    parse_dates: Any = False
    date_format: Any = None
    thousands: str | None = None
    decimal: str = "."
    comment: str | None = None
    skipfooter: int = 0
    storage_options: dict[str, Any] | None = None
    dtype_backend: str = "numpy_nullable"
    engine_kwargs: dict[str, Any] | None = None

    @classmethod
    def name(cls) -> str:
        return "excel"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        if self.engine in (None, "openpyxl"):
            require("openpyxl", self.name())
        return self.read_with("read_excel")


_EXCEL_WRITER_FIELDS = frozenset(
    {
        "engine",
        "date_format",
        "datetime_format",
        "mode",
        "storage_options",
        "if_sheet_exists",
        "engine_kwargs",
    }
)


@dataclasses.dataclass
class PandasExcelWriter(PandasWriter):
    """pandas → ``excel``: :class:`pandas.ExcelWriter` and :meth:`pandas.DataFrame.to_excel`.

    With ``mode="a"`` the sheet is added to the existing workbook (still atomically).
    """

    path: PathOrBuffer
    sheet_name: str = "Sheet1"
    na_rep: str = ""
    float_format: str | None = None
    columns: Any = None
    header: Any = True
    index: bool = True
    index_label: Any = None
    startrow: int = 0
    startcol: int = 0
    engine: str | None = None
    merge_cells: bool = True
    inf_rep: str = "inf"
    freeze_panes: tuple[int, int] | None = None
    storage_options: dict[str, Any] | None = None
    engine_kwargs: dict[str, Any] | None = None
    mode: str | None = "w"
    if_sheet_exists: str | None = None
    datetime_format: str | None = None
    date_format: str | None = None

    @classmethod
    def name(cls) -> str:
        return "excel"

    def save_data(self, data: Any) -> dict[str, Any]:
        pd = require("pandas", self.name())
        if self.engine in (None, "openpyxl"):
            require("openpyxl", self.name())
        writer_kwargs = library_kwargs(
            self,
            pd.ExcelWriter,
            exclude={f.name for f in dataclasses.fields(self)} - _EXCEL_WRITER_FIELDS,
        )
        sheet_kwargs = library_kwargs(
            self, pd.DataFrame.to_excel, exclude={"path", *_EXCEL_WRITER_FIELDS}
        )
        append = (self.mode or "w").startswith("a")
        with (
            atomic_path(self.path, append=append) as path,
            pd.ExcelWriter(path, **writer_kwargs) as writer,
        ):
            data.to_excel(writer, **sheet_kwargs)
        return get_file_and_dataframe_metadata(self.path, data)


# ---- json ----------------------------------------------------------------------------------
@dataclasses.dataclass
class PandasJsonReader(PandasReader):
    """``json`` → pandas: :func:`pandas.read_json`."""

    path_field: ClassVar[str] = "filepath_or_buffer"

    filepath_or_buffer: PathOrBuffer
    chunksize: int | None = None
    compression: Any = "infer"
    convert_axes: bool | None = None
    convert_dates: Any = True
    date_unit: str | None = None
    dtype: Any = None
    dtype_backend: str | None = None
    encoding: str | None = None
    encoding_errors: str | None = "strict"
    engine: str = "ujson"
    keep_default_dates: bool = True
    lines: bool = False
    nrows: int | None = None
    orient: str | None = None
    precise_float: bool = False
    storage_options: dict[str, Any] | None = None
    typ: str = "frame"

    @classmethod
    def name(cls) -> str:
        return "json"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self.read_with("read_json", unless_changed={"convert_dates", "keep_default_dates"})


@dataclasses.dataclass
class PandasJsonWriter(PandasWriter):
    """pandas → ``json``: :meth:`pandas.DataFrame.to_json`."""

    path_field: ClassVar[str] = "filepath_or_buffer"

    filepath_or_buffer: PathOrBuffer
    compression: str = "infer"
    date_format: str = "epoch"
    date_unit: str = "ms"
    default_handler: Any = None
    double_precision: int = 10
    force_ascii: bool = True
    index: bool | None = None
    indent: int = 0
    lines: bool = False
    mode: str = "w"
    orient: str | None = None
    storage_options: dict[str, Any] | None = None

    @classmethod
    def name(cls) -> str:
        return "json"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self.write_with(
            data, "to_json", append=self.mode.startswith("a"), unless_changed={"date_format"}
        )


# ---- pickle --------------------------------------------------------------------------------
@dataclasses.dataclass
class PandasPickleReader(PandasReader):
    """``pickle`` → pandas: :func:`pandas.read_pickle` (``path`` or ``filepath_or_buffer``)."""

    path_field: ClassVar[str] = "filepath_or_buffer"

    filepath_or_buffer: PathOrBuffer | None = None
    path: PathOrBuffer | None = None
    compression: Any = "infer"
    storage_options: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.filepath_or_buffer is None and self.path is None:
            raise ValueError("PandasPickleReader needs path=<path> (or filepath_or_buffer=...).")
        if self.filepath_or_buffer is None:
            self.filepath_or_buffer = self.path

    @classmethod
    def name(cls) -> str:
        return "pickle"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        pd = require("pandas", self.name())
        kwargs = library_kwargs(self, pd.read_pickle, exclude={"filepath_or_buffer", "path"})
        df = pd.read_pickle(self.filepath_or_buffer, **kwargs)
        return df, get_file_and_dataframe_metadata(self.filepath_or_buffer, df)


@dataclasses.dataclass
class PandasPickleWriter(PandasWriter):
    """pandas → ``pickle``: :meth:`pandas.DataFrame.to_pickle`."""

    path: PathOrBuffer
    compression: Any = "infer"
    protocol: int = 5
    storage_options: dict[str, Any] | None = None

    @classmethod
    def name(cls) -> str:
        return "pickle"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self.write_with(data, "to_pickle")


# ---- sql -----------------------------------------------------------------------------------
@dataclasses.dataclass
class PandasSqlReader(PandasFrameAdapter, DataLoader):
    """``sql`` → pandas: :func:`pandas.read_sql` on any DB-API connection (or SQLAlchemy)."""

    query_or_table: str
    db_connection: Any
    chunksize: int | None = None
    coerce_float: bool = True
    columns: list[str] | None = None
    dtype: Any = None
    dtype_backend: str | None = None
    index_col: Any = None
    params: Any = None
    parse_dates: Any = None

    @classmethod
    def name(cls) -> str:
        return "sql"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        pd = require("pandas", self.name())
        kwargs = library_kwargs(self, pd.read_sql, exclude={"query_or_table", "db_connection"})
        df = pd.read_sql(self.query_or_table, self.db_connection, **kwargs)
        return df, {**get_sql_metadata(self.query_or_table, df), **get_dataframe_metadata(df)}


@dataclasses.dataclass
class PandasSqlWriter(PandasFrameAdapter, DataSaver):
    """pandas → ``sql``: :meth:`pandas.DataFrame.to_sql` on any DB-API connection (or SQLAlchemy)."""

    table_name: str
    db_connection: Any
    chunksize: int | None = None
    dtype: Any = None
    if_exists: str = "fail"
    index: bool = True
    index_label: Any = None
    method: Any = None
    schema: str | None = None

    @classmethod
    def name(cls) -> str:
        return "sql"

    def save_data(self, data: Any) -> dict[str, Any]:
        pd = require("pandas", self.name())
        kwargs = library_kwargs(self, pd.DataFrame.to_sql, exclude={"table_name", "db_connection"})
        data.to_sql(self.table_name, self.db_connection, **kwargs)
        return {**get_sql_metadata(self.table_name, data), **get_dataframe_metadata(data)}


ADAPTERS: tuple[type, ...] = (
    PandasCSVReader,
    PandasCSVWriter,
    PandasParquetReader,
    PandasParquetWriter,
    PandasPickleReader,
    PandasPickleWriter,
    PandasJsonReader,
    PandasJsonWriter,
    PandasSqlReader,
    PandasSqlWriter,
    PandasFeatherReader,
    PandasFeatherWriter,
    PandasExcelReader,
    PandasExcelWriter,
)
