"""Running dataflows from ``asyncio`` code: :class:`AsyncDriver` and its :class:`Builder`.

Node functions may be ``async def``. Every node of a request becomes one
:class:`asyncio.Task` that waits only for the values it reads, so independent coroutines
overlap; plain functions run inline in their task. Graph building, validation, planning and
input checks are the synchronous :class:`~cayley.driver.Driver`'s.

Lifecycle adapters work as in the synchronous driver, and hooks written as ``async def``
(the ``*Async`` classes of :mod:`cayley.lifecycle.base`, or ``async def`` implementations of
the others) are awaited after the synchronous hooks of the same point. Async
``pre_do_anything`` and ``post_graph_construct`` hooks, and adapters' ``ainit()``, run in
:meth:`AsyncDriver.ainit` (which :meth:`Builder.build` awaits). Dynamic execution
(``Parallelizable``/``Collect``), legacy graph adapters and ``do_remote_execute`` adapters
are not supported. :meth:`AsyncDriver.materialize` saves and loads like the synchronous
driver's, with the nodes running as tasks.
"""

from __future__ import annotations

import asyncio
import inspect
import types
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from cayley.base import DictResult, PandasDataFrameResult
from cayley.driver import Builder as _SyncBuilder
from cayley.driver import Driver, _output_names
from cayley.execution.calls import note_node_error
from cayley.execution.plan import ExecutionPlan
from cayley.graph_types import HamiltonNode
from cayley.lifecycle.api import ResultBuilder
from cayley.lifecycle.base import (
    BaseDoBuildResult,
    BaseDoNodeExecute,
    LifecycleAdapterSet,
    note_adapter_error,
)
from cayley.node import Node

__all__ = [
    "AsyncDriver",
    "AsyncExecutionNotSupported",
    "AsyncGraphAdapter",
    "Builder",
    "await_dict_of_tasks",
    "process_value",
]


class AsyncExecutionNotSupported(ValueError):
    """A feature the async driver does not offer (dynamic execution, legacy adapters...)."""


async def process_value(value: Any) -> Any:
    """``value`` itself, awaited first if it is awaitable (a coroutine, task or future)."""
    return await value if inspect.isawaitable(value) else value


async def await_dict_of_tasks(tasks: Mapping[Any, Awaitable[Any]]) -> dict[Any, Any]:
    """Awaits every value of ``tasks`` concurrently; returns the results under the same keys."""
    keys = list(tasks)
    results = await asyncio.gather(*(process_value(tasks[key]) for key in keys))
    return dict(zip(keys, results))


async def _run_hooks(adapters: LifecycleAdapterSet, name: str, **kwargs: Any) -> None:
    """The synchronous hooks of ``name`` in order, then its async ones, each awaited."""
    await _call_hooks(getattr(adapters, name, ()), **kwargs)
    await _call_hooks(adapters.async_hooks.get(name, ()), **kwargs)


def _has_hooks(adapters: LifecycleAdapterSet, name: str) -> bool:
    return bool(getattr(adapters, name, ())) or name in adapters.async_hooks


async def _call_hooks(hooks: tuple[Callable[..., Any], ...], **kwargs: Any) -> None:
    """Calls each hook (awaiting async ones) with the same arguments; errors name the adapter."""
    for hook in hooks:
        try:
            outcome = hook(**kwargs)
            if inspect.isawaitable(outcome):
                await outcome
        except BaseException as exc:
            note_adapter_error(exc, hook)
            raise


async def _call_method(method: Callable[..., Any], **kwargs: Any) -> Any:
    """Calls a lifecycle method, awaiting its result if it is awaitable."""
    try:
        outcome = method(**kwargs)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        return outcome
    except BaseException as exc:
        note_adapter_error(exc, method)
        raise


