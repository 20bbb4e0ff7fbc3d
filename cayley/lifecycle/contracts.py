"""The hook points: one ``Base*`` class per hook, method or validator.

Each class has one keyword-only method. An adapter takes part in a hook point by subclassing its class. :data:`HOOKS`,
:data:`METHODS` and :data:`VALIDATORS` map each method name to its class; the dispatch in
:mod:`cayley.lifecycle.base` sorts adapters by them. A new hook point is a class here plus
its entry in one of these tables.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cayley.lifecycle.base_async import (
    BaseDoNodeExecuteAsync,
    BasePostGraphConstructAsync,
    BasePostGraphExecuteAsync,
    BasePostNodeExecuteAsync,
    BasePostTaskExecuteAsync,
    BasePreGraphExecuteAsync,
    BasePreNodeExecuteAsync,
    BasePreTaskExecuteAsync,
)

if TYPE_CHECKING:
    from cayley.lifecycle.base import LifecycleAdapterSet

__all__ = [
    "HOOKS",
    "METHODS",
    "VALIDATORS",
    "WORKER_HOOKS",
    "WORKER_METHODS",
    "BaseBindAdapters",
    "BaseDoBuildResult",
    "BaseDoCheckEdgeTypesMatch",
    "BaseDoNodeExecute",
    "BaseDoRemoteExecute",
    "BaseDoValidateInput",
    "BasePostGraphConstruct",
    "BasePostGraphExecute",
    "BasePostNodeExecute",
    "BasePostItemTimings",
    "BasePostTaskExecute",
    "BasePostTaskExpand",
    "BasePostTaskGroup",
    "BasePostTaskReturn",
    "BasePreDoAnything",
    "BasePreDoAnythingHook",
    "BasePreGraphExecute",
    "BasePreNodeExecute",
    "BasePreTaskExecute",
    "BasePreTaskSubmission",
    "BaseValidateGraph",
    "BaseValidateNode",
    "BaseWorkerReport",
    "ItemTimings",
    "LifecycleAdapter",
]


# ---- hooks -------------------------------------------------------------------------------
class BasePreDoAnything(abc.ABC):
    """Called once, before the graph is built."""

    @abc.abstractmethod
    def pre_do_anything(self) -> None:
        """Runs before anything else."""


#: Hamilton's name for :class:`BasePreDoAnything`.
BasePreDoAnythingHook = BasePreDoAnything


class BasePostGraphConstruct(abc.ABC):
    """Called once the graph is built and validated."""

    @abc.abstractmethod
    def post_graph_construct(self, *, graph: Any, modules: Sequence[Any], config: dict) -> None:
        """Runs after graph construction."""


class BasePreGraphExecute(abc.ABC):
    """Called at the start of every execute."""

    @abc.abstractmethod
    def pre_graph_execute(
        self, *, run_id: str, graph: Any, final_vars: list[str], inputs: dict, overrides: dict
    ) -> None:
        """Runs before a run starts."""


class BasePostGraphExecute(abc.ABC):
    """Called at the end of every execute, successful or not."""

    @abc.abstractmethod
    def post_graph_execute(
        self,
        *,
        run_id: str,
        graph: Any,
        success: bool,
        error: Exception | None,
        results: dict | None,
    ) -> None:
        """Runs after a run ends."""


class BasePostTaskGroup(abc.ABC):
    """Called once the run's tasks are grouped."""

    @abc.abstractmethod
    def post_task_group(self, *, run_id: str, task_ids: list[str]) -> None:
        """Runs after grouping."""


class BasePostTaskExpand(abc.ABC):
    """Called when a Parallelizable node's items are all known."""

    @abc.abstractmethod
    def post_task_expand(self, *, run_id: str, task_id: str, parameters: dict) -> None:
        """Runs after an expansion is exhausted."""


