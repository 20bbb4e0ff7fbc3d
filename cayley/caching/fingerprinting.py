"""Data versions: a fingerprint of a value's whole content.

A value is fingerprinted by hashing its pickle stream (the approach of joblib's ``Hasher``),
so nested containers, objects' state and every level of nesting count, and ``1``, ``1.0``,
``True``, ``"1"`` and ``b"1"`` all differ. Large buffers take a fast path: with pickle
protocol 5, numpy arrays (and the blocks of pandas objects) hand their memory out of band
and it is hashed in place, without a copy; polars objects are hashed through their Arrow
buffers. A few things are made canonical so that equal values agree across processes:

- sets and frozensets by their sorted element fingerprints (their iteration order depends
  on the process's hash seed);
- functions by their code version (source, bytecode, defaults, closure), not their name;
- modules by name.

A value that cannot be pickled (a generator, a lock, a connection) raises
:class:`UnfingerprintableError` with the reason; the cache never treats it as a hit.
"""

from __future__ import annotations

import pickle
import sys
import types
from typing import Any

from cayley.caching.hashing import digest, new_hasher

__all__ = ["UnfingerprintableError", "data_version"]

_PROTOCOL = 5
_EXACT = frozenset({int, float, complex, str, bytes, bool, type(None)})
_SET_OPCODES = (pickle.EMPTY_SET, pickle.FROZENSET)
_MAX_REMEMBERED_FUNCTIONS = 4096
#: Data versions of short ints, strings and bytes, by value: a fan-out's items come back on
#: every run. Only types whose equal values pickle alike (and never equal one another:
#: unlike 1 and 1.0 or 0.0 and -0.0) are kept, each type apart.
_SCALAR_VERSIONS: dict[type, dict[Any, str]] = {int: {}, str: {}, bytes: {}}
_SCALAR_LIMIT = 1 << 16  # entries per type; the table starts afresh when full
_SHORT = 64  # characters, bytes or bits
_FLAT_ARROW = ("is_boolean", "is_integer", "is_floating", "is_temporal", "is_decimal")


class UnfingerprintableError(TypeError):
    """A value whose content cannot be fingerprinted (so it can never be a cache hit)."""


def _tag(*parts: Any) -> None:  # pragma: no cover - only ever referenced, never called
    """Stands for canonicalised objects in fingerprint streams; never unpickled."""
    raise RuntimeError("fingerprint streams are hashed, never unpickled")


class _Sink:
    """A write-only file that hashes what the pickler writes and the buffers it hands out."""

    __slots__ = ("stream", "buffers", "count", "has_sets")

    def __init__(self) -> None:
        self.stream = new_hasher()
        self.buffers = new_hasher()
        self.count = 0
        self.has_sets = False

    def write(self, data: Any) -> int:
        if not self.has_sets:
            view = bytes(data) if not isinstance(data, bytes) else data
            self.has_sets = any(code in view for code in _SET_OPCODES)
        self.stream.update(data)
        return len(data)

    def buffer(self, buffer: pickle.PickleBuffer) -> None:
        raw = buffer.raw()
        self.buffers.update(len(raw).to_bytes(8, "little"))
        self.buffers.update(raw)
        self.count += 1

    def hexdigest(self) -> str:
        return digest(f"{self.stream.hexdigest()}:{self.buffers.hexdigest()}:{self.count}".encode())


def _function_version(fn: Any) -> str:
    from cayley.caching.code_version import CodeVersioner

    versioner = _VERSIONER.get(CodeVersioner)
    if len(versioner) > _MAX_REMEMBERED_FUNCTIONS:  # values made afresh every run (lambdas)
        versioner.forget()
    return versioner.function_version(fn)


class _Lazy:
    """One shared instance of a class, made on first use (avoids an import cycle)."""

    def __init__(self) -> None:
        self.instance: Any = None

    def get(self, cls: type) -> Any:
        if self.instance is None:
            self.instance = cls()
        return self.instance


