"""The best trial's checkpoint on a held-out test set, once, after the sweep: the honest
figure beside the validation metric trials were chosen by. Only for trainables that say how
(`TrainableInfo.evaluate`, e.g. the shipped classifiers); `raysearch evaluate RUN_DIR` runs it
for a finished run folder."""

from __future__ import annotations

from typing import Any

from raysearch.log import logger
from raysearch.registry import load_target
from raysearch.results import SweepResult
from raysearch.spec.targets import resolve_trainable


def evaluate_best(result: SweepResult) -> dict[str, Any] | None:
    """{"trial_id", "iteration" (of the checkpoint used), metrics...}, or None when the
    trainable has no test evaluation or no checkpoint of the best trial is left."""
    trainable = result.spec.get("trainable")
    if not isinstance(trainable, str):
        return None
    try:
        facts = resolve_trainable(trainable).facts
    except Exception:  # not resolvable here (a file moved): nothing to evaluate with
        return None
    best = result.best
    if facts.evaluate is None or best is None or best.checkpoint is None:
        return None
    data = load_target(facts.load_data)() if facts.load_data is not None else None
    metrics = load_target(facts.evaluate)(best.config, best.checkpoint, data)
    logger.debug("best trial %s on the held-out test set: %s", best.trial_id, metrics)
    return {"trial_id": best.trial_id, "iteration": best.checkpoint_iteration,
            **{k: float(v) for k, v in metrics.items()}}
