"""Decorators replacing a function's computation: ``@does`` and ``@dynamic_transform``.

``@does`` swaps an empty function's body for another function; the deprecated
``@dynamic_transform`` (``@model``) computes it with a model object built from the config.
The decorators wrapping a function's computation in chains of ``step(...)`` functions
(``@pipe_input``, ``@pipe_output``, ``@mutate``) live in :mod:`~cayley.function_modifiers.pipes`
and :mod:`~cayley.function_modifiers.steps`; they are re-exported here.
"""

from __future__ import annotations

import inspect
import sys
import types
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from cayley.function_modifiers import base
from cayley.function_modifiers.pipes import (
    NotSameModuleError,
    SingleTargetError,
    apply_to,
    mutate,
    pipe,
    pipe_input,
    pipe_output,
)
from cayley.function_modifiers.steps import (
    Applicable,
    NamespaceType,
    chain_transforms,
    non_keyword_params,
    step,
)
from cayley.node import Node

__all__ = [
    "Applicable",
    "NamespaceType",
    "NotSameModuleError",
    "SingleTargetError",
    "apply_to",
    "chain_transforms",
    "does",
    "dynamic_transform",
    "ensure_function_empty",
    "model",
    "mutate",
    "pipe",
    "pipe_input",
    "pipe_output",
    "step",
]


def _pass_body() -> None:
    pass


def _pass_body_with_docstring() -> None:
    """Docstring."""
    pass


def _ellipsis_body() -> None: ...


_EMPTY_BODIES = frozenset(
    f.__code__.co_code for f in (_pass_body, _pass_body_with_docstring, _ellipsis_body)
)


def ensure_function_empty(fn: Callable[..., Any]) -> None:
    """Raise unless ``fn``'s body is only ``pass`` or ``...`` (and maybe a docstring)."""
    if fn.__code__.co_code not in _EMPTY_BODIES:
        raise base.InvalidDecoratorException(
            f"the body of {fn.__name__} must be empty (`pass` or `...`, optionally with a "
            "docstring): the decorator supplies the computation."
        )


# ---- does -----------------------------------------------------------------------------------


def _replacement_call(
    replacing_function: Callable[..., Any],
    defaults: Mapping[str, Any],
    argument_mapping: Mapping[str, str],
) -> Callable[..., Any]:
    def call_replacement(**kwargs: Any) -> Any:
        values = {**defaults, **kwargs}
        return replacing_function(**does.map_kwargs(values, argument_mapping))

    return base.keep_async(replacing_function, call_replacement)


