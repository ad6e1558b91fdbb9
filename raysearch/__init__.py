"""raysearch: hyperparameter search for PyTorch on Ray Tune."""

from raysearch.api import resume, run
from raysearch.errors import SpecError
from raysearch.log import set_verbosity
from raysearch.results import BestTrial, SweepResult, load
from raysearch.spec import Sweep, load_spec

__all__ = ["run", "resume", "load", "load_spec", "Sweep", "SweepResult", "BestTrial",
           "SpecError", "set_verbosity"]
__version__ = "0.1.0"
