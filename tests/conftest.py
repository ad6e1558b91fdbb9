"""One real local Ray for the whole test session (2 CPUs, 1 logical GPU for packing tests), and
the test tiers: a test that uses `ray_session` is marked `ray` automatically; tests that start
their own Ray in a subprocess mark themselves `ray` (and `slow` or `bench`). The sub-minute tier
is `pytest -m "not ray and not slow and not bench"` (`make test-fast`)."""

from __future__ import annotations

import os
from pathlib import Path

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
    import ray

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.pop("RAY_ADDRESS", None)  # never join another process's Ray
    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False,
                 log_to_driver=False)
    yield ray
    ray.shutdown()


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
