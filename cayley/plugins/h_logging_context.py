"""Where the current thread (or asyncio task) is in a run, and a logger that says so.

:class:`cayley.plugins.h_logging.LoggingAdapter` sets :data:`current` as runs, tasks and
nodes start and end; :class:`ContextLogger` (from :func:`get_logger`) prefixes messages
with it. Both are re-exported by :mod:`cayley.plugins.h_logging`.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

__all__ = ["NOWHERE", "ContextLogger", "LoggingContext", "current", "get_logger"]

if TYPE_CHECKING:
    _LoggerAdapterBase = logging.LoggerAdapter[logging.Logger]
else:
    _LoggerAdapterBase = logging.LoggerAdapter


@dataclass(frozen=True)
class LoggingContext:
    """Where the current thread is: which run, task and node."""

    graph: str | None = None
    task: str | None = None
    node: str | None = None

    def prefix(self, with_node: bool = True) -> str:
        """The message prefix for this place (the node is left out of task prefixes unless
        ``with_node``)."""
        if self.task:
            if self.node and with_node:
                return f"Task '{self.task}' - Node '{self.node}' - "
            return f"Task '{self.task}' - "
        if self.node:
            return f"Node '{self.node}' - "
        if self.graph:
            return f"Graph run '{self.graph}' - "
        return ""


#: No run: messages get no prefix.
NOWHERE = LoggingContext()
#: Where the current thread or asyncio task is.
current: ContextVar[LoggingContext] = ContextVar("cayley_logging_context", default=NOWHERE)


class ContextLogger(_LoggerAdapterBase):
    """A logger adapter that prefixes messages with the current run, task and node.

    The place is tracked per thread (and per asyncio task) by :class:`LoggingAdapter`. Extra
    keys understood in ``extra=``:

    - ``override_context``: a context to use instead of the current one;
    - ``skip_context``: log the message without a prefix;
    - ``node_context``: inside a task, name the node too.
    """

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        """Adds the prefix to ``msg`` and merges the adapter's extras into the call's."""
        extra = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        kwargs["extra"] = extra
        if "skip_context" in extra:
            return msg, kwargs
        context = extra.get("override_context")
        if not isinstance(context, LoggingContext):
            context = current.get()
        node_too = "node_context" in extra or not context.task
        return f"{context.prefix(with_node=node_too)}{msg}", kwargs


def get_logger(name: str | None = None) -> ContextLogger:
    """A :class:`ContextLogger` over ``logging.getLogger(name)`` (the root logger by default).

    Use it inside node functions so their messages say which run, task and node they come
    from, in the same format as :class:`LoggingAdapter`.
    """
    return ContextLogger(logging.getLogger(name), extra={})
