"""Every bad input: one line on stderr, exit 2, before Ray starts, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from raysearch.cli import main
from tests.conftest import ROOT, digits_spec


def write(tmp_path: Path, spec: dict | str) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec))
    return str(path)


def params(**changes) -> dict:
    base = digits_spec()["parameters"]
    base.update(changes)
    return base


CASES = {
    "missing file": (None, "no such spec file"),
    "yaml syntax": ("name: [unclosed\ntrainable: digits_mlp\n", "invalid YAML"),
    "unknown key": (digits_spec(metod="grid"), 'metod: unknown key (did you mean "method"?)'),
    "unknown trainable": (digits_spec(trainable="digits_mpl"),
                          "known: digits_mlp, fashion_mnist_cnn, fashion_mnist_mlp"),
    "trainable in a file that is not Python": (
        digits_spec(trainable="configs/train.yaml:train"),
        "trainable: 'configs/train.yaml:train': configs/train.yaml is not a Python file; give "
        "'path/to/file.py:function' or 'package.module:function'"),
    "min >= max": (digits_spec(parameters=params(lr={"min": 0.5, "max": 0.1})),
                   "parameters.lr: min (0.5) must be less than max (0.1)"),
    "log min <= 0": (digits_spec(parameters=params(
        lr={"distribution": "log_uniform_values", "min": 0, "max": 0.1})),
        "parameters.lr: log_uniform_values takes logarithms, so min must be > 0"),
    "unknown method": (digits_spec(method="bayesian"), "method: unknown method 'bayesian'"),
    "fail_fast with retries": (digits_spec(fail_fast=True, max_failures=2),
                               "fail_fast: the first failure stops the sweep, so there is no "
                               "retry for max_failures: 2; set max_failures: 0 or fail_fast: "
                               "false"),
    "fail_fast not a bool": (digits_spec(fail_fast="yes"), "fail_fast: expected bool"),
    "unknown scheduler": (digits_spec(scheduler={"type": "ashaa"}),
                          "scheduler: unknown scheduler 'ashaa' (did you mean \"asha\"?)"),
    "misspelled scheduler option": (digits_spec(scheduler={"type": "asha", "grace": 1}),
                                    "scheduler.grace: unknown option for scheduler 'asha'"),
    "wrong option type": (digits_spec(scheduler={"type": "asha", "max_t": "ten"}),
                          "scheduler.max_t: expected int, got 'ten'"),
    # values Ray Tune itself would refuse only once Ray is up, with a traceback
    "PBT quantile out of range": (digits_spec(scheduler={"type": "pbt",
                                                         "quantile_fraction": 0.9}),
                                  "scheduler.quantile_fraction: expected a number <= 0.5, got 0.9"),
    "ASHA reduction factor 1": (digits_spec(scheduler={"type": "asha", "reduction_factor": 1}),
                                "scheduler.reduction_factor: expected a number > 1, got 1"),
    "ASHA grace period past max_t": (digits_spec(scheduler={"type": "asha", "grace_period": 9}),
                                     "scheduler.grace_period: 9 is past max_t 2 (the constant "
                                     "`epochs`, else 100): no trial would be judged"),
    "searcher option out of range": (digits_spec(method="hyperopt", searcher={"gamma": 0}),
                                     "searcher.gamma: expected a number > 0, got 0"),
    "unknown distribution": (digits_spec(parameters=params(
        lr={"distribution": "log_unifrom", "min": 1, "max": 2})),
        "unknown distribution 'log_unifrom' (did you mean \"log_uniform\"?)"),
    "bad resources": (digits_spec(resources={"cpus": 1}), "resources.cpus: unknown resource"),
    # a value the trainable would reject only inside a trial, a minute into the sweep
    "unknown lr_schedule": (digits_spec(parameters=params(lr_schedule={"values": ["cosin"]})),
                            "parameters.lr_schedule: digits_mlp has no lr_schedule 'cosin'; "
                            "use 'constant' or 'cosine'"),
    "batch size 0 among values": (digits_spec(parameters=params(batch_size={"values": [0, 64]})),
                                  "parameters.batch_size: digits_mlp takes batch_size >= 1; got 0"),
    "dropout drawn past 1": (digits_spec(parameters=params(
        dropout={"distribution": "uniform", "min": 0, "max": 1.5})),
        "parameters.dropout: digits_mlp takes dropout >= 0 and <= 1; uniform draws up to 1.5"),
    "negative lr to mutate": (digits_spec(method="random", scheduler={
        "type": "pbt", "hyperparam_mutations": {"lr": {"min": -0.1, "max": 0.1}}}),
        "scheduler.hyperparam_mutations.lr: digits_mlp takes lr > 0; uniform draws from -0.1"),
    "optimizer as a range": (digits_spec(parameters=params(optimizer={"min": 0, "max": 1})),
                             "parameters.optimizer: digits_mlp takes 'adam' or 'sgd'; give "
                             "`value` or `values`, not the int_uniform distribution"),
    # every trial would fail on it (KeyError), or ignore it
    "a parameter the trainable needs left out": (
        digits_spec(parameters={k: v for k, v in params().items() if k != "num_layers"}),
        "parameters.num_layers: digits_mlp needs num_layers; add it, e.g. num_layers: "
        "{values: [1, 2]}"),
    "a parameter the trainable never reads": (
        digits_spec(parameters=params(hiden_size={"value": 32})),
        'parameters.hiden_size: digits_mlp does not read hiden_size (did you mean '
        '"hidden_size"?); it reads lr, batch_size, epochs,'),
    "a name that is not one folder name": (digits_spec(name="runs/../../x"),
                                           "name: 'runs/../../x' names the run folder, so it "
                                           "is one folder name: no '/' or '\\', not '.' or "
                                           "'..'; e.g. 'runs-x'"),
    # found by the property test: a list where a name goes
    "unhashable scheduler type": (digits_spec(scheduler={"type": []}),
                                  "scheduler: unknown scheduler []"),
    "unhashable distribution": (digits_spec(parameters=params(lr={"distribution": [None]})),
                                "parameters.lr: unknown distribution [None]"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_exit_2(case, tmp_path, capsys):
    spec, expected = CASES[case]
    path = str(tmp_path / "missing.yaml") if spec is None else write(tmp_path, spec)
    code = main(["validate", path])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err, err
    assert err.count("\n") == 1 and err.startswith("raysearch: error: ")
    assert "Traceback" not in err


def test_run_rejects_bad_spec_before_ray_is_even_imported(tmp_path):
    spec = write(tmp_path, digits_spec(method="grd"))
    probe = ("import sys; from raysearch.cli import main; "
             f"code = main(['run', {spec!r}, '--storage', {str(tmp_path)!r}]); "
             "print(code, 'ray' in sys.modules, 'torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split() == ["2", "False", "False"], proc.stdout + proc.stderr
    assert not list(tmp_path.glob("digits-test*"))


@pytest.mark.parametrize("flags, expected", [
    (["--storage", "{file}/runs"], "--storage {file}/runs: {file} is a file, not a folder"),
    (["--storage", "{file}"], "--storage {file}: {file} is a file, not a folder"),
    (["--storage", "/proc/raysearch-runs"],
     "--storage /proc/raysearch-runs: cannot make a folder in /proc"),
    (["--name", "../outside"], "name: '../outside' names the run folder"),  # out of storage
])
def test_a_run_folder_that_cannot_be_made_fails_before_ray(tmp_path, flags, expected):
    """--storage under a file, or where no folder can be made, or a --name that is not one
    folder name: one line, exit 2, Ray not even imported (a traceback once the sweep had
    started; a name with '..' put the run folder outside the storage), nothing left behind."""
    spec = write(tmp_path, digits_spec())
    flags = [flag.format(file=spec) for flag in flags]
    expected = expected.format(file=spec)
    probe = ("import sys; from raysearch.cli import main; "
             f"code = main(['run', {spec!r}, '--storage', {str(tmp_path)!r}, *{flags!r}]); "
             "print(code, 'ray' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split()[-2:] == ["2", "False"], proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"raysearch: error: {expected}"), proc.stderr
    assert proc.stderr.count("\n") == 1 and sorted(p.name for p in tmp_path.iterdir()) == \
        ["spec.yaml"]


@pytest.mark.parametrize("call, expected", [
    (lambda r: r.run(digits_spec(), storage=123),
     "storage: expected a folder path or URI (a str or pathlib.Path), got int 123"),
    (lambda r: r.run(digits_spec(), address=6379), "address: expected a str, got int 6379"),
    (lambda r: r.run(digits_spec(), name="a/b"), "name: 'a/b' names the run folder"),
    (lambda r: r.load(5), "run_dir: expected a folder path or URI"),
    (lambda r: r.resume(None), "run_dir: expected a folder path or URI"),
])
def test_python_arguments_of_the_wrong_kind_are_spec_errors(call, expected):
    """What the CLI's flags say, the Python API's arguments say alike: a SpecError naming the
    argument, before Ray starts (it was a TypeError or AttributeError from deep inside)."""
    import raysearch

    with pytest.raises(raysearch.SpecError) as info:
        call(raysearch)
    assert str(info.value).startswith(expected), str(info.value)


def test_a_training_function_that_cannot_take_the_config_fails_validation(tmp_path, capsys):
    """Ray Tune calls a function trainable with the trial's config: `def train():` failed in
    every trial with a TypeError; now validation says so, for a function object and for a
    file's function alike. Anything that takes one argument passes."""
    import functools

    from raysearch.errors import SpecError
    from raysearch.spec import load_spec

    def train():
        pass

    with pytest.raises(SpecError) as info:
        load_spec(digits_spec(trainable=train))
    assert str(info.value).startswith("trainable: train() cannot take the trial's config: Ray "
                                      "Tune calls a training function with one argument")
    script = tmp_path / "train.py"
    script.write_text("def train(lr, epochs):\n    pass\n")
    assert main(["validate", write(tmp_path, digits_spec(trainable=f"{script}:train"))]) == 2
    assert "trainable: train(lr, epochs) cannot take the trial's config" in \
        capsys.readouterr().err
    for fine in (lambda cfg: None, lambda *args: None, lambda config, data: None,  # data: ours
                 lambda config, *, checkpoint_every: None,
                 functools.partial(lambda x, config: None, 1)):
        assert load_spec(digits_spec(trainable=fine)).trainable is fine


