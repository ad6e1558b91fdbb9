"""W&B's Hyperband early-termination rule (`early_terminate: {type: hyperband}`) as a Ray Tune
`TrialScheduler`, so a W&B sweep file stops the trials W&B would stop.

W&B's rule (its open-source `sweeps` engine, `hyperband_stop_runs`):
- bands: with `min_iter`, `min_iter * eta**k` for k = 0, 1, ... (no upper cap: survivors run
  to their own end); with `max_iter` and `s`, `int(max_iter / eta**k)` for k = 1..s (while
  >= 1), ascending;
- the threshold at a band: over every trial that has reached it (running or ended), the
  metric's values at that iteration, sorted best first, the one at index `int(n / eta)`;
- a running trial is judged at the latest band it has reached: stopped when its value at that
  band (`strict: true`, W&B's default) or, with `strict: false`, its best value so far is
  worse than the band's threshold.
W&B's controller re-checks running runs every few seconds; here a trial is re-checked at each
result it reports (one per logged value of the metric), against all results seen so far.
Iterations count the trial's results that carry the metric, as W&B counts the metric's history.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def bands(min_iter: int | None, max_iter: int | None, s: int | None, eta: float) -> list[int]:
    """The iterations at which W&B's Hyperband judges runs."""
    if max_iter is not None and s is not None:
        out, band = [], float(max_iter)
        for _ in range(s):
            band /= eta
            if band < 1:
                break
            out.append(int(band))
        return sorted(out)
    band, out = float(min_iter or 1), []
    for _ in range(100):
        out.append(int(band))
        band *= eta
    return out


def thresholds(histories: Sequence[Sequence[float]], band_list: Sequence[int],
               eta: float) -> list[float]:
    """Per band, the value a run must be at least as good as (minimize sense)."""
    out = []
    for band in band_list:
        values = sorted(h[band - 1] for h in histories if len(h) >= band)
        out.append(values[int(len(values) / eta)] if values else math.inf)
    return out


def should_stop(history: Sequence[float], band_list: Sequence[int],
                threshold_list: Sequence[float], strict: bool) -> bool:
    """W&B's decision for one running run (minimize sense)."""
    reached = [(b, t) for b, t in zip(band_list, threshold_list, strict=True)
               if b <= len(history)]
    if not reached:
        return False
    band, threshold = reached[-1]
    value = history[band - 1] if strict else min(history)
    return value > threshold


def build(band_list: list[int], eta: float, strict: bool) -> Any:
    """The scheduler; its metric and mode come from `TuneConfig`, as for Ray's own."""
    from ray.tune.schedulers import FIFOScheduler, TrialScheduler

    class _WandbHyperBand(FIFOScheduler):
        """Runs every trial; stops one when W&B's Hyperband rule says so."""

        def __init__(self) -> None:
            super().__init__()
            self.histories: dict[str, list[float]] = {}  # minimize sense
            self._mode = "min"

        def set_search_properties(self, metric: str | None, mode: str | None,
                                  **spec: Any) -> bool:
            """Metric and mode from `TuneConfig` (Ray's base keeps only the metric)."""
            if mode:
                self._mode = mode
            return super().set_search_properties(metric, mode, **spec)

        def on_trial_result(self, tune_controller: Any, trial: Any, result: Mapping) -> str:
            value = result.get(self._metric)
            if not isinstance(value, int | float) or isinstance(value, bool) \
                    or math.isnan(value):
                return TrialScheduler.CONTINUE
            history = self.histories.setdefault(trial.trial_id, [])
            history.append(-value if self._mode == "max" else value)
            limits = thresholds(list(self.histories.values()), band_list, eta)
            if should_stop(history, band_list, limits, strict):
                return TrialScheduler.STOP
            return TrialScheduler.CONTINUE

        def debug_string(self) -> str:
            return f"W&B Hyperband: bands {band_list[:6]}..., eta {eta}, strict {strict}"

    return _WandbHyperBand()
