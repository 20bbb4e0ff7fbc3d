"""The adapter contracts, the registry (user adapters win), metadata helpers and the shims."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

from cayley import ad_hoc_utils, log_setup, registry, telemetry
from cayley.function_modifiers import InvalidDecoratorException, load_from
from cayley.io import default_data_loaders as default
from cayley.io import pandas_adapters, polars_adapters
from cayley.io.data_adapters import DataLoader, DataSaver
from cayley.io.materialization import from_, to
from cayley.io.utils import (
    get_dataframe_metadata,
    get_file_and_dataframe_metadata,
    get_file_metadata,
    get_sql_metadata,
)
from tests.io.helpers import build, module_of


@dataclasses.dataclass
class UpperJSONLoader(DataLoader):
    """A user's json loader: upper-cases keys."""

    path: str
    marker: str = "!"

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [dict]

    @classmethod
    def name(cls) -> str:
        return "json"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        with open(self.path) as f:
            data = json.load(f)
        return {k.upper() + self.marker: v for k, v in data.items()}, {"custom": True}


@dataclasses.dataclass
class CountingSaver(DataSaver):
    """A saver under a new format name."""

    bucket: list

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [int, dict]

    @classmethod
    def name(cls) -> str:
        return "bucket"

    def save_data(self, data: Any) -> dict[str, Any]:
        self.bucket.append(data)
        return {"count": len(self.bucket)}


@pytest.fixture
def user_adapters() -> Iterator[None]:
    registry.register_adapter(UpperJSONLoader)
    registry.register_adapter(CountingSaver)
    yield
    registry.LOADER_REGISTRY["json"].remove(UpperJSONLoader)
    del registry.SAVER_REGISTRY["bucket"]


def test_user_adapters_win_and_add_formats(user_adapters: None, tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{"a": 1}')
    module = module_of(
        f"""
from cayley.function_modifiers import load_from

@load_from.json(path={str(tmp_path / "s.json")!r})
def settings(data: dict) -> dict:
    return data

def lst(settings: dict) -> list:
    return list(settings)
"""
    )
    dr = build(module)
    assert dr.graph.nodes["settings.load_data.data"].tags["hamilton.data_loader.classname"] == (
        "UpperJSONLoader"
    )
    assert dr.execute(["settings"]) == {"settings": {"A!": 1}}
    bucket: list = []
    metadata, _ = dr.materialize(to.bucket(id="b", dependencies=["settings"], bucket=bucket))
    assert bucket == [{"A!": 1}] and metadata == {"b": {"count": 1}}
    assert "bucket" in registry.saver_names() and "bucket" not in registry.loader_names()
    # a list is no dict: the built-in json loader still serves it
    (tmp_path / "l.json").write_text("[1]")
    _, extra = dr.materialize(
        from_.json(target="lst", path=str(tmp_path / "l.json")), additional_vars=["lst"]
    )
    assert extra == {"lst": [1]}


def test_register_adapter_rejects_what_is_not_an_adapter() -> None:
    with pytest.raises(TypeError, match="expects a DataLoader or DataSaver subclass"):
        registry.register_adapter(UpperJSONLoader(path="x"))

    class NotADataclass(DataLoader):
        @classmethod
        def applicable_types(cls) -> Collection[type]:
            return [dict]

        @classmethod
        def name(cls) -> str:
            return "nd"

        def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
            return {}, {}

    with pytest.raises(TypeError, match="must be a dataclass"):
        registry.register_adapter(NotADataclass)

    @dataclasses.dataclass
    class BadName(NotADataclass):
        @classmethod
        def name(cls) -> str:
            return "not an identifier"

    with pytest.raises(ValueError, match="must return an identifier"):
        registry.register_adapter(BadName)


def test_adapter_arguments_and_types() -> None:
    assert default.JSONDataLoader.get_required_arguments() == {"path": str | os.PathLike}
    assert default.RawFileDataLoader.get_optional_arguments() == {"encoding": str}
    assert "sep" in pandas_adapters.PandasCSVReader.get_optional_arguments()
    assert default.JSONDataLoader.can_load() and not default.JSONDataLoader.can_save()
    assert default.JSONDataSaver.can_save() and not default.JSONDataSaver.can_load()
    assert default.JSONDataLoader.applies_to(dict[str, int])
    assert not default.JSONDataLoader.applies_to(int)
    assert default.PickleLoader.applies_to(int)  # pickle loads anything
    assert default.JSONDataSaver.applies_to(dict[str, int])
    assert pandas_adapters.PandasCSVReader.match(pd.DataFrame) is True  # specific
    assert pandas_adapters.PandasCSVReader.match(Any) is False  # generic
    assert polars_adapters.PolarsCSVWriter.applies_to(pl.LazyFrame)


def test_arguments_pick_the_class_when_the_type_does_not(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "a.csv", index=False)
    module = module_of("from typing import Any\n\ndef used(frame: Any) -> Any:\n    return frame\n")
    dr = build(module)
    by_path = dr.materialize(
        from_.csv(target="frame", path=str(tmp_path / "a.csv")), additional_vars=["used"]
    )[1]["used"]
    by_file = dr.materialize(
        from_.csv(target="frame", file=str(tmp_path / "a.csv")), additional_vars=["used"]
    )[1]["used"]
    assert isinstance(by_path, pd.DataFrame) and isinstance(by_file, pl.DataFrame)


def test_argument_errors_point_at_the_class_that_would_fit() -> None:
    def frame(df: pd.DataFrame) -> pd.DataFrame:
        return df

    with pytest.raises(
        InvalidDecoratorException,
        match=r"PandasCSVReader .*unknown argument\(s\) \['file'\]. It takes required \['path'\], "
        r"46 optional ones such as \['na_filter'\]. These arguments fit \[.*'PolarsCSVReader'\]",
    ):
        load_from.csv(file="x.csv")(frame)


def test_loader_returning_no_metadata_is_reported(tmp_path: Path) -> None:
    @dataclasses.dataclass
    class Forgetful(DataLoader):
        path: str

        @classmethod
        def applicable_types(cls) -> Collection[type]:
            return [dict]

        @classmethod
        def name(cls) -> str:
            return "forgetful"

        def load_data(self, type_: type) -> Any:
            return {"no": "metadata"}

    registry.register_adapter(Forgetful)
    try:
        module = module_of("def used(d: dict) -> dict:\n    return d\n")
        with pytest.raises(
            TypeError, match=r"Forgetful.load_data must return a \(data, metadata\)"
        ):
            build(module).materialize(
                from_.forgetful(target="d", path="x"), additional_vars=["used"]
            )
    finally:
        del registry.LOADER_REGISTRY["forgetful"]


def test_file_metadata_shape(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("12345")
    before = time.time()
    md = get_file_metadata(path)["file_metadata"]
    assert list(md) == [
        "size",
        "path",
        "last_modified",
        "timestamp",
        "scheme",
        "notes",
        "__version__",
    ]
    assert md["size"] == 5 and md["path"] == str(path) and md["scheme"] == "" and md["notes"] == ""
    assert md["last_modified"] == path.stat().st_mtime and md["timestamp"] >= before
    missing = get_file_metadata(tmp_path / "nope")["file_metadata"]
    assert missing["size"] is None and "does not exist" in missing["notes"]
    remote = get_file_metadata("s3://bucket/key.csv")["file_metadata"]
    assert remote["scheme"] == "s3" and remote["size"] is None


def test_dataframe_and_sql_metadata_shapes(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, None]})
    assert get_dataframe_metadata(frame)["dataframe_metadata"] == {
        "__version__": "1.0.0",
        "rows": 2,
        "columns": 2,
        "column_names": ["a", "b"],
        "datatypes": ["int64", "float64"],
    }
    polars_md = get_dataframe_metadata(pl.DataFrame({"a": [1]}))["dataframe_metadata"]
    assert polars_md["datatypes"] == ["Int64"] and polars_md["rows"] == 1
    assert get_dataframe_metadata([1, 2, 3])["dataframe_metadata"]["columns"] is None
    both = get_file_and_dataframe_metadata(tmp_path / "x", frame)
    assert set(both) == {"file_metadata", "dataframe_metadata"}
    query = get_sql_metadata("SELECT * FROM t", frame)["sql_metadata"]
    assert (
        query["query"] == "SELECT * FROM t" and query["table_name"] is None and query["rows"] == 2
    )
    table = get_sql_metadata("t", None)["sql_metadata"]
    assert table["table_name"] == "t" and table["rows"] is None


