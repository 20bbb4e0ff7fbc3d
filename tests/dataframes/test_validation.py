"""``check_output(schema=...)`` with pandera and ``check_output(model=...)`` with pydantic."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pandera.polars as ppl
import polars as pl
import pydantic
import pytest
from pandera.typing.pandas import DataFrame as PandasModelFrame
from pandera.typing.polars import DataFrame as PolarsModelFrame
from pandera.typing.polars import LazyFrame as PolarsModelLazyFrame

from cayley import ad_hoc_utils, driver
from cayley.data_quality.base import DataValidationError, ValidationResult
from cayley.function_modifiers import (
    DATA_VALIDATOR_ORIGINAL_OUTPUT_TAG,
    IS_DATA_VALIDATOR_TAG,
    InvalidDecoratorException,
    check_output,
)
from cayley.function_modifiers.base import resolve_nodes
from cayley.lifecycle import api
from cayley.plugins import h_pandera, h_pydantic

ROOT = Path(__file__).resolve().parents[2]

SCHEMA = pa.DataFrameSchema(
    {"a": pa.Column(int, pa.Check.ge(0)), "b": pa.Column(float, nullable=False)}
)


class Scores(pa.DataFrameModel):
    a: int = pa.Field(ge=0)


class PolarsScores(ppl.DataFrameModel):
    a: int = ppl.Field(ge=0)


class Point(pydantic.BaseModel):
    x: int
    label: str


def run(fn: Any, outputs: list[str] | None = None, **inputs: Any) -> dict[str, Any]:
    module = ad_hoc_utils.create_temporary_module(fn)
    dr = driver.Builder().with_modules(module).build()
    return dr.execute(outputs or [fn.__name__], inputs=inputs)


# ---- pandera on pandas ------------------------------------------------------------------
def test_fail_raises_naming_node_column_and_check() -> None:
    @check_output(schema=SCHEMA, importance="fail")
    def scores(n: int) -> pd.DataFrame:
        return pd.DataFrame({"a": [1, n, n], "b": [1.0, 2.0, 3.0]})

    assert run(scores, n=4)["scores"]["a"].tolist() == [1, 4, 4]
    with pytest.raises(DataValidationError) as info:
        run(scores, n=-7)
    message = str(info.value)
    assert "[scores:pandera_schema_validator]" in message
    assert "column 'a' failed check greater_than_or_equal_to(0): -7, -7 (rows [1, 2])" in message


def test_warn_logs_and_passes_the_value_on(caplog: pytest.LogCaptureFixture) -> None:
    @check_output(schema=SCHEMA)
    def scores(n: int) -> pd.DataFrame:
        return pd.DataFrame({"a": [n], "b": [1]})

    with caplog.at_level(logging.WARNING, logger="cayley.data_quality.base"):
        result = run(scores, n=-1)["scores"]
    assert result["a"].tolist() == [-1]
    (record,) = [r for r in caplog.records if "scores:pandera_schema_validator" in r.message]
    assert "column 'a' failed check greater_than_or_equal_to(0): -1" in record.message
    assert "column 'b' failed check dtype('float64'): 'int64'" in record.message


def test_validator_node_result_tags_and_hooks_see_it() -> None:
    seen: list[tuple[str, dict, Any]] = []

    class Watcher(api.NodeExecutionHook):
        def run_before_node_execution(self, **kwargs: Any) -> None:
            pass

        def run_after_node_execution(self, *, node_name, node_tags, result, **kwargs) -> None:
            if node_tags.get(IS_DATA_VALIDATOR_TAG):
                seen.append((node_name, dict(node_tags), result))

    @check_output(schema=SCHEMA, importance="warn")
    def scores(n: int) -> pd.DataFrame:
        return pd.DataFrame({"a": [n], "b": [1.5]})

    module = ad_hoc_utils.create_temporary_module(scores)
    dr = driver.Builder().with_modules(module).with_adapters(Watcher()).build()
    nodes = {v.name: v for v in dr.list_available_variables()}
    assert set(nodes) == {"scores", "scores_raw", "scores_pandera_schema_validator", "n"}
    validator = nodes["scores_pandera_schema_validator"]
    assert validator.tags[DATA_VALIDATOR_ORIGINAL_OUTPUT_TAG] == "scores"
    result = dr.execute(["scores"], inputs={"n": -2})
    assert result["scores"]["a"].tolist() == [-2]
    ((name, tags, outcome),) = seen
    assert name == "scores_pandera_schema_validator" and tags[IS_DATA_VALIDATOR_TAG] is True
    assert isinstance(outcome, ValidationResult) and not outcome.passes
    assert outcome.diagnostics["failure_cases"][0]["column"] == "a"
    assert len(outcome.diagnostics["schema_errors"]) == 1


def test_dataframe_model_class_as_schema_and_series_schema() -> None:
    @check_output(schema=Scores, importance="fail")
    def modelled(n: int) -> pd.DataFrame:
        return pd.DataFrame({"a": [n]})

    @check_output(schema=pa.SeriesSchema(float, pa.Check.le(1.0), name="p"), importance="fail")
    def probability(n: int) -> pd.Series:
        return pd.Series([0.5, n / 10], name="p")

    assert run(modelled, n=1)["modelled"]["a"].tolist() == [1]
    with pytest.raises(DataValidationError, match="column 'a' failed check greater_than"):
        run(modelled, n=-1)
    assert run(probability, n=5)["probability"].tolist() == [0.5, 0.5]
    with pytest.raises(DataValidationError, match=r"\[probability:pandera_schema_validator\]"):
        run(probability, n=20)


# ---- pandera on polars ------------------------------------------------------------------
def test_polars_frames_lazyframes_and_series() -> None:
    schema = ppl.DataFrameSchema({"a": ppl.Column(pl.Int64, ppl.Check.ge(0))})

    @check_output(schema=schema, importance="fail")
    def frame(n: int) -> pl.DataFrame:
        return pl.DataFrame({"a": [1, n]})

    @check_output(schema=schema, importance="fail")
    def lazy(n: int) -> pl.LazyFrame:
        return pl.DataFrame({"b": [n]}).lazy()

    @check_output(schema=ppl.Column(pl.Float64, ppl.Check.lt(1.0)), importance="fail")
    def series(n: int) -> pl.Series:
        return pl.Series("share", [0.5, n / 10])

    @check_output(schema=schema, importance="fail")
    def named_series(n: int) -> pl.Series:
        return pl.Series("ignored", [n])

    assert run(frame, n=3)["frame"]["a"].to_list() == [1, 3]
    with pytest.raises(DataValidationError, match="column 'a' failed check greater_than"):
        run(frame, n=-3)
    with pytest.raises(DataValidationError, match="column_in_dataframe: 'a'"):
        run(lazy, n=1)
    assert run(series, n=1)["series"].to_list() == [0.5, 0.1]
    with pytest.raises(DataValidationError, match="column 'share' failed check less_than"):
        run(series, n=20)
    assert run(named_series, n=2)["named_series"].to_list() == [2]
    with pytest.raises(DataValidationError, match="column 'a' failed"):
        run(named_series, n=-2)


def test_schema_must_fit_the_data() -> None:
    @check_output(schema=pa.SeriesSchema(int))
    def frame(n: int) -> pd.DataFrame:
        return pd.DataFrame()

    @check_output(schema=SCHEMA)
    def pframe(n: int) -> pl.DataFrame:
        return pl.DataFrame()

    @check_output(schema=SCHEMA)
    def number(n: int) -> int:
        return n

    @check_output(schema=pa.DataFrameSchema({"a": pa.Column(int), "b": pa.Column(int)}))
    def pseries(n: int) -> pl.Series:
        return pl.Series([n])

    for fn, message in (
        (frame, "a pandas DataFrame needs a pandera.pandas.DataFrameSchema"),
        (pframe, "a polars DataFrame or LazyFrame needs a pandera.polars.DataFrameSchema"),
        (number, "no built-in validator handles schema="),
        (pseries, "a polars Series needs a pandera.polars.Column"),
    ):
        with pytest.raises(InvalidDecoratorException, match=message) as info:
            resolve_nodes(fn, {})
        assert f"node {fn.__name__!r}" in str(info.value)


# ---- pydantic ---------------------------------------------------------------------------
def test_model_on_dicts_and_models_is_strict() -> None:
    @check_output(model=Point, importance="fail")
    def as_dict(x: Any) -> dict:
        return {"x": x, "label": "p"}

    @check_output(model=Point, importance="fail")
    def as_model(x: int) -> Point:
        return Point(x=x, label="p")

    assert run(as_dict, x=3)["as_dict"] == {"x": 3, "label": "p"}
    with pytest.raises(DataValidationError) as info:
        run(as_dict, x="3")
    message = str(info.value)
    assert "[as_dict:pydantic_validator]" in message
    assert "field 'x': Input should be a valid integer [int_type] (got '3')" in message
    assert run(as_model, x=2)["as_model"] == Point(x=2, label="p")


def test_model_warns_and_errors_on_unfit_types(caplog: pytest.LogCaptureFixture) -> None:
    @check_output(model=Point)
    def warned(x: int) -> dict:
        return {"x": x}

    with caplog.at_level(logging.WARNING, logger="cayley.data_quality.base"):
        assert run(warned, x=1)["warned"] == {"x": 1}
    assert any("field 'label': Field required" in r.message for r in caplog.records)

    @check_output(model=Point)
    def number(x: int) -> int:
        return x

    with pytest.raises(InvalidDecoratorException, match="no built-in validator handles model="):
        resolve_nodes(number, {})

    @check_output(model=dict)
    def not_a_model(x: int) -> dict:
        return {}

    with pytest.raises(InvalidDecoratorException, match="BaseModel subclass"):
        resolve_nodes(not_a_model, {})


# ---- the plugin spellings ---------------------------------------------------------------
def test_h_pandera_reads_the_model_from_the_annotation() -> None:
    @h_pandera.check_output(importance="fail")
    def pandas_scores(n: int) -> PandasModelFrame[Scores]:
        return pd.DataFrame({"a": [n]})

    @h_pandera.check_output(importance="fail")
    def polars_scores(n: int) -> PolarsModelFrame[PolarsScores]:
        return pl.DataFrame({"a": [n]})

    @h_pandera.check_output(importance="fail")
    def lazy_scores(n: int) -> PolarsModelLazyFrame[PolarsScores]:
        return pl.DataFrame({"a": [n]}).lazy()

    for fn in (pandas_scores, polars_scores):
        assert set(run(fn, [f"{fn.__name__}_pandera_schema_validator"], n=1)) == {
            f"{fn.__name__}_pandera_schema_validator"
        }
        with pytest.raises(DataValidationError, match=f"{fn.__name__}:pandera_schema_validator"):
            run(fn, n=-1)
    assert run(lazy_scores, n=-1)["lazy_scores"].collect()["a"].to_list() == [-1]

    @h_pandera.check_output()
    def plain(n: int) -> pd.DataFrame:
        return pd.DataFrame()

    with pytest.raises(InvalidDecoratorException, match="naming a pandera model"):
        resolve_nodes(plain, {})
    with pytest.raises(InvalidDecoratorException, match="importance"):
        h_pandera.check_output(importance="loud")


def test_h_pydantic_reads_the_model_from_the_annotation() -> None:
    @h_pydantic.check_output(importance="fail")
    def point(x: Any) -> Point:
        return Point.model_construct(x=x, label="p")

    assert run(point, x=1)["point"].x == 1
    with pytest.raises(DataValidationError, match="point:pydantic_validator"):
        run(point, x="not a number")

    @h_pydantic.check_output()
    def not_a_model(x: int) -> dict:
        return {}

    with pytest.raises(InvalidDecoratorException, match="must be a Pydantic model"):
        resolve_nodes(not_a_model, {})
    with pytest.raises(InvalidDecoratorException, match="importance"):
        h_pydantic.check_output(importance="loud")


# ---- optional imports -------------------------------------------------------------------
def test_libraries_are_imported_only_when_used_and_named_when_missing() -> None:
    code = textwrap.dedent(
        """
        import sys
        import cayley.driver, cayley.function_modifiers, cayley.visualization
        from cayley.function_modifiers import check_output
        from cayley.function_modifiers.base import resolve_nodes

        @check_output(range=(0, 1))
        def checked(x: int) -> int:
            return x

        resolve_nodes(checked, {})
        print(sorted({"pandera", "pydantic"} & set(sys.modules)))
        sys.modules["pandera"] = None
        sys.modules["pydantic"] = None

        @check_output(schema=object())
        def frame(x: int) -> dict:
            return {}

        @check_output(model=object)
        def model(x: int) -> dict:
            return {}

        for fn in (frame, model):
            try:
                resolve_nodes(fn, {})
            except ImportError as exc:
                print(exc)
        for plugin in ("h_pandera", "h_pydantic"):
            try:
                __import__("cayley.plugins." + plugin)
            except ImportError as exc:
                print(exc)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "[]"
    assert len(out) == 5
    assert "schema=...) needs pandera" in out[1] and 'pip install "cayley[pandera]"' in out[1]
    assert "model=...) needs pydantic" in out[2] and 'pip install "cayley[pydantic]"' in out[2]
    assert "h_pandera needs pandera" in out[3] and '"cayley[pandera]"' in out[3]
    assert "h_pydantic needs pydantic" in out[4] and '"cayley[pydantic]"' in out[4]
