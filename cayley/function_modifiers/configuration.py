"""Decorators choosing, from the config, whether (and as what) a function enters the graph.

``@config.when(key=value)`` and friends keep a function only for matching configs; the part of
the function name after its last ``__`` is dropped, so ``fn__a`` and ``fn__b`` can both define
node ``fn``. ``@config.default`` marks the variant used when no other one is kept, and
``@hamilton_exclude`` keeps a function out of the graph altogether.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from typing import Any

from cayley.function_modifiers import base

__all__ = ["ConfigResolver", "config", "config_default", "hamilton_exclude"]


def _when(pairs: Mapping[str, Any], configuration: Mapping[str, Any]) -> bool:
    return all(configuration.get(key) == value for key, value in pairs.items())


def _when_not(pairs: Mapping[str, Any], configuration: Mapping[str, Any]) -> bool:
    return all(configuration.get(key) != value for key, value in pairs.items())


def _when_in(pairs: Mapping[str, Collection[Any]], configuration: Mapping[str, Any]) -> bool:
    return all(configuration.get(key) in values for key, values in pairs.items())


def _when_not_in(pairs: Mapping[str, Collection[Any]], configuration: Mapping[str, Any]) -> bool:
    return all(configuration.get(key) not in values for key, values in pairs.items())


def _always(configuration: Mapping[str, Any]) -> bool:
    return True


def _check_collections(kind: str, pairs: Mapping[str, Any]) -> None:
    for key, values in pairs.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Collection):
            raise base.InvalidDecoratorException(
                f"config.{kind}({key}=...) takes a collection of values (e.g. a list), "
                f"got {values!r}."
            )


class ConfigResolver:
    """A yes/no decision over the config, and the config keys it reads."""

    def __init__(self, resolves: Callable[[dict[str, Any]], bool], config_used: list[str]):
        self.resolves = resolves
        self._config_used = list(config_used)

    @property
    def optional_config(self) -> dict[str, Any]:
        """The keys read, each defaulting to ``None``."""
        return {key: None for key in self._config_used}

    def __call__(self, config: dict[str, Any]) -> bool:
        return bool(self.resolves(config))

    @staticmethod
    def when(**key_value_pairs: Any) -> ConfigResolver:
        """True when every key equals its value."""
        return ConfigResolver(functools.partial(_when, key_value_pairs), list(key_value_pairs))

    @staticmethod
    def when_not(**key_value_pairs: Any) -> ConfigResolver:
        """True when no key equals its value."""
        return ConfigResolver(functools.partial(_when_not, key_value_pairs), list(key_value_pairs))

    @staticmethod
    def when_in(**key_value_group_pairs: Collection[Any]) -> ConfigResolver:
        """True when every key's value is one of its listed values."""
        _check_collections("when_in", key_value_group_pairs)
        return ConfigResolver(
            functools.partial(_when_in, key_value_group_pairs), list(key_value_group_pairs)
        )

    @staticmethod
    def when_not_in(**key_value_group_pairs: Collection[Any]) -> ConfigResolver:
        """True when no key's value is among its listed values."""
        _check_collections("when_not_in", key_value_group_pairs)
        return ConfigResolver(
            functools.partial(_when_not_in, key_value_group_pairs), list(key_value_group_pairs)
        )


def _is_config_decorator(decorator: Any) -> bool:
    return isinstance(decorator, config)


