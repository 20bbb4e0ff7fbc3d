"""DaskDataFrameResult shapes outputs like Hamilton's, scalars placed by output order."""

from typing import Any

import dask.dataframe as dd
import pandas as pd
import pytest

from tests.parity.conftest import Library


def _build(lib: Library, outputs: dict[str, Any]) -> pd.DataFrame:
    result = lib.module("plugins.h_dask").DaskDataFrameResult.build_result(**outputs)
    assert isinstance(result, dd.DataFrame)
    return result.compute(scheduler="sync").convert_dtypes(dtype_backend="pyarrow")


def _expected(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.convert_dtypes(dtype_backend="pyarrow")


CASES = {
    "scalar_alone": ({"a": 1}, pd.DataFrame({"a": [1]})),
    "scalar_after_series": (
        {"b": pd.Series([4, 5, 6]), "a": 1, "c": "s"},
        pd.DataFrame({"b": [4, 5, 6], "a": [1, 1, 1], "c": ["s", "s", "s"]}),
    ),
    "scalar_before_series": (
        {"a": 1, "b": pd.Series([4, 5, 6])},
        pd.DataFrame({"a": [1, pd.NA, pd.NA], "b": [4, 5, 6]}),
    ),
    "frames_and_lists": (
        {"d": pd.DataFrame({"x": [1, 2]}), "l": [7, 8], "t": (9, 10)},
        pd.DataFrame({"d.x": [1, 2], "l": [7, 8], "t": [9, 10]}),
    ),
    "varied_lengths": (
        {
            "a": 1,
            "b": pd.Series([4, 5, 6]),
            "c": pd.Series([10, 6]),
            "d": pd.DataFrame({"x": [11, 22, 33, 44]}),
            "e": "z",
        },
        pd.DataFrame(
            {
                "a": [1, pd.NA, pd.NA, pd.NA],
                "b": [4, 5, 6, pd.NA],
                "c": [10, 6, pd.NA, pd.NA],
                "d.x": [11, 22, 33, 44],
                "e": ["z", "z", "z", pd.NA],
            }
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dask_dataframe_result(lib: Library, case: str) -> None:
    outputs, expected = CASES[case]
    pd.testing.assert_frame_equal(_build(lib, dict(outputs)), _expected(expected))


def test_dask_scalars_are_computed_and_repeated(lib: Library) -> None:
    a = dd.from_pandas(pd.Series([4, 5, 6]), npartitions=2)
    actual = _build(lib, {"a": a, "total": a.sum()})
    pd.testing.assert_frame_equal(
        actual, _expected(pd.DataFrame({"a": [4, 5, 6], "total": [15] * 3}))
    )
