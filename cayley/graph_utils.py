"""Which functions of a module become nodes."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from typing import Any

__all__ = ["find_functions", "is_submodule"]


def is_submodule(child: types.ModuleType | None, parent: types.ModuleType) -> bool:
    """Whether ``child`` is ``parent`` or one of its submodules."""
    if child is None:
        return False
    return child.__name__ == parent.__name__ or child.__name__.startswith(parent.__name__ + ".")


def find_functions(module: types.ModuleType) -> list[tuple[str, Callable[..., Any]]]:
    """The public functions defined in ``module`` (or its submodules), in definition order.

    A function is public when its ``__name__`` does not start with ``_``; imported functions
    and other callables (classes, partials, builtins) are skipped.
    """
    found: list[tuple[str, Callable[..., Any]]] = []
    seen: set[int] = set()
    for attr_name, value in vars(module).items():
        if not inspect.isfunction(value) or value.__name__.startswith("_"):
            continue
        if id(value) in seen or not is_submodule(inspect.getmodule(value), module):
            continue
        seen.add(id(value))
        found.append((attr_name, value))
    return found
