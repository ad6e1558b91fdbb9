"""The run folder as a Python object: `SweepResult`, built from the folder alone (no Ray).

Files (DESIGN.md §4): `spec.yaml`, `trials.parquet`, `history.parquet`, `summary.json`
(start/end time, wall time, whether the sweep finished), plus Ray Tune's own experiment state.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import yaml

from raysearch.errors import SpecError
from raysearch.results import storage
from raysearch.results.tables import SegmentedTable, TableLayout

SPEC_FILE, TRIALS_FILE, HISTORY_FILE, SUMMARY_FILE = (
    "spec.yaml", "trials.parquet", "history.parquet", "summary.json")
# A function given as an object, stored by value for resume. Not `.pkl` (nor `.json`): Ray
# Tune's restore downloads every .json/.pkl of the run folder into its staging folder and
# uploads them again while the sweep runs, non-atomically (a killed driver left them empty).
TRAINABLE_FILE, OLD_TRAINABLE_FILE = "trainable.cloudpickle", "trainable.pkl"
# raysearch's own copies of what it must be able to read back whole (Tune's state files, the
# summary), under names Tune does not copy around: `<name>.bak`
STATE_DIR = ".raysearch-state"
SUMMARY_COPY = f"{STATE_DIR}/{SUMMARY_FILE}.bak"
# the tables are append-only (results.tables): segments written since the last compaction
# are in STATE_DIR/<table>.segments/
SEGMENTS_SUFFIX = ".segments"
TABLE_LAYOUTS = {
    TRIALS_FILE: TableLayout(key=("trial_id",)),
    HISTORY_FILE: TableLayout(key=("trial_id", "iteration", "generation"),
                              order=("trial_id", "generation", "iteration")),
}
CONFIG_PREFIX, FINAL_PREFIX, BEST_PREFIX = "config.", "final.", "best."
# a trial's folder in the run folder, and what Ray Tune writes there when the trial raises:
# the exception pickled, and its traceback
TRIAL_DIR, TRIAL_ERROR_PICKLE, TRIAL_ERROR_TEXT = "trial_{}", "error.pkl", "error.txt"
# Keys Ray adds to every result; everything else a trainable reports is a metric.
RAY_KEYS = {
    "config", "date", "done", "episodes_total", "experiment_id", "experiment_tag", "hostname",
    "iterations_since_restore", "node_ip", "pid", "should_checkpoint", "time_since_restore",
    "time_this_iter_s", "time_total_s", "timestamp", "timesteps_since_restore",
    "timesteps_total", "training_iteration", "trial_id", "checkpoint_dir_name",
}
# Marks the sweep's stopper puts on a raw result (never metrics): how the trial ended.
ENDED_ITSELF, CUT_BY_TARGET = "_raysearch_ended_itself", "_raysearch_cut_by_target"
# A trainable's own mark on its last result: it ended itself early (an Optuna objective that
# raised TrialPruned): recorded as stopped early, not completed.
STOPPED_EARLY = "_raysearch_stopped_early"
RAY_KEYS = RAY_KEYS | {ENDED_ITSELF, CUT_BY_TARGET, STOPPED_EARLY}
# history.parquet columns that are bookkeeping, not metrics
NON_METRIC_COLUMNS = ("trial_id", "iteration", "generation", "time_s", "timestamp", "node", "restored_from",
                      "node_id", "checkpoint")
# trial status values in trials.parquet: completed (ended on its own), stopped (early, by the
# scheduler), unfinished (cut by the sweep's target or time budget: final, resume does not
# continue it), errored, and running / pending (the sweep was interrupted: resume continues it)
COMPLETED, STOPPED, UNFINISHED, ERRORED, RUNNING, PENDING = (
    "completed", "stopped", "unfinished", "errored", "running", "pending")


class TrialTraceback(Exception):
    """Where in a trial an error was raised: the traceback Tune recorded, as text (the
    trial's process is gone). `SweepResult.trial_error` chains it to the error."""


@dataclass(frozen=True)
class BestTrial:
    """The trial whose objective peaked best, at its peak. `checkpoint` is the one saved at that
    iteration, or else the nearest earlier one of the same lineage (across PBT exploits) that
    still exists, or else (older ones were rotated out by `checkpoint.keep`) the nearest later
    one of the trial; `checkpoint_iteration` says which."""

    trial_id: str
    config: dict
    metrics: dict
    iteration: int
    checkpoint: str | None
    checkpoint_iteration: int | None = None


@dataclass
class SweepResult:
    path: str
    spec: dict
    trials: pa.Table
    history: pa.Table
    summary: dict = field(default_factory=dict)

    @property
    def metric(self) -> str | None:
        """The objective's name; None for a sweep without one (grid/random: nothing ranked)."""
        return (self.spec.get("metric") or {}).get("name")

    @property
    def goal(self) -> str | None:
        return (self.spec.get("metric") or {}).get("goal")

    @property
    def counts(self) -> dict[str, int]:
        """Trials by status: completed, stopped (early), errored, running, pending."""
        statuses = self.trials.column("status").to_pylist() if self.trials.num_rows else []
        return {s: statuses.count(s)
                for s in (COMPLETED, STOPPED, UNFINISHED, ERRORED, RUNNING, PENDING)}

    @property
    def best(self) -> BestTrial | None:
        """Best trial by its best reported objective (not its last epoch); None without one."""
        if self.metric is None:
            return None
        rows = [r for r in self.history.to_pylist() if _number(r.get(self.metric)) is not None]
        if not rows:
            return None
        sign = 1 if self.goal == "maximize" else -1
        row = max(rows, key=lambda r: (sign * r[self.metric], -r["iteration"]))
        metrics = {k: v for k, v in row.items() if not k.startswith(CONFIG_PREFIX)
                   and k not in NON_METRIC_COLUMNS and v is not None}
        checkpoint, at = self._lineage_checkpoint(row["trial_id"], row["iteration"],
                                                  row.get("generation") or 0)
        return BestTrial(trial_id=row["trial_id"], config=unflatten(row, CONFIG_PREFIX),
                         metrics=metrics, iteration=row["iteration"], checkpoint=checkpoint,
                         checkpoint_iteration=at)

    def _lineage_checkpoint(self, trial_id: str, iteration: int, generation: int
                            ) -> tuple[str | None, int | None]:
        """The checkpoint saved at `iteration` of `trial_id`, else the nearest earlier one that
        still exists, following PBT exploits back into the donor trial (the donor's lineage as
        it was when the exploit happened)."""
        rows = self.history.to_pylist()
        start = (trial_id, iteration, generation)
        while trial_id is not None:
            own = sorted((r for r in rows if r["trial_id"] == trial_id
                          and (r.get("generation") or 0) == generation
                          and r["iteration"] <= iteration), key=lambda r: -r["iteration"])
            donor = None
            for r in own:
                path = r.get("checkpoint")
                if path and storage.exists(self._absolute(path)):
                    return self._absolute(path), r["iteration"]
                if r.get("restored_from") not in (None, trial_id):
                    donor, iteration, when = r["restored_from"], r["iteration"] - 1, r["timestamp"]
                    generation = max((d.get("generation") or 0 for d in rows
                                      if d["trial_id"] == donor and d["timestamp"] < when),
                                     default=0)
                    break
            trial_id = donor
        return self._later_checkpoint(rows, start)

    def _later_checkpoint(self, rows: list[dict], start: tuple[str, int, int]
                          ) -> tuple[str | None, int | None]:
        """The nearest checkpoint after the best iteration of the same trial and generation."""
        trial_id, iteration, generation = start
        later = sorted((r for r in rows if r["trial_id"] == trial_id and r.get("checkpoint")
                        and (r.get("generation") or 0) == generation
                        and r["iteration"] > iteration), key=lambda r: r["iteration"])
        for r in later:
            if storage.exists(self._absolute(r["checkpoint"])):
                return self._absolute(r["checkpoint"]), r["iteration"]
        return None, None

    def _absolute(self, path: str) -> str:
        """A recorded checkpoint's path in this run folder. The tables hold absolute paths,
        those of where the folder was when it ran: in a folder moved or copied since (off a
        cluster, say) the checkpoint is found at the same place within it
        (`trial_<id>/checkpoint_<n>`), not at the old path (gone, or another copy's)."""
        if not (storage.is_uri(path) or path.startswith("/")):
            return storage.join(self.path, path)
        parts = path.rstrip("/").split("/")
        here = storage.join(self.path, *parts[-2:])
        return here if len(parts) > 2 and here != path and storage.exists(here) else path

    @property
    def test(self) -> dict | None:
        """The best trial's checkpoint on the trainable's held-out test set, measured once
        after the sweep: {"trial_id", "iteration", "test_accuracy", ...}; None if not run."""
        return self.summary.get("test")

    @property
    def best_value(self) -> float | None:
        """The best value of the objective any trial reported (as Optuna's `best_value`)."""
        best = self.best
        return None if best is None else best.metrics[self.metric]

    def trials_dataframe(self) -> Any:
        """The trials table as a pandas DataFrame, best first (as Optuna names it)."""
        frame = self.trials.to_pandas()
        key = BEST_PREFIX + str(self.metric)
        if self.metric is not None and key in frame.columns:
            frame = frame.sort_values(key, ascending=self.goal == "minimize", na_position="last",
                                      kind="stable").reset_index(drop=True)
        return frame

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        best = self.best_value
        best_text = f", best {self.metric}={best:.4g}" if best is not None else ""
        return (f"SweepResult({self.spec.get('name')!r}, {self.trials.num_rows} trials"
                f"{': ' + counts if counts else ''}{best_text}, path={self.path!r})")

    @property
    def target_reached(self) -> bool:
        target = (self.spec.get("metric") or {}).get("target")
        best = self.best
        if target is None or best is None:
            return False
        value = best.metrics[self.metric]
        return value >= target if self.goal == "maximize" else value <= target

    @property
    def failures(self) -> list[str]:
        """Why the sweep failed, one line per trial: every trial errored, none reported the
        objective as a number, or a trial errored and `fail_fast` stopped the sweep for it.
        Empty when it did not."""
        rows = self.trials.to_pylist()
        if self.stopped_on_failure:
            return [f"trial {r['trial_id']}: {r.get('error') or 'unknown error'} (fail_fast "
                    f"stopped the sweep)" for r in rows if r["status"] == ERRORED]
        if self.metric is None and rows and all(r["status"] == ERRORED for r in rows):
            return [f"trial {r['trial_id']}: {r.get('error') or 'unknown error'}" for r in rows]
        if not rows or self.metric is None or \
                any(_number(r.get(BEST_PREFIX + self.metric)) is not None for r in rows):
            return []
        if all(r["status"] == ERRORED for r in rows):
            return [f"trial {r['trial_id']}: {r.get('error') or 'unknown error'}" for r in rows]
        out = []
        for r in rows:
            reported = [h for h in self.history.to_pylist() if h["trial_id"] == r["trial_id"]]
            values = [h.get(self.metric) for h in reported if h.get(self.metric) is not None]
            if r["status"] == ERRORED:
                out.append(f"trial {r['trial_id']}: {r.get('error') or 'unknown error'}")
            elif values:
                out.append(f"trial {r['trial_id']} reported {self.metric}={values[-1]!r}, "
                           f"not a number")
            elif reported:
                keys = sorted({k for h in reported for k, v in h.items()
                               if v is not None and k not in NON_METRIC_COLUMNS
                               and not k.startswith(CONFIG_PREFIX)})
                out.append(f"trial {r['trial_id']} finished without reporting {self.metric}; "
                           f"it reported: {', '.join(keys) or 'nothing'}")
        return out

    @property
    def stopped_on_failure(self) -> bool:
        """A trial errored and `fail_fast` stopped the sweep there (resume retries it and
        continues the search)."""
        return bool(self.spec.get("fail_fast")) and self.counts[ERRORED] > 0

    def trial_error(self, trial_id: str) -> BaseException | None:
        """The exception an errored trial raised, of the type the trial's code raised, with
        the trial's traceback as its `__cause__` (read from the trial's folder, where Tune
        pickled it), so a caller can raise what the user's code raised, as joblib does for
        scikit-learn. None when the folder holds none or it cannot be unpickled here."""
        import pickle

        folder = storage.join(self.path, TRIAL_DIR.format(trial_id))
        try:
            error = pickle.loads(storage.read_bytes(storage.join(folder, TRIAL_ERROR_PICKLE)))
        except Exception:  # noqa: BLE001 - none written, or its class not importable here
            return None
        cause = getattr(error, "cause", None)  # Ray's RayTaskError wraps the trial's own
        if not isinstance(cause, BaseException):
            return error if isinstance(error, BaseException) else None
        try:
            text = storage.read_text(storage.join(folder, TRIAL_ERROR_TEXT))
        except OSError:
            text = str(error)
        cause.__cause__ = TrialTraceback(f"trial {trial_id}:\n{text.strip()}")
        return cause

    @property
    def failed(self) -> bool:
        """The sweep ran but failed (see `failures`)."""
        return bool(self.failures)


def load(run_dir: str | os.PathLike) -> SweepResult:
    """The result of a sweep from its run folder, without Ray (mid-sweep too)."""
    run_dir = storage.as_location(run_dir, "run_dir")
    spec_path = storage.join(run_dir, SPEC_FILE)
    if not storage.exists(spec_path):
        raise SpecError(f"{run_dir}: not a raysearch run folder (no {SPEC_FILE})")
    spec = read_spec(run_dir)
    tables = {}
    for name in (TRIALS_FILE, HISTORY_FILE):
        table = run_table(run_dir, name).read()
        tables[name] = table if table is not None else \
            pa.table({"trial_id": pa.array([], pa.string())})
    summary = _summary(run_dir)
    return SweepResult(path=run_dir, spec=spec, trials=tables[TRIALS_FILE],
                       history=tables[HISTORY_FILE], summary=summary)


def read_spec(run_dir: str) -> dict:
    """A run folder's spec.yaml; a SpecError saying what is wrong with it, not YAML's trace."""
    spec_path = storage.join(run_dir, SPEC_FILE)
    try:
        spec = yaml.safe_load(storage.read_text(spec_path))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        raise SpecError(f"{spec_path}: not readable YAML ({getattr(exc, 'problem', None) or exc}"
                        + (f", line {where.line + 1}" if where else "")
                        + "): restore it from a copy, or rewrite it from the sweep's spec"
                        ) from None
    if not isinstance(spec, dict):
        raise SpecError(f"{spec_path}: expected the sweep's spec (a mapping), got {spec!r}")
    return spec


def run_table(run_dir: str, name: str) -> SegmentedTable:
    """`trials.parquet` or `history.parquet` of a run folder, with its segments."""
    return SegmentedTable(storage.join(run_dir, name),
                          storage.join(run_dir, STATE_DIR, name + SEGMENTS_SUFFIX),
                          TABLE_LAYOUTS[name])


def read_rows(run_dir: str, name: str) -> list[dict]:
    """The rows of a run folder's table, segments included (none when it has none yet)."""
    table = run_table(run_dir, name).read()
    return table.to_pylist() if table is not None else []


def _summary(run_dir: str) -> dict:
    """summary.json, or raysearch's own copy of it when it does not parse (Ray Tune rewrites
    the run folder's .json files non-atomically while a sweep runs: a kill can cut it)."""
    for name in (SUMMARY_FILE, SUMMARY_COPY):
        location = storage.join(run_dir, *name.split("/"))
        if storage.exists(location):
            try:
                return json.loads(storage.read_text(location))
            except ValueError:
                continue
    return {}


def flatten(config: dict, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}: nested parameters become dotted columns."""
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def unflatten(row: dict, prefix: str) -> dict:
    out: dict = {}
    for key, value in row.items():
        if not key.startswith(prefix):
            continue
        node = out
        *parents, leaf = key[len(prefix):].split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)
