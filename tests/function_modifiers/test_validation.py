"""@check_output, @check_output_custom and the built-in validators."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cayley.data_quality import base as dq_base
from cayley.data_quality import default_validators as dv
from cayley.function_modifiers import (
    DATA_VALIDATOR_ORIGINAL_OUTPUT_TAG,
    IS_DATA_VALIDATOR_TAG,
    InvalidDecoratorException,
    base,
    check_output,
    check_output_custom,
    config,
    extract_columns,
    tag,
)
from tests.function_modifiers.helpers import compute, nodes_of, user_tags


def test_check_output_nodes() -> None:
    @check_output(range=(0, 10), importance="fail")
    def checked(x: int) -> int:
        """doc"""
        return x

    nodes = nodes_of(checked)
    assert list(nodes) == ["checked_range_validator", "checked", "checked_raw"]
    validator = nodes["checked_range_validator"]
    assert validator.type is dq_base.ValidationResult
    assert validator.input_types == {"checked_raw": (int, validator.input_types["checked_raw"][1])}
    assert user_tags(validator) == {
        IS_DATA_VALIDATOR_TAG: True,
        DATA_VALIDATOR_ORIGINAL_OUTPUT_TAG: "checked",
    }
    assert user_tags(nodes["checked"]) == {}
    assert set(nodes["checked"].input_types) == {"checked_raw", "checked_range_validator"}
    assert nodes["checked"].documentation == "doc"
    assert compute(nodes, ["checked"], x=3)["checked"] == 3
    with pytest.raises(dq_base.DataValidationError, match=r"\[checked:range_validator\]"):
        compute(nodes, ["checked"], x=30)


def test_warn_logs_instead_of_failing(caplog: pytest.LogCaptureFixture) -> None:
    @check_output(range=(0, 10))
    def checked(x: int) -> int:
        return x

    with caplog.at_level(logging.WARNING):
        assert compute(nodes_of(checked), ["checked"], x=30)["checked"] == 30
    assert "[checked:range_validator] validator failed" in caplog.text


def test_series_validators() -> None:
    @check_output(
        range=(0, 10),
        data_type=np.float64,
        allow_nans=False,
        max_fraction_nans=0.5,
        values_in=[1.0, 2.0],
        max_standard_dev=1.0,
        mean_in_range=(0, 5),
        allow_none=False,
        importance="fail",
    )
    def series() -> pd.Series:
        return pd.Series([1.0, 2.0])

    nodes = nodes_of(series)
    assert {n for n in nodes if n.endswith("_validator")} == {
        f"series_{arg}_validator"
        for arg in (
            "range",
            "data_type",
            "allow_nans",
            "max_fraction_nans",
            "values_in",
            "max_standard_dev",
            "mean_in_range",
            "allow_none",
        )
    }
    good = compute(nodes, ["series"])
    assert good["series"].tolist() == [1.0, 2.0]
    bad = pd.Series([1.0, np.nan, 30.0])
    results = {
        name: node.callable(series_raw=bad)
        for name, node in nodes.items()
        if name.endswith("_validator")
    }
    assert {name for name, result in results.items() if not result.passes} == {
        "series_range_validator",
        "series_allow_nans_validator",
        "series_values_in_validator",
        "series_max_standard_dev_validator",
        "series_mean_in_range_validator",
    }


@pytest.mark.parametrize(
    ("validator", "good", "bad"),
    [
        (dv.DataInRangeValidatorPrimitives(range=(0, 1), importance="warn"), 0.5, 2),
        (dv.DataInValuesValidatorPrimitives(values_in=["a"], importance="warn"), "a", "b"),
        (dv.DataTypeValidatorPrimitives(data_type=int, importance="warn"), 1, "1"),
        (dv.AllowNoneValidator(allow_none=False, importance="warn"), 0, None),
        (dv.StrContainsValidator(contains="ab", importance="warn"), "xaby", "xy"),
        (dv.StrDoesNotContainValidator(does_not_contain=["z"], importance="warn"), "ab", "az"),
        (
            dv.MaxFractionNansValidatorPandasSeries(max_fraction_nans=0.5, importance="warn"),
            pd.Series([1.0, np.nan]),
            pd.Series([np.nan, np.nan, 1.0]),
        ),
        (
            dv.DataTypeValidatorPandasSeries(data_type=np.integer, importance="warn"),
            pd.Series([1]),
            pd.Series(["a"]),
        ),
    ],
)
def test_builtin_validators(validator: dq_base.DataValidator, good: Any, bad: Any) -> None:
    assert validator.validate(good).passes
    result = validator.validate(bad)
    assert not result.passes
    assert result.message
    assert validator.description()


def test_validator_resolution() -> None:
    (validator,) = dv.resolve_default_validators(int, importance="warn", range=(0, 1))
    assert isinstance(validator, dv.DataInRangeValidatorPrimitives)
    (validator,) = dv.resolve_default_validators(pd.Series, importance="fail", range=(0, 1))
    assert isinstance(validator, dv.DataInRangeValidatorPandasSeries)
    assert validator.importance is dq_base.DataValidationLevel.FAIL
    with pytest.raises(ValueError, match=r"no built-in validator handles contains=... .*int"):
        dv.resolve_default_validators(int, importance="warn", contains="x")
    with pytest.raises(ValueError, match="only accepts False"):
        dv.AllowNaNsValidatorPandasSeries(allow_nans=True, importance="warn")
    with pytest.raises(ValueError, match=r"within \[0, 1\]"):
        dv.MaxFractionNansValidatorPandasSeries(max_fraction_nans=2, importance="warn")
    assert not dv.DataInRangeValidatorPrimitives.applies_to(list[int])


class _Positive(dq_base.DataValidator):
    def applies_to(self, datatype: type) -> bool:
        return True

    def description(self) -> str:
        return "Values are positive."

    @classmethod
    def name(cls) -> str:
        return "positive"

    def validate(self, dataset: Any) -> dq_base.ValidationResult:
        return dq_base.ValidationResult(passes=dataset > 0, message=f"{dataset} > 0?")


def test_check_output_custom() -> None:
    @check_output_custom(_Positive("fail"), _Positive("warn"))
    def custom(x: int) -> int:
        return x

    nodes = nodes_of(custom)
    assert set(nodes) == {"custom", "custom_raw", "custom_positive", "custom_positive_1"}
    assert nodes["custom_positive"].documentation == "Values are positive."
    assert compute(nodes, ["custom"], x=1)["custom"] == 1
    with pytest.raises(dq_base.DataValidationError):
        compute(nodes, ["custom"], x=-1)


def test_async_validator_in_sync_node() -> None:
    class _AsyncCheck(dq_base.AsyncDataValidator):
        def applies_to(self, datatype: type) -> bool:
            return True

        def description(self) -> str:
            return "async"

        @classmethod
        def name(cls) -> str:
            return "async_check"

        async def validate(self, dataset: Any) -> dq_base.ValidationResult:
            return dq_base.ValidationResult(True, "ok")

    @check_output_custom(_AsyncCheck("warn"))
    def checked(x: int) -> int:
        return x

    node = nodes_of(checked)["checked_async_check"]
    assert dq_base.is_async_validator(_AsyncCheck("warn"))
    import asyncio

    assert asyncio.run(node.callable(checked_raw=1)).passes


def test_check_output_targets_and_stacking() -> None:
    @tag(owner="me")
    @check_output(range=(0, 10), target_="col")
    @extract_columns("col", "other")
    @config.when(on=True)
    def frame__on() -> pd.DataFrame:
        return pd.DataFrame({"col": [1], "other": [2]})

    nodes = nodes_of(frame__on, {"on": True})
    assert set(nodes) == {"frame", "col_raw", "col_range_validator", "col", "other"}
    assert user_tags(nodes["col"]) == {"owner": "me", "hamilton.config": "on"}
    assert nodes["col_range_validator"].tags[DATA_VALIDATOR_ORIGINAL_OUTPUT_TAG] == "col"


def test_check_output_misuse() -> None:
    with pytest.raises(InvalidDecoratorException, match="importance must be one of"):
        check_output(importance="loud", range=(0, 1))
    with pytest.raises(InvalidDecoratorException, match="at least one validator argument"):
        check_output()
    with pytest.raises(InvalidDecoratorException, match="at least one validator"):
        check_output_custom()
    with pytest.raises(InvalidDecoratorException, match="takes DataValidator instances"):
        check_output_custom(3)  # type: ignore[arg-type]

    @check_output(contains="x")
    def wrong_type(x: int) -> int:
        return x

    with pytest.raises(
        InvalidDecoratorException,
        match=r"@check_output on function .*wrong_type: cannot validate node 'wrong_type': no "
        r"built-in validator handles contains",
    ):
        base.resolve_nodes(wrong_type, {})

    @check_output(range=(0, 1))  # accepted when decorated; rejected when nodes are made
    @check_output(allow_none=False)
    def twice(x: int) -> int:
        return x

    with pytest.raises(InvalidDecoratorException, match="cannot be stacked with @check_output"):
        base.resolve_nodes(twice, {})
