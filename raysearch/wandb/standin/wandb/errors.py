"""`wandb.errors`: W&B's exception types, for scripts that catch them."""

from __future__ import annotations

from . import Error


class CommError(Error):
    """Talking to W&B's server failed (never raised offline)."""


class UsageError(Error):
    """W&B's API used wrongly."""


class AuthenticationError(CommError):
    """Never raised offline."""
