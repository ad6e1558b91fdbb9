"""An embedded Ray's trials run on the workers Ray started with it, which imported the trial's
modules beforehand (raysearch.runner.warm_workers), and nothing of it outlives the sweep; the
driver imports neither a registered trainable's module nor torch, nor mlflow."""

from __future__ import annotations

import json

import pytest

from raysearch.registry import load_target
from raysearch.runner.session import EMBEDDED_RAY_ENV
from raysearch.runner.warm_workers import EVERY_TRIAL_IMPORTS, trial_modules, worker_threads
from raysearch.types import Resources
from tests.conftest import ROOT, run_probe

SCRIPT = r"""
import json, os, sys, tempfile
import raysearch
from raysearch.registry import TRAINABLES
from ray.tune.execution import class_cache
TRAINABLES.register("warm_probe", "tests.warm_probe:probe")  # registered: by name only
result = raysearch.run(trainable="warm_probe", method="grid",
                       parameters={"x": {"values": [1, 2]}},
                       metric={"name": "score", "goal": "maximize"},
                       storage=tempfile.mkdtemp(), quiet=True)
print("RESULT " + json.dumps({
    "started": result.summary["started"], "trials": result.history.to_pylist(),
    "tune_env_after": class_cache.DEFAULT_ENV_VARS, "driver_imported_torch": "torch" in sys.modules,
    "driver_imported_trainable": "tests.warm_probe" in sys.modules,
    "driver_imported_mlflow": "mlflow" in sys.modules,
    "preload_env_after": os.environ.get("RAY_preload_python_modules"),
    "retry_env_after": os.environ.get("RAY_raylet_client_connect_timeout_milliseconds"),
    "threads_env_after": os.environ.get("OMP_NUM_THREADS")}))
"""


def test_trial_modules_name_what_workers_can_import():
    assert trial_modules("fashion_mnist_mlp") == [*EVERY_TRIAL_IMPORTS, "trainables.classifiers"]
    assert trial_modules("tests.warm_probe:probe") == [*EVERY_TRIAL_IMPORTS, "tests.warm_probe"]
    # a file is imported under a name workers don't have: not preloaded
    assert trial_modules(f"{ROOT}/tests/warm_probe.py:probe") == list(EVERY_TRIAL_IMPORTS)
    from_file = load_target(f"{ROOT}/tests/warm_probe.py:probe")  # the same, as a function
    assert trial_modules(from_file) == list(EVERY_TRIAL_IMPORTS)
    # with GPUs, torch in advance but not a module that may ask CUDA about its devices before
    # Ray has set the trial's CUDA_VISIBLE_DEVICES
    gpu = Resources(cpu=1, gpu=0.5)
    assert trial_modules("tests.warm_probe:probe", gpu) == [*EVERY_TRIAL_IMPORTS, "torch"]
    assert trial_modules("fashion_mnist_mlp", gpu) == [*EVERY_TRIAL_IMPORTS, "torch"]
    assert trial_modules(from_file, gpu) == list(EVERY_TRIAL_IMPORTS)


def test_worker_threads_are_what_ray_sets_for_a_trial():
    """Ray's rule (ray._private.utils.set_omp_num_threads_if_unset): the trial's CPUs rounded
    down, at least one."""
    assert [worker_threads(Resources(cpu=c))["OMP_NUM_THREADS"]
            for c in (0.25, 0.5, 1, 1.5, 2, 4)] == ["1", "1", "1", "1", "2", "4"]


@pytest.mark.ray
def test_trials_start_on_prestarted_workers_that_imported_the_trial_modules(tmp_path):
    # Ray's prestarted workers import by name what is installed or on PYTHONPATH (as the
    # shipped trainables are): the probe's module, from the checkout, is on PYTHONPATH
    out = run_probe(SCRIPT, unset=("RAY_preload_python_modules", "PL_DISABLE_FORK",
                                   "OMP_NUM_THREADS", *EMBEDDED_RAY_ENV))["RESULT"]
    assert len(out["trials"]) == 2
    for row in out["trials"]:
        # the worker existed before the sweep started: one Ray started with itself, not one
        # started for this trial's actor (what Tune's own runtime environment would cost)
        assert row["process_started"] < out["started"], row
        # and it had imported Tune and raysearch's wrapper before the trial's module
        assert row["preloaded"] == "ray.tune,raysearch.runner.trainable", row
        # Tune gave the actor no runtime environment of its own (Ray would start a worker for
        # it), and the variable Tune would have set is there all the same
        assert "env_vars" not in json.loads(row["runtime_env"]), row
        assert row["pl_disable_fork"] == "1", row
        # the embedded Ray's processes retry a local connection every 100 ms, not every second
        assert row["connect_retry_ms"] == "100", row
        # the worker imported the trial's module (and torch with it) in advance, before Ray
        # set the trial's OMP_NUM_THREADS; torch uses the trial's one CPU all the same, not
        # every core of the machine (two here: this failed before warm_workers.worker_threads)
        assert row["imported_in_advance"] is True, row
        assert row["torch_threads"] == 1, row
    assert out["tune_env_after"] == {"PL_DISABLE_FORK": "1"}  # Tune's own, restored
    assert out["preload_env_after"] is None  # the driver's environment restored
    assert out["retry_env_after"] is None
    assert out["threads_env_after"] is None
    # the driver handed the trainable to Tune by name, and wrote TensorBoard's files without
    # importing torch
    assert out["driver_imported_trainable"] is False
    assert out["driver_imported_torch"] is False
    # nor mlflow (installed here), which Ray Tune's usage record of callbacks would import
    assert out["driver_imported_mlflow"] is False


USERS_RAY = r"""
import json, tempfile
import ray
import raysearch
from ray.tune.execution import class_cache
ray.init(num_cpus=2, include_dashboard=False)  # the user's own Ray: no variable of raysearch's
result = raysearch.run(trainable="tests.warm_probe:probe", method="grid",
                       parameters={"x": {"values": [1, 2]}},
                       metric={"name": "score", "goal": "maximize"},
                       storage=tempfile.mkdtemp(), quiet=True)
print("RESULT " + json.dumps({"trials": result.history.to_pylist(),
                              "tune_env_after": class_cache.DEFAULT_ENV_VARS}))
"""


def test_on_a_users_own_ray_trial_actors_take_its_workers_and_set_tunes_variable():
    """A Ray the user started (ray.init() in a notebook, as before a scikit-learn drop-in's
    many fits): Tune's actors get no runtime environment of their own, which would make Ray
    start a worker for each (the drop-in's fits took 0.2-0.9 s longer); each trial sets the
    variable Tune's runtime environment held."""
    out = run_probe(USERS_RAY, unset=("RAY_preload_python_modules", "PL_DISABLE_FORK",
                                      "OMP_NUM_THREADS", *EMBEDDED_RAY_ENV))["RESULT"]
    assert len(out["trials"]) == 2
    for row in out["trials"]:
        assert "env_vars" not in json.loads(row["runtime_env"]), row
        assert row["pl_disable_fork"] == "1", row
    assert out["tune_env_after"] == {"PL_DISABLE_FORK": "1"}  # Tune's own, restored
