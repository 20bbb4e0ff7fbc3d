"""``with_columns``: a sub-dataflow of column functions run against a DataFrame, merged back.

The decorated function receives its DataFrame parameter with the selected columns added (or
replaced). The column functions become nodes namespaced under the function's name (or
``namespace``), so a module of column functions can be reused by several decorated
functions. For a decorated ``final_df(initial_df)`` with ``columns_to_pass=["a", "b"]``:

* ``final_df.a``, ``final_df.b`` read the columns out of ``initial_df``;
* ``final_df.<fn>`` is one node per column function (its parameters read those columns, the
  other column functions, or, for names nothing inside produces, nodes of the outer graph);
* ``final_df._append`` merges the selected columns into ``initial_df``;
* ``final_df`` itself receives ``final_df._append`` as ``initial_df``.

How the column functions see the frame is chosen by ``columns_to_pass`` (columns extracted
for them), ``pass_dataframe_as`` (the frame under that name) and ``on_input`` (which
parameter holds the frame; without the other two the functions read it under that
parameter's name). Library specifics (reading a column, merging) live in small subclasses:
``cayley.plugins.h_pandas``, ``h_polars`` and ``h_polars_lazyframe``.
"""

from __future__ import annotations

import abc
import inspect
import types
import typing
from collections.abc import Callable, Collection
from typing import Annotated, Any

from cayley import htypes
from cayley.function_modifiers import base
from cayley.function_modifiers.recursive import subdag
from cayley.node import DependencyType, Node

__all__ = ["APPEND_NODE", "GROUP_TAG", "MissingColumnError", "with_columns_base"]

#: Name (inside the namespace) of the node merging the selected columns into the frame.
APPEND_NODE = "_append"
#: Tag carried by every node of a ``with_columns`` sub-dataflow: its namespace. Drawings
#: group the nodes sharing it.
GROUP_TAG = "cayley.with_columns"


def _plain(tp: Any) -> Any:
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    origin = typing.get_origin(tp)
    return origin if isinstance(origin, type) else tp


def _type_label(tp: Any) -> str:
    """``polars.DataFrame`` rather than ``polars.dataframe.frame.DataFrame``."""
    if isinstance(tp, type) and typing.get_origin(tp) is None and tp.__module__ != "builtins":
        return f"{tp.__module__.split('.')[0]}.{tp.__qualname__}"
    return htypes.get_type_as_string(tp)


def _names(value: Any, argument: str) -> list[str] | None:
    """``value`` as a list of names (``None`` stays ``None``); a clear error otherwise."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Collection):
        raise base.InvalidDecoratorException(
            f"{argument} takes a list of names, got {value!r}"
            + (f"; write {argument}=[{value!r}]." if isinstance(value, str) else ".")
        )
    names = list(value)
    bad = [v for v in names if not isinstance(v, str)]
    if bad:
        raise base.InvalidDecoratorException(f"{argument} takes names (str), got {bad!r}.")
    if not names:
        raise base.InvalidDecoratorException(f"{argument} is empty; give at least one name.")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise base.InvalidDecoratorException(f"{argument} lists {duplicates} more than once.")
    return names


class MissingColumnError(KeyError):
    """A column named in ``columns_to_pass`` is not in the frame given at run time."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _is_column(tp: Any, column_type: Any) -> bool:
    plain = _plain(tp)
    return (
        isinstance(plain, type) and isinstance(column_type, type) and issubclass(plain, column_type)
    )


def _identity_of(upstream: str) -> Callable[..., Any]:
    def identity(**kwargs: Any) -> Any:
        return kwargs[upstream]

    return identity


