"""Public lifecycle classes: subclass one, implement its ``run_*`` methods, register it.

Every user-facing method receives keyword arguments and must accept ``**future_kwargs``, so
new arguments can be added without breaking adapters. The ``Base*`` bridge methods are the
engine's side of the contract and are not meant to be overridden.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection
from typing import Any, final

from cayley.graph_types import HamiltonGraph, HamiltonNode
from cayley.lifecycle.base import (
    BaseDoBuildResult,
    BaseDoCheckEdgeTypesMatch,
    BaseDoNodeExecute,
    BaseDoValidateInput,
    BasePostGraphConstruct,
    BasePostGraphExecute,
    BasePostNodeExecute,
    BasePostTaskExecute,
    BasePostTaskExpand,
    BasePostTaskGroup,
    BasePostTaskReturn,
    BasePreGraphExecute,
    BasePreNodeExecute,
    BasePreTaskExecute,
    BasePreTaskSubmission,
    BaseValidateGraph,
    BaseValidateNode,
)

__all__ = [
    "EdgeConnectionHook",
    "GraphAdapter",
    "GraphConstructionHook",
    "GraphExecutionHook",
    "LegacyResultMixin",
    "NodeExecutionHook",
    "NodeExecutionMethod",
    "ResultBuilder",
    "StaticValidator",
    "TaskExecutionHook",
    "TaskGroupingHook",
    "TaskReturnHook",
    "TaskSubmissionHook",
]


def _public_graph(graph: Any) -> HamiltonGraph:
    if isinstance(graph, HamiltonGraph):
        return graph
    cached = getattr(graph, "_public_view", None)
    if cached is None:
        cached = HamiltonGraph.from_graph(graph)
        try:
            graph._public_view = cached
        except AttributeError:
            pass
    return cached


class ResultBuilder(BaseDoBuildResult, abc.ABC):
    """Shapes the dict of requested outputs into what ``execute`` returns."""

    @final
    def do_build_result(self, *, outputs: dict[str, Any]) -> Any:
        """Bridge to :meth:`build_result`."""
        return self.build_result(**outputs)

    @abc.abstractmethod
    def build_result(self, **outputs: Any) -> Any:
        """Builds the result from the outputs, passed as keyword arguments."""

    def input_types(self) -> list[type]:
        """Types this builder accepts (informational)."""
        return [Any]  # type: ignore[list-item]

    def output_type(self) -> type:
        """Type this builder returns (informational)."""
        return Any  # type: ignore[return-value]


class LegacyResultMixin(ResultBuilder, abc.ABC):
    """A result builder whose ``build_result`` is a static method (the historical form)."""

    @staticmethod
    @abc.abstractmethod
    def build_result(**outputs: Any) -> Any:
        """Builds the result from the outputs."""


class GraphAdapter(
    BaseDoNodeExecute, LegacyResultMixin, BaseDoValidateInput, BaseDoCheckEdgeTypesMatch, abc.ABC
):
    """The historical all-in-one adapter: type checks, node execution and result building."""

    @staticmethod
    @abc.abstractmethod
    def check_input_type(node_type: type, input_value: Any) -> bool:
        """Whether ``input_value`` is acceptable for an input of ``node_type``."""

    @staticmethod
    @abc.abstractmethod
    def check_node_type_equivalence(node_type: type, input_type: type) -> bool:
        """Whether a producer of ``input_type`` may feed a consumer of ``node_type``."""

    @abc.abstractmethod
    def execute_node(self, node: Any, kwargs: dict[str, Any]) -> Any:
        """Computes ``node`` from ``kwargs``."""

    @final
    def do_node_execute(
        self, *, run_id: str, node_: Any, kwargs: dict, task_id: str | None = None
    ) -> Any:
        """Bridge to :meth:`execute_node`."""
        return self.execute_node(node_, kwargs)

    @final
    def do_validate_input(self, *, node_type: type, input_value: Any) -> bool:
        """Bridge to :meth:`check_input_type`."""
        return self.check_input_type(node_type, input_value)

    @final
    def do_check_edge_types_match(self, *, type_from: type, type_to: type) -> bool:
        """Bridge to :meth:`check_node_type_equivalence` (consumer type first)."""
        return self.check_node_type_equivalence(type_to, type_from)


class NodeExecutionHook(BasePreNodeExecute, BasePostNodeExecute, abc.ABC):
    """Runs code before and after every node."""

    #: The engine may call ``run_before/after_node_execution`` directly, skipping the bridge.
    _calls_public_node_hooks = True

    @final
    def pre_node_execute(
        self, *, run_id: str, node_: Any, kwargs: dict, task_id: str | None = None, **extra: Any
    ) -> None:
        """Bridge to :meth:`run_before_node_execution`."""
        self.run_before_node_execution(
            node_name=node_.name,
            node_tags=node_.tags,
            node_kwargs=kwargs,
            node_return_type=node_.type,
            task_id=task_id,
            run_id=run_id,
            node_input_types=node_.input_type_map,
            **extra,
        )

    @abc.abstractmethod
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
        """Called before the node's function."""

    @final
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
        **extra: Any,
    ) -> None:
        """Bridge to :meth:`run_after_node_execution`."""
        self.run_after_node_execution(
            node_name=node_.name,
            node_tags=node_.tags,
            node_kwargs=kwargs,
            node_return_type=node_.type,
            result=result,
            error=error,
            success=success,
            task_id=task_id,
            run_id=run_id,
            **extra,
        )

    @abc.abstractmethod
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
        """Called after the node's function, whether it succeeded or not."""


