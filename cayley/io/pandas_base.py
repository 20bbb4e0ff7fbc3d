"""What the pandas adapters share: the DataFrame type, and calling pandas with their fields.

:class:`PandasReader` reads with ``pandas.<reader>(<path>, **fields)`` and
:class:`PandasWriter` writes with ``DataFrame.<writer>(<temporary path>, **fields)`` before
renaming into place (:mod:`cayley.io.atomic`); fields become arguments as
:func:`cayley.io.libraries.library_kwargs` says. pandas is imported on use.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Collection
from typing import Any, ClassVar

from cayley.io.atomic import atomic_path
from cayley.io.data_adapters import DataLoader, DataSaver
from cayley.io.freshness import file_token
from cayley.io.libraries import library_kwargs, require
from cayley.io.utils import get_file_and_dataframe_metadata

__all__ = ["PandasFrameAdapter", "PandasReader", "PandasWriter", "PathOrBuffer"]

#: What a path field accepts: a local path, a URL pandas understands, or a file object.
PathOrBuffer = str | os.PathLike | io.IOBase


class PandasFrameAdapter:
    """Mixin of adapters of ``pandas.DataFrame`` values; pandas is imported on use."""

    library: ClassVar[str | None] = "pandas"
    #: Field holding the path (or buffer) read or written.
    path_field: ClassVar[str] = "path"

    @classmethod
    def applicable_types(cls) -> Collection[type]:
        return [require("pandas", cls.name()).DataFrame]  # type: ignore[attr-defined]

    def target(self) -> Any:
        """The path (or buffer) read or written; a clear error when it was not given."""
        target = getattr(self, self.path_field)
        if target is None:
            raise ValueError(
                f"{type(self).__name__} needs {self.path_field}=<path>: where to "
                f"{'read' if isinstance(self, DataLoader) else 'write'} the data."
            )
        return target


class PandasReader(PandasFrameAdapter, DataLoader):
    """Reads with ``pandas.<reader>(<path>, **fields)``."""

    def read_with(
        self,
        reader: str,
        rename: dict[str, str] | None = None,
        unless_changed: Collection[str] = (),
    ) -> tuple[Any, dict[str, Any]]:
        """``pandas.<reader>(<path>, **fields)`` and its file and dataframe metadata."""
        pd = require("pandas", self.name())
        fn: Callable[..., Any] = getattr(pd, reader)
        target = self.target()
        kwargs = library_kwargs(
            self, fn, exclude={self.path_field}, rename=rename, unless_changed=unless_changed
        )
        df = fn(target, **kwargs)
        return df, get_file_and_dataframe_metadata(target, df)

    def source_token(self) -> str | None:
        """Path, size and modification time of the file read."""
        return file_token(getattr(self, self.path_field))


class PandasWriter(PandasFrameAdapter, DataSaver):
    """Writes with ``DataFrame.<writer>(<temporary path>, **fields)``, then renames."""

    def write_with(
        self,
        data: Any,
        writer: str,
        *,
        append: bool = False,
        exclude: Collection[str] = (),
        rename: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        unless_changed: Collection[str] = (),
    ) -> dict[str, Any]:
        """``DataFrame.<writer>`` to a temporary path renamed onto the target; the metadata."""
        pd = require("pandas", self.name())
        fn: Callable[..., Any] = getattr(pd.DataFrame, writer)
        target = self.target()
        kwargs = library_kwargs(
            self,
            fn,
            exclude={self.path_field, *exclude},
            rename=rename,
            unless_changed=unless_changed,
        )
        kwargs.update(extra or {})
        with atomic_path(target, append=append) as path:
            fn(data, path, **kwargs)
        return get_file_and_dataframe_metadata(target, data)
