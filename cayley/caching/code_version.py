"""Code versions: what a node's value depends on besides its arguments.

A function's version hashes

- its normalised source (parsed, docstrings dropped, printed back without positions, so
  comments, docstrings and formatting do not count), when the source can be read;
- its bytecode and constants, always (a function without readable source still gets a
  version, and a module edited on disk but not re-imported cannot pass its new source off
  for the old code that actually runs);
- its defaults and the values its closure holds (decorators bind arguments there: the
  node made by ``@parameterize(a=dict(x=value(1)))`` differs from ``b``'s with
  ``value(2)``);
- transitively, the functions, classes and module-level values it reads by name from the
  project's own modules: the dataflow's modules and the modules beside them, never installed
  packages or the standard library.

Versions are memoised per :class:`CodeVersioner` (one per driver): a node's code version is
computed once per driver, not per run.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import re
import sys
import sysconfig
import textwrap
import types
from collections.abc import Iterable, Iterator
from typing import Any

from cayley.caching.fingerprinting import UnfingerprintableError, data_version
from cayley.caching.hashing import digest

__all__ = ["CodeVersioner", "normalized_source"]

_STRIP_DOC = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)


def _installed_roots() -> tuple[str, ...]:
    """Directories holding the standard library and installed packages."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(path)
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


_INSTALLED = _installed_roots()


def normalized_source(obj: Any) -> str | None:
    """The source of a function or class without docstrings, comments or layout; None if
    it cannot be read or parsed (lambdas inside expressions, functions made by ``exec``)."""
    code = getattr(obj, "__code__", None)
    if code is not None:
        filename = code.co_filename
        if filename.startswith("<") and filename not in linecache.cache:
            return None  # made by exec/compile from a string: there is no file to read
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    for top in tree.body:
        # Decorators are versioned through what they leave in the node's callable (their
        # arguments in its closure), so editing one variant of @parameterize does not
        # invalidate the others.
        if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
            top.decorator_list = []
    for node in ast.walk(tree):
        if isinstance(node, _STRIP_DOC) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def _dump(node: Any, root: bool = False) -> str:
    """``node`` as text without positions, docstrings, or (at the root) decorators."""
    if isinstance(node, ast.AST):
        parts = [type(node).__name__]
        for name, value in ast.iter_fields(node):
            if root and name == "decorator_list":
                continue
            if name == "body" and isinstance(node, _STRIP_DOC) and value:
                first = value[0]
                if (
                    isinstance(first, ast.Expr)
                    and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)
                ):
                    value = value[1:]
            parts.append(_dump(value))
        return "(" + " ".join(parts) + ")"
    if isinstance(node, list):
        return "[" + " ".join(_dump(item) for item in node) + "]"
    return repr(node)


def _definitions(filename: str, module_globals: dict[str, Any] | None) -> dict[int, ast.AST]:
    """Every function and class defined in a file, by the line its definition starts on
    (its first decorator's line, as in ``co_firstlineno``); the file is parsed once."""
    linecache.checkcache(filename)
    lines = linecache.getlines(filename, module_globals)
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        return {}
    found: dict[int, ast.AST] = {}
    stack: list[Any] = list(tree.body)
    while stack:  # statements only: definitions never hide inside expressions
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            found.setdefault(start, node)
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                stack.extend(block)
    return found


def _code_parts(code: types.CodeType, docstring: str | None, out: list[str]) -> None:
    """Appends what defines ``code`` (bytecode, names, constants, nested code) to ``out``."""
    consts = list(code.co_consts)
    if docstring is not None and consts and consts[0] == docstring:
        consts = consts[1:]
    out.append(code.co_code.hex())
    out.append(repr((code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars)))
    out.append(repr((code.co_argcount, code.co_kwonlyargcount, code.co_flags)))
    for const in consts:
        if isinstance(const, types.CodeType):
            _code_parts(const, None, out)
        else:
            out.append(repr((type(const).__name__, const)))


