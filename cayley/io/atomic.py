"""Atomic writes: a save either fully replaces the file at its path or leaves it untouched.

:func:`atomic_path` hands the writer a temporary path in the target's own directory and, once
the writer returns, renames it onto the target with :func:`os.replace` (atomic on POSIX and
Windows when both paths are on one file system). If the writer raises, or the process is
interrupted, the temporary file is removed and any previous file at the target is intact; no
reader ever sees a truncated file. The temporary name ends with the target's own name, so
libraries that infer a format or compression from the extension (``.csv.gz``, ``.xlsx``)
behave as they would with the target.

Paths with a scheme (``s3://...``) and file objects cannot be renamed into place: they are
written directly.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from types import TracebackType
from typing import Any

__all__ = ["atomic_directory", "atomic_path", "is_local_path"]

_PREFIX = ".~tmp-"
#: Random per process, so processes on different hosts sharing a folder cannot collide.
_PROCESS_TOKEN = secrets.token_hex(4)
_counter = itertools.count()


def is_local_path(path: Any) -> bool:
    """Whether ``path`` names a local file (a str or path-like without a ``scheme://``)."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    return isinstance(path, str) and "://" not in path


def _temporary_sibling(target: str) -> str:
    directory, base = os.path.split(target)
    unique = f"{_PROCESS_TOKEN}{os.getpid():x}-{next(_counter)}"
    return os.path.join(directory, f"{_PREFIX}{unique}-{base}")


def _local_text(path: Any) -> str | None:
    """``path`` as text if it names a local file, else None."""
    if type(path) is not str:
        if not is_local_path(path):
            return None
        return os.fspath(path)
    return None if "://" in path else path


def _discard(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass


class atomic_path:  # lower case: used like a function, ``with atomic_path(path) as target``
    """Yields where to write instead of ``path``; moves it onto ``path`` on success.

    With ``append=True`` (writers that add to an existing file, such as ``mode="a"``) the
    temporary file starts as a copy of the current one. The file keeps the permissions of
    the file it replaces. Non-local targets are yielded unchanged.

    A class rather than a generator-based context manager: savers of small values enter
    one on every save, and this costs a fraction of a generator's set-up and tear-down.
    """

    __slots__ = ("_append", "_path", "_target", "_temporary")

    def __init__(self, path: Any, *, append: bool = False) -> None:
        self._path = path
        self._append = append
        self._target: str | None = None
        self._temporary: str | None = None

    def __enter__(self) -> Any:
        target = _local_text(self._path)
        if target is None:
            return self._path
        temporary = _temporary_sibling(target)
        if self._append and os.path.exists(target):
            try:
                shutil.copy2(target, temporary)
            except BaseException:
                _discard(temporary)
                raise
        self._target, self._temporary = target, temporary
        return temporary

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        target, temporary = self._target, self._temporary
        if target is None or temporary is None:
            return
        self._target = self._temporary = None
        if exc_type is not None:
            _discard(temporary)
            return
        try:
            try:
                mode = stat.S_IMODE(os.stat(target).st_mode)
            except OSError:
                pass  # nothing replaced: the new file keeps the default permissions
            else:
                os.chmod(temporary, mode)
            os.replace(temporary, target)
        except BaseException:
            _discard(temporary)
            raise


@contextlib.contextmanager
def atomic_directory(path: Any) -> Iterator[Any]:
    """Like :func:`atomic_path` for writers that produce a directory (partitioned datasets).

    The new directory is built beside the target; on success the old one (if any) is moved
    aside, the new one renamed into place, and the old one deleted. A failure leaves the old
    directory as it was.
    """
    target = _local_text(path)
    if target is None:
        yield path
        return
    temporary = _temporary_sibling(target)
    try:
        yield temporary
    except BaseException:
        _discard(temporary)
        raise
    if not os.path.exists(target):
        os.replace(temporary, target)
        return
    previous = _temporary_sibling(target)
    os.replace(target, previous)
    try:
        os.replace(temporary, target)
    except BaseException:
        os.replace(previous, target)
        _discard(temporary)
        raise
    _discard(previous)
