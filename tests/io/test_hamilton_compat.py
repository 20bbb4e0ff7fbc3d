"""One dataflow written for Hamilton, run by Hamilton 1.90 and by cayley after the import rename:
same node names and data tags, and files with the same content."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import polars as pl
import pytest
import yaml

from cayley import ad_hoc_utils
from cayley import driver as cayley_driver

hamilton_driver = pytest.importorskip("hamilton.driver")

# Hamilton's own pandas adapters pass arguments pandas now deprecates; that is not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:engine='auto' is deprecated")

SOURCE = """
import pandas as pd
from hamilton.function_modifiers import (
    config, dataloader, datasaver, extract_fields, load_from, save_to, source, value,
)

@load_from.json(path=source("settings_path"))
def settings(data: dict) -> dict:
    return data

@load_from.csv(path=source("table_path"), inject_="raw")
@load_from.json(path=source("settings_path"), inject_="extra")
def table(raw: pd.DataFrame, extra: dict, factor: int) -> pd.DataFrame:
    return raw.assign(v=raw["v"] * factor * extra["scale"])

@save_to.json(path=source("summary_path"), output_name_="summary_json")
def summary(table: pd.DataFrame, settings: dict) -> dict:
    return {"rows": len(table), "total": int(table["v"].sum()), "name": settings["name"]}

@save_to.csv(path=source("csv_path"))
@config.when(flavour="plain")
def report__plain(table: pd.DataFrame) -> pd.DataFrame:
    return table

@save_to.parquet(path=source("parquet_path"), output_name_="report_parquet")
def report_again(table: pd.DataFrame) -> pd.DataFrame:
    return table.copy()

@save_to.yaml(path=source("yaml_path"), target_="meta_a", output_name_="meta_yaml")
@extract_fields({"meta_a": dict, "meta_b": int})
def meta(summary: dict) -> dict:
    return {"meta_a": {"total": summary["total"]}, "meta_b": 1}

@dataloader()
def numbers(factor: int) -> tuple[list, dict]:
    return list(range(factor)), {"how": "generated"}

@datasaver()
def stored(numbers: list, pickle_path: str) -> dict:
    import pickle as p
    with open(pickle_path, "wb") as f:
        p.dump(numbers, f)
    return {"count": len(numbers)}
"""

OUTPUTS = ["summary_json", "save.report", "report_parquet", "meta_yaml", "stored", "numbers"]


def _drivers() -> tuple[Any, Any]:
    hamilton_module = ad_hoc_utils.module_from_source(SOURCE)
    cayley_module = ad_hoc_utils.module_from_source(SOURCE.replace("hamilton", "cayley"))
    config = {"flavour": "plain"}
    h = hamilton_driver.Builder().with_modules(hamilton_module).with_config(config).build()
    c = cayley_driver.Builder().with_modules(cayley_module).with_config(config).build()
    return h, c


def _data_nodes(dr: Any) -> dict[str, dict[str, Any]]:
    return {
        n.name: {k: v for k, v in n.tags.items() if k.startswith("hamilton.data_")}
        for n in dr.list_available_variables()
    }


def _inputs(folder: Path, shared: Path) -> dict[str, Any]:
    folder.mkdir()
    return {
        "settings_path": str(shared / "settings.json"),
        "table_path": str(shared / "table.csv"),
        "factor": 3,
        "summary_path": str(folder / "summary.json"),
        "csv_path": str(folder / "report.csv"),
        "parquet_path": str(folder / "report.parquet"),
        "yaml_path": str(folder / "meta.yaml"),
        "pickle_path": str(folder / "numbers.pkl"),
    }


def test_same_nodes_and_tags_as_hamilton() -> None:
    h, c = _drivers()
    hamilton_nodes, cayley_nodes = _data_nodes(h), _data_nodes(c)
    assert set(cayley_nodes) == set(hamilton_nodes)
    assert cayley_nodes == hamilton_nodes
    tagged = {name for name, tags in cayley_nodes.items() if tags}
    assert {
        "settings.load_data.data",
        "table.select_data.raw",
        "save.report",
        "numbers.loader",
    } <= tagged
    for name in hamilton_nodes:
        assert set(c.graph.dependencies[name]) == set(h.graph.nodes[name].input_types), name


def test_same_files_as_hamilton(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "settings.json").write_text(json.dumps({"name": "demo", "scale": 2}))
    pd.DataFrame({"k": ["a", "b", "c"], "v": [1, 2, 3]}).to_csv(shared / "table.csv", index=False)
    h, c = _drivers()
    h_inputs, c_inputs = _inputs(tmp_path / "h", shared), _inputs(tmp_path / "c", shared)
    h_result = h.execute(OUTPUTS, inputs=h_inputs)
    c_result = c.execute(OUTPUTS, inputs=c_inputs)
    for text_file in ("summary.json", "report.csv", "meta.yaml"):
        assert (tmp_path / "c" / text_file).read_bytes() == (
            tmp_path / "h" / text_file
        ).read_bytes()
    assert json.loads((tmp_path / "c" / "summary.json").read_text()) == {
        "rows": 3,
        "total": 36,
        "name": "demo",
    }
    assert yaml.safe_load((tmp_path / "c" / "meta.yaml").read_text()) == {"total": 36}
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "c" / "report.parquet"),
        pd.read_parquet(tmp_path / "h" / "report.parquet"),
    )
    assert pickle.loads((tmp_path / "c" / "numbers.pkl").read_bytes()) == [0, 1, 2]
    assert c_result["numbers"] == h_result["numbers"] == [0, 1, 2]
    assert c_result["stored"] == h_result["stored"] == {"count": 3}
    for name in ("summary_json", "save.report", "report_parquet", "meta_yaml"):
        assert _shape(c_result[name]) == _shape(h_result[name]), name


def _shape(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata keys, and the values that do not depend on time or place."""
    out: dict[str, Any] = {}
    for part, values in metadata.items():
        out[part] = {
            k: (
                v if k in ("size", "rows", "columns", "column_names", "datatypes", "scheme") else ""
            )
            for k, v in values.items()
        }
    return out


