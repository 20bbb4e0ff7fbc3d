"""Result builders and legacy graph adapters: each rule with real values, alone and end to end."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cayley import ad_hoc_utils, base, driver
from cayley.execution import executors
from cayley.lifecycle import api as lifecycle_api
from cayley.plugins import h_polars

ROOT = Path(__file__).resolve().parents[1]

DTI = pd.date_range("2020-01-01", periods=3)
DTI_KEY = f"DatetimeIndex:::{DTI.dtype}"

numpy_matrix_warning = pytest.mark.filterwarnings(
    "ignore:the matrix subclass:PendingDeprecationWarning"
)


def make_module(source: str) -> types.ModuleType:
    """A fresh module from ``source``."""
    return ad_hoc_utils.module_from_source(source)


SERIES_MODULE = """
import pandas as pd

def base_values() -> pd.Series:
    return pd.Series([1, 2, 3])

def doubled(base_values: pd.Series) -> pd.Series:
    return base_values * 2

def offset(base_values: pd.Series) -> pd.Series:
    return pd.Series([10, 20, 30], index=[1, 2, 3])

def total(doubled: pd.Series) -> int:
    return int(doubled.sum())

def frame(base_values: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"x": base_values, "y": base_values + 1})

def label() -> str:
    return "hello"
"""

NUMBERS_MODULE = """
def a() -> list:
    return [1, 2, 3]

def b(a: list) -> list:
    return [v * 10 for v in a]

def scale() -> float:
    return 0.5

def short() -> list:
    return [1, 2]
