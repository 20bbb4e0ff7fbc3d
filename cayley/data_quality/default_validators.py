"""The built-in validators behind ``@check_output(range=..., values_in=..., ...)``.

Each keyword of ``check_output`` picks the first validator whose :meth:`arg` matches and
which applies to the node's type. pandas and numpy are never imported here: a type can only
be a ``pd.Series`` once pandas is loaded, and a value can only be one if it is.
"""

from __future__ import annotations

import importlib
import numbers
import sys
import types
import typing
from collections.abc import Iterable
from typing import Annotated, Any

from cayley.data_quality import base

__all__ = [
    "AVAILABLE_DEFAULT_VALIDATORS",
    "OPTIONAL_VALIDATOR_MODULES",
    "AllowNaNsValidatorPandasSeries",
    "AllowNoneValidator",
    "DataInRangeValidatorPandasSeries",
    "DataInRangeValidatorPrimitives",
    "DataInValuesValidatorPandasSeries",
    "DataInValuesValidatorPrimitives",
    "DataTypeValidatorPandasSeries",
    "DataTypeValidatorPrimitives",
    "MaxFractionNansValidatorPandasSeries",
    "MaxStandardDevValidatorPandasSeries",
    "MeanInRangeValidatorPandasSeries",
    "StrContainsValidator",
    "StrDoesNotContainValidator",
    "load_optional_validators",
    "plain_type",
    "register_validators",
    "resolve_default_validators",
]


def _plain(datatype: Any) -> Any:
    while typing.get_origin(datatype) is Annotated:
        datatype = typing.get_args(datatype)[0]
    return datatype


def plain_type(datatype: Any) -> Any:
    """``datatype`` without ``Annotated``, and a generic class (``DataFrame[Model]``) as its
    class; other generic aliases (``list[int]``) are returned unchanged."""
    datatype = _plain(datatype)
    origin = typing.get_origin(datatype)
    if isinstance(origin, type) and not isinstance(datatype, types.GenericAlias):
        return origin
    return datatype


def _is_subclass(datatype: Any, *bases: type) -> bool:
    datatype = _plain(datatype)
    # list[int] is a GenericAlias, which Python 3.10 also reports as a type.
    if not isinstance(datatype, type) or isinstance(datatype, types.GenericAlias):
        return False
    return issubclass(datatype, bases)


def _is_pandas_series(datatype: Any) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and _is_subclass(datatype, pandas.Series)


def _computed(data: Any) -> Any:
    """Materialize lazy (dask) scalars."""
    return data.compute() if hasattr(data, "dask") else data


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
        return _is_pandas_series(datatype)

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


