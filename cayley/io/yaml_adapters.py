"""``yaml``: scalars, lists and dicts, read with ``yaml.safe_load`` and written with ``yaml.dump``.

Needs pyyaml (``pip install "cayley[io]"``), imported when the format is used. Loading is
safe: tags that would build arbitrary Python objects are refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

from cayley.io.atomic import atomic_path
from cayley.io.data_adapters import DataSaver
from cayley.io.default_data_loaders import FileLoader, PathType
from cayley.io.libraries import require
from cayley.io.utils import get_file_metadata

__all__ = ["YAMLDataLoader", "YAMLDataSaver"]

_YAML_TYPES = [str, int, float, bool, dict, list]


@dataclasses.dataclass
class YAMLDataLoader(FileLoader):
    """``yaml`` → a str, int, float, bool, dict or list."""

    path: PathType

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return list(_YAML_TYPES)

    @classmethod
    def name(cls) -> str:
        return "yaml"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        yaml = require("yaml", self.name())
        with open(self.path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
        return data, get_file_metadata(self.path)


@dataclasses.dataclass
class YAMLDataSaver(DataSaver):
    """A str, int, float, bool, dict or list → ``yaml``."""

    path: PathType

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return list(_YAML_TYPES)

    @classmethod
    def name(cls) -> str:
        return "yaml"

    def save_data(self, data: Any) -> dict[str, Any]:
        yaml = require("yaml", self.name())
        with atomic_path(self.path) as target, open(target, "w", encoding="utf-8") as f:
            yaml.dump(data, f)
        return get_file_metadata(self.path)


ADAPTERS: tuple[type, ...] = (YAMLDataLoader, YAMLDataSaver)
