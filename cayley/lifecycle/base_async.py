"""Async lifecycle contracts: the ``async def`` twins of the hooks in :mod:`cayley.lifecycle.base`.

Subclass one of these to run a coroutine at that hook point of the async driver
(:mod:`cayley.async_driver`), which awaits it after the synchronous hooks of the same point.
The synchronous :class:`~cayley.driver.Driver` does not call them. A hook of a synchronous
``Base*`` class implemented with ``async def`` counts as async as well.

They are re-exported by :mod:`cayley.lifecycle.base`, where Hamilton users import them from.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "BaseDoNodeExecuteAsync",
    "BasePostGraphConstructAsync",
    "BasePostGraphExecuteAsync",
    "BasePostNodeExecuteAsync",
    "BasePostTaskExecuteAsync",
    "BasePreGraphExecuteAsync",
    "BasePreNodeExecuteAsync",
    "BasePreTaskExecuteAsync",
    "SupportsAsyncInit",
]


class BasePostGraphConstructAsync(abc.ABC):
    """Awaited once by ``AsyncDriver.ainit`` after the graph is built."""

    @abc.abstractmethod
    async def post_graph_construct(
        self, *, graph: Any, modules: Sequence[Any], config: dict
    ) -> None:
        """Runs after graph construction."""


class BasePreGraphExecuteAsync(abc.ABC):
    """Awaited at the start of every async execute."""

    @abc.abstractmethod
    async def pre_graph_execute(
        self, *, run_id: str, graph: Any, final_vars: list[str], inputs: dict, overrides: dict
    ) -> None:
        """Runs before a run starts."""


class BasePreTaskExecuteAsync(abc.ABC):
    """Awaited before a task runs (the async driver runs no tasks; kept for compatibility)."""

    @abc.abstractmethod
    async def pre_task_execute(
        self,
        *,
        run_id: str,
        task_id: str,
        nodes: list,
        inputs: dict,
        overrides: dict,
        spawning_task_id: str | None,
        purpose: Any,
    ) -> None:
        """Runs before a task."""


class BasePreNodeExecuteAsync(abc.ABC):
    """Awaited before each node of an async run, once its inputs are available."""

    @abc.abstractmethod
    async def pre_node_execute(
        self, *, run_id: str, node_: Any, kwargs: dict, task_id: str | None = None
    ) -> None:
        """Runs before a node."""


class BaseDoNodeExecuteAsync(abc.ABC):
    """Replaces how a node is computed in an async run; the result is awaited."""

    @abc.abstractmethod
    async def do_node_execute(
        self, *, run_id: str, node_: Any, kwargs: dict, task_id: str | None = None
    ) -> Any:
        """Computes the node's value."""


class BasePostNodeExecuteAsync(abc.ABC):
    """Awaited after each node of an async run, with its result or error."""

    @abc.abstractmethod
    async def post_node_execute(
        self,
        *,
        run_id: str,
        node_: Any,
        kwargs: dict,
        success: bool,
        error: Exception | None,
        result: Any,
        task_id: str | None = None,
    ) -> None:
        """Runs after a node."""


class BasePostTaskExecuteAsync(abc.ABC):
    """Awaited after a task ran (the async driver runs no tasks; kept for compatibility)."""

    @abc.abstractmethod
    async def post_task_execute(
        self,
        *,
        run_id: str,
        task_id: str,
        nodes: list,
        results: dict | None,
        success: bool,
        error: Exception | None,
        spawning_task_id: str | None,
        purpose: Any,
    ) -> None:
        """Runs after a task."""


class BasePostGraphExecuteAsync(abc.ABC):
    """Awaited at the end of every async execute, successful or not."""

    @abc.abstractmethod
    async def post_graph_execute(
        self,
        *,
        run_id: str,
        graph: Any,
        success: bool,
        error: Exception | None,
        results: dict | None,
    ) -> None:
        """Runs after a run ends."""


@runtime_checkable
class SupportsAsyncInit(Protocol):
    """An adapter with an ``async def ainit()``, awaited once by ``AsyncDriver.ainit``.

    Hamilton's async driver honours this method on any adapter (no base class needed), so
    this protocol is checked structurally.
    """

    async def ainit(self) -> None:
        """Asynchronous set-up, e.g. opening a connection."""


#: Hook point name -> its async contract.
ASYNC_HOOKS: dict[str, type] = {
    "post_graph_construct": BasePostGraphConstructAsync,
    "pre_graph_execute": BasePreGraphExecuteAsync,
    "pre_task_execute": BasePreTaskExecuteAsync,
    "pre_node_execute": BasePreNodeExecuteAsync,
    "post_node_execute": BasePostNodeExecuteAsync,
    "post_task_execute": BasePostTaskExecuteAsync,
    "post_graph_execute": BasePostGraphExecuteAsync,
}
#: Method name -> its async contract.
ASYNC_METHODS: dict[str, type] = {"do_node_execute": BaseDoNodeExecuteAsync}
