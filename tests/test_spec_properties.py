"""Property-based: whatever a user writes (any YAML-able spec, any bytes in a spec file),
`raysearch validate` answers with exit 0 or 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raysearch.cli import main
from raysearch.errors import SpecError
from raysearch.spec import load_spec
from tests.conftest import ROOT

KEYS = ["name", "trainable", "method", "metric", "parameters", "run_cap", "num_samples",
        "scheduler", "early_terminate", "resources", "max_concurrent", "checkpoint",
        "max_failures", "seed", "searcher", "tracking", "time_budget_s", "program", "bogus"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 1000), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(
                        ["digits_mlp", "random", "grid", "hyperopt", "bayes", "optuna", "asha",
                         "pbt", "hyperband", "maximize", "minimize", "val_accuracy",
                         "uniform", "log_uniform_values", "int_uniform", "categorical"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["type", "name", "goal", "min", "max", "values", "value",
                                     "distribution", "q", "cpu", "gpu", "every", "keep",
                                     "max_t", "grace_period", "lr", "parameters", "x"]),
                    inner, max_size=4)), max_leaves=12)
specs = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs)
def test_any_spec_is_valid_or_a_spec_error(raw):
    try:
        load_spec(raw)
    except SpecError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200),
                 specs.map(lambda d: yaml.safe_dump(d, allow_unicode=True).encode())))
def test_any_file_validates_with_exit_0_or_2(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_bytes(data)
    assert main(["validate", str(path)]) in (0, 2)


def test_the_console_entry_point_prints_no_traceback_on_garbage(tmp_path):
    path = tmp_path / "garbage.yaml"
    path.write_bytes(bytes(range(256)))
    proc = subprocess.run([sys.executable, "-m", "raysearch", "validate", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr


numbers = st.one_of(st.integers(-3, 300), st.floats(-3, 300, allow_nan=False), st.booleans(),
                    st.none())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_scheduler_and_searcher_options_that_validate_build(data):
    """A value the scheduler or searcher would refuse must fail validation, before Ray starts
    (found so: PBT's `quantile_fraction: 0.9` passed validation, then Tune raised with a
    traceback once Ray was up). Building them needs Ray Tune, not a running Ray."""
    from raysearch.registry import SCHEDULERS, SEARCHERS
    from raysearch.search import build_search

    kind = data.draw(st.sampled_from(SCHEDULERS.names()))
    method = None if SCHEDULERS.get(kind).facts.exploits else data.draw(st.sampled_from(
        [e.name for e in SEARCHERS if e.facts.front_end is None]))
    def options(entry) -> dict:
        names = sorted(entry.options())
        names = data.draw(st.lists(st.sampled_from(names), unique=True)) if names else []
        return {n: data.draw(numbers) for n in names if n != "hyperparam_mutations"}

    raw = {"trainable": "digits_mlp", "scheduler": {"type": kind, **options(SCHEDULERS.get(kind))},
           "run_cap": 4}
    if method is not None:
        raw.update(method=method, searcher=options(SEARCHERS.get(method)))
    try:
        sweep = load_spec(raw)
    except SpecError:
        return
    SCHEDULERS.get(kind).build(sweep.scheduler_context(), **sweep.scheduler.options)
    build_search(sweep)
