"""``@retry``: run a node again when it raises, up to a number of attempts.

The decorator replaces the function of each of its nodes with a :class:`RetryingCall`, which
holds the original function and a :class:`RetryPolicy`. The engine finds it when it compiles
a plan: without lifecycle hooks the node simply calls it (the retries happen inside), with
hooks the engine runs every attempt through the hooks, so each attempt is observed. Nodes
without ``@retry`` are compiled exactly as before and pay nothing.

Retries happen where the node runs (the driver's thread, a thread, a worker process, a Ray
or Dask worker), once per fan-out item for nodes inside a ``Parallelizable`` block.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cayley._compat import add_note
from cayley.function_modifiers import base
from cayley.node import Node

__all__ = ["RetryPolicy", "RetryingCall", "retry"]

_SUMMARY_LIMIT = 200


def _summary(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 3] + "..."


def _names(types: tuple[type[BaseException], ...]) -> str:
    names = [t.__name__ for t in types]
    return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a node runs at most, on which errors it runs again, and how long it waits.

    Attributes:
        attempts: runs in total, the first one included (1 means no retry).
        on: the exception types that cause another attempt.
        backoff_seconds: the wait before the second attempt; it doubles before each
            further attempt (0 runs again at once).
    """

    attempts: int
    on: tuple[type[Exception], ...]
    backoff_seconds: float

    def __str__(self) -> str:
        return (
            f"retry(attempts={self.attempts}, on={_names(self.on)}, "
            f"backoff_seconds={self.backoff_seconds})"
        )

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (counted from 1)."""
        return self.backoff_seconds * 2 ** (attempt - 1)

    def next_delay(self, exc: BaseException, failures: list[str]) -> float | None:
        """Records a failed attempt; the seconds to wait before the next one, or None.

        ``failures`` holds the summaries of the attempts so far, one per call. None means
        give up: after more than one attempt, a note listing them is added to ``exc``.
        """
        failures.append(_summary(exc))
        attempt = len(failures)
        if isinstance(exc, self.on) and attempt < self.attempts:
            return self.delay_after(attempt)
        if attempt > 1:
            listed = "; ".join(f"attempt {i}: {text}" for i, text in enumerate(failures, 1))
            if isinstance(exc, self.on):
                head = f"all {attempt} attempts failed ({self})"
            else:
                head = f"attempt {attempt} raised {type(exc).__name__}, which {self} does not retry"
            add_note(exc, f"{head}: {listed}")
        return None

    def run(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        """``fn(**kwargs)``, run again as the policy says; the last error propagates."""
        failures: list[str] = []
        while True:
            try:
                return fn(**kwargs)
            except Exception as exc:
                delay = self.next_delay(exc, failures)
                if delay is None:
                    raise
            if delay:
                time.sleep(delay)

    async def run_async(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        """:meth:`run` for a coroutine function (the waits do not block the event loop)."""
        import asyncio

        failures: list[str] = []
        while True:
            try:
                return await fn(**kwargs)
            except Exception as exc:
                delay = self.next_delay(exc, failures)
                if delay is None:
                    raise
            if delay:
                await asyncio.sleep(delay)


class RetryingCall:
    """A node function run under a :class:`RetryPolicy`; the function of a ``@retry`` node.

    ``fn`` is the original function and ``policy`` the policy. Calling it runs ``fn`` with
    the policy's retries; the engine reads both to run each attempt through the hooks.
    """

    def __init__(self, fn: Callable[..., Any], policy: RetryPolicy) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.policy = policy
        self.is_async = inspect.iscoroutinefunction(fn)

    def __call__(self, **kwargs: Any) -> Any:
        if self.is_async:
            return self.policy.run_async(self.fn, kwargs)
        return self.policy.run(self.fn, kwargs)

    def __repr__(self) -> str:
        return f"<{self.policy} of {getattr(self.fn, '__qualname__', self.fn)!r}>"


def _check_on(on: Any) -> tuple[type[Exception], ...]:
    types = on if isinstance(on, tuple) else (on,)
    bad = [t for t in types if not (isinstance(t, type) and issubclass(t, Exception))]
    if not types or bad:
        shown = ", ".join(repr(t) for t in bad) if bad else "an empty tuple"
        raise base.InvalidDecoratorException(
            f"@retry(on=...) takes an exception class or a tuple of them (subclasses of "
            f"Exception), got {shown}. For example: @retry(on=(ConnectionError, TimeoutError))."
        )
    return types


class retry(base.NodeDecorator):
    """Run the function's nodes again when they raise, up to ``attempts`` runs in total.

    Args:
        attempts: runs in total, the first included; at least 1.
        on: an exception class, or a tuple of them: only these errors cause another
            attempt (``KeyboardInterrupt`` and other non-``Exception`` errors never do).
        backoff_seconds: the wait before the second attempt, doubled before each further
            one; 0 (the default) runs again at once.
        target_: which of the function's nodes retry; all of them by default.

    When every attempt fails, the last error propagates with a note listing each attempt's
    error. Node hooks see every attempt. Inside a ``Parallelizable`` block each item
    retries on its own.

    .. code-block:: python

        @retry(attempts=3, on=ConnectionError, backoff_seconds=0.5)
        def page(url: str) -> str:
            return fetch(url)
    """

    def __init__(
        self,
        attempts: int = 3,
        on: type[Exception] | tuple[type[Exception], ...] = Exception,
        backoff_seconds: float = 0.0,
        *,
        target_: base.TargetType = ...,
    ) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, numbers.Integral):
            raise base.InvalidDecoratorException(
                f"@retry(attempts=...) must be a whole number of runs (1 or more), got "
                f"{attempts!r} ({type(attempts).__name__})."
            )
        if attempts < 1:
            raise base.InvalidDecoratorException(
                f"@retry(attempts=...) counts runs in total, the first included: it must be at "
                f"least 1, got {attempts}."
            )
        if (
            isinstance(backoff_seconds, bool)
            or not isinstance(backoff_seconds, numbers.Real)
            or not math.isfinite(backoff_seconds)
            or backoff_seconds < 0
        ):
            raise base.InvalidDecoratorException(
                f"@retry(backoff_seconds=...) must be a finite number of seconds, 0 or more, got "
                f"{backoff_seconds!r}."
            )
        super().__init__(target=target_)
        self.policy = RetryPolicy(int(attempts), _check_on(on), float(backoff_seconds))

    @classmethod
    def allows_multiple(cls) -> bool:
        """One ``@retry`` per function: two would multiply the attempts."""
        return False

    def validate_node(self, node_: Node) -> None:
        """Rejects a node that already retries (``@retry`` reached it twice)."""
        if isinstance(node_.callable, RetryingCall):
            raise base.InvalidDecoratorException(
                f"node {node_.name!r} already has {node_.callable.policy}; use one @retry."
            )

    def decorate_node(self, node_: Node) -> Node:
        """The node with its function run under the policy."""
        return node_.copy_with(callabl=RetryingCall(node_.callable, self.policy))

    def validate(self, fn: Callable[..., Any]) -> None:
        """Nothing to check beyond the arguments (checked when the decorator is made)."""
