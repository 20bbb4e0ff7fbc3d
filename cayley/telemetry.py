"""Compatibility stub: cayley collects no telemetry.

Projects that called Hamilton's ``telemetry.disable_telemetry()`` keep working unchanged.
"""

from __future__ import annotations

__all__ = ["disable_telemetry", "is_telemetry_enabled"]


def disable_telemetry() -> None:
    """Does nothing: there is no telemetry to disable."""


def is_telemetry_enabled() -> bool:
    """Always False."""
    return False
