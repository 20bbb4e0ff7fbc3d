"""The public entry point: :class:`Builder` configures and builds a :class:`Driver`.

``Builder`` collects modules, config, adapters, executors, a cache and materializers, and
checks them as they are given; ``build()`` makes the driver. The driver itself lives in
:mod:`cayley._driver`; it is re-exported here, where users import it from.
"""

from __future__ import annotations

import copy as _copy
import os
import types
from collections.abc import Sequence
from typing import Any, Literal

from cayley._driver import Driver
from cayley.execution.executors import (
    DefaultExecutionManager,
    ExecutionManager,
    MultiThreadingExecutor,
    SynchronousLocalTaskExecutor,
    TaskExecutor,
)
from cayley.execution.grouping import GroupingStrategy
from cayley.graph_types import HamiltonNode
from cayley.run_request import output_names as _output_names  # noqa: F401 (for async_driver)

__all__ = ["Builder", "Driver", "Variable", "InvalidExecutorException"]

#: The public description of a node (an alias kept for compatibility).
Variable = HamiltonNode


class InvalidExecutorException(Exception):
    """Execution settings that cannot work together."""


def _check_instance(method: str, value: Any, expected: type) -> None:
    """Raises TypeError unless ``value`` is an instance of ``expected`` (not the class)."""
    if isinstance(value, expected):
        return
    if isinstance(value, type) and issubclass(value, expected):
        raise TypeError(
            f"{method} expects an instance, got the class {value.__name__}: "
            f"write {value.__name__}(...)."
        )
    raise TypeError(
        f"{method} expects a {expected.__name__}, got {type(value).__name__} {value!r:.60}."
    )


