"""Shared helpers of the data I/O tests."""

from __future__ import annotations

import types
from typing import Any

from cayley import ad_hoc_utils, driver


def module_of(source: str) -> types.ModuleType:
    """A fresh module made from ``source``."""
    return ad_hoc_utils.module_from_source(source)


def build(*modules: types.ModuleType, **config: Any) -> driver.Driver:
    """A dict-returning driver over ``modules``."""
    return driver.Builder().with_modules(*modules).with_config(config).build()


def data_tags(node: Any) -> dict[str, Any]:
    """The ``hamilton.data_*`` tags of a node."""
    return {k: v for k, v in node.tags.items() if k.startswith("hamilton.data_")}
