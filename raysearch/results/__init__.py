"""The run folder: its files, its tables, and `SweepResult` (built from the folder alone, no Ray)."""

from raysearch.results.result import (
    BEST_PREFIX,
    COMPLETED,
    CONFIG_PREFIX,
    CUT_BY_TARGET,
    ENDED_ITSELF,
    ERRORED,
    FINAL_PREFIX,
    HISTORY_FILE,
    NON_METRIC_COLUMNS,
    PENDING,
    RAY_KEYS,
    RUNNING,
    SPEC_FILE,
    STOPPED,
    STOPPED_EARLY,
    SUMMARY_FILE,
    TRAINABLE_FILE,
    TRIALS_FILE,
    UNFINISHED,
    BestTrial,
    SweepResult,
    flatten,
    load,
    unflatten,
)

__all__ = ["SweepResult", "BestTrial", "load", "flatten", "unflatten", "SPEC_FILE", "TRIALS_FILE",
           "HISTORY_FILE", "SUMMARY_FILE", "CONFIG_PREFIX", "FINAL_PREFIX", "BEST_PREFIX",
           "COMPLETED", "STOPPED", "ERRORED", "RUNNING", "PENDING", "RAY_KEYS",
           "UNFINISHED", "TRAINABLE_FILE", "ENDED_ITSELF", "CUT_BY_TARGET",
           "STOPPED_EARLY", "NON_METRIC_COLUMNS"]
