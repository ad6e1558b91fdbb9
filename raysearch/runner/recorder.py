"""A Tune callback on the driver that records every result itself and keeps the run folder's
tables current (Ray's own result.json/progress.csv can be truncated under PBT with actor reuse).

It only records; `raysearch.runner.progress` prints, reading what the recorder holds. On
`raysearch resume` it starts from the tables already in the folder, so nothing written before
is dropped. The tables are append-only (`raysearch.results.tables`): a flush writes only the
rows added or changed since the last one, so its cost does not grow with the sweep.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from ray.tune import Callback

from raysearch.log import logger
from raysearch.results import (
    BEST_PREFIX,
    COMPLETED,
    CONFIG_PREFIX,
    CUT_BY_TARGET,
    ENDED_ITSELF,
    ERRORED,
    FINAL_PREFIX,
    HISTORY_FILE,
    PENDING,
    RAY_KEYS,
    RUNNING,
    STOPPED,
    STOPPED_EARLY,
    TRIALS_FILE,
    UNFINISHED,
    flatten,
    run_table,
    storage,
)
from raysearch.runner import tune_state
from raysearch.types import Metric

TRIAL_COLUMNS = ("trial_id", "status")
HISTORY_COLUMNS = ("trial_id", "iteration", "generation", "time_s")


class SweepRecorder(Callback):
    """Records results into `history.parquet` / `trials.parquet`."""

    def __init__(self, run_dir: str, metric: Metric | None, max_iterations: int | None = None,
                 flush_every_s: float = 10.0, checkpoint_flush_s: float = 1.0):
        """Tables are flushed every `flush_every_s`, within `checkpoint_flush_s` of a
        checkpoint, at a trial's second checkpoint since the last flush (so the older of the
        two or more checkpoints a trial keeps is always recorded: resume never has to start
        a trial again), and whenever a trial ends."""
        self.run_dir = run_dir
        self.metric = metric
        self.max_iterations = max_iterations
        self.flush_every_s, self.checkpoint_flush_s = flush_every_s, checkpoint_flush_s
        self._reset()

    def _reset(self) -> None:
        self.trials: dict[str, dict] = {}
        # what the next flush writes: history rows and trials (ids, in order) added or changed
        self._history_changed: dict[tuple[str, int, int], dict] = {}
        self._trials_changed: dict[str, None] = {}
        self._newest_row: dict[str, dict] = {}  # each trial's newest history row
        self._tables = {name: run_table(self.run_dir, name)
                        for name in (TRIALS_FILE, HISTORY_FILE)}
        self._last_flush = 0.0
        self._dirty = False
        self._unflushed_checkpoints: dict[str, int] = {}  # per trial, since the last flush
        self._state_copied: dict[str, tuple] = {}  # Tune state file -> (size, mtime) copied
        self._write_failed = False
        self._generation: dict[str, int] = {}

    def __getstate__(self) -> dict:
        # Tune pickles callbacks with the experiment; only settings travel, data stays in files.
        return {k: getattr(self, k) for k in ("run_dir", "metric", "max_iterations",
                                                "flush_every_s", "checkpoint_flush_s")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._reset()

    # -------------------------------------------------------------- Tune hooks

    def setup(self, **info: Any) -> None:
        self._reset()
        trials = self._tables[TRIALS_FILE].read()
        for row in trials.to_pylist() if trials is not None else []:
            self.trials[row["trial_id"]] = row
        history = self._tables[HISTORY_FILE].read()
        if history is not None and "generation" in history.column_names:
            for trial_id, generation in zip(history.column("trial_id").to_pylist(),
                                            history.column("generation").to_pylist(), strict=False):
                self._generation[trial_id] = max(generation or 0,
                                                 self._generation.get(trial_id, 0))

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        row = self._trial_row(trial)
        row["status"] = RUNNING
        row.update({CONFIG_PREFIX + k: v for k, v in flatten(trial.config).items()})

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict,
                        **info: Any) -> None:
        metrics = {k: v for k, v in result.items() if k not in RAY_KEYS}
        step = int(result.get("training_iteration", 0))
        # The config this result was trained with: a scheduler (PBT) may already have changed
        # trial.config in response to this very result.
        config = {CONFIG_PREFIX + k: v for k, v in flatten(result.get("config") or
                                                           trial.config).items()}
        self._dirty = True
        restored_from = _restored_from(trial, result)
        if restored_from not in (None, trial.trial_id):
            # A PBT exploit: a new lineage that may rewind below iterations already recorded;
            # those stay, under the earlier generation (a retry or resume of the trial's own
            # checkpoint re-runs the same lineage and replaces its rows: each result once).
            self._generation[trial.trial_id] = self._generation.get(trial.trial_id, 0) + 1
        generation = self._generation.get(trial.trial_id, 0)
        self._history_changed[_key(trial.trial_id, step, generation)] = \
            self._newest_row[trial.trial_id] = {
            "trial_id": trial.trial_id, "iteration": step, "generation": generation,
            "time_s": float(result.get("time_total_s", 0.0)), "timestamp": time.time(),
            "node": _node(result),
            **metrics, **config,
            "restored_from": restored_from, "checkpoint": None,
        }
        row = self._trial_row(trial)
        row.update({FINAL_PREFIX + k: v for k, v in metrics.items() if _is_number(v)})
        row.update({"iterations": step, "wall_time_s": float(result.get("time_total_s", 0.0)),
                    "node": _node(result)})
        row.update(config)
        if self.metric is not None:
            value, best_key = metrics.get(self.metric.name), BEST_PREFIX + self.metric.name
            if _is_number(value) and (row.get(best_key) is None
                                      or self.metric.better(value, row[best_key])):
                row[best_key], row["best_iteration"] = value, step
        self._maybe_flush()

    def on_checkpoint(self, iteration: int, trials: list, trial: Any, checkpoint: Any,
                      **info: Any) -> None:
        """A checkpoint this trial saved (with the result it was reported with)."""
        self._trial_row(trial)["checkpoint"] = checkpoint.path
        step = int((trial.last_result or {}).get("training_iteration", 0))
        key = _key(trial.trial_id, step, self._generation.get(trial.trial_id, 0))
        row = self._newest_row.get(trial.trial_id)
        if row is not None and _key(row["trial_id"], row["iteration"], row["generation"]) == key:
            row["checkpoint"] = checkpoint.path
            self._history_changed[key] = row
        # Results up to a checkpoint are on disk soon after it, not at once (a flush per
        # checkpoint cost more driver time than Tune itself in large sweeps). A driver killed
        # in between loses none: resume goes back to the newest checkpoint whose result is
        # recorded (tune_state.reconcile), at worst the one before, and re-runs the rest.
        count = self._unflushed_checkpoints.get(trial.trial_id, 0) + 1
        self._unflushed_checkpoints[trial.trial_id] = count
        if count >= 2:
            self._flush()
        else:
            self._maybe_flush()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        """How it ended, from what the sweep's stopper saw on its last raw result: on its own
        (its `done`, or the function returned), cut by the target, or else by the scheduler
        (which counts as complete when it cut the trial at the spec's full length)."""
        row = self._trial_row(trial)
        self._latest_checkpoint(trial, row)
        last = trial.last_result or {}
        if last.get(ENDED_ITSELF):
            row["status"] = STOPPED if last.get(STOPPED_EARLY) else COMPLETED
        elif last.get(CUT_BY_TARGET):
            row["status"] = UNFINISHED
        else:
            full = self.max_iterations is not None and \
                (row.get("iterations") or 0) >= self.max_iterations
            row["status"] = COMPLETED if full else STOPPED
        self._flush()

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        row = self._trial_row(trial)
        self._latest_checkpoint(trial, row)
        row["status"] = ERRORED
        row["error"] = _error_text(trial)
        self._flush()

    @staticmethod
    def _latest_checkpoint(trial: Any, row: dict) -> None:
        """Tune's own record of the trial's newest checkpoint (some schedulers stop a trial in
        ways that skip the checkpoint callback), when it is the trial's own: after a PBT
        exploit Tune's record points at the donor's checkpoint until the trial saves one."""
        path = trial.checkpoint.path if trial.checkpoint is not None else None
        if path and _trial_of(path) == trial.trial_id:
            row["checkpoint"] = path

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        self._maybe_flush()  # statuses change between results too

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        from raysearch.runner.interrupt import interrupted

        for trial in trials:
            row = self._trial_row(trial)  # also trials that never started
            # Tune ends live trials at the target or time budget without telling callbacks:
            # they are final (resume will not continue them) but did not run to their end.
            # Interrupted ones stay running/pending: Tune saved them so, and resume goes on.
            if trial.status == "TERMINATED" and row["status"] in (RUNNING, PENDING) \
                    and not interrupted():
                row["status"] = UNFINISHED
                self._latest_checkpoint(trial, row)
        live = {t.trial_id for t in trials}
        for trial_id, row in self.trials.items():  # a killed driver's trials Tune never saved
            if trial_id not in live and row["status"] in (RUNNING, PENDING) and not interrupted():
                row["status"] = UNFINISHED
                self._trials_changed[trial_id] = None
        self._flush()
        for table in self._tables.values():  # one file per table for the finished run
            try:
                table.compact()
            except OSError as exc:  # the segments stay: readers and resume read them
                logger.warning("cannot compact %s (%s); its segments are kept", table.file, exc)

    # -------------------------------------------------------------- tables

    def _trial_row(self, trial: Any) -> dict:
        self._dirty = True
        self._trials_changed[trial.trial_id] = None
        if trial.trial_id not in self.trials:
            self.trials[trial.trial_id] = {"trial_id": trial.trial_id, "status": PENDING,
                                           **{CONFIG_PREFIX + k: v
                                              for k, v in flatten(trial.config).items()}}
        return self.trials[trial.trial_id]

    def _maybe_flush(self) -> None:
        every = self.checkpoint_flush_s if self._unflushed_checkpoints else self.flush_every_s
        if self._dirty and time.monotonic() - self._last_flush >= every:
            self._flush()

    def _flush(self) -> None:
        """Write both tables; a failed write (a full disk) keeps everything in memory for the
        next try rather than ending the sweep (the files on disk stay whole: atomic writes)."""
        try:
            self._write_tables()
            tune_state.back_up(self.run_dir, self._state_copied)
        except OSError as exc:
            if not self._write_failed:
                logger.warning("cannot write the run folder's tables (%s); keeping results in "
                               "memory and trying again at the next checkpoint", exc)
            self._write_failed = True
            return
        self._write_failed = False

    def _write_tables(self) -> None:
        """Append what changed since the last flush (what fails to be written stays to be
        written at the next)."""
        if self._history_changed:
            self._tables[HISTORY_FILE].append(storage.table_from_rows(
                list(self._history_changed.values()), HISTORY_COLUMNS))
            self._history_changed = {}
        if self._trials_changed:
            self._tables[TRIALS_FILE].append(storage.table_from_rows(
                [self._ordered(self.trials[t]) for t in self._trials_changed], TRIAL_COLUMNS))
            self._trials_changed = {}
        self._last_flush = time.monotonic()
        self._dirty = False
        self._unflushed_checkpoints = {}

    @staticmethod
    def _ordered(row: dict) -> dict:
        keys = sorted(row, key=lambda k: (
            0 if k in TRIAL_COLUMNS else 1 if k.startswith(CONFIG_PREFIX)
            else 2 if k.startswith((FINAL_PREFIX, BEST_PREFIX)) else 3, k))
        out = {k: row[k] for k in keys}
        for optional in ("iterations", "wall_time_s", "checkpoint", "error", "node"):
            out.setdefault(optional, None)
        return out

    # -------------------------------------------------------------- what it holds

    def counts(self) -> dict[str, int]:
        statuses = [r["status"] for r in self.trials.values()]
        return {s: statuses.count(s) for s in (RUNNING, COMPLETED, STOPPED, ERRORED)}

    def best(self) -> tuple[str, float] | None:
        """(trial id, value) of the best objective value recorded so far (None without one)."""
        if self.metric is None:
            return None
        key = BEST_PREFIX + self.metric.name
        rows = [(t, r[key]) for t, r in self.trials.items() if _is_number(r.get(key))]
        if not rows:
            return None
        sign = 1 if self.metric.goal == "maximize" else -1
        return max(rows, key=lambda tv: sign * tv[1])


def _key(trial_id: str, iteration: int, generation: int) -> tuple[str, int, int]:
    return trial_id, int(iteration), int(generation)


def _trial_of(path: str) -> str | None:
    """The trial whose folder (`trial_<id>`, see runner.pipeline.trial_dirname) holds `path`."""
    for part in reversed(path.replace("\\", "/").split("/")):
        if part.startswith("trial_"):
            return part.removeprefix("trial_")
    return None


def _restored_from(trial: Any, result: dict) -> str | None:
    """On the first result after a restore, the trial whose checkpoint Tune restored: its own
    (a retry, a resumed sweep) or a donor's (a PBT exploit). Read from Tune's own state, which
    still points at the checkpoint restored from (this result's checkpoint comes after)."""
    if result.get("iterations_since_restore") != 1 or result.get("training_iteration", 0) <= 1:
        return None
    return _trial_of(trial.checkpoint.path) if trial.checkpoint is not None else None


def _node(result: dict) -> str | None:
    """Where the result was trained: the Ray node id when the trainable reports `node_id` (the
    shipped ones do; several nodes can share one IP), else the node's IP."""
    return result.get("node_id") or result.get("node_ip")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        not math.isnan(value)


def _error_text(trial: Any) -> str:
    """The last line of a trial's traceback (the exception itself). Tune writes the text to the
    trial's local folder first and syncs it to storage later, so read the local copy."""
    text = None
    if trial.error_file and Path(trial.error_file).is_file():
        text = Path(trial.error_file).read_text()
    text = text or trial.get_error()
    lines = [line for line in str(text or "").strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "unknown error")[:500]
