"""The race's contenders, each as its own users run it, each in a fresh process.

Every contender trains the same MLP with the same loop (`trainables.loop.train_classifier`) on
the same split (Fashion-MNIST: 50k train, 10k validation carved from the training set), over
the same space (SPACE), two trials at a time on the machine's two cores. Each appends one line
`{"t": <unix time>, "acc": <val_accuracy>}` to EVENTS for every result its driver receives; the
race (bench/race.py) counts those times from the moment it started the process.

    python -m bench.contenders NAME --seed S --budget B --t0 <unix time> --events FILE
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

METRIC = "val_accuracy"
EPOCHS = 5
# W&B's grammar: raysearch and W&B's engine read it as it is; the others get it translated
SPACE = {
    "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
    "num_layers": {"values": [1, 2, 3]},
    "hidden_size": {"values": [64, 128, 256]},
    "batch_size": {"values": [64, 128, 256]},
}
FIXED = {"optimizer": "adam", "dropout": 0.0, "epochs": EPOCHS}


class Events:
    """Where a contender's driver writes each result it receives, one JSON line each."""

    def __init__(self, path: str) -> None:
        self.path = path  # a path, not an open file: Tune pickles its callbacks

    def __call__(self, accuracy: float, at: float | None = None) -> None:
        line = json.dumps({"t": time.time() if at is None else at, "acc": float(accuracy)})
        with open(self.path, "a") as f:  # one short append: whole lines from any thread
            f.write(line + "\n")


class Stop(Exception):
    """A trial told to stop by its early-stopping rule (W&B's engine)."""


class CallbackSession:
    """`train_classifier`'s session outside Ray: each epoch's metrics go to `on_report`."""

    checkpoints = False

    def __init__(self, on_report: Callable[[dict], None]) -> None:
        self.on_report = on_report

    def restore(self) -> None:
        return None

    def trial_id(self) -> None:
        return None

    def report(self, metrics: dict, state: dict | None) -> None:
        self.on_report(metrics)


def _train_in_process(config: dict, data, on_report: Callable[[dict], None]) -> None:
    from trainables.classifiers import _fnn
    from trainables.loop import train_classifier

    train_classifier({**config, **FIXED}, data, _fnn, session=CallbackSession(on_report))


def optuna_tpe(seed: int, remaining: Callable[[], float], events: Events) -> None:
    """Optuna as its tutorial runs it: TPE + MedianPruner, in-process, `n_jobs=2`."""
    import optuna
    import torch

    from trainables.data import fashion_mnist

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = fashion_mnist(download=False)
    torch.set_num_threads(1)  # two trials at a time, one thread each

    def objective(trial: optuna.Trial) -> float:
        config = {"lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
                  **{k: trial.suggest_categorical(k, SPACE[k]["values"])
                     for k in ("num_layers", "hidden_size", "batch_size")}}
        last = {}

        def report(metrics: dict) -> None:
            events(metrics[METRIC])
            last["value"] = metrics[METRIC]
            trial.report(metrics[METRIC], metrics["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned()

        _train_in_process(config, data, report)
        return last["value"]

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner())
    study.optimize(objective, timeout=remaining(), n_jobs=2)


def wandb_sweeps(seed: int, remaining: Callable[[], float], events: Events) -> None:
    """W&B's own sweep engine (the `sweeps` package behind the W&B server): bayes + hyperband
    early termination, a local controller loop handing runs to two agents (threads)."""
    import numpy as np
    import sweeps
    import torch

    from trainables.data import fashion_mnist

    np.random.seed(seed)  # W&B's bayes draws with numpy's global generator
    data = fashion_mnist(download=False)
    torch.set_num_threads(1)
    config = {"method": "bayes", "metric": {"name": METRIC, "goal": "maximize"},
              "parameters": SPACE, "early_terminate": {"type": "hyperband", "min_iter": 1}}
    runs: list = []
    lock = threading.Lock()
    deadline = time.time() + remaining()

    def agent() -> None:
        while time.time() < deadline:
            with lock:
                run = sweeps.next_run(config, runs)
                run.name, run.state = f"run-{len(runs)}", sweeps.RunState.running
                runs.append(run)
            params = {k: v["value"] for k, v in run.config.items()}

            def report(metrics: dict, run=run) -> None:
                events(metrics[METRIC])
                with lock:
                    run.history.append({METRIC: metrics[METRIC], "epoch": metrics["epoch"]})
                    run.summary_metrics = {METRIC: metrics[METRIC]}
                    stop = run in sweeps.stop_runs(config, runs)
                if stop or time.time() >= deadline:
                    raise Stop

            try:
                _train_in_process(params, data, report)
            except Stop:
                pass
            with lock:
                run.state = sweeps.RunState.finished

    agents = [threading.Thread(target=agent) for _ in range(2)]
    for a in agents:
        a.start()
    for a in agents:
        a.join()


def ray_tune(seed: int, remaining: Callable[[], float], events: Events) -> None:
    """Ray Tune as a user writes it: a function trainable with its data through
    `tune.with_parameters`, HyperOptSearch + ASHAScheduler with Ray's defaults."""
    import ray
    from ray import tune
    from ray.tune.search.hyperopt import HyperOptSearch

    from trainables.data import fashion_mnist

    class OnResult(tune.Callback):
        def on_trial_result(self, iteration, trials, trial, result, **info):
            if METRIC in result:
                events(result[METRIC])

    def train(config: dict, data) -> None:
        from trainables.classifiers import _fnn
        from trainables.loop import train_classifier

        train_classifier({**config, **FIXED}, data, _fnn)

    ray.init(address="local", num_cpus=2, include_dashboard=False)
    space = {"lr": tune.loguniform(1e-4, 1e-2),
             **{k: tune.choice(SPACE[k]["values"])
                for k in ("num_layers", "hidden_size", "batch_size")}}
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(train, data=fashion_mnist(download=False)),
                            {"cpu": 1}),
        param_space=space,
        tune_config=tune.TuneConfig(metric=METRIC, mode="max", num_samples=1000,
                                    search_alg=HyperOptSearch(random_state_seed=seed),
                                    scheduler=tune.schedulers.ASHAScheduler(),
                                    time_budget_s=remaining()),
        run_config=tune.RunConfig(storage_path=tempfile.mkdtemp(), verbose=0,
                                  callbacks=[OnResult()]))
    tuner.fit()


