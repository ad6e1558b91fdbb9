"""The library logger. Library code never configures logging; the CLI and `set_verbosity` do."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("raysearch")
logger.addHandler(logging.NullHandler())


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is now (a notebook or a test may swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def set_verbosity(level: int | str) -> None:
    """Show raysearch's messages at `level` (e.g. logging.INFO, "DEBUG") on stderr."""
    logger.setLevel(level)
    if not any(isinstance(h, _CurrentStderr) for h in logger.handlers):
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("raysearch: %(message)s"))
        logger.addHandler(handler)
    logger.propagate = False
