"""Ray's MLflow logger, plus the trial's final checkpoint as an artifact (Ray's own
`save_artifact` uploads the trial's local staging folder, which holds no checkpoints)."""

from __future__ import annotations

from typing import Any

from ray.air.integrations.mlflow import MLflowLoggerCallback


class MLflowWithCheckpoints(MLflowLoggerCallback):
    def log_trial_end(self, trial: Any, failed: bool = False) -> None:
        run_id = self._trial_runs.get(trial)
        checkpoint = trial.checkpoint
        if self.should_save_artifact and run_id and checkpoint is not None:
            from mlflow.tracking import MlflowClient

            name = checkpoint.path.rstrip("/").rsplit("/", 1)[-1]
            MlflowClient(self.tracking_uri).log_artifacts(run_id, checkpoint.path, name)
        super().log_trial_end(trial, failed)
