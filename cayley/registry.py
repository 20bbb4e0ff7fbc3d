"""The registry of data loaders and savers, and compatibility helpers for extension registries.

``register_adapter(cls)`` makes a :class:`~cayley.io.data_adapters.DataLoader` or
:class:`~cayley.io.data_adapters.DataSaver` available as ``load_from.<name>``,
``save_to.<name>``, ``from_.<name>`` and ``to.<name>``. Several classes may share a format
name; the one handling the node's type is picked, and among equals the one registered last,
so adapters registered by users win over the built-in ones (which are registered when this
module is first imported; registering imports no data library).

cayley loads nothing automatically: the ``*_autoload`` functions and :func:`load_extension`
exist so that code written for Hamilton keeps working, and do nothing.
"""

from __future__ import annotations

import collections
from typing import Any

from cayley.function_modifiers import dataframes
from cayley.io.data_adapters import AdapterCommon, DataLoader, DataSaver

__all__ = [
    "LOADER_REGISTRY",
    "SAVER_REGISTRY",
    "config_disable_autoload",
    "config_enable_autoload",
    "disable_autoload",
    "enable_autoload",
    "fill_with_scalar",
    "get_column",
    "get_column_type_from_df_type",
    "get_registered_column_types",
    "get_registered_dataframe_types",
    "initialize",
    "load_extension",
    "loader_names",
    "loaders_for",
    "register_adapter",
    "register_types",
    "saver_names",
    "savers_for",
]

#: Format name -> loader classes, in registration order.
LOADER_REGISTRY: dict[str, list[type[DataLoader]]] = collections.defaultdict(list)
#: Format name -> saver classes, in registration order.
SAVER_REGISTRY: dict[str, list[type[DataSaver]]] = collections.defaultdict(list)

#: Extensions whose formats cayley has built in (``load_extension`` accepts them).
BUILT_IN_EXTENSIONS = frozenset({"numpy", "pandas", "polars", "polars_lazyframe", "yaml"})


def _add(registry: dict[str, list[Any]], name: str, adapter: type) -> None:
    classes = registry[name]
    if adapter in classes:
        classes.remove(adapter)  # registering again makes it the most recent
    classes.append(adapter)


def register_adapter(adapter: Any) -> None:
    """Register a loader and/or saver class under its :meth:`~AdapterCommon.name`.

    Raises ``TypeError`` for anything that is not a dataclass subclass of ``DataLoader`` or
    ``DataSaver``.
    """
    if not (isinstance(adapter, type) and issubclass(adapter, AdapterCommon)):
        raise TypeError(
            f"register_adapter expects a DataLoader or DataSaver subclass, got {adapter!r}. "
            "Pass the class itself, not an instance."
        )
    adapter._ensure_dataclass()
    name = adapter.name()
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"{adapter.__qualname__}.name() must return an identifier (it becomes "
            f"load_from.<name>), got {name!r}."
        )
    if adapter.can_load():
        _add(LOADER_REGISTRY, name, adapter)
    if adapter.can_save():
        _add(SAVER_REGISTRY, name, adapter)


def loaders_for(name: str) -> list[type[DataLoader]]:
    """The loader classes registered under ``name`` (oldest first); empty if none."""
    return list(LOADER_REGISTRY.get(name, ()))


def savers_for(name: str) -> list[type[DataSaver]]:
    """The saver classes registered under ``name`` (oldest first); empty if none."""
    return list(SAVER_REGISTRY.get(name, ()))


def loader_names() -> list[str]:
    """Every format with at least one loader, sorted."""
    return sorted(name for name, classes in LOADER_REGISTRY.items() if classes)


def saver_names() -> list[str]:
    """Every format with at least one saver, sorted."""
    return sorted(name for name, classes in SAVER_REGISTRY.items() if classes)


# ---- dataframe types (used by extract_columns and friends) --------------------------------
def register_types(extension_name: str, dataframe_type: type, column_type: type | None) -> None:
    """Teach column-extracting decorators a dataframe type (``extension_name`` is a label)."""
    dataframes.register_dataframe_type(dataframe_type, column_type)


def get_registered_dataframe_types() -> dict[str, type]:
    """The known dataframe types whose library is imported, by qualified name."""
    return dataframes.registered_dataframe_types()


def get_registered_column_types() -> dict[str, Any]:
    """The column type of each dataframe type of :func:`get_registered_dataframe_types`."""
    return {
        name: dataframes.column_type_of(frame)
        for name, frame in dataframes.registered_dataframe_types().items()
    }


def get_column_type_from_df_type(dataframe_type: type) -> Any:
    """The column type of ``dataframe_type``; ``NotImplementedError`` if it is unknown."""
    column = dataframes.column_type_of(dataframe_type)
    if column is None:
        raise NotImplementedError(
            f"{dataframe_type!r} is not a registered dataframe type; register it with "
            "register_types(name, dataframe_type, column_type)."
        )
    return column


def _kind(df: Any) -> dataframes.DataFrameKind:
    kind = dataframes.dataframe_kind_of(type(df))
    if kind is None:
        raise NotImplementedError(
            f"{type(df).__qualname__} is not a registered dataframe type; register it with "
            "register_types(name, dataframe_type, column_type)."
        )
    return kind


def get_column(df: Any, column_name: str) -> Any:
    """Column ``column_name`` of the dataframe ``df``."""
    return _kind(df).get_column(df, column_name)


def fill_with_scalar(df: Any, column_name: str, scalar_value: Any) -> Any:
    """``df`` with column ``column_name`` set to ``scalar_value``."""
    return _kind(df).fill_with_scalar(df, column_name, scalar_value)


# ---- extension loading: nothing to do, everything is built in -----------------------------
def load_extension(plugin_module: str) -> None:
    """Accepted for compatibility: cayley's formats are built in and load lazily.

    Raises ``ValueError`` for an extension cayley does not provide.
    """
    if plugin_module not in BUILT_IN_EXTENSIONS:
        raise ValueError(
            f"cayley has no {plugin_module!r} extension; built in are "
            f"{sorted(BUILT_IN_EXTENSIONS)}. Register your own adapters with register_adapter."
        )


def initialize() -> None:
    """Accepted for compatibility; does nothing (built-in formats are always registered)."""


def disable_autoload() -> None:
    """Accepted for compatibility; cayley never autoloads extensions."""


def enable_autoload() -> None:
    """Accepted for compatibility; cayley never autoloads extensions."""


def config_disable_autoload() -> None:
    """Accepted for compatibility; cayley never autoloads extensions."""


def config_enable_autoload() -> None:
    """Accepted for compatibility; cayley never autoloads extensions."""


def _register_built_ins() -> None:
    from cayley.io import builtin

    for adapter in builtin.ADAPTERS:
        register_adapter(adapter)


_register_built_ins()
