"""The W&B on-ramp.

- A sweep file whose `program` (and optional `command`) names a training script: each trial
  runs that script unchanged (`raysearch.wandb.program`), with an offline `wandb` stand-in
  (`raysearch/wandb/standin/wandb`) that sends its `wandb.log` calls to Ray Tune.
- The notebook path of W&B's docs, with one changed line (`import raysearch.wandb as wandb`):
  `sweep_id = wandb.sweep(sweep_config)`, then `wandb.agent(sweep_id, function=train,
  count=5)` runs `train()` as each trial on Ray; inside it `wandb.init()`, `wandb.config`,
  `wandb.log(...)` ... are the stand-in's, talking to the trial in-process.

No W&B account, server or network.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from raysearch.wandb.standin import wandb as _standin

_SWEEPS: dict[str, dict] = {}  # sweep id -> its configuration, for agent()


def __getattr__(name: str) -> Any:
    """The stand-in's API as `wandb.<name>` in a notebook (`init`, `log`, `Image`, `plot`,
    ...), besides `sweep` and `agent` here. `wandb.config`, `wandb.run`, `wandb.summary` are
    the current trial's: they change per trial, so they are looked up, not copied."""
    return getattr(_standin, name)


def sweep(sweep: Mapping, entity: str | None = None, project: str | None = None,
          prior_runs: Any = None) -> str:
    """As `wandb.sweep`: register a sweep configuration (a dict, W&B's grammar) and return its
    id for `agent`. It is validated when the agent runs it (with the function to run)."""
    if not isinstance(sweep, Mapping):
        from raysearch.errors import SpecError

        raise SpecError(f"sweep: expected the sweep configuration as a dict, got {sweep!r}")
    config = json.loads(json.dumps(dict(sweep), default=str))
    sweep_id = hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()[:8]
    _SWEEPS[sweep_id] = config
    return sweep_id


def agent(sweep_id: str, function: Callable[[], Any] | None = None,
          entity: str | None = None, project: str | None = None, count: int | None = None,
          **run_options: Any) -> Any:
    """As `wandb.agent`: run `function` as each trial of the sweep, `count` trials (default:
    the sweep's `run_cap`), on Ray. raysearch's `run` options (`resources`, `max_concurrent`,
    `address`, `storage`, `quiet`, ...) may be added. Returns the run's `SweepResult`."""
    import raysearch

    if sweep_id not in _SWEEPS:
        from raysearch.errors import SpecError

        raise SpecError(f"agent: unknown sweep id {sweep_id!r}: create it with "
                        f"wandb.sweep(sweep_config) in this process")
    if not callable(function):
        from raysearch.errors import SpecError

        raise SpecError("agent: function: give the training function, "
                        "wandb.agent(sweep_id, function=train, count=5)")
    spec = {k: v for k, v in _SWEEPS[sweep_id].items() if k not in ("program", "command")}
    metric = spec.get("metric", {}).get("name") if isinstance(spec.get("metric"), Mapping) \
        else None
    spec["trainable"] = function_trial(function, metric)
    spec.setdefault("name", getattr(function, "__name__", "sweep"))
    if count is not None:
        spec["run_cap"] = count
    return raysearch.run(spec, **run_options)


def function_trial(function: Callable[[], Any], metric: str | None) -> Callable[[dict], None]:
    """A Ray Tune function that runs W&B's `train()` with the stand-in reporting to Tune."""
    def trial(config: dict) -> None:
        from ray import tune

        from raysearch.wandb.program import LogReporter

        reporter = LogReporter(metric, tune.report)
        _standin._start(config, reporter.receive)
        try:
            function()
            _standin.finish()
        finally:
            _standin._start({}, None)
        reporter.close()

    trial.__name__ = getattr(function, "__name__", "train")
    trial.__qualname__ = trial.__name__
    trial.__module__ = getattr(function, "__module__", __name__)
    return trial
