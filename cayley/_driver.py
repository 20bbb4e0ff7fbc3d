"""The :class:`Driver`: a built dataflow that runs requests, answers graph queries and draws.

The driver is a thin façade: it builds and validates the graph once, compiles each kind
of request (outputs, input names, override names) once into a cached plan, and hands plans
to the scheduler with the configured executors. It is configured and built by
:class:`cayley.driver.Builder`; ``cayley.driver.Driver`` is the import path users write.
"""

from __future__ import annotations

import collections
import pickle
import threading
import types
import uuid
import warnings
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from cayley.execution.executors import (
    DefaultExecutionManager,
    ExecutionManager,
    SynchronousLocalTaskExecutor,
)
from cayley.execution.grouping import GroupByRepeatableBlocks, GroupingStrategy
from cayley.execution.plan import ExecutionPlan, compile_plan
from cayley.execution.scheduler import run_plan
from cayley.graph import FunctionGraph
from cayley.graph_types import HamiltonGraph, HamiltonNode
from cayley.lifecycle.base import (
    BaseDoBuildResult,
    LifecycleAdapterSet,
    ValidationException,
    call_hooks,
    call_method,
)
from cayley.run_request import (
    check_input_types,
    combine_inputs,
    output_names,
    warn_shadowed_inputs,
    warn_unknown_overrides,
)
from cayley.visualization import VisualizationMixin

if TYPE_CHECKING:
    from cayley.io.materialization import MaterializationRequest

__all__ = ["Driver"]


