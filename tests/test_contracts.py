"""One parametrized contract test per registry: every registered searcher, scheduler, trainable
and tracker passes the checks `raysearch.testing` ships for users' own plug-ins."""

from __future__ import annotations

import pytest

from raysearch.registry import SCHEDULERS, SEARCHERS, TRACKERS, TRAINABLES
from raysearch.testing import check_scheduler, check_searcher, check_tracker, check_trainable

pytestmark = pytest.mark.usefixtures("ray_session")

SCHEDULER_OPTIONS = {"fifo": {}, "asha": {"grace_period": 1, "max_t": 4},
                     "pb2": {"perturbation_interval": 2},
                     "hyperband": {"max_t": 4},
                     "median": {"grace_period": 1, "min_samples_required": 2},
                     "pbt": {"perturbation_interval": 2}, "wandb_hyperband": {"min_iter": 1}}
SEARCHER_OPTIONS = {"hyperopt": {"n_initial_points": 2}, "bayes": {"n_startup_trials": 2},
                    "bohb": {"min_points": 2},
                    "optuna": {"n_startup_trials": 2}}
# small models so that each contract run takes seconds
TRAINABLE_PARAMETERS = {"lr": {"value": 3e-3}, "optimizer": {"value": "adam"},
                        "num_layers": {"value": 1}, "hidden_size": {"value": 32},
                        "channels": {"value": 4}, "kernel_size": {"value": 3},
                        "batch_size": {"value": 64}, "dropout": {"value": 0.0}}


def tracker_options(name: str, tmp_path) -> dict:
    return {"mlflow": {"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"}}[name]


def test_every_scheduler_has_contract_options():
    assert set(SCHEDULER_OPTIONS) == set(SCHEDULERS.names())


# a front-end's searcher runs a live object (an Optuna study), not a spec: its own tests cover it
@pytest.mark.parametrize("name", [n for n in SEARCHERS.names()
                                  if not SEARCHERS.get(n).facts.front_end])
def test_searcher_contract(name, tmp_path):
    check_searcher(name, str(tmp_path), SEARCHER_OPTIONS.get(name))


@pytest.mark.parametrize("name", SCHEDULERS.names())
def test_scheduler_contract(name, tmp_path):
    check_scheduler(name, SCHEDULER_OPTIONS[name], str(tmp_path))


@pytest.mark.parametrize("name", TRAINABLES.names())
def test_trainable_contract(name, tmp_path):
    check_trainable(name, str(tmp_path), TRAINABLE_PARAMETERS)


@pytest.mark.parametrize("name", TRACKERS.names())
def test_tracker_contract(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a tracker's default artifact folder lands here, not in the repo
    check_tracker(name, tracker_options(name, tmp_path), str(tmp_path))