class AsyncGraphAdapter(BaseDoNodeExecute, ResultBuilder):
    """Runs each node of an async run as an :class:`asyncio.Task`, with its own async hooks.

    :class:`AsyncDriver` does not need it; it is here for code written against Hamilton that
    passes one explicitly. ``do_node_execute`` returns a task that awaits the node's inputs,
    awaits the async ``pre_node_execute`` hooks of ``async_lifecycle_adapters``, runs the node
    (awaiting it if it is a coroutine function), then awaits the async ``post_node_execute``
    hooks. Results are shaped by ``result_builder`` (a pandas DataFrame by default).

    Args:
        result_builder: shapes the outputs; :class:`~cayley.base.PandasDataFrameResult` if None.
        async_lifecycle_adapters: adapters whose async node hooks run around each node.
    """

    def __init__(
        self,
        result_builder: Any | None = None,
        async_lifecycle_adapters: LifecycleAdapterSet | None = None,
    ) -> None:
        self.result_builder = result_builder or PandasDataFrameResult()
        self.adapter = (
            async_lifecycle_adapters
            if async_lifecycle_adapters is not None
            else LifecycleAdapterSet()
        )

    def do_node_execute(
        self, *, run_id: str, node_: Node, kwargs: dict[str, Any], task_id: str | None = None
    ) -> asyncio.Task[Any]:
        """A task computing ``node_`` once its (possibly awaitable) inputs are available."""
        return asyncio.ensure_future(self._compute(run_id, node_, kwargs, task_id))

    async def _compute(
        self, run_id: str, node_: Node, kwargs: dict[str, Any], task_id: str | None
    ) -> Any:
        values = await await_dict_of_tasks(kwargs)
        hooks = self.adapter.async_hooks
        context = {"run_id": run_id, "node_": node_, "kwargs": values, "task_id": task_id}
        await _call_hooks(hooks.get("pre_node_execute", ()), **context)
        try:
            result = await process_value(node_.callable(**values))
        except Exception as exc:
            await _call_hooks(
                hooks.get("post_node_execute", ()),
                **context,
                success=False,
                error=exc,
                result=None,
            )
            raise
        await _call_hooks(
            hooks.get("post_node_execute", ()), **context, success=True, error=None, result=result
        )
        return result

    def build_result(self, **outputs: Any) -> Any:
        """The outputs shaped by the wrapped result builder."""
        return self.result_builder.build_result(**outputs)


