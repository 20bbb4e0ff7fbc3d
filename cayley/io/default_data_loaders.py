"""Formats that need only the standard library: json, pickle, file, environment, literal, memory.

Every saver writes atomically (see :mod:`cayley.io.atomic`).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import pickle
from collections.abc import Collection
from typing import Any

from cayley.io.atomic import atomic_path
from cayley.io.data_adapters import DataLoader, DataSaver
from cayley.io.freshness import file_token
from cayley.io.utils import get_file_metadata

__all__ = [
    "EnvVarDataLoader",
    "InMemoryResult",
    "JSONDataLoader",
    "JSONDataSaver",
    "LiteralValueDataLoader",
    "PickleLoader",
    "PickleSaver",
    "RawFileDataLoader",
    "RawFileDataLoaderBytes",
    "RawFileDataSaver",
    "RawFileDataSaverBytes",
]

PathType = str | os.PathLike


class FileLoader(DataLoader):
    """A loader reading the local file (or directory) named by its ``path`` field."""

    path: PathType

    def source_token(self) -> str | None:
        """Path, size and modification time of the file read."""
        return file_token(self.path)


@dataclasses.dataclass
class JSONDataLoader(FileLoader):
    """``json``: a dict or list read with :func:`json.load`."""

    path: PathType

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [dict, list]

    @classmethod
    def name(cls) -> str:
        return "json"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        with open(self.path, encoding="utf-8") as f:
            data = json.load(f)
        return data, get_file_metadata(self.path)


@dataclasses.dataclass
class JSONDataSaver(DataSaver):
    """``json``: a dict or list written with :func:`json.dump`."""

    path: PathType

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [dict, list]

    @classmethod
    def name(cls) -> str:
        return "json"

    def save_data(self, data: Any) -> dict[str, Any]:
        with atomic_path(self.path) as target, open(target, "w", encoding="utf-8") as f:
            json.dump(data, f)
        return get_file_metadata(self.path)


@dataclasses.dataclass
class PickleLoader(FileLoader):
    """``pickle``: any object read with :func:`pickle.load`."""

    path: PathType

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [object, Any]  # type: ignore[list-item]

    @classmethod
    def name(cls) -> str:
        return "pickle"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        with open(self.path, "rb") as f:
            data = pickle.load(f)
        return data, get_file_metadata(self.path)


@dataclasses.dataclass
class PickleSaver(DataSaver):
    """``pickle``: any object written with :func:`pickle.dump`."""

    path: PathType

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [object]

    @classmethod
    def name(cls) -> str:
        return "pickle"

    def save_data(self, data: Any) -> dict[str, Any]:
        with atomic_path(self.path) as target, open(target, "wb") as f:
            pickle.dump(data, f)
        return get_file_metadata(self.path)


@dataclasses.dataclass
class RawFileDataLoader(FileLoader):
    """``file``: a file's text."""

    path: PathType
    encoding: str = "utf-8"

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [str]

    @classmethod
    def name(cls) -> str:
        return "file"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        with open(self.path, encoding=self.encoding) as f:
            data = f.read()
        return data, get_file_metadata(self.path)


@dataclasses.dataclass
class RawFileDataLoaderBytes(FileLoader):
    """``file``: a file's bytes."""

    path: PathType

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [bytes]

    @classmethod
    def name(cls) -> str:
        return "file"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        with open(self.path, "rb") as f:
            data = f.read()
        return data, get_file_metadata(self.path)


@dataclasses.dataclass
class RawFileDataSaver(DataSaver):
    """``file``: text written as is."""

    path: PathType
    encoding: str = "utf-8"

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [str]

    @classmethod
    def name(cls) -> str:
        return "file"

    def save_data(self, data: Any) -> dict[str, Any]:
        with (
            atomic_path(self.path) as target,
            open(target, "w", encoding=self.encoding) as f,
        ):
            f.write(data)
        return get_file_metadata(self.path)


@dataclasses.dataclass
class RawFileDataSaverBytes(DataSaver):
    """``file``: bytes (or the contents of a :class:`io.BytesIO`) written as is."""

    path: PathType

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [bytes, io.BytesIO]

    @classmethod
    def name(cls) -> str:
        return "file"

    def save_data(self, data: Any) -> dict[str, Any]:
        payload = data.getvalue() if isinstance(data, io.BytesIO) else data
        with atomic_path(self.path) as target, open(target, "wb") as f:
            f.write(payload)
        return get_file_metadata(self.path)


@dataclasses.dataclass
class EnvVarDataLoader(DataLoader):
    """``environment``: a dict of the named environment variables."""

    names: tuple[str, ...]

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [dict]

    @classmethod
    def name(cls) -> str:
        return "environment"

    def _names(self) -> tuple[str, ...]:
        return (self.names,) if isinstance(self.names, str) else tuple(self.names)

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        names = self._names()
        missing = [n for n in names if n not in os.environ]
        if missing:
            raise KeyError(
                f"Environment variable(s) {missing} are not set; load_from.environment needs "
                f"all of {list(names)}."
            )
        return {n: os.environ[n] for n in names}, {}

    def source_token(self) -> str | None:
        """The variables' current values (unset ones marked as such)."""
        values = [(n, os.environ.get(n)) for n in self._names()]
        return "env:" + json.dumps(values)


@dataclasses.dataclass
class LiteralValueDataLoader(DataLoader):
    """``literal``: the ``value`` argument itself."""

    value: Any

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [Any]  # type: ignore[list-item]

    @classmethod
    def name(cls) -> str:
        return "literal"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        return self.value, {}


@dataclasses.dataclass
class InMemoryResult(DataSaver):
    """``memory``: keeps the value; the "metadata" ``materialize`` returns is the value itself."""

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [Any]  # type: ignore[list-item]

    @classmethod
    def name(cls) -> str:
        return "memory"

    def save_data(self, data: Any) -> Any:
        return data
