"""raysearch: hyperparameter search for PyTorch on Ray Tune.

Attributes are imported on first use (as Optuna does), so `import raysearch` and validating a
spec load neither Ray nor torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_EXPORTS = {
    "run": "raysearch.api", "resume": "raysearch.api",
    "load": "raysearch.results", "SweepResult": "raysearch.results",
    "list_runs": "raysearch.results.listing",
    "BestTrial": "raysearch.results",
    "load_spec": "raysearch.spec", "Sweep": "raysearch.spec",
    "RaysearchError": "raysearch.errors", "SpecError": "raysearch.errors",
    "ClusterError": "raysearch.errors", "SweepFailed": "raysearch.errors",
    "RaysearchNotice": "raysearch.errors",
    "set_verbosity": "raysearch.log",
}
__all__ = ["BestTrial", "ClusterError", "RaysearchError", "RaysearchNotice", "SpecError",
           "Sweep", "SweepFailed", "SweepResult", "list_runs", "load", "load_spec", "resume",
           "run", "set_verbosity"]

if TYPE_CHECKING:
    from raysearch.api import resume, run
    from raysearch.errors import ClusterError, RaysearchError, RaysearchNotice, SpecError, SweepFailed
    from raysearch.log import set_verbosity
    from raysearch.results import BestTrial, SweepResult, load
    from raysearch.results.listing import list_runs
    from raysearch.spec import Sweep, load_spec


_FRONT_ENDS = ("optuna", "sklearn")  # ways in, imported as submodules on first use


def __getattr__(name: str) -> Any:
    if name in _FRONT_ENDS:
        return importlib.import_module(f"raysearch.{name}")
    if name not in _EXPORTS:
        raise AttributeError(f"module 'raysearch' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS, *_FRONT_ENDS])
