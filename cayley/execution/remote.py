"""Values left on the engine that computed them, and fetching them when needed.

Executors that keep large results on a cluster (``keeps_values_remote``) return
:class:`RemoteValue` handles instead of the values; the scheduler passes them along untouched
to tasks of the same executor and resolves them with :func:`resolve_remote` before they
reach any other executor or the caller.
"""

from __future__ import annotations

import abc
from typing import Any

__all__ = ["RemoteValue", "resolve_remote"]


class RemoteValue(abc.ABC):
    """A result left on the engine that computed it (a Ray object, a Dask future).

    Executors that keep large results on a cluster return these instead of the values;
    the scheduler passes them along untouched to tasks of the same executor (``owner``) and
    resolves them before they reach any other executor or the caller.
    """

    owner: Any = None

    @abc.abstractmethod
    def resolve(self) -> Any:
        """Fetches the value."""

    @classmethod
    def resolve_many(cls, values: list[RemoteValue]) -> list[Any]:
        """Fetches several values of this class and one owner; override to batch the calls."""
        return [value.resolve() for value in values]


def resolve_remote(value: Any, keep: Any = None) -> Any:
    """``value`` with :class:`RemoteValue` objects (top level or in a list) fetched.

    Values owned by ``keep`` (an executor) are left in place: that executor's tasks read
    them where they are. The elements of a list are fetched per owner with one
    :meth:`RemoteValue.resolve_many` call.
    """
    if isinstance(value, RemoteValue):
        return value if keep is not None and value.owner is keep else value.resolve()
    if type(value) is not list:
        return value
    positions: dict[tuple[int, type], list[int]] = {}
    for index, element in enumerate(value):
        if isinstance(element, RemoteValue) and (keep is None or element.owner is not keep):
            positions.setdefault((id(element.owner), type(element)), []).append(index)
    if not positions:
        return value
    resolved = list(value)
    for (_, kind), indices in positions.items():
        fetched = kind.resolve_many([value[i] for i in indices])
        for i, fetched_value in zip(indices, fetched):
            resolved[i] = fetched_value
    return resolved
