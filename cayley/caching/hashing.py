"""The digest every cache fingerprint is made of.

``xxhash``'s 128-bit XXH3 (the ``cayley[cache]`` extra) hashes several GB/s; without it the
standard library's BLAKE2b is used, which is correct but several times slower. The two give
different digests, so switching between them makes the cache miss once, never return a
stale value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Hasher", "ALGORITHM", "digest", "new_hasher"]


class Hasher(Protocol):
    """What a running hash offers (``hashlib`` and ``xxhash`` objects both do)."""

    def update(self, data: Any) -> None:
        """Adds bytes (or any buffer)."""

    def hexdigest(self) -> str:
        """The digest so far, as hex."""


def _blake2b() -> Hasher:
    return hashlib.blake2b(digest_size=16)


def _blake2b_digest(data: Any) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


try:
    import xxhash

    new_hasher: Callable[[], Hasher] = xxhash.xxh3_128
    digest: Callable[[Any], str] = xxhash.xxh3_128_hexdigest
    #: The name of the digest in use (cache keys never mix two algorithms).
    ALGORITHM = "xxh3_128"
except ImportError:  # pragma: no cover - exercised when the extra is missing
    new_hasher = _blake2b
    digest = _blake2b_digest
    ALGORITHM = "blake2b_128"
