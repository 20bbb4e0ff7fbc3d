"""Hamilton's import path for the pandas loaders and savers (``hamilton.plugins.pandas_extensions``).

The classes live in :mod:`cayley.io.pandas_adapters` and :mod:`cayley.io.pandas_more_adapters`;
importing them from here keeps code written for Hamilton working after the rename.
"""

from cayley.io.pandas_adapters import *  # noqa: F403
from cayley.io.pandas_adapters import __all__ as _main
from cayley.io.pandas_more_adapters import *  # noqa: F403
from cayley.io.pandas_more_adapters import __all__ as _more

__all__ = [*_main, *_more]