"""


@pytest.fixture(scope="module")
def series_module() -> types.ModuleType:
    """A dataflow producing pandas objects with various index types."""
    return make_module(SERIES_MODULE)


@pytest.fixture(scope="module")
def numbers_module() -> types.ModuleType:
    """A dataflow producing plain lists and scalars."""
    return make_module(NUMBERS_MODULE)


# ---- DictResult ------------------------------------------------------------------------------
def test_dict_result_returns_outputs_unchanged() -> None:
    marker = object()
    result = base.DictResult().build_result(a=1, b=[1, 2], c=marker)
    assert result == {"a": 1, "b": [1, 2], "c": marker}
    assert result["c"] is marker
    assert base.DictResult.build_result(x=1) == {"x": 1}


def test_dict_result_types() -> None:
    assert base.DictResult().output_type() == dict[str, Any]
    assert base.DictResult().input_types() == [Any]


# ---- PandasDataFrameResult: building -------------------------------------------------------------
def test_pandas_outer_joins_on_index() -> None:
    df = base.PandasDataFrameResult.build_result(
        a=pd.Series([1, 2, 3]), b=pd.Series([4, 5, 6], index=[1, 2, 3])
    )
    assert list(df.index) == [0, 1, 2, 3]
    assert list(df.columns) == ["a", "b"]
    assert df["a"].tolist()[:3] == [1, 2, 3]
    assert np.isnan(df["a"].iloc[3])
    assert np.isnan(df["b"].iloc[0])
    assert df["b"].tolist()[1:] == [4, 5, 6]


def test_pandas_datetime_and_int_index_union() -> None:
    df = base.PandasDataFrameResult.build_result(
        a=pd.Series([1, 2, 3], index=DTI), b=pd.Series([7, 8])
    )
    assert len(df) == 5
    assert df["a"].notna().sum() == 3
    assert df["b"].notna().sum() == 2


def test_pandas_scalar_is_broadcast() -> None:
    df = base.PandasDataFrameResult.build_result(a=pd.Series([1, 2, 3]), b=5)
    assert df["b"].tolist() == [5, 5, 5]
    assert df["a"].tolist() == [1, 2, 3]


def test_pandas_lists_and_arrays_make_range_index_frame() -> None:
    df = base.PandasDataFrameResult.build_result(a=[1, 2, 3], b=np.array([4.0, 5.0, 6.0]))
    assert isinstance(df.index, pd.RangeIndex)
    assert df.to_dict(orient="list") == {"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]}


def test_pandas_dict_values_become_rows_keyed_by_dict_keys() -> None:
    df = base.PandasDataFrameResult.build_result(a={"x": 1, "y": 2}, b={"x": 3, "y": 4})
    assert list(df.index) == ["x", "y"]
    assert df.loc["y", "b"] == 4


def test_pandas_all_scalars_make_one_row() -> None:
    df = base.PandasDataFrameResult.build_result(a=1, b="x", c=2.5)
    assert df.shape == (1, 3)
    assert df.iloc[0].tolist() == [1, "x", 2.5]


def test_pandas_single_scalar_makes_one_cell() -> None:
    df = base.PandasDataFrameResult.build_result(a=1)
    assert df.to_dict(orient="list") == {"a": [1]}


def test_pandas_single_dataframe_returned_as_is() -> None:
    frame = pd.DataFrame({"x": [1, 2]})
    assert base.PandasDataFrameResult.build_result(only=frame) is frame


def test_pandas_single_series_becomes_named_column() -> None:
    df = base.PandasDataFrameResult.build_result(s=pd.Series([1, 2], name="other"))
    assert list(df.columns) == ["s"]


def test_pandas_dataframes_are_flattened_with_prefixed_columns() -> None:
    df = base.PandasDataFrameResult.build_result(
        a=pd.DataFrame({"x": [1, 2], "y": [3, 4]}), b=pd.Series([5, 6]), c=7
    )
    assert list(df.columns) == ["a.x", "a.y", "b", "c"]
    assert df["a.y"].tolist() == [3, 4]
    assert df["c"].tolist() == [7, 7]


def test_pandas_two_dataframes_outer_join() -> None:
    df = base.PandasDataFrameResult.build_result(
        a=pd.DataFrame({"x": [1, 2]}), b=pd.DataFrame({"x": [3]}, index=[5])
    )
    assert list(df.columns) == ["a.x", "b.x"]
    assert list(df.index) == [0, 1, 5]


@pytest.mark.parametrize("clash", [pd.Series([1, 2]), 3], ids=["series", "scalar"])
@pytest.mark.parametrize("frame_first", [True, False], ids=["frame-first", "frame-last"])
def test_pandas_flattened_name_clash_raises(clash: Any, frame_first: bool) -> None:
    frame = pd.DataFrame({"b": [1, 2]})
    outputs = {"a": frame, "a.b": clash} if frame_first else {"a.b": clash, "a": frame}
    with pytest.raises(ValueError, match="'a.b' would be produced twice"):
        base.PandasDataFrameResult.build_result(**outputs)


def test_pandas_clash_between_two_flattened_frames_raises() -> None:
    outputs = {"a": pd.DataFrame({"b.c": [1]}), "a.b": pd.DataFrame({"c": [2]})}
    with pytest.raises(ValueError, match="'a.b.c' would be produced twice"):
        base.PandasDataFrameResult.build_result(**outputs)


# ---- PandasDataFrameResult: index grouping and warnings --------------------------------------
def test_index_types_grouping() -> None:
    all_types, time_types, no_index = base.PandasDataFrameResult.pandas_index_types(
        {
            "s": pd.Series([1, 2]),
            "t": pd.Series([1, 2, 3], index=DTI),
            "idx": pd.Index([4, 5]),
            "n": 3,
            "l": [1, 2],
        }
    )
    assert all_types == {
        "RangeIndex:::int64": ["s"],
        DTI_KEY: ["t"],
        "Index:::int64": ["idx"],
        "no-index": ["n", "l"],
    }
    assert time_types == {DTI_KEY: ["t"]}
    assert no_index == {"no-index": ["n", "l"]}


def test_index_types_categorical_and_period_count_as_time_like() -> None:
    _, time_types, _ = base.PandasDataFrameResult.pandas_index_types(
        {
            "c": pd.Series([1, 2], index=pd.CategoricalIndex(["a", "b"])),
            "p": pd.Series([1, 2], index=pd.period_range("2020", periods=2, freq="D")),
            "s": pd.Series([1, 2]),
        }
    )
    assert sorted(k.split(":::")[0] for k in time_types) == ["CategoricalIndex", "PeriodIndex"]


@pytest.mark.parametrize(
    ("outputs", "expected", "fragment"),
    [
        ({"a": pd.Series([1]), "b": pd.Series([2])}, True, None),
        ({"a": pd.Series([1]), "b": pd.Series([2], index=DTI[:1])}, False, "different pandas"),
        (
            {
                "a": pd.Series([1], index=DTI[:1]),
                "b": pd.Series([2], index=pd.period_range("2020", periods=1, freq="D")),
            },
            False,
            "time-like",
        ),
        ({"a": pd.Series([1]), "b": 1, "c": 2}, True, "2 output(s) have no index"),
        ({"a": 1, "b": [1]}, False, "None of the outputs"),
        ({}, False, "None of the outputs"),
    ],
    ids=["same", "int-vs-datetime", "two-time", "one-plus-scalars", "no-index", "empty"],
)
def test_index_type_match_and_warnings(
    outputs: dict[str, Any], expected: bool, fragment: str | None, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="cayley.base")
    groups = base.PandasDataFrameResult.pandas_index_types(outputs)
    assert base.PandasDataFrameResult.check_pandas_index_types_match(*groups) is expected
    messages = [r.getMessage() for r in caplog.records]
    if fragment is None:
        assert messages == []
    else:
        assert any(fragment in m for m in messages), messages


def test_pandas_mismatch_only_warns(caplog: Any) -> None:
    caplog.set_level(logging.WARNING, logger="cayley.base")
    df = base.PandasDataFrameResult.build_result(a=pd.Series([1], index=DTI[:1]), b=pd.Series([2]))
    assert len(df) == 2
    assert any("different pandas index types" in r.getMessage() for r in caplog.records)


def test_pandas_types() -> None:
    assert base.PandasDataFrameResult().output_type() is pd.DataFrame
    assert base.PandasDataFrameResult().input_types() == [Any]


# ---- StrictIndexTypePandasDataFrameResult --------------------------------------------------
def test_strict_raises_on_mismatched_index_types() -> None:
    with pytest.raises(ValueError) as info:
        base.StrictIndexTypePandasDataFrameResult.build_result(
            a=pd.Series([1, 2, 3], index=DTI), b=pd.Series([1, 2])
        )
    message = str(info.value)
    assert message.startswith("Error: pandas index types did not match exactly.")
    assert "Found the following indexes:" in message
    assert DTI_KEY in message and "RangeIndex:::int64" in message


def test_strict_raises_on_all_scalars() -> None:
    with pytest.raises(ValueError, match="did not match exactly") as info:
        base.StrictIndexTypePandasDataFrameResult.build_result(a=1, b=2)
    assert "no-index" in str(info.value)


def test_strict_accepts_one_index_type_plus_scalars() -> None:
    df = base.StrictIndexTypePandasDataFrameResult.build_result(a=pd.Series([1, 2]), b=3)
    assert df.to_dict(orient="list") == {"a": [1, 2], "b": [3, 3]}


def test_strict_matching_indexes_build_like_the_lenient_builder() -> None:
    outputs = {"a": pd.Series([1, 2]), "b": pd.DataFrame({"x": [3, 4]})}
    strict = base.StrictIndexTypePandasDataFrameResult.build_result(**outputs)
    lenient = base.PandasDataFrameResult.build_result(**outputs)
    pd.testing.assert_frame_equal(strict, lenient)
    assert list(strict.columns) == ["a", "b.x"]


def test_strict_logs_each_warning_once(caplog: Any) -> None:
    caplog.set_level(logging.WARNING, logger="cayley.base")
    base.StrictIndexTypePandasDataFrameResult.build_result(a=pd.Series([1, 2]), b=3)
    assert len(caplog.records) == 1


# ---- NumpyMatrixResult ----------------------------------------------------------------------
@numpy_matrix_warning
def test_numpy_columns_and_broadcast() -> None:
    result = base.NumpyMatrixResult.build_result(a=[1, 2, 3], b=np.array([4, 5, 6]), c=2.5, d=1)
    assert isinstance(result, np.matrix)
    assert result.shape == (3, 4)
    assert result.tolist() == [[1, 4, 2.5, 1], [2, 5, 2.5, 1], [3, 6, 2.5, 1]]


@numpy_matrix_warning
def test_numpy_length_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="mismatches length") as info:
        base.NumpyMatrixResult.build_result(a=[1, 2], s=7, b=[1, 2, 3])
    assert "'b' has 3" in str(info.value) and "'a' has 2" in str(info.value)


@numpy_matrix_warning
def test_numpy_all_scalars_make_one_row() -> None:
    result = base.NumpyMatrixResult.build_result(a=1, b=2.0)
    assert result.tolist() == [[1.0, 2.0]]


@numpy_matrix_warning
def test_numpy_numpy_scalars_are_broadcast() -> None:
    result = base.NumpyMatrixResult.build_result(a=np.int64(3), b=[1, 2], c=np.float32(0.5))
    assert result.tolist() == [[3, 1, 0.5], [3, 2, 0.5]]


@numpy_matrix_warning
def test_numpy_series_column() -> None:
    result = base.NumpyMatrixResult.build_result(a=pd.Series([1.0, 2.0]), b=[3, 4])
    assert result.tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_numpy_output_type_is_matrix() -> None:
    assert base.NumpyMatrixResult().output_type() is np.matrix
    assert base.NumpyMatrixResult().input_types() == [Any]


@numpy_matrix_warning
@settings(max_examples=50, deadline=None)
@given(
    length=st.integers(min_value=1, max_value=8),
    spec=st.lists(st.one_of(st.none(), st.integers(-100, 100)), min_size=1, max_size=6),
)
def test_numpy_shape_property(length: int, spec: list[int | None]) -> None:
    outputs: dict[str, Any] = {}
    for i, item in enumerate(spec):
        outputs[f"o{i}"] = item if item is not None else list(range(i, i + length))
    rows = length if any(item is None for item in spec) else 1
    result = base.NumpyMatrixResult.build_result(**outputs)
    assert result.shape == (rows, len(spec))
    for col, (name, value) in enumerate(outputs.items()):
        expected = [value] * rows if isinstance(value, int) else value
        assert np.asarray(result[:, col]).ravel().tolist() == expected, name


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.text(alphabet="abcdef", min_size=1, max_size=3),
        st.lists(st.integers(-5, 5), min_size=3, max_size=3),
        min_size=1,
        max_size=5,
    )
)
def test_pandas_same_index_series_property(columns: dict[str, list[int]]) -> None:
    outputs = {name: pd.Series(values) for name, values in columns.items()}
    df = base.PandasDataFrameResult.build_result(**outputs)
    assert list(df.columns) == list(columns)
    assert df.to_dict(orient="list") == columns


# ---- polars -------------------------------------------------------------------------------
def test_polars_single_dataframe_returned_as_is() -> None:
    frame = pl.DataFrame({"x": [1, 2]})
    assert h_polars.PolarsDataFrameResult().build_result(a=frame) is frame


def test_polars_single_lazyframe_is_collected() -> None:
    result = h_polars.PolarsDataFrameResult().build_result(a=pl.LazyFrame({"x": [1, 2]}))
    assert isinstance(result, pl.DataFrame)
    assert result.to_dict(as_series=False) == {"x": [1, 2]}


def test_polars_single_scalar_and_object() -> None:
    builder = h_polars.PolarsDataFrameResult()
    assert builder.build_result(a=3).to_dict(as_series=False) == {"a": [3]}
    assert builder.build_result(a=[1, 2]).to_dict(as_series=False) == {"a": [[1, 2]]}


def test_polars_single_series_named_after_output() -> None:
    result = h_polars.PolarsDataFrameResult().build_result(a=pl.Series("other", [1, 2]))
    assert result.to_dict(as_series=False) == {"a": [1, 2]}


def test_polars_multiple_outputs() -> None:
    result = h_polars.PolarsDataFrameResult().build_result(a=pl.Series("s", [1, 2]), b=[3, 4])
    assert result.to_dict(as_series=False) == {"a": [1, 2], "b": [3, 4]}


def test_polars_length_mismatch_raises() -> None:
    with pytest.raises(pl.exceptions.ShapeError):
        h_polars.PolarsDataFrameResult().build_result(a=[1, 2], b=[1, 2, 3])


def test_polars_types_and_base_class() -> None:
    builder = h_polars.PolarsDataFrameResult()
    assert builder.output_type() is pl.DataFrame
    assert isinstance(builder, base.ResultMixin)


# ---- legacy classes --------------------------------------------------------------------------
def test_legacy_names() -> None:
    assert base.ResultMixin is lifecycle_api.LegacyResultMixin
    assert base.HamiltonGraphAdapter is lifecycle_api.GraphAdapter
    assert issubclass(base.DefaultAdapter, base.SimplePythonGraphAdapter)
    assert issubclass(base.SimplePythonGraphAdapter, base.SimplePythonDataFrameGraphAdapter)
    for cls in (
        base.DictResult,
        base.PandasDataFrameResult,
        base.StrictIndexTypePandasDataFrameResult,
        base.NumpyMatrixResult,
    ):
        assert issubclass(cls, lifecycle_api.ResultBuilder)


def test_simple_python_graph_adapter_defaults_to_dict() -> None:
    adapter = base.SimplePythonGraphAdapter()
    assert isinstance(adapter.result_builder, base.DictResult)
    assert adapter.build_result(a=1) == {"a": 1}
    assert adapter.output_type() == dict[str, Any]
    assert adapter.do_build_result(outputs={"a": 1}) == {"a": 1}


def test_simple_python_graph_adapter_delegates() -> None:
    adapter = base.SimplePythonGraphAdapter(base.PandasDataFrameResult())
    assert adapter.output_type() is pd.DataFrame
    assert isinstance(adapter.build_result(a=[1, 2]), pd.DataFrame)


def test_simple_python_dataframe_adapter_checks() -> None:
    adapter = base.SimplePythonDataFrameGraphAdapter()
    assert adapter.check_input_type(int, 3)
    assert not adapter.check_input_type(int, "3")
    assert adapter.check_node_type_equivalence(int, int)
    assert not adapter.check_node_type_equivalence(int, str)
    assert adapter.output_type() is pd.DataFrame


# ---- end to end ------------------------------------------------------------------------------
def test_legacy_driver_returns_dataframe(series_module: types.ModuleType) -> None:
    dr = driver.Driver({}, series_module)
    df = dr.execute(["base_values", "doubled", "total"])
    assert isinstance(df, pd.DataFrame)
    assert df.to_dict(orient="list") == {
        "base_values": [1, 2, 3],
        "doubled": [2, 4, 6],
        "total": [12, 12, 12],
    }


def test_legacy_driver_outer_join_and_flattening(series_module: types.ModuleType) -> None:
    df = driver.Driver({}, series_module).execute(["doubled", "offset", "frame"])
    assert list(df.columns) == ["doubled", "offset", "frame.x", "frame.y"]
    assert list(df.index) == [0, 1, 2, 3]


def test_legacy_driver_single_dataframe(series_module: types.ModuleType) -> None:
    df = driver.Driver({}, series_module).execute(["frame"])
    assert list(df.columns) == ["x", "y"]


def test_legacy_driver_all_scalars(series_module: types.ModuleType) -> None:
    df = driver.Driver({}, series_module).execute(["total", "label"])
    assert df.to_dict(orient="records") == [{"total": 12, "label": "hello"}]


def test_builder_returns_dict(series_module: types.ModuleType) -> None:
    result = driver.Builder().with_modules(series_module).build().execute(["total", "label"])
    assert result == {"total": 12, "label": "hello"}


def test_builder_with_pandas_result(series_module: types.ModuleType) -> None:
    dr = (
        driver.Builder()
        .with_modules(series_module)
        .with_adapters(base.PandasDataFrameResult())
        .build()
    )
    df = dr.execute(["doubled", "total"])
    assert df.to_dict(orient="list") == {"doubled": [2, 4, 6], "total": [12, 12, 12]}


def test_builder_with_strict_result_raises(series_module: types.ModuleType) -> None:
    dr = (
        driver.Builder()
        .with_modules(series_module)
        .with_adapters(base.StrictIndexTypePandasDataFrameResult())
        .build()
    )
    with pytest.raises(ValueError, match="did not match exactly"):
        dr.execute(["total", "label"])
    with pytest.raises(ValueError, match="did not match exactly"):
        dr.execute(["doubled", "offset", "base_values"], inputs={})
    assert dr.execute(["doubled", "total"])["total"].tolist() == [12, 12, 12]


@pytest.mark.parametrize(
    ("adapter", "expected_type"),
    [
        (base.SimplePythonGraphAdapter(), dict),
        (base.DefaultAdapter(), dict),
        (base.SimplePythonGraphAdapter(base.DictResult()), dict),
        (base.SimplePythonDataFrameGraphAdapter(), pd.DataFrame),
        (base.SimplePythonGraphAdapter(base.PandasDataFrameResult()), pd.DataFrame),
        (base.DictResult(), dict),
    ],
    ids=["simple", "default", "simple-dict", "simple-df", "simple-pandas", "dict"],
)
def test_legacy_driver_with_adapters(
    numbers_module: types.ModuleType, adapter: Any, expected_type: type
) -> None:
    result = driver.Driver({}, numbers_module, adapter=adapter).execute(["a", "b"])
    assert isinstance(result, expected_type)
    if expected_type is dict:
        assert result == {"a": [1, 2, 3], "b": [10, 20, 30]}
    else:
        assert result.to_dict(orient="list") == {"a": [1, 2, 3], "b": [10, 20, 30]}


@numpy_matrix_warning
def test_driver_numpy_matrix(numbers_module: types.ModuleType) -> None:
    adapter = base.SimplePythonGraphAdapter(base.NumpyMatrixResult())
    dr = driver.Driver({}, numbers_module, adapter=adapter)
    matrix = dr.execute(["a", "b", "scale"])
    assert matrix.tolist() == [[1, 10, 0.5], [2, 20, 0.5], [3, 30, 0.5]]
    with pytest.raises(ValueError, match="mismatches length"):
        dr.execute(["a", "short"])


def test_legacy_static_result_mixin_subclass(numbers_module: types.ModuleType) -> None:
    class SumResult(base.ResultMixin):
        """Sums the lengths of the outputs."""

        @staticmethod
        def build_result(**outputs: Any) -> int:
            return sum(len(v) for v in outputs.values())

    dr = driver.Driver({}, numbers_module, adapter=SumResult())
    assert dr.execute(["a", "b", "short"]) == 8


def test_custom_graph_adapter_executes_nodes(numbers_module: types.ModuleType) -> None:
    seen: list[str] = []

    class Recording(base.SimplePythonGraphAdapter):
        """Records each node it runs."""

        def execute_node(self, node: Any, kwargs: dict[str, Any]) -> Any:
            seen.append(node.name)
            return super().execute_node(node, kwargs)

    dr = driver.Driver({}, numbers_module, adapter=Recording())
    assert dr.execute(["b"]) == {"b": [10, 20, 30]}
    assert seen == ["a", "b"]


def test_graph_adapter_and_polars_under_dynamic_execution() -> None:
    module = make_module(
        """
        from cayley.htypes import Collect, Parallelizable

        def item() -> Parallelizable[int]:
            yield from range(4)

        def squared(item: int) -> int:
            return item * item

        def squares(squared: Collect[int]) -> list:
            return sorted(squared)

        def count(squares: list) -> int:
            return len(squares)
        """
    )
    dr = (
        driver.Builder()
        .with_modules(module)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_remote_executor(executors.MultiThreadingExecutor(2))
        .with_adapters(h_polars.PolarsDataFrameResult())
        .build()
    )
    result = dr.execute(["squares", "count"])
    assert isinstance(result, pl.DataFrame)
    assert result.to_dict(as_series=False) == {"squares": [0, 1, 4, 9], "count": [4, 4, 4, 4]}
    dr = (
        driver.Builder()
        .with_modules(module)
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_adapters(base.SimplePythonGraphAdapter())
        .build()
    )
    assert dr.execute(["squares"]) == {"squares": [0, 1, 4, 9]}


# ---- optional dependencies -----------------------------------------------------------------
def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a fresh interpreter rooted at the repository."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_does_not_import_dataframe_libraries() -> None:
    proc = run_python(
        """
        import sys
        import cayley.base, cayley.driver, cayley.lifecycle, cayley.plugins.h_polars
        heavy = sorted(m for m in ("pandas", "numpy", "polars") if m in sys.modules)
        assert not heavy, heavy
        b = cayley.base.DictResult()
        assert b.build_result(a=1) == {"a": 1}
        assert not any(m in sys.modules for m in ("pandas", "numpy", "polars"))
        print("lazy ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "lazy ok" in proc.stdout


def test_missing_libraries_name_the_extra() -> None:
    proc = run_python(
        """
        import sys
        from typing import Any
        sys.modules["pandas"] = None
        sys.modules["numpy"] = None
        sys.modules["polars"] = None
        from cayley import base, driver, ad_hoc_utils
        from cayley.plugins import h_polars
        for call, extra in [
            (lambda: base.PandasDataFrameResult.build_result(a=1), "cayley[pandas]"),
            (lambda: base.StrictIndexTypePandasDataFrameResult.build_result(a=1), "cayley[pandas]"),
            (lambda: base.NumpyMatrixResult.build_result(a=1), "cayley[pandas]"),
            (lambda: h_polars.PolarsDataFrameResult().build_result(a=1), "cayley[polars]"),
        ]:
            try:
                call()
            except ImportError as exc:
                assert extra in str(exc), str(exc)
            else:
                raise AssertionError("no ImportError")
        assert base.PandasDataFrameResult().output_type() is Any
        assert base.NumpyMatrixResult().output_type() is Any
        assert h_polars.PolarsDataFrameResult().output_type() is Any
        module = ad_hoc_utils.module_from_source("def a() -> int:\\n    return 1\\n")
        assert driver.Builder().with_modules(module).build().execute(["a"]) == {"a": 1}
        try:
            driver.Driver({}, module).execute(["a"])
        except ImportError as exc:
            assert "cayley[pandas]" in str(exc)
        else:
            raise AssertionError("no ImportError")
        print("extras ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "extras ok" in proc.stdout


def test_missing_pandas_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install \"cayley\[pandas\]\""):
        base.PandasDataFrameResult.build_result(a=1)
    assert base.PandasDataFrameResult().output_type() is Any