class Driver(VisualizationMixin):
    """Builds a dataflow from modules and executes requested outputs.

    Args:
        config: configuration values; they select decorator variants, replace nodes of the
            same name and act as inputs.
        *modules: modules whose public functions are the nodes.
        adapter: one lifecycle adapter or a list of them (result builders included). With
            this constructor, results default to a pandas DataFrame; ``Builder().build()``
            returns a dict.
        allow_module_overrides: later modules may redefine nodes of earlier ones.
    """

    #: How many rewritten graphs (one per set of materializers) a driver keeps.
    MATERIALIZED_GRAPHS_KEPT = 16

    def __init__(
        self,
        config: dict[str, Any],
        *modules: types.ModuleType,
        adapter: Any | list[Any] | None = None,
        allow_module_overrides: bool = False,
        _use_legacy_adapter: bool = True,
        _execution_manager: ExecutionManager | None = None,
        _grouping_strategy: GroupingStrategy | None = None,
        _dynamic: bool = False,
        _materializers: Sequence[Any] | None = None,
    ) -> None:
        if config is not None and not isinstance(config, dict):
            raise TypeError(
                f"Driver(config, *modules) takes the config dict first, got "
                f"{type(config).__name__} {config!r:.60}. Write Driver({{}}, module) or use "
                "Builder().with_modules(module).build()."
            )
        adapters = (
            list(adapter) if isinstance(adapter, (list, tuple)) else ([adapter] if adapter else [])
        )
        if _use_legacy_adapter and not any(isinstance(a, BaseDoBuildResult) for a in adapters):
            from cayley.base import PandasDataFrameResult

            adapters.append(PandasDataFrameResult())
        self.adapter = LifecycleAdapterSet(*adapters)
        call_hooks(self.adapter.pre_do_anything)
        self.config = dict(config or {})
        self.graph_modules = modules
        edge_check = self.adapter.do_check_edge_types_match
        self._edge_type_check = (
            (
                lambda type_from, type_to: call_method(
                    edge_check, type_from=type_from, type_to=type_to
                )
            )
            if edge_check is not None
            else None
        )
        self.graph = FunctionGraph.from_modules(
            *modules,
            config=self.config,
            allow_module_overrides=allow_module_overrides,
            edge_type_check=self._edge_type_check,
        )
        self._materializers = list(_materializers or ())
        if self._materializers:
            from cayley.io import materialization

            request = materialization.MaterializationRequest.of(self._materializers)
            self.graph = materialization.rewrite_graph(
                self.graph, request, self._edge_type_check, output_names
            )
        self._validate_graph()
        call_hooks(
            self.adapter.post_graph_construct, graph=self.graph, modules=modules, config=self.config
        )
        self._dynamic = _dynamic
        self._allow_module_overrides = allow_module_overrides
        self._grouping_strategy = _grouping_strategy or GroupByRepeatableBlocks()
        self._execution_manager = _execution_manager or DefaultExecutionManager(
            SynchronousLocalTaskExecutor(), SynchronousLocalTaskExecutor()
        )
        self._plans: dict[tuple, ExecutionPlan] = {}
        self._materialized: collections.OrderedDict[tuple, Driver] = collections.OrderedDict()
        self._materialized_lock = threading.Lock()
        # Without dynamic execution a run has no tasks to speak of: task hooks stay silent.
        self._run_adapters = self.adapter if _dynamic else self.adapter.without_task_hooks()
        self._public_graph: HamiltonGraph | None = None

    # ---- construction helpers -----------------------------------------------------------
    def _validate_graph(self) -> None:
        errors: list[str] = []
        for validator in self.adapter.validate_node:
            for node in self.graph.nodes.values():
                valid, error = validator(created_node=node)
                if not valid:
                    errors.append(f"Node {node.name}: {error}")
        for validator in self.adapter.validate_graph:
            valid, error = validator(
                graph=self.graph, modules=self.graph_modules, config=self.config
            )
            if not valid:
                errors.append(f"Graph: {error}")
        if errors:
            raise ValidationException(
                f"{len(errors)} validation error(s) found:\n" + "\n".join(f"  {e}" for e in errors)
            )

    @property
    def hamilton_graph(self) -> HamiltonGraph:
        """The read-only public view of the graph (computed once)."""
        if self._public_graph is None:
            self._public_graph = HamiltonGraph.from_graph(self.graph)
            self.graph._public_view = self._public_graph  # type: ignore[attr-defined]
        return self._public_graph

    # ---- execution ----------------------------------------------------------------------
    def _plan_for(
        self, outputs: list[str], provided: Collection[str], overridden: Collection[str]
    ) -> ExecutionPlan:
        key = (tuple(outputs), frozenset(provided), frozenset(overridden))
        plan = self._plans.get(key)
        if plan is None:
            plan = compile_plan(self.graph, outputs, provided, overridden, self._grouping_strategy)
            self._plans[key] = plan
        return plan

    def _run(
        self,
        final_vars: Sequence[Any],
        overrides: dict[str, Any] | None,
        inputs: dict[str, Any] | None,
        run_id: str,
    ) -> tuple[ExecutionPlan, dict[str, Any]]:
        outputs = output_names(final_vars, self.graph)
        overrides = overrides or {}
        if overrides:
            warn_unknown_overrides(self.graph, overrides)
        values = combine_inputs(self.config, inputs)
        warn_shadowed_inputs(self.graph, inputs)
        # A value passed in ``inputs`` may be requested even if no node has its name (as in
        # Hamilton): it is handed back as given, next to the plan's outputs.
        passed = [o for o in outputs if o not in self.graph.nodes and o in values]
        if passed:
            outputs = [o for o in outputs if o not in passed]
        provided = [k for k in values if k in self.graph.nodes and self.graph.nodes[k].user_defined]
        plan = self._plan_for(outputs, provided, list(overrides))
        check_input_types(self.graph, plan, values, overrides, self.adapter.do_validate_input)
        constants = {}
        for name in plan.constants:
            constants[name] = overrides[name] if name in overrides else values[name]
        for name in passed:
            constants[name] = values[name]
        return plan, constants

    def _with_passed_inputs(
        self, final_vars: Sequence[Any], result: dict[str, Any], constants: dict[str, Any]
    ) -> dict[str, Any]:
        """The plan's ``result`` with the requested inputs that are no node, in request order."""
        outputs = output_names(final_vars, self.graph)
        if all(name in result for name in outputs):
            return result
        return {name: result[name] if name in result else constants[name] for name in outputs}

    def _execute_raw(
        self,
        final_vars: Sequence[Any],
        overrides: dict[str, Any] | None,
        inputs: dict[str, Any] | None,
        build_result: bool,
    ) -> Any:
        """One run: graph hooks around validation, execution and result building."""
        run_id = str(uuid.uuid4())
        adapters = self.adapter
        pre = adapters.pre_graph_execute
        post = adapters.post_graph_execute
        try:
            plan, constants = self._run(final_vars, overrides, inputs, run_id)
        except Exception as exc:
            if not (pre or post):
                raise
            plan, constants, rejected = None, {}, exc
        else:
            rejected = None
        if pre:
            call_hooks(
                pre,
                run_id=run_id,
                graph=self.graph,
                final_vars=output_names(final_vars, self.graph),
                inputs=inputs or {},
                overrides=overrides or {},
                execution_path=plan.execution_path if plan else [],
            )
        try:
            if rejected is not None:
                raise rejected
            assert plan is not None
            result = run_plan(
                plan,
                constants,
                run_id,
                self._execution_manager,
                self._run_adapters,
                label_tasks=self._dynamic and (adapters.has_node_hooks or adapters.has_task_hooks),
            )
            result = self._with_passed_inputs(final_vars, result, constants)
            build = adapters.do_build_result
            if build_result and build is not None:
                result = call_method(build, outputs=result)
        except BaseException as exc:
            if post:
                call_hooks(
                    post, run_id=run_id, graph=self.graph, success=False, error=exc, results=None
                )
            raise
        if post:
            call_hooks(
                post, run_id=run_id, graph=self.graph, success=True, error=None, results=result
            )
        return result

    def execute(
        self,
        final_vars: Sequence[str | Callable[..., Any] | HamiltonNode],
        overrides: dict[str, Any] | None = None,
        display_graph: bool = False,
        inputs: dict[str, Any] | None = None,
    ) -> Any:
        """Computes ``final_vars`` and returns them shaped by the result builder.

        Args:
            final_vars: node names, node functions or nodes to compute.
            overrides: values that replace nodes; whatever only they needed is skipped. An
                override that names no node warns (with the closest node names) and is
                ignored.
            display_graph: ignored; kept for compatibility.
            inputs: values for the graph's inputs. A value given for a node that a function
                computes is ignored with a warning (use ``overrides`` to replace it).
        """
        return self._execute_raw(final_vars, overrides, inputs, build_result=True)

    def raw_execute(
        self,
        final_vars: list[str],
        overrides: dict[str, Any] | None = None,
        display_graph: bool = False,
        inputs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Deprecated: like :meth:`execute` but always returns the plain dict of outputs."""
        warnings.warn(
            "Driver.raw_execute is deprecated; use Builder().build().execute(...), which returns "
            "a dict.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._execute_raw(final_vars, overrides, inputs, build_result=False)

    def validate_execution(
        self,
        final_vars: Sequence[str | Callable[..., Any] | HamiltonNode],
        overrides: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> None:
        """Raises if ``execute`` with these arguments could not start; runs nothing."""
        self._run(final_vars, overrides, inputs, "validation")

    # ---- materialization (the rewrites live in cayley.io.materialization) ----------------
    def _with_graph(self, graph: FunctionGraph) -> Driver:
        """This driver over another graph: validated and announced like the original."""
        variant = object.__new__(type(self))  # not copy.copy: pickling rebuilds from modules
        variant.__dict__.update(self.__dict__)
        variant.graph = graph
        variant._plans = {}
        variant._materialized = collections.OrderedDict()
        variant._materialized_lock = threading.Lock()
        variant._public_graph = None
        variant._validate_graph()
        call_hooks(
            self.adapter.post_graph_construct,
            graph=graph,
            modules=self.graph_modules,
            config=self.config,
        )
        return variant

    def _materialization(
        self, materializers: Sequence[Any], additional_vars: Sequence[Any] | None
    ) -> tuple[MaterializationRequest, Driver, bool]:
        """The request, the driver running it (cached per materializers), whether it is new."""
        from cayley.io.materialization import MaterializationRequest, rewrite_graph

        extra = output_names(additional_vars, self.graph) if additional_vars else []
        request = MaterializationRequest.of(materializers, extra)
        if not request.outputs:
            raise ValueError(
                "Nothing to materialize: pass materializers (to.<format>(...)) or "
                "additional_vars=[...] to compute."
            )
        if not (request.materializers or request.extractors):
            return request, self, False
        key = request.key(self.graph, output_names)
        with self._materialized_lock:
            variant = self._materialized.get(key)
            if variant is not None:
                self._materialized.move_to_end(key)
                return request, variant, False
        graph = rewrite_graph(self.graph, request, self._edge_type_check, output_names)
        variant = self._with_graph(graph)
        with self._materialized_lock:
            self._materialized[key] = variant
            if len(self._materialized) > self.MATERIALIZED_GRAPHS_KEPT:
                self._materialized.popitem(last=False)
        return request, variant, True

    def materialize(
        self,
        *materializers: Any,
        additional_vars: Sequence[str | Callable[..., Any] | HamiltonNode] | None = None,
        overrides: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Runs the dataflow with savers (``to.*``) added and loaders (``from_.*``) swapped in.

        Returns ``(metadata by materializer id, additional_vars by name)``; no result builder
        is applied. Execution is ``execute``'s (same executors and hooks) on the rewritten
        graph, which is built once per set of materializers.

        Args:
            *materializers: ``to.<format>(...)`` and ``from_.<format>(...)`` objects.
            additional_vars: other nodes to compute and return.
            overrides: values that replace nodes.
            inputs: values for the graph's inputs.
        """
        request, variant, _ = self._materialization(materializers, additional_vars)
        results = variant._execute_raw(request.outputs, overrides, inputs, build_result=False)
        return request.split(results)

    def validate_materialization(
        self,
        *materializers: Any,
        additional_vars: Sequence[str | Callable[..., Any] | HamiltonNode] | None = None,
        overrides: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> None:
        """Raises if ``materialize`` with these arguments could not start; runs nothing."""
        request, variant, _ = self._materialization(materializers, additional_vars)
        variant._run(request.outputs, overrides, inputs, "validation")

    # ---- graph queries ------------------------------------------------------------------
    def _public(self, names: Collection[str]) -> list[HamiltonNode]:
        view = self.hamilton_graph
        return [view[name] for name in self.graph.in_topological_order(names)]

    def list_available_variables(
        self, *, tag_filter: dict[str, str | list[str] | None] | None = None
    ) -> list[HamiltonNode]:
        """Every node (inputs and config keys included), optionally filtered by tags.

        ``tag_filter`` values are a string, a non-empty list of strings (any matches) or None
        (the tag is present); anything else raises ValueError.
        """
        from cayley.node import matches_query, validate_tag_filter

        nodes = self.hamilton_graph.nodes
        if tag_filter is None:
            return list(nodes)
        validate_tag_filter(tag_filter)
        return [n for n in nodes if matches_query(n.tags, tag_filter)]

    def what_is_upstream_of(self, *node_names: str) -> list[HamiltonNode]:
        """The nodes ``node_names`` depend on, themselves included."""
        return self._public(self.graph.upstream_of(*node_names))

    def what_is_downstream_of(self, *node_names: str) -> list[HamiltonNode]:
        """The nodes depending on ``node_names``, themselves included."""
        return self._public(self.graph.downstream_of(*node_names))

    def what_is_the_path_between(
        self, upstream_node_name: str, downstream_node_name: str
    ) -> list[HamiltonNode]:
        """Nodes on a path from one node to another; empty if there is none."""
        return self._public(self.graph.path_between(upstream_node_name, downstream_node_name))

    @property
    def cache(self) -> Any:
        """The cache adapter set up by ``Builder().with_cache()`` (logs, versions, prune)."""
        from cayley.caching.adapter import CacheAdapter

        for adapter in self.adapter.adapters:
            if isinstance(adapter, CacheAdapter):
                return adapter
        raise KeyError(
            "This driver has no cache: build it with Builder().with_cache() to use Driver.cache."
        )

    def has_cycles(self, final_vars: Sequence[str] | None = None) -> bool:
        """Always False: graphs with cycles are rejected when they are built."""
        return False

    # ---- pickling -----------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """Settings and module names; the graph is rebuilt from them when unpickled."""
        for module in self.graph_modules:
            if getattr(module, "__file__", None) is None:
                raise pickle.PicklingError(
                    f"Cannot pickle a driver built from module {module.__name__!r}: it was made "
                    "at run time, so it cannot be imported again where the driver is unpickled."
                )
        return {
            "config": self.config,
            "modules": [module.__name__ for module in self.graph_modules],
            "adapters": list(self.adapter.adapters),
            "allow_module_overrides": self._allow_module_overrides,
            "execution_manager": self._execution_manager,
            "grouping_strategy": self._grouping_strategy,
            "dynamic": self._dynamic,
            "materializers": self._materializers,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Re-imports the modules by name and rebuilds the driver."""
        import importlib

        modules = [importlib.import_module(name) for name in state["modules"]]
        Driver.__init__(
            self,
            state["config"],
            *modules,
            adapter=state["adapters"],
            allow_module_overrides=state["allow_module_overrides"],
            _use_legacy_adapter=False,
            _execution_manager=state["execution_manager"],
            _grouping_strategy=state["grouping_strategy"],
            _dynamic=state["dynamic"],
            _materializers=state.get("materializers"),
        )

    def export_execution(
        self, final_vars: list[str], inputs: dict | None = None, overrides: dict | None = None
    ) -> str:
        """JSON description of the nodes a request would run."""
        import json

        plan, _ = self._run(final_vars, overrides, inputs, "export")
        view = self.hamilton_graph
        nodes = sorted((view[n].as_dict() for n in plan.execution_path), key=lambda d: d["name"])
        return json.dumps({"nodes": nodes}, default=str)
