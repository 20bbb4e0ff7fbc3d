"""Savers are atomic: a failing or interrupted save leaves no partial file and keeps the old one."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cayley import registry
from cayley.io.atomic import atomic_directory, atomic_path
from cayley.io.data_adapters import DataSaver
from cayley.io.materialization import to
from cayley.io.utils import get_file_metadata
from tests.io.helpers import build, module_of

FLOW = module_of(
    """
import pandas as pd

class Poison:
    def __repr__(self) -> str:
        raise RuntimeError("cannot render this value")

    def __str__(self) -> str:
        raise RuntimeError("cannot render this value")

def good() -> dict:
    return {"ok": True}

def half_serializable() -> dict:
    return {"a": list(range(5000)), "z": object()}

def bad_frame() -> pd.DataFrame:
    return pd.DataFrame({"v": ["x"] * 20_000 + [Poison()]})
"""
)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_json_saver_failing_half_way_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    dr = build(FLOW)
    dr.materialize(to.json(id="first", dependencies=["good"], path=str(target)))
    before = target.read_bytes()
    with pytest.raises(TypeError, match="not JSON serializable"):
        dr.materialize(to.json(id="second", dependencies=["half_serializable"], path=str(target)))
    assert target.read_bytes() == before  # json.dump had written part of the list already
    assert _leftovers(tmp_path) == ["out.json"]


def test_csv_saver_failing_half_way_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "frame.csv"
    dr = build(FLOW)
    with pytest.raises(RuntimeError, match="cannot render this value"):
        dr.materialize(
            to.csv(id="saved", dependencies=["bad_frame"], path=str(target), chunksize=1000)
        )
    assert _leftovers(tmp_path) == []


def test_interrupted_writer_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "data.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as temporary:
        Path(temporary).write_text("new, half")
        assert Path(temporary).parent == tmp_path
        assert Path(temporary).name.endswith("-data.txt")  # keeps the extension
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == ["data.txt"]


def test_replacing_keeps_permissions_and_append_starts_from_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "log.csv"
    target.write_text("a\n1\n")
    os.chmod(target, 0o640)
    with atomic_path(target, append=True) as temporary, open(temporary, "a") as f:
        f.write("2\n")
    assert target.read_text() == "a\n1\n2\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    from cayley.io.pandas_adapters import PandasCSVWriter

    PandasCSVWriter(path=str(target), mode="a", header=False).save_data(pd.DataFrame({"a": [3]}))
    assert target.read_text() == "a\n1\n2\n3\n"


def test_non_local_targets_are_written_directly() -> None:
    import io

    buffer = io.BytesIO()
    with atomic_path(buffer) as target:
        assert target is buffer
    with atomic_path("s3://bucket/key") as target:
        assert target == "s3://bucket/key"


def test_partitioned_parquet_replaces_the_directory(tmp_path: Path) -> None:
    target = tmp_path / "dataset"
    frame = pd.DataFrame({"k": ["a", "b"], "v": [1, 2]})
    from cayley.io.pandas_adapters import PandasParquetWriter

    PandasParquetWriter(path=str(target), partition_cols=["k"]).save_data(frame)
    assert sorted(p.name for p in target.iterdir()) == ["k=a", "k=b"]
    PandasParquetWriter(path=str(target), partition_cols=["k"]).save_data(frame.iloc[:1])
    assert sorted(p.name for p in target.iterdir()) == ["k=a"]
    assert _leftovers(tmp_path) == ["dataset"]
    with pytest.raises(RuntimeError), atomic_directory(target) as temporary:
        os.makedirs(temporary)
        raise RuntimeError("failed while writing the partitions")
    assert sorted(p.name for p in target.iterdir()) == ["k=a"]
    assert _leftovers(tmp_path) == ["dataset"]


def test_custom_savers_can_use_atomic_path(tmp_path: Path) -> None:
    @dataclasses.dataclass
    class HalfWriter(DataSaver):
        path: str

        @classmethod
        def applicable_types(cls) -> Collection[type]:
            return [dict]

        @classmethod
        def name(cls) -> str:
            return "halfway_json"

        def save_data(self, data: Any) -> dict[str, Any]:
            with atomic_path(self.path) as temporary, open(temporary, "w") as f:
                f.write('{"partial": ')
                if data.get("fail"):
                    raise OSError("disk full")
                f.write(json.dumps(data) + "}")
            return get_file_metadata(self.path)

    registry.register_adapter(HalfWriter)
    try:
        module = module_of(
            "def ok() -> dict:\n    return {'a': 1}\n\ndef bad() -> dict:\n    return {'fail': 1}\n"
        )
        target = tmp_path / "h.json"
        dr = build(module)
        dr.materialize(to.halfway_json(id="s", dependencies=["ok"], path=str(target)))
        with pytest.raises(OSError, match="disk full"):
            dr.materialize(to.halfway_json(id="s", dependencies=["bad"], path=str(target)))
        assert json.loads(target.read_text()) == {"partial": {"a": 1}}
        assert _leftovers(tmp_path) == ["h.json"]
    finally:
        registry.SAVER_REGISTRY["halfway_json"].remove(HalfWriter)
