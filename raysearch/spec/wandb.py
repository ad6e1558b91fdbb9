"""W&B Sweeps keys that need translating (beyond the shared parameter grammar).

`early_terminate: {type: hyperband, ...}` becomes ASHA. W&B's Hyperband is asynchronous: runs
are checked at bracket iterations and the worse ones stopped, with no pausing or resuming,
which is what Ray's ASHA does (Ray's synchronous HyperBand pauses trials instead):
- `min_iter` -> `grace_period` (the first bracket), `eta` -> `reduction_factor`;
- `max_iter` + `s` -> first bracket at max_iter / eta**s, and `max_t` = max_iter;
- `strict` has no ASHA equivalent and is ignored with a notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from raysearch.errors import did_you_mean, one_of

EARLY_TERMINATE_KEYS = ("type", "min_iter", "max_iter", "s", "eta", "strict")


def early_terminate_to_scheduler(value: Any, problems: list[str], notices: list[str]) -> dict:
    """The `scheduler` block equivalent to a W&B `early_terminate` block."""
    if not isinstance(value, Mapping):
        problems.append(f"early_terminate: expected {{type: hyperband, min_iter: 3}}, got {value!r}")
        return {"type": "fifo"}
    for key in value:
        if key not in EARLY_TERMINATE_KEYS:
            problems.append(f"early_terminate.{key}: unknown key"
                            f"{did_you_mean(key, EARLY_TERMINATE_KEYS)}; "
                            f"allowed: {one_of(EARLY_TERMINATE_KEYS)}")
    if value.get("type") != "hyperband":
        problems.append(f"early_terminate.type: W&B supports only hyperband, got "
                        f"{value.get('type')!r}")
        return {"type": "fifo"}
    eta = value.get("eta", 3)
    if not isinstance(eta, int | float) or eta <= 1:
        problems.append(f"early_terminate.eta: expected a number > 1, got {eta!r}")
        return {"type": "fifo"}
    out: dict[str, Any] = {"type": "asha", "reduction_factor": eta}
    if "min_iter" in value:
        out["grace_period"] = _iteration(value, "min_iter", problems)
        if "max_iter" in value:
            out["max_t"] = _iteration(value, "max_iter", problems)
    elif "max_iter" in value:
        max_iter = _iteration(value, "max_iter", problems)
        s = value.get("s")
        if not isinstance(s, int) or s < 1:
            problems.append(f"early_terminate.s: with max_iter, W&B needs s (number of "
                            f"brackets) as an integer >= 1, got {s!r}")
            return {"type": "fifo"}
        out["max_t"] = max_iter
        out["grace_period"] = max(1, int(round(max_iter / eta**s)))
    else:
        problems.append("early_terminate: hyperband needs min_iter, or max_iter with s")
    if value.get("strict"):
        notices.append("early_terminate.strict has no equivalent in ASHA and is ignored")
    return out


def _iteration(value: Mapping, key: str, problems: list[str]) -> int:
    n = value.get(key)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        problems.append(f"early_terminate.{key}: expected an integer >= 1, got {n!r}")
        return 1
    return n
