"""``setup_logging``: send log records of the given level and above to standard output."""

from __future__ import annotations

import logging
import sys

__all__ = ["LOG_LEVELS", "setup_logging"]

#: Level names accepted by :func:`setup_logging`, with their numeric values.
LOG_LEVELS = {
    "CRITICAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARNING": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
}


def setup_logging(log_level: int | str = logging.INFO) -> None:
    """Set the root logger's level and, if it has no handler yet, add one writing to stdout.

    ``log_level`` is a number (``logging.DEBUG``) or a name from :data:`LOG_LEVELS`.
    """
    if isinstance(log_level, str):
        try:
            log_level = LOG_LEVELS[log_level.upper()]
        except KeyError:
            raise ValueError(
                f"Unknown log level {log_level!r}; use one of {sorted(LOG_LEVELS)} or a number."
            ) from None
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(log_level)
