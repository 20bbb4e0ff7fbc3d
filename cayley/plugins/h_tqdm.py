"""A tqdm progress bar over the nodes of each run.

.. code-block:: python

    from cayley import driver
    from cayley.plugins import h_tqdm

    dr = (
        driver.Builder()
        .with_modules(my_dataflow)
        .with_adapters(h_tqdm.ProgressBar(desc="my-dataflow"))
        .build()
    )
    dr.execute(["report"])  # my-dataflow -> report    : 100%|██████████| 12/12 [00:01<00:00]

The bar's total is the number of nodes the run computes; its description shows the node
that started last. Under dynamic execution the nodes of a ``Parallelizable`` block run once
per item, which is not known up front: every repeated run of a node adds one to the total,
so the bar keeps counting and reaches its (grown) total when the run is done.

tqdm is an optional dependency: ``pip install "cayley[tqdm]"``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

try:
    import tqdm
except ImportError as _missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        'cayley.plugins.h_tqdm needs tqdm, which is not installed: pip install "cayley[tqdm]"'
    ) from _missing

from cayley.graph_types import HamiltonGraph
from cayley.lifecycle.api import GraphExecutionHook, NodeExecutionHook

__all__ = ["ProgressBar"]

_DONE = "Execution Complete!"
_FAILED = "Execution Failed!"


@dataclass
class _RunBar:
    """The bar of one run and what it has counted."""

    bar: Any
    width: int
    seen: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_refresh: float = 0.0


class ProgressBar(GraphExecutionHook, NodeExecutionHook):
    """Shows a tqdm progress bar advancing by one for each node the run computes.

    Args:
        desc: text at the start of the bar, e.g. the dataflow's name.
        max_node_name_width: node names are padded to the longest name of the run, up to
            this many characters; longer names are cut with ``...``. Keeps the bar steady.
        **kwargs: passed to ``tqdm.tqdm`` (``file=``, ``ncols=``, ``leave=``, ``unit=``,
            ``disable=``, ...).

    Node hooks may fire from worker threads (threaded executors); each run's bar is
    updated under a lock. A failed node is not counted, and the description then ends with
    ``Execution Failed!``. When tasks run in other processes, the nodes computed there
    are not seen; the bar is completed when the run succeeds.
    """

    def __init__(
        self, desc: str = "Graph execution", max_node_name_width: int = 50, **kwargs: Any
    ) -> None:
        self.desc = desc
        self.max_node_name_width = max_node_name_width
        self.kwargs = kwargs
        #: The bar of the most recent run (kept after the run for inspection).
        self.progress_bar: Any = None
        self._lock = threading.Lock()
        self._runs: dict[str, _RunBar] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickles the settings without bars or output streams; a copy draws nothing."""
        return {
            "desc": self.desc,
            "max_node_name_width": self.max_node_name_width,
            "kwargs": {},
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restores the settings with no runs in progress."""
        self.__dict__.update(state)
        self.progress_bar = None
        self._lock = threading.Lock()
        self._runs = {}

    @staticmethod
    def _label(text: str, width: int, cut: bool = True) -> str:
        """``text`` padded to ``width`` characters; cut with ``...`` if longer and ``cut``."""
        if cut and len(text) > width:
            text = text[: max(width - 3, 0)] + "..."
        return text.ljust(width)

    def _describe(self, run: _RunBar, text: str, refresh: bool, cut: bool = True) -> None:
        """Sets the description to ``desc -> text`` (caller holds the run's lock)."""
        label = self._label(text, run.width, cut)
        run.bar.set_description_str(f"{self.desc} -> {label}", refresh)

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
        """Opens the run's bar, its total being the number of nodes to compute."""
        longest = max((len(name) for name in execution_path), default=0)
        width = min(longest, self.max_node_name_width)
        options = {"desc": self.desc, "unit": "funcs", "total": len(execution_path)}
        options.update(self.kwargs)
        bar = tqdm.tqdm(**options)
        with self._lock:
            self._runs[run_id] = _RunBar(bar=bar, width=width)
            self.progress_bar = bar

    def run_before_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_kwargs: dict[str, Any],
        node_return_type: type,
        task_id: str | None,
        run_id: str,
        node_input_types: dict[str, Any],
        **future_kwargs: Any,
    ) -> None:
        """Shows the node in the description (redrawn at most every ``mininterval``)."""
        with self._lock:
            run = self._runs.get(run_id)
        if run is None:
            return
        with run.lock:
            now = time.monotonic()
            refresh = now - run.last_refresh >= getattr(run.bar, "mininterval", 0.1)
            if refresh:
                run.last_refresh = now
            self._describe(run, node_name, refresh)

    def run_after_node_execution(
        self,
        *,
        node_name: str,
        node_tags: dict[str, Any],
        node_kwargs: dict[str, Any],
        node_return_type: type,
        result: Any,
        error: Exception | None,
        success: bool,
        task_id: str | None,
        run_id: str,
        **future_kwargs: Any,
    ) -> None:
        """Counts the node if it succeeded; a node running again (per item) grows the total."""
        if not success:
            return
        with self._lock:
            run = self._runs.get(run_id)
        if run is None:
            return
        with run.lock:
            bar = run.bar
            if node_name in run.seen or (bar.total is not None and bar.n >= bar.total):
                bar.total = (bar.total or 0) + 1
            else:
                run.seen.add(node_name)
            bar.update(1)

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
        """Closes the run's bar, saying whether the run completed or failed.

        After a success the bar is filled up, so it ends at 100% even when some nodes never
        ran (an empty fan-out) or ran where the bar could not see them (other processes).
        """
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is None:
            return
        with run.lock:
            bar = run.bar
            if success and bar.total is not None and bar.n < bar.total:
                bar.update(bar.total - bar.n)
            self._describe(run, _DONE if success else _FAILED, False, cut=False)
            bar.set_postfix({}, refresh=False)
            bar.close()
