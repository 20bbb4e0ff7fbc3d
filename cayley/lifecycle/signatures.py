"""Fitting adapter implementations to hook points, once, when adapters are registered.

Two jobs: telling ``async def`` implementations from synchronous ones, and calling a hook
written against Hamilton's narrower contract without the extra keywords cayley passes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["accepts_keyword", "split_sync_async", "without_unknown_keywords"]


def accepts_keyword(fn: Callable[..., Any], keyword: str) -> bool:
    """Whether ``fn`` can be called with ``keyword=...`` (named, or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == keyword or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


class _WithoutKeywords:
    """A hook called without the keywords its signature does not take."""

    def __init__(self, hook: Callable[..., Any], dropped: frozenset[str]) -> None:
        self.hook = hook
        self.dropped = dropped
        # what error notes use to name the adapter and its method
        self.__self__ = getattr(hook, "__self__", None)
        self.__name__ = getattr(hook, "__name__", repr(hook))

    def __call__(self, **kwargs: Any) -> Any:
        return self.hook(**{k: v for k, v in kwargs.items() if k not in self.dropped})


def without_unknown_keywords(
    hook: Callable[..., Any], keywords: frozenset[str]
) -> Callable[..., Any]:
    """``hook`` itself, or a wrapper dropping those of ``keywords`` it cannot take."""
    dropped = frozenset(k for k in keywords if not accepts_keyword(hook, k))
    return _WithoutKeywords(hook, dropped) if dropped else hook


def split_sync_async(
    adapters: Sequence[Any], name: str, sync_base: type | None, async_base: type | None
) -> tuple[list[Any], list[Any]]:
    """Adapters implementing ``name``, split into (synchronous, ``async def``) ones.

    An adapter of ``async_base`` is async; one of ``sync_base`` is async when its method is a
    coroutine function.
    """
    sync: list[Any] = []
    asynchronous: list[Any] = []
    for adapter in adapters:
        is_sync = sync_base is not None and isinstance(adapter, sync_base)
        is_async = async_base is not None and isinstance(adapter, async_base)
        if not (is_sync or is_async):
            continue
        if is_async or inspect.iscoroutinefunction(getattr(adapter, name)):
            asynchronous.append(adapter)
        else:
            sync.append(adapter)
    return sync, asynchronous
