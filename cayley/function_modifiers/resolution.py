"""Resolving a function's recorded decorators into its nodes, step by step.

:func:`resolve_nodes` runs the lifecycle steps described in
:mod:`cayley.function_modifiers.base` in their fixed order; each decorator sees only the
part of the config it declared (:func:`filter_config`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cayley import settings
from cayley.function_modifiers.attachment import (
    LIFECYCLE_ATTRIBUTE,
    PENDING_VALIDATION_ATTRIBUTE,
    MissingConfigParametersException,
    conflict_error,
    conflicts,
    decorator_label,
    guarded,
    lifecycle_of,
)
from cayley.function_modifiers.function_nodes import node_from_fn, template_node
from cayley.node import Node

if TYPE_CHECKING:
    from cayley.function_modifiers.base import NodeTransformLifecycle

__all__ = [
    "CONFIG_DEFAULT_ATTRIBUTE",
    "CONFIG_DEFAULT_TAG",
    "filter_config",
    "get_node_decorators",
    "resolve_config",
    "resolve_nodes",
]

#: Set by ``@config.default`` on the function it resolves.
CONFIG_DEFAULT_ATTRIBUTE = "__cayley_config_default__"
#: Tag of nodes made from a ``@config.default`` function: used only when no variant resolved.
CONFIG_DEFAULT_TAG = "cayley.config_default"


def resolve_config(
    name_for_error: str,
    config: Mapping[str, Any],
    config_required: list[str] | None,
    config_optional_with_defaults: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The part of ``config`` a decorator declared, optional keys filled with their defaults.

    ``config_required=None`` means the decorator sees the whole config.
    """
    if config_required is None:
        return dict(config)
    optional = dict(config_optional_with_defaults or {})
    optional.setdefault(settings.ENABLE_POWER_USER_MODE, False)
    missing = [key for key in config_required if key not in config and key not in optional]
    if missing:
        raise MissingConfigParametersException(
            f"{name_for_error} requires config key(s) {missing}, which the config does not "
            f"provide (config keys: {sorted(config)}). Pass them with the driver's config."
        )
    resolved = {key: config[key] if key in config else optional[key] for key in config_required}
    for key, default in optional.items():
        resolved[key] = config.get(key, default)
    return resolved


def filter_config(config: Mapping[str, Any], decorator: NodeTransformLifecycle) -> dict[str, Any]:
    """The config ``decorator`` gets to see (see :func:`resolve_config`)."""
    return resolve_config(
        f"@{decorator_label(decorator)}",
        config,
        decorator.required_config(),
        decorator.optional_config(),
    )


def get_node_decorators(
    fn: Callable[..., Any], config: Mapping[str, Any]
) -> dict[str, list[NodeTransformLifecycle]]:
    """The decorators of ``fn`` by step, dynamic ones resolved against ``config``."""
    steps = {step: list(decs) for step, decs in lifecycle_of(fn).items()}
    for dynamic in steps.pop("dynamic", ()):
        produced = guarded(dynamic, fn, dynamic.resolve, dict(config), fn)
        steps.setdefault(produced.get_lifecycle_name(), []).append(produced)
    return steps


def _check_multiplicity(fn: Any, steps: Mapping[str, list[NodeTransformLifecycle]]) -> None:
    for decorators in steps.values():
        for index, decorator in enumerate(decorators):
            others = conflicts(decorators[:index], decorator)
            if others:
                raise conflict_error(fn, decorator, others)


def _apply_resolvers(
    resolvers: Iterable[NodeTransformLifecycle], fn: Any, config: Mapping[str, Any]
) -> Any:
    for resolver in resolvers:
        cfg = guarded(resolver, fn, filter_config, config, resolver)
        fn = guarded(resolver, fn, resolver.resolve, fn, cfg)  # type: ignore[attr-defined]
        if fn is None:
            return None
    return fn


def _run_step(
    decorators: Iterable[NodeTransformLifecycle],
    nodes: Collection[Node],
    config: Mapping[str, Any],
    fn: Any,
) -> Collection[Node]:
    for decorator in decorators:
        cfg = guarded(decorator, fn, filter_config, config, decorator)
        nodes = guarded(decorator, fn, decorator.transform_dag, nodes, cfg, fn)  # type: ignore[attr-defined]
    return nodes


def _finalize(nodes: Collection[Node], original: Any, resolved: Any) -> list[Node]:
    is_default = getattr(resolved, CONFIG_DEFAULT_ATTRIBUTE, False)
    out: list[Node] = []
    for node_ in nodes:
        origins = node_.originating_functions or ()
        new_origins = origins
        if resolved is not original and any(f is resolved for f in origins):
            new_origins = tuple(original if f is resolved else f for f in origins)
        if not any(f is original for f in new_origins):
            new_origins = (*new_origins, original)
        changes: dict[str, Any] = {}
        if new_origins != origins:
            changes["originating_functions"] = new_origins
        if is_default and not node_.tags.get(CONFIG_DEFAULT_TAG):
            changes["tags"] = {**node_.tags, CONFIG_DEFAULT_TAG: True}
        out.append(node_.copy_with(**changes) if changes else node_)
    return out


def resolve_nodes(fn: Callable[..., Any], config: Mapping[str, Any]) -> list[Node]:
    """The nodes ``fn`` contributes to a graph built with ``config``, step by step.

    A function without decorators gives ``[Node.from_fn(fn)]``; an excluded one gives ``[]``.
    """
    lifecycle = getattr(fn, LIFECYCLE_ATTRIBUTE, None)
    if not lifecycle:
        return [template_node(fn)]
    original = fn
    for decorator in getattr(fn, PENDING_VALIDATION_ATTRIBUTE, ()):
        guarded(decorator, fn, decorator.validate, fn)
    steps = {step: list(decs) for step, decs in lifecycle.items()}
    resolved = _apply_resolvers(steps.get("resolve", ()), fn, config)
    if resolved is None:
        return []
    dynamic = steps.pop("dynamic", ())
    if dynamic:
        produced = [guarded(d, resolved, d.resolve, dict(config), resolved) for d in dynamic]
        for decorator in produced:
            steps.setdefault(decorator.get_lifecycle_name(), []).append(decorator)
        _check_multiplicity(original, steps)
        late_resolvers = [d for d in produced if d.get_lifecycle_name() == "resolve"]
        resolved = _apply_resolvers(late_resolvers, resolved, config)
        if resolved is None:
            return []
    creators = steps.get("generate")
    if creators:
        (creator,) = creators
        cfg = guarded(creator, resolved, filter_config, config, creator)
        nodes: Collection[Node] = guarded(creator, resolved, creator.generate_nodes, resolved, cfg)
    else:
        nodes = [node_from_fn(resolved)]
    nodes = _run_step(steps.get("inject", ()), nodes, config, resolved)
    nodes = _run_step(steps.get("expand", ()), nodes, config, resolved)
    nodes = _run_step(steps.get("transform", ()), nodes, config, resolved)
    nodes = _run_step(steps.get("decorate_nodes", ()), nodes, config, resolved)
    return _finalize(nodes, original, resolved)
