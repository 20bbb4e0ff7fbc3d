"""Data loading and saving decorators: ``load_from``, ``save_to``, ``dataloader``, ``datasaver``.

``@load_from.<format>(**arguments)`` feeds a parameter from a loader: the function's node reads
``<fn>.select_data.<param>``, which keeps the data part of ``<fn>.load_data.<param>`` (the
loader's ``(data, metadata)``). ``@save_to.<format>(**arguments)`` adds a node (``save.<fn>``,
or ``output_name_``) that writes the function's value and returns the saver's metadata.
Arguments are literals, ``value(...)`` or ``source("node")``. The format's class is chosen by the
annotated type (see :mod:`cayley.io.resolve`).

``@dataloader()`` turns a function returning ``(data, metadata)`` into ``<fn>.loader`` and
``<fn>``; ``@datasaver()`` marks a function returning a metadata dict as a saver. Every node
made here carries the ``hamilton.data_loader*`` or ``hamilton.data_saver*`` tags.

Several ``@save_to`` may decorate one function without ``target_``: each saves the function's
own value (never another saver's metadata). Alone, a saver is named ``save.<fn>``; stacked,
each is named ``save.<fn>.<format>`` unless given an ``output_name_``.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from cayley.function_modifiers import base
from cayley.node import Node

__all__ = [
    "LoadFromDecorator",
    "SaveToDecorator",
    "dataloader",
    "datasaver",
    "load_from",
    "save_to",
]


def _registry() -> Any:
    import cayley.registry

    return cayley.registry


def _io_nodes() -> Any:
    import cayley.io.nodes

    return cayley.io.nodes


def _resolve(
    fmt: str, role: str, classes: Sequence[type], type_: Any, given: Collection[str], where: str
) -> Any:
    from cayley.io.resolve import resolve_adapter

    return resolve_adapter(fmt, role, classes, type_, given, where)


def _format_of(classes: Sequence[type], role: str) -> str:
    if not classes:
        raise base.InvalidDecoratorException(f"at least one {role} class is needed.")
    return classes[0].name()


class _FormatFamily(type):
    """Metaclass turning ``family.<format>`` into a decorator factory for that format."""

    def __getattr__(cls, item: str) -> Callable[..., Any]:
        if item.startswith("__"):
            raise AttributeError(item)
        return cls._factory(item)  # type: ignore[attr-defined]


# ---- load_from ---------------------------------------------------------------------------
class LoadFromDecorator(base.NodeInjector):
    """Feeds one parameter of the function from a loader (see the module docstring).

    Args:
        loader_classes: the candidate loader classes (one format).
        inject_: the parameter to feed; may be omitted when the function has one parameter.
        **kwargs: the loader's arguments (literals, ``value(...)``, ``source(...)``).
    """

    decorator_name = "load_from"

    def __init__(
        self, loader_classes: Sequence[type], inject_: str | None = None, **kwargs: Any
    ) -> None:
        self.loader_classes = tuple(loader_classes)
        self.fmt = _format_of(self.loader_classes, "loader")
        self.decorator_name = f"load_from.{self.fmt}"
        self.inject = inject_
        self.kwargs = kwargs
        self.arguments = _io_nodes().split_arguments(kwargs, f"load_from.{self.fmt}")

    def _parameter(self, fn: Callable[..., Any]) -> str:
        params = list(inspect.signature(fn).parameters)
        if self.inject is not None:
            if self.inject not in params:
                raise base.InvalidDecoratorException(
                    f"inject_={self.inject!r} is not a parameter of the function; its "
                    f"parameters are {params}."
                )
            return self.inject
        if len(params) != 1:
            raise base.InvalidDecoratorException(
                f"the function has {len(params)} parameters ({params}); pass inject_='<name>' "
                "to say which one the loader feeds."
            )
        return params[0]

    def _adapter(self, type_: Any, param: str, fn: Callable[..., Any]) -> Any:
        where = f"parameter {param!r} of function {fn.__qualname__}"
        return _resolve(self.fmt, "loader", self.loader_classes, type_, self.arguments.names, where)

    def validate(self, fn: Callable[..., Any]) -> None:
        """The parameter exists and a loader of the format handles its type."""
        param = self._parameter(fn)
        hints = base.type_hints(fn)
        self._adapter(hints.get(param, Any), param, fn)

    def inject_nodes(
        self, params: dict[str, Any], config: dict[str, Any], fn: Callable[..., Any]
    ) -> tuple[list[Node], dict[str, str]]:
        """The loader pair, and the parameter renamed to the select node."""
        param = self._parameter(fn)
        if param not in params:
            raise base.InvalidDecoratorException(
                f"parameter {param!r} is already fed by another decorator; each parameter takes "
                "one loader."
            )
        type_ = params[param]
        adapter = self._adapter(type_, param, fn)
        prefix = base.sanitize_function_name(fn.__name__)
        load, select = _io_nodes().loader_nodes(
            load_name=f"{prefix}.load_data.{param}",
            select_name=f"{prefix}.select_data.{param}",
            adapter=adapter,
            arguments=self.arguments,
            type_=type_,
            node_label=param,
            origins=(fn,),
        )
        return [load, select], {param: select.name}


class load_from(metaclass=_FormatFamily):
    """``@load_from.<format>(inject_=None, **arguments)``: feed a parameter from a loader.

    ``load_from.json``, ``load_from.csv``... exist for every registered format (see
    :mod:`cayley.registry`); an unknown format raises ``AttributeError`` listing them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "load_from is used through a format: @load_from.<format>(...), e.g. "
            "@load_from.json(path=source('path'))."
        )

    @classmethod
    def _factory(cls, fmt: str) -> Callable[..., LoadFromDecorator]:
        registry = _registry()
        classes = registry.loaders_for(fmt)
        if not classes:
            raise AttributeError(
                f"No loader named {fmt!r} for load_from; available loaders: "
                f"{registry.loader_names()}. Check the spelling, or register a DataLoader "
                "with cayley.registry.register_adapter."
            )

        return _load_from_factory(fmt, tuple(classes))


