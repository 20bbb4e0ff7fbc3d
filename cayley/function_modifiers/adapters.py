"""Data loading and saving decorators: ``load_from``, ``save_to``, ``dataloader``, ``datasaver``.

They exist so that dataflows written for Hamilton import cleanly, but cayley does not support
them yet: applying one raises :class:`NotImplementedError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["dataloader", "datasaver", "load_from", "save_to"]


def _unsupported(name: str) -> NotImplementedError:
    return NotImplementedError(
        f"@{name} is not yet supported in cayley: load or save the data in a regular function "
        "(or node) instead."
    )


class _UnsupportedDecorator:
    """Stands in for a data I/O decorator: fails as soon as it is applied."""

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        self._name = name
        self.args = args
        self.kwargs = kwargs

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        raise _unsupported(self._name)


class _AdapterFamily(type):
    """Metaclass turning ``load_from.<kind>(...)`` into an unsupported decorator."""

    def __getattr__(cls, item: str) -> Callable[..., _UnsupportedDecorator]:
        if item.startswith("__"):
            raise AttributeError(item)
        label = f"{cls.__name__}.{item}"

        def make(*args: Any, **kwargs: Any) -> _UnsupportedDecorator:
            return _UnsupportedDecorator(label, *args, **kwargs)

        return make


class load_from(metaclass=_AdapterFamily):
    """``@load_from.<kind>(...)``: not yet supported in cayley."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _unsupported("load_from")


class save_to(metaclass=_AdapterFamily):
    """``@save_to.<kind>(...)``: not yet supported in cayley."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _unsupported("save_to")


class dataloader(_UnsupportedDecorator):
    """``@dataloader()``: not yet supported in cayley."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("dataloader", *args, **kwargs)


class datasaver(_UnsupportedDecorator):
    """``@datasaver()``: not yet supported in cayley."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("datasaver", *args, **kwargs)