def syne_tune(searcher: str) -> Callable:
    """Syne Tune's local backend (a process per trial running bench/syne_entry.py), with
    ASHA or its multi-fidelity model-based BOHB, four brackets' worth of defaults."""

    def run(seed: int, remaining: Callable[[], float], events: Events) -> None:
        from syne_tune import StoppingCriterion, Tuner
        from syne_tune.backend import LocalBackend
        from syne_tune.config_space import choice, loguniform
        from syne_tune.optimizer import baselines
        from syne_tune.tuner_callback import TunerCallback

        class OnResult(TunerCallback):
            def on_trial_result(self, trial, status, result, decision):
                if METRIC in result:
                    events(result[METRIC])

        space = {"lr": loguniform(1e-4, 1e-2),
                 **{k: choice(SPACE[k]["values"])
                    for k in ("num_layers", "hidden_size", "batch_size")}, **FIXED}
        scheduler = getattr(baselines, searcher)(space, metric=METRIC, do_minimize=False,
                                                 time_attr="epoch", max_t=EPOCHS,
                                                 random_seed=seed)
        entry = str(Path(__file__).with_name("syne_entry.py"))
        tuner = Tuner(trial_backend=LocalBackend(entry_point=entry), scheduler=scheduler,
                      stop_criterion=StoppingCriterion(max_wallclock_time=remaining()),
                      n_workers=2, callbacks=[OnResult()], save_tuner=False,
                      tuner_name=f"race-{searcher.lower()}-{seed}")
        tuner.run()

    return run


def raysearch_method(settings: dict) -> Callable:
    """raysearch as its README runs it: `raysearch.run(spec)` on an embedded local Ray."""

    def run(seed: int, remaining: Callable[[], float], events: Events) -> None:
        import raysearch

        spec = {"trainable": "fashion_mnist_mlp", "metric": {"name": METRIC, "goal": "maximize"},
                "parameters": {**SPACE, **{k: {"value": v} for k, v in FIXED.items()}},
                "run_cap": 1000, "resources": {"cpu": 1}, "seed": seed,
                "time_budget_s": remaining(), **settings}
        with tempfile.TemporaryDirectory() as runs:
            result = raysearch.run(spec, storage=runs, quiet=True)
            for row in sorted(result.history.to_pylist(), key=lambda r: r["timestamp"]):
                if row.get(METRIC) is not None:
                    events(row[METRIC], at=row["timestamp"])

    return run


ASHA = {"type": "asha", "grace_period": 1}
MEDIAN = {"type": "median"}
CONTENDERS: dict[str, Callable] = {
    "optuna tpe+median": optuna_tpe,
    "ray tune hyperopt+asha": ray_tune,
    "w&b sweeps bayes+hyperband": wandb_sweeps,
    "syne tune asha": syne_tune("ASHA"),
    "syne tune bohb": syne_tune("BOHB"),
    "raysearch bayes+asha": raysearch_method({"method": "bayes", "scheduler": ASHA}),
    "raysearch bayes+median": raysearch_method({"method": "bayes", "scheduler": MEDIAN}),
    "raysearch bohb+asha": raysearch_method({"method": "bohb", "scheduler": ASHA}),
    "raysearch hyperopt+asha": raysearch_method({"method": "hyperopt", "scheduler": ASHA}),
    "raysearch optuna+asha": raysearch_method({"method": "optuna", "scheduler": ASHA}),
    "raysearch optuna+median": raysearch_method({"method": "optuna", "scheduler": MEDIAN}),
    "raysearch random+asha": raysearch_method({"method": "random", "scheduler": ASHA}),
}


NEEDS = {"optuna": "optuna", "w&b": "sweeps", "syne": "syne_tune"}


def available() -> list[str]:
    """The contenders whose packages are installed (Syne Tune is in the [bench] extra only)."""
    import importlib.util

    return [name for name in sorted(CONTENDERS)
            if importlib.util.find_spec(NEEDS.get(name.split()[0], "ray")) is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(CONTENDERS))
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--budget", type=float, required=True, help="seconds from --t0")
    parser.add_argument("--t0", type=float, required=True, help="when the race started us")
    parser.add_argument("--events", required=True)
    args = parser.parse_args()
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")

    def remaining() -> float:
        return max(1.0, args.t0 + args.budget - time.time())

    CONTENDERS[args.name](args.seed, remaining, Events(args.events))


if __name__ == "__main__":
    main()
