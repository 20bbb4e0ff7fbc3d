"""``check_output`` validating a function's output against the pydantic model it returns.

A function annotated ``-> MyModel`` (a pydantic ``BaseModel``) is validated against
``MyModel`` in strict mode (a dict in the model's shape is accepted too)::

    @h_pydantic.check_output(importance="fail")
    def settings(raw: dict) -> Settings:
        ...

This is ``function_modifiers.check_output(model=MyModel)`` with the model taken from the
annotation: same nodes (``settings_raw``, ``settings_pydantic_validator``, ``settings``).
Needs pydantic 2 (``pip install "cayley[pydantic]"``).
"""

from __future__ import annotations

try:
    from pydantic import BaseModel
except ImportError as exc:
    raise ImportError(
        "cayley.plugins.h_pydantic needs pydantic 2, which is not installed. Install it with: "
        'pip install "cayley[pydantic]"'
    ) from exc

from cayley.data_quality import default_validators
from cayley.function_modifiers import base as fm_base
from cayley.function_modifiers import validation
from cayley.node import Node

__all__ = ["check_output"]


class check_output(validation.AnnotatedModelCheck):
    """Validate the output against the pydantic model of its return annotation.

    Args:
        importance: ``"warn"`` logs failures, ``"fail"`` raises ``DataValidationError``.
        target: the nodes to validate (as ``target_`` of ``check_output``).
    """

    decorator_name = "h_pydantic.check_output"
    model_keyword = "model"

    def model_for(self, node_to_validate: Node) -> type[BaseModel]:
        """The pydantic model the node returns."""
        model = default_validators.plain_type(node_to_validate.type)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise fm_base.InvalidDecoratorException(
                f"Output of function {node_to_validate.name} must be a Pydantic model; it is "
                f"{node_to_validate.type!r}. Use check_output(model=...) for other values."
            )
        return model
