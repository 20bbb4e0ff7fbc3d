"""The driver's drawing methods: which nodes each ``display_*`` / ``visualize_*`` view draws.

Each view only chooses the nodes to draw and the marks they carry (``output``, ``override``,
``path``); :func:`~cayley.drawing.build_digraph` draws them (node looks come from
:mod:`cayley.drawing_styles`) and :func:`~cayley.drawing.render` writes the drawing to a
file. Those names are re-exported here.

``graphviz`` is optional: it is imported when a drawing is made, never at import time.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cayley.drawing import Scope, build_digraph, render
from cayley.drawing_styles import (
    BLOCK,
    COLLECT,
    CONFIG,
    EXPAND,
    FIELD,
    FUNCTION,
    INPUT,
    MATERIALIZER,
    OUTPUT,
    OVERRIDE,
    PATH,
    CustomStyleFunction,
    DisplayOptions,
)
from cayley.run_request import output_names

if TYPE_CHECKING:
    import graphviz

    from cayley.execution.plan import ExecutionPlan
    from cayley.graph import FunctionGraph

__all__ = [
    "BLOCK",
    "COLLECT",
    "CONFIG",
    "EXPAND",
    "FIELD",
    "FUNCTION",
    "INPUT",
    "MATERIALIZER",
    "OUTPUT",
    "OVERRIDE",
    "PATH",
    "CustomStyleFunction",
    "DisplayOptions",
    "Scope",
    "VisualizationMixin",
    "build_digraph",
    "render",
]


# ---- the driver's methods ------------------------------------------------------------------
def _add_bypass_hint(exc: BaseException) -> None:
    hint = "Pass bypass_validation=True to draw the graph without validating the request."
    if exc.args and isinstance(exc.args[0], str):
        exc.args = (f"{exc.args[0]}\n{hint}", *exc.args[1:])
    else:
        exc.args = (hint, *exc.args)


def _reachable(
    graph: FunctionGraph, outputs: Sequence[str], provided: Collection[str], overridden: set[str]
) -> set[str]:
    """The nodes a request would touch, with no validation (for ``bypass_validation``)."""
    needed = graph.required_nodes(outputs, provided, overridden)
    while True:  # a block needs its expander even when overrides cut it off
        expanders = {e for n in needed - overridden for e in graph.scopes[n]} - needed
        if not expanders:
            return needed
        needed |= graph.required_nodes(expanders, provided, overridden)


class VisualizationMixin:
    """The driver's drawing methods; each returns a ``graphviz.Digraph``.

    Each method chooses the nodes to draw and hands them to :func:`build_digraph`; with
    ``output_file_path`` the drawing is also written by :func:`render` (which needs the
    Graphviz ``dot`` program). The style keyword arguments are those of
    :class:`DisplayOptions`. ``graphviz`` missing raises ImportError.
    """

    graph: FunctionGraph
    config: dict[str, Any]

    if TYPE_CHECKING:

        def _run(
            self,
            final_vars: Sequence[Any],
            overrides: dict[str, Any] | None,
            inputs: dict[str, Any] | None,
            run_id: str,
        ) -> tuple[ExecutionPlan, dict[str, Any]]: ...

        def _materialization(
            self, materializers: Sequence[Any], additional_vars: Sequence[Any] | None
        ) -> tuple[Any, Any, bool]: ...

    def _draw(
        self,
        names: Collection[str],
        marks: Mapping[str, Collection[str]],
        options: DisplayOptions,
        output_file_path: str | os.PathLike[str] | None,
        render_kwargs: Mapping[str, Any] | None,
        keep_dot: bool,
    ) -> graphviz.Digraph:
        dot = build_digraph(self.graph, names, marks, options)
        if output_file_path:
            render(dot, output_file_path, render_kwargs, keep_dot)
        return dot

    def display_all_functions(
        self,
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws the whole graph: every function, input and config value."""
        options = DisplayOptions(
            graphviz_kwargs=graphviz_kwargs,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
        )
        return self._draw(self.graph.nodes, {}, options, output_file_path, render_kwargs, keep_dot)

    def display_upstream_of(
        self,
        *node_names: str,
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws ``node_names`` and everything they depend on."""
        options = DisplayOptions(
            graphviz_kwargs=graphviz_kwargs,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
        )
        names = self.graph.upstream_of(*node_names)
        return self._draw(names, {}, options, output_file_path, render_kwargs, keep_dot)

    def display_downstream_of(
        self,
        *node_names: str,
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws ``node_names``, everything depending on them, and the direct parents of those."""
        options = DisplayOptions(
            graphviz_kwargs=graphviz_kwargs,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
        )
        downstream = self.graph.downstream_of(*node_names)
        names = _with_parents(self.graph, downstream)
        return self._draw(names, {}, options, output_file_path, render_kwargs, keep_dot)

    def visualize_execution(
        self,
        final_vars: Sequence[Any],
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        overrides: dict[str, Any] | None = None,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        bypass_validation: bool = False,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws what ``execute(final_vars, overrides=..., inputs=...)`` would run.

        The request is validated like ``execute`` validates it (missing inputs and input
        types raise ``ValueError``) unless ``bypass_validation`` is set. Outputs are
        highlighted and overridden nodes hatched; what only overrides needed is left out.
        """
        outputs = output_names(final_vars, self.graph)
        self.graph.check_names(outputs)
        if bypass_validation:
            provided = {*(inputs or {}), *self.config}
            names = _reachable(self.graph, outputs, provided, set(overrides or {}))
        else:
            try:
                plan, _ = self._run(outputs, overrides, inputs, "visualization")
            except ValueError as exc:
                _add_bypass_hint(exc)
                raise
            names = set(plan.execution_path) | set(plan.constants)
        marks: dict[str, set[str]] = {name: {OUTPUT} for name in outputs}
        for name in names.intersection(overrides or {}):
            marks.setdefault(name, set()).add(OVERRIDE)
        options = DisplayOptions(
            graphviz_kwargs=graphviz_kwargs,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
        )
        return self._draw(names, marks, options, output_file_path, render_kwargs, keep_dot)

    def visualize_materialization(
        self,
        *materializers: Any,
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        additional_vars: Sequence[Any] | None = None,
        inputs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        overrides: dict[str, Any] | None = None,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        bypass_validation: bool = False,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws what ``materialize(*materializers, ...)`` would run.

        Savers and loaders are drawn as cylinders, the materializer ids and
        ``additional_vars`` as outputs; the request is validated as
        :meth:`visualize_execution` validates it.
        """
        request, variant, _ = self._materialization(materializers, additional_vars)
        return variant.visualize_execution(
            request.outputs,
            output_file_path=output_file_path,
            render_kwargs=render_kwargs,
            inputs=inputs,
            graphviz_kwargs=graphviz_kwargs,
            overrides=overrides,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
            bypass_validation=bypass_validation,
            keep_dot=keep_dot,
        )

    def visualize_path_between(
        self,
        upstream_node_name: str,
        downstream_node_name: str,
        output_file_path: str | None = None,
        render_kwargs: dict[str, Any] | None = None,
        graphviz_kwargs: dict[str, Any] | None = None,
        strict_path_visualization: bool = False,
        show_legend: bool = True,
        orient: str = "LR",
        hide_inputs: bool = False,
        deduplicate_inputs: bool = False,
        show_schema: bool = True,
        custom_style_function: CustomStyleFunction | None = None,
        keep_dot: bool = False,
    ) -> graphviz.Digraph:
        """Draws the paths from one node to another, in red.

        Unless ``strict_path_visualization`` is set, the direct parents of the path's nodes
        are drawn too. Raises ``ValueError`` for an unknown node or when there is no path.
        """
        for role, name in (("Upstream", upstream_node_name), ("Downstream", downstream_node_name)):
            if name not in self.graph.nodes:
                raise ValueError(f"{role} node {name!r} is not in the graph. Check for typos?")
        path = self.graph.path_between(upstream_node_name, downstream_node_name)
        if not path:
            raise ValueError(
                f"There is no path from {upstream_node_name!r} to {downstream_node_name!r}: "
                f"{downstream_node_name!r} does not depend on {upstream_node_name!r}."
            )
        names = path if strict_path_visualization else _with_parents(self.graph, path)
        options = DisplayOptions(
            graphviz_kwargs=graphviz_kwargs,
            show_legend=show_legend,
            orient=orient,
            hide_inputs=hide_inputs,
            deduplicate_inputs=deduplicate_inputs,
            show_schema=show_schema,
            custom_style_function=custom_style_function,
        )
        marks = {name: {PATH} for name in path}
        return self._draw(names, marks, options, output_file_path, render_kwargs, keep_dot)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any] | None:
        """Notebook display: the whole graph (nothing when graphviz is missing)."""
        try:
            dot = self.display_all_functions()
        except ImportError:
            return None
        return dot._repr_mimebundle_(include=include, exclude=exclude, **kwargs)


def _with_parents(graph: FunctionGraph, names: Iterable[str]) -> set[str]:
    """``names`` plus the nodes they directly depend on."""
    result = set(names)
    for name in list(result):
        result.update(graph.dependencies[name])
    return result