class with_columns_base(base.NodeInjector, abc.ABC):
    """Base of the ``with_columns`` decorators; subclasses say how a library reads and merges.

    Args:
        load_from: column functions, or modules whose public functions are column functions.
        columns_to_pass: columns of the frame given to the column functions as nodes of the
            same name. They cannot be replaced (a function of the same name is an error).
        pass_dataframe_as: the name under which the column functions receive the frame.
        on_input: the parameter of the decorated function holding the frame (default: the
            first parameter).
        select: the nodes appended (or replacing columns) to the frame; only the nodes they
            need are built. Default: every node of the library's column type is appended
            (and every column function's node is built, as in Hamilton).
        namespace: prefix of the generated nodes (default: the decorated function's name).
        config_required: config keys the column functions need; ``None`` gives them the
            whole config.
        dataframe_type: the DataFrame type this library works on.

    At least one of ``columns_to_pass``, ``pass_dataframe_as`` and ``on_input`` is needed.
    """

    decorator_name = "with_columns"

    def __init__(
        self,
        *load_from: Callable[..., Any] | types.ModuleType,
        columns_to_pass: list[str] | None = None,
        pass_dataframe_as: str | None = None,
        on_input: str | None = None,
        select: list[str] | None = None,
        namespace: str | None = None,
        config_required: list[str] | None = None,
        dataframe_type: type | None = None,
    ) -> None:
        if dataframe_type is None:
            dataframe_type = self.default_dataframe_type()
        if dataframe_type is None:
            raise base.InvalidDecoratorException(
                "with_columns needs the dataframe type of its library (dataframe_type=...)."
            )
        if columns_to_pass is None and pass_dataframe_as is None and on_input is None:
            raise base.InvalidDecoratorException(
                "with_columns needs to know how the column functions see the DataFrame: pass "
                "columns_to_pass=[...] (columns handed to them by name), "
                "pass_dataframe_as='name' (the whole frame under that name) or "
                "on_input='parameter' (the frame parameter, read under its own name)."
            )
        for argument, given in (
            ("pass_dataframe_as", pass_dataframe_as),
            ("on_input", on_input),
            ("namespace", namespace),
        ):
            if given is not None and (not isinstance(given, str) or not given):
                raise base.InvalidDecoratorException(
                    f"{argument} takes a non-empty name (str), got {given!r}."
                )
        self.subdag_functions = subdag.collect_functions(load_from)
        self.initial_schema = _names(columns_to_pass, "columns_to_pass")
        self.select = _names(select, "select")
        self.dataframe_subdag_param = pass_dataframe_as
        self.target_dataframe = on_input
        self.namespace = namespace
        self.config_required = None if config_required is None else list(config_required)
        self.dataframe_type = dataframe_type

    # ---- what a library provides --------------------------------------------------------
    def default_dataframe_type(self) -> type | None:
        """The frame type used when ``dataframe_type`` is not given (None: it must be)."""
        return None

    # A subclass implements these three, or (as Hamilton's subclasses do) overrides
    # get_initial_nodes, get_subdag_nodes, chain_subdag_nodes and validate instead.
    def column_type(self) -> Any:
        """The type of one column of this library's frames (``pd.Series``, ``pl.Expr`` ...)."""
        raise NotImplementedError(f"{type(self).__name__} must implement column_type()")

    def read_column(self, frame: Any, column: str) -> Any:
        """Column ``column`` of ``frame``; raises ``KeyError`` when it is missing."""
        raise NotImplementedError(f"{type(self).__name__} must implement read_column()")

    def merge(self, frame: Any, columns: dict[str, Any]) -> Any:
        """``frame`` with ``columns`` (name -> column or scalar) added or replaced."""
        raise NotImplementedError(f"{type(self).__name__} must implement merge()")

    def frame_columns(self, frame: Any) -> list[str] | None:
        """The column names of ``frame`` for error messages (``None``: unknown)."""
        return list(frame.columns)

    # ---- helpers Hamilton's subclasses call ---------------------------------------------
    @staticmethod
    def contains_duplicates(nodes_: Collection[Node]) -> bool:
        """Whether two of ``nodes_`` have the same name."""
        names = [n.name for n in nodes_]
        return len(set(names)) != len(names)

    @staticmethod
    def validate_dataframe(
        fn: Callable[..., Any], inject_parameter: str, params: dict[str, Any], required_type: type
    ) -> None:
        """``inject_parameter`` is a parameter of ``fn`` annotated ``required_type``."""
        if inject_parameter not in params:
            raise base.InvalidDecoratorException(
                f"{inject_parameter!r} is not a parameter of {fn.__name__} (its parameters are "
                f"{list(params)}); point on_input at the DataFrame parameter."
            )
        plain = _plain(params[inject_parameter])
        if not (isinstance(plain, type) and issubclass(plain, required_type)):
            raise base.InvalidDecoratorException(
                f"parameter {inject_parameter!r} is annotated "
                f"{_type_label(params[inject_parameter])}, not {_type_label(required_type)}."
            )

    # ---- the decorator lifecycle --------------------------------------------------------
    def required_config(self) -> list[str] | None:
        """``config_required`` (``None``: the column functions see the whole config)."""
        return self.config_required

    def inject_parameter(self, fn: Callable[..., Any]) -> str:
        """The parameter of ``fn`` holding the frame: ``on_input``, else the first one."""
        if self.target_dataframe is not None:
            return self.target_dataframe
        params = list(inspect.signature(fn).parameters)
        if not params:
            raise base.InvalidDecoratorException(
                "the function has no parameters; with_columns works on a DataFrame parameter "
                "(the first one, or the one named by on_input)."
            )
        return params[0]

    def validate(self, fn: Callable[..., Any]) -> None:
        """The frame parameter exists and is annotated with this library's DataFrame type."""
        param = self.inject_parameter(fn)
        params = inspect.signature(fn).parameters
        if param not in params:
            raise base.InvalidDecoratorException(
                f"on_input={param!r} is not a parameter of the function (its parameters are "
                f"{list(params)})."
            )
        hints = base.type_hints(fn)
        if param not in hints:
            raise base.InvalidDecoratorException(
                f"parameter {param!r} needs a type annotation ({self._frame_name()})."
            )
        self._check_frame_type(param, hints[param])

    def _frame_name(self) -> str:
        return _type_label(self.dataframe_type)

    def _check_frame_type(self, param: str, annotation: Any) -> None:
        plain = _plain(annotation)
        if not (isinstance(plain, type) and issubclass(plain, self.dataframe_type)):
            raise base.InvalidDecoratorException(
                f"parameter {param!r} is annotated {_type_label(annotation)}, "
                f"but this with_columns works on {self._frame_name()}. Annotate the parameter "
                "with that type, point on_input at the DataFrame parameter, or use the "
                "with_columns of the frame's library (cayley.plugins.h_pandas, h_polars, "
                "h_polars_lazyframe)."
            )

    def get_initial_nodes(
        self, fn: Callable[..., Any], params: dict[str, Any]
    ) -> tuple[str, list[Node]]:
        """The frame parameter, and the nodes handing the frame or its columns to the functions.

        Their names are not namespaced yet; they read the (outer) frame parameter.
        """
        param = self.inject_parameter(fn)
        if param not in params:
            raise base.InvalidDecoratorException(
                f"parameter {param!r} is already fed by another decorator of the function; "
                "with_columns must be the one feeding it."
            )
        frame_type = params[param]
        reads = {param: (frame_type, DependencyType.REQUIRED)}
        nodes = [
            Node(
                column,
                self.column_type(),
                callabl=self._column_reader(fn, param, column),
                input_types=reads,
            )
            for column in self.initial_schema or ()
        ]
        if self.dataframe_subdag_param is not None:
            nodes.append(
                Node(
                    self.dataframe_subdag_param,
                    frame_type,
                    callabl=_identity_of(param),
                    input_types=reads,
                )
            )
        return param, nodes

    def _column_reader(self, fn: Callable[..., Any], param: str, column: str) -> Any:
        read = self.read_column
        frame_columns = self.frame_columns
        owner = fn.__name__

        def read_column(**kwargs: Any) -> Any:
            frame = kwargs[param]
            try:
                return read(frame, column)
            except KeyError:
                known = frame_columns(frame)
                raise MissingColumnError(
                    f"with_columns on {owner!r}: column {column!r} (from columns_to_pass) is "
                    f"not in {param!r}"
                    + (f", whose columns are {known}" if known is not None else "")
                    + ". Fix columns_to_pass or the frame."
                ) from None

        return read_column

    def get_subdag_nodes(self, fn: Callable[..., Any], config: dict[str, Any]) -> list[Node]:
        """The nodes of the column functions under ``config`` (not namespaced yet)."""
        return subdag.collect_nodes(config, self.subdag_functions)

    def selected(self, nodes: Collection[Node]) -> list[str]:
        """``select``, or every node of the library's column type."""
        if self.select is not None:
            return list(self.select)
        column_type = self.column_type()
        return [n.name for n in nodes if _is_column(n.type, column_type)]

    def chain_subdag_nodes(
        self, fn: Callable[..., Any], inject_parameter: str, generated_nodes: Collection[Node]
    ) -> tuple[list[Node], str]:
        """The generated nodes plus the node merging the selected columns into the frame."""
        by_name = {n.name: n for n in generated_nodes}
        selected = self.selected(generated_nodes)
        passed = set(self.initial_schema or ())
        added = [name for name in selected if name not in passed]
        merge = self.merge

        def append_columns(**kwargs: Any) -> Any:
            return merge(kwargs[inject_parameter], {name: kwargs[name] for name in added})

        frame_type = base.type_hints(fn)[inject_parameter]
        inputs = {name: (by_name[name].type, DependencyType.REQUIRED) for name in selected}
        inputs[inject_parameter] = (frame_type, DependencyType.REQUIRED)
        append = Node(APPEND_NODE, frame_type, callabl=append_columns, input_types=inputs)
        return [*generated_nodes, append], APPEND_NODE

    def inject_nodes(
        self, params: dict[str, Any], config: dict[str, Any], fn: Callable[..., Any]
    ) -> tuple[list[Node], dict[str, str]]:
        """Namespaced column, function and merge nodes; the frame parameter reads the merge."""
        namespace = fn.__name__ if self.namespace is None else self.namespace
        param, initial = self.get_initial_nodes(fn, params)
        inner = self.get_subdag_nodes(fn, config)
        generated = [*initial, *inner]
        _check_unique(generated, param)
        # Without select every node is kept, the non-column ones included (as Hamilton does).
        pruned = generated if self.select is None else _upstream_of(generated, self.select)
        chained, frame_node = self.chain_subdag_nodes(fn, param, pruned)
        renames = {n.name: f"{namespace}.{n.name}" for n in chained}
        # The nodes handing over the frame, and the merge, read the outer frame parameter even
        # if a column function shares its name.
        frame_readers = {id(n) for n in initial} | {id(n) for n in chained if n.name == frame_node}
        out = []
        for node_ in chained:
            keep = {param} if id(node_) in frame_readers else set()
            mapping = {p: renames[p] for p in node_.input_types if p in renames and p not in keep}
            moved = node_.reassign_inputs(input_names=mapping) if mapping else node_
            tags = {**moved.tags, GROUP_TAG: namespace}
            out.append(moved.copy_with(namespace=(namespace, *moved.namespace), tags=tags))
        return out, {param: f"{namespace}.{frame_node}"}


