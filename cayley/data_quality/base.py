"""Data validators: checks run on a node's output by ``@check_output``.

A :class:`DataValidator` returns a :class:`ValidationResult`; its importance decides what a
failure does: ``warn`` logs it, ``fail`` raises :class:`DataValidationError`.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import inspect
import logging
from typing import Any

__all__ = [
    "AsyncBaseDefaultValidator",
    "AsyncDataValidator",
    "BaseDefaultValidator",
    "DataValidationError",
    "DataValidationLevel",
    "DataValidator",
    "ValidationResult",
    "act_fail_bulk",
    "act_warn",
    "is_async_validator",
]

logger = logging.getLogger(__name__)


class DataValidationError(Exception):
    """One or more ``fail``-level validators did not pass.

    ``args[0]`` is the list of failure messages (as in Hamilton); the string form shows them
    one per line.
    """

    def __str__(self) -> str:
        if len(self.args) == 1 and isinstance(self.args[0], list):
            return "\n".join(str(message) for message in self.args[0])
        return super().__str__()


class DataValidationLevel(enum.Enum):
    """What a failed validation does: log a warning, or fail the run."""

    WARN = "warn"
    FAIL = "fail"


@dataclasses.dataclass
class ValidationResult:
    """The outcome of one validator on one value."""

    passes: bool
    message: str
    diagnostics: dict[str, Any] = dataclasses.field(default_factory=dict)


class DataValidator(abc.ABC):
    """A check on a node's output."""

    def __init__(self, importance: str) -> None:
        self._importance = DataValidationLevel(importance)

    @property
    def importance(self) -> DataValidationLevel:
        """Whether a failure warns or fails."""
        return self._importance

    @abc.abstractmethod
    def applies_to(self, datatype: type) -> bool:
        """Whether this validator can check values of ``datatype``."""

    @abc.abstractmethod
    def description(self) -> str:
        """What the validator checks, in a sentence."""

    @classmethod
    @abc.abstractmethod
    def name(cls) -> str:
        """The validator's name; its node is ``<node>_<name>``."""

    @abc.abstractmethod
    def validate(self, dataset: Any) -> ValidationResult:
        """Check ``dataset``."""


class AsyncDataValidator(DataValidator, abc.ABC):
    """A validator whose check is a coroutine (for async execution)."""

    @abc.abstractmethod
    async def validate(self, dataset: Any) -> ValidationResult:
        """Check ``dataset``."""


def is_async_validator(validator: DataValidator) -> bool:
    """Whether ``validator.validate`` is a coroutine function."""
    return inspect.iscoroutinefunction(validator.validate)


def _failure_message(node_name: str, result: ValidationResult, validator: DataValidator) -> str:
    return (
        f"[{node_name}:{validator.name()}] validator failed. Message was: "
        f"{result.message.rstrip('.')}. "
        f"Diagnostic information is: {result.diagnostics}."
    )


def act_warn(node_name: str, validation_result: ValidationResult, validator: DataValidator) -> None:
    """Log a warning if the validation failed."""
    if not validation_result.passes:
        logger.warning(_failure_message(node_name, validation_result, validator))


def act_fail_bulk(node_name: str, failures: list[tuple[ValidationResult, DataValidator]]) -> None:
    """Raise :class:`DataValidationError` listing every failed validation, if any."""
    messages = [
        _failure_message(node_name, result, validator)
        for result, validator in failures
        if not result.passes
    ]
    for message in messages:
        logger.error(message)
    if messages:
        raise DataValidationError(messages)


class BaseDefaultValidator(DataValidator, abc.ABC):
    """A built-in validator: configured by one ``@check_output`` keyword argument."""

    @classmethod
    @abc.abstractmethod
    def applies_to(cls, datatype: type) -> bool:
        """Whether this validator can check values of ``datatype``."""

    @classmethod
    @abc.abstractmethod
    def arg(cls) -> str:
        """The ``@check_output`` keyword this validator answers to."""

    @classmethod
    def name(cls) -> str:
        """``<arg>_validator``."""
        return f"{cls.arg()}_validator"


class AsyncBaseDefaultValidator(BaseDefaultValidator, abc.ABC):
    """A built-in validator whose check is a coroutine."""

    @abc.abstractmethod
    async def validate(self, data: Any) -> ValidationResult:
        """Check ``data``."""
