"""cluster.yaml is a valid Ray cluster-launcher config (the schema ships with ray)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import ray
import yaml

from tests.conftest import ROOT


def test_cluster_yaml_matches_rays_schema():
    schema = json.loads((Path(ray.__file__).parent / "autoscaler" / "ray-schema.json").read_text())
    config = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    jsonschema.validate(config, schema)
    workers = config["available_node_types"]["gpu_worker"]
    assert workers["resources"]["GPU"] >= 1 and workers["min_workers"] == 0
    assert config["head_node_type"] == "head" and config["idle_timeout_minutes"] > 0
    assert any("pip install" in c and "raysearch" in c for c in config["setup_commands"])


def test_schema_check_catches_a_broken_config():
    import pytest

    schema = json.loads((Path(ray.__file__).parent / "autoscaler" / "ray-schema.json").read_text())
    config = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    config["idle_timeout_minutes"] = "five"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, schema)
