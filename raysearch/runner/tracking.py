"""Experiment tracking: `tracking: {mlflow: {...}}` in the spec -> Ray's logger callbacks.

Trackers are entries of `raysearch.registry.TRACKERS`: a factory taking the sweep and its
options as keyword-only arguments (the option schema), returning a `ray.tune.Callback`.
TensorBoard needs no setting: Ray Tune writes per-trial event files (with the config in the
HParams tab) whenever tensorboardX is installed, which raysearch depends on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raysearch.registry import TRACKERS

if TYPE_CHECKING:
    from raysearch.spec import Sweep


def tracking_callbacks(sweep: Sweep) -> list[Any]:
    return [TRACKERS.get(name).build(sweep, **options) for name, options in sweep.tracking.items()]


@TRACKERS.register("mlflow", description="one MLflow run per trial, with its checkpoint")
def mlflow(sweep: Sweep, *, tracking_uri: str | None = None, experiment_name: str | None = None,
           save_artifact: bool = True, tags: dict | None = None) -> Any:
    """One MLflow run per trial: params, per-epoch metrics, and (with `save_artifact`) the
    trial folder, final checkpoint included, as artifacts. `experiment_name` defaults to the
    sweep's name; `tracking_uri` to MLflow's own default (MLFLOW_TRACKING_URI)."""
    from raysearch.runner.mlflow import MLflowWithCheckpoints

    return MLflowWithCheckpoints(tracking_uri=tracking_uri,
                                experiment_name=experiment_name or sweep.name,
                                save_artifact=save_artifact, tags=tags)
