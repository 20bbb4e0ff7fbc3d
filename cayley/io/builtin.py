"""The adapter classes cayley registers at start, in registration order.

Later classes win ties (see :mod:`cayley.io.resolve`), as in Hamilton: the standard library's,
then yaml and numpy, then pandas, then polars (LazyFrame scans before DataFrame readers, so
a node annotated ``Any`` gets an eager DataFrame). Defining them imports no data library: pandas,
polars, pyarrow, numpy, pyyaml and openpyxl are imported when a format needing them is used.
"""

from __future__ import annotations

from cayley.io import default_data_loaders as default
from cayley.io import (
    numpy_adapters,
    pandas_adapters,
    pandas_more_adapters,
    polars_adapters,
    yaml_adapters,
)

__all__ = ["ADAPTERS"]

ADAPTERS: tuple[type, ...] = (
    default.JSONDataLoader,
    default.JSONDataSaver,
    default.LiteralValueDataLoader,
    default.RawFileDataLoader,
    default.RawFileDataLoaderBytes,
    default.RawFileDataSaver,
    default.RawFileDataSaverBytes,
    default.PickleLoader,
    default.PickleSaver,
    default.EnvVarDataLoader,
    default.InMemoryResult,
    *yaml_adapters.ADAPTERS,
    *numpy_adapters.ADAPTERS,
    *pandas_adapters.ADAPTERS,
    *pandas_more_adapters.ADAPTERS,
    *polars_adapters.LAZYFRAME_ADAPTERS,
    *polars_adapters.DATAFRAME_ADAPTERS,
)
