"""``check_output`` validating against the pandera model a function's return type names.

A function annotated ``-> pandera.typing.pandas.DataFrame[Model]`` (or the polars
``DataFrame[Model]`` / ``LazyFrame[Model]``) is validated against ``Model``::

    @h_pandera.check_output(importance="fail")
    def features(raw: pd.DataFrame) -> DataFrame[FeatureModel]:
        ...

This is ``function_modifiers.check_output(schema=Model)`` with the schema taken from the
annotation: same nodes (``features_raw``, ``features_pandera_schema_validator``,
``features``), same messages. Needs pandera (``pip install "cayley[pandera]"``).
"""

from __future__ import annotations

import typing
from typing import Any

try:
    from pandera.api.dataframe.model import DataFrameModel
    from pandera.typing.common import DataFrameBase
except ImportError as exc:
    raise ImportError(
        "cayley.plugins.h_pandera needs pandera, which is not installed. Install it with: pip "
        'install "cayley[pandera]"'
    ) from exc

from cayley.function_modifiers import base as fm_base
from cayley.function_modifiers import validation
from cayley.node import Node

__all__ = ["check_output"]


def model_of(output_type: Any) -> type[DataFrameModel] | None:
    """``Model`` of ``DataFrame[Model]`` (pandas or polars, ``LazyFrame`` too), or None."""
    origin = typing.get_origin(output_type)
    args = typing.get_args(output_type)
    if not (isinstance(origin, type) and issubclass(origin, DataFrameBase) and len(args) == 1):
        return None
    model = args[0]
    return model if isinstance(model, type) and issubclass(model, DataFrameModel) else None


class check_output(validation.AnnotatedModelCheck):
    """Validate the output against the pandera ``DataFrameModel`` of its return annotation.

    Args:
        importance: ``"warn"`` logs failures, ``"fail"`` raises ``DataValidationError``.
        target: the nodes to validate (as ``target_`` of ``check_output``).
    """

    decorator_name = "h_pandera.check_output"
    model_keyword = "schema"

    def model_for(self, node_to_validate: Node) -> type[DataFrameModel]:
        """The pandera model named by the node's type."""
        model = model_of(node_to_validate.type)
        if model is None:
            raise fm_base.InvalidDecoratorException(
                f"node {node_to_validate.name!r} returns {node_to_validate.type!r}; "
                "h_pandera.check_output needs a return annotation naming a pandera model, "
                "e.g. pandera.typing.pandas.DataFrame[MyModel] (or pass the schema with "
                "check_output(schema=...))."
            )
        return model
