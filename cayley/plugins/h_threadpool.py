"""Run the nodes of a plain dataflow concurrently on a thread pool.

:class:`FutureAdapter` submits every node to a :class:`~concurrent.futures.ThreadPoolExecutor`
as soon as the engine reaches it and hands a :class:`~concurrent.futures.Future` downstream
instead of the value. A node's thread waits for the futures among its inputs, so independent
branches overlap: three independent nodes that each sleep 0.3 s finish in about 0.3 s. The
requested outputs are waited for when the result is built. Useful for I/O-bound nodes
(network calls, disk, subprocesses) and for code that releases the GIL.

.. code-block:: python

    from cayley import driver
    from cayley.plugins import h_threadpool

    dr = (
        driver.Builder()
        .with_modules(my_dataflow)
        .with_adapters(h_threadpool.FutureAdapter(max_workers=8))
        .build()
    )
    dr.execute(["report"])

The pool lives for one run: it is created when a run starts and shut down when it ends.

Things to know:

- Node hooks of other adapters run on the driver when a node is *submitted*, so their
  ``result`` is the node's future and their timings measure the submission only.
- Under dynamic execution (``Parallelizable``/``Collect``), the task executors provide the
  concurrency: nodes then run directly in the thread of their task.
- Only one adapter may replace node execution or build the result, so this adapter cannot be
  combined with another ``NodeExecutionMethod`` or result builder; pass the builder as
  ``result_builder=`` instead.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from cayley._compat import add_note
from cayley.graph_types import HamiltonGraph
from cayley.lifecycle.api import GraphExecutionHook, NodeExecutionMethod, ResultBuilder

__all__ = ["FutureAdapter"]


def _resolve(value: Any) -> Any:
    """``value`` itself, or the result of the future it is (waiting for nested futures)."""
    while isinstance(value, Future):
        value = value.result()
    return value


def _resolve_collected(value: Any) -> Any:
    """Like :func:`_resolve`, also resolving the futures inside a list of collected values."""
    value = _resolve(value)
    if type(value) is list and any(isinstance(element, Future) for element in value):
        return [_resolve(element) for element in value]
    return value


def _run_node(
    node_name: str, node_callable: Callable[..., Any], node_kwargs: dict[str, Any]
) -> Any:
    """Waits for the node's inputs, then calls the node (on a pool thread)."""
    kwargs = {name: _resolve(value) for name, value in node_kwargs.items()}
    try:
        return node_callable(**kwargs)
    except Exception as exc:
        add_note(exc, f"while computing node {node_name!r} on a FutureAdapter thread")
        raise


class FutureAdapter(NodeExecutionMethod, ResultBuilder, GraphExecutionHook):
    """Runs each node of a plain dataflow on a thread pool, passing futures downstream.

    Args:
        max_workers: the most threads running nodes at once; ``None`` lets
            :class:`~concurrent.futures.ThreadPoolExecutor` choose.
        thread_name_prefix: prefix of the pool's thread names (handy in logs and profilers).
        result_builder: shapes the resolved outputs; without one, ``execute`` returns the dict
            of outputs.

    A node that raises makes ``execute`` raise the same exception (same type and message),
    with a note naming the node. Nodes that do not depend on the failing one may still be
    running when the error surfaces; the run waits for them and cancels the ones that have
    not started before ``execute`` returns.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        thread_name_prefix: str = "",
        result_builder: ResultBuilder | None = None,
    ) -> None:
        self.max_workers = max_workers
        self.thread_name_prefix = thread_name_prefix
        self.result_builder = result_builder
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._active_runs = 0

    @property
    def executor(self) -> ThreadPoolExecutor | None:
        """The pool of the run in progress; ``None`` between runs."""
        return self._pool

    def _current_pool(self) -> ThreadPoolExecutor:
        """The pool of the runs in progress, created if needed."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.max_workers, thread_name_prefix=self.thread_name_prefix
                )
            return self._pool

    def __getstate__(self) -> dict[str, Any]:
        """Pickles the settings only; a copy starts without a pool or runs."""
        state = self.__dict__.copy()
        for transient in ("_lock", "_pool", "_active_runs"):
            state.pop(transient, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restores the settings with a fresh lock and no pool."""
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._pool = None
        self._active_runs = 0

    # ---- GraphExecutionHook ---------------------------------------------------------------
    def run_before_graph_execution(
        self,
        *,
        graph: HamiltonGraph,
        final_vars: list[str],
        inputs: dict[str, Any],
        overrides: dict[str, Any],
        execution_path: Collection[str],
        run_id: str,
        **future_kwargs: Any,
    ) -> None:
        """Counts the run in (the pool itself is created with the first node)."""
        with self._lock:
            self._active_runs += 1

    def run_after_graph_execution(
        self,
        *,
        graph: HamiltonGraph,
        success: bool,
        error: Exception | None,
        results: dict[str, Any] | None,
        run_id: str,
        **future_kwargs: Any,
    ) -> None:
        """Shuts the pool down when no run uses it any more.

        Waits for the nodes already running; after a failure, nodes that have not started
        are cancelled.
        """
        with self._lock:
            self._active_runs = max(0, self._active_runs - 1)
            if self._active_runs:
                return
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=not success)

    # ---- NodeExecutionMethod --------------------------------------------------------------
    def run_to_execute_node(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_callable: Callable[..., Any],
        node_kwargs: dict[str, Any],
        task_id: str | None,
        is_expand: bool,
        is_collect: bool,
        **future_kwargs: Any,
    ) -> Any:
        """Submits the node to the pool and returns its future.

        Nodes of tasks (dynamic execution) and the nodes producing or collecting the items
        of a ``Parallelizable`` run right away in the calling thread, with their inputs
        resolved, since the engine needs their actual values.
        """
        if task_id is not None or is_expand or is_collect:
            kwargs = {name: _resolve_collected(value) for name, value in node_kwargs.items()}
            return node_callable(**kwargs)
        # The node runs in the caller's context (context variables set by hooks included).
        return self._current_pool().submit(
            contextvars.copy_context().run, _run_node, node_name, node_callable, node_kwargs
        )

    # ---- ResultBuilder --------------------------------------------------------------------
    def build_result(self, **outputs: Any) -> Any:
        """Waits for every output, then builds the result.

        Raises the exception of the first failed output, as it was raised by its node.
        """
        resolved = {name: _resolve(value) for name, value in outputs.items()}
        if self.result_builder is not None:
            return self.result_builder.build_result(**resolved)
        return resolved

    def input_types(self) -> list[type]:
        """Any value: the wrapped builder, if any, sees the resolved outputs."""
        return [Any]  # type: ignore[list-item]

    def output_type(self) -> type:
        """The wrapped builder's output type, or ``Any``."""
        if self.result_builder is not None:
            return self.result_builder.output_type()
        return Any  # type: ignore[return-value]
