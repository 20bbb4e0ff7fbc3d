"""Dask for plain dataflows: every node a ``dask.delayed`` call, or nodes on Dask collections.

:class:`DaskGraphAdapter` and :class:`DaskDataFrameResult` are re-exported by
:mod:`cayley.plugins.h_dask` under Hamilton's import path; the executor for ``Parallelizable``
blocks is :class:`cayley.plugins.h_dask.DaskExecutor`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

try:
    import dask
    from dask.base import tokenize
    from dask.delayed import Delayed, delayed
    from distributed import Client
except ImportError as _missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "cayley.plugins.h_dask needs Dask with dask.distributed, which is not installed: "
        'pip install "cayley[dask]"'
    ) from _missing

import cloudpickle

from cayley import htypes
from cayley._compat import add_note
from cayley.lifecycle.api import GraphAdapter, LegacyResultMixin
from cayley.plugins._cluster import ByValueModules, node_note

__all__ = ["DaskDataFrameResult", "DaskGraphAdapter"]


class _NodeCall:
    """A node's function (or a result builder) ready for Dask's graph.

    Dask pickles graphs with the standard pickle, which would refer to functions of modules
    built at run time by name; this wrapper pickles the function with cloudpickle instead,
    and names the node in the notes of the errors it raises.
    """

    __slots__ = ("fn", "note")

    def __init__(self, fn: Callable[..., Any], note: str | None = None) -> None:
        self.fn = fn
        self.note = note

    def __call__(self, **kwargs: Any) -> Any:
        try:
            return self.fn(**kwargs)
        except Exception as exc:
            if self.note and self.note not in getattr(exc, "__notes__", ()):
                add_note(exc, self.note)
            raise

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_call, (cloudpickle.dumps(self.fn), self.note))


def _restore_call(blob: bytes, note: str | None) -> _NodeCall:
    return _NodeCall(cloudpickle.loads(blob), note)


def _dask_dataframe() -> Any:
    return sys.modules.get("dask.dataframe")


def _dask_array() -> Any:
    return sys.modules.get("dask.array")


class DaskGraphAdapter(GraphAdapter):
    """Runs a plain (non-dynamic) dataflow through Dask.

    With ``use_delayed=True`` every node becomes a ``dask.delayed`` call, so the dataflow is
    one Dask graph whose independent parts run in parallel on the cluster; the result builder
    runs on the cluster too and ``compute_at_end=True`` brings the result back. With
    ``use_delayed=False`` nodes run as plain calls, which suits functions working on Dask
    collections (``dask.dataframe``, ``dask.array``): they build lazy graphs, and the result
    is computed at the end, or returned lazy with ``compute_at_end=False``.

    Args:
        dask_client: the client whose cluster computes the result (None: Dask's default
            scheduler).
        result_builder: shapes the outputs; ``base.PandasDataFrameResult()`` when None.
        visualize_kwargs: if given, ``visualize(**visualize_kwargs)`` is called on the final
            lazy result (needs graphviz).
        use_delayed: wrap each node in ``dask.delayed``.
        compute_at_end: compute the result before returning it.
    """

    def __init__(
        self,
        dask_client: Client | None,
        result_builder: Any = None,
        visualize_kwargs: dict[str, Any] | None = None,
        use_delayed: bool = True,
        compute_at_end: bool = True,
    ) -> None:
        if result_builder is None:
            from cayley.base import PandasDataFrameResult

            result_builder = PandasDataFrameResult()
        self.client = dask_client
        self.result_builder = result_builder
        self.visualize_kwargs = visualize_kwargs
        self.use_delayed = use_delayed
        self.compute_at_end = compute_at_end
        self._calls: dict[int, tuple[Any, _NodeCall]] = {}
        self._by_value = ByValueModules()

    @staticmethod
    def check_input_type(node_type: type, input_value: Any) -> bool:
        """Accepts Delayed values, and Dask collections where pandas/numpy ones are expected."""
        if isinstance(input_value, Delayed):
            return True
        dd = _dask_dataframe()
        if dd is not None and isinstance(input_value, dd.Series):
            if _is_pandas(node_type, "Series"):
                return True
        da = _dask_array()
        if da is not None and isinstance(input_value, da.Array):
            if getattr(node_type, "__module__", "") == "numpy":
                return True
        return htypes.check_input_type(node_type, input_value)

    @staticmethod
    def check_node_type_equivalence(node_type: type, input_type: type) -> bool:
        """Lets a pandas Series feed a Dask Series or Dask array parameter."""
        if _is_pandas(input_type, "Series"):
            dd = _dask_dataframe()
            if dd is not None and node_type is dd.Series:
                return True
            da = _dask_array()
            if da is not None and node_type is da.Array:
                return True
        return node_type == input_type

    def _call_for(self, node: Any) -> _NodeCall:
        found = self._calls.get(id(node))
        if found is not None and found[0] is node:
            return found[1]
        self._by_value.add_node(node)
        call = _NodeCall(node.callable, node_note(node))
        self._calls[id(node)] = (node, call)
        return call

    def execute_node(self, node: Any, kwargs: dict[str, Any]) -> Any:
        """A ``dask.delayed`` call of the node (or the plain call when ``use_delayed=False``)."""
        if not self.use_delayed:
            return node.callable(**kwargs)
        token = tokenize(node.name, kwargs)
        call = self._call_for(node)
        return delayed(call, name=f"{node.name}-{token}", pure=True)(
            **kwargs, dask_key_name=f"{node.name}-{token}"
        )

    def build_result(self, **outputs: Any) -> Any:
        """Builds the result with the result builder; computes it if ``compute_at_end``."""
        if self.use_delayed:
            build = _NodeCall(self.result_builder.build_result)
            result = delayed(build, name="build_result", pure=True)(**outputs)
        else:
            result = self.result_builder.build_result(**outputs)
        if self.visualize_kwargs is not None:
            result.visualize(**self.visualize_kwargs)
        if not self.compute_at_end:
            return result
        if self.client is not None:
            (computed,) = dask.compute(result, scheduler=self.client)
        else:
            (computed,) = dask.compute(result)
        return computed


def _is_pandas(tp: Any, name: str) -> bool:
    return (
        getattr(tp, "__module__", "").startswith("pandas") and getattr(tp, "__name__", "") == name
    )


class DaskDataFrameResult(LegacyResultMixin):
    """Builds one Dask DataFrame from the outputs, joined column-wise on their index.

    Outputs are taken in order. Dask Series and DataFrames are used as they are; pandas ones
    are converted (one partition); arrays, lists and tuples become columns. The first Series
    or DataFrame sets the index: a scalar (a Dask scalar is computed) coming after it is
    repeated along that index, one coming before it fills a single row at index 0, so the
    outer join pads the other rows with missing values (as in Hamilton; order the outputs to
    choose). A DataFrame output ``df`` with column ``c`` becomes column ``"df.c"``. Needs
    ``dask[dataframe]``.
    """

    @staticmethod
    def build_result(**outputs: Any) -> Any:
        """The outputs, outer-joined on their index, as a Dask DataFrame."""
        import dask.array as da
        import dask.dataframe as dd
        import numpy as np
        import pandas as pd

        if not outputs:
            raise ValueError("DaskDataFrameResult needs at least one output to build a frame.")
        scalar_types = tuple(
            t for t in (getattr(dd, "Scalar", None), _dask_expr_scalar()) if t is not None
        )
        parts: list[Any] = []
        columns: list[str] = []
        index = None  # the pandas index of the first Series/DataFrame, once seen
        for name, value in outputs.items():
            if isinstance(value, (pd.Series, pd.DataFrame)):
                value = dd.from_pandas(value, npartitions=1)
            if isinstance(value, (dd.Series, dd.DataFrame)):
                if index is None:
                    index = value.index.compute()
                parts.append(value)
                if isinstance(value, dd.DataFrame):
                    columns.extend(f"{name}.{column}" for column in value.columns)
                else:
                    columns.append(name)
                continue
            if isinstance(value, (np.ndarray, np.generic)):
                parts.append(dd.from_array(np.asarray(value)))
            elif isinstance(value, (list, tuple)):
                parts.append(dd.from_array(da.from_array(np.asarray(value))))
            else:
                if scalar_types and isinstance(value, scalar_types):
                    value = value.compute()
                if index is None:
                    frame = pd.DataFrame([value], index=[0])
                else:
                    frame = pd.DataFrame([value] * len(index), index=index)
                parts.append(dd.from_pandas(frame, npartitions=1))
            columns.append(name)
        combined = dd.concat(parts, axis=1, join="outer")
        combined.columns = columns
        return combined


def _dask_expr_scalar() -> Any:
    try:
        from dask.dataframe.dask_expr import Scalar
    except ImportError:
        return None
    return Scalar
