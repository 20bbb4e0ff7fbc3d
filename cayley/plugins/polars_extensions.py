"""Hamilton's import path for the polars loaders and savers (``hamilton.plugins.polars_extensions``).

The classes live in :mod:`cayley.io.polars_adapters`; importing them from here keeps code
written for Hamilton working after the rename.
"""

from cayley.io.polars_adapters import *  # noqa: F403
from cayley.io.polars_adapters import __all__ as __all__  # noqa: PLC0414
