"""A W&B sweep's `program`, run as each Ray Tune trial, unchanged.

The trial starts the script the way W&B's agent does (`command`, W&B's macros; by default
`/usr/bin/env python train.py --lr=0.01 ...`, in the script's folder), with raysearch's offline
`wandb` stand-in first on its PYTHONPATH (`raysearch/wandb/standin`). The stand-in sends every
committed `wandb.log` and the final summary back over a pipe; the trial reports a result to
Tune each time the sweep's metric is logged (other keys logged since, per batch say, ride
along with it), so schedulers judge the metric's own history, as W&B's early_terminate does.
A stopped trial kills the script (its process group); a script whose trial process died
outright ends at its next `wandb.log` (the pipe is closed); a script that fails ends the trial
with its last stderr lines. Ray and Tune are imported only inside the trial.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from typing import Any

from raysearch.spec.wandb import command_line
from raysearch.types import ProgramSpec

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "standin")
STDERR_LINES = 20  # the script's last stderr lines kept for the trial's error


class ProgramFailed(RuntimeError):
    """The training script exited with an error: its last stderr lines say why."""


def run_program(config: dict, program: ProgramSpec) -> None:
    """The Ray Tune function of a program sweep (`program` comes from the spec)."""
    from ray import tune

    trial_dir = tune.get_context().get_trial_dir() or tempfile.mkdtemp()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(config, f)  # ${args_json_file}
    argv = command_line(program.command, program.path, config, sys.executable, f.name)
    read_end, write_end = os.pipe()
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([STANDIN, os.environ.get("PYTHONPATH", "")]),
           "RAYSEARCH_WANDB_FD": str(write_end), "RAYSEARCH_WANDB_CONFIG": json.dumps(config),
           "WANDB_MODE": "offline", "WANDB_DIR": trial_dir,
           "WANDB_RUN_ID": os.path.basename(trial_dir.rstrip("/")) or "raysearch",
           "WANDB_SWEEP_ID": program.sweep_id}
    proc = subprocess.Popen(argv, cwd=os.path.dirname(program.path), env=env,
                            pass_fds=(write_end,), stdin=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    os.close(write_end)
    stderr_tail: collections.deque = collections.deque(maxlen=STDERR_LINES)
    relay = threading.Thread(target=_relay_stderr, args=(proc.stderr, stderr_tail), daemon=True)
    relay.start()
    try:
        reporter = LogReporter(program.metric, tune.report)
        for line in os.fdopen(read_end):
            try:
                message = json.loads(line)
            except ValueError:  # not one of the stand-in's lines
                continue
            reporter.receive(message)
        code = proc.wait()
        relay.join(timeout=5)
        if code != 0:
            tail = " | ".join(line.rstrip() for line in stderr_tail if line.strip())
            raise ProgramFailed(f"{os.path.basename(program.path)} exited with code {code}: "
                                f"{tail or 'no stderr'}")
        reporter.close()
    finally:
        if proc.poll() is None:  # the trial was stopped (a scheduler) or failed: kill it
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.unlink(f.name)


class LogReporter:
    """Messages from the stand-in (`{"type": "log" | "summary", "data", "step"}`) as Tune
    results: each logged step merges into what is pending, which is reported when it holds
    the metric (every step, in a sweep without one); a metric only in the final summary is
    reported once, at the end."""

    def __init__(self, metric: str | None, report: Any) -> None:
        self.metric, self.report = metric, report
        self.pending: dict = {}
        self.last: dict = {}  # everything logged, for the message when the metric never was
        self.reported = False

    def receive(self, message: dict) -> None:
        data = message.get("data", {})
        if message.get("type") == "log":
            self.pending.update(data)
            self.pending["_step"] = message.get("step", 0)
            self.last.update(self.pending)
            if self.metric is None or self.metric in data:
                self.report(self.pending)
                self.reported, self.pending = True, {}
        elif message.get("type") == "summary" and not self.reported and \
                (self.metric is None or self.metric in data):
            self.report({**self.pending, **data})
            self.reported = True

    def close(self) -> None:
        """The script ended: if it never gave the metric, report what it did log, so the sweep
        names it in one line ("reported no val_loss; it reported: ...")."""
        if not self.reported:
            self.report(self.last or {"_step": 0})


def _relay_stderr(stream: Any, tail: collections.deque) -> None:
    """The script's stderr to the trial's (Ray shows it with --verbose), its end kept."""
    for line in stream:
        tail.append(line)
        sys.stderr.write(line)