def _names_read(code: types.CodeType) -> Iterator[str]:
    """Global and attribute names read by ``code`` and the code nested in it."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names_read(const)


class CodeVersioner:
    """Versions functions and nodes of one dataflow, memoising every version it computes.

    Args:
        modules: the dataflow's modules. Functions of these modules, and of modules whose
            file lies in the same directories, are followed when another function reads
            them by name.
    """

    def __init__(self, modules: Iterable[types.ModuleType] = ()) -> None:
        self._module_names = {m.__name__ for m in modules}
        self._dirs = tuple(
            os.path.realpath(os.path.dirname(m.__file__)) + os.sep
            for m in modules
            if getattr(m, "__file__", None)
        )
        self._project: dict[str, bool] = {}
        self._memo: dict[int, tuple[Any, str]] = {}
        self._active: set[int] = set()
        self._namespaces: dict[int, tuple[dict[str, Any], list[types.ModuleType]]] = {}
        self._files: dict[str, dict[int, ast.AST]] = {}

    def __len__(self) -> int:
        """How many versions are memoised."""
        return len(self._memo)

    def forget(self) -> None:
        """Drops the memoised versions (and the functions they keep alive)."""
        self._memo.clear()

    # ---- scope -----------------------------------------------------------------------------
    def in_project(self, module_name: str | None) -> bool:
        """Whether ``module_name`` is one of the dataflow's modules or a module beside them."""
        if not module_name:
            return False
        known = self._project.get(module_name)
        if known is not None:
            return known
        found = module_name in self._module_names
        if not found:
            module = sys.modules.get(module_name)
            path = getattr(module, "__file__", None)
            if path:
                real = os.path.realpath(path)
                found = any(real.startswith(d) for d in self._dirs) and not any(
                    real.startswith(root) for root in _INSTALLED
                )
        self._project[module_name] = found
        return found

    # ---- versions --------------------------------------------------------------------------
    def function_version(self, fn: Any) -> str:
        """The version of a function (or class, or callable object).

        Raises :class:`~cayley.caching.fingerprinting.UnfingerprintableError` when a value
        the function depends on (a default, a closure value) cannot be fingerprinted.
        """
        key = id(fn)
        found = self._memo.get(key)
        if found is not None and found[0] is fn:
            return found[1]
        if key in self._active:  # recursion through closures or globals
            return f"<recursive {getattr(fn, '__qualname__', type(fn).__name__)}>"
        self._active.add(key)
        try:
            version = digest("\x00".join(self._parts(fn)).encode())
        finally:
            self._active.discard(key)
        self._memo[key] = (fn, version)
        return version

    def _parts(self, fn: Any) -> list[str]:
        if isinstance(fn, types.MethodType):
            return ["method", self.function_version(fn.__func__), _value_version(fn.__self__)]
        if isinstance(fn, type):
            return self._class_parts(fn)
        code = getattr(fn, "__code__", None)
        if not isinstance(code, types.CodeType):
            # a callable object (functools.partial, an instance with __call__): its state
            return ["object", _value_version(fn)]
        parts = ["function", getattr(fn, "__qualname__", "")]
        if code.co_name != "<lambda>":
            source = self._source_of(fn, code)
            if source is not None:
                parts.append(source)
        _code_parts(code, getattr(fn, "__doc__", None), parts)
        for values in (getattr(fn, "__defaults__", None), getattr(fn, "__kwdefaults__", None)):
            if values:
                parts.append(_value_version(values))
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                content = cell.cell_contents
            except ValueError:  # an empty cell
                parts.append("<empty cell>")
                continue
            parts.append(self.value_version(content))
        parts.extend(self._globals_parts(fn, code))
        return parts

    def _source_of(self, fn: Any, code: types.CodeType) -> str | None:
        """The function's normalised source, from its file parsed once per versioner."""
        filename = code.co_filename
        if filename.startswith("<") and filename not in linecache.cache:
            return None
        definitions = self._files.get(filename)
        if definitions is None:
            definitions = self._files[filename] = _definitions(
                filename, getattr(fn, "__globals__", None)
            )
        node = definitions.get(code.co_firstlineno)
        if node is None or getattr(node, "name", None) != code.co_name:
            return normalized_source(fn)
        return _dump(node, root=True)

    def _class_parts(self, cls: type) -> list[str]:
        parts = ["class", cls.__qualname__]
        source = normalized_source(cls)
        if source is not None:
            parts.append(source)
        for name, member in sorted(vars(cls).items()):
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if isinstance(member, types.FunctionType):
                parts.append(f"{name}={self.function_version(member)}")
        return parts

    def value_version(self, value: Any) -> str:
        """A closure or global value's version: functions and classes by code, others by
        content."""
        if isinstance(value, (types.FunctionType, types.MethodType)) or (
            isinstance(value, type) and self.in_project(value.__module__)
        ):
            return self.function_version(value)
        return _value_version(value)

    def _globals_parts(self, fn: Any, code: types.CodeType) -> list[str]:
        """Versions of the project's functions, classes and values ``fn`` reads by name."""
        module_name = getattr(fn, "__module__", None)
        if not self.in_project(module_name):
            return []
        namespace = getattr(fn, "__globals__", {})
        modules = self._modules_of(namespace)
        parts = []
        for name in sorted(set(_names_read(code))):
            for owner in (namespace, *(vars(m) for m in modules)):
                if name in owner:
                    part = self._global_part(owner[name])
                    if part is not None:
                        parts.append(f"{name}={part}")
        return parts

    def _modules_of(self, namespace: dict[str, Any]) -> list[types.ModuleType]:
        """The project modules a module namespace imports (computed once per namespace)."""
        key = id(namespace)
        found = self._namespaces.get(key)
        if found is None or found[0] is not namespace:
            modules = [
                v
                for v in list(namespace.values())
                if isinstance(v, types.ModuleType) and self.in_project(v.__name__)
            ]
            found = self._namespaces[key] = (namespace, modules)
        return found[1]

    def _global_part(self, value: Any) -> str | None:
        if isinstance(value, (types.FunctionType, type)):
            if not self.in_project(getattr(value, "__module__", None)):
                return None
            return self.function_version(value)
        if not _is_constant(value):
            return None  # mutable module state (counters, registries) is not code
        try:
            return data_version(value)
        except UnfingerprintableError:
            return None

    def node_version(self, node: Any) -> str:
        """The code version of a graph node: its callable (with the decorator arguments its
        closure holds) and the functions it was made from."""
        parts = [self.function_version(node.callable)]
        for fn in node.originating_functions or ():
            if fn is not node.callable:
                parts.append(self.function_version(fn))
        return digest("\x00".join(parts).encode())


_CONSTANTS = (int, float, complex, str, bytes, bool, type(None), range, re.Pattern)


def _is_constant(value: Any) -> bool:
    """Whether a module-level value is an immutable constant (it then counts as code)."""
    if isinstance(value, _CONSTANTS):
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(_is_constant(item) for item in value)
    return False


def _value_version(value: Any) -> str:
    return data_version(value)
