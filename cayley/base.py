"""Result builders and the legacy all-in-one graph adapters.

A result builder turns the dict of requested outputs into what ``Driver.execute`` returns:
:class:`DictResult` hands the dict back, :class:`PandasDataFrameResult` joins the outputs
into one pandas DataFrame (the default of the bare ``Driver(...)`` constructor),
:class:`StrictIndexTypePandasDataFrameResult` refuses to join outputs whose index types
differ, and :class:`NumpyMatrixResult` stacks the outputs as the columns of a matrix.

pandas and numpy are imported only when a builder that needs them runs, so importing this
module stays cheap; without them those builders raise an :class:`ImportError` that names
the ``cayley[pandas]`` extra.
"""

from __future__ import annotations

import logging
import numbers
import pprint
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cayley import htypes
from cayley.lifecycle import api as lifecycle_api

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cayley.node import Node

__all__ = [
    "DefaultAdapter",
    "DictResult",
    "HamiltonGraphAdapter",
    "NumpyMatrixResult",
    "PandasDataFrameResult",
    "ResultMixin",
    "SimplePythonDataFrameGraphAdapter",
    "SimplePythonGraphAdapter",
    "StrictIndexTypePandasDataFrameResult",
]

logger = logging.getLogger(__name__)

_PANDAS_HINT = 'pip install "cayley[pandas]"'

#: Key used for outputs that carry no pandas index (scalars, lists, arrays, objects).
NO_INDEX = "no-index"

#: The legacy result-builder base: ``build_result(**outputs)`` is a static method.
ResultMixin = lifecycle_api.LegacyResultMixin

#: The legacy all-in-one adapter base (type checks, node execution and result building).
HamiltonGraphAdapter = lifecycle_api.GraphAdapter


def _import_pandas() -> Any:
    """The pandas module, or an ImportError naming the extra that provides it."""
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            f"This result builder needs pandas, which is not installed. Install it with: "
            f"{_PANDAS_HINT}"
        ) from exc
    return pandas


def _import_numpy() -> Any:
    """The numpy module, or an ImportError naming the extra that provides it."""
    try:
        import numpy
    except ImportError as exc:
        raise ImportError(
            f"This result builder needs numpy, which is not installed. Install it with: "
            f"{_PANDAS_HINT}"
        ) from exc
    return numpy


def _type_or_any(load: Callable[[], Any]) -> Any:
    """``load()`` if its library is importable, :data:`typing.Any` otherwise."""
    try:
        return load()
    except ImportError:
        return Any


class DictResult(ResultMixin):
    """Returns the outputs as a plain ``{name: value}`` dict, unchanged.

    Useful for heterogeneous outputs, debugging, or shaping the result yourself.
    ``Builder().build()`` drivers return this shape even without a result builder.
    """

    @staticmethod
    def build_result(**outputs: Any) -> dict[str, Any]:
        """The outputs dict itself."""
        return outputs

    def input_types(self) -> list[type]:
        """Any value is accepted."""
        return [Any]  # type: ignore[list-item]

    def output_type(self) -> type:
        """``dict[str, Any]``."""
        return dict[str, Any]  # type: ignore[return-value]


