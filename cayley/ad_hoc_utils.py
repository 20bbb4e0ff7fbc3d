"""Build modules at run time, for notebooks, tests and generated dataflows."""

from __future__ import annotations

import importlib.util
import linecache
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


def _copy_function(fn: types.FunctionType, module_name: str) -> types.FunctionType:
    """A copy of ``fn`` that belongs to ``module_name``; ``fn`` itself is left untouched."""
    copied = types.FunctionType(
        fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__
    )
    copied.__kwdefaults__ = dict(fn.__kwdefaults__) if fn.__kwdefaults__ else None
    copied.__dict__.update(fn.__dict__)  # decorators recorded on the function come along
    copied.__annotations__ = dict(fn.__annotations__)
    copied.__doc__ = fn.__doc__
    copied.__qualname__ = fn.__qualname__
    copied.__module__ = module_name
    return copied


def create_temporary_module(
    *functions: Callable[..., Any], module_name: str | None = None
) -> types.ModuleType:
    """A new module holding copies of ``functions``, as if they had been defined in it.

    The module is registered in ``sys.modules``. The functions are copied, so the originals
    keep their ``__module__``. Raises ValueError for a function whose name starts with ``_``
    (such functions never become nodes), for two functions of one name, and for a
    ``module_name`` that is already taken.
    """
    name = module_name or _fresh_name("temporary_module")
    if name in sys.modules:
        raise ValueError(
            f"A module named {name!r} already exists; pass another module_name (or none)."
        )
    module = types.ModuleType(name)
    for fn in functions:
        fn_name = getattr(fn, "__name__", repr(fn))
        if not isinstance(fn, types.FunctionType):
            raise ValueError(f"{fn_name} is not a function; only functions become nodes.")
        if fn_name.startswith("_"):
            raise ValueError(
                f"Function {fn_name} starts with '_': such functions are helpers and never "
                "become nodes, so a temporary module cannot hold them. Rename it, or call it "
                "from a public function."
            )
        if hasattr(module, fn_name):
            raise ValueError(f"Two functions are named {fn_name}; give each a distinct name.")
        setattr(module, fn_name, _copy_function(fn, name))
    sys.modules[name] = module
    return module


def module_from_source(source: str, module_name: str | None = None) -> types.ModuleType:
    """Execute ``source`` as a new module (registered in ``sys.modules``) and return it.

    The source is dedented first and registered with :mod:`linecache`, so tracebacks show
    its lines and :func:`inspect.getsource` works on its functions.
    """
    name = module_name or _fresh_name("source_module")
    text = textwrap.dedent(source)
    filename = f"<{name}>"
    module = types.ModuleType(name)
    sys.modules[name] = module
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    exec(compile(text, filename, "exec", dont_inherit=True), module.__dict__)
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
