"""The README's quickstart spec on real Fashion-MNIST, shrunk to fit CI."""

from __future__ import annotations

import pytest

from raysearch.cli import main
from raysearch.results import load
from tests.conftest import EXAMPLES


@pytest.mark.usefixtures("ray_session")
def test_quickstart_spec_runs_on_fashion_mnist(storage, capsys):
    code = main(["run", str(EXAMPLES / "quickstart.yaml"), "--storage", storage,
                 "--num-samples", "2", "--set", "parameters.epochs.value=2",
                 "--set", "searcher.n_initial_points=2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "best val_accuracy" in out and "run folder:" in out
    result = load(out.rsplit("run folder: ", 1)[1].strip())
    assert result.trials.num_rows == 2
    # two epochs of the tutorial's net on the real 10k test split: far above chance (0.1)
    assert result.best.metrics["val_accuracy"] > 0.75