class PandasDataFrameResult(ResultMixin):
    """Joins the outputs into one pandas DataFrame.

    Rules, in order:

    - index types are grouped (see :meth:`pandas_index_types`) and mismatches are logged
      as warnings only (see :meth:`check_pandas_index_types_match`);
    - a single output that is a DataFrame is returned as is;
    - when no output is list-like (all scalars or plain objects) the result is a one-row
      frame with one column per output;
    - when some output is a DataFrame, every DataFrame is flattened into columns named
      ``"{output}.{column}"`` next to the other outputs; a name produced twice raises
      :class:`ValueError`;
    - otherwise ``pd.DataFrame(outputs)``: Series are outer-joined on their index and
      scalars are broadcast.
    """

    @staticmethod
    def pandas_index_types(
        outputs: dict[str, Any],
    ) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]]:
        """Groups output names by the type of their pandas index.

        Returns three dicts keyed by ``"{IndexClass}:::{dtype}"`` (or :data:`NO_INDEX`):
        every output; only the outputs whose index is a datetime, period, timedelta or
        categorical index; only the outputs without an index. A bare ``pd.Index`` output
        counts as having the default integer index.
        """
        pd = _import_pandas()
        time_index_types = (
            pd.DatetimeIndex,
            pd.PeriodIndex,
            pd.TimedeltaIndex,
            pd.CategoricalIndex,
        )
        all_index_types: dict[str, list[str]] = {}
        time_indexes: dict[str, list[str]] = {}
        no_indexes: dict[str, list[str]] = {}
        default_index = pd.Index([0, 1, 2])
        default_key = f"{type(default_index).__name__}:::{default_index.dtype}"
        for name, value in outputs.items():
            if isinstance(value, (pd.DataFrame, pd.Series)):
                index = value.index
                key = f"{type(index).__name__}:::{index.dtype}"
                if isinstance(index, time_index_types):
                    time_indexes.setdefault(key, []).append(name)
            elif isinstance(value, pd.Index):
                key = default_key
            else:
                key = NO_INDEX
                no_indexes.setdefault(key, []).append(name)
            all_index_types.setdefault(key, []).append(name)
        return all_index_types, time_indexes, no_indexes

    @staticmethod
    def check_pandas_index_types_match(
        all_index_types: dict[str, list[str]],
        time_indexes: dict[str, list[str]],
        no_indexes: dict[str, list[str]],
    ) -> bool:
        """Whether the index groups from :meth:`pandas_index_types` line up; logs why not.

        It is a mismatch when several time-like index types occur, when several index types
        occur beyond the time-like ones, or when no output has an index at all. A single
        index type mixed with outputs without an index counts as a match (with a warning).
        """
        distinct = len(all_index_types)
        distinct_time = len(time_indexes)
        distinct_none = len(no_indexes)
        distinct_indexed = distinct - distinct_none
        match = True
        if distinct_time > 1:
            logger.warning(
                "Outputs have different time-like or categorical index types; the joined "
                "frame may not align them as intended. Make the index types equal, or enable "
                "debug logging on %s to list them.",
                __name__,
            )
            match = False
        if distinct_indexed > 1 and distinct > distinct_time:
            logger.warning(
                "Outputs have different pandas index types; the joined frame may not align "
                "them as intended. Make the index types equal, or enable debug logging on %s "
                "to list them.",
                __name__,
            )
            match = False
        elif distinct_indexed == 1 and distinct_none > 0:
            logger.warning(
                "One pandas index type was found, but %d output(s) have no index; check that "
                "the joined frame is what you expect.",
                len(no_indexes.get(NO_INDEX, [])),
            )
        elif distinct_none == distinct:
            logger.warning(
                "None of the outputs has a pandas index; check that the frame built from them "
                "is what you expect."
            )
            match = False
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("Index types of the outputs:\n%s", pprint.pformat(dict(all_index_types)))
        return match

    @staticmethod
    def build_result(**outputs: Any) -> pd.DataFrame:
        """One DataFrame from the outputs (see the class docstring for the rules)."""
        PandasDataFrameResult.check_pandas_index_types_match(
            *PandasDataFrameResult.pandas_index_types(outputs)
        )
        return PandasDataFrameResult._assemble(outputs)

    @staticmethod
    def _assemble(outputs: dict[str, Any]) -> pd.DataFrame:
        """The DataFrame of :meth:`build_result`, without the index-type check."""
        pd = _import_pandas()
        if len(outputs) == 1:
            (only,) = outputs.values()
            if isinstance(only, pd.DataFrame):
                return only
        if not any(pd.api.types.is_list_like(value) for value in outputs.values()):
            return pd.DataFrame([outputs])
        if any(isinstance(value, pd.DataFrame) for value in outputs.values()):
            return PandasDataFrameResult.build_dataframe_with_dataframes(outputs)
        return pd.DataFrame(outputs)

    @staticmethod
    def build_dataframe_with_dataframes(outputs: dict[str, Any]) -> pd.DataFrame:
        """Outer-joins outputs of which some are DataFrames.

        Each DataFrame contributes its columns as ``"{output}.{column}"``; other outputs keep
        their name. A column name produced twice (for instance an output called ``"a.b"``
        next to a DataFrame output ``"a"`` with a column ``"b"``) raises :class:`ValueError`
        rather than silently dropping one of the values.
        """
        pd = _import_pandas()
        columns: dict[str, Any] = {}
        sources: dict[str, str] = {}

        def add(column: str, value: Any, source: str) -> None:
            if column in columns:
                raise ValueError(
                    f"Column {column!r} would be produced twice: by {sources[column]} and by "
                    f"{source}. Rename one of the outputs or DataFrame columns."
                )
            columns[column] = value
            sources[column] = source

        for name, value in outputs.items():
            if isinstance(value, pd.DataFrame):
                for column, series in value.items():
                    add(
                        f"{name}.{column}",
                        series,
                        f"column {column!r} of DataFrame output {name!r}",
                    )
            else:
                kind = "Series" if isinstance(value, pd.Series) else "non-Series"
                add(name, value, f"{kind} output {name!r}")
        return pd.DataFrame(columns)

    def input_types(self) -> list[type]:
        """Any value is accepted."""
        return [Any]  # type: ignore[list-item]

    def output_type(self) -> type:
        """``pandas.DataFrame`` (``Any`` when pandas is not installed)."""
        return _type_or_any(lambda: _import_pandas().DataFrame)


