"""The structure holds: every package imports on its own in a fresh interpreter (no import
cycle hides behind `import raysearch`), validating and listing load neither Ray nor torch, and
the report escapes what users name."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from tests.conftest import EXAMPLES, ROOT, digits_spec

PACKAGES = ["raysearch", "schedulers", "trainables", "raysearch.types", "raysearch.errors",
            "raysearch.schema", "raysearch.registry", "raysearch.spec", "raysearch.search",
            "raysearch.search.searchers", "raysearch.results", "raysearch.report",
            "raysearch.runner", "raysearch.api", "raysearch.cli", "raysearch.testing",
            "raysearch.optuna", "raysearch.sklearn", "raysearch.wandb", "raysearch.wandb.program"]


def fresh(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("module", PACKAGES)
def test_imports_alone_in_a_fresh_interpreter(module):
    proc = fresh(f"import {module}")
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("argv", [["validate", str(EXAMPLES / "quickstart.yaml")],
                                  ["trainables"]])
def test_validate_and_trainables_load_neither_ray_nor_torch(argv):
    proc = fresh("import sys, contextlib, io\n"
                 "from raysearch.cli import main\n"
                 f"with contextlib.redirect_stdout(io.StringIO()): code = main({argv!r})\n"
                 "heavy = sorted(m for m in ('ray', 'torch', 'optuna', 'hyperopt', 'pyarrow')"
                 " if m in sys.modules)\n"
                 "print(code, heavy)")
    assert proc.stdout.strip() == "0 []", proc.stdout + proc.stderr[-2000:]


def test_plugins_register_on_first_lookup_only():
    proc = fresh("import sys\nfrom raysearch.registry import SCHEDULERS\n"
                 "before = 'schedulers' in sys.modules\n"
                 "names = SCHEDULERS.names()\n"
                 "print(before, 'schedulers' in sys.modules, names)")
    assert proc.stdout.strip() == \
        "False True ['asha', 'fifo', 'hyperband', 'median', 'pb2', 'pbt', 'wandb_hyperband']", \
        proc.stderr


def test_report_escapes_user_text(tmp_path):
    """A metric and a config value holding markup reach the page as text, never as markup."""
    import pyarrow as pa

    from raysearch.report import render
    from raysearch.results import SweepResult

    metric = "<script>alert(1)</script>"
    spec = digits_spec(name="<b>sweep</b>", metric={"name": metric, "goal": "maximize"})
    spec["scheduler"] = {"type": "fifo"}
    trials = pa.table({"trial_id": ["t1", "t2"], "status": ["completed", "errored"],
                       "config.optimizer": ["<img src=x onerror=alert(2)>", "adam"],
                       f"best.{metric}": [0.5, 0.6], "error": [None, "<i>boom</i>"]})
    history = pa.table({"trial_id": ["t1", "t2"], "iteration": [1, 1], metric: [0.5, 0.6]})
    page = render(SweepResult(path=str(tmp_path), spec=yaml.safe_load(yaml.safe_dump(spec)),
                              trials=trials, history=history))
    for raw in ("<script>alert(1)</script>", "<b>sweep</b>", "<img src=x", "<i>boom</i>"):
        assert raw not in page.split("<script type=\"text/javascript\">")[0], raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;i&gt;boom&lt;/i&gt;" in page
