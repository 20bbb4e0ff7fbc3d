"""Every format, both ways, on real files: written by cayley and read back by the format's own
library, or written by the library and loaded by cayley."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import openpyxl
import pandas as pd
import polars as pl
import polars.testing
import pyarrow.feather
import pyarrow.parquet
import pytest
import yaml

from cayley.io.materialization import from_, to
from tests.io.helpers import build, module_of

PD = pd.DataFrame({"n": [1, 2, 3], "s": ["a", "b", "c"]})
PL = pl.DataFrame({"n": [1, 2, 3], "s": ["a", "b", "c"]})

PRODUCERS = module_of(
    """
import io
import numpy as np
import pandas as pd
import polars as pl

def py_dict() -> dict:
    return {"k": [1, 2], "t": "x"}

def py_list() -> list:
    return [1, {"a": None}]

def text() -> str:
    return "héllo\\nworld"

def blob() -> bytes:
    return b"\\x00\\x01bytes"

def buffer() -> io.BytesIO:
    return io.BytesIO(b"from a buffer")

def array() -> np.ndarray:
    return np.arange(6).reshape(2, 3)

def pd_frame() -> pd.DataFrame:
    return pd.DataFrame({"n": [1, 2, 3], "s": ["a", "b", "c"]})

def pl_frame() -> pl.DataFrame:
    return pl.DataFrame({"n": [1, 2, 3], "s": ["a", "b", "c"]})

def pl_lazy() -> pl.LazyFrame:
    return pl.DataFrame({"n": [1, 2, 3], "s": ["a", "b", "c"]}).lazy()
