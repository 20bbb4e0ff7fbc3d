"""``npy``: numpy arrays, read with ``numpy.load`` and written with ``numpy.save``.

Needs numpy (``pip install "cayley[io]"``), imported when the format is used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any, ClassVar

from cayley.io.atomic import atomic_path
from cayley.io.data_adapters import DataSaver
from cayley.io.default_data_loaders import FileLoader, PathType
from cayley.io.libraries import library_kwargs, require
from cayley.io.utils import get_file_metadata

__all__ = ["NumpyNpyReader", "NumpyNpyWriter"]


class _Arrays:
    library: ClassVar[str | None] = "numpy"

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [require("numpy", "npy").ndarray]


@dataclasses.dataclass
class NumpyNpyReader(_Arrays, FileLoader):
    """``npy`` → ``numpy.ndarray``."""

    path: PathType
    mmap_mode: str | None = None
    allow_pickle: bool | None = None
    fix_imports: bool | None = None
    encoding: str = "ASCII"

    @classmethod
    def name(cls) -> str:
        return "npy"

    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        np = require("numpy", self.name())
        data = np.load(self.path, **library_kwargs(self, np.load, exclude={"path"}))
        return data, get_file_metadata(self.path)


@dataclasses.dataclass
class NumpyNpyWriter(_Arrays, DataSaver):
    """``numpy.ndarray`` → ``npy`` (the path is used as given: no ``.npy`` is appended)."""

    path: PathType
    allow_pickle: bool | None = None
    fix_imports: bool | None = None

    @classmethod
    def name(cls) -> str:
        return "npy"

    def save_data(self, data: Any) -> dict[str, Any]:
        np = require("numpy", self.name())
        kwargs = library_kwargs(self, np.save, exclude={"path"})
        with atomic_path(self.path) as target, open(target, "wb") as f:
            np.save(f, data, **kwargs)
        return get_file_metadata(self.path)


ADAPTERS: tuple[type, ...] = (NumpyNpyReader, NumpyNpyWriter)