class Builder:
    """Configures and builds a :class:`Driver`; every method returns the builder."""

    def __init__(self) -> None:
        self.config: dict[str, Any] = {}
        self.modules: list[types.ModuleType] = []
        self.adapters: list[Any] = []
        self.legacy_graph_adapter: Any = None
        self._allow_module_overrides = False
        self.v2_executor = False
        self.execution_manager: ExecutionManager | None = None
        self.local_executor: TaskExecutor | None = None
        self.remote_executor: TaskExecutor | None = None
        self.grouping_strategy: GroupingStrategy | None = None
        self.materializers: list[Any] = []

    def with_config(self, config: dict[str, Any]) -> Builder:
        """Adds configuration; later calls win on shared keys."""
        self.config.update(config)
        return self

    def with_modules(self, *modules: types.ModuleType) -> Builder:
        """Adds modules whose functions become nodes."""
        for module in modules:
            if not isinstance(module, types.ModuleType):
                raise TypeError(
                    f"with_modules expects modules, got {module!r} ({type(module).__name__}). "
                    "Pass module objects (import the module first), or wrap loose functions with "
                    "cayley.ad_hoc_utils.create_temporary_module(...)."
                )
        self.modules.extend(modules)
        return self

    def with_adapters(self, *adapters: Any) -> Builder:
        """Adds lifecycle adapters (hooks, methods, validators, result builders)."""
        for adapter in adapters:
            if isinstance(adapter, (list, tuple)):
                raise TypeError("with_adapters takes adapters as arguments: unpack the list with *")
        self.adapters.extend(adapters)
        return self

    def with_adapter(self, adapter: Any) -> Builder:
        """Sets the legacy graph adapter (at most once)."""
        if self.legacy_graph_adapter is not None:
            raise ValueError(
                "with_adapter was already called; a driver has at most one legacy graph adapter. "
                "Use with_adapters(...) to add lifecycle adapters."
            )
        self.legacy_graph_adapter = adapter
        return self

    def with_cache(
        self,
        path: str | os.PathLike[str] = ".cayley_cache",
        metadata_store: Any = None,
        result_store: Any = None,
        default: Literal[True] | Sequence[str] | None = None,
        recompute: Literal[True] | Sequence[str] | None = None,
        ignore: Literal[True] | Sequence[str] | None = None,
        disable: Literal[True] | Sequence[str] | None = None,
        default_behavior: str = "default",
        default_loader_behavior: str = "default",
        default_saver_behavior: str = "default",
        log_to_file: bool = False,
    ) -> Builder:
        """Caches node results across runs in ``path`` (see the README's *Caching* section).

        Args:
            path: the cache directory (SQLite metadata and result files).
            metadata_store: where cache keys map to data versions (default: SQLite in
                ``path``).
            result_store: where results are kept (default: files in ``path/results``).
            default, recompute, ignore, disable: node names given that behaviour, or True
                for every node; these beat ``@cache(behavior=...)`` on functions.
            default_behavior: the behaviour of every other node.
            default_loader_behavior, default_saver_behavior: the behaviour of data loader and
                saver nodes.
            log_to_file: also append every cache event to ``path/cache_logs.jsonl``.
        """
        from cayley.caching.adapter import CacheAdapter

        if self.cache is not None:
            raise ValueError("with_cache was already called; a driver has one cache.")
        self.adapters.append(
            CacheAdapter(
                path=path,
                metadata_store=metadata_store,
                result_store=result_store,
                default=default,
                recompute=recompute,
                ignore=ignore,
                disable=disable,
                default_behavior=default_behavior,
                default_loader_behavior=default_loader_behavior,
                default_saver_behavior=default_saver_behavior,
                log_to_file=log_to_file,
            )
        )
        return self

    @property
    def cache(self) -> Any:
        """The cache adapter added by :meth:`with_cache` (or with ``with_adapters``), or None."""
        from cayley.caching.adapter import CacheAdapter

        return next((a for a in self.adapters if isinstance(a, CacheAdapter)), None)

    def with_materializers(self, *materializers: Any) -> Builder:
        """Adds ``to.<format>(...)``/``from_.<format>(...)`` nodes to the graph at build time."""
        from cayley.io.materialization import MaterializationRequest

        MaterializationRequest.of([*self.materializers, *materializers])  # fail here, not later
        self.materializers.extend(materializers)
        return self

    def allow_module_overrides(self) -> Builder:
        """Lets later modules redefine nodes of earlier ones."""
        self._allow_module_overrides = True
        return self

    def enable_dynamic_execution(self, *, allow_experimental_mode: bool = False) -> Builder:
        """Runs tasks on the configured executors (threads for blocks by default).

        ``allow_experimental_mode`` is accepted for compatibility; it is not required.
        """
        self.v2_executor = True
        return self

    def with_execution_manager(self, execution_manager: ExecutionManager) -> Builder:
        """Chooses the executor of each task with ``execution_manager``."""
        _check_instance("with_execution_manager", execution_manager, ExecutionManager)
        if self.local_executor is not None or self.remote_executor is not None:
            raise InvalidExecutorException(
                "with_execution_manager cannot be combined with with_local_executor or "
                "with_remote_executor: the manager chooses the executors."
            )
        self.execution_manager = execution_manager
        return self

    def _check_no_manager(self, method: str) -> None:
        if self.execution_manager is not None:
            raise InvalidExecutorException(
                f"{method} cannot be combined with with_execution_manager: the manager chooses "
                "the executors."
            )

    def with_local_executor(self, local_executor: TaskExecutor) -> Builder:
        """Executor for tasks outside fan-out blocks."""
        _check_instance("with_local_executor", local_executor, TaskExecutor)
        self._check_no_manager("with_local_executor")
        self.local_executor = local_executor
        return self

    def with_remote_executor(self, remote_executor: TaskExecutor) -> Builder:
        """Executor for the per-item tasks of fan-out blocks."""
        _check_instance("with_remote_executor", remote_executor, TaskExecutor)
        self._check_no_manager("with_remote_executor")
        self.remote_executor = remote_executor
        return self

    def with_grouping_strategy(self, grouping_strategy: GroupingStrategy) -> Builder:
        """How nodes are grouped into tasks."""
        _check_instance("with_grouping_strategy", grouping_strategy, GroupingStrategy)
        self.grouping_strategy = grouping_strategy
        return self

    def copy(self) -> Builder:
        """An independent builder with the same settings."""
        other = _copy.copy(self)
        other.config = dict(self.config)
        other.modules = list(self.modules)
        other.adapters = list(self.adapters)
        other.materializers = list(self.materializers)
        return other

    def build(self) -> Driver:
        """Builds the driver; the builder itself is not changed."""
        adapters = list(self.adapters)
        if self.legacy_graph_adapter is not None:
            adapters.append(self.legacy_graph_adapter)
        dynamic = self.v2_executor or any(
            x is not None
            for x in (self.execution_manager, self.local_executor, self.remote_executor)
        )
        manager = self.execution_manager
        if manager is None and dynamic:
            manager = DefaultExecutionManager(
                self.local_executor or SynchronousLocalTaskExecutor(),
                self.remote_executor or MultiThreadingExecutor(max_tasks=10),
            )
        return Driver(
            dict(self.config),
            *self.modules,
            adapter=adapters,
            allow_module_overrides=self._allow_module_overrides,
            _use_legacy_adapter=False,
            _execution_manager=manager,
            _grouping_strategy=self.grouping_strategy,
            _dynamic=dynamic,
            _materializers=list(self.materializers),
        )
