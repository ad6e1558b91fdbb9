"""`wandb.util`: the helpers training scripts call."""

from __future__ import annotations

import secrets
import string


def generate_id(length: int = 8) -> str:
    """A random run id, as W&B's (lower-case letters and digits)."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))