class AsyncDriver(Driver):
    """A driver whose ``execute`` is a coroutine and whose nodes may be coroutines.

    Args:
        config: configuration values (decorator variants, node replacements, inputs).
        *modules: modules whose public functions are the nodes.
        result_builder: shapes the outputs of :meth:`execute`; defaults to a pandas
            DataFrame (:class:`~cayley.base.PandasDataFrameResult`). At most one result
            builder may be given, here or among ``adapters``.
        adapters: lifecycle adapters; hooks may be plain or ``async def``.
        allow_module_overrides: later modules may redefine nodes of earlier ones.

    Call :meth:`ainit` once before executing when adapters have async hooks
    (``await Builder()...build()`` does it for you).
    """

    def __init__(
        self,
        config: dict[str, Any],
        *modules: types.ModuleType,
        result_builder: Any | None = None,
        adapters: Sequence[Any] | None = None,
        allow_module_overrides: bool = False,
        _materializers: Sequence[Any] | None = None,
    ) -> None:
        adapters = list(adapters or [])
        builders = [a for a in adapters if isinstance(a, BaseDoBuildResult)]
        if result_builder is not None:
            builders.append(result_builder)
        if len(builders) > 1:
            raise ValueError(
                "The async driver takes at most one result builder; got "
                f"{', '.join(type(b).__name__ for b in builders)}. Pass a single one."
            )
        builder = builders[0] if builders else PandasDataFrameResult()
        others = [a for a in adapters if a is not builder]
        for adapter in others:
            if callable(getattr(adapter, "do_remote_execute", None)):
                raise AsyncExecutionNotSupported(
                    f"Adapter {type(adapter).__name__} implements do_remote_execute, which is "
                    "not supported by the async driver. Use the synchronous Driver instead."
                )
        # Async hooks are sorted apart by the adapter set: building the graph calls only the
        # synchronous ones; ``ainit`` and ``execute`` await the others.
        super().__init__(
            config,
            *modules,
            adapter=[builder, *others],
            allow_module_overrides=allow_module_overrides,
            _use_legacy_adapter=False,
            _materializers=_materializers,
        )
        self.initialized = False

    async def ainit(self) -> AsyncDriver:
        """Runs the async ``pre_do_anything``/``post_graph_construct`` hooks once.

        Safe to call more than once; returns the driver so that
        ``dr = await AsyncDriver(...).ainit()`` works.
        """
        if self.initialized:
            return self
        hooks = self.adapter.async_hooks
        await _call_hooks(hooks.get("pre_do_anything", ()))
        await _call_hooks(
            hooks.get("post_graph_construct", ()),
            graph=self.graph,
            modules=self.graph_modules,
            config=self.config,
        )
        await self.adapter.ainit()
        self.initialized = True
        return self

    # ---- execution ----------------------------------------------------------------------
    @staticmethod
    def _check_supported(plan: ExecutionPlan, nodes: dict[str, Node]) -> None:
        dynamic = [
            n for n in plan.execution_path if nodes[n].is_expander or nodes[n].collect_params
        ]
        if dynamic or not plan.is_flat:
            raise AsyncExecutionNotSupported(
                f"Nodes {dynamic} use Parallelizable[...] or Collect[...], which is not supported "
                "by the async driver (dynamic execution). Use the synchronous Driver built with "
                "Builder().enable_dynamic_execution() instead."
            )

    async def _run_node(
        self,
        node: Node,
        tasks: dict[str, asyncio.Task[Any]],
        constants: dict[str, Any],
        run_id: str,
    ) -> Any:
        """Awaits the node's inputs, then calls it with its hooks around it."""
        kwargs: dict[str, Any] = {}
        for param, dep in zip(node.input_types, self.graph.dependencies[node.name]):
            if dep in constants:
                kwargs[param] = constants[dep]
            elif dep in tasks:
                kwargs[param] = await tasks[dep]
            # otherwise an optional input that was not given: the default applies
        adapters = self.adapter
        await _run_hooks(
            adapters, "pre_node_execute", run_id=run_id, node_=node, kwargs=kwargs, task_id=None
        )
        method = adapters.async_methods.get("do_node_execute", adapters.do_node_execute)
        try:
            if method is None:
                result = node.callable(**kwargs)
            else:
                result = method(run_id=run_id, node_=node, kwargs=kwargs, task_id=None)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            note_node_error(exc, node, None)
            await _run_hooks(
                adapters,
                "post_node_execute",
                run_id=run_id,
                node_=node,
                kwargs=kwargs,
                success=False,
                error=exc,
                result=None,
                task_id=None,
            )
            raise
        await _run_hooks(
            adapters,
            "post_node_execute",
            run_id=run_id,
            node_=node,
            kwargs=kwargs,
            success=True,
            error=None,
            result=result,
            task_id=None,
        )
        return result

    async def _run_plan(
        self, plan: ExecutionPlan, constants: dict[str, Any], run_id: str
    ) -> dict[str, Any]:
        """One task per node; returns the requested outputs once every task is done."""
        nodes = self.graph.nodes
        tasks: dict[str, asyncio.Task[Any]] = {}
        for name in plan.execution_path:
            tasks[name] = asyncio.ensure_future(
                self._run_node(nodes[name], tasks, constants, run_id)
            )
        try:
            if tasks:
                done, _ = await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_EXCEPTION)
                for name in plan.execution_path:
                    task = tasks[name]
                    if task in done and not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        finally:
            pending = [t for t in tasks.values() if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            for task in tasks.values():  # mark failures as retrieved
                if task.done() and not task.cancelled():
                    task.exception()
        return {
            out: constants[source] if source in constants else tasks[source].result()
            for out, source in plan.outputs.items()
        }

    async def _execute_async(
        self,
        final_vars: Sequence[Any],
        overrides: dict[str, Any] | None,
        inputs: dict[str, Any] | None,
        build_result: bool,
    ) -> Any:
        """One run: graph hooks around planning, execution and result building."""
        run_id = str(uuid.uuid4())
        adapters = self.adapter
        pre = _has_hooks(adapters, "pre_graph_execute")
        post = _has_hooks(adapters, "post_graph_execute")
        plan: ExecutionPlan | None = None
        constants: dict[str, Any] = {}
        rejected: BaseException | None = None
        try:
            plan, constants = self._run(final_vars, overrides, inputs, run_id)
            self._check_supported(plan, self.graph.nodes)
        except Exception as exc:
            if not (pre or post):
                raise
            rejected = exc
        if pre:
            await _run_hooks(
                adapters,
                "pre_graph_execute",
                run_id=run_id,
                graph=self.graph,
                final_vars=_output_names(final_vars, self.graph),
                inputs=inputs or {},
                overrides=overrides or {},
                execution_path=plan.execution_path if plan else [],
            )
        try:
            if rejected is not None:
                raise rejected
            assert plan is not None
            result: Any = await self._run_plan(plan, constants, run_id)
            result = self._with_passed_inputs(final_vars, result, constants)
            build = adapters.do_build_result
            if build_result and build is not None:
                result = await _call_method(build, outputs=result)
        except BaseException as exc:
            if post:
                await _run_hooks(
                    adapters,
                    "post_graph_execute",
                    run_id=run_id,
                    graph=self.graph,
                    success=False,
                    error=exc,
                    results=None,
                )
            raise
        if post:
            await _run_hooks(
                adapters,
                "post_graph_execute",
                run_id=run_id,
                graph=self.graph,
                success=True,
                error=None,
                results=result,
            )
        return result

    async def execute(  # type: ignore[override]
        self,
        final_vars: Sequence[str | Callable[..., Any] | HamiltonNode],
        overrides: dict[str, Any] | None = None,
        display_graph: bool = False,
        inputs: dict[str, Any] | None = None,
    ) -> Any:
        """Computes ``final_vars`` concurrently and returns them shaped by the result builder.

        Args:
            final_vars: node names, node functions or nodes to compute.
            overrides: values that replace nodes; whatever only they needed is skipped.
            display_graph: must be False (not supported; use ``visualize_execution``).
            inputs: values for the graph's inputs.
        """
        _reject_display_graph(display_graph)
        return await self._execute_async(final_vars, overrides, inputs, build_result=True)

    async def raw_execute(  # type: ignore[override]
        self,
        final_vars: Sequence[str | Callable[..., Any] | HamiltonNode],
        overrides: dict[str, Any] | None = None,
        display_graph: bool = False,
        inputs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Like :meth:`execute`, but returns the plain ``{name: value}`` dict of outputs."""
        _reject_display_graph(display_graph)
        return await self._execute_async(final_vars, overrides, inputs, build_result=False)

    # ---- materialization ----------------------------------------------------------------
    async def materialize(  # type: ignore[override]
        self,
        *materializers: Any,
        additional_vars: Sequence[str | Callable[..., Any] | HamiltonNode] | None = None,
        overrides: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Like :meth:`cayley.driver.Driver.materialize`, with the nodes run as async tasks.

        Returns ``(metadata by materializer id, additional_vars by name)``.
        """
        request, variant, created = self._materialization(materializers, additional_vars)
        if created:
            await _call_hooks(
                self.adapter.async_hooks.get("post_graph_construct", ()),
                graph=variant.graph,
                modules=self.graph_modules,
                config=self.config,
            )
        results = await variant._execute_async(
            request.outputs, overrides, inputs, build_result=False
        )
        return request.split(results)


def _reject_display_graph(display_graph: bool) -> None:
    if display_graph:
        raise ValueError(
            "display_graph=True is not supported by the async driver; call "
            "visualize_execution(...) instead."
        )


class Builder(_SyncBuilder):
    """Configures an :class:`AsyncDriver`; ``await builder.build()`` returns it initialised.

    Without a result builder among the adapters, the driver returns a dict of outputs.
    Dynamic execution and legacy graph adapters are not supported.
    """

    @staticmethod
    def _not_supported(method: str, hint: str = "") -> AsyncExecutionNotSupported:
        message = f"Builder().{method}() is not supported by the async driver."
        return AsyncExecutionNotSupported(f"{message} {hint}".strip())

    def enable_dynamic_execution(self, *, allow_experimental_mode: bool = False) -> Builder:
        """Not supported by the async driver: always raises."""
        raise self._not_supported(
            "enable_dynamic_execution", "Use cayley.driver.Builder for Parallelizable/Collect."
        )

    def with_adapter(self, adapter: Any) -> Builder:
        """Not supported by the async driver: always raises."""
        raise self._not_supported(
            "with_adapter", "Pass lifecycle adapters (async hooks included) to with_adapters."
        )

    def build_without_init(self) -> AsyncDriver:
        """Builds the driver without awaiting :meth:`AsyncDriver.ainit` (call it yourself)."""
        adapters = list(self.adapters)
        has_builder = any(isinstance(a, BaseDoBuildResult) for a in adapters)
        return AsyncDriver(
            dict(self.config),
            *self.modules,
            result_builder=None if has_builder else DictResult(),
            adapters=adapters,
            allow_module_overrides=self._allow_module_overrides,
            _materializers=list(self.materializers),
        )

    async def build(self) -> AsyncDriver:  # type: ignore[override]
        """Builds and initialises the driver."""
        return await self.build_without_init().ainit()
