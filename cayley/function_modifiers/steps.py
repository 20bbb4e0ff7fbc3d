"""Pipe steps: what ``step(...)`` binds, and the nodes a chain of steps becomes.

``step(...)`` builds an :class:`Applicable`; :func:`chain_transforms` turns a chain of them
into nodes. ``@pipe_input``, ``@pipe_output`` and ``@mutate``
(:mod:`~cayley.function_modifiers.pipes`) are built on these.
"""

from __future__ import annotations

import collections
import inspect
from collections.abc import Callable, Collection, Mapping
from types import EllipsisType
from typing import Any

from cayley.function_modifiers import base
from cayley.function_modifiers.configuration import ConfigResolver
from cayley.function_modifiers.dependencies import (
    LiteralDependency,
    SingleDependency,
    UpstreamDependency,
    check_source_names,
    source,
)
from cayley.node import Node

__all__ = ["Applicable", "NamespaceType", "chain_transforms", "non_keyword_params", "step"]

NamespaceType = str | EllipsisType | None

_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def non_keyword_params(fn: Callable[..., Any]) -> list[str]:
    """The parameters of ``fn`` that cannot be passed by keyword (``*args``, positional-only)."""
    return [
        name
        for name, param in inspect.signature(fn).parameters.items()
        if param.kind not in _KEYWORD_KINDS
    ]


