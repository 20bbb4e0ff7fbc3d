"""Matching a node's declared type to the validators that apply to it.

pandas is never imported here: a type can only be a ``pd.Series`` once pandas is loaded.
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Annotated, Any

__all__ = ["is_pandas_series", "is_subclass", "plain_type", "strip_annotated"]


def strip_annotated(datatype: Any) -> Any:
    """``datatype`` without its ``Annotated`` wrappers."""
    while typing.get_origin(datatype) is Annotated:
        datatype = typing.get_args(datatype)[0]
    return datatype


def plain_type(datatype: Any) -> Any:
    """``datatype`` without ``Annotated``, and a generic class (``DataFrame[Model]``) as its
    class; other generic aliases (``list[int]``) are returned unchanged."""
    datatype = strip_annotated(datatype)
    origin = typing.get_origin(datatype)
    if isinstance(origin, type) and not isinstance(datatype, types.GenericAlias):
        return origin
    return datatype


def is_subclass(datatype: Any, *bases: type) -> bool:
    """Whether ``datatype`` (``Annotated`` stripped) is a class deriving from one of ``bases``."""
    datatype = strip_annotated(datatype)
    # list[int] is a GenericAlias, which Python 3.10 also reports as a type.
    if not isinstance(datatype, type) or isinstance(datatype, types.GenericAlias):
        return False
    return issubclass(datatype, bases)


def is_pandas_series(datatype: Any) -> bool:
    """Whether ``datatype`` is ``pd.Series`` or a subclass (False while pandas is not loaded)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and is_subclass(datatype, pandas.Series)
