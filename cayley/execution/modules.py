"""Which modules a worker can import, and sending the others by value.

A worker process (spawned, forked from a server, or on a Ray or Dask cluster) starts from
the interpreter's installation: the standard library, site-packages, directories that
``.pth`` files add (editable installs) and the ``PYTHONPATH`` environment variable. A
module found there is sent by reference: the worker imports it. Anything else travels by
value with cloudpickle, which covers modules built from source (``module_from_source``),
modules loaded with ``importlib.util.spec_from_file_location`` + ``exec_module``, and
modules imported from a directory appended to ``sys.path`` while the program runs. Modules
those modules use (``import helpers`` next to a notebook's ``flow.py``) follow them.
"""

from __future__ import annotations

import importlib.machinery
import os
import site
import sys
import sysconfig
import types
from collections.abc import Iterable
from typing import Any

__all__ = ["ByValueModules", "modules_by_value", "worker_can_import"]

#: Module names of packages workers always import (the engine itself).
_ALWAYS_IMPORTABLE = ("cayley",)

_verdicts: dict[tuple[str, int, str], bool] = {}
_startup: dict[str, list[str]] = {}


def _site_dirs() -> list[str]:
    dirs = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    user = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
    if isinstance(user, str):
        dirs.append(user)
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.append(path)
    return dirs


def _pth_dirs(site_dirs: Iterable[str]) -> list[str]:
    """Directories that ``.pth`` files in the site directories add to every interpreter."""
    found = []
    for directory in site_dirs:
        try:
            names = sorted(n for n in os.listdir(directory) if n.endswith(".pth"))
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(directory, name), encoding="utf-8") as handle:
                    lines = handle.read().splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for line in lines:
                line = line.strip()
                if not line or line.startswith(("#", "import ", "import\t")):
                    continue
                path = os.path.join(directory, line)
                if os.path.isdir(path):
                    found.append(path)
    return found


def startup_path() -> list[str]:
    """The ``sys.path`` entries a fresh interpreter of this installation would have.

    ``PYTHONPATH`` is read from the environment now, so a worker started after a change to
    ``os.environ`` sees the same value.
    """
    pythonpath = os.environ.get("PYTHONPATH", "")
    found = _startup.get(pythonpath)
    if found is None:
        dirs = [p for p in pythonpath.split(os.pathsep) if p]
        sites = _site_dirs()
        dirs.extend(sites)
        dirs.extend(_pth_dirs(sites))
        found = _startup[pythonpath] = [os.path.abspath(d) for d in dict.fromkeys(dirs)]
    return found


def _location(module: types.ModuleType) -> Any:
    spec = getattr(module, "__spec__", None)
    if spec is not None and spec.origin not in (None, "namespace"):
        return os.path.realpath(spec.origin)
    path = getattr(module, "__path__", None)
    return tuple(sorted(os.path.realpath(p) for p in path)) if path is not None else None


def _spec_location(spec: Any) -> Any:
    if spec is None:
        return None
    if spec.origin not in (None, "namespace"):
        return os.path.realpath(spec.origin)
    locations = spec.submodule_search_locations
    return tuple(sorted(os.path.realpath(p) for p in locations)) if locations else None


def _editable_spec(name: str) -> Any:
    """The spec an installed editable-install finder (setuptools) gives ``name``, if any."""
    for finder in sys.meta_path:
        if type(finder).__module__.startswith("__editable__"):
            try:
                spec = finder.find_spec(name, None)
            except Exception:
                continue
            if spec is not None:
                return spec
    return None


def _judge(module: types.ModuleType) -> bool:
    name = module.__name__
    if name == "__main__":
        return False
    top_name = name.partition(".")[0]
    if top_name in _ALWAYS_IMPORTABLE or name in sys.builtin_module_names:
        return True
    spec = getattr(module, "__spec__", None)
    if spec is not None and spec.origin in ("built-in", "frozen"):
        return True
    if sys.modules.get(name) is not module or getattr(module, "__file__", None) is None:
        return False
    if spec is None or spec.name != name:
        return False  # loaded under another name than the one it was found by
    top = sys.modules.get(top_name)
    if top is None:
        return False
    expected = _location(top)
    found = importlib.machinery.PathFinder.find_spec(top_name, startup_path())
    if found is None:
        found = _editable_spec(top_name)
    return found is not None and _spec_location(found) == expected


def worker_can_import(module: types.ModuleType) -> bool:
    """Whether a fresh worker interpreter imports ``module`` by its name to the same file."""
    key = (module.__name__, id(module), os.environ.get("PYTHONPATH", ""))
    verdict = _verdicts.get(key)
    if verdict is None:
        verdict = _verdicts[key] = _judge(module)
    return verdict


def _module_of(value: Any) -> types.ModuleType | None:
    if isinstance(value, types.ModuleType):
        return value
    name = getattr(value, "__module__", None)
    return sys.modules.get(name) if isinstance(name, str) else None


def modules_by_value(objects: Iterable[Any]) -> list[types.ModuleType]:
    """The modules of ``objects`` a worker could not import, and the ones they use.

    Objects are functions, classes or modules. For each module that must travel by value,
    the modules, functions and classes its globals refer to are examined too.
    """
    found: dict[str, types.ModuleType] = {}
    stack = [m for m in (_module_of(o) for o in objects) if m is not None]
    seen: set[int] = set()
    while stack:
        module = stack.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        if module.__name__ in ("__main__", "builtins") or worker_can_import(module):
            continue
        if sys.modules.get(module.__name__) is module:
            found[module.__name__] = module
        for value in list(vars(module).values()):
            if isinstance(value, (types.ModuleType, types.FunctionType, type)):
                used = _module_of(value)
                if used is not None and id(used) not in seen:
                    stack.append(used)
    return list(found.values())


class ByValueModules:
    """Modules registered with cloudpickle to be pickled by value, until :meth:`clear`."""

    def __init__(self) -> None:
        self.registered: set[str] = set()

    def add(self, objects: Iterable[Any]) -> None:
        """Registers the modules of ``objects`` (and those they use) workers cannot import."""
        import cloudpickle

        for module in modules_by_value(objects):
            if module.__name__ not in self.registered:
                cloudpickle.register_pickle_by_value(module)
                self.registered.add(module.__name__)

    def add_node(self, node: Any) -> None:
        """Registers the modules of a node's function and the functions it came from."""
        self.add([node.callable, *(node.originating_functions or ())])

    def clear(self) -> None:
        """Unregisters every module registered so far."""
        import cloudpickle

        for name in self.registered:
            module = sys.modules.get(name)
            if module is not None:
                try:
                    cloudpickle.unregister_pickle_by_value(module)
                except ValueError:
                    pass
        self.registered.clear()