def _check_unique(nodes: Collection[Node], param: str) -> None:
    seen: set[str] = set()
    duplicates: list[str] = []
    for node_ in nodes:
        if node_.name in seen and node_.name not in duplicates:
            duplicates.append(node_.name)
        seen.add(node_.name)
    reserved = [n.name for n in nodes if n.name == APPEND_NODE]
    if duplicates:
        raise base.InvalidDecoratorException(
            f"node name(s) {duplicates} are produced twice: a column of columns_to_pass (or "
            "the pass_dataframe_as name) cannot also be a column function. To replace "
            f"existing columns, read them from {param!r} with on_input or pass_dataframe_as "
            "and select the new versions."
        )
    if reserved:
        raise base.InvalidDecoratorException(
            f"a column function is named {APPEND_NODE!r}, which with_columns uses for the "
            "node merging the columns; rename it."
        )


def _upstream_of(nodes: list[Node], select: list[str]) -> list[Node]:
    """The nodes ``select`` needs (themselves included), in their original order."""
    by_name = {n.name: n for n in nodes}
    missing = [name for name in select if name not in by_name]
    if missing:
        raise base.InvalidDecoratorException(
            f"select names {missing}, which no column function (or passed column) produces; "
            f"available: {sorted(by_name)}."
        )
    needed: set[str] = set()
    stack = list(select)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        stack.extend(p for p in by_name[name].input_types if p in by_name and p not in needed)
    return [n for n in nodes if n.name in needed]
