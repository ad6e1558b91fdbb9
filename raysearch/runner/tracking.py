"""Experiment tracking: `tracking: {mlflow: {...}}` in the spec -> Tune callbacks.

Trackers are entries of `raysearch.registry.TRACKERS`: a factory taking the sweep and its run
folder, and its options as keyword-only arguments (the option schema), returning a
`ray.tune.Callback`. TensorBoard needs no setting: raysearch writes every sweep's event files
(`raysearch.runner.tensorboard`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raysearch.registry import TRACKERS

if TYPE_CHECKING:
    from raysearch.spec import Sweep


def tracking_callbacks(sweep: Sweep, run_dir: str) -> list[Any]:
    return [TRACKERS.get(name).build(sweep, run_dir, **options)
            for name, options in sweep.tracking.items()]


@TRACKERS.register("mlflow", description="a parent MLflow run per sweep, a child per trial")
def mlflow(sweep: Sweep, run_dir: str, *, tracking_uri: str | None = None,
           experiment_name: str | None = None, save_artifact: bool = True,
           tags: dict | None = None) -> Any:
    """A parent run per sweep and a child run per trial: the config as params, the
    trainable's metrics per iteration, and (with `save_artifact`) the final checkpoint as an
    artifact. `experiment_name` defaults to the sweep's name (`--name`); `tracking_uri` to
    MLflow's own default (MLFLOW_TRACKING_URI)."""
    from raysearch.runner.mlflow import SweepMLflow

    about = {"method": sweep.method, "scheduler": sweep.scheduler.type,
             "run_cap": sweep.run_cap, "metric": sweep.describe_metric(), "seed": sweep.seed}
    return SweepMLflow(run_dir, sweep.name, sweep.metric, about, tracking_uri=tracking_uri,
                       experiment_name=experiment_name or sweep.name,
                       save_artifact=save_artifact, tags=tags)
