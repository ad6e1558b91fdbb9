"""MLflow tracking as an MLflow user expects it, on Ray's `MLflowLoggerCallback`:
- one parent run per sweep (named as the sweep, found again on resume by its run folder), each
  trial a child run under it (`mlflow.parentRunId`), the parent closed with the best objective;
- a child logs the config as params and only the trainable's metrics (none of Ray's
  bookkeeping: pid, done, timestamp, config/...), and the trial's final checkpoint as an
  artifact;
- artifacts go to the tracking store's own artifact location: a new experiment in a local
  database (sqlite:///dir/mlflow.db) keeps them beside it, in `dir/mlartifacts/`, not in
  whatever the working directory was (MLflow's default there); a folder store keeps them
  inside itself and a tracking server in its own artifact store, as MLflow does.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlparse

from ray.air.integrations.mlflow import MLflowLoggerCallback

from raysearch.results import RAY_KEYS
from raysearch.types import Metric, is_finite_number

RUN_DIR_TAG = "raysearch.run_dir"
NOT_METRICS = RAY_KEYS | {"node_id", "node"}


class SweepMLflow(MLflowLoggerCallback):
    def __init__(self, run_dir: str, sweep_name: str, metric: Metric | None,
                 about: dict[str, Any], **options: Any):
        super().__init__(**options)
        self.run_dir, self.sweep_name, self.metric, self.about = (
            run_dir, sweep_name, metric, about)
        self.parent_id: str | None = None
        self._best: float | None = None

    def setup(self, *args: Any, **kwargs: Any) -> None:
        import mlflow
        from mlflow.tracking import MlflowClient

        uri = self.tracking_uri or mlflow.get_tracking_uri()
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name(self.experiment_name)
        if experiment is None:
            client.create_experiment(self.experiment_name,
                                     artifact_location=artifacts_beside(uri, self.experiment_name))
        super().setup(*args, **kwargs)
        experiment_id = client.get_experiment_by_name(self.experiment_name).experiment_id
        found = client.search_runs([experiment_id],
                                   filter_string=f"tags.`{RUN_DIR_TAG}` = '{self.run_dir}'",
                                   max_results=1)
        if found:
            self.parent_id = found[0].info.run_id
            client.update_run(self.parent_id, status="RUNNING")
        else:
            parent = client.create_run(experiment_id, run_name=self.sweep_name,
                                       tags={RUN_DIR_TAG: self.run_dir, **(self.tags or {})})
            self.parent_id = parent.info.run_id
            for key, value in self.about.items():
                client.log_param(self.parent_id, key, value)
        self.tags = {**(self.tags or {}), "mlflow.parentRunId": self.parent_id}
        self._client = client

    def log_trial_result(self, iteration: int, trial: Any, result: dict) -> None:
        metrics = {k: v for k, v in result.items() if k not in NOT_METRICS
                   and not k.startswith(("config", "_")) and is_finite_number(v)}
        self.mlflow_util.log_metrics(run_id=self._trial_runs[trial], metrics_to_log=metrics,
                                     step=result.get("training_iteration", 0))
        if self.metric is not None and is_finite_number(result.get(self.metric.name)):
            value = float(result[self.metric.name])
            if self._best is None or self.metric.better(value, self._best):
                self._best = value

    def log_trial_end(self, trial: Any, failed: bool = False) -> None:
        run_id = self._trial_runs.get(trial)
        checkpoint = trial.checkpoint
        if self.should_save_artifact and run_id and checkpoint is not None:
            name = checkpoint.path.rstrip("/").rsplit("/", 1)[-1]
            self._client.log_artifacts(run_id, checkpoint.path, name)
        if run_id:
            self.mlflow_util.end_run(run_id=run_id, status="FAILED" if failed else "FINISHED")

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        if self.parent_id is None:
            return
        if self._best is not None:
            self._client.log_metric(self.parent_id, f"best_{self.metric.name}", self._best)
        self._client.set_terminated(self.parent_id, "FINISHED")


def artifacts_beside(uri: str, experiment: str) -> str | None:
    """Where a new experiment's artifacts go: beside a local store (`<its folder>/mlartifacts/
    <experiment>`); None (MLflow's choice) for a tracking server, which has its own."""
    if urlparse(uri).scheme != "sqlite":
        return None  # a folder store keeps them inside itself, a server in its own store
    folder = os.path.dirname(os.path.abspath(uri.split(":///", 1)[1]))
    return os.path.join(folder, "mlartifacts", experiment)
