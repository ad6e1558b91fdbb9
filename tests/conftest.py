"""One real local Ray for the whole test session (2 CPUs, 1 logical GPU for packing tests), and
the test tiers: a test that uses `ray_session` is marked `ray` automatically; tests that start
their own Ray in a subprocess mark themselves `ray` (and `slow` or `bench`). The sub-minute tier
is `pytest -m "not ray and not slow and not bench"` (`make test-fast`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# CI explores the same examples every run (a red CI must be reproducible); locally, new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def pytest_collection_modifyitems(items: list) -> None:
    for item in items:
        if "ray_session" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.ray)


@pytest.fixture(scope="session")
def ray_session():
    """One private local Ray for the session, started as raysearch starts its embedded Ray
    (runner.session): its workers have Tune's one variable for trial actors from their start,
    and Tune's actors go to Ray's own workers instead of a new process with a runtime
    environment each (~0.35 s of every Tune run on 2 cores). Sweeps run by a subprocess driver
    against it (--address) take Tune's own way."""
    import ray

    from raysearch.runner.session import EMBEDDED_RAY_ENV, scoped_environ
    from raysearch.runner.warm_workers import TUNE_ACTOR_ENV, trial_actors_on_warm_workers

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.pop("RAY_ADDRESS", None)  # never join another process's Ray
    with scoped_environ({**TUNE_ACTOR_ENV, **EMBEDDED_RAY_ENV}):
        if not ray.is_initialized():
            ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False,
                     log_to_driver=False)
        with trial_actors_on_warm_workers():
            yield ray
    ray.shutdown()


def run_probe(script: str, *args: str, unset: tuple[str, ...] = (),
              timeout: float = 300) -> dict[str, Any]:
    """Run `script` in a fresh Python that can import the repository, outside any Ray (no
    RAY_ADDRESS: a sweep starts its own embedded Ray) and without the variables in `unset`;
    it must exit 0. What it printed as `NAME <json>` lines, parsed, by NAME."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", *unset)}
    proc = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True,
                          text=True, env={**env, "PYTHONPATH": str(ROOT)}, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = {}
    for line in proc.stdout.splitlines():
        name, _, value = line.partition(" ")
        if name.isupper() and value:
            printed[name] = json.loads(value)
    return printed


def ray_objects_in_cycles(kept: list) -> list[str]:
    """The types of Ray's objects that only Python's cycle collector would free, found without
    freeing anything (they stay in `kept`): what `ray.shutdown` must not meet, since freeing
    one while Ray shuts down ends the process. For probes that watch `ray.shutdown`."""
    import gc

    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
    finally:
        gc.set_debug(0)
    kept.extend(gc.garbage)
    gc.garbage.clear()
    return sorted({f"{type(o).__module__}.{type(o).__name__}" for o in kept
                   if type(o).__module__.partition(".")[0] == "ray"})


@pytest.fixture
def storage(tmp_path: Path) -> str:
    return str(tmp_path / "runs")


def digits_spec(**overrides) -> dict:
    """A seconds-long digits sweep; tests override what they exercise."""
    spec = {
        "name": "digits-test",
        "trainable": "digits_mlp",
        "method": "random",
        "metric": {"name": "val_accuracy", "goal": "maximize"},
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-1},
            "num_layers": {"values": [1, 2]},
            "hidden_size": {"values": [32, 64]},
            "batch_size": {"value": 64},
            "epochs": {"value": 2},
        },
        "run_cap": 3,
        "resources": {"cpu": 1},
        "seed": 0,
    }
    spec.update(overrides)
    return spec
