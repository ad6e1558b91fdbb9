"""`raysearch run | resume | report | validate | trainables`.

Exit codes: 0 success; 1 the sweep ran but failed (every trial errored); 2 bad input (spec,
path, flag, a cluster that cannot run it), one problem per line with no traceback.
Notices (`RaysearchNotice` warnings) print as `raysearch: note: ...` lines.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from raysearch.errors import ClusterError, RaysearchNotice, SpecError, SweepFailed, SweepInterrupted
from raysearch.log import set_verbosity

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        raise SpecError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    from raysearch import __version__

    parser = _Parser(prog="raysearch", description="Hyperparameter search for PyTorch on Ray Tune.")
    parser.add_argument("--version", action="version", version=f"raysearch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def spec_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("spec", help="sweep spec (YAML; a W&B sweep file works)")
        p.add_argument("--trainable", help="registered name, 'module:function' or "
                                           "'path/to/file.py:function' (overrides the spec)")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a spec field, dotted for nesting (repeatable), "
                            "e.g. --set run_cap=4 --set scheduler.max_t=3")
        p.add_argument("--num-samples", type=int, metavar="N", help="number of trials (run_cap)")

    run = sub.add_parser("run", help="run a sweep")
    spec_args(run)
    run.add_argument("--address", help="Ray cluster to use: auto, HOST:6379 or ray://HOST:10001 "
                                       "(default: RAY_ADDRESS, else an embedded local Ray)")
    run.add_argument("--storage", default="runs",
                     help="where run folders go: a path or a URI such as s3://bucket/dir "
                          "(default: ./runs)")
    run.add_argument("--name", help="the sweep's name: run folder prefix, summary, report, "
                                    "trackers (default: the spec's name)")
    run.add_argument("--autoscaling", action="store_true",
                     help="the cluster adds nodes on demand: accept per-trial resources it "
                          "does not have yet")
    _output_args(run)

    resume = sub.add_parser("resume", help="continue an interrupted sweep")
    resume.add_argument("run_dir")
    resume.add_argument("--address", help="Ray cluster to use (as for run)")
    _output_args(resume)

    report = sub.add_parser("report", help="print a run folder's summary, (re)write report.html")
    report.add_argument("run_dir")
    report.add_argument("--serve", action="store_true",
                        help="serve the report over HTTP, rebuilt from the tables at each "
                             "request and reloading while the sweep runs (watch a long sweep)")
    report.add_argument("--port", type=int, default=8765, help="port for --serve (8765)")
    report.add_argument("--host", default="127.0.0.1",
                        help="address for --serve (127.0.0.1; 0.0.0.0 to share it)")

    export = sub.add_parser("export", help="write a run folder for another tool: an Optuna "
                                           "study (optuna-dashboard opens it)")
    export.add_argument("run_dir")
    export.add_argument("--optuna", required=True, metavar="STORAGE",
                        help="Optuna storage to write the study into: sqlite:///study.db, any "
                             "RDB URL, or a journal file path (.log)")
    export.add_argument("--study-name", help="the new study's name (default: the sweep's "
                                             "name); an existing study is never overwritten")

    runs = sub.add_parser("runs", help="list the run folders in a storage: state (finished, "
                                       "interrupted: resume it), trials, best value")
    runs.add_argument("storage", nargs="?", default="runs",
                      help="where the run folders are: a path or URI (default: ./runs)")

    evaluate = sub.add_parser("evaluate", help="the best trial's checkpoint on the trainable's "
                                               "held-out test set, into summary.json")
    evaluate.add_argument("run_dir")

    validate = sub.add_parser("validate", help="check a spec without starting Ray")
    spec_args(validate)

    sub.add_parser("trainables", help="list registered trainables")

    opt = sub.add_parser("optuna", help="run an Optuna objective(trial) on Ray (a new study, or "
                                        "one continued from --storage)")
    opt.add_argument("objective", help="'path/to/file.py:objective' or 'module:objective'")
    opt.add_argument("--n-trials", type=int, metavar="N", help="trials to run (default: until "
                                                               "--timeout or Ctrl-C)")
    opt.add_argument("--timeout", type=float, metavar="S", help="start no trial after S seconds")
    opt.add_argument("--direction", action="append", metavar="DIR",
                     help="minimize (default) or maximize; repeat for a multi-objective study")
    opt.add_argument("--storage", help="Optuna storage URL (sqlite:///study.db, ...): the "
                                       "study is kept there and continued if it exists")
    opt.add_argument("--study-name", help="the study's name (needed to continue one)")
    opt.add_argument("--sampler", choices=sorted(OPTUNA_SAMPLERS),
                     help="default: Optuna's (TPE; NSGA-II for several objectives)")
    opt.add_argument("--pruner", choices=sorted(OPTUNA_PRUNERS),
                     help="default: Optuna's (median)")
    opt.add_argument("--seed", type=int, help="the sampler's seed")
    opt.add_argument("--max-concurrent", type=int, metavar="N", help="trials at once")
    opt.add_argument("--cpu", type=float, default=1, help="CPUs per trial (default 1)")
    opt.add_argument("--gpu", type=float, default=0, help="GPUs per trial, fractions pack trials "
                                                          "on one GPU (default 0)")
    opt.add_argument("--address", help="Ray cluster to use (as for run)")
    opt.add_argument("--runs", default="runs", help="where the run folder goes (default ./runs)")
    opt.add_argument("--name", help="the run's name (default: the study's)")
    _output_args(opt)
    return parser


OPTUNA_SAMPLERS = {"tpe": "TPESampler", "random": "RandomSampler", "cmaes": "CmaEsSampler",
                   "gp": "GPSampler", "nsgaii": "NSGAIISampler", "qmc": "QMCSampler"}
OPTUNA_PRUNERS = {"median": "MedianPruner", "none": "NopPruner", "hyperband": "HyperbandPruner",
                  "successive_halving": "SuccessiveHalvingPruner",
                  "percentile": "PercentilePruner"}


def _output_args(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    group.add_argument("--verbose", action="store_true",
                       help="also show trials' output and Ray's logs")


def main(argv: Sequence[str] | None = None) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("always", RaysearchNotice)
        warnings.showwarning = _show_notice
        try:
            args = build_parser().parse_args(argv)
            set_verbosity(logging.DEBUG if getattr(args, "verbose", False) else logging.INFO)
            return COMMANDS[args.command](args)
        except (SpecError, ClusterError) as exc:
            _print_problems(exc.problems)
            return EXIT_BAD_INPUT
        except SweepFailed as exc:
            if exc.result is not None:
                from raysearch.report import summary

                print(summary(exc.result))
            _print_problems(exc.problems)
            return EXIT_FAILED
        except SweepInterrupted as exc:
            print(f"raysearch: {exc}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            print("raysearch: interrupted", file=sys.stderr)
            return 130


def console() -> NoReturn:
    """The `raysearch` command (and `python -m raysearch`): `main`, then the exit. After a sweep
    the process holds torch's, Ray's and pyarrow's objects, and Python's finalisation would
    walk them all with its garbage collector (~1 s, measured: BENCHMARKS.md §8) before the
    shell gets its prompt back. They are frozen out of that collection instead (`gc.freeze`):
    atexit handlers still run and objects still go when their last reference does; only
    garbage in reference cycles is left to the operating system, as `os._exit` would leave
    everything. A reader that stops early (`raysearch trainables | head`) ends the output
    quietly, as the shell's own tools do, with their exit status (141: SIGPIPE)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the pipe again when it flushes stdout at exit: point it nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 128 + signal.SIGPIPE
    gc.freeze()
    sys.exit(code)