_VERSIONER = _Lazy()


def _arrow_reduce(obj: Any) -> Any:
    """Arrow buffers of a polars DataFrame or Series with flat columns, else None."""
    if "pyarrow" not in sys.modules:
        return None
    import pyarrow as pa

    try:
        table = obj.to_arrow()
    except Exception:
        return None
    columns = table.columns if isinstance(table, pa.Table) else [table]
    layout = []
    buffers = []
    for column in columns:
        kind = column.type
        flat = any(getattr(pa.types, check)(kind) for check in _FLAT_ARROW) or (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_binary(kind)
            or pa.types.is_large_binary(kind)
        )
        if not flat:
            return None
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        for chunk in chunks:
            layout.append((str(kind), chunk.offset, len(chunk), chunk.null_count))
            for buf in chunk.buffers():
                buffers.append(pickle.PickleBuffer(buf) if buf is not None else None)
    schema = str(table.schema) if isinstance(table, pa.Table) else str(obj.dtype)
    name = getattr(obj, "name", None) if not isinstance(table, pa.Table) else None
    return (_tag, (type(obj).__qualname__, schema, name, tuple(layout), tuple(buffers)))


class _Pickler(pickle.Pickler):
    """Pickles for hashing: functions by code, modules by name, polars through Arrow."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is types.FunctionType and obj is not _tag:
            return (_tag, ("function", _function_version(obj)))
        if kind is types.ModuleType:
            return (_tag, ("module", obj.__name__))
        if kind.__module__.startswith("polars") and kind.__name__ in ("DataFrame", "Series"):
            reduced = _arrow_reduce(obj)
            if reduced is not None:
                return reduced
        if kind is types.GeneratorType or kind is types.CoroutineType:
            raise UnfingerprintableError(
                f"a {kind.__name__} yields its values only once, so it has no content to hash"
            )
        return NotImplemented


class _CanonicalPickler(_Pickler):
    """Also replaces sets and frozensets by their sorted element fingerprints."""

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, (set, frozenset)):
            return (type(obj).__name__, tuple(sorted(data_version(item) for item in obj)))
        return None


def _fingerprint(value: Any, pickler_class: type[_Pickler]) -> _Sink:
    sink = _Sink()
    try:
        pickler_class(sink, _PROTOCOL, buffer_callback=sink.buffer).dump(value)
    except UnfingerprintableError:
        raise
    except RecursionError as exc:
        raise UnfingerprintableError(
            f"{type(value).__name__} value is nested too deeply to pickle ({exc})"
        ) from exc
    except Exception as exc:
        raise UnfingerprintableError(
            f"{type(value).__name__} value cannot be pickled: {type(exc).__name__}: {exc}"
        ) from exc
    return sink


def data_version(value: Any) -> str:
    """The fingerprint of ``value`` (32 hex digits).

    Raises:
        UnfingerprintableError: the value cannot be pickled; the message says why.
    """
    kind = type(value)
    if kind in _EXACT:
        known = _SCALAR_VERSIONS.get(kind)
        if known is None:
            return digest(pickle.dumps(value, _PROTOCOL))
        version = known.get(value)
        if version is None:
            version = digest(pickle.dumps(value, _PROTOCOL))
            if (value.bit_length() if kind is int else len(value)) <= _SHORT:
                if len(known) >= _SCALAR_LIMIT:
                    known.clear()
                known[value] = version
        return version
    sink = _fingerprint(value, _Pickler)
    if sink.has_sets:
        sink = _fingerprint(value, _CanonicalPickler)
    return sink.hexdigest()


def combine(parts: list[str], kind: str) -> str:
    """One fingerprint for an ordered list of fingerprints (a fan-out's items)."""
    if not parts:
        return digest(kind.encode())
    return digest(f"{kind}:{':'.join(parts)}".encode())
