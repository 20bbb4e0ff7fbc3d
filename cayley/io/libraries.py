"""Calling optional data libraries: importing them on first use, passing adapter fields on.

:func:`require` imports pandas, polars, pyarrow... when a format needs them, or raises an
``ImportError`` naming the extra to install. :func:`library_kwargs` turns an adapter's fields
into keyword arguments for the library function it wraps: ``None`` means "not given", names the
library renamed are translated, and fields the installed version no longer accepts are dropped
when left at their default (and rejected with a clear message when set).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import sys
from collections.abc import Callable, Collection, Mapping
from typing import Any

__all__ = ["EXTRA_OF", "library_kwargs", "require"]

#: The cayley extra that installs each optional module.
EXTRA_OF: dict[str, str] = {
    "pandas": "io",
    "numpy": "io",
    "pyarrow": "io",
    "yaml": "io",
    "openpyxl": "io",
    "polars": "polars",
}


def require(module: str, fmt: str) -> Any:
    """``import module``, or an ImportError saying which extra provides it for format ``fmt``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = EXTRA_OF.get(module.split(".")[0])
        install = f'pip install "cayley[{extra}]"' if extra else f"pip install {module}"
        raise ImportError(
            f"The {fmt} format needs {module.split('.')[0]}, which is not installed: {install}."
        ) from exc


@functools.cache
def _accepted(fn: Callable[..., Any]) -> tuple[dict[str, Any], bool]:
    """(parameter name -> default, whether it takes **kwargs) of a library function."""
    params = inspect.signature(fn).parameters.values()
    return (
        {p.name: p.default for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD},
        any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params),
    )


def _is_default(value: Any, default: Any) -> bool:
    if default is dataclasses.MISSING or default is inspect.Parameter.empty:
        return False
    if type(value) is not type(default):  # 0 == False, 1 == True: not the same argument
        return False
    try:
        return bool(value == default)
    except Exception:  # array-like comparisons
        return False


def _library_label(fn: Callable[..., Any]) -> str:
    root = (getattr(fn, "__module__", None) or "").split(".")[0]
    version = getattr(sys.modules.get(root), "__version__", "")
    name = getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))
    return f"{root}.{name} ({root} {version})" if root else name


def library_kwargs(
    adapter: Any,
    fn: Callable[..., Any],
    *,
    exclude: Collection[str] = (),
    rename: Mapping[str, str] | None = None,
    unless_changed: Collection[str] = (),
) -> dict[str, Any]:
    """Keyword arguments for ``fn`` from the dataclass ``adapter``'s fields.

    Fields in ``exclude``, fields set to ``None`` and fields equal to the library's own default
    are left out (so deprecated-but-default arguments stay silent); ``rename`` maps field names
    to the library's current names. Fields in ``unless_changed`` are passed only when set to
    something other than their default (arguments the library deprecated but still defaults to).
    """
    names, takes_any = _accepted(fn)
    out: dict[str, Any] = {}
    for field in dataclasses.fields(adapter):
        if field.name in exclude:
            continue
        value = getattr(adapter, field.name)
        if value is None or (field.name in unless_changed and _is_default(value, field.default)):
            continue
        name = rename.get(field.name, field.name) if rename else field.name
        if name in names:
            if not _is_default(value, names[name]):
                out[name] = value
        elif takes_any:
            out[name] = value
        elif not _is_default(value, field.default):
            raise TypeError(
                f"{type(adapter).__name__}: argument {field.name}={value!r} is not supported by "
                f"{_library_label(fn)}, the installed version. Remove it, or install a version "
                "that accepts it."
            )
    return out