"""
)


def _pd_equal(got: pd.DataFrame, check_dtype: bool = False) -> None:
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), PD, check_dtype=check_dtype, check_index_type=False
    )


def _excel_rows(path: Path) -> list[tuple]:
    sheet = openpyxl.load_workbook(path).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


class SaveCase(NamedTuple):
    fmt: str
    node: str
    kwargs: Callable[[Path], dict[str, Any]]
    check: Callable[[Path], None]


def _p(name: str) -> Callable[[Path], dict[str, Any]]:
    return lambda d: {"path": str(d / name)}


def _f(name: str) -> Callable[[Path], dict[str, Any]]:
    return lambda d: {"file": str(d / name)}


SAVES = [
    SaveCase(
        "json",
        "py_dict",
        _p("d.json"),
        lambda d: json.loads((d / "d.json").read_text()) == {"k": [1, 2], "t": "x"},
    ),
    SaveCase(
        "json",
        "py_list",
        _p("l.json"),
        lambda d: json.loads((d / "l.json").read_text()) == [1, {"a": None}],
    ),
    SaveCase(
        "pickle",
        "py_dict",
        _p("d.pkl"),
        lambda d: pickle.loads((d / "d.pkl").read_bytes()) == {"k": [1, 2], "t": "x"},
    ),
    SaveCase(
        "file",
        "text",
        _p("t.txt"),
        lambda d: (d / "t.txt").read_text(encoding="utf-8") == "héllo\nworld",
    ),
    SaveCase("file", "blob", _p("b.bin"), lambda d: (d / "b.bin").read_bytes() == b"\x00\x01bytes"),
    SaveCase(
        "file", "buffer", _p("buf.bin"), lambda d: (d / "buf.bin").read_bytes() == b"from a buffer"
    ),
    SaveCase(
        "yaml",
        "py_dict",
        _p("d.yaml"),
        lambda d: yaml.safe_load((d / "d.yaml").read_text()) == {"k": [1, 2], "t": "x"},
    ),
    SaveCase(
        "npy",
        "array",
        _p("a.npy"),
        lambda d: np.array_equal(np.load(d / "a.npy"), np.arange(6).reshape(2, 3)),
    ),
    SaveCase("csv", "pd_frame", _p("p.csv"), lambda d: _pd_equal(pd.read_csv(d / "p.csv"))),
    SaveCase(
        "parquet",
        "pd_frame",
        _p("p.parquet"),
        lambda d: _pd_equal(pyarrow.parquet.read_table(d / "p.parquet").to_pandas()),
    ),
    SaveCase(
        "feather",
        "pd_frame",
        _p("p.feather"),
        lambda d: _pd_equal(pyarrow.feather.read_table(d / "p.feather").to_pandas()),
    ),
    SaveCase(
        "excel",
        "pd_frame",
        _p("p.xlsx"),
        lambda d: (
            _excel_rows(d / "p.xlsx") == [(None, "n", "s"), (0, 1, "a"), (1, 2, "b"), (2, 3, "c")]
        ),
    ),
    SaveCase(
        "json",
        "pd_frame",
        lambda d: {"filepath_or_buffer": str(d / "p.json")},
        lambda d: (
            json.loads((d / "p.json").read_text())
            == {"n": {"0": 1, "1": 2, "2": 3}, "s": {"0": "a", "1": "b", "2": "c"}}
        ),
    ),
    SaveCase(
        "pickle",
        "pd_frame",
        _p("p.pkl"),
        lambda d: _pd_equal(pd.read_pickle(d / "p.pkl"), check_dtype=True),
    ),
    SaveCase("orc", "pd_frame", _p("p.orc"), lambda d: _pd_equal(pd.read_orc(d / "p.orc"))),
    SaveCase(
        "stata",
        "pd_frame",
        _p("p.dta"),
        lambda d: _pd_equal(pd.read_stata(d / "p.dta").drop(columns="index")),
    ),
    SaveCase(
        "xml",
        "pd_frame",
        lambda d: {"path_or_buffer": str(d / "p.xml"), "parser": "etree", "index": False},
        lambda d: _pd_equal(pd.read_xml(d / "p.xml", parser="etree")),
    ),
    SaveCase(
        "html",
        "pd_frame",
        lambda d: {"buf": str(d / "p.html")},
        lambda d: "<td>b</td>" in (d / "p.html").read_text(),
    ),
    SaveCase(
        "csv",
        "pl_frame",
        _f("l.csv"),
        lambda d: polars.testing.assert_frame_equal(pl.read_csv(d / "l.csv"), PL),
    ),
    SaveCase(
        "csv",
        "pl_lazy",
        _f("lz.csv"),
        lambda d: polars.testing.assert_frame_equal(pl.read_csv(d / "lz.csv"), PL),
    ),
    SaveCase(
        "parquet",
        "pl_frame",
        _f("l.parquet"),
        lambda d: polars.testing.assert_frame_equal(pl.read_parquet(d / "l.parquet"), PL),
    ),
    SaveCase(
        "feather",
        "pl_frame",
        _f("l.arrow"),
        lambda d: polars.testing.assert_frame_equal(pl.read_ipc(d / "l.arrow"), PL),
    ),
    SaveCase(
        "json",
        "pl_frame",
        _f("l.json"),
        lambda d: (
            json.loads((d / "l.json").read_text())
            == [{"n": 1, "s": "a"}, {"n": 2, "s": "b"}, {"n": 3, "s": "c"}]
        ),
    ),
    SaveCase(
        "ndjson",
        "pl_frame",
        _f("l.ndjson"),
        lambda d: polars.testing.assert_frame_equal(pl.read_ndjson(d / "l.ndjson"), PL),
    ),
    SaveCase(
        "avro",
        "pl_frame",
        _f("l.avro"),
        lambda d: polars.testing.assert_frame_equal(pl.read_avro(d / "l.avro"), PL),
    ),
]


@pytest.mark.parametrize("case", SAVES, ids=lambda c: f"{c.fmt}-{c.node}")
def test_saver_writes_what_the_library_reads(case: SaveCase, tmp_path: Path) -> None:
    dr = build(PRODUCERS)
    metadata, _ = dr.materialize(
        to.__getattr__(case.fmt)(id="saved", dependencies=[case.node], **case.kwargs(tmp_path))
    )
    outcome = case.check(tmp_path)
    assert outcome is None or outcome is True
    written = [p for p in tmp_path.iterdir()]
    assert len(written) == 1, written  # the file itself, no temporary left
    file_md = metadata["saved"]["file_metadata"]
    assert file_md["size"] == written[0].stat().st_size
    if case.node.startswith(("pd_", "pl_")):
        assert metadata["saved"]["dataframe_metadata"]["column_names"] == ["n", "s"]
        assert metadata["saved"]["dataframe_metadata"]["rows"] == 3


def test_memory_saver_returns_the_value() -> None:
    metadata, _ = build(PRODUCERS).materialize(to.memory(id="kept", dependencies=["py_list"]))
    assert metadata == {"kept": [1, {"a": None}]}


def test_sql_savers_write_a_table(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "db.sqlite")
    metadata, _ = build(PRODUCERS).materialize(
        to.sql(
            id="saved",
            dependencies=["pd_frame"],
            table_name="items",
            db_connection=connection,
            index=False,
        )
    )
    rows = connection.execute("SELECT n, s FROM items ORDER BY n").fetchall()
    assert rows == [(1, "a"), (2, "b"), (3, "c")]
    assert metadata["saved"]["sql_metadata"]["table_name"] == "items"
    assert metadata["saved"]["sql_metadata"]["rows"] == 3
    connection.close()


CONSUMERS = module_of(
    """