@functools.lru_cache(maxsize=256)
def _load_from_factory(fmt: str, classes: tuple[type, ...]) -> Callable[..., LoadFromDecorator]:
    """``load_from.<fmt>``, made once per format and set of registered classes."""
    from cayley.io.resolve import keyword_signature

    def create(inject_: str | None = None, **kwargs: Any) -> LoadFromDecorator:
        return LoadFromDecorator(classes, inject_=inject_, **kwargs)

    create.__name__ = create.__qualname__ = f"load_from.{fmt}"
    create.__doc__ = (
        f"Feeds a parameter from a {fmt} loader ({', '.join(c.__name__ for c in classes)})."
    )
    create.__signature__ = keyword_signature(  # type: ignore[attr-defined]
        classes, [inspect.Parameter("inject_", inspect.Parameter.KEYWORD_ONLY, default=None)]
    )
    return create


# ---- save_to -----------------------------------------------------------------------------
class SaveToDecorator(base.NodeTransformer):
    """Adds a node saving one node of the function (see the module docstring).

    Args:
        saver_classes_: the candidate saver classes (one format).
        output_name_: the saver node's name (default ``save.<node>``).
        target_: the node to save (default: the function's final node).
        **kwargs: the saver's arguments (literals, ``value(...)``, ``source(...)``).
    """

    decorator_name = "save_to"

    def __init__(
        self,
        saver_classes_: Sequence[type],
        output_name_: str | None = None,
        target_: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(target=target_)
        self.saver_classes = tuple(saver_classes_)
        self.fmt = _format_of(self.saver_classes, "saver")
        self.decorator_name = f"save_to.{self.fmt}"
        self.output_name = output_name_
        self.kwargs = kwargs
        self.arguments = _io_nodes().split_arguments(kwargs, f"save_to.{self.fmt}")
        if output_name_ is not None and not isinstance(output_name_, str):
            raise base.InvalidDecoratorException(
                f"output_name_ must be a node name (a string), got {output_name_!r}."
            )

    def validate(self, fn: Callable[..., Any]) -> None:
        """Nothing to check before the function's nodes exist."""

    @staticmethod
    def _default_targets(nodes: Collection[Node]) -> list[Node]:
        """Final nodes, ignoring savers: they neither count as final nor as consumers."""
        tag = _io_nodes().SAVER_TAG
        savers = {n.name for n in nodes if n.tags.get(tag)}
        consumed = {p for n in nodes if n.name not in savers for p in n.input_types}
        return [
            n
            for n in nodes
            if n.name not in savers
            and n.name not in consumed
            and not n.tags.get(base.NodeTransformer.NON_FINAL_TAG)
        ]

    def _target(self, nodes: Collection[Node]) -> Node:
        if self.target is None:
            targets = self._default_targets(nodes)
        else:
            targets = self.select_nodes(self.target, nodes)
        if len(targets) != 1:
            raise base.InvalidDecoratorException(
                f"saves a single node, but {len(targets)} are candidates "
                f"({sorted(n.name for n in targets)}); pass target_='<node>' to choose."
            )
        return targets[0]

    def _saver_name(self, target: Node, nodes: list[Node]) -> tuple[str, list[Node]]:
        """The new saver's name; renames an earlier default-named saver of the same target."""
        if self.output_name is not None:
            return self.output_name, nodes
        io_nodes = _io_nodes()
        default = f"save.{target.name}"
        siblings = [
            n
            for n in nodes
            if n.tags.get(io_nodes.SAVER_TAG)
            and (n.name == default or n.name.startswith(default + "."))
        ]
        if not siblings:
            return default, nodes
        renamed: list[Node] = []
        for n in nodes:
            if n.name == default and n.tags.get(io_nodes.SAVER_TAG):
                sink = n.tags[io_nodes.SAVER_SINK_TAG]
                n = n.copy_with(**base.split_name(f"{default}.{sink}"))
            renamed.append(n)
        name = f"{default}.{self.fmt}"
        if any(n.name == name for n in renamed):
            raise base.InvalidDecoratorException(
                f"two @save_to.{self.fmt} decorators save {target.name!r}; give them distinct "
                "output_name_ values."
            )
        return name, renamed

    def _saver(self, target: Node, fn: Callable[..., Any], name: str) -> Node:
        where = f"node {target.name!r} of function {fn.__qualname__}"
        adapter = _resolve(
            self.fmt, "saver", self.saver_classes, target.type, self.arguments.names, where
        )
        return _io_nodes().saver_node(
            name=name,
            adapter=adapter,
            arguments=self.arguments,
            data_name=target.name,
            data_type=target.type,
            origins=(fn,),
        )

    def transform_dag(
        self, nodes: Collection[Node], config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """The function's nodes plus the saver of the target node."""
        target = self._target(nodes)
        name, out = self._saver_name(target, list(nodes))
        return [*out, self._saver(target, fn, name)]

    def transform_node(
        self, node_: Node, config: dict[str, Any], fn: Callable[..., Any]
    ) -> Collection[Node]:
        """``node_`` and its saver, named ``output_name_`` or ``save.<node>``."""
        return [node_, self._saver(node_, fn, self.output_name or f"save.{node_.name}")]


class save_to(metaclass=_FormatFamily):
    """``@save_to.<format>(output_name_=None, target_=None, **arguments)``: save a node's value.

    ``save_to.json``, ``save_to.parquet``... exist for every registered format (see
    :mod:`cayley.registry`); an unknown format raises ``AttributeError`` listing them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "save_to is used through a format: @save_to.<format>(...), e.g. "
            "@save_to.json(path=value('out.json'))."
        )

    @classmethod
    def _factory(cls, fmt: str) -> Callable[..., SaveToDecorator]:
        registry = _registry()
        classes = registry.savers_for(fmt)
        if not classes:
            raise AttributeError(
                f"No saver named {fmt!r} for save_to; available savers: "
                f"{registry.saver_names()}. Check the spelling, or register a DataSaver "
                "with cayley.registry.register_adapter."
            )

        return _save_to_factory(fmt, tuple(classes))


@functools.lru_cache(maxsize=256)
def _save_to_factory(fmt: str, classes: tuple[type, ...]) -> Callable[..., SaveToDecorator]:
    """``save_to.<fmt>``, made once per format and set of registered classes."""
    from cayley.io.resolve import keyword_signature

    def create(
        output_name_: str | None = None, target_: str | None = None, **kwargs: Any
    ) -> SaveToDecorator:
        return SaveToDecorator(classes, output_name_=output_name_, target_=target_, **kwargs)

    create.__name__ = create.__qualname__ = f"save_to.{fmt}"
    create.__doc__ = f"Saves a node with a {fmt} saver ({', '.join(c.__name__ for c in classes)})."
    create.__signature__ = keyword_signature(  # type: ignore[attr-defined]
        classes,
        [
            inspect.Parameter("output_name_", inspect.Parameter.KEYWORD_ONLY, default=None),
            inspect.Parameter("target_", inspect.Parameter.KEYWORD_ONLY, default=None),
        ],
    )
    return create


# ---- dataloader / datasaver --------------------------------------------------------------
def _reject_bare_use(label: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    if len(args) == 1 and not kwargs and callable(args[0]):
        name = getattr(args[0], "__name__", "the function")
        raise TypeError(
            f"@{label} must be called: write @{label}() (with parentheses) above def {name}."
        )
    if args or kwargs:
        raise TypeError(f"{label}() takes no arguments.")


def _return_type(fn: Callable[..., Any]) -> Any:
    hints = base.type_hints(fn)
    if "return" not in hints:
        raise base.InvalidDecoratorException("the function needs a return annotation.")
    return hints["return"]


def _is_dict_type(tp: Any) -> bool:
    origin = typing.get_origin(tp) or tp
    return isinstance(origin, type) and issubclass(origin, Mapping)


class dataloader(base.NodeCreator):
    """``@dataloader()``: the function loads data and returns ``(data, metadata)``.

    Annotate it ``-> tuple[<data type>, dict]``. It becomes ``<fn>.loader`` (the tuple) and
    ``<fn>`` (the data), both tagged as loaders.
    """

    decorator_name = "dataloader"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _reject_bare_use("dataloader", args, kwargs)

    def validate(self, fn: Callable[..., Any]) -> None:
        """The return annotation is ``tuple[<data type>, dict]``."""
        returned = _return_type(fn)
        args = typing.get_args(returned)
        if typing.get_origin(returned) is not tuple or len(args) != 2 or not _is_dict_type(args[1]):
            raise base.InvalidDecoratorException(
                f"a @dataloader function returns (data, metadata): annotate it "
                f"-> tuple[<data type>, dict], not {returned!r}."
            )

    def generate_nodes(self, fn: Callable[..., Any], config: dict[str, Any]) -> list[Node]:
        """``<fn>.loader`` (the function) and ``<fn>`` (its data)."""
        io_nodes = _io_nodes()
        name = base.sanitize_function_name(fn.__name__)
        classname = f"{fn.__name__}()"
        loader = base.node_from_fn(fn)
        loader = loader.copy_with(
            **base.split_name(f"{name}.loader"),
            tags={**loader.tags, **io_nodes.loader_tags("loader", classname, name, True)},
        )
        data_type = typing.get_args(_return_type(fn))[0]
        select = Node(
            **base.split_name(name),
            typ=data_type,
            doc_string=fn.__doc__ or "",
            callabl=io_nodes.SelectData(loader.name),
            input_types={loader.name: loader.type},
            tags=io_nodes.loader_tags(name, classname, name, False),
            originating_functions=(fn,),
        )
        return [loader, select]


class datasaver(base.NodeCreator):
    """``@datasaver()``: the function saves data and returns a metadata dict.

    Annotate it ``-> dict`` (``dict[str, Any]`` and string annotations work too).
    """

    decorator_name = "datasaver"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _reject_bare_use("datasaver", args, kwargs)

    def validate(self, fn: Callable[..., Any]) -> None:
        """The return annotation is a dict type."""
        returned = _return_type(fn)
        if not _is_dict_type(returned):
            raise base.InvalidDecoratorException(
                f"a @datasaver function returns a metadata dict: annotate it -> dict, not "
                f"{returned!r}."
            )

    def generate_nodes(self, fn: Callable[..., Any], config: dict[str, Any]) -> list[Node]:
        """The function's node, tagged as a saver."""
        io_nodes = _io_nodes()
        node_ = base.node_from_fn(fn)
        name = base.sanitize_function_name(fn.__name__)
        return [
            node_.with_tags(**io_nodes.saver_tags(name, f"{fn.__name__}()")),
        ]
