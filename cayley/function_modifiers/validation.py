"""Decorators validating a node's output: ``@check_output`` and ``@check_output_custom``.

A validated node ``X`` becomes three kinds of nodes: ``X_raw`` (the function itself), one
``X_<validator>`` node per validator holding its :class:`ValidationResult`, and ``X``, which
acts on the results (logs for ``warn``, raises for ``fail``) and passes the raw value on.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Callable, Collection
from typing import Any

from cayley.data_quality import base as dq_base
from cayley.data_quality import default_validators
from cayley.function_modifiers import base
from cayley.node import DependencyType, Node

__all__ = [
    "DATA_VALIDATOR_ORIGINAL_OUTPUT_TAG",
    "IS_DATA_VALIDATOR_TAG",
    "AnnotatedModelCheck",
    "BaseDataValidationDecorator",
    "check_output",
    "check_output_custom",
]

IS_DATA_VALIDATOR_TAG = "hamilton.data_quality.contains_dq_results"
DATA_VALIDATOR_ORIGINAL_OUTPUT_TAG = "hamilton.data_quality.source_node"


def _validation_call(validator: dq_base.DataValidator, raw_name: str) -> Callable[..., Any]:
    if dq_base.is_async_validator(validator):

        async def validate_async(**kwargs: Any) -> dq_base.ValidationResult:
            return await validator.validate(kwargs[raw_name])

        return validate_async

    def validate(**kwargs: Any) -> dq_base.ValidationResult:
        result = validator.validate(kwargs[raw_name])
        if inspect.iscoroutine(result):
            result.close()
            raise TypeError(
                f"validator {validator.name()!r} returned a coroutine; async validators need "
                "an async driver."
            )
        return result

    return validate


def _acting_call(
    node_name: str, raw_name: str, checks: list[tuple[str, dq_base.DataValidator]]
) -> Callable[..., Any]:
    def act_on_results(**kwargs: Any) -> Any:
        failures = []
        for check_name, validator in checks:
            result = kwargs[check_name]
            if validator.importance == dq_base.DataValidationLevel.WARN:
                dq_base.act_warn(node_name, result, validator)
            else:
                failures.append((result, validator))
        dq_base.act_fail_bulk(node_name, failures)
        return kwargs[raw_name]

    return act_on_results


class BaseDataValidationDecorator(base.NodeTransformer):
    """Replaces each target node ``X`` with ``X_raw``, its validator nodes and ``X``."""

    @abc.abstractmethod
    def get_validators(self, node_to_validate: Node) -> list[dq_base.DataValidator]:
        """The validators to run on ``node_to_validate``."""

    def validate(self, fn: Callable[..., Any]) -> None:
        """Nothing to check on the function alone (stacking is checked when nodes are made)."""

    def transform_dag(
        self, nodes: Collection[Node], config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """Checks that no other validation decorator targets the same nodes, then transforms.

        Two such decorators would both make ``X_raw``; the error comes when the graph is built,
        where Hamilton reports the clash too, so the module still imports.
        """
        for other in base.lifecycle_of(fn).get("transform", ()):
            if (
                other is not self
                and isinstance(other, BaseDataValidationDecorator)
                and other.target == self.target
            ):
                raise base.InvalidDecoratorException(
                    f"cannot be stacked with @{type(other).__name__} on the same target: pass "
                    "all validators to a single decorator instead."
                )
        return super().transform_dag(nodes, config, fn)

    def transform_node(
        self, node_: Node, config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """The raw node, one node per validator, and the acting node named like ``node_``."""
        raw_name = f"{node_.name}_raw"
        raw = node_.copy_with(**base.split_name(raw_name))
        validator_nodes: list[Node] = []
        checks: list[tuple[str, dq_base.DataValidator]] = []
        seen: dict[str, int] = {}
        dq_tags = {
            **node_.tags,
            IS_DATA_VALIDATOR_TAG: True,
            DATA_VALIDATOR_ORIGINAL_OUTPUT_TAG: node_.name,
        }
        for validator in self.get_validators(node_):
            check_name = f"{node_.name}_{validator.name()}"
            seen[check_name] = seen.get(check_name, 0) + 1
            if seen[check_name] > 1:
                check_name = f"{check_name}_{seen[check_name] - 1}"
            checks.append((check_name, validator))
            validator_nodes.append(
                Node(
                    typ=dq_base.ValidationResult,
                    doc_string=validator.description(),
                    callabl=_validation_call(validator, raw_name),
                    input_types={raw_name: (node_.type, DependencyType.REQUIRED)},
                    tags=dq_tags,
                    originating_functions=node_.originating_functions,
                    **base.split_name(check_name),
                )
            )
        final = node_.copy_with(
            callabl=_acting_call(node_.name, raw_name, checks),
            input_types={
                raw_name: (node_.type, DependencyType.REQUIRED),
                **{name: (dq_base.ValidationResult, DependencyType.REQUIRED) for name, _ in checks},
            },
            optional_values={},
        )
        return [*validator_nodes, final, raw]


class check_output_custom(BaseDataValidationDecorator):
    """Validate the output with your own :class:`DataValidator` instances."""

    decorator_name = "check_output_custom"

    def __init__(self, *validators: dq_base.DataValidator, target_: base.TargetType = None):
        super().__init__(target=target_)
        if not validators:
            raise base.InvalidDecoratorException(
                "@check_output_custom needs at least one validator."
            )
        bad = [v for v in validators if not isinstance(v, dq_base.DataValidator)]
        if bad:
            raise base.InvalidDecoratorException(
                f"@check_output_custom takes DataValidator instances, got {bad!r}."
            )
        self.validators = list(validators)

    def get_validators(self, node_to_validate: Node) -> list[dq_base.DataValidator]:
        """The validators given."""
        return self.validators


def check_importance(importance: str, decorator: str) -> None:
    """Raise :class:`InvalidDecoratorException` unless ``importance`` is a known level."""
    levels = [level.value for level in dq_base.DataValidationLevel]
    if importance not in levels:
        raise base.InvalidDecoratorException(
            f"@{decorator} importance must be one of {levels}, got {importance!r}."
        )


class check_output(BaseDataValidationDecorator):
    """Validate the output with built-in validators, one per keyword argument.

    Keywords: ``range``, ``values_in``, ``max_fraction_nans``, ``allow_nans``, ``data_type``,
    ``max_standard_dev``, ``mean_in_range``, ``allow_none``, ``contains``,
    ``does_not_contain``; which validator answers depends on the node's type (pandas Series
    or Python primitives). ``importance`` is ``"warn"`` (log) or ``"fail"`` (raise).

    ``schema=`` takes a pandera schema (or ``DataFrameModel``) for pandas and polars
    DataFrames and Series (node ``X_pandera_schema_validator``; needs ``cayley[pandera]``);
    ``model=`` takes a pydantic model for model instances and dicts (node
    ``X_pydantic_validator``; needs ``cayley[pydantic]``). Their libraries are imported
    only when these keywords are used.
    """

    def __init__(
        self,
        importance: str = dq_base.DataValidationLevel.WARN.value,
        default_validator_candidates: list[type[dq_base.BaseDefaultValidator]] | None = None,
        target_: base.TargetType = None,
        **default_validator_kwargs: Any,
    ) -> None:
        super().__init__(target=target_)
        check_importance(importance, "check_output")
        if not default_validator_kwargs:
            raise base.InvalidDecoratorException(
                "@check_output needs at least one validator argument, e.g. range=(0, 1)."
            )
        self.importance = importance
        self.default_validator_kwargs = default_validator_kwargs
        self.default_validator_candidates = default_validator_candidates

    def get_validators(self, node_to_validate: Node) -> list[dq_base.DataValidator]:
        """The built-in validators for the node's type."""
        try:
            return list(
                default_validators.resolve_default_validators(
                    node_to_validate.type,
                    importance=self.importance,
                    available_validators=self.default_validator_candidates,
                    **self.default_validator_kwargs,
                )
            )
        except ValueError as exc:
            raise base.InvalidDecoratorException(
                f"cannot validate node {node_to_validate.name!r}: {exc} Check `target_` if the "
                "function produces several nodes."
            ) from exc