def _print_problems(problems: list[str]) -> None:
    for problem in problems:
        print(f"raysearch: error: {problem}", file=sys.stderr)


_show_warning = warnings.showwarning


def _show_notice(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    if issubclass(category, RaysearchNotice):
        print(f"raysearch: note: {message}", file=sys.stderr)
    else:
        _show_warning(message, category, filename, lineno, file, line)


def _sweep(args: argparse.Namespace):
    from raysearch.spec import apply_sets, parse_sweep, read_yaml

    raw = apply_sets(read_yaml(args.spec), args.set)
    if args.trainable:
        raw["trainable"] = args.trainable
    if args.num_samples is not None:
        raw.pop("num_samples", None)
        raw["run_cap"] = args.num_samples
    return parse_sweep(raw)


def cmd_run(args: argparse.Namespace) -> int:
    from raysearch.runner import RunOptions, run_sweep

    sweep = _sweep(args)
    options = RunOptions(address=args.address, storage=args.storage, name=args.name,
                         progress_every_s=None if args.quiet else 10.0, verbose=args.verbose,
                         autoscaling=args.autoscaling)
    print(f"raysearch: {args.name or sweep.name}: {sweep.method} search, {sweep.run_cap} trials, "
          f"scheduler {sweep.scheduler.type}, {sweep.describe_metric()}", flush=True)
    return _finished(run_sweep(sweep, options))


def _finished(result) -> int:  # noqa: ANN001 - a SweepResult
    """The summary on stdout; when nothing usable came out, one line per trial on stderr."""
    from raysearch.report import summary

    print(summary(result))
    _print_problems(result.failures)
    return EXIT_FAILED if result.failed else EXIT_OK


def cmd_resume(args: argparse.Namespace) -> int:
    from raysearch.runner import RunOptions, resume_sweep

    return _finished(resume_sweep(args.run_dir, RunOptions(
        address=args.address, progress_every_s=None if args.quiet else 10.0,
        verbose=args.verbose)))


def cmd_report(args: argparse.Namespace) -> int:
    from raysearch.report import summary, write_report
    from raysearch.results import load

    result = load(args.run_dir)
    if args.serve:
        from raysearch.report.serve import report_server

        server = report_server(result.path, args.host, args.port)
        host, port = server.server_address[:2]
        print(f"raysearch: serving the live report of {result.path} at http://{host}:{port}/ "
              f"(Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        return EXIT_OK
    write_report(result)
    print(summary(result))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from raysearch.results import load
    from raysearch.results.optuna_export import export_to_optuna

    study = export_to_optuna(load(args.run_dir), args.optuna, args.study_name)
    print(f"raysearch: wrote study {study.study_name!r} ({len(study.trials)} trials) to "
          f"{args.optuna}; open it with: optuna-dashboard {args.optuna}")
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    from raysearch.results.listing import format_listing, list_runs

    runs = list_runs(args.storage)
    if not runs:
        print(f"raysearch: no run folders in {args.storage}")
        return EXIT_OK
    print(format_listing(runs))
    if any(run.resumable for run in runs):
        print("continue an interrupted, failed, stopped or killed sweep with: raysearch resume "
              "RUN_DIR")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from raysearch.report import write_report
    from raysearch.report.summary import test_line
    from raysearch.results import load
    from raysearch.runner.pipeline import record_test

    result = load(args.run_dir)
    test = record_test(result)
    if test is None:
        raise SpecError(f"{args.run_dir}: nothing to evaluate: the trainable has no held-out "
                        f"test evaluation (TRAINABLES' evaluate), or no checkpoint of the best "
                        f"trial is left")
    write_report(load(args.run_dir))
    print(test_line(test))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from raysearch.spec.space import describe_space

    sweep = _sweep(args)
    print(f"{args.spec}: ok: {sweep.method} search over {len(sweep.params())} parameters, "
          f"{sweep.run_cap} trials, scheduler {sweep.scheduler.type}, {sweep.describe_metric()}")
    rows = describe_space(sweep.space)
    width = max(len(name) for name, _ in rows)
    for name, text in rows:
        print(f"  {name:<{width}}  {text}")
    if sweep.program:
        from raysearch.spec.wandb import command_line

        example = {p.path.removeprefix("parameters."): p.value if p.value is not None else p.values[0]
                   if p.values else p.min for p in sweep.params()}
        print(f"program: {sweep.program} (each trial runs it in {os.path.dirname(sweep.program)})")
        print("one trial's command: " + " ".join(
            command_line(sweep.command, sweep.program, example, "python", "CONFIG.json")))
    return EXIT_OK


def cmd_optuna(args: argparse.Namespace) -> int:
    import optuna

    import raysearch.optuna
    from raysearch.spec.targets import resolve_trainable

    problems = []
    directions = args.direction or ["minimize"]
    bad = [d for d in directions if d not in ("minimize", "maximize")]
    if bad:
        problems.append(f"--direction: expected minimize or maximize, got {bad[0]!r}")
    if ":" not in args.objective:
        problems.append(f"objective: give 'path/to/file.py:objective' or 'module:objective', "
                        f"got {args.objective!r}")
    if problems:
        raise SpecError(problems)
    objective = resolve_trainable(args.objective, "objective").function
    sampler = None
    if args.sampler or args.seed is not None:
        name = OPTUNA_SAMPLERS[args.sampler or ("nsgaii" if len(directions) > 1 else "tpe")]
        sampler = getattr(optuna.samplers, name)(seed=args.seed)
    pruner = getattr(optuna.pruners, OPTUNA_PRUNERS[args.pruner])() if args.pruner else None
    try:
        study = optuna.create_study(storage=args.storage, study_name=args.study_name,
                                    directions=directions, sampler=sampler, pruner=pruner,
                                    load_if_exists=args.study_name is not None)
    except Exception as exc:  # a storage URL Optuna cannot open, a direction mismatch ...
        raise SpecError(f"--storage: {type(exc).__name__}: {exc}") from None
    from raysearch.runner import RunOptions

    return _finished(raysearch.optuna.run_study(
        study, objective, n_trials=args.n_trials, timeout=args.timeout,
        resources={"cpu": args.cpu, "gpu": args.gpu}, max_concurrent=args.max_concurrent,
        options=RunOptions(address=args.address, storage=args.runs, name=args.name,
                           progress_every_s=None if args.quiet else 10.0,
                           verbose=args.verbose)))


def cmd_trainables(args: argparse.Namespace) -> int:
    from raysearch.registry import TRAINABLES
    from raysearch.schema import describe_range
    from raysearch.spec.space import describe_space, parse_parameters

    for entry in TRAINABLES:
        info = entry.facts
        print(f"{entry.name}: {info.description}")
        if info.metric is not None:
            print(f"  objective: {info.metric.name} ({info.metric.goal}); "
                  f"reports: {', '.join(info.metrics)}")
        space, _ = parse_parameters(info.default_parameters or {})
        for name, text in describe_space(space):
            print(f"  {name}: {text}")
        takes = [f"{name} {'|'.join(map(str, values))}"
                 for name, values in (info.choices or {}).items()]
        takes += [f"{name} {describe_range(rules)}" for name, rules in (info.ranges or {}).items()]
        if takes:
            print(f"  takes: {', '.join(takes)}")
        if info.needs:
            print(f"  needs: {', '.join(info.needs)}"
                  + (f"; also reads: {', '.join(n for n in info.reads if n not in info.needs)}"
                     if info.reads else ""))
    return EXIT_OK


COMMANDS = {"run": cmd_run, "resume": cmd_resume, "report": cmd_report, "export": cmd_export,
            "evaluate": cmd_evaluate, "runs": cmd_runs,
            "validate": cmd_validate, "trainables": cmd_trainables, "optuna": cmd_optuna}

if __name__ == "__main__":
    sys.exit(main())
