"""``cayley.io.freshness``: tokens that change exactly when the data a loader reads changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from cayley import driver
from cayley.io.freshness import file_token, source_token
from cayley.io.materialization import from_
from tests.io.helpers import build, module_of

LOADERS = module_of(
    """
import pandas as pd
from cayley.function_modifiers import dataloader, load_from, source, value

@load_from.json(path=source("settings_path"))
def settings(data: dict) -> dict:
    return data

@load_from.csv(path=source("table_path"))
def table(df: pd.DataFrame) -> pd.DataFrame:
    return df

@load_from.environment(names=value(("CAYLEY_FRESHNESS_A",)))
def env(data: dict) -> dict:
    return data

@dataloader()
def custom(p: str) -> tuple[dict, dict]:
    return {"p": p}, {}
"""
)


def _bump(path: Path, text: str) -> None:
    """Rewrite ``path`` and move its mtime forward, so coarse clocks still see a change."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 10_000_000, before + 10_000_000))


def test_json_loader_token_follows_the_file(tmp_path: Path) -> None:
    dr = build(LOADERS)
    node = dr.graph.nodes["settings.load_data.data"]
    target = tmp_path / "settings.json"
    _bump(target, json.dumps({"a": 1}))
    kwargs = {"settings_path": str(target)}
    first = source_token(node, kwargs)
    stat = os.stat(target)
    assert first == f"file:{os.path.realpath(target)}:{stat.st_size}:{stat.st_mtime_ns}"
    assert source_token(node, kwargs) == first  # nothing changed: same token
    _bump(target, json.dumps({"a": 2}))
    second = source_token(node, kwargs)
    assert second is not None and second != first
    # a path reached another way (relative, symlink) resolves to the same token
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert source_token(node, {"settings_path": str(link)}) == second


def test_csv_loader_token_and_other_paths(tmp_path: Path) -> None:
    dr = build(LOADERS)
    node = dr.graph.nodes["table.load_data.df"]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame({"x": [1]}).to_csv(a, index=False)
    pd.DataFrame({"x": [1]}).to_csv(b, index=False)
    assert source_token(node, {"table_path": str(a)}) != source_token(node, {"table_path": str(b)})
    assert source_token(node, {"table_path": str(tmp_path / "missing.csv")}) is None


def test_directory_and_glob_tokens_cover_every_file(tmp_path: Path) -> None:
    (tmp_path / "part").mkdir()
    one, two = tmp_path / "part" / "1.txt", tmp_path / "part" / "2.txt"
    _bump(one, "a")
    _bump(two, "b")
    directory = file_token(tmp_path / "part")
    pattern = file_token(str(tmp_path / "part" / "*.txt"))
    assert directory is not None and directory.startswith("dir:")
    assert pattern is not None and pattern.startswith("glob:")
    _bump(two, "bb")
    assert file_token(tmp_path / "part") != directory
    assert file_token(str(tmp_path / "part" / "*.txt")) != pattern
    (tmp_path / "part" / "3.txt").write_text("c")
    assert file_token(tmp_path / "part").split(":")[2] == "3"  # file count is part of it


def test_unknowable_sources_give_none(tmp_path: Path) -> None:
    dr = build(LOADERS)
    assert file_token("s3://bucket/key.csv") is None
    assert source_token(dr.graph.nodes["settings.select_data.data"], {}) is None  # not a loader
    assert source_token(dr.graph.nodes["custom.loader"], {"p": "x"}) is None  # user function
    assert source_token(dr.graph.nodes["custom"], {}) is None
    # a call the loader could not be built from
    assert source_token(dr.graph.nodes["settings.load_data.data"], {}) is None


def test_environment_token_follows_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    node = build(LOADERS).graph.nodes["env.load_data.data"]
    monkeypatch.delenv("CAYLEY_FRESHNESS_A", raising=False)
    unset = source_token(node, {})
    monkeypatch.setenv("CAYLEY_FRESHNESS_A", "1")
    one = source_token(node, {})
    monkeypatch.setenv("CAYLEY_FRESHNESS_A", "2")
    assert len({unset, one, source_token(node, {})}) == 3


def test_from_loader_nodes_have_tokens_too(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    _bump(target, json.dumps({"a": 1}))
    dr = (
        driver.Builder()
        .with_modules(LOADERS)
        .with_materializers(from_.json(target="settings", path=str(target)))
        .build()
    )
    node = dr.graph.nodes["load_data.settings"]
    assert node.tags["hamilton.data_loader.has_metadata"] is True
    assert source_token(node, {}) == file_token(target)
