"""Hamilton's ``hamilton.plugins.*_extensions`` import paths exist under ``cayley.plugins``."""

from __future__ import annotations

import importlib

import pytest

PATHS = [
    "pandas_extensions",
    "polars_extensions",
    "polars_post_1_0_0_extensions",
    "polars_lazyframe_extensions",
    "numpy_extensions",
    "yaml_extensions",
]


@pytest.mark.parametrize("name", PATHS)
def test_classes_hamilton_users_import_are_there(name: str) -> None:
    ours = importlib.import_module(f"cayley.plugins.{name}")
    theirs = importlib.import_module(f"hamilton.plugins.{name}")
    wanted = {
        n
        for n in dir(theirs)
        if n.startswith(("Pandas", "Polars", "Numpy", "YAML"))
        and n.endswith(("Reader", "Writer", "Loader", "Saver"))
        and isinstance(getattr(theirs, n), type)
    }
    # Formats whose libraries are not installed here are not offered (spss, html reading,
    # spreadsheets and database writing with polars).
    unavailable = {
        "PandasSPSSReader",
        "PandasHtmlReader",
        "PolarsSpreadsheetReader",
        "PolarsSpreadsheetWriter",
        "PolarsDatabaseWriter",
    }
    missing = sorted(wanted - unavailable - set(ours.__all__))
    assert not missing, f"cayley.plugins.{name} lacks {missing}"
    for cls_name in ours.__all__:
        assert getattr(ours, cls_name).__module__.startswith("cayley.io.")
    for cls_name in sorted(wanted & set(ours.__all__)):
        assert getattr(ours, cls_name).name() == getattr(theirs, cls_name).name(), cls_name


def test_one_class_under_both_paths() -> None:
    from cayley.io.pandas_adapters import PandasParquetReader
    from cayley.plugins.pandas_extensions import PandasParquetReader as via_plugin

    assert via_plugin is PandasParquetReader