class NodeExecutionMethod(BaseDoNodeExecute, abc.ABC):
    """Replaces how each node's function is called."""

    @final
    def do_node_execute(
        self, *, run_id: str, node_: Any, kwargs: dict, task_id: str | None = None, **extra: Any
    ) -> Any:
        """Bridge to :meth:`run_to_execute_node`."""
        return self.run_to_execute_node(
            node_name=node_.name,
            node_tags=node_.tags,
            node_callable=node_.callable,
            node_kwargs=kwargs,
            task_id=task_id,
            is_expand=node_.is_expander,
            is_collect=bool(node_.collect_params),
            **extra,
        )

    @abc.abstractmethod
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
        """Computes the node; typically ``node_callable(**node_kwargs)`` plus something."""


class GraphExecutionHook(BasePreGraphExecute, BasePostGraphExecute, abc.ABC):
    """Runs code before and after every ``execute``."""

    @final
    def pre_graph_execute(
        self,
        *,
        run_id: str,
        graph: Any,
        final_vars: list[str],
        inputs: dict,
        overrides: dict,
        execution_path: Collection[str] | None = None,
        **extra: Any,
    ) -> None:
        """Bridge to :meth:`run_before_graph_execution`."""
        self.run_before_graph_execution(
            graph=_public_graph(graph),
            final_vars=final_vars,
            inputs=inputs,
            overrides=overrides,
            execution_path=list(execution_path or []),
            run_id=run_id,
            **extra,
        )

    @abc.abstractmethod
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
        """Called before a run."""

    @final
    def post_graph_execute(
        self,
        *,
        run_id: str,
        graph: Any,
        success: bool,
        error: Exception | None,
        results: dict | None,
        **extra: Any,
    ) -> None:
        """Bridge to :meth:`run_after_graph_execution`."""
        self.run_after_graph_execution(
            graph=_public_graph(graph),
            success=success,
            error=error,
            results=results,
            run_id=run_id,
            **extra,
        )

    @abc.abstractmethod
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
        """Called after a run, successful or not."""


class GraphConstructionHook(BasePostGraphConstruct, abc.ABC):
    """Runs code once the graph is built."""

    @final
    def post_graph_construct(self, *, graph: Any, modules: Any, config: dict, **extra: Any) -> None:
        """Bridge to :meth:`run_after_graph_construction`."""
        self.run_after_graph_construction(graph=_public_graph(graph), config=config, **extra)

    @abc.abstractmethod
    def run_after_graph_construction(
        self, *, graph: HamiltonGraph, config: dict[str, Any], **future_kwargs: Any
    ) -> None:
        """Called after construction."""


class EdgeConnectionHook(BaseDoCheckEdgeTypesMatch, BaseDoValidateInput, abc.ABC):
    """Loosens the edge-type and input-type checks (both can only become more permissive)."""

    @final
    def do_check_edge_types_match(self, *, type_from: type, type_to: type, **extra: Any) -> bool:
        """Bridge to :meth:`check_edge_types_match`."""
        return self.check_edge_types_match(type_from=type_from, type_to=type_to, **extra)

    @abc.abstractmethod
    def check_edge_types_match(self, type_from: type, type_to: type, **kwargs: Any) -> bool:
        """Whether a producer of ``type_from`` may feed a consumer of ``type_to``."""

    @final
    def do_validate_input(self, *, node_type: type, input_value: Any, **extra: Any) -> bool:
        """Bridge to :meth:`validate_input`."""
        return self.validate_input(node_type=node_type, input_value=input_value, **extra)

    @abc.abstractmethod
    def validate_input(self, node_type: type, input_value: Any, **kwargs: Any) -> bool:
        """Whether ``input_value`` is acceptable for an input of ``node_type``."""


