"""The same decorated modules on Apache Hamilton 1.90 and on cayley: same nodes, same results.

Each source is written against ``hamilton`` and run as is on Hamilton, then with ``hamilton``
replaced by ``cayley``. Compared: node names, their dependencies, type names and tags (the
``module`` tag and cayley's drawing-group tag aside), and the values of the requested
outputs. Column functions live in a second module handed to both as ``cols``.
"""

from __future__ import annotations

import itertools
import logging
import sys
import types
from typing import Any

import pandas as pd
import polars as pl
import pytest

from cayley.function_modifiers.with_columns import GROUP_TAG

pytest.importorskip("hamilton")

COLS = """
import pandas as pd
import polars as pl

def a_plus_b(a: pd.Series, b: pd.Series) -> pd.Series:
    return a + b

def scaled(a_plus_b: pd.Series, factor: float) -> pd.Series:
    return a_plus_b * factor

def a_total(a: pd.Series) -> float:
    return float(a.sum())

def pa_plus_b(a: pl.Series, b: pl.Series) -> pl.Series:
    return a + b

def la_plus_b(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return a + b
"""

WITH_COLUMNS = """
import pandas as pd
import polars as pl
from hamilton.plugins import h_pandas, h_polars, h_polars_lazyframe

@h_pandas.with_columns(cols.a_plus_b, cols.scaled, cols.a_total, columns_to_pass=["a", "b"])
def all_columns(initial: pd.DataFrame) -> pd.DataFrame:
    return initial

@h_pandas.with_columns(
    cols.a_plus_b, cols.scaled, columns_to_pass=["a", "b"], select=["scaled"], namespace="ns"
)
def some_columns(initial: pd.DataFrame, extra: int) -> pd.DataFrame:
    return initial.assign(extra=extra)

def a_x100(initial: pd.DataFrame) -> pd.Series:
    return initial["a"] * 100

@h_pandas.with_columns(a_x100, cols.scaled, on_input="initial", select=["a_x100"])
def on_input(initial: pd.DataFrame) -> pd.DataFrame:
    return initial

@h_polars.with_columns(cols.pa_plus_b, columns_to_pass=["a", "b"])
def polars_frame(pinitial: pl.DataFrame) -> pl.DataFrame:
    return pinitial

@h_polars_lazyframe.with_columns(cols.la_plus_b, columns_to_pass=["a", "b"])
def lazy_frame(linitial: pl.LazyFrame) -> pl.LazyFrame:
    return linitial

def la_doubled(linitial: pl.LazyFrame) -> pl.Expr:
    return pl.col("a") * 2

@h_polars_lazyframe.with_columns(la_doubled, on_input="linitial", select=["la_doubled"])
def lazy_on_input(linitial: pl.LazyFrame) -> pl.LazyFrame:
    return linitial
"""

VALIDATION = """
import pandas as pd
import polars as pl
import pandera.pandas as pa
import pandera.polars as ppl
import pydantic
from hamilton.function_modifiers import check_output
from hamilton.plugins import h_pydantic

SCHEMA = pa.DataFrameSchema({"a": pa.Column(int, pa.Check.ge(0))})
SERIES = pa.SeriesSchema(float, pa.Check.le(10.0))
PL_SCHEMA = ppl.DataFrameSchema({"a": ppl.Column(pl.Int64, ppl.Check.ge(0))})

class Point(pydantic.BaseModel):
    x: int
    y: str

@check_output(schema=SCHEMA, importance="warn")
def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"a": [1, n]})

@check_output(schema=SERIES)
def series(n: int) -> pd.Series:
    return pd.Series([1.0, float(n)])

@check_output(schema=PL_SCHEMA)
def pframe(n: int) -> pl.DataFrame:
    return pl.DataFrame({"a": [1, n]})

@check_output(model=Point)
def point_dict(n: int) -> dict:
    return {"x": n, "y": "label" if n >= 0 else 3}

@h_pydantic.check_output()
def point(n: int) -> Point:
    return Point(x=n, y="p")
"""

_ids = itertools.count()


