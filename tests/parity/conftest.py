"""Fixtures for running the same check against apache-hamilton and cayley.

A test taking the ``lib`` fixture runs twice, once per library; ``lib.<module>`` imports
``hamilton.<module>`` or ``cayley.<module>``. Such tests pin down behaviour both libraries
share. Tests of deliberate differences use cayley alone.
"""

from __future__ import annotations

import importlib
import types

import pytest


class Library:
    """Attribute access to one library's modules: ``lib.driver`` is ``<name>.driver``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, module: str) -> types.ModuleType:
        return importlib.import_module(f"{self.name}.{module}")

    def module(self, path: str) -> types.ModuleType:
        """A dotted submodule, e.g. ``lib.module("lifecycle.base")``."""
        return importlib.import_module(f"{self.name}.{path}")

    def __repr__(self) -> str:
        return self.name


@pytest.fixture(params=["hamilton", "cayley"])
def lib(request: pytest.FixtureRequest) -> Library:
    """The library under test, once Hamilton and once cayley."""
    return Library(request.param)
