"""Values as the cache sees them: their data versions, and results not loaded yet.

A cache hit whose value no node needs stays a :class:`CachedResult`: its data version is
known from the metadata store, so the keys of the nodes downstream can be computed without
loading it. It is loaded (once) when a node that runs consumes it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from cayley.caching.fingerprinting import combine, data_version

_EXACT = frozenset({int, float, complex, str, bytes, bool, type(None), tuple})

__all__ = ["CachedResult", "VersionMemo", "with_loaded_results"]


class CachedResult:
    """A stored result standing in for a node's value until someone needs it.

    Attributes:
        node_name: the node it is the value of.
        data_version: the fingerprint of the value.
        run_id: the run that found the hit.
        recompute: ``recompute(cached_result)`` computes the value again if the stored one
            cannot be read, from the ``node``, ``kwargs``, ``cache_key`` and ``task_id`` the
            hit was found with (set only in the process that found the hit; not pickled).
            One callable serves every hit of a run, so a hit costs a single object.
    """

    __slots__ = (
        "node_name",
        "data_version",
        "run_id",
        "recompute",
        "node",
        "kwargs",
        "cache_key",
        "task_id",
        "_value",
        "_loaded",
    )

    def __init__(
        self,
        node_name: str,
        data_version: str,
        run_id: str | None = None,
        recompute: Callable[[CachedResult], Any] | None = None,
        node: Any = None,
        kwargs: dict[str, Any] | None = None,
        cache_key: str | None = None,
        task_id: str | None = None,
    ) -> None:
        self.node_name = node_name
        self.data_version = data_version
        self.run_id = run_id
        self.recompute = recompute
        self.node = node
        self.kwargs = kwargs
        self.cache_key = cache_key
        self.task_id = task_id
        self._value: Any = None
        self._loaded = False

    def load(self, loader: Callable[[CachedResult], Any]) -> Any:
        """The value, read with ``loader`` the first time."""
        if not self._loaded:
            self._value = loader(self)
            self._loaded = True
            self.forget_inputs()
        return self._value

    def forget_inputs(self) -> None:
        """Drops what recomputing needs (the arguments may be large values)."""
        self.recompute = self.node = self.kwargs = None

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "node_name": self.node_name,
            "data_version": self.data_version,
            "run_id": self.run_id,
        }
        if self._loaded:
            state["value"] = self._value
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.node_name = state["node_name"]
        self.data_version = state["data_version"]
        self.run_id = state["run_id"]
        self.forget_inputs()
        self.cache_key = self.task_id = None
        self._loaded = "value" in state
        self._value = state.get("value")

    def __repr__(self) -> str:
        return f"CachedResult({self.node_name!r}, data_version={self.data_version!r})"


def with_loaded_results(
    kwargs: dict[str, Any], load: Callable[[CachedResult], Any]
) -> dict[str, Any]:
    """``kwargs`` with its cached results loaded by ``load`` (also inside fan-in lists).

    ``kwargs`` itself is returned when it holds none.
    """
    resolved = kwargs
    for param, value in kwargs.items():
        if type(value) is CachedResult:
            if resolved is kwargs:
                resolved = dict(kwargs)
            resolved[param] = value.load(load)
        elif type(value) is list and any(type(v) is CachedResult for v in value):
            if resolved is kwargs:
                resolved = dict(kwargs)
            resolved[param] = [v.load(load) if type(v) is CachedResult else v for v in value]
    return resolved


class VersionMemo:
    """Data versions of live values, by identity, for as long as the value lives.

    A value computed once and read by several nodes is fingerprinted once. Only values
    that accept weak references are remembered (arrays, data frames, most objects), so
    the memo never keeps a value alive; others are fingerprinted again when needed.
    """

    def __init__(self) -> None:
        self._versions: dict[int, tuple[weakref.ref[Any], str]] = {}

    def remember(self, value: Any, version: str) -> None:
        """Records ``value``'s version while it is alive."""
        key = id(value)
        versions = self._versions
        try:
            ref = weakref.ref(value, lambda _, key=key: versions.pop(key, None))
        except TypeError:
            return
        versions[key] = (ref, version)

    def version_of(self, value: Any) -> str:
        """The data version of ``value`` (may raise ``UnfingerprintableError``)."""
        kind = type(value)
        if kind is CachedResult:
            return value.data_version
        if kind in _EXACT:  # no weak references to these (short ones are memoised by value)
            return data_version(value)
        found = self._versions.get(id(value))
        if found is not None and found[0]() is value:
            return found[1]
        version = data_version(value)
        self.remember(value, version)
        return version

    def collected_version(self, values: Any) -> str:
        """The version of a fan-in's list, from the versions of its elements."""
        return combine([self.version_of(v) for v in values], "collect")

    def items_version(self, items: Any) -> str:
        """The version of a fan-out's items, from the versions of each item."""
        return combine([self.version_of(i) for i in items], "items")

    def clear(self) -> None:
        """Forgets everything."""
        self._versions.clear()

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._versions = {}