class StaticValidator(BaseValidateNode, BaseValidateGraph):
    """Validates nodes and the graph when it is built; both checks default to valid."""

    @final
    def validate_node(self, *, created_node: Any, **extra: Any) -> tuple[bool, Exception | None]:
        """Bridge to :meth:`run_to_validate_node`."""
        valid, message = self.run_to_validate_node(
            node=HamiltonNode.from_node(created_node), **extra
        )
        return valid, (None if valid else Exception(message))

    def run_to_validate_node(
        self, *, node: HamiltonNode, **future_kwargs: Any
    ) -> tuple[bool, str | None]:
        """(valid, error message) for one node."""
        return True, None

    @final
    def validate_graph(
        self, *, graph: Any, modules: Any, config: dict, **extra: Any
    ) -> tuple[bool, str | None]:
        """Bridge to :meth:`run_to_validate_graph`."""
        return self.run_to_validate_graph(graph=_public_graph(graph), **extra)

    def run_to_validate_graph(
        self, graph: HamiltonGraph, **future_kwargs: Any
    ) -> tuple[bool, str | None]:
        """(valid, error message) for the graph."""
        return True, None


class TaskSubmissionHook(BasePreTaskSubmission, abc.ABC):
    """Runs on the driver before each task is submitted to an executor."""

    @final
    def pre_task_submission(self, **kwargs: Any) -> None:
        """Bridge to :meth:`run_before_task_submission`."""
        self.run_before_task_submission(**kwargs)

    @abc.abstractmethod
    def run_before_task_submission(
        self,
        *,
        run_id: str,
        task_id: str,
        nodes: list[HamiltonNode],
        inputs: dict[str, Any],
        overrides: dict[str, Any],
        spawning_task_id: str | None,
        purpose: Any,
        **future_kwargs: Any,
    ) -> None:
        """Called before submission."""


class TaskReturnHook(BasePostTaskReturn, abc.ABC):
    """Runs on the driver when each task's result comes back."""

    @final
    def post_task_return(self, **kwargs: Any) -> None:
        """Bridge to :meth:`run_after_task_return`."""
        self.run_after_task_return(**kwargs)

    @abc.abstractmethod
    def run_after_task_return(
        self,
        *,
        run_id: str,
        task_id: str,
        nodes: list[HamiltonNode],
        result: Any,
        success: bool,
        error: Exception | None,
        spawning_task_id: str | None,
        purpose: Any,
        **future_kwargs: Any,
    ) -> None:
        """Called after a task returned."""


class TaskExecutionHook(BasePreTaskExecute, BasePostTaskExecute, abc.ABC):
    """Runs inside the executor (possibly another process) around each task."""

    @final
    def pre_task_execute(self, **kwargs: Any) -> None:
        """Bridge to :meth:`run_before_task_execution`."""
        self.run_before_task_execution(**kwargs)

    @final
    def post_task_execute(self, **kwargs: Any) -> None:
        """Bridge to :meth:`run_after_task_execution`."""
        self.run_after_task_execution(**kwargs)

    @abc.abstractmethod
    def run_before_task_execution(
        self,
        *,
        task_id: str,
        run_id: str,
        nodes: list[HamiltonNode],
        inputs: dict[str, Any],
        overrides: dict[str, Any],
        spawning_task_id: str | None,
        purpose: Any,
        **future_kwargs: Any,
    ) -> None:
        """Called before a task."""

    @abc.abstractmethod
    def run_after_task_execution(
        self,
        *,
        task_id: str,
        run_id: str,
        nodes: list[HamiltonNode],
        results: dict[str, Any] | None,
        success: bool,
        error: Exception | None,
        spawning_task_id: str | None,
        purpose: Any,
        **future_kwargs: Any,
    ) -> None:
        """Called after a task."""


class TaskGroupingHook(BasePostTaskGroup, BasePostTaskExpand, abc.ABC):
    """Observes how a run is split into tasks and how fan-outs expand."""

    @final
    def post_task_group(self, *, run_id: str, task_ids: list[str], **extra: Any) -> None:
        """Bridge to :meth:`run_after_task_grouping`."""
        self.run_after_task_grouping(run_id=run_id, task_ids=task_ids, **extra)

    @final
    def post_task_expand(
        self, *, run_id: str, task_id: str, parameters: dict, **extra: Any
    ) -> None:
        """Bridge to :meth:`run_after_task_expansion`."""
        self.run_after_task_expansion(
            run_id=run_id, task_id=task_id, parameters=parameters, **extra
        )

    @abc.abstractmethod
    def run_after_task_grouping(
        self, *, run_id: str, task_ids: list[str], **future_kwargs: Any
    ) -> None:
        """Called once the run's task templates are known."""

    @abc.abstractmethod
    def run_after_task_expansion(
        self, *, run_id: str, task_id: str, parameters: dict[str, Any], **future_kwargs: Any
    ) -> None:
        """Called when an expansion is exhausted; ``parameters`` maps item index to item."""
