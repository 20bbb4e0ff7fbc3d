"""Results kept in a data format (``@cache(format="parquet")``) through the I/O layer.

The result is written by the format's saver for its type (``cayley.registry``) to
``<directory>/<data version>.<format>``; the store keeps a small :class:`Materialized` record
naming the loader that reads it back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cayley.caching.stores.base import CorruptResultError

__all__ = ["Materialized", "load", "save"]


@dataclass(frozen=True)
class Materialized:
    """Where a result was written, and how to read it back."""

    format: str
    file_name: str
    loader: type
    type_: type


def _adapter_for(classes: list[type], type_: type) -> type | None:
    return next((c for c in classes if c.applies_to(type_)), None)


def save(directory: str, data_version: str, result: Any, format: str) -> Materialized | None:
    """Writes ``result`` with ``format``'s saver; None when the format has no saver and loader
    for the result's type (the caller then keeps the result pickled)."""
    from cayley import registry

    type_ = type(result)
    saver = _adapter_for(registry.savers_for(format), type_)
    loader = _adapter_for(registry.loaders_for(format), type_)
    if saver is None or loader is None:
        return None
    file_name = f"{data_version}.{format}"
    saver(path=os.path.join(directory, file_name)).save_data(result)
    return Materialized(format, file_name, loader, type_)


def load(directory: str, record: Materialized) -> Any:
    """Reads a materialized result back with its loader."""
    path = os.path.join(directory, record.file_name)
    if not os.path.exists(path):
        raise CorruptResultError(f"{path} is missing: the {record.format} file was removed")
    try:
        data, _ = record.loader(path=path).load_data(record.type_)
    except Exception as exc:
        raise CorruptResultError(
            f"{path} cannot be read back as {record.format}: {type(exc).__name__}: {exc}"
        ) from exc
    return data