class does(base.NodeCreator):
    """Compute an empty function with ``replacing_function`` instead.

    ``argument_mapping`` maps parameters of ``replacing_function`` to parameters of the
    decorated function; unmapped parameters are passed under their own names.
    """

    def __init__(self, replacing_function: Callable[..., Any], **argument_mapping: str) -> None:
        if not callable(replacing_function):
            raise base.InvalidDecoratorException(
                f"@does takes the function to compute with, got {replacing_function!r}."
            )
        self.replacing_function = replacing_function
        self.argument_mapping = argument_mapping

    @staticmethod
    def map_kwargs(
        kwargs: Mapping[str, Any], argument_mapping: Mapping[str, str]
    ) -> dict[str, Any]:
        """Rename ``kwargs`` for the replacing function (mapped originals are dropped)."""
        originals = set(argument_mapping.values())
        out = {key: val for key, val in kwargs.items() if key not in originals}
        for new_name, original in argument_mapping.items():
            if original in kwargs:
                out[new_name] = kwargs[original]
        return out

    @staticmethod
    def test_function_signatures_compatible(
        fn_signature: inspect.Signature,
        replace_with_signature: inspect.Signature,
        argument_mapping: Mapping[str, str],
    ) -> bool:
        """Whether the replacing function accepts the decorated function's arguments."""
        dummy = dict.fromkeys(fn_signature.parameters, ...)
        try:
            replace_with_signature.bind(**does.map_kwargs(dummy, argument_mapping))
        except TypeError:
            return False
        return True

    def validate(self, fn: Callable[..., Any]) -> None:
        """The function must be empty and its arguments must fit the replacing function."""
        ensure_function_empty(fn)
        invalid = non_keyword_params(fn)
        if invalid:
            raise base.InvalidDecoratorException(
                f"parameters {invalid} cannot be passed by keyword; node functions take "
                "keyword-friendly parameters only."
            )
        unknown = sorted(
            set(self.argument_mapping.values()) - set(inspect.signature(fn).parameters)
        )
        if unknown:
            raise base.InvalidDecoratorException(
                f"the argument mapping refers to parameter(s) {unknown} the function does not have."
            )
        replacing_signature = inspect.signature(self.replacing_function)
        if not does.test_function_signatures_compatible(
            inspect.signature(fn), replacing_signature, self.argument_mapping
        ):
            name = getattr(self.replacing_function, "__name__", repr(self.replacing_function))
            raise base.InvalidDecoratorException(
                f"{name}{replacing_signature} cannot be called with the arguments of "
                f"{fn.__name__}{inspect.signature(fn)} (mapping: {self.argument_mapping}); "
                "adjust the mapping or the replacing function's signature."
            )

    def generate_nodes(self, fn: Callable[..., Any], config: dict[str, Any]) -> list[Node]:
        """The function's node, computed by the replacing function."""
        node_ = base.node_from_fn(fn)
        defaults = dict(node_.default_parameter_values)
        call = _replacement_call(self.replacing_function, defaults, dict(self.argument_mapping))
        return [node_.copy_with(callabl=call)]


# ---- step / Applicable ----------------------------------------------------------------------


# ---- dynamic_transform / model --------------------------------------------------------------


class dynamic_transform(base.NodeCreator):
    """Deprecated: node logic from a config-built model object (use ``@resolve`` instead).

    ``transform_cls(config[config_param], fn_name, **extra)`` must provide
    ``get_dependents()`` (input names) and ``compute(**inputs)``.
    """

    def __init__(self, transform_cls: type, config_param: str, **extra_transform_params: Any):
        warnings.warn(
            "@dynamic_transform/@model are deprecated; use @resolve instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        self.transform_cls = transform_cls
        self.config_param = config_param
        self.extra_transform_params = extra_transform_params

    def validate(self, fn: Callable[..., Any]) -> None:
        """The function must be empty, take no parameters and return a pandas Series."""
        ensure_function_empty(fn)
        if inspect.signature(fn).parameters:
            raise base.InvalidDecoratorException(
                "model functions take no parameters: their inputs come from the model."
            )
        pandas = sys.modules.get("pandas")
        output_type = base.type_hints(fn).get("return")
        if pandas is None or not (
            isinstance(output_type, type)
            and not isinstance(output_type, types.GenericAlias)
            and issubclass(output_type, pandas.Series)
        ):
            raise base.InvalidDecoratorException("model functions must return a pandas Series.")

    def required_config(self) -> list[str]:
        """The config key holding the model's configuration."""
        return [self.config_param]

    def generate_nodes(self, fn: Callable[..., Any], config: dict[str, Any]) -> list[Node]:
        """One node computed by the model."""
        import pandas as pd

        transform = self.transform_cls(
            config[self.config_param], fn.__name__, **self.extra_transform_params
        )
        return [
            Node(
                fn.__name__,
                base.type_hints(fn)["return"],
                fn.__doc__ or "",
                callabl=transform.compute,
                input_types={dep: pd.Series for dep in transform.get_dependents()},
                tags={"module": fn.__module__},
            )
        ]


class model(dynamic_transform):
    """Deprecated alias of :class:`dynamic_transform`."""

    def __init__(self, model_cls: type, config_param: str, **extra_model_params: Any) -> None:
        super().__init__(model_cls, config_param, **extra_model_params)
