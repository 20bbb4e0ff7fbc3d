"""The registry of built-in validators: which one serves a ``@check_output`` keyword.

Each keyword of ``check_output`` picks the first validator whose :meth:`arg` matches and
which applies to the node's type. The validators themselves live in
:mod:`~cayley.data_quality.series_validators` (pandas Series) and
:mod:`~cayley.data_quality.value_validators` (plain values); they are re-exported here.
pandas and numpy are never imported at import time.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from typing import Any

from cayley.data_quality import base
from cayley.data_quality.series_validators import (
    AllowNaNsValidatorPandasSeries,
    DataInRangeValidatorPandasSeries,
    DataInValuesValidatorPandasSeries,
    DataTypeValidatorPandasSeries,
    MaxFractionNansValidatorPandasSeries,
    MaxStandardDevValidatorPandasSeries,
    MeanInRangeValidatorPandasSeries,
)
from cayley.data_quality.type_matching import plain_type
from cayley.data_quality.value_validators import (
    AllowNoneValidator,
    DataInRangeValidatorPrimitives,
    DataInValuesValidatorPrimitives,
    DataTypeValidatorPrimitives,
    StrContainsValidator,
    StrDoesNotContainValidator,
)

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