import numpy as np
import pandas as pd
import polars as pl

def got_dict(in_dict: dict) -> dict:
    return in_dict

def got_text(in_text: str) -> str:
    return in_text

def got_bytes(in_bytes: bytes) -> bytes:
    return in_bytes

def got_array(in_array: np.ndarray) -> np.ndarray:
    return in_array

def got_object(in_object: object) -> object:
    return in_object

def got_pd(in_pd: pd.DataFrame) -> pd.DataFrame:
    return in_pd

def got_pl(in_pl: pl.DataFrame) -> pl.DataFrame:
    return in_pl

def got_lazy(in_lazy: pl.LazyFrame) -> pl.DataFrame:
    return in_lazy.collect()
"""
)


class LoadCase(NamedTuple):
    fmt: str
    target: str
    write: Callable[[Path], dict[str, Any]]  # writes the file, returns the loader arguments
    check: Callable[[Any], Any]


def _written(
    name: str, write: Callable[[Path], Any], key: str = "path"
) -> Callable[[Path], dict[str, Any]]:
    def make(d: Path) -> dict[str, Any]:
        write(d / name)
        return {key: str(d / name)}

    return make


def _pl(got: Any) -> None:
    polars.testing.assert_frame_equal(got, PL)


LOADS = [
    LoadCase(
        "json",
        "in_dict",
        _written("d.json", lambda p: p.write_text('{"k": 1}')),
        lambda v: v == {"k": 1},
    ),
    LoadCase(
        "pickle",
        "in_object",
        _written("o.pkl", lambda p: p.write_bytes(pickle.dumps({1, 2}))),
        lambda v: v == {1, 2},
    ),
    LoadCase(
        "file",
        "in_text",
        _written("t.txt", lambda p: p.write_text("plain", encoding="utf-8")),
        lambda v: v == "plain",
    ),
    LoadCase(
        "file",
        "in_bytes",
        _written("b.bin", lambda p: p.write_bytes(b"\x00\xff")),
        lambda v: v == b"\x00\xff",
    ),
    LoadCase(
        "yaml",
        "in_dict",
        _written("d.yaml", lambda p: p.write_text("k: [1, 2]\n")),
        lambda v: v == {"k": [1, 2]},
    ),
    LoadCase(
        "npy",
        "in_array",
        _written("a.npy", lambda p: np.save(p, np.eye(2))),
        lambda v: np.array_equal(v, np.eye(2)),
    ),
    LoadCase("csv", "in_pd", _written("p.csv", lambda p: PD.to_csv(p, index=False)), _pd_equal),
    LoadCase("parquet", "in_pd", _written("p.parquet", lambda p: PD.to_parquet(p)), _pd_equal),
    LoadCase("feather", "in_pd", _written("p.feather", lambda p: PD.to_feather(p)), _pd_equal),
    LoadCase(
        "excel", "in_pd", _written("p.xlsx", lambda p: PD.to_excel(p, index=False)), _pd_equal
    ),
    LoadCase(
        "json",
        "in_pd",
        _written("p.json", lambda p: PD.to_json(p), key="filepath_or_buffer"),
        _pd_equal,
    ),
    LoadCase(
        "pickle",
        "in_pd",
        _written("p.pkl", lambda p: PD.to_pickle(p)),
        lambda v: _pd_equal(v, check_dtype=True),
    ),
    LoadCase("orc", "in_pd", _written("p.orc", lambda p: PD.to_orc(p)), _pd_equal),
    LoadCase(
        "stata",
        "in_pd",
        _written("p.dta", lambda p: PD.to_stata(p, write_index=False), key="filepath_or_buffer"),
        _pd_equal,
    ),
    LoadCase(
        "table",
        "in_pd",
        _written("p.tsv", lambda p: PD.to_csv(p, sep="\t", index=False), key="filepath_or_buffer"),
        _pd_equal,
    ),
    LoadCase(
        "fwf",
        "in_pd",
        _written("p.txt", lambda p: p.write_text("n s\n1 a\n2 b\n3 c\n"), key="filepath_or_buffer"),
        _pd_equal,
    ),
    LoadCase("csv", "in_pl", _written("l.csv", lambda p: PL.write_csv(p), key="file"), _pl),
    LoadCase(
        "parquet", "in_pl", _written("l.parquet", lambda p: PL.write_parquet(p), key="file"), _pl
    ),
    LoadCase("feather", "in_pl", _written("l.arrow", lambda p: PL.write_ipc(p), key="source"), _pl),
    LoadCase("json", "in_pl", _written("l.json", lambda p: PL.write_json(p), key="source"), _pl),
    LoadCase(
        "ndjson", "in_pl", _written("l.ndjson", lambda p: PL.write_ndjson(p), key="source"), _pl
    ),
    LoadCase("avro", "in_pl", _written("l.avro", lambda p: PL.write_avro(p), key="file"), _pl),
    LoadCase("csv", "in_lazy", _written("z.csv", lambda p: PL.write_csv(p), key="file"), _pl),
    LoadCase(
        "parquet", "in_lazy", _written("z.parquet", lambda p: PL.write_parquet(p), key="file"), _pl
    ),
    LoadCase(
        "feather", "in_lazy", _written("z.arrow", lambda p: PL.write_ipc(p), key="source"), _pl
    ),
]


@pytest.mark.parametrize("case", LOADS, ids=lambda c: f"{c.fmt}-{c.target}")
def test_loader_reads_what_the_library_wrote(case: LoadCase, tmp_path: Path) -> None:
    kwargs = case.write(tmp_path)
    consumer = "got_" + case.target.removeprefix("in_")
    _, extra = build(CONSUMERS).materialize(
        from_.__getattr__(case.fmt)(target=case.target, **kwargs),
        additional_vars=[consumer, f"load_data.{case.target}"],
    )
    outcome = case.check(extra[consumer])
    assert outcome is None or outcome is True
    _, metadata = extra[f"load_data.{case.target}"]
    assert metadata["file_metadata"]["size"] == os.path.getsize(next(iter(kwargs.values())))


def test_polars_readers_translate_arguments_renamed_since(tmp_path: Path) -> None:
    """Hamilton's polars readers pass row_count_* and rechunk, which polars 1.x+ refuses."""
    PL.write_csv(tmp_path / "l.csv")
    _, extra = build(CONSUMERS).materialize(
        from_.csv(
            target="in_pl", file=str(tmp_path / "l.csv"), row_count_name="row", row_count_offset=10
        ),
        additional_vars=["got_pl"],
    )
    assert extra["got_pl"]["row"].to_list() == [10, 11, 12]
    with pytest.raises(TypeError, match=r"rechunk=False is not supported by polars.read_csv"):
        build(CONSUMERS).materialize(
            from_.csv(target="in_pl", file=str(tmp_path / "l.csv"), rechunk=False),
            additional_vars=["got_pl"],
        )


