"""More pandas DataFrame formats: table, fwf, orc, stata, xml and html (writing).

As in :mod:`cayley.io.pandas_adapters`, arguments and defaults are Hamilton's, passed to the
pandas function of the same name. orc needs pyarrow; xml needs lxml unless ``parser="etree"``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from cayley.io.libraries import require
from cayley.io.pandas_base import PandasReader, PandasWriter, PathOrBuffer

__all__ = [
    "PandasFWFReader",
    "PandasHtmlWriter",
    "PandasORCReader",
    "PandasORCWriter",
    "PandasStataReader",
    "PandasStataWriter",
    "PandasTableReader",
    "PandasXmlReader",
    "PandasXmlWriter",
]


@dataclasses.dataclass
class PandasTableReader(PandasReader):
    """``table`` → pandas: :func:`pandas.read_table` (tab-separated by default)."""

    path_field: ClassVar[str] = "filepath_or_buffer"

    filepath_or_buffer: PathOrBuffer
    sep: str | None = None
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
    infer_datetime_format: bool = False
    keep_date_col: bool | None = None
    date_parser: Any = None
    date_format: Any = None
    dayfirst: bool = False
    cache_dates: bool = True
    iterator: bool = False
    chunksize: int | None = None
    compression: Any = "infer"
    thousands: str | None = None
    decimal: str = "."
    lineterminator: str | None = None
    quotechar: str = '"'
    quoting: int = 0
    doublequote: bool = True
    escapechar: str | None = None
    comment: str | None = None
    encoding: str | None = None
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
        return "table"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self.read_with("read_table")


@dataclasses.dataclass
class PandasFWFReader(PandasReader):
    """``fwf`` → pandas: :func:`pandas.read_fwf` (fixed-width columns)."""

    path_field: ClassVar[str] = "filepath_or_buffer"

    filepath_or_buffer: PathOrBuffer
    colspecs: Any = "infer"
    widths: list[int] | None = None
    infer_nrows: int = 100
    dtype_backend: str = "numpy_nullable"

    @classmethod
    def name(cls) -> str:
        return "fwf"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self.read_with("read_fwf")


@dataclasses.dataclass
class PandasORCReader(PandasReader):
    """``orc`` → pandas: :func:`pandas.read_orc` (pyarrow)."""

    path: PathOrBuffer
    columns: list[str] | None = None
    dtype_backend: str = "numpy_nullable"
    filesystem: Any = None

    @classmethod
    def name(cls) -> str:
        return "orc"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        require("pyarrow", self.name())
        return self.read_with("read_orc")


@dataclasses.dataclass
class PandasORCWriter(PandasWriter):
    """pandas → ``orc``: :meth:`pandas.DataFrame.to_orc` (pyarrow)."""

    path: PathOrBuffer
    engine: str = "pyarrow"
    index: bool | None = None
    engine_kwargs: dict[str, Any] | None = None

    @classmethod
    def name(cls) -> str:
        return "orc"

    def save_data(self, data: Any) -> dict[str, Any]:
        require("pyarrow", self.name())
        return self.write_with(data, "to_orc")


@dataclasses.dataclass
class PandasStataReader(PandasReader):
    """``stata`` → pandas: :func:`pandas.read_stata`."""

    path_field: ClassVar[str] = "filepath_or_buffer"

    filepath_or_buffer: PathOrBuffer
    convert_dates: bool = True
    convert_categoricals: bool = True
    index_col: str | None = None
    convert_missing: bool = False
    preserve_dtypes: bool = True
    columns: list[str] | None = None
    order_categoricals: bool = True
    chunksize: int | None = None
    iterator: bool = False
    compression: Any = "infer"
    storage_options: dict[str, Any] | None = None

    @classmethod
    def name(cls) -> str:
        return "stata"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self.read_with("read_stata")


@dataclasses.dataclass
class PandasStataWriter(PandasWriter):
    """pandas → ``stata``: :meth:`pandas.DataFrame.to_stata`."""

    path: PathOrBuffer | None = None
    convert_dates: dict[str, str] | None = None
    write_index: bool = True
    byteorder: str | None = None
    time_stamp: Any = None
    data_label: str | None = None
    variable_labels: dict[str, str] | None = None
    version: int = 114
    convert_strl: list[str] | None = None
    compression: Any = "infer"
    storage_options: dict[str, Any] | None = None
    value_labels: dict[str, dict[float, str]] | None = None

    @classmethod
    def name(cls) -> str:
        return "stata"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self.write_with(data, "to_stata")


@dataclasses.dataclass
class PandasXmlReader(PandasReader):
    """``xml`` → pandas: :func:`pandas.read_xml` (``parser="etree"`` needs no lxml)."""

    path_field: ClassVar[str] = "path_or_buffer"

    path_or_buffer: PathOrBuffer
    xpath: str = "./*"
    namespace: dict[str, str] | None = None
    elems_only: bool = False
    attrs_only: bool = False
    names: list[str] | None = None
    dtype: Any = None
    converters: Any = None
    parse_dates: Any = False
    encoding: str | None = "utf-8"
    parser: str = "lxml"
    stylesheet: Any = None
    iterparse: Any = None
    compression: Any = "infer"
    storage_options: dict[str, Any] | None = None
    dtype_backend: str = "numpy_nullable"

    @classmethod
    def name(cls) -> str:
        return "xml"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self.read_with("read_xml", rename={"namespace": "namespaces"})


@dataclasses.dataclass
class PandasXmlWriter(PandasWriter):
    """pandas → ``xml``: :meth:`pandas.DataFrame.to_xml` (``parser="etree"`` needs no lxml)."""

    path_field: ClassVar[str] = "path_or_buffer"

    path_or_buffer: PathOrBuffer
    index: bool = True
    root_name: str = "data"
    row_name: str = "row"
    na_rep: str | None = None
    attr_cols: list[str] | None = None
    elems_cols: list[str] | None = None
    namespaces: dict[str, str] | None = None
    prefix: str | None = None
    encoding: str = "utf-8"
    xml_declaration: bool = True
    pretty_print: bool = True
    parser: str = "lxml"
    stylesheet: Any = None
    compression: Any = "infer"
    storage_options: dict[str, Any] | None = None

    @classmethod
    def name(cls) -> str:
        return "xml"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self.write_with(data, "to_xml", rename={"elems_cols": "elem_cols"})


@dataclasses.dataclass
class PandasHtmlWriter(PandasWriter):
    """pandas → ``html``: :meth:`pandas.DataFrame.to_html` (a table)."""

    path_field: ClassVar[str] = "buf"

    buf: PathOrBuffer | None = None
    columns: list[str] | None = None
    col_space: Any = None
    header: Any = True
    index: bool = True
    na_rep: str = "NaN"
    formatters: Any = None
    float_format: Any = None
    sparsify: bool = True
    index_names: bool = True
    justify: str | None = None
    max_rows: int | None = None
    max_cols: int | None = None
    show_dimensions: bool = False
    decimal: str = "."
    bold_rows: bool = True
    classes: Any = None
    escape: bool = True
    notebook: bool = False
    border: int | None = None
    table_id: str | None = None
    render_links: bool = False
    encoding: str | None = "utf-8"

    @classmethod
    def name(cls) -> str:
        return "html"

    def save_data(self, data: Any) -> dict[str, Any]:
        return self.write_with(data, "to_html")


ADAPTERS: tuple[type, ...] = (
    PandasXmlReader,
    PandasXmlWriter,
    PandasHtmlWriter,
    PandasStataReader,
    PandasStataWriter,
    PandasORCReader,
    PandasORCWriter,
    PandasTableReader,
    PandasFWFReader,
)
