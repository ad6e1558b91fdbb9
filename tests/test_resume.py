"""A killed driver resumes: trials continue from their checkpoints, nothing recorded is lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from raysearch.cli import main
from raysearch.results import read_rows, run_table
from tests.conftest import ROOT, digits_spec

pytestmark = pytest.mark.slow


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_orphans(ray_module, timeout: float = 120) -> None:
    """After a driver connected to the session's Ray is SIGKILLed, Ray kills its trial actors
    once it notices: wait for that before resuming, or two generations of a trial would write
    into one trial folder at once (a test-only race: an embedded Ray dies with its driver)."""
    from ray._private import state

    own = ray_module.get_runtime_context().get_job_id()
    wait_for(lambda: not [a for a in state.actors().values() if a.get("State") == "ALIVE"
                          and a.get("JobID") != own], timeout, "a killed driver's actors to end")


def max_iteration(storage: Path) -> int:
    run_dirs = list(storage.glob("*/spec.yaml"))
    if not run_dirs:
        return 0
    try:
        rows = read_rows(str(run_dirs[0].parent), "history.parquet")
        return max((r["iteration"] for r in rows), default=0)
    except Exception:  # the file is replaced atomically, but be patient anyway
        return 0


def latest_checkpoint_in_tune_state(run_dir: Path) -> list[str]:
    """The checkpoint paths Ray Tune's newest saved state will restore trials from (the kill
    may have cut Tune's upload of that state short: resume puts back its last whole copy
    first, and so does this)."""
    from ray.tune.trainable.metadata import _TrainingRunMetadata

    from raysearch.runner import tune_state

    tune_state.repair(str(run_dir))

    state = json.loads(max(run_dir.glob("experiment_state-*.json")).read_text())
    latest = [_TrainingRunMetadata.from_json_state(m).checkpoint_manager.latest_checkpoint_result
              for _, m in state["trial_data"]]
    return [r.checkpoint.path for r in latest if r is not None]


def test_killed_driver_resumes_from_checkpoints(ray_session, tmp_path, capsys):
    epochs = 300
    spec = tmp_path / "long.yaml"
    spec.write_text(yaml.safe_dump(digits_spec(
        run_cap=2, parameters={**digits_spec()["parameters"], "epochs": {"value": epochs}},
        # keep 3 (its 3 best by the metric, and its latest): whichever of its checkpoints Tune's
        # saved state names (X), a trial then always has another one on disk whose result is
        # recorded (the recorder flushes at a trial's second unflushed checkpoint); where
        # accuracy still climbs, as here, the best are the newest: X-1 until X+2 exists, then
        # X+1. With 2 kept, a state naming X while X+1 (unrecorded) had already rotated X-1 away
        # left the trial whose X is deleted below nothing to resume from (it started again:
        # correct, but untested)
        checkpoint={"every": 10, "keep": 3}, name="long")))
    storage = tmp_path / "runs"
    address = ray_session.get_runtime_context().gcs_address
    driver = subprocess.Popen(
        [sys.executable, "-m", "raysearch", "run", str(spec), "--storage", str(storage),
         "--address", address, "--quiet"],
        cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: max_iteration(storage) >= 30, 120, "some epochs to be recorded")
        time.sleep(2)  # let Tune snapshot its experiment state with a checkpoint in it
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    wait_for_orphans(ray_session)
    (run_dir,) = storage.iterdir()
    before = read_rows(str(run_dir), "history.parquet")
    assert before and max(r["iteration"] for r in before) < epochs  # really interrupted

    # the checkpoint-rotation race, made certain: one trial's checkpoint named in Tune's newest
    # saved state is deleted (as `keep` does when the driver dies before Tune's next save)
    named = latest_checkpoint_in_tune_state(run_dir)
    assert len(named) == 2, "Tune saved no checkpoint in its state"
    rotated = run_dir / Path(named[0]).parent.name / Path(named[0]).name
    # ... and a checkpoint folder saved after that state, unrecorded (the driver died first):
    # the resumed trial must not write over it, nor reuse the name
    index = int(rotated.name.removeprefix("checkpoint_"))
    orphan = rotated.with_name(f"checkpoint_{index + 3:06d}")
    shutil.copytree(rotated, orphan)
    shutil.rmtree(rotated)
    # the table-flush lag, made certain: the other trial's results since a few iterations
    # before its named checkpoint were never written (the driver died before the next flush;
    # results are flushed within a second of a checkpoint, so the kill may have done it)
    lagging = Path(named[1])
    saved_at = [r["iteration"] for r in before if r.get("checkpoint")
                and Path(r["checkpoint"]).name == lagging.name
                and f"trial_{r['trial_id']}" == lagging.parent.name]
    if saved_at:
        before = [r for r in before if not (f"trial_{r['trial_id']}" == lagging.parent.name
                                            and r["iteration"] > saved_at[0] - 3)]
        table = run_table(str(run_dir), "history.parquet")
        table.compact()
        pq.write_table(pa.Table.from_pylist(before, schema=pq.read_schema(table.file)),
                       table.file)

    assert main(["resume", str(run_dir), "--quiet"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "2 trials: 2 completed" in out, out
    assert "resume from their newest recorded checkpoint on disk" in captured.err, captured.err

    after = read_rows(str(run_dir), "history.parquet")
    recorded = {(r["trial_id"], r["iteration"]) for r in after}
    assert {(r["trial_id"], r["iteration"]) for r in before} <= recorded  # nothing dropped
    by_trial: dict[str, list[dict]] = {}
    for r in after:
        by_trial.setdefault(r["trial_id"], []).append(r)
    assert len(by_trial) == 2
    for rows in by_trial.values():
        assert sorted(r["iteration"] for r in rows) == list(range(1, epochs + 1))
        assert sorted(r["epoch"] for r in rows) == list(range(1, epochs + 1))
        names = [Path(r["checkpoint"]).name for r in rows if r.get("checkpoint")]
        assert len(names) == len(set(names)), names  # no checkpoint folder written over
    assert orphan.name not in {Path(r["checkpoint"]).name for r in after
                               if r.get("checkpoint") and orphan.parent.name.endswith(r["trial_id"])}
    restored = [r for r in after if r.get("restored_from")]
    rotated_trial = rotated.parent.name.removeprefix("trial_")
    assert rotated_trial in {r["trial_id"] for r in restored}, \
        f"trial {rotated_trial} did not continue from its newest recorded checkpoint on disk"
    # a resumed trial continued from its own checkpoint: its epoch count went on, not from 1
    assert all(r["restored_from"] == r["trial_id"] and r["epoch"] > 1 for r in restored)
