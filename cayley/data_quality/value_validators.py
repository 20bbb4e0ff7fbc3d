"""The built-in validators of plain Python values: numbers, strings and ``None``.

Lazy (dask) scalars are computed before they are checked.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from cayley.data_quality import base
from cayley.data_quality.type_matching import is_subclass, strip_annotated

__all__ = [
    "AllowNoneValidator",
    "DataInRangeValidatorPrimitives",
    "DataInValuesValidatorPrimitives",
    "DataTypeValidatorPrimitives",
    "StrContainsValidator",
    "StrDoesNotContainValidator",
]


def _computed(data: Any) -> Any:
    """Materialize lazy (dask) scalars."""
    return data.compute() if hasattr(data, "dask") else data


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
        return is_subclass(datatype, numbers.Real)

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
        return is_subclass(datatype, numbers.Real, str)

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
        return is_subclass(datatype, numbers.Real, str, bool)

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
        return strip_annotated(datatype) is str

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
        return strip_annotated(datatype) is str

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
