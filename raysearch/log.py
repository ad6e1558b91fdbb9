"""The library logger. Library code never configures logging; the CLI and `set_verbosity` do."""

from __future__ import annotations

import logging

logger = logging.getLogger("raysearch")
logger.addHandler(logging.NullHandler())


def set_verbosity(level: int | str) -> None:
    """Show raysearch's messages at `level` (e.g. logging.INFO, "DEBUG") on stderr."""
    logger.setLevel(level)
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.NullHandler)
               for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("raysearch: %(message)s"))
        logger.addHandler(handler)
    logger.propagate = False