def _load(package: str, source: str) -> types.ModuleType:
    def make(text: str) -> types.ModuleType:
        module = types.ModuleType(f"frames_diff_{package}_{next(_ids)}")
        sys.modules[module.__name__] = module
        return module

    cols = make(COLS)
    exec(compile(COLS, cols.__name__, "exec", dont_inherit=True), cols.__dict__)
    text = source.replace("hamilton", package)
    module = make(text)
    module.cols = cols
    exec(compile(text, module.__name__, "exec", dont_inherit=True), module.__dict__)
    return module


def _driver(package: str, source: str) -> Any:
    driver = __import__(f"{package}.driver", fromlist=["Builder"])
    return driver.Builder().with_modules(_load(package, source)).build()


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def _summary(dr: Any) -> dict[str, tuple]:
    out = {}
    for var in dr.list_available_variables():
        tags = {k: v for k, v in var.tags.items() if k not in ("module", GROUP_TAG)}
        out[var.name] = (_type_name(var.type), tags, sorted(var.required_dependencies))
    return out


def _same_value(left: Any, right: Any) -> None:
    if isinstance(left, pd.DataFrame):
        pd.testing.assert_frame_equal(left, right)
    elif isinstance(left, pd.Series):
        pd.testing.assert_series_equal(left, right)
    elif isinstance(left, pl.LazyFrame):
        assert left.collect().equals(right.collect())
    elif isinstance(left, pl.DataFrame):
        assert left.equals(right)
    elif type(left).__name__ == "ValidationResult":
        # Hamilton's diagnostics keys are kept (cayley adds failure_cases).
        assert left.passes == right.passes
        assert set(left.diagnostics) <= set(right.diagnostics)
    elif hasattr(left, "model_dump"):  # pydantic models of two copies of one module
        assert (type(left).__name__, left.model_dump()) == (
            type(right).__name__,
            right.model_dump(),
        )
    else:
        assert left == right


def _compare(source: str, outputs: list[str], inputs: dict[str, Any]) -> dict[str, Any]:
    hamilton, cayley = _driver("hamilton", source), _driver("cayley", source)
    assert _summary(cayley) == _summary(hamilton)
    expected = hamilton.execute(outputs, inputs=dict(inputs))
    actual = cayley.execute(outputs, inputs=dict(inputs))
    assert list(actual) == list(expected)
    for name in outputs:
        _same_value(expected[name], actual[name])
    return actual


def test_with_columns_matches_hamilton() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [10, 20, 30]})
    pframe = pl.DataFrame({"a": [1, 2], "b": [3, 4]})
    result = _compare(
        WITH_COLUMNS,
        [
            "all_columns",
            "some_columns",
            "on_input",
            "polars_frame",
            "lazy_frame",
            "lazy_on_input",
            "all_columns.a_total",
        ],
        {
            "initial": frame,
            "factor": 2.0,
            "extra": 5,
            "pinitial": pframe,
            "linitial": pframe.lazy(),
        },
    )
    assert result["all_columns"]["scaled"].tolist() == [22.0, 44.0, 66.0]
    assert result["lazy_on_input"].collect()["la_doubled"].to_list() == [2, 4]


@pytest.mark.parametrize("n", [5, -5, 50])
def test_validation_matches_hamilton(n: int, caplog: pytest.LogCaptureFixture) -> None:
    outputs = ["frame", "series", "pframe", "point_dict", "point"]
    validators = [
        "frame_pandera_schema_validator",
        "series_pandera_schema_validator",
        "pframe_pandera_schema_validator",
        "point_dict_pydantic_validator",
        "point_pydantic_validator",
    ]
    with caplog.at_level(logging.WARNING):
        result = _compare(VALIDATION, outputs + validators, {"n": n})
    passes = {name: result[name].passes for name in validators}
    assert passes == {
        "frame_pandera_schema_validator": n >= 0,
        "series_pandera_schema_validator": n <= 10,
        "pframe_pandera_schema_validator": n >= 0,
        "point_dict_pydantic_validator": n >= 0,
        "point_pydantic_validator": True,
    }