def test_literal_and_environment_loaders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAYLEY_TEST_A", "1")
    monkeypatch.setenv("CAYLEY_TEST_B", "two")
    dr = build(CONSUMERS)
    _, extra = dr.materialize(
        from_.environment(target="in_dict", names=("CAYLEY_TEST_A", "CAYLEY_TEST_B")),
        from_.literal(target="in_text", value="lit"),
        additional_vars=["got_dict", "got_text"],
    )
    assert extra == {"got_dict": {"CAYLEY_TEST_A": "1", "CAYLEY_TEST_B": "two"}, "got_text": "lit"}
    monkeypatch.delenv("CAYLEY_TEST_B")
    with pytest.raises(KeyError, match=r"\['CAYLEY_TEST_B'\] are not set"):
        dr.materialize(
            from_.environment(target="in_dict", names=("CAYLEY_TEST_A", "CAYLEY_TEST_B")),
            additional_vars=["got_dict"],
        )


def test_sql_loaders_read_any_dbapi_connection(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "db.sqlite")
    connection.execute("CREATE TABLE items (n INTEGER, s TEXT)")
    connection.executemany("INSERT INTO items VALUES (?, ?)", [(1, "a"), (2, "b"), (3, "c")])
    connection.commit()
    _, extra = build(CONSUMERS).materialize(
        from_.sql(
            target="in_pd",
            query_or_table="SELECT n, s FROM items ORDER BY n",
            db_connection=connection,
        ),
        from_.database(
            target="in_pl", query="SELECT n, s FROM items ORDER BY n", connection=connection
        ),
        additional_vars=["got_pd", "got_pl", "load_data.in_pd"],
    )
    _pd_equal(extra["got_pd"])
    _pl(extra["got_pl"])
    assert extra["load_data.in_pd"][1]["sql_metadata"]["query"].startswith("SELECT n, s")
    connection.close()


def test_missing_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from cayley.io.libraries import require

    real_import = builtins.__import__

    def no_polars(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] == "polars":
            raise ImportError("No module named 'polars'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "polars")
    monkeypatch.setattr(builtins, "__import__", no_polars)
    with pytest.raises(
        ImportError,
        match=r'The parquet format needs polars, which is not installed: pip install "cayley\[polars\]"',
    ):
        require("polars", "parquet")
