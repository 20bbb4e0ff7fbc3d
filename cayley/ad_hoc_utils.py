"""Build modules at run time, for notebooks, tests and generated dataflows."""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import textwrap
import types
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["create_module", "create_temporary_module", "module_from_source"]


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


def create_module(
    source: str, module_name: str | None = None, verbosity: int = 0
) -> types.ModuleType:
    """Write ``source`` to a temporary ``.py`` file and import it as a module.

    Unlike :func:`module_from_source` the module has a real ``__file__``, so
    ``inspect.getsource`` and tracebacks show its code. It is registered in ``sys.modules``
    under ``module_name`` (a fresh name by default). With ``verbosity`` > 0 the file's path is
    printed.
    """
    name = module_name or _fresh_name("created_module")
    fd, path = tempfile.mkstemp(prefix=f"{name}_", suffix=".py")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(source))
    if verbosity > 0:
        print(f"Module {name} written to {path}")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