class config(base.NodeResolver):
    """Keep the function only when the config satisfies ``resolves``.

    The node is named after the function with its ``__suffix`` removed (or ``target_name``),
    and tagged ``hamilton.config`` with the config keys that decided it. Usually built with
    :meth:`when`, :meth:`when_not`, :meth:`when_in` or :meth:`when_not_in`; ``@config(fn)``
    with a predicate over the whole config also works.
    """

    def __init__(
        self,
        resolves: Callable[[dict[str, Any]], bool],
        target_name: str | None = None,
        config_used: list[str] | None = None,
    ) -> None:
        if not callable(resolves):
            raise base.InvalidDecoratorException(
                f"@config takes a predicate over the config, got {resolves!r}."
            )
        self.does_resolve = resolves
        self.target_name = target_name
        self._config_used = config_used

    def required_config(self) -> list[str] | None:
        """No key is required; a bare predicate sees the whole config."""
        return None if self._config_used is None else []

    def optional_config(self) -> dict[str, Any] | None:
        """The keys read, each defaulting to ``None``."""
        if self._config_used is None:
            return None
        return {key: None for key in self._config_used}

    def _node_name(self, fn: Callable[..., Any]) -> str:
        if self.target_name is not None:
            return self.target_name
        if getattr(fn, base.CONFIG_KEYS_ATTRIBUTE, None) is not None:
            return fn.__name__
        return base.sanitize_function_name(fn.__name__)

    def resolve(self, fn: Callable[..., Any], config: dict[str, Any]) -> Callable[..., Any] | None:
        """A renamed copy of ``fn`` when the config matches, else ``None``."""
        if not self.does_resolve(config):
            return None
        used = self._config_used if self._config_used is not None else ["__UNKNOWN__"]
        previous = list(getattr(fn, base.CONFIG_KEYS_ATTRIBUTE, None) or [])
        resolved = base.copy_function(fn, self._node_name(fn))  # type: ignore[arg-type]
        setattr(resolved, base.CONFIG_KEYS_ATTRIBUTE, list(dict.fromkeys(previous + used)))
        resolved.__original_name__ = getattr(fn, "__original_name__", fn.__name__)
        return resolved

    def validate(self, fn: Callable[..., Any]) -> None:
        """The name must not end in ``__``, and ``@config.default`` cannot be stacked."""
        if fn.__name__.endswith("__"):
            raise base.InvalidDecoratorException(
                "the node name is the part of the function name before its last '__', so "
                f"{fn.__name__!r} would give an empty or dangling name; remove the trailing '__'."
            )
        existing = base.lifecycle_of(fn).get("resolve", ())
        defaults = [d for d in existing if isinstance(d, config_default)]
        if defaults or (
            isinstance(self, config_default) and any(map(_is_config_decorator, existing))
        ):
            raise base.InvalidDecoratorException(
                "@config.default marks the fallback variant and cannot be combined with other "
                "@config decorators on the same function."
            )

    @staticmethod
    def when(name: str | None = None, **key_value_pairs: Any) -> config:
        """Keep the function when every key equals its value."""
        resolver = ConfigResolver.when(**key_value_pairs)
        return config(resolver, target_name=name, config_used=list(key_value_pairs))

    @staticmethod
    def when_not(name: str | None = None, **key_value_pairs: Any) -> config:
        """Keep the function when no key equals its value."""
        resolver = ConfigResolver.when_not(**key_value_pairs)
        return config(resolver, target_name=name, config_used=list(key_value_pairs))

    @staticmethod
    def when_in(name: str | None = None, **key_value_group_pairs: Collection[Any]) -> config:
        """Keep the function when every key's value is one of its listed values."""
        resolver = ConfigResolver.when_in(**key_value_group_pairs)
        return config(resolver, target_name=name, config_used=list(key_value_group_pairs))

    @staticmethod
    def when_not_in(name: str | None = None, **key_value_group_pairs: Collection[Any]) -> config:
        """Keep the function when no key's value is among its listed values."""
        resolver = ConfigResolver.when_not_in(**key_value_group_pairs)
        return config(resolver, target_name=name, config_used=list(key_value_group_pairs))

    @staticmethod
    def default(
        fn: Callable[..., Any] | None = None, *, name: str | None = None
    ) -> Callable[..., Any]:
        """Mark the variant used when no ``@config.when*`` variant of the same node is kept.

        Works bare (``@config.default``) or called (``@config.default()``,
        ``@config.default(name="node")``).
        """
        decorator = config_default(name)
        if fn is not None:
            return decorator(fn)
        return decorator


class config_default(config):
    """The fallback variant of a node: kept only when no other variant of that name resolves.

    Its nodes carry the tag ``cayley.config_default``; the graph builder drops them when a
    variant with the same name exists.
    """

    decorator_name = "config.default"

    def __init__(self, target_name: str | None = None) -> None:
        super().__init__(_always, target_name=target_name, config_used=[])

    def resolve(self, fn: Callable[..., Any], config: dict[str, Any]) -> Callable[..., Any]:
        """A renamed copy of ``fn`` marked as the fallback."""
        name = self.target_name or base.sanitize_function_name(fn.__name__)
        resolved = base.copy_function(fn, name)  # type: ignore[arg-type]
        setattr(resolved, base.CONFIG_DEFAULT_ATTRIBUTE, True)
        resolved.__original_name__ = getattr(fn, "__original_name__", fn.__name__)
        return resolved


class hamilton_exclude(base.NodeResolver):
    """Keep a function out of the graph (for helpers that are not ``_``-prefixed)."""

    def resolve(self, fn: Callable[..., Any], config: dict[str, Any]) -> None:
        """Always drop the function."""
        return None

    def validate(self, fn: Callable[..., Any]) -> None:
        """Any function may be excluded."""

    def __call__(self, fn: Callable[..., Any] | None = None) -> Any:
        """Exclude ``fn``; called without a function, returns the decorator itself."""
        if fn is None:
            return self
        return super().__call__(fn)
