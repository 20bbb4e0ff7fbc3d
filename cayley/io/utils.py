"""Metadata that loaders and savers return, in the shape dataflows written for Hamilton expect.

``get_file_metadata(path)`` gives ``{"file_metadata": {...}}``, ``get_dataframe_metadata(df)``
gives ``{"dataframe_metadata": {...}}`` and ``get_sql_metadata(query_or_table, results)`` gives
``{"sql_metadata": {...}}``; adapters merge the parts that apply.
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import urlparse

__all__ = [
    "DATAFRAME_METADATA",
    "FILE_METADATA",
    "SQL_METADATA",
    "METADATA_VERSION",
    "get_dataframe_metadata",
    "get_file_and_dataframe_metadata",
    "get_file_metadata",
    "get_sql_metadata",
]

FILE_METADATA = "file_metadata"
DATAFRAME_METADATA = "dataframe_metadata"
SQL_METADATA = "sql_metadata"
#: Version of the metadata layout, stored under ``__version__`` in each part.
METADATA_VERSION = "1.0.0"


def _path_text(path: Any) -> str:
    if type(path) is str:
        return path
    return os.fspath(path) if isinstance(path, os.PathLike) else str(path)


def get_file_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"file_metadata": {size, path, last_modified, timestamp, scheme, notes, __version__}}``.

    ``size`` (bytes) and ``last_modified`` (seconds since the epoch) describe the file as it is
    now; ``timestamp`` is when this metadata was taken. For a path that is not a local file
    (missing, or a URL such as ``s3://...``) ``size`` is ``None``, ``last_modified`` is the
    current time and ``notes`` says why.
    """
    text = _path_text(path)
    scheme = urlparse(text).scheme if "://" in text else ""
    now = time.time()
    size: int | None = None
    last_modified = now
    notes = ""
    try:
        stat = os.stat(text) if not scheme else None
    except OSError:
        stat = None
    if stat is not None:
        size = stat.st_size
        last_modified = stat.st_mtime
    else:
        notes = (
            f"File metadata is unavailable for scheme {scheme!r} or path {text!r} does not exist."
        )
    return {
        FILE_METADATA: {
            "size": size,
            "path": text,
            "last_modified": last_modified,
            "timestamp": now,
            "scheme": scheme,
            "notes": notes,
            "__version__": METADATA_VERSION,
        }
    }


def _dataframe_shape(df: Any) -> tuple[int | None, list[str] | None, list[str] | None]:
    """(rows, column names, dtype names) of a pandas/polars frame; columns None otherwise."""
    try:
        rows: int | None = len(df)
    except TypeError:
        rows = None
    columns = getattr(df, "columns", None)
    dtypes = getattr(df, "dtypes", None)
    if columns is None or dtypes is None:
        return rows, None, None
    names = [str(c) for c in columns]
    kinds = [str(t) for t in (dtypes.tolist() if hasattr(dtypes, "tolist") else dtypes)]
    return rows, names, kinds


def get_dataframe_metadata(df: Any) -> dict[str, Any]:
    """``{"dataframe_metadata": {__version__, rows, columns, column_names, datatypes}}``.

    Works for pandas and polars frames; for other sized values only ``rows`` is filled.
    """
    rows, names, kinds = _dataframe_shape(df)
    return {
        DATAFRAME_METADATA: {
            "__version__": METADATA_VERSION,
            "rows": rows,
            "columns": len(names) if names is not None else None,
            "column_names": names,
            "datatypes": kinds,
        }
    }


def get_file_and_dataframe_metadata(path: str | os.PathLike[str], df: Any) -> dict[str, Any]:
    """Both :func:`get_file_metadata` and :func:`get_dataframe_metadata`."""
    return {**get_file_metadata(path), **get_dataframe_metadata(df)}


def _looks_like_query(text: str) -> bool:
    return any(ch.isspace() for ch in text.strip())


def get_sql_metadata(query_or_table: str, results: Any) -> dict[str, Any]:
    """``{"sql_metadata": {rows, query, table_name, timestamp, __version__}}``.

    ``query_or_table`` counts as a query when it contains whitespace, as a table name
    otherwise; ``rows`` is the length of ``results`` (``None`` when there are none).
    """
    is_query = _looks_like_query(query_or_table)
    try:
        rows = len(results) if results is not None else None
    except TypeError:
        rows = None
    return {
        SQL_METADATA: {
            "rows": rows,
            "query": query_or_table if is_query else None,
            "table_name": None if is_query else query_or_table,
            "timestamp": time.time(),
            "__version__": METADATA_VERSION,
        }
    }
