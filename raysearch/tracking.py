"""Experiment tracking: `tracking: {mlflow: {...}}` in the spec -> Ray's logger callbacks.

TensorBoard needs no setting: Ray Tune writes per-trial event files (with the config in the
HParams tab) whenever tensorboardX is installed, which raysearch depends on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raysearch.registry import Registry

if TYPE_CHECKING:
    from raysearch.spec import Sweep

TRACKERS = Registry("tracker")


def tracking_callbacks(sweep: Sweep) -> list[Any]:
    return [TRACKERS.build(name, sweep, **options) for name, options in sweep.tracking.items()]


@TRACKERS.register("mlflow")
def mlflow(sweep: Sweep, *, tracking_uri: str | None = None, experiment_name: str | None = None,
           save_artifact: bool = True, tags: dict | None = None) -> Any:
    """One MLflow run per trial: params, per-epoch metrics, and (with `save_artifact`) the
    trial folder, final checkpoint included, as artifacts. `experiment_name` defaults to the
    sweep's name; `tracking_uri` to MLflow's own default (MLFLOW_TRACKING_URI)."""
    from raysearch.mlflow_callback import MLflowWithCheckpoints

    return MLflowWithCheckpoints(tracking_uri=tracking_uri,
                                experiment_name=experiment_name or sweep.name,
                                save_artifact=save_artifact, tags=tags)
