"""Choosing each node's caching behaviour from the builder's settings and ``@cache`` tags.

The most specific setting wins: a node named in ``with_cache(default=/recompute=/disable=/
ignore=[...])``, then a list given as ``True`` (every node), then the node's
``@cache(behavior=...)`` tag, then ``default_loader_behavior`` / ``default_saver_behavior``
for data loaders and savers, then ``default_behavior``. Builder settings therefore beat
tags, as in Hamilton.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cayley.caching.events import CachingBehavior

__all__ = ["BehaviorSettings", "NodeSelection"]

#: Node names, or True for every node.
NodeSelection = Literal[True] | Collection[str] | None

BEHAVIOR_TAG = "cache.behavior"
FORMAT_TAG = "cache.format"
LOADER_TAG = "hamilton.data_loader"
LOADER_NODE_TAG = "hamilton.data_loader.node"
READS_TAG = "hamilton.data_loader.has_metadata"  # the loader node that reads the source
SAVER_TAG = "hamilton.data_saver"


def _as_behavior(value: str | CachingBehavior | None, what: str) -> CachingBehavior | None:
    if value is None or isinstance(value, CachingBehavior):
        return value
    try:
        return CachingBehavior.from_string(value)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


@dataclass
class BehaviorSettings:
    """The builder's caching settings, checked once; behaviours are memoised per node."""

    default: NodeSelection = None
    recompute: NodeSelection = None
    ignore: NodeSelection = None
    disable: NodeSelection = None
    default_behavior: str | CachingBehavior | None = None
    default_loader_behavior: str | CachingBehavior | None = None
    default_saver_behavior: str | CachingBehavior | None = None

    def __post_init__(self) -> None:
        everything = [n for n, v in self._selections().items() if v is True]
        if len(everything) > 1:
            raise ValueError(
                f"with_cache: only one of default/recompute/ignore/disable may be True (every "
                f"node); got True for {everything}. Pass lists of node names instead."
            )
        seen: dict[str, str] = {}
        for option, selection in self._selections().items():
            if selection is None or selection is True:
                continue
            if isinstance(selection, str):
                raise TypeError(
                    f"with_cache({option}=...) takes a list of node names or True, got the "
                    f"string {selection!r}; write {option}=[{selection!r}]."
                )
            for name in selection:
                if name in seen:
                    raise ValueError(
                        f"with_cache: node {name!r} is listed under both {seen[name]!r} and "
                        f"{option!r}; give each node one behavior."
                    )
                seen[name] = option
        self._base = (
            _as_behavior(self.default_behavior, "with_cache(default_behavior=...)")
            or CachingBehavior.DEFAULT
        )
        self._loader = (
            _as_behavior(self.default_loader_behavior, "with_cache(default_loader_behavior=...)")
            or self._base
        )
        self._saver = (
            _as_behavior(self.default_saver_behavior, "with_cache(default_saver_behavior=...)")
            or self._base
        )
        self._memo: dict[str, CachingBehavior] = {}

    def _selections(self) -> dict[str, NodeSelection]:
        return {
            "default": self.default,
            "recompute": self.recompute,
            "ignore": self.ignore,
            "disable": self.disable,
        }

    def named(self) -> set[str]:
        """Every node name the lists mention."""
        names: set[str] = set()
        for selection in self._selections().values():
            if selection is not None and selection is not True:
                names.update(selection)
        return names

    def resolve(self, name: str, tags: Mapping[str, Any]) -> CachingBehavior:
        """The behaviour of the node ``name`` with ``tags`` (memoised: tags of a node named
        ``name`` do not change while the settings live)."""
        found = self._memo.get(name)
        if found is None:
            found = self._memo[name] = self._resolve(name, tags)
        return found

    def forget(self) -> None:
        """Drops memoised behaviours (the graph was rebuilt)."""
        self._memo.clear()

    def _resolve(self, name: str, tags: Mapping[str, Any]) -> CachingBehavior:
        label = tags.get(LOADER_NODE_TAG) if tags.get(LOADER_TAG) else None
        if label is not None and label != name:
            # a loader's nodes answer to the name of what they load (as in Hamilton)
            for option, selection in self._selections().items():
                if selection is not None and selection is not True and label in selection:
                    return CachingBehavior[option.upper()]
        everything = None
        for option, selection in self._selections().items():
            if selection is True:
                everything = CachingBehavior[option.upper()]
            elif selection is not None and name in selection:
                return CachingBehavior[option.upper()]
        if everything is not None:
            return everything
        tagged = tags.get(BEHAVIOR_TAG)
        if tagged is not None:
            return _as_behavior(tagged, f"@cache(behavior=...) on node {name!r}")  # type: ignore[return-value]
        if tags.get(LOADER_TAG):
            return self._loader
        if tags.get(SAVER_TAG):
            return self._saver
        return self._base