class Applicable:
    """A function to apply as a node, with its bound arguments (built by :func:`step`).

    ``.named()``, ``.namespaced()``, ``.when*()`` and ``.on_output()`` return adjusted copies.
    """

    def __init__(
        self,
        fn: Callable[..., Any] | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        target_fn: Callable[..., Any] | None = None,
        _resolvers: list[ConfigResolver] | None = None,
        _name: str | None = None,
        _namespace: NamespaceType = ...,
        _target: base.TargetType = None,
    ) -> None:
        for candidate in (fn, target_fn):
            if candidate is not None and not callable(candidate):
                raise base.InvalidDecoratorException(
                    f"step()/apply_to() take a function, got {candidate!r}."
                )
        if "_name" in kwargs:
            raise base.InvalidDecoratorException("'_name' cannot be passed as a step argument.")
        self.fn = fn
        self.target_fn = target_fn
        self.args = tuple(args)
        self.kwargs = dict(kwargs)
        self.resolvers = list(_resolvers or [])
        self.name = _name
        self.namespace = _namespace
        self.target = _target

    def _replace(self, **changes: Any) -> Applicable:
        fields = {
            "fn": self.fn,
            "args": self.args,
            "kwargs": self.kwargs,
            "target_fn": self.target_fn,
            "_resolvers": self.resolvers,
            "_name": self.name,
            "_namespace": self.namespace,
            "_target": self.target,
        }
        fields.update(changes)
        return Applicable(**fields)

    def __repr__(self) -> str:
        fn_name = getattr(self.fn, "__name__", None)
        return f"step({fn_name}, args={self.args}, kwargs={self.kwargs}, name={self.name!r})"

    def when(self, **key_value_pairs: Any) -> Applicable:
        """Apply only when every config key equals its value."""
        return self._replace(_resolvers=[*self.resolvers, ConfigResolver.when(**key_value_pairs)])

    def when_not(self, **key_value_pairs: Any) -> Applicable:
        """Apply only when no config key equals its value."""
        resolver = ConfigResolver.when_not(**key_value_pairs)
        return self._replace(_resolvers=[*self.resolvers, resolver])

    def when_in(self, **key_value_group_pairs: Collection[Any]) -> Applicable:
        """Apply only when every config key's value is among its listed values."""
        resolver = ConfigResolver.when_in(**key_value_group_pairs)
        return self._replace(_resolvers=[*self.resolvers, resolver])

    def when_not_in(self, **key_value_group_pairs: Collection[Any]) -> Applicable:
        """Apply only when no config key's value is among its listed values."""
        resolver = ConfigResolver.when_not_in(**key_value_group_pairs)
        return self._replace(_resolvers=[*self.resolvers, resolver])

    def namespaced(self, namespace: NamespaceType) -> Applicable:
        """Set the namespace: a string, ``None`` (none) or ``...`` (the decorated function's)."""
        return self._replace(_namespace=namespace)

    def named(self, name: str, namespace: NamespaceType = ...) -> Applicable:
        """Name the node; ``namespace=...`` keeps the current namespace, ``None`` drops it."""
        return self._replace(
            _name=name if name is not None else self.name,
            _namespace=self.namespace if namespace is ... else namespace,
        )

    def on_output(self, target: base.TargetType) -> Applicable:
        """Apply (in ``pipe_output``/``mutate``) only to the named output node(s)."""
        return self._replace(_target=target if target is not None else self.target)

    def with_function(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Applicable:
        """A copy applying ``fn`` with ``kwargs``; target, name, namespace and ``.when*``
        conditions are kept (how ``@mutate`` turns a target into a step)."""
        return self._replace(fn=fn, kwargs=kwargs)

    def resolves(self, config: Mapping[str, Any]) -> bool:
        """Whether the ``.when*`` conditions hold for ``config``."""
        return all(resolver(dict(config)) for resolver in self.resolvers)

    def get_config_elements(self) -> list[str]:
        """The config keys the ``.when*`` conditions read."""
        return [key for resolver in self.resolvers for key in resolver.optional_config]

    def validate(self, chain_first_param: bool, allow_custom_namespace: bool) -> None:
        """The function must be typed, keyword-friendly and accept the bound arguments."""
        if self.fn is None:
            raise base.InvalidDecoratorException("a step needs a function to apply.")
        fn_name = getattr(self.fn, "__name__", repr(self.fn))
        signature = inspect.signature(self.fn)
        if not signature.parameters:
            raise base.InvalidDecoratorException(
                f"step function {fn_name} has no parameters, so it cannot be applied to a value."
            )
        invalid = non_keyword_params(self.fn)
        if invalid:
            raise base.InvalidDecoratorException(
                f"step function {fn_name} has parameters {invalid} that cannot be passed by keyword."
            )
        args = ((...,) if chain_first_param else ()) + self.args
        try:
            signature.bind(*args, **self.kwargs)
        except TypeError as exc:
            raise base.InvalidDecoratorException(
                f"step function {fn_name}{signature} cannot take the arguments "
                f"args={self.args}, kwargs={self.kwargs}: {exc}."
            ) from exc
        if self.namespace is not ... and not allow_custom_namespace:
            raise base.InvalidDecoratorException(
                "a namespace set on the decorator cannot be combined with namespaces set on "
                "individual steps."
            )
        hints = base.type_hints(self.fn)
        unhinted = [p for p in signature.parameters if p not in hints]
        if "return" not in hints or unhinted:
            missing = unhinted + ([] if "return" in hints else ["return"])
            raise base.InvalidDecoratorException(
                f"step function {fn_name} needs type annotations (missing: {missing})."
            )

    def resolve_namespace(self, default_namespace: str) -> tuple[str, ...]:
        """The namespace parts: ``...`` gives ``default_namespace``, ``None`` gives none."""
        if self.namespace is ...:
            return (default_namespace,)
        if self.namespace is None:
            return ()
        return (self.namespace,)

    def bind_function_args(
        self, current_param: str | None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """Bound arguments split into upstream renames (param -> node) and literal values."""
        check_source_names((*self.args, *self.kwargs.values()))
        args = self.args if current_param is None else (source(current_param), *self.args)
        bound = inspect.signature(self.fn).bind(*args, **self.kwargs)  # type: ignore[arg-type]
        upstream: dict[str, str] = {}
        literal: dict[str, Any] = {}
        for param, val in bound.arguments.items():
            if isinstance(val, UpstreamDependency):
                upstream[param] = val.source
            elif isinstance(val, LiteralDependency):
                literal[param] = val.value
            else:
                literal[param] = val
        return upstream, literal


def step(
    fn: Callable[..., Any], *args: SingleDependency | Any, **kwargs: SingleDependency | Any
) -> Applicable:
    """Apply ``fn`` in a pipe; the piped value is its first argument.

    Other arguments may be ``source(...)``, ``value(...)`` or plain values (literals).
    """
    if isinstance(fn, str) or not callable(fn):
        raise base.InvalidDecoratorException(f"step() takes a function, got {fn!r}.")
    return Applicable(fn=fn, args=args, kwargs=kwargs, _resolvers=[])


def _step_name(fn_name: str, count: int) -> str:
    separator = "" if fn_name.startswith("_") else "_"
    return f"with{separator}{fn_name}" + (f"_{count}" if count else "")


def chain_transforms(
    target_arg: str,
    transforms: Collection[Applicable],
    namespace: NamespaceType,
    config: Mapping[str, Any],
    fn: Callable[..., Any],
) -> tuple[list[Node], str]:
    """Nodes applying ``transforms`` in turn, starting from the node ``target_arg``.

    Steps whose ``.when*`` conditions fail are skipped. Unnamed steps are called
    ``with_<function>`` (``_1``, ``_2``... when a function repeats), namespaced by
    ``fn``'s name unless ``namespace`` or the step says otherwise. Returns the nodes and the
    name of the last one (``target_arg`` if no step applies).
    """
    counts: collections.Counter[str] = collections.Counter()
    nodes: list[Node] = []
    for applicable in transforms:
        if namespace is not ...:
            applicable = applicable.namespaced(namespace)
        if not applicable.resolves(config):
            continue
        fn_name = applicable.fn.__name__  # type: ignore[union-attr]
        name = applicable.name or _step_name(fn_name, counts[fn_name])
        counts[fn_name] += 1
        raw = base.node_from_fn(applicable.fn, name)  # type: ignore[arg-type]
        raw = raw.copy_with(
            namespace=applicable.resolve_namespace(fn.__name__),
            originating_functions=(applicable.fn, fn),
        )
        upstream, literal = applicable.bind_function_args(target_arg)
        nodes.append(raw.reassign_inputs(input_names=upstream, input_values=literal))
        target_arg = raw.name
    return nodes, target_arg
