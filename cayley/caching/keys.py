"""Cache keys: what identifies a node's result across runs.

A node's key is made from its name, its code version and the data versions of the
arguments it receives (a parameter left to its default is keyed like the same value
passed); a node reading outside data adds a token of that data's freshness. A node whose
code or arguments cannot be fingerprinted has no key, and the reason is given instead.
"""

from __future__ import annotations

from typing import Any

from cayley.caching.fingerprinting import UnfingerprintableError
from cayley.caching.hashing import digest
from cayley.caching.runstate import NodeInfo
from cayley.caching.values import CachedResult, VersionMemo

__all__ = ["cache_key"]

_ABSENT = object()


def cache_key(
    info: NodeInfo, node_: Any, kwargs: dict, memo: VersionMemo
) -> tuple[str | None, str]:
    """The node's cache key, or None and the reason it cannot have one.

    ``memo`` gives the data versions of the arguments (remembering those already seen).
    """
    if info.code_version is None:
        return None, f"its code cannot be versioned: {info.code_error}"
    parts = [info.name, info.code_version]
    append = parts.append
    version_of = memo.version_of
    for param, collected, default in info.keyed:
        value = kwargs.get(param, _ABSENT)
        if value is _ABSENT:  # the default applies: keyed like the same value passed
            if default is not None:
                append(param)
                append(default)
            continue
        if value.__class__ is CachedResult:  # an upstream hit: its version is at hand
            append(param)
            append(value.data_version)
            continue
        try:
            version = memo.collected_version(value) if collected else version_of(value)
        except UnfingerprintableError as exc:
            return None, f"argument {param!r} cannot be fingerprinted: {exc}"
        append(param)
        append(version)
    if info.loader:
        from cayley.io.freshness import source_token

        token = source_token(node_, kwargs)
        if token is None:
            return None, (
                "it reads data whose changes cannot be detected (not a local file): it runs "
                "every time, and what depends on it hits when it loads equal data"
            )
        parts.append(token)
    return digest("\x00".join(parts).encode()), ""
