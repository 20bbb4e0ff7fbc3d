"""The two adapter contracts of data I/O: :class:`DataLoader` reads a value, :class:`DataSaver` writes one.

An adapter is a dataclass: its fields are the keyword arguments users pass
(``load_from.csv(path=...)``, ``to.parquet(path=...)``). Fields without a default are required,
the others optional. The class says which format it implements (:meth:`AdapterCommon.name`)
and which Python types it handles (:meth:`AdapterCommon.applicable_types`); the registry
(:mod:`cayley.registry`) picks, among the adapters of a format, one that handles the type of
the node being loaded or saved.

A loader returns ``(data, metadata)`` and a saver returns ``metadata``; metadata is a dict,
usually built with :mod:`cayley.io.utils` (``{"file_metadata": ..., "dataframe_metadata": ...}``).
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import sys
import typing
from collections.abc import Collection
from typing import Any, ClassVar

from cayley import htypes

__all__ = ["AdapterCommon", "DataLoader", "DataSaver", "field_types"]


def _is_generic(tp: Any) -> bool:
    return tp is Any or tp is object


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """Field name -> resolved annotation (``Any`` where it cannot be resolved)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # annotations naming something not importable here
        hints = {}
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls)}


@functools.cache
def _arguments(cls: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """(required, optional) init fields of the dataclass ``cls``, with their types."""
    types = field_types(cls)
    required: dict[str, Any] = {}
    optional: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        has_default = f.default is not dataclasses.MISSING or (
            f.default_factory is not dataclasses.MISSING
        )
        (optional if has_default else required)[f.name] = types[f.name]
    return required, optional


class AdapterCommon(abc.ABC):
    """What loaders and savers share: a format name, the types handled, the arguments."""

    #: Module whose types the adapter handles (``"pandas"``); ``None`` for the standard library.
    #: While that module is not imported no value can be of its types, so the adapter is
    #: skipped for concrete types without importing anything.
    library: ClassVar[str | None] = None

    @classmethod
    @abc.abstractmethod
    def applicable_types(cls) -> Collection[type]:
        """The Python types this adapter loads or saves."""

    @classmethod
    @abc.abstractmethod
    def name(cls) -> str:
        """The format name users pick it by (``load_from.<name>``, ``to.<name>``)."""

    @classmethod
    def can_load(cls) -> bool:
        """Whether this adapter loads data."""
        return False

    @classmethod
    def can_save(cls) -> bool:
        """Whether this adapter saves data."""
        return False

    @classmethod
    def _library_missing(cls, type_: Any) -> bool:
        return cls.library is not None and not _is_generic(type_) and cls.library not in sys.modules

    @classmethod
    def applies_to(cls, type_: Any) -> bool:
        """Whether the adapter handles values of ``type_`` (see :meth:`match`)."""
        return cls.match(type_) is not None

    @classmethod
    def match(cls, type_: Any) -> bool | None:
        """``None`` if ``type_`` is not handled; else whether the match is specific.

        A specific match names the type (``pandas.DataFrame`` for a pandas reader); a generic
        one holds for any type (a pickle loader, or a node typed ``Any``).
        """
        if _is_generic(type_):
            return False
        if cls._library_missing(type_):
            return None
        specific = None
        for applicable in cls.applicable_types():
            if _is_generic(applicable):
                specific = specific or False
            elif cls._type_fits(applicable, type_):
                return True
        return specific

    @classmethod
    def _type_fits(cls, applicable: Any, type_: Any) -> bool:
        """Whether ``applicable`` and ``type_`` fit (the direction depends on the role)."""
        return htypes.types_match(type_, applicable)

    @classmethod
    def _ensure_dataclass(cls) -> None:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(
                f"{cls.__qualname__} must be a dataclass: decorate it with @dataclasses.dataclass "
                "so that its fields declare the arguments it takes."
            )

    @classmethod
    def get_required_arguments(cls) -> dict[str, Any]:
        """Arguments without a default, with their annotated types."""
        cls._ensure_dataclass()
        return dict(_arguments(cls)[0])

    @classmethod
    def get_optional_arguments(cls) -> dict[str, Any]:
        """Arguments with a default, with their annotated types."""
        cls._ensure_dataclass()
        return dict(_arguments(cls)[1])


class DataLoader(AdapterCommon, abc.ABC):
    """Reads a value: ``load_data(type_)`` returns ``(data, metadata)``.

    ``type_`` is the type the dataflow expects (the annotation of the parameter being
    loaded), so one class can serve several types.
    """

    @abc.abstractmethod
    def load_data(self, type_: type) -> tuple[Any, dict[str, Any]]:
        """The data and a metadata dict describing where it came from."""

    @classmethod
    def can_load(cls) -> bool:
        """Always True for loaders."""
        return True

    def source_token(self) -> str | None:
        """A token that changes whenever the data this loader would read changes.

        ``None`` means unknown (the default). File-based loaders return the resolved path,
        size and modification time of what they read (see :mod:`cayley.io.freshness`).
        """
        return None


class DataSaver(AdapterCommon, abc.ABC):
    """Writes a value: ``save_data(data)`` returns a metadata dict describing what was written."""

    @abc.abstractmethod
    def save_data(self, data: Any) -> dict[str, Any]:
        """Writes ``data``; returns metadata (where it went, its size...)."""

    @classmethod
    def can_save(cls) -> bool:
        """Always True for savers."""
        return True

    @classmethod
    def _type_fits(cls, applicable: Any, type_: Any) -> bool:
        """A saver takes values of ``type_`` if they are instances of ``applicable``."""
        return htypes.types_match(applicable, type_)
