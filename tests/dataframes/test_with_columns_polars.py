"""``h_polars.with_columns`` and ``h_polars_lazyframe.with_columns``; LazyFrame results."""

from __future__ import annotations

import sys

import pandas as pd
import polars as pl
import pytest

from cayley import ad_hoc_utils, driver
from cayley.function_modifiers import InvalidDecoratorException
from cayley.function_modifiers.with_columns import MissingColumnError
from cayley.plugins import h_polars, h_polars_lazyframe


def frame() -> pl.DataFrame:
    return pl.DataFrame({"a": [1, 2, 3], "b": [10, 20, 30]})


def build(*functions) -> driver.Driver:
    module = ad_hoc_utils.create_temporary_module(*functions)
    return driver.Builder().with_modules(module).build()


def a_plus_b(a: pl.Series, b: pl.Series) -> pl.Series:
    return a + b


def b_share(a_plus_b: pl.Series, b: pl.Series) -> pl.Series:
    return b / a_plus_b


def a_expr() -> pl.Expr:
    return pl.col("a") * 1000


def a_max(a: pl.Series) -> int:
    return int(a.max())


# ---- pl.DataFrame -----------------------------------------------------------------------
def test_polars_columns_to_pass_and_default_select() -> None:
    @h_polars.with_columns(a_plus_b, b_share, a_max, columns_to_pass=["a", "b"])
    def final(initial: pl.DataFrame) -> pl.DataFrame:
        return initial

    dr = build(final)
    appended = {v.name: sorted(v.required_dependencies) for v in dr.list_available_variables()}
    assert appended["final._append"] == [
        "final.a",
        "final.a_plus_b",
        "final.b",
        "final.b_share",
        "initial",
    ]
    result = dr.execute(["final", "final.a_max"], inputs={"initial": frame()})
    assert result["final"].columns == ["a", "b", "a_plus_b", "b_share"]
    assert result["final"]["a_plus_b"].to_list() == [11, 22, 33]
    assert result["final.a_max"] == 3


def test_polars_select_takes_expressions_and_scalars() -> None:
    @h_polars.with_columns(
        a_plus_b, a_expr, a_max, columns_to_pass=["a", "b"], select=["a_expr", "a_max"]
    )
    def final(initial: pl.DataFrame) -> pl.DataFrame:
        return initial

    result = build(final).execute(["final"], inputs={"initial": frame()})["final"]
    assert result["a_expr"].to_list() == [1000, 2000, 3000]
    assert result["a_max"].to_list() == [3, 3, 3]


def test_polars_on_input_and_pass_dataframe_as() -> None:
    def a(initial: pl.DataFrame) -> pl.Series:
        return initial["a"] * 10

    @h_polars.with_columns(a, on_input="initial", select=["a"])
    def replaced(initial: pl.DataFrame) -> pl.DataFrame:
        return initial

    def width(df: pl.DataFrame) -> pl.Series:
        return pl.Series([df.width] * df.height)

    @h_polars.with_columns(width, pass_dataframe_as="df")
    def measured(initial: pl.DataFrame) -> pl.DataFrame:
        return initial

    result = build(replaced, measured).execute(
        ["replaced", "measured"], inputs={"initial": frame()}
    )
    assert result["replaced"]["a"].to_list() == [10, 20, 30]
    assert result["measured"]["width"].to_list() == [2, 2, 2]


def test_polars_missing_column_and_wrong_frame_type() -> None:
    @h_polars.with_columns(a_plus_b, columns_to_pass=["a", "b"])
    def final(initial: pl.DataFrame) -> pl.DataFrame:
        return initial

    with pytest.raises(MissingColumnError, match=r"column 'b' .* whose columns are \['a'\]"):
        build(final).execute(["final"], inputs={"initial": frame().select("a")})
    with pytest.raises(InvalidDecoratorException, match="works on polars.DataFrame"):

        @h_polars.with_columns(a_plus_b, columns_to_pass=["a"])
        def pandas_frame(initial: pd.DataFrame) -> pd.DataFrame:
            return initial


# ---- pl.LazyFrame -----------------------------------------------------------------------
def c_plus_d(c: pl.Expr, d: pl.Expr) -> pl.Expr:
    return c + d


def d_over_c(c_plus_d: pl.Expr, c: pl.Expr) -> pl.Expr:
    return c_plus_d / c


def lazy() -> pl.LazyFrame:
    return pl.LazyFrame({"c": [1, 2], "d": [3, 4]})


def test_lazyframe_columns_stay_lazy_until_collected() -> None:
    @h_polars_lazyframe.with_columns(c_plus_d, d_over_c, columns_to_pass=["c", "d"])
    def final(initial: pl.LazyFrame) -> pl.LazyFrame:
        return initial

    result = build(final).execute(["final"], inputs={"initial": lazy()})["final"]
    assert isinstance(result, pl.LazyFrame)
    assert result.collect().to_dict(as_series=False) == {
        "c": [1, 2],
        "d": [3, 4],
        "c_plus_d": [4, 6],
        "d_over_c": [4.0, 3.0],
    }


def test_lazyframe_on_input_select_and_missing_column_on_collect() -> None:
    def c(initial: pl.LazyFrame) -> pl.Expr:
        return pl.col("c") * -1

    @h_polars_lazyframe.with_columns(c, c_plus_d, on_input="initial", select=["c"])
    def negated(initial: pl.LazyFrame) -> pl.LazyFrame:
        return initial

    @h_polars_lazyframe.with_columns(c_plus_d, columns_to_pass=["c", "d"], namespace="lz")
    def summed(initial: pl.LazyFrame) -> pl.LazyFrame:
        return initial

    dr = build(negated, summed)
    result = dr.execute(["negated", "summed"], inputs={"initial": lazy()})
    assert result["negated"].collect()["c"].to_list() == [-1, -2]
    no_d = dr.execute(["summed"], inputs={"initial": pl.LazyFrame({"c": [1]})})["summed"]
    with pytest.raises(pl.exceptions.ColumnNotFoundError):
        no_d.collect()
    with pytest.raises(InvalidDecoratorException, match="works on polars.LazyFrame"):

        @h_polars_lazyframe.with_columns(c_plus_d, columns_to_pass=["c"])
        def eager(initial: pl.DataFrame) -> pl.DataFrame:
            return initial


def test_lazyframe_result_builder() -> None:
    builder = h_polars_lazyframe.PolarsLazyFrameResult()
    frame_ = lazy()
    assert builder.build_result(x=frame_) is frame_
    built = builder.build_result(x=[1, 2], y=pl.Series([3, 4]))
    assert isinstance(built, pl.LazyFrame)
    assert built.collect().to_dict(as_series=False) == {"x": [1, 2], "y": [3, 4]}
    assert builder.output_type() is pl.LazyFrame


def test_missing_polars_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)
    for make in (
        lambda: h_polars.with_columns(a_plus_b, columns_to_pass=["a"]),
        lambda: h_polars_lazyframe.with_columns(c_plus_d, columns_to_pass=["c"]),
        lambda: list(h_polars.partitions("x.parquet")),
    ):
        with pytest.raises(ImportError, match=r'pip install "cayley\[polars\]"'):
            make()
