"""Build modules at run time, for notebooks, tests and generated dataflows."""

from __future__ import annotations

import sys
import textwrap
import types
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["create_temporary_module", "module_from_source"]


def _fresh_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def create_temporary_module(
    *functions: Callable[..., Any], module_name: str | None = None
) -> types.ModuleType:
    """A new module holding ``functions``, as if they had been defined in it.

    The module is registered in ``sys.modules`` so the functions look like they were
    defined there; their ``__module__`` is rewritten accordingly.
    """
    name = module_name or _fresh_name("temporary_module")
    module = types.ModuleType(name)
    for fn in functions:
        fn.__module__ = name
        setattr(module, fn.__name__, fn)
    sys.modules[name] = module
    return module


def module_from_source(source: str, module_name: str | None = None) -> types.ModuleType:
    """Execute ``source`` as a new module (registered in ``sys.modules``) and return it."""
    name = module_name or _fresh_name("source_module")
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec", dont_inherit=True), module.__dict__)
    return module
