"""Fixtures for the dynamic execution tests (helpers live in ``tests.resources.dyn_harness``)."""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Sequence
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # makes ``tests.resources`` importable under plain ``pytest``
    sys.path.insert(0, str(ROOT))

from tests.resources.dyn_harness import LOCAL_KINDS, PROCESS_KINDS  # noqa: E402


def _kind_params(kinds: Sequence[str]) -> list[Any]:
    return [
        pytest.param(k, marks=[pytest.mark.timeout(60)] if k in PROCESS_KINDS else [], id=k)
        for k in kinds
    ]


@pytest.fixture(params=_kind_params(LOCAL_KINDS))
def kind(request: pytest.FixtureRequest) -> str:
    """Every local way of running: plain, sync, threads, fork."""
    return request.param


@pytest.fixture(params=_kind_params(("sync", "threads", "fork")))
def dynamic_kind(request: pytest.FixtureRequest) -> str:
    """The dynamic-execution kinds (task hooks and task ids only exist there)."""
    return request.param


@pytest.fixture(params=_kind_params(PROCESS_KINDS))
def process_kind(request: pytest.FixtureRequest) -> str:
    """Process executors, both start methods."""
    return request.param