def test_same_materializer_files_as_hamilton(tmp_path: Path) -> None:
    from hamilton import base as h_base
    from hamilton.io import materialization as h_mat

    from cayley import base as c_base
    from cayley.io import materialization as c_mat

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "settings.json").write_text(json.dumps({"name": "demo", "scale": 1}))
    pd.DataFrame({"k": ["a", "b"], "v": [1, 2]}).to_csv(shared / "table.csv", index=False)
    h, c = _drivers()
    results = {}
    for label, dr, mat, base in (("h", h, h_mat, h_base), ("c", c, c_mat, c_base)):
        out = tmp_path / label
        inputs = _inputs(out, shared)
        results[label] = dr.materialize(
            mat.to.json(
                id="both",
                dependencies=["settings", "summary"],
                path=str(out / "both.json"),
                combine=base.DictResult(),
            ),
            mat.to.excel(id="sheet", dependencies=["table"], path=str(out / "table.xlsx")),
            mat.to.feather(id="arrow", dependencies=["table"], path=str(out / "table.feather")),
            mat.to.pickle(id="pickled", dependencies=["summary"], path=str(out / "summary.pkl")),
            mat.to.memory(id="kept", dependencies=["summary"]),
            additional_vars=["summary"],
            inputs=inputs,
        )
    (h_md, h_extra), (c_md, c_extra) = results["h"], results["c"]
    assert c_extra == h_extra
    assert c_md["kept"] == h_md["kept"]
    assert set(c_md) == set(h_md)
    for name in ("both", "arrow", "pickled"):
        assert _shape(c_md[name]) == _shape(h_md[name]), name
    # an xlsx file stores when it was written, so its size may differ by a byte or two
    sheet = {part: {**values, "size": None} for part, values in _shape(c_md["sheet"]).items()}
    assert sheet == {part: {**v, "size": None} for part, v in _shape(h_md["sheet"]).items()}
    assert (tmp_path / "c" / "both.json").read_bytes() == (
        tmp_path / "h" / "both.json"
    ).read_bytes()
    assert (tmp_path / "c" / "summary.pkl").read_bytes() == (
        tmp_path / "h" / "summary.pkl"
    ).read_bytes()
    sheets = [
        [
            tuple(r)
            for r in openpyxl.load_workbook(tmp_path / d / "table.xlsx").active.iter_rows(
                values_only=True
            )
        ]
        for d in ("h", "c")
    ]
    assert sheets[0] == sheets[1]
    pd.testing.assert_frame_equal(
        pd.read_feather(tmp_path / "c" / "table.feather"),
        pd.read_feather(tmp_path / "h" / "table.feather"),
    )


