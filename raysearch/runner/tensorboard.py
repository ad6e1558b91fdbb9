"""TensorBoard event files written by raysearch on the driver, from every result it records:
`RUN_DIR/tensorboard/<trial_id>/`, tags named as the metrics (no `ray/tune/` prefix, no
bookkeeping), step = the trial's iteration, and each trial's config and best objective in the
HParams tab when it ends. `tensorboard --logdir RUN_DIR/tensorboard` (or `RUN_DIR`) reads them.

It replaces Ray Tune's own TensorBoard logger (being a `TBXLoggerCallback`, Tune adds none of
its own): Ray's writes per trial from the trial's folder and misses results under PBT with
actor reuse. For a run folder on a URI (s3://...), the files are written to a local folder and
copied there when the sweep ends.

tensorboardX is imported without torch (`import_tensorboardx`): its writer imports torch only
to name the tensor type it also accepts, which costs the driver ~2 s of CPU with the GIL held;
raysearch writes floats, and tensorboardX converts a tensor (imported by then) all the same.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import threading
from typing import Any

from ray.tune.logger import LoggerCallback, TBXLoggerCallback

from raysearch.results import BEST_PREFIX, RAY_KEYS, flatten, storage
from raysearch.types import Metric, is_finite_number

TENSORBOARD_DIR = "tensorboard"
NOT_SCALARS = RAY_KEYS | {"node_id", "node", "epoch_time_s"}


class _NoTorchInThisThread:
    """An import finder that has no torch for one thread (the others import it as usual)."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] == "torch" and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"No module named {name!r} (left out by raysearch)")
        return None


def import_tensorboardx() -> Any:
    """tensorboardX, without importing torch when nothing has yet (see the module's note);
    imported as usual should that fail."""
    if "tensorboardX" in sys.modules or "torch" in sys.modules:
        return importlib.import_module("tensorboardX")
    finder = _NoTorchInThisThread()
    sys.meta_path.insert(0, finder)
    try:
        return importlib.import_module("tensorboardX")
    except Exception:  # noqa: BLE001 - another tensorboardX: the plain import says what's wrong
        for name in [m for m in sys.modules if m.partition(".")[0] == "tensorboardX"]:
            del sys.modules[name]
    finally:
        sys.meta_path.remove(finder)
    return importlib.import_module("tensorboardX")


class TensorBoardWriter(TBXLoggerCallback):
    """One tensorboardX writer per trial, fed from `on_trial_result` on the driver."""

    def __init__(self, run_dir: str, metric: Metric | None, flush_secs: int = 10):
        # not TBXLoggerCallback.__init__: it imports tensorboardX, and with it torch; the first
        # result imports it instead, by then done in the background (runner.session's prefetch)
        LoggerCallback.__init__(self)
        self.run_dir, self.metric, self.flush_secs = run_dir, metric, flush_secs
        self.local = None if storage.is_uri(run_dir) else storage.join(run_dir, TENSORBOARD_DIR)
        self._staging: str | None = None
        self._writers: dict[str, Any] = {}
        self._best: dict[str, float] = {}

    def __getstate__(self) -> dict:  # Tune pickles callbacks with the experiment
        return {k: getattr(self, k) for k in ("run_dir", "metric", "flush_secs", "local")}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["run_dir"], state["metric"], state["flush_secs"])

    def _folder(self) -> str:
        if self.local is not None:
            return self.local
        if self._staging is None:
            self._staging = tempfile.mkdtemp(prefix="raysearch-tensorboard-")
        return self._staging

    def _writer(self, trial_id: str) -> Any:
        if trial_id not in self._writers:
            SummaryWriter = import_tensorboardx().SummaryWriter  # noqa: N806 - its class
            self._writers[trial_id] = SummaryWriter(
                os.path.join(self._folder(), trial_id), flush_secs=self.flush_secs)
        return self._writers[trial_id]

    def log_trial_start(self, trial: Any) -> None:
        return None

    def log_trial_result(self, iteration: int, trial: Any, result: dict) -> None:
        step = int(result.get("training_iteration", 0))
        writer = self._writer(trial.trial_id)
        when = result.get("timestamp")
        for key, value in result.items():
            if key in NOT_SCALARS or key.startswith("_") or not is_finite_number(value):
                continue
            writer.add_scalar(key, float(value), global_step=step, walltime=when)
        if self.metric is not None and is_finite_number(result.get(self.metric.name)):
            value = float(result[self.metric.name])
            best = self._best.get(trial.trial_id)
            self._best[trial.trial_id] = value if best is None or \
                self.metric.better(value, best) else best

    def log_trial_end(self, trial: Any, failed: bool = False) -> None:
        writer = self._writers.pop(trial.trial_id, None)
        if writer is None:
            return
        hparams = {k: v if isinstance(v, int | float | str | bool) else str(v)
                   for k, v in flatten(trial.config).items()}
        best = self._best.get(trial.trial_id)
        metrics = {BEST_PREFIX + self.metric.name: best} if best is not None else {}
        if hparams and metrics:
            writer.add_hparams(hparams, metrics, name="hparams")
        writer.close()

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        for trial_id in list(self._writers):
            self._writers.pop(trial_id).close()
        if self._staging is not None:  # a run folder on a URI: copy the files there
            import pyarrow.fs as pafs

            fs, path = storage.filesystem(storage.join(self.run_dir, TENSORBOARD_DIR))
            pafs.copy_files(self._staging, path, destination_filesystem=fs)
