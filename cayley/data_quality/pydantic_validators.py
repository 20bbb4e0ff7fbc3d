"""The validator behind ``@check_output(model=...)``: a value checked against a pydantic model.

The value (a model instance, or a dict in the model's shape) is validated in pydantic's
strict mode, without coercion, since the node's output is passed on unchanged: ``"1"`` for
an ``int`` field fails. A model instance has its fields checked, so one built without
validation (``model_construct``, assignment) is caught too. A failure's message names each failing field, what was wrong and the
value found; the diagnostics keep pydantic's errors (``model_errors``). Importing this
module registers the validator; it needs pydantic 2 (``pip install "cayley[pydantic]"``).
"""

from __future__ import annotations

import collections.abc
import typing
from typing import Any

try:
    import pydantic
    from pydantic import BaseModel, TypeAdapter, ValidationError
except ImportError as exc:
    raise ImportError(
        "check_output(model=...) needs pydantic 2, which is not installed. Install it with: "
        'pip install "cayley[pydantic]"'
    ) from exc

from cayley.data_quality import base, default_validators

if not pydantic.VERSION.startswith("2."):  # pragma: no cover - depends on the install
    raise ImportError(
        f"check_output(model=...) needs pydantic 2, found {pydantic.VERSION}. Install it "
        'with: pip install "cayley[pydantic]"'
    )

__all__ = ["PydanticModelValidator", "summarize_errors"]

_EXAMPLES = 10


def summarize_errors(errors: list[dict[str, Any]]) -> str:
    """``field 'a.b': Input should be a valid integer (got '1')`` per error, joined."""
    clauses = []
    for error in errors[:_EXAMPLES]:
        where = ".".join(str(part) for part in error.get("loc", ())) or "the value"
        clause = f"field {where!r}: {error.get('msg', 'invalid')} [{error.get('type')}]"
        if "input" in error:
            clause += f" (got {error['input']!r:.80})"
        clauses.append(clause)
    if len(errors) > _EXAMPLES:
        clauses.append(f"and {len(errors) - _EXAMPLES} more")
    return "; ".join(clauses)


def _is_model_like(datatype: Any) -> bool:
    plain = default_validators.plain_type(datatype)
    if plain is Any or plain is object:
        return True
    origin = typing.get_origin(plain) or plain
    return isinstance(origin, type) and (
        issubclass(origin, BaseModel) or issubclass(origin, collections.abc.Mapping)
    )


class PydanticModelValidator(base.BaseDefaultValidator):
    """The value matches ``model`` (strict: types must match without coercion).

    Applies to nodes returning a pydantic model, a mapping (``dict``) or ``Any``.
    """

    def __init__(self, model: type[BaseModel], importance: str) -> None:
        super().__init__(importance)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise ValueError(f"model must be a pydantic BaseModel subclass, got {model!r}.")
        self.model = model
        self._adapter = TypeAdapter(model)

    @classmethod
    def applies_to(cls, datatype: type) -> bool:
        return _is_model_like(datatype)

    @classmethod
    def arg(cls) -> str:
        return "model"

    @classmethod
    def name(cls) -> str:
        return "pydantic_validator"

    def description(self) -> str:
        return f"Validates that the output matches the pydantic model {self.model.__name__}."

    def validate(self, data: Any) -> base.ValidationResult:
        if isinstance(data, self.model):
            # pydantic accepts an instance as it is; its fields are checked instead, so a
            # model built without validation (model_construct, plain assignment) is caught.
            data = {**data.__dict__, **(data.__pydantic_extra__ or {})}
        try:
            self._adapter.validate_python(data, strict=True)
        except ValidationError as exc:
            errors = exc.errors()
            return base.ValidationResult(
                passes=False,
                message=f"{self.model.__name__}: {summarize_errors(errors)}",
                diagnostics={"model_errors": errors},
            )
        return base.ValidationResult(
            passes=True, message=f"Data passes the pydantic model {self.model.__name__}."
        )


default_validators.register_validators([PydanticModelValidator])
