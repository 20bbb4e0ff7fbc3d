"""Tokens telling whether the data a loader node reads has changed since last time.

:func:`source_token` takes a loader node (the ``*.load_data.*`` node made by ``@load_from``
or ``from_``) and the keyword arguments it is about to be called with, and returns a string
that changes whenever the data that call would read changes, or ``None`` when that cannot be
known (a database query, a user-defined ``@dataloader`` function, a URL). A cache can key a
loader's result on it: same token, same data.

For files the token is the resolved path, size and modification time in nanoseconds; for a
directory (or a glob pattern) the same over every file below it, hashed. Computing one costs a
``stat`` per file and reads no data.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable, Mapping
from typing import Any

from cayley.io.atomic import is_local_path
from cayley.node import Node

__all__ = ["file_token", "source_token"]

_GLOB_CHARS = frozenset("*?[")


def _stat_line(path: str) -> str | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def _files_below(directory: str) -> Iterable[str]:
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            yield os.path.join(root, name)


def _hashed(kind: str, label: str, lines: Iterable[str]) -> str:
    digest = hashlib.sha256()
    count = 0
    for line in lines:
        digest.update(line.encode("utf-8", "surrogateescape"))
        digest.update(b"\n")
        count += 1
    return f"{kind}:{label}:{count}:{digest.hexdigest()}"


def file_token(path: Any) -> str | None:
    """The freshness token of a local file, directory or glob pattern; ``None`` if unknown.

    ``None`` is returned for non-local paths (URLs, buffers) and for paths that match nothing.
    """
    if not is_local_path(path):
        return None
    resolved = os.path.realpath(os.fspath(path))
    if os.path.isfile(resolved):
        line = _stat_line(resolved)
        return f"file:{line}" if line is not None else None
    if os.path.isdir(resolved):
        lines = (_stat_line(p) or f"{p}:gone" for p in _files_below(resolved))
        return _hashed("dir", resolved, lines)
    text = os.fspath(path)
    if _GLOB_CHARS.intersection(text):
        matches = sorted(os.path.realpath(p) for p in glob.glob(text, recursive=True))
        if matches:
            return _hashed("glob", text, (_stat_line(p) or f"{p}:gone" for p in matches))
    return None


def source_token(node: Node, kwargs: Mapping[str, Any]) -> str | None:
    """The token of the data ``node`` would read when called with ``kwargs``; ``None`` if unknown.

    ``node`` is a loader node of the graph (tagged ``hamilton.data_loader.has_metadata``);
    any other node, and loaders that cannot tell, give ``None``.
    """
    from cayley.io.nodes import LoadCall  # the node factories import this package

    call = node.callable
    if not isinstance(call, LoadCall):
        return None
    try:
        loader = call.loader(kwargs)
    except (TypeError, KeyError):
        return None
    return loader.source_token()
