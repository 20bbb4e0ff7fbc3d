"""The ETL example (``make demo`` runs it) writes the parquet and json files it announces."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "etl"


def test_etl_example_writes_parquet_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    names = ("run", "dataflow")  # the example's modules, imported by their plain names
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    try:
        import run

        assert run.main(["run.py", str(tmp_path)]) == 0
    finally:
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
    for label in ("threads", "processes"):
        report = pd.read_parquet(tmp_path / label / "report.parquet")
        overview = json.loads((tmp_path / label / "overview.json").read_text())
        assert sorted(report["region"]) == ["east", "north", "south", "west"]
        assert overview["rejected_rows"] == 2  # a row without region, one with negative units
        assert overview["orders"] == int(report["orders"].sum()) == 96
        assert overview["leader"] == report.loc[0, "region"]
        assert abs(overview["revenue"] - report["revenue"].sum()) < 0.01
    assert "threads and processes wrote the same files: True" in capsys.readouterr().out