def test_registry_compatibility_helpers() -> None:
    registry.load_extension("pandas")
    with pytest.raises(ValueError, match="cayley has no 'spark' extension"):
        registry.load_extension("spark")
    registry.disable_autoload()
    registry.initialize()
    frame = pd.DataFrame({"a": [1, 2]})
    assert registry.get_column(frame, "a").tolist() == [1, 2]
    assert registry.fill_with_scalar(frame, "b", 0)["b"].tolist() == [0, 0]
    assert registry.get_column_type_from_df_type(pd.DataFrame) is pd.Series
    assert "pandas.DataFrame" in {
        k.replace("pandas.core.frame", "pandas") for k in registry.get_registered_dataframe_types()
    }
    with pytest.raises(NotImplementedError, match="not a registered dataframe type"):
        registry.get_column_type_from_df_type(dict)


def test_compatibility_shims(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert telemetry.disable_telemetry() is None
    assert telemetry.is_telemetry_enabled() is False
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        log_setup.setup_logging("debug")
        assert root.level == logging.DEBUG and len(root.handlers) == 1
        log_setup.setup_logging(logging.WARNING)
        assert root.level == logging.WARNING and len(root.handlers) == 1
        with pytest.raises(ValueError, match="Unknown log level 'loud'"):
            log_setup.setup_logging("loud")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    module = ad_hoc_utils.create_module(
        "def f(x: int) -> int:\n    return x + 1\n", "created_for_test", verbosity=1
    )
    assert module.f(1) == 2 and module.__name__ == "created_for_test"
    assert Path(module.__file__).read_text().startswith("def f(")
    assert "created_for_test" in capsys.readouterr().out
    assert build(module).execute(["f"], inputs={"x": 2}) == {"f": 3}
