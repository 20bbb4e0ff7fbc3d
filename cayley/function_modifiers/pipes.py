"""The pipe decorators: chains of ``step(...)`` functions around a function's computation.

``@pipe_input`` runs a chain on an input before the function sees it, ``@pipe_output`` runs
one on its output, and ``@mutate`` appends a step to the output chains of other functions.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Collection
from typing import Any

from cayley.function_modifiers import base
from cayley.function_modifiers.attachment import guarded
from cayley.function_modifiers.configuration import hamilton_exclude
from cayley.function_modifiers.dependencies import SingleDependency
from cayley.function_modifiers.steps import Applicable, NamespaceType, chain_transforms
from cayley.node import DependencyType, Node

__all__ = [
    "NotSameModuleError",
    "SingleTargetError",
    "apply_to",
    "mutate",
    "pipe",
    "pipe_input",
    "pipe_output",
]


def _config_keys(transforms: Collection[Applicable]) -> dict[str, Any]:
    return {key: None for applicable in transforms for key in applicable.get_config_elements()}


def _check_steps(transforms: Collection[Any], decorator: str) -> None:
    for transform in transforms:
        if not isinstance(transform, Applicable):
            raise base.InvalidDecoratorException(
                f"@{decorator} takes step(...) objects, got {transform!r}."
            )


def _reject_unsupported(collapse: bool, chain: bool, decorator: str) -> None:
    if collapse:
        raise NotImplementedError(f"@{decorator}(collapse=True) is not supported yet.")
    if chain:
        raise NotImplementedError(f"@{decorator}(_chain=True) is not supported yet.")


# ---- pipe_input -----------------------------------------------------------------------------


class pipe_input(base.NodeInjector):
    """Run a chain of ``step(...)`` functions on an input before the function receives it.

    The chain starts from the first parameter (or ``on_input``). Step nodes are namespaced
    by the function's name (``fn.with_<step>``) unless ``namespace`` is given (``None`` for no
    namespace) or a step is ``.named(...)``.
    """

    def __init__(
        self,
        *transforms: Applicable,
        namespace: NamespaceType = ...,
        on_input: base.TargetType = None,
        collapse: bool = False,
        _chain: bool = False,
    ) -> None:
        _check_steps(transforms, "pipe_input")
        if on_input is not None and not isinstance(on_input, str):
            if isinstance(on_input, Collection):
                raise NotImplementedError(
                    "@pipe_input(on_input=...) takes a single parameter name; several are not "
                    "supported yet."
                )
            raise base.InvalidDecoratorException(
                f"@pipe_input on_input must be a parameter name, got {on_input!r}."
            )
        _reject_unsupported(collapse, _chain, "pipe_input")
        self.transforms = transforms
        self.collapse = collapse
        self.chain = _chain
        self.namespace = namespace
        self.on_input = on_input
        self.target = [on_input]

    def _target_param(self, fn: Callable[..., Any]) -> str:
        if self.on_input is not None:
            return self.on_input
        params = list(inspect.signature(fn).parameters)
        if not params:
            raise base.InvalidDecoratorException(
                "the function has no parameters for the pipe to feed."
            )
        return params[0]

    def validate(self, fn: Callable[..., Any]) -> None:
        """The steps must fit, and the piped parameter must exist."""
        for applicable in self.transforms:
            applicable.validate(
                chain_first_param=True, allow_custom_namespace=self.namespace is ...
            )
        params = inspect.signature(fn).parameters
        target = self._target_param(fn)
        if target not in params:
            raise base.InvalidDecoratorException(
                f"on_input={target!r} is not a parameter of the function (its parameters are "
                f"{list(params)})."
            )

    def inject_nodes(
        self, params: dict[str, Any], config: dict[str, Any], fn: Callable[..., Any]
    ) -> tuple[list[Node], dict[str, str]]:
        """The step nodes, and the piped parameter renamed to the last one."""
        target = self._target_param(fn)
        if target not in params:
            raise base.InvalidDecoratorException(
                f"parameter {target!r} is not an input of the function's nodes (inputs: "
                f"{sorted(params)}); another decorator may have bound or renamed it."
            )
        nodes, last = chain_transforms(target, self.transforms, self.namespace, config, fn)
        return nodes, {target: last}

    def optional_config(self) -> dict[str, Any]:
        """Config keys read by the steps' ``.when*`` conditions."""
        return _config_keys(self.transforms)


