"""The built-in validators of pandas Series values.

They serve ``range``, ``values_in``, ``data_type``, ``max_fraction_nans``, ``allow_nans``,
``max_standard_dev`` and ``mean_in_range`` for Series outputs. pandas and numpy are never
imported at import time: a value can only be a Series once pandas is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cayley.data_quality import base
from cayley.data_quality.type_matching import is_pandas_series

__all__ = [
    "AllowNaNsValidatorPandasSeries",
    "DataInRangeValidatorPandasSeries",
    "DataInValuesValidatorPandasSeries",
    "DataTypeValidatorPandasSeries",
    "MaxFractionNansValidatorPandasSeries",
    "MaxStandardDevValidatorPandasSeries",
    "MeanInRangeValidatorPandasSeries",
]


def _percent(fraction: float) -> str:
    return f"{fraction:.2%}"


class DataInRangeValidatorPandasSeries(base.BaseDefaultValidator):
    """Every value of the series lies in the inclusive ``range``."""

    def __init__(self, range: tuple[float, float], importance: str) -> None:
        super().__init__(importance=importance)
        self.range = range

    @classmethod
    def arg(cls) -> str:
        return "range"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return is_pandas_series(datatype)

    def description(self) -> str:
        return f"Checks that every value lies within [{self.range[0]}, {self.range[1]}]."

    def validate(self, data: Any) -> base.ValidationResult:
        low, high = self.range
        inside = data.between(low, high, inclusive="both")
        in_range = int(inside.sum())
        out_range = int(len(data) - in_range)
        return base.ValidationResult(
            passes=out_range == 0,
            message=f"{in_range} value(s) within [{low}, {high}], {out_range} outside.",
            diagnostics={
                "range": self.range,
                "in_range": in_range,
                "out_range": out_range,
                "data_size": len(data),
            },
        )


class DataInValuesValidatorPandasSeries(base.BaseDefaultValidator):
    """Every non-missing value of the series is one of ``values_in``."""

    def __init__(self, values_in: Iterable[Any], importance: str) -> None:
        super().__init__(importance=importance)
        self.values = frozenset(values_in)

    @classmethod
    def arg(cls) -> str:
        return "values_in"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return is_pandas_series(datatype)

    def description(self) -> str:
        return f"Checks that every non-missing value is one of {sorted(map(str, self.values))}."

    def validate(self, data: Any) -> base.ValidationResult:
        allowed = data.isin(self.values) | data.isna()
        correct = int(allowed.sum())
        incorrect = int(len(data) - correct)
        message = f"{correct} allowed value(s), {incorrect} not allowed."
        if incorrect:
            message += f" Allowed values: {self.values}."
        return base.ValidationResult(
            passes=incorrect == 0,
            message=message,
            diagnostics={
                "values": self.values,
                "correct_values_count": correct,
                "incorrect_values_count": incorrect,
                "incorrect_values": data[~allowed].value_counts().to_dict(),
                "data_size": len(data),
            },
        )


class MaxFractionNansValidatorPandasSeries(base.BaseDefaultValidator):
    """At most ``max_fraction_nans`` of the series is missing."""

    def __init__(self, max_fraction_nans: float, importance: str) -> None:
        super().__init__(importance=importance)
        if not 0 <= max_fraction_nans <= 1:
            raise ValueError(
                f"max_fraction_nans must lie within [0, 1], got {max_fraction_nans!r}."
            )
        self.max_fraction_nans = max_fraction_nans

    @classmethod
    def arg(cls) -> str:
        return "max_fraction_nans"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return is_pandas_series(datatype)

    def description(self) -> str:
        return f"Checks that at most {_percent(self.max_fraction_nans)} of the values are missing."

    def validate(self, data: Any) -> base.ValidationResult:
        total = len(data)
        missing = int(data.isna().sum())
        fraction = missing / total if total else 0.0
        passes = fraction <= self.max_fraction_nans
        return base.ValidationResult(
            passes=passes,
            message=(
                f"{missing} of {total} value(s) are missing ({_percent(fraction)}); at most "
                f"{_percent(self.max_fraction_nans)} allowed."
            ),
            diagnostics={
                "total_nan": missing,
                "total_length": total,
                "fraction_na": fraction,
                "max_fraction_na": self.max_fraction_nans,
            },
        )


class AllowNaNsValidatorPandasSeries(MaxFractionNansValidatorPandasSeries):
    """``allow_nans=False``: no value of the series is missing."""

    def __init__(self, allow_nans: bool, importance: str) -> None:
        if allow_nans:
            raise ValueError(
                "allow_nans only accepts False (to forbid missing values); to allow some, "
                "use max_fraction_nans instead."
            )
        super().__init__(max_fraction_nans=0.0, importance=importance)

    @classmethod
    def arg(cls) -> str:
        return "allow_nans"


class DataTypeValidatorPandasSeries(base.BaseDefaultValidator):
    """The series' dtype is (a subtype of) the numpy type ``data_type``."""

    def __init__(self, data_type: type, importance: str) -> None:
        super().__init__(importance=importance)
        self.datatype = data_type

    @classmethod
    def arg(cls) -> str:
        return "data_type"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return is_pandas_series(datatype)

    def description(self) -> str:
        return f"Checks that the series' dtype is a subtype of {self.datatype}."

    def validate(self, data: Any) -> base.ValidationResult:
        import numpy as np

        dtype = getattr(data.dtype, "type", data.dtype)
        passes = bool(np.issubdtype(dtype, self.datatype))
        return base.ValidationResult(
            passes=passes,
            message=f"Expected a subtype of {self.datatype}, got {dtype}.",
            diagnostics={"required_dtype": self.datatype, "actual_dtype": dtype},
        )


class MaxStandardDevValidatorPandasSeries(base.BaseDefaultValidator):
    """The series' standard deviation is at most ``max_standard_dev``."""

    def __init__(self, max_standard_dev: float, importance: str) -> None:
        super().__init__(importance=importance)
        self.max_standard_dev = max_standard_dev

    @classmethod
    def arg(cls) -> str:
        return "max_standard_dev"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return is_pandas_series(datatype)

    def description(self) -> str:
        return f"Checks that the standard deviation is at most {self.max_standard_dev}."

    def validate(self, data: Any) -> base.ValidationResult:
        standard_dev = data.std()
        passes = bool(standard_dev <= self.max_standard_dev)
        return base.ValidationResult(
            passes=passes,
            message=f"Standard deviation {standard_dev}; at most {self.max_standard_dev} allowed.",
            diagnostics={"standard_dev": standard_dev, "max_standard_dev": self.max_standard_dev},
        )


class MeanInRangeValidatorPandasSeries(base.BaseDefaultValidator):
    """The series' mean lies in the inclusive ``mean_in_range``."""

    def __init__(self, mean_in_range: tuple[float, float], importance: str) -> None:
        super().__init__(importance=importance)
        self.mean_in_range = mean_in_range

    @classmethod
    def arg(cls) -> str:
        return "mean_in_range"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return is_pandas_series(datatype)

    def description(self) -> str:
        low, high = self.mean_in_range
        return f"Checks that the mean lies within [{low}, {high}]."

    def validate(self, data: Any) -> base.ValidationResult:
        mean = data.mean()
        low, high = self.mean_in_range
        passes = bool(low <= mean <= high)
        return base.ValidationResult(
            passes=passes,
            message=f"Mean {mean} {'lies' if passes else 'does not lie'} within [{low}, {high}].",
            diagnostics={"dataset_mean": mean, "mean_in_range": self.mean_in_range},
        )