class DataInRangeValidatorPrimitives(base.BaseDefaultValidator):
    """A number lies in the inclusive ``range``."""

    def __init__(self, range: tuple[float, float], importance: str) -> None:
        super().__init__(importance=importance)
        self.range = range

    @classmethod
    def arg(cls) -> str:
        return "range"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return _is_subclass(datatype, numbers.Real)

    def description(self) -> str:
        return f"Checks that the value lies within [{self.range[0]}, {self.range[1]}]."

    def validate(self, data: Any) -> base.ValidationResult:
        data = _computed(data)
        low, high = self.range
        passes = low <= data <= high
        verdict = "lies" if passes else "does not lie"
        return base.ValidationResult(
            passes=passes,
            message=f"Value {data} {verdict} within [{low}, {high}].",
            diagnostics={"range": self.range, "value": data},
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
        return _is_pandas_series(datatype)

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


class DataInValuesValidatorPrimitives(base.BaseDefaultValidator):
    """A number or string is one of ``values_in``."""

    def __init__(self, values_in: Iterable[Any], importance: str) -> None:
        super().__init__(importance=importance)
        self.values = frozenset(values_in)

    @classmethod
    def arg(cls) -> str:
        return "values_in"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return _is_subclass(datatype, numbers.Real, str)

    def description(self) -> str:
        return f"Checks that the value is one of {sorted(map(str, self.values))}."

    def validate(self, data: Any) -> base.ValidationResult:
        data = _computed(data)
        valid = data in self.values
        message = f"Value {data!r} is {'' if valid else 'not '}an allowed value."
        if not valid:
            message += f" Allowed values: {self.values}."
        return base.ValidationResult(
            passes=valid,
            message=message,
            diagnostics={
                "values": self.values,
                "was_correct": valid,
                "incorrect_value": None if valid else data,
                "data_size": 1,
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
        return _is_pandas_series(datatype)

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
        return _is_pandas_series(datatype)

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


class DataTypeValidatorPrimitives(base.BaseDefaultValidator):
    """A Python value is an instance of ``data_type``."""

    def __init__(self, data_type: type, importance: str) -> None:
        super().__init__(importance=importance)
        self.datatype = data_type

    @classmethod
    def arg(cls) -> str:
        return "data_type"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return _is_subclass(datatype, numbers.Real, str, bool)

    def description(self) -> str:
        return f"Checks that the value is an instance of {self.datatype}."

    def validate(self, data: Any) -> base.ValidationResult:
        data = _computed(data)
        passes = isinstance(data, self.datatype)
        return base.ValidationResult(
            passes=passes,
            message=f"Expected an instance of {self.datatype}, got {type(data)}.",
            diagnostics={"required_data_type": self.datatype, "actual_data_type": type(data)},
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
        return _is_pandas_series(datatype)

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
        return _is_pandas_series(datatype)

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


class AllowNoneValidator(base.BaseDefaultValidator):
    """``allow_none=False``: the value is not ``None``."""

    def __init__(self, allow_none: bool, importance: str) -> None:
        super().__init__(importance)
        self.allow_none = allow_none

    @classmethod
    def arg(cls) -> str:
        return "allow_none"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return True

    def description(self) -> str:
        return "Accepts any value." if self.allow_none else "Checks that the value is not None."

    def validate(self, data: Any) -> base.ValidationResult:
        passes = self.allow_none or data is not None
        return base.ValidationResult(
            passes=passes,
            message="Value is not None." if data is not None else "Value is None.",
            diagnostics={},
        )


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _excerpt(data: str) -> str:
    return data if len(data) < 100 else data[:100]


class StrContainsValidator(base.BaseDefaultValidator):
    """A string contains every one of ``contains``."""

    def __init__(self, contains: str | list[str], importance: str) -> None:
        super().__init__(importance)
        self.contains = _as_list(contains)

    @classmethod
    def arg(cls) -> str:
        return "contains"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return _plain(datatype) is str

    def description(self) -> str:
        return f"Checks that the string contains each of {self.contains}."

    def validate(self, data: str) -> base.ValidationResult:
        absent = [part for part in self.contains if part not in data]
        return base.ValidationResult(
            passes=not absent,
            message=f"String lacks {absent}." if absent else "String contains every part.",
            diagnostics={"contains": self.contains, "data": _excerpt(data)} if absent else {},
        )


class StrDoesNotContainValidator(base.BaseDefaultValidator):
    """A string contains none of ``does_not_contain``."""

    def __init__(self, does_not_contain: str | list[str], importance: str) -> None:
        super().__init__(importance)
        self.does_not_contain = _as_list(does_not_contain)

    @classmethod
    def arg(cls) -> str:
        return "does_not_contain"

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return _plain(datatype) is str

    def description(self) -> str:
        return f"Checks that the string contains none of {self.does_not_contain}."

    def validate(self, data: str) -> base.ValidationResult:
        present = [part for part in self.does_not_contain if part in data]
        return base.ValidationResult(
            passes=not present,
            message=f"String contains {present}." if present else "String contains none.",
            diagnostics=(
                {"does_not_contain": self.does_not_contain, "data": _excerpt(data)}
                if present
                else {}
            ),
        )


AVAILABLE_DEFAULT_VALIDATORS: list[type[base.BaseDefaultValidator]] = [
    AllowNaNsValidatorPandasSeries,
    DataInRangeValidatorPandasSeries,
    DataInRangeValidatorPrimitives,
    DataInValuesValidatorPandasSeries,
    DataInValuesValidatorPrimitives,
    DataTypeValidatorPandasSeries,
    DataTypeValidatorPrimitives,
    MaxFractionNansValidatorPandasSeries,
    MaxStandardDevValidatorPandasSeries,
    MeanInRangeValidatorPandasSeries,
    AllowNoneValidator,
    StrContainsValidator,
    StrDoesNotContainValidator,
]


#: Validator keywords served by optional libraries: keyword -> module registering them.
OPTIONAL_VALIDATOR_MODULES: dict[str, str] = {
    "schema": "cayley.data_quality.pandera_validators",
    "model": "cayley.data_quality.pydantic_validators",
}


def register_validators(validators: Iterable[type[base.BaseDefaultValidator]]) -> None:
    """Makes ``validators`` available to ``@check_output`` keywords (once each)."""
    for validator in validators:
        if validator not in AVAILABLE_DEFAULT_VALIDATORS:
            AVAILABLE_DEFAULT_VALIDATORS.append(validator)


def load_optional_validators(keywords: Iterable[str]) -> None:
    """Imports the modules registering the validators of ``keywords`` that need one.

    Raises ``ImportError`` naming the extra to install when its library is missing.
    """
    for keyword in keywords:
        module = OPTIONAL_VALIDATOR_MODULES.get(keyword)
        if module is not None and module not in sys.modules:
            importlib.import_module(module)


def resolve_default_validators(
    output_type: type,
    importance: str,
    available_validators: list[type[base.BaseDefaultValidator]] | None = None,
    **default_validator_kwargs: Any,
) -> list[base.BaseDefaultValidator]:
    """One validator per keyword, the first that answers to it and applies to ``output_type``.

    Raises ``ValueError`` for a keyword no validator handles for that type.
    """
    if available_validators is None:
        load_optional_validators(default_validator_kwargs)
    candidates = (
        AVAILABLE_DEFAULT_VALIDATORS if available_validators is None else available_validators
    )
    validators = []
    for key, argument in default_validator_kwargs.items():
        for validator_cls in candidates:
            if validator_cls.arg() == key and validator_cls.applies_to(output_type):
                validators.append(validator_cls(**{key: argument, "importance": importance}))
                break
        else:
            known = sorted({cls.arg() for cls in candidates})
            raise ValueError(
                f"no built-in validator handles {key}=... for values of type {output_type!r}. "
                f"Validator keywords: {known}."
            )
    return validators