class pipe(pipe_input):
    """Deprecated spelling of :class:`pipe_input`."""

    def __init__(
        self,
        *transforms: Applicable,
        namespace: NamespaceType = ...,
        on_input: base.TargetType = None,
        collapse: bool = False,
        _chain: bool = False,
    ) -> None:
        warnings.warn(
            "@pipe is deprecated; use @pipe_input instead.", DeprecationWarning, stacklevel=2
        )
        super().__init__(
            *transforms, namespace=namespace, on_input=on_input, collapse=collapse, _chain=_chain
        )


# ---- pipe_output ----------------------------------------------------------------------------


class SingleTargetError(base.InvalidDecoratorException):
    """Targets were set both on ``pipe_output`` and on its steps."""


def _identity_of(upstream: str) -> Callable[..., Any]:
    def identity(**kwargs: Any) -> Any:
        return kwargs[upstream]

    return identity


def _targets(target: base.TargetType, node_name: str) -> bool:
    if target is None:
        return True
    if isinstance(target, str):
        return target == node_name
    return node_name in target  # type: ignore[operator]


class pipe_output(base.NodeTransformer):
    """Run a chain of ``step(...)`` functions on the function's output.

    Node ``X`` becomes ``X.raw`` (the function), one node per step (``X.with_<step>``), and
    ``X`` holding the chain's result. ``on_output`` (or ``.on_output()`` on a step) picks the
    output nodes when the function produces several.
    """

    def __init__(
        self,
        *transforms: Applicable,
        namespace: NamespaceType = ...,
        on_output: base.TargetType = None,
        collapse: bool = False,
        _chain: bool = False,
    ) -> None:
        _check_steps(transforms, "pipe_output")
        if on_output is ...:
            raise base.InvalidDecoratorException(
                "@pipe_output on_output takes None, a node name or a list of names, not '...'."
            )
        if on_output is not None and any(t.target is not None for t in transforms):
            raise SingleTargetError("targets can be set on @pipe_output or on its steps, not both.")
        _reject_unsupported(collapse, _chain, "pipe_output")
        super().__init__(target=on_output)
        self.transforms = tuple(transforms)
        self.collapse = collapse
        self.chain = _chain
        self.namespace = namespace

    def with_transforms(self, *transforms: Applicable) -> pipe_output:
        """A copy with ``transforms`` appended to the chain."""
        return pipe_output(
            *self.transforms, *transforms, namespace=self.namespace, on_output=self.target
        )

    def validate(self, fn: Callable[..., Any]) -> None:
        """The steps must fit."""
        for applicable in self.transforms:
            applicable.validate(
                chain_first_param=True, allow_custom_namespace=self.namespace is ...
            )

    def transform_node(
        self, node_: Node, config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """``X.raw``, the step nodes and ``X``; ``node_`` unchanged if no step applies."""
        transforms = [t for t in self.transforms if _targets(t.target, node_.name)]
        if not transforms:
            return [node_]
        namespace = node_.name if self.namespace is ... else self.namespace
        raw = node_.copy_with(**base.split_name(f"{node_.name}.raw"))
        steps, last = chain_transforms(raw.name, transforms, namespace, config, fn)
        if not steps:
            return [node_]
        final = node_.copy_with(
            typ=steps[-1].type,
            callabl=_identity_of(last),
            input_types={last: (Any, DependencyType.REQUIRED)},
            optional_values={},
        )
        return [raw, *steps, final]

    def optional_config(self) -> dict[str, Any]:
        """Config keys read by the steps' ``.when*`` conditions."""
        return _config_keys(self.transforms)


# ---- mutate ---------------------------------------------------------------------------------


class NotSameModuleError(base.InvalidDecoratorException):
    """``@mutate`` targets a function defined in another module."""

    def __init__(self, fn: Callable[..., Any], target_fn: Callable[..., Any]) -> None:
        super().__init__(
            f"@mutate on function {base.qualified_name(fn)}: the target function "
            f"{target_fn.__name__} is defined in module {target_fn.__module__}, but mutating "
            f"functions must live in the same module as their targets ({fn.__module__})."
        )


def apply_to(fn_: Callable[..., Any], **mutating_fn_kwargs: SingleDependency | Any) -> Applicable:
    """A ``@mutate`` target: the function whose output to mutate, with its own step arguments."""
    if isinstance(fn_, str) or not callable(fn_):
        raise base.InvalidDecoratorException(f"apply_to() takes a function, got {fn_!r}.")
    return Applicable(fn=None, args=(), kwargs=mutating_fn_kwargs, target_fn=fn_, _resolvers=[])


class mutate:
    """Append the decorated function as a ``pipe_output`` step to each target function.

    Targets are functions or ``apply_to(fn, **kwargs)`` (to pass per-target arguments, or
    chain ``.named()``, ``.when*()``, ``.on_output()``). Keyword arguments here apply to every
    target without its own. The decorated function itself is excluded from the graph, and
    must be defined in the same module as its targets.
    """

    def __init__(
        self,
        *target_functions: Applicable | Callable[..., Any],
        collapse: bool = False,
        _chain: bool = False,
        **mutating_function_kwargs: SingleDependency | Any,
    ) -> None:
        _reject_unsupported(collapse, _chain, "mutate")
        if not target_functions:
            raise base.InvalidDecoratorException("@mutate needs at least one target function.")
        self.remote_applicables = tuple(
            t if isinstance(t, Applicable) else apply_to(t) for t in target_functions
        )
        self.mutating_function_kwargs = mutating_function_kwargs
        self.collapse = collapse
        self.chain = _chain
        self.restrict_to_single_module = True

    def validate_same_module(self, mutating_fn: Callable[..., Any]) -> None:
        """Every target must be defined in the mutating function's module."""
        for applicable in self.remote_applicables:
            target = applicable.target_fn
            if target is not None and target.__module__ != mutating_fn.__module__:
                raise NotSameModuleError(fn=mutating_fn, target_fn=target)

    def _create_step(self, mutating_fn: Callable[..., Any], remote: Applicable) -> Applicable:
        kwargs = remote.kwargs or self.mutating_function_kwargs
        return remote.with_function(mutating_fn, kwargs)

    def __call__(self, mutating_fn: Callable[..., Any]) -> Callable[..., Any]:
        """Register the steps on the targets and exclude ``mutating_fn`` from the graph."""
        if not inspect.isfunction(mutating_fn):
            raise base.InvalidDecoratorException(
                f"@mutate can only decorate functions, but was applied to {mutating_fn!r}."
            )
        if self.restrict_to_single_module:
            self.validate_same_module(mutating_fn)
        mutating_fn = hamilton_exclude()(mutating_fn)
        for remote in self.remote_applicables:
            new_step = self._create_step(mutating_fn, remote)
            target = remote.target_fn
            existing = [
                d
                for d in base.lifecycle_of(target).get("transform", ())
                if isinstance(d, pipe_output)
            ]
            if not existing:
                pipe_output(new_step)(target)
                continue
            for old in existing:
                extended = old.with_transforms(new_step)
                guarded(extended, target, extended.validate, target)
                base.replace_decorator(target, old, extended)
        return mutating_fn