class AnnotatedModelCheck(BaseDataValidationDecorator):
    """Base of the ``check_output`` decorators that take the model from the return annotation.

    A subclass names the ``check_output`` keyword the model goes to and finds the model in
    a node's type; the validator nodes are those of ``check_output(<keyword>=model)``.

    Args:
        importance: ``"warn"`` logs failures, ``"fail"`` raises ``DataValidationError``.
        target: the nodes to validate (as ``target_`` of ``check_output``).
    """

    decorator_name = "check_output"
    #: The keyword of :class:`check_output` that receives the model.
    model_keyword = "model"

    def __init__(
        self,
        importance: str = dq_base.DataValidationLevel.WARN.value,
        target: base.TargetType = None,
    ) -> None:
        super().__init__(target=target)
        check_importance(importance, self.decorator_name)
        self.importance = importance

    @abc.abstractmethod
    def model_for(self, node_to_validate: Node) -> Any:
        """The model of the node's type; raises ``InvalidDecoratorException`` naming the
        node and what to annotate when there is none."""

    def get_validators(self, node_to_validate: Node) -> list[dq_base.DataValidator]:
        """The validators of ``check_output`` given the model of the node's type."""
        model = self.model_for(node_to_validate)
        return check_output(
            importance=self.importance, target_=self.target, **{self.model_keyword: model}
        ).get_validators(node_to_validate)
