"""Running a validated sweep on Ray Tune: the one pipeline (`run_sweep`, `resume_sweep`), the
recorder that writes the run folder's tables, progress, trackers, cluster checks."""

from raysearch.runner.pipeline import run_sweep
from raysearch.runner.resume import resume_sweep
from raysearch.runner.session import DEFAULT_STORAGE, RunOptions

__all__ = ["run_sweep", "resume_sweep", "RunOptions", "DEFAULT_STORAGE"]