def test_a_function_that_requires_data_no_one_gives_fails_before_ray(tmp_path, capsys):
    """`data` comes from a registered trainable's loader or a front-end's fit(X, y): a user's
    function that requires it otherwise failed in every trial with a TypeError."""
    script = tmp_path / "train.py"
    script.write_text("def train(config, data):\n    pass\n\n"
                      "def train_opt(config, data=None):\n    pass\n")
    spec = write(tmp_path, digits_spec(trainable=f"{script}:train"))
    assert main(["run", spec, "--storage", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("raysearch: error: trainable: train takes `data`, which this sweep "
                          "has no way to give"), err
    assert not (tmp_path / "runs").exists()  # it failed before anything ran
    from raysearch.runner.trainable import check_data_given
    from raysearch.spec import load_spec

    check_data_given(load_spec(digits_spec(trainable=f"{script}:train_opt")))  # a default
    check_data_given(load_spec(digits_spec()))  # a registered trainable: its own loader


def test_a_path_is_a_folder_as_a_str_is():
    from pathlib import Path

    from raysearch.runner import RunOptions

    assert RunOptions(storage=Path("runs") / "a").storage == "runs/a"


def test_all_problems_reported_together(tmp_path, capsys):
    spec = digits_spec(method="grd", parameters=params(lr={"min": 2.0, "max": 1.0}))
    assert main(["validate", write(tmp_path, spec)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert any(line.startswith("raysearch: error: method: unknown method 'grd'") for line in lines)
    assert any("parameters.lr: min (2) must be less than max (1)" in line for line in lines)
    assert all(line.startswith("raysearch: error: ") for line in lines) and len(lines) == 2


def test_binary_spec_file_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "model.pt"
    path.write_bytes(b"\x80\x02}q\x00(X\xff\xfe\x00binary")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "not a text (UTF-8) file" in err and "Traceback" not in err


def test_metric_given_as_a_string_is_rejected(tmp_path, capsys):
    spec = digits_spec(metric="{'goal': 'maximize', 'name': 'val_accuracy'}")
    assert main(["validate", write(tmp_path, spec)]) == 2
    assert "metric: expected a mapping, got the string" in capsys.readouterr().err


def test_notices_are_warnings_a_python_user_sees():
    import raysearch

    with pytest.warns(raysearch.RaysearchNotice, match="does not divide PBT's"):
        raysearch.load_spec(digits_spec(checkpoint={"every": 2}, scheduler={
            "type": "pbt", "perturbation_interval": 3}))


def test_errors_form_a_hierarchy():
    import raysearch

    assert issubclass(raysearch.SpecError, raysearch.RaysearchError)
    assert issubclass(raysearch.ClusterError, raysearch.RaysearchError)
    assert issubclass(raysearch.SweepFailed, raysearch.RaysearchError)
    assert issubclass(raysearch.SpecError, ValueError)  # as before: bad input is a ValueError


def test_bad_flag_is_one_line(tmp_path, capsys):
    assert main(["run", write(tmp_path, digits_spec()), "--nmae", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --nmae" in err


def test_set_needs_key_value(tmp_path, capsys):
    assert main(["validate", write(tmp_path, digits_spec()), "--set", "run_cap"]) == 2
    assert "expected key=value" in capsys.readouterr().err


def test_console_script_exit_code_and_no_traceback(tmp_path):
    """The installed entry point, as a user runs it."""
    spec = write(tmp_path, digits_spec(scheduler={"type": "asha", "grace_perod": 1}))
    proc = subprocess.run([sys.executable, "-m", "raysearch.cli", "run", spec],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "raysearch: error: scheduler.grace_perod: unknown option for scheduler 'asha' "
        "(did you mean \"grace_period\"?); allowed: brackets, grace_period, max_t, "
        "reduction_factor"]


@pytest.mark.parametrize("lr", [
    {"distribution": "uniform", "min": 0, "max": 0.1},  # a continuous draw never lands on 0
    {"distribution": "log_normal", "mu": -4, "sigma": 1},
    {"distribution": "normal", "mu": 0.01, "sigma": 0.001},  # unbounded tails: the user's call
    {"values": [0.01, 0.1]}])
def test_a_trainables_ranges_admit_what_it_takes(lr):
    from raysearch.spec import load_spec

    assert load_spec(digits_spec(parameters=params(lr=lr))).space["lr"]


def test_trainables_says_what_each_takes(capsys):
    assert main(["trainables"]) == 0
    out = capsys.readouterr().out
    mlp = out.split("digits_mlp:")[1].split("fashion_mnist_cnn:")[0]
    assert "takes: optimizer adam|sgd, lr_schedule constant|cosine, lr > 0" in mlp
    assert "batch_size >= 1" in mlp and "hidden_size >= 1" in mlp and "channels" not in mlp
    assert "needs: lr, batch_size, epochs, num_layers, hidden_size; also reads: optimizer," in mlp


def test_shipped_trainables_declare_every_parameter_they_read():
    """`needs` and `reads` (what the spec is checked against) are what the code reads: every
    `config["x"]` / `config.get("x")` / `"x" in config` in trainables/, over all of them."""
    import ast

    from raysearch.registry import TRAINABLES

    subscripted, read = set(), set()
    for path in (ROOT / "trainables").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "config":
                subscripted.add(node.slice.value)
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "get" \
                    and getattr(node.func.value, "id", None) == "config":
                read.add(node.args[0].value)
            elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In) \
                    and getattr(node.comparators[0], "id", None) == "config":
                read.add(node.left.value)
    shipped = [e.facts for e in TRAINABLES if e.target.startswith("trainables.")]
    assert len(shipped) == 3 and all(f.reads and set(f.needs) <= set(f.reads) for f in shipped)
    assert set().union(*(f.reads for f in shipped)) == subscripted | read
    assert set().union(*(f.needs for f in shipped)) <= subscripted


def test_output_cut_short_by_its_reader_ends_quietly():
    """`raysearch trainables | head -1`: the reader closes the pipe; no traceback, and the
    shell's convention for it (141), as `cat` and friends do."""
    import os

    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command writes: whenever it writes
    proc = subprocess.run([sys.executable, "-m", "raysearch", "trainables"], cwd=ROOT,
                          stdout=write, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write)
    assert proc.returncode == 141 and "Traceback" not in proc.stderr, proc.stderr


def test_a_null_option_means_its_default():
    from raysearch.spec import load_spec

    sweep = load_spec(digits_spec(scheduler={"type": "asha", "grace_period": None},
                                  method="hyperopt", searcher={"gamma": None}))
    assert "grace_period" not in sweep.scheduler.options and sweep.searcher == {}
