"""Hamilton's import path for the polars LazyFrame loaders (``hamilton.plugins.polars_lazyframe_extensions``)."""

from cayley.io.polars_adapters import (
    PolarsScanCSVReader,
    PolarsScanFeatherReader,
    PolarsScanParquetReader,
)

__all__ = ["PolarsScanCSVReader", "PolarsScanFeatherReader", "PolarsScanParquetReader"]