class StrictIndexTypePandasDataFrameResult(PandasDataFrameResult):
    """Like :class:`PandasDataFrameResult`, but raises instead of joining mismatched indexes.

    It raises :class:`ValueError` when the outputs have different index types, and also when
    no output has an index (all scalars, for instance). Outputs without an index are fine
    next to exactly one index type.
    """

    @staticmethod
    def build_result(**outputs: Any) -> pd.DataFrame:
        """One DataFrame from the outputs, or ValueError if their index types differ."""
        groups = PandasDataFrameResult.pandas_index_types(outputs)
        if not PandasDataFrameResult.check_pandas_index_types_match(*groups):
            raise ValueError(
                "Error: pandas index types did not match exactly. Found the following "
                f"indexes:\n{pprint.pformat(dict(groups[0]))}"
            )
        return PandasDataFrameResult._assemble(outputs)


def _is_scalar(value: Any) -> bool:
    """Whether ``value`` is a number to broadcast (Python or numpy scalar)."""
    return isinstance(value, numbers.Number) or getattr(value, "ndim", None) == 0


class NumpyMatrixResult(ResultMixin):
    """Stacks the outputs as the columns of a ``numpy.matrix`` (rows x outputs).

    Numbers are broadcast to the common length; every other output must have the same
    ``len()``, otherwise :class:`ValueError` is raised. When every output is a number the
    matrix has a single row.
    """

    @staticmethod
    def build_result(**outputs: Any) -> np.matrix:
        """The matrix whose column ``i`` is the ``i``-th output."""
        np = _import_numpy()
        num_rows: int | None = None
        first: str | None = None
        for name, value in outputs.items():
            if _is_scalar(value):
                continue
            length = len(value)
            if num_rows is None:
                num_rows, first = length, name
            elif length != num_rows:
                raise ValueError(
                    f"Error, got non scalar result that mismatches length of other vector: "
                    f"output {name!r} has {length} values but {first!r} has {num_rows}."
                )
        rows = 1 if num_rows is None else num_rows
        columns = [
            [value] * rows if _is_scalar(value) else list(value) for value in outputs.values()
        ]
        return np.asmatrix(columns).T

    def input_types(self) -> list[type]:
        """Any value is accepted (numbers and equal-length sequences make sense)."""
        return [Any]  # type: ignore[list-item]

    def output_type(self) -> type:
        """``numpy.matrix`` (``Any`` when numpy is not installed)."""
        return _type_or_any(lambda: _import_numpy().matrix)


class SimplePythonDataFrameGraphAdapter(HamiltonGraphAdapter, PandasDataFrameResult):
    """The original adapter: calls each node's function in process and returns a DataFrame.

    Its type checks are the default ones; the result is built by
    :class:`PandasDataFrameResult`.
    """

    @staticmethod
    def check_input_type(node_type: type, input_value: Any) -> bool:
        """The default shallow input check (:func:`cayley.htypes.check_input_type`)."""
        return htypes.check_input_type(node_type, input_value)

    @staticmethod
    def check_node_type_equivalence(node_type: type, input_type: type) -> bool:
        """Exact equality of the two types (the default edge check still applies too)."""
        return node_type == input_type

    def execute_node(self, node: Node, kwargs: dict[str, Any]) -> Any:
        """Calls the node's function with ``kwargs``."""
        return node.callable(**kwargs)


class SimplePythonGraphAdapter(SimplePythonDataFrameGraphAdapter):
    """Runs nodes in process and delegates the result to a pluggable result builder.

    Args:
        result_builder: builds what ``execute`` returns; :class:`DictResult` when omitted.
    """

    def __init__(self, result_builder: lifecycle_api.ResultBuilder | None = None) -> None:
        self.result_builder = result_builder if result_builder is not None else DictResult()

    def build_result(self, **outputs: Any) -> Any:  # type: ignore[override]
        """Delegates to the configured result builder."""
        return self.result_builder.build_result(**outputs)

    def input_types(self) -> list[type]:
        """The configured result builder's input types."""
        return self.result_builder.input_types()

    def output_type(self) -> type:
        """The configured result builder's output type."""
        return self.result_builder.output_type()


class DefaultAdapter(SimplePythonGraphAdapter):
    """The same as :class:`SimplePythonGraphAdapter` (dict results unless told otherwise)."""
