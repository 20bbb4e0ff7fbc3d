"""Decorators replacing or wrapping a function's computation.

``@does`` swaps an empty function's body for another function. ``@pipe_input`` runs a chain of
``step(...)`` functions on an input before the function sees it, ``@pipe_output`` runs a chain
on its output, and ``@mutate`` appends a step to the output chain of other functions.
"""

from __future__ import annotations

import collections
import inspect
import sys
import types
import warnings
from collections.abc import Callable, Collection, Mapping
from types import EllipsisType
from typing import Any

from cayley.function_modifiers import base
from cayley.function_modifiers.configuration import ConfigResolver, hamilton_exclude
from cayley.function_modifiers.dependencies import (
    LiteralDependency,
    SingleDependency,
    UpstreamDependency,
    check_source_names,
    source,
)
from cayley.node import DependencyType, Node

__all__ = [
    "Applicable",
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

NamespaceType = str | EllipsisType | None

_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


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


def _non_keyword_params(fn: Callable[..., Any]) -> list[str]:
    return [
        name
        for name, param in inspect.signature(fn).parameters.items()
        if param.kind not in _KEYWORD_KINDS
    ]


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
        invalid = _non_keyword_params(fn)
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
        invalid = _non_keyword_params(self.fn)
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
        return remote._replace(fn=mutating_fn, kwargs=kwargs)

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
                base._guarded(extended, target, extended.validate, target)
                base.replace_decorator(target, old, extended)
        return mutating_fn


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
