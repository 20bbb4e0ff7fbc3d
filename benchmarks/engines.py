"""One interface over cayley and Apache Hamilton, imported lazily by package name."""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CAYLEY",
    "HAMILTON",
    "Engine",
    "ensure_cayley_importable",
    "hamilton_available",
    "module_from_source",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
_module_ids = itertools.count()


def ensure_cayley_importable() -> Path:
    """Makes ``import cayley`` work from a checkout; returns the directory holding it."""
    if importlib.util.find_spec("cayley") is None:
        sys.path.insert(0, str(REPO_ROOT))
    spec = importlib.util.find_spec("cayley")
    if spec is None or spec.origin is None:
        raise ImportError("cayley is neither installed nor found next to benchmarks/")
    return Path(spec.origin).resolve().parent.parent


def hamilton_available() -> bool:
    """Whether Apache Hamilton can be imported (without importing it)."""
    return importlib.util.find_spec("hamilton") is not None


def module_from_source(source: str, prefix: str = "bench") -> types.ModuleType:
    """Executes ``source`` as a new module registered in ``sys.modules``.

    Both engines get modules made the same way. ``dont_inherit`` keeps this file's
    ``from __future__ import annotations`` out of the generated code, so annotations are
    real types, as in a module imported from a file.
    """
    name = f"{prefix}_{next(_module_ids)}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, f"<{name}>", "exec", dont_inherit=True), module.__dict__)
    return module


@dataclass(frozen=True)
class Engine:
    """A dataflow library with Hamilton's public API, addressed by its package name."""

    label: str
    package: str

    def module(self, name: str) -> types.ModuleType:
        """Imports ``<package>.<name>``."""
        return importlib.import_module(f"{self.package}.{name}")

    def module_from_source(self, source: str) -> types.ModuleType:
        """A dataflow module executed from ``source`` (see :func:`module_from_source`)."""
        return module_from_source(source, prefix=f"bench_{self.package}")

    def builder(self, *modules: types.ModuleType) -> Any:
        """A plain ``Builder`` over ``modules`` (dict results, default executor)."""
        return self.module("driver").Builder().with_modules(*modules)

    def build(self, *modules: types.ModuleType, adapters: tuple[Any, ...] = ()) -> Any:
        """A built plain driver over ``modules``."""
        builder = self.builder(*modules)
        if adapters:
            builder = builder.with_adapters(*adapters)
        return builder.build()

    def build_dynamic(self, module: types.ModuleType, remote: Any | None = None) -> Any:
        """A dynamic-execution driver: synchronous local executor, ``remote`` for items."""
        executors = self.module("execution.executors")
        return (
            self.builder(module)
            .enable_dynamic_execution(allow_experimental_mode=True)
            .with_local_executor(executors.SynchronousLocalTaskExecutor())
            .with_remote_executor(remote or executors.SynchronousLocalTaskExecutor())
            .build()
        )

    def executor(self, kind: str, max_tasks: int | None = None) -> Any:
        """An executor of class ``kind`` from ``<package>.execution.executors``."""
        cls = getattr(self.module("execution.executors"), kind)
        return cls() if max_tasks is None else cls(max_tasks=max_tasks)

    def counting_hook(self) -> Any:
        """A ``NodeExecutionHook`` of this engine that counts the calls it receives."""
        base = self.module("lifecycle").NodeExecutionHook

        class CountingHook(base):  # type: ignore[misc, valid-type]
            """Counts before/after calls: the least work a hook can do."""

            def __init__(self) -> None:
                self.before = 0
                self.after = 0

            def run_before_node_execution(self, **future_kwargs: Any) -> None:
                """Counts one node start."""
                self.before += 1

            def run_after_node_execution(self, **future_kwargs: Any) -> None:
                """Counts one node end."""
                self.after += 1

        return CountingHook()

    def subprocess_env(self, **overrides: str | None) -> dict[str, str]:
        """This process's environment with the engine importable; ``None`` overrides unset.

        Bytecode caching is left on (``PYTHONDONTWRITEBYTECODE`` unset), so that fresh
        processes import both engines from their ``__pycache__`` as an installed package is
        imported, rather than compiling every module on every start.
        """
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if self.package == "cayley":
            root = str(ensure_cayley_importable())
            env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env


CAYLEY = Engine("cayley", "cayley")
HAMILTON = Engine("Hamilton", "hamilton")
