"""Decorators chosen from the config: ``@resolve`` and ``@resolve_from_config``.

``decorate_with`` is a function whose parameters name config keys; once the config is known it
is called with those values and returns the decorator to apply. This makes the shape of the
graph depend on the config, so it needs ``hamilton.enable_power_user_mode=True``.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from typing import Any

from cayley import settings
from cayley.function_modifiers.base import (
    DynamicResolver,
    InvalidDecoratorException,
    MissingConfigParametersException,
    NodeTransformLifecycle,
    add_context,
)

__all__ = ["ResolveAt", "extract_and_validate_params", "resolve", "resolve_from_config"]


class ResolveAt(enum.Enum):
    """When a delayed decorator is resolved."""

    CONFIG_AVAILABLE = "config_available"


_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def extract_and_validate_params(fn: Callable[..., Any]) -> tuple[list[str], dict[str, Any]]:
    """The required parameter names and the optional ones (with defaults) of ``fn``.

    Every parameter must be passable by keyword.
    """
    signature = inspect.signature(fn)
    required: list[str] = []
    optional: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        if param.kind not in _KEYWORD_KINDS:
            raise InvalidDecoratorException(
                f"decorate_with must take keyword-friendly parameters only (one per config "
                f"key), got signature {signature}."
            )
        if param.default is inspect.Parameter.empty:
            required.append(name)
        else:
            optional[name] = param.default
    return required, optional


class resolve(DynamicResolver):
    """Build the decorator from config values: ``decorate_with(**config_values)``.

    Needs the config key ``hamilton.enable_power_user_mode`` set to ``True``.
    """

    def __init__(
        self, *, when: ResolveAt, decorate_with: Callable[..., NodeTransformLifecycle]
    ) -> None:
        if when != ResolveAt.CONFIG_AVAILABLE:
            raise InvalidDecoratorException(
                f"@resolve only supports when=ResolveAt.CONFIG_AVAILABLE, got {when!r}."
            )
        if not callable(decorate_with):
            raise InvalidDecoratorException(
                f"decorate_with must be a function returning a decorator, got {decorate_with!r}."
            )
        self.until = when
        self.decorate_with = decorate_with
        self._required_config, self._optional_config = extract_and_validate_params(decorate_with)

    def required_config(self) -> list[str] | None:
        """The required parameters of ``decorate_with``."""
        return list(self._required_config)

    def optional_config(self) -> dict[str, Any] | None:
        """The optional parameters of ``decorate_with`` with their defaults."""
        return dict(self._optional_config)

    def resolve(self, config: dict[str, Any], fn: Callable[..., Any]) -> NodeTransformLifecycle:
        """Call ``decorate_with`` with the config values and validate what it returns."""
        if config.get(settings.ENABLE_POWER_USER_MODE) is not True:
            raise InvalidDecoratorException(
                "decorators resolved from the config change the graph's shape with the config, "
                "so they are only allowed in power-user mode: add "
                f"{settings.ENABLE_POWER_USER_MODE}=True to the config."
            )
        missing = [key for key in self._required_config if key not in config]
        if missing:
            raise MissingConfigParametersException(
                f"decorate_with needs config key(s) {missing}, which the config does not provide."
            )
        kwargs = {key: config[key] for key in self._required_config}
        kwargs.update({key: config[key] for key in self._optional_config if key in config})
        decorator = self.decorate_with(**kwargs)
        if not isinstance(decorator, NodeTransformLifecycle):
            raise InvalidDecoratorException(
                f"decorate_with returned {decorator!r}, which is not a decorator."
            )
        try:
            decorator.validate(fn)
        except InvalidDecoratorException as exc:
            add_context(exc, decorator, fn)
            raise
        return decorator


class resolve_from_config(resolve):
    """``@resolve`` at ``ResolveAt.CONFIG_AVAILABLE``: ``@resolve_from_config(decorate_with=...)``."""

    def __init__(self, *, decorate_with: Callable[..., NodeTransformLifecycle]) -> None:
        super().__init__(when=ResolveAt.CONFIG_AVAILABLE, decorate_with=decorate_with)
