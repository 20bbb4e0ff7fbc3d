"""Run tracking: every run recorded into SQLite, and a local web viewer to look at them.

``RunTracker`` is a lifecycle adapter (``Builder().with_adapters(RunTracker())``);
``cayley.tracking.viewer`` serves the recorded runs (``python -m cayley.tracking.viewer``).
The viewer reads only the database, so importing it does not import the engine; this
package therefore loads ``RunTracker`` on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cayley.tracking.tracker import RunTracker

__all__ = ["RunTracker"]


def __getattr__(name: str) -> Any:
    if name == "RunTracker":
        from cayley.tracking.tracker import RunTracker

        return RunTracker
    raise AttributeError(f"module 'cayley.tracking' has no attribute {name!r}")