def test_same_polars_files_as_hamilton(tmp_path: Path) -> None:
    """Hamilton's polars writers work with the installed polars (its readers do not)."""
    from hamilton.io import materialization as h_mat

    from cayley.io import materialization as c_mat

    source = "import polars as pl\n\ndef frame() -> pl.DataFrame:\n    return pl.DataFrame({'a': [1, 2], 'b': ['x', 'y']})\n"
    h_module = ad_hoc_utils.module_from_source(source)
    c_module = ad_hoc_utils.module_from_source(source)
    for label, dr, mat in (
        ("h", hamilton_driver.Builder().with_modules(h_module).build(), h_mat),
        ("c", cayley_driver.Builder().with_modules(c_module).build(), c_mat),
    ):
        out = tmp_path / label
        out.mkdir()
        dr.materialize(
            mat.to.csv(id="csv", dependencies=["frame"], file=str(out / "f.csv")),
            mat.to.json(id="json", dependencies=["frame"], file=str(out / "f.json")),
            mat.to.parquet(id="parquet", dependencies=["frame"], file=str(out / "f.parquet")),
        )
    for name in ("f.csv", "f.json"):
        assert (tmp_path / "c" / name).read_bytes() == (tmp_path / "h" / name).read_bytes()
    assert pl.read_parquet(tmp_path / "c" / "f.parquet").equals(
        pl.read_parquet(tmp_path / "h" / "f.parquet")
    )


def test_adapters_take_hamiltons_arguments_and_defaults() -> None:
    """Every adapter class cayley shares with Hamilton has the same fields, defaults and format."""
    import dataclasses

    import hamilton.plugins.numpy_extensions  # noqa: F401 - registers npy
    import hamilton.plugins.pandas_extensions  # noqa: F401
    import hamilton.plugins.polars_extensions  # noqa: F401
    import hamilton.plugins.yaml_extensions  # noqa: F401
    from hamilton import registry as h_registry

    from cayley import registry as c_registry

    def classes(registry: Any) -> dict[str, type]:
        found = {}
        for table in (registry.LOADER_REGISTRY, registry.SAVER_REGISTRY):
            for adapters in table.values():
                for cls in adapters:
                    found[cls.__name__] = cls
        return found

    def fields(cls: type) -> list[tuple[str, Any]]:
        return [
            (f.name, f.default if f.default is not dataclasses.MISSING else "<required>")
            for f in dataclasses.fields(cls)
        ]

    ours, theirs = classes(c_registry), classes(h_registry)
    shared = sorted(set(ours) & set(theirs))
    assert len(shared) >= 45, shared
    for name in shared:
        assert fields(ours[name]) == fields(theirs[name]), name
        assert ours[name].name() == theirs[name].name(), name
    # what Hamilton has and cayley does not: readers needing libraries outside the io extra
    assert sorted(set(theirs) - set(ours)) == [
        "PandasHtmlReader",
        "PandasSPSSReader",
        "PolarsDatabaseWriter",
        "PolarsSpreadsheetReader",
        "PolarsSpreadsheetWriter",
    ]


def test_materializer_nodes_match_hamilton(tmp_path: Path) -> None:
    from hamilton import base as h_base
    from hamilton.io import materialization as h_mat

    from cayley import base as c_base
    from cayley.io import materialization as c_mat

    graphs = []
    for package, mat, base in (("hamilton", h_mat, h_base), ("cayley", c_mat, c_base)):
        module = ad_hoc_utils.module_from_source(SOURCE.replace("hamilton", package))
        builder = hamilton_driver.Builder() if package == "hamilton" else cayley_driver.Builder()
        dr = (
            builder.with_modules(module)
            .with_config({"flavour": "plain"})
            .with_materializers(
                mat.from_.json(target="settings", path=str(tmp_path / "s.json")),
                mat.to.json(id="settings_json", dependencies=["settings"], path="x.json"),
                mat.to.json(
                    id="joined",
                    dependencies=["settings", "summary"],
                    path="y.json",
                    combine=base.DictResult(),
                ),
            )
            .build()
        )
        graphs.append(dr)
    h, c = graphs
    assert _data_nodes(c) == _data_nodes(h)
    for name in (
        "load_data.settings",
        "settings",
        "settings_json",
        "joined",
        "joined_build_result",
    ):
        assert set(c.graph.dependencies[name]) == set(h.graph.nodes[name].input_types), name