class BasePreTaskSubmission(abc.ABC):
    """Called on the driver before a task is handed to an executor."""

    @abc.abstractmethod
    def pre_task_submission(
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
        """Runs before submission."""


class BasePreTaskExecute(abc.ABC):
    """Called inside the executor before a task runs."""

    @abc.abstractmethod
    def pre_task_execute(
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


class BasePostTaskExecute(abc.ABC):
    """Called inside the executor after a task ran."""

    @abc.abstractmethod
    def post_task_execute(
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


class BasePostTaskReturn(abc.ABC):
    """Called on the driver when a task's result comes back."""

    @abc.abstractmethod
    def post_task_return(
        self,
        *,
        run_id: str,
        task_id: str,
        nodes: list,
        result: Any,
        success: bool,
        error: Exception | None,
        spawning_task_id: str | None,
        purpose: Any,
    ) -> None:
        """Runs after a task returned."""


class BasePreNodeExecute(abc.ABC):
    """Called before each node runs."""

    @abc.abstractmethod
    def pre_node_execute(
        self, *, run_id: str, node_: Any, kwargs: dict, task_id: str | None = None
    ) -> None:
        """Runs before a node."""


class BasePostNodeExecute(abc.ABC):
    """Called after each node ran, with its result or error."""

    @abc.abstractmethod
    def post_node_execute(
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


@dataclass(slots=True, eq=False)
class ItemTimings:
    """The node calls of one run of a task of fan-out items, as columns.

    Call ``k`` ran node ``nodes[k]`` for the item whose task id is ``task_ids[k]``, from
    ``started[k]`` to ``ended[k]`` (seconds since the epoch, as :func:`time.time`); ``errors``
    maps the position of each call that raised to its exception. The calls ran in the
    thread that then calls the hook, in the order listed: every node of the first item,
    then every node of the next. A ``@retry`` node has one call per attempt; a task stops
    at its first error that is not retried, so the failing call, if any, is the last one.
    """

    nodes: list[str] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)
    started: list[float] = field(default_factory=list)
    ended: list[float] = field(default_factory=list)
    errors: dict[int, BaseException] = field(default_factory=dict)


class BasePostItemTimings(abc.ABC):
    """Told about the node calls of fan-out items in bulk: once per task run, not per call.

    With dynamic execution, cheap items are batched into tasks (up to a few hundred items
    per task run in the driver's process, more per task sent to a worker). After each run
    of a task of fan-out items, successful or not, and inside the executor (on a worker,
    with the worker's copy of the adapter: see :class:`BaseWorkerReport`), the engine calls
    :meth:`post_item_timings` once with the start, end and error of every node call of
    every item. An adapter implementing this hook is **not** called by its own node hooks
    (``pre_node_execute``/``post_node_execute``, ``NodeExecutionHook``) for these calls:
    this hook replaces them where calling a hook per node would cost more than the node.
    Node calls outside fan-outs, and every call of a driver without dynamic execution (it
    runs no tasks), still go through the node hooks.

    Nobody implementing it costs nothing: the engine reads the clock around node calls only
    for adapters that do.
    """

    @abc.abstractmethod
    def post_item_timings(self, *, run_id: str, timings: ItemTimings) -> None:
        """Runs after a task of fan-out items ran, with the times of its node calls."""


class BaseWorkerReport(abc.ABC):
    """An adapter whose copies on worker processes hand data back to the driver's instance.

    Executors that run tasks in other processes (processes, Ray, Dask) run them with copies
    of the adapters. After each such task the worker calls :meth:`collect_worker_report` on
    its copy and sends what it returns (unless ``None``) back with the task's result; the
    driver then calls :meth:`receive_worker_report` on its own instance, before the
    task-return hooks. Tasks that ran on the driver's own adapter objects (the synchronous
    and thread executors) skip both calls: there is nothing to hand back.
    """

    @abc.abstractmethod
    def collect_worker_report(self) -> Any:
        """On the worker: picklable data to send to the driver's instance, or None."""

    @abc.abstractmethod
    def receive_worker_report(self, *, report: Any) -> None:
        """On the driver: takes what a worker copy collected."""


class BaseBindAdapters(abc.ABC):
    """An adapter whose behaviour depends on the other adapters of its driver.

    Called once when a :class:`LifecycleAdapterSet` holding the adapter is made, with that
    set (for instance, a cache that hands out values lazily only when no other adapter
    observes node values).
    """

    @abc.abstractmethod
    def bind_adapters(self, *, adapters: LifecycleAdapterSet) -> None:
        """Receives the driver's adapters."""


# ---- methods -----------------------------------------------------------------------------
class BaseDoNodeExecute(abc.ABC):
    """Replaces how a node's function is called."""

    @abc.abstractmethod
    def do_node_execute(
        self, *, run_id: str, node_: Any, kwargs: dict, task_id: str | None = None
    ) -> Any:
        """Computes the node's value."""


class BaseDoRemoteExecute(abc.ABC):
    """Replaces how a node's function is called, receiving the lifecycle-wrapped call."""

    @abc.abstractmethod
    def do_remote_execute(
        self, *, node: Any, execute_lifecycle_for_node: Callable[..., Any], **kwargs: Any
    ) -> Any:
        """Computes the node's value."""


class BaseDoValidateInput(abc.ABC):
    """Loosens the run-time check of input values."""

    @abc.abstractmethod
    def do_validate_input(self, *, node_type: type, input_value: Any) -> bool:
        """Whether the value is acceptable."""


class BaseDoCheckEdgeTypesMatch(abc.ABC):
    """Loosens the build-time check of edge types."""

    @abc.abstractmethod
    def do_check_edge_types_match(self, *, type_from: type, type_to: type) -> bool:
        """Whether the producer type may feed the consumer type."""


class BaseDoBuildResult(abc.ABC):
    """Shapes what ``execute`` returns."""

    @abc.abstractmethod
    def do_build_result(self, *, outputs: dict[str, Any]) -> Any:
        """Builds the result."""


# ---- validators --------------------------------------------------------------------------
class BaseValidateNode(abc.ABC):
    """Validates each node when the graph is built."""

    @abc.abstractmethod
    def validate_node(self, *, created_node: Any) -> tuple[bool, Exception | None]:
        """(valid, error)."""


class BaseValidateGraph(abc.ABC):
    """Validates the whole graph when it is built."""

    @abc.abstractmethod
    def validate_graph(
        self, *, graph: Any, modules: Sequence[Any], config: dict
    ) -> tuple[bool, str | None]:
        """(valid, error message)."""


#: Hook name -> the class declaring it (hooks observe; several adapters may implement one).
HOOKS: dict[str, type] = {
    "pre_do_anything": BasePreDoAnything,
    "post_graph_construct": BasePostGraphConstruct,
    "pre_graph_execute": BasePreGraphExecute,
    "post_graph_execute": BasePostGraphExecute,
    "post_task_group": BasePostTaskGroup,
    "post_task_expand": BasePostTaskExpand,
    "pre_task_submission": BasePreTaskSubmission,
    "pre_task_execute": BasePreTaskExecute,
    "post_task_execute": BasePostTaskExecute,
    "post_task_return": BasePostTaskReturn,
    "pre_node_execute": BasePreNodeExecute,
    "post_node_execute": BasePostNodeExecute,
    "post_item_timings": BasePostItemTimings,
    "collect_worker_report": BaseWorkerReport,
    "receive_worker_report": BaseWorkerReport,
    "bind_adapters": BaseBindAdapters,
}
#: Method name -> the class declaring it (methods replace behaviour; one implementation).
METHODS: dict[str, type] = {
    "do_node_execute": BaseDoNodeExecute,
    "do_remote_execute": BaseDoRemoteExecute,
    "do_validate_input": BaseDoValidateInput,
    "do_check_edge_types_match": BaseDoCheckEdgeTypesMatch,
    "do_build_result": BaseDoBuildResult,
}
#: The hook points and methods called inside a task, wherever the task runs: what an
#: adapter must implement to be sent with tasks to other processes.
WORKER_HOOKS = frozenset(
    {
        "pre_task_execute",
        "post_task_execute",
        "pre_node_execute",
        "post_node_execute",
        "post_item_timings",
        "collect_worker_report",
    }
)
WORKER_METHODS = frozenset({"do_node_execute", "do_remote_execute"})
#: Validator name -> the class declaring it (validators check the graph when it is built).
VALIDATORS: dict[str, type] = {
    "validate_node": BaseValidateNode,
    "validate_graph": BaseValidateGraph,
}


#: Any lifecycle adapter: an instance of one or more of the ``Base*`` classes above.
LifecycleAdapter = (
    BasePreDoAnything
    | BasePostGraphConstruct
    | BasePreGraphExecute
    | BasePostGraphExecute
    | BasePostTaskGroup
    | BasePostTaskExpand
    | BasePreTaskSubmission
    | BasePreTaskExecute
    | BasePostTaskExecute
    | BasePostTaskReturn
    | BasePreNodeExecute
    | BasePostNodeExecute
    | BasePostItemTimings
    | BaseWorkerReport
    | BaseBindAdapters
    | BaseDoNodeExecute
    | BaseDoRemoteExecute
    | BaseDoValidateInput
    | BaseDoCheckEdgeTypesMatch
    | BaseDoBuildResult
    | BaseValidateNode
    | BaseValidateGraph
    | BasePostGraphConstructAsync
    | BasePreGraphExecuteAsync
    | BasePreTaskExecuteAsync
    | BasePreNodeExecuteAsync
    | BaseDoNodeExecuteAsync
    | BasePostNodeExecuteAsync
    | BasePostTaskExecuteAsync
    | BasePostGraphExecuteAsync
)
