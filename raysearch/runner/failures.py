"""When Tune itself stops on an error: say what the user's trainable did, in one line per
problem, instead of Ray's traceback; keep Tune's own per-trial tracebacks out of the terminal
(they are in each trial's `error.txt`, the summary carries each trial's last line)."""

from __future__ import annotations

import ast
import errno
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from raysearch.results import RAY_KEYS

# Loggers that print tracebacks or banners a raysearch user does not need (with --verbose: all).
TUNE_LOGGERS = ("ray.tune.execution.tune_controller", "ray.tune.tune",
                "ray.tune.impl.tuner_internal", "ray.tune.execution.experiment_state",
                "ray.tune.experiment.trial", "ray.tune.trainable.trainable",
                "ray.train._internal.syncer", "ray.train._internal.storage",
                # the ResultGrid `Tuner.fit` returns (raysearch reads its own tables) warns
                # about trials the time budget cut before their first result
                "ray.tune.analysis.experiment_analysis")
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
MISSING_METRIC = "Trial returned a result which did not include the specified metric"


@contextmanager
def quiet_ray_logs(verbose: bool) -> Iterator[None]:
    """Silence Tune's own error logging for the sweep (restored afterwards), and a full disk
    in a background thread of the driver (tensorboardX flushes its event files in one): the
    sweep stops on it with one line (`explain`), not that thread's traceback as well."""
    if verbose:
        yield
        return
    loggers = [logging.getLogger(name) for name in TUNE_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    shown = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if not (isinstance(args.exc_value, OSError) and args.exc_value.errno in DISK_FULL):
            shown(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        if threading.excepthook is hook:
            threading.excepthook = shown
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def explain(exc: BaseException, metric: str | None, run_dir: str | None = None) -> list[str]:
    """The user's problem behind an exception that stopped Tune."""
    if run_dir is not None and _disk_full(run_dir):
        return [f"the disk holding {run_dir} is full; what was recorded is whole: free space "
                f"and continue with: raysearch resume {run_dir}"]
    root = exc
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__
    text = str(root)
    if MISSING_METRIC in text:
        result = _result_of(text)
        trial = result.get("trial_id", "?")
        keys = sorted(k for k in result if k not in RAY_KEYS and not k.startswith("config/"))
        return [f"trial {trial} reported no {metric}; it reported: {', '.join(keys) or 'nothing'}"
                f" (report {metric} with ray.tune.report, or set metric.name to one of these)"]
    last = (text.strip().splitlines() or [""])[-1]
    return [f"the sweep stopped on an error: {type(root).__name__}: {last} "
            f"(run with --verbose for Ray's traceback)"]


def _disk_full(run_dir: str, margin: int = 1 << 20) -> bool:
    import shutil

    try:
        return "://" not in run_dir and shutil.disk_usage(run_dir).free < margin
    except OSError:
        return False


def _result_of(text: str) -> dict:
    """The result dict Tune quotes at the end of its missing-metric message."""
    try:
        value = ast.literal_eval(text.split("Result: ", 1)[1].strip())
    except (IndexError, ValueError, SyntaxError):
        return {}
    return value if isinstance(value, dict) else {}
