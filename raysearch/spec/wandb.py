"""W&B Sweeps keys that need translating (beyond the shared parameter grammar).

`early_terminate: {type: hyperband, ...}` becomes the `wandb_hyperband` scheduler: W&B's own
rule (its bands, thresholds and `strict`), see `schedulers/wandb_hyperband.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from raysearch.errors import did_you_mean, one_of

EARLY_TERMINATE_KEYS = ("type", "min_iter", "max_iter", "s", "eta", "strict")


def early_terminate_to_scheduler(value: Any, problems: list[str], notices: list[str]) -> dict:
    """The `scheduler` block equivalent to a W&B `early_terminate` block: W&B's own Hyperband
    rule (`wandb_hyperband`, in the `schedulers` package)."""
    if not isinstance(value, Mapping):
        problems.append(f"early_terminate: expected {{type: hyperband, min_iter: 3}}, got {value!r}")
        return {"type": "fifo"}
    for key in value:
        if key not in EARLY_TERMINATE_KEYS:
            problems.append(f"early_terminate.{key}: unknown key"
                            f"{did_you_mean(key, EARLY_TERMINATE_KEYS)}; "
                            f"allowed: {one_of(EARLY_TERMINATE_KEYS)}")
    if value.get("type") != "hyperband":
        problems.append(f"early_terminate.type: W&B supports only hyperband, got "
                        f"{value.get('type')!r}")
        return {"type": "fifo"}
    eta = value.get("eta", 3)
    if not isinstance(eta, int | float) or isinstance(eta, bool) or eta <= 1:
        problems.append(f"early_terminate.eta: expected a number > 1, got {eta!r}")
        return {"type": "fifo"}
    out: dict[str, Any] = {"type": "wandb_hyperband", "eta": eta}
    if "max_iter" in value and ("s" in value or "min_iter" not in value):
        # W&B uses max_iter and s when they are given, even beside min_iter
        out["max_iter"] = _iteration(value, "max_iter", problems)
        s = value.get("s")
        if not isinstance(s, int) or isinstance(s, bool) or s < 1:
            problems.append(f"early_terminate.s: with max_iter, W&B needs s (number of "
                            f"brackets) as an integer >= 1, got {s!r}")
            return {"type": "fifo"}
        out["s"] = s
        if out["max_iter"] / eta < 1:
            problems.append(f"early_terminate: max_iter {out['max_iter']} / eta {eta} is below "
                            f"1: no band to judge at; raise max_iter or lower eta")
    elif "min_iter" in value:
        out["min_iter"] = _iteration(value, "min_iter", problems)
    else:
        problems.append("early_terminate: hyperband needs min_iter, or max_iter with s")
    if "strict" in value:
        if not isinstance(value["strict"], bool):
            problems.append(f"early_terminate.strict: expected true or false, got "
                            f"{value['strict']!r}")
        else:
            out["strict"] = value["strict"]
    return out


def _iteration(value: Mapping, key: str, problems: list[str]) -> int:
    n = value.get(key)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        problems.append(f"early_terminate.{key}: expected an integer >= 1, got {n!r}")
        return 1
    return n


# ------------------------------------------------------------------ program / command

PROGRAM_TRAINABLE = "raysearch.wandb.program:run_program"  # runs `command` as each trial
DEFAULT_COMMAND = ("${env}", "${interpreter}", "${program}", "${args}")
MACROS = ("${env}", "${interpreter}", "${program}", "${args}", "${args_no_hyphens}",
          "${args_no_boolean_flags}", "${args_json}", "${args_json_file}")


def check_program(program: Any, command: Any, problems: list[str]) -> tuple[str, tuple] | None:
    """`program` (a file that exists) and `command` (a list of strings, W&B's macros known):
    the pair a program trial runs, or None after adding the problems."""
    from pathlib import Path

    ok = True
    if not isinstance(program, str) or not program:
        problems.append(f"program: expected the path of your training script, got {program!r}")
        ok = False
    elif not Path(program).is_file():
        problems.append(f"program: {program}: no such file (a relative path is taken from the "
                        f"spec file's folder)")
        ok = False
    if command is None:
        return (program, DEFAULT_COMMAND) if ok else None
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command) \
            or not command:
        problems.append(f"command: expected a list of strings such as {list(DEFAULT_COMMAND)}, "
                        f"got {command!r}")
        return None
    for part in command:
        if part.startswith("${") and part.endswith("}") and part not in MACROS:
            problems.append(f"command: unknown macro {part}{did_you_mean(part, MACROS)}; "
                            f"W&B's macros: {one_of(MACROS)}")
            ok = False
    return (program, tuple(command)) if ok else None


def command_line(command: tuple, program: str, config: Mapping[str, Any], interpreter: str,
                 args_json_file: str | None = None) -> list[str]:
    """The argv of one trial, as W&B's agent builds it: `--key=value` per parameter under
    `${args}` (str() of the value), `key=value` under `${args_no_hyphens}`, a false boolean
    left out under `${args_no_boolean_flags}`, the dict as JSON under `${args_json}`."""
    import json

    def flags(hyphens: bool = True, booleans: bool = True) -> list[str]:
        out = []
        for key, value in config.items():
            if not booleans and isinstance(value, bool):
                if value:
                    out.append(f"--{key}")
                continue
            out.append(f"{'--' if hyphens else ''}{key}={value}")
        return out

    expand = {"${env}": ["/usr/bin/env"], "${interpreter}": [interpreter],
              "${program}": [program], "${args}": flags(),
              "${args_no_hyphens}": flags(hyphens=False),
              "${args_no_boolean_flags}": flags(booleans=False),
              "${args_json}": [json.dumps(dict(config))],
              "${args_json_file}": [args_json_file or ""]}
    argv: list[str] = []
    for part in command:
        argv += expand.get(part, [part])
    return argv


# ------------------------------------------------------------------ W&B-only keys

# Keys of W&B's sweep schema with no raysearch equivalent: accepted, each with what raysearch
# does instead (one notice).
WANDB_ONLY = {
    "project": "results go to the run folder, not a W&B project",
    "entity": "results go to the run folder, not a W&B entity",
    "controller": "raysearch's driver is the sweep's controller",
    "job": "a W&B Launch job: raysearch runs `program` (or `trainable`) as each trial",
    "image_uri": "a W&B Launch image: raysearch runs `program` (or `trainable`) on Ray's nodes",
    "apiVersion": "not needed",
    "kind": "not needed",
}
METRIC_WANDB_ONLY = {
    "impute": "a failed trial tells the searcher nothing, as with Ray Tune's searchers",
    "impute_while_running": "searchers learn from finished trials; schedulers from every "
                            "reported result",
}


def wandb_only_notices(raw: Mapping) -> list[str]:
    """One notice per W&B-only key given (top level and in `metric`)."""
    notices = [f"{key}: W&B-only key, ignored ({what})" for key, what in WANDB_ONLY.items()
               if key in raw]
    metric = raw.get("metric")
    if isinstance(metric, Mapping):
        notices += [f"metric.{key}: W&B-only key, ignored ({what})"
                    for key, what in METRIC_WANDB_ONLY.items() if key in metric]
    return notices


def split_scheduler(value: Any, method: Any, problems: list[str],
                    notices: list[str]) -> Any:
    """W&B's own `scheduler:` block (`engine: wandb | optuna | ax`, for W&B Launch) shares its
    name with raysearch's (`type: asha ...`): told apart by `engine`. W&B's is accepted with a
    notice and the sweep runs without a raysearch scheduler; returns raysearch's block."""
    if not isinstance(value, Mapping) or "engine" not in value or "type" in value:
        return value
    engine = value.get("engine")
    if engine == "wandb":
        notices.append("scheduler.engine: wandb is W&B Launch's own scheduler, ignored: "
                       f"raysearch runs method {method} on Ray (add `type:` to the scheduler "
                       "block for one of raysearch's: asha, hyperband, median, pbt)")
    else:
        problems.append(f"scheduler.engine: {engine!r} runs a custom optimizer in W&B Launch "
                        f"(method: custom); raysearch runs Optuna itself: use method: optuna, "
                        f"or raysearch.optuna.optimize(study, objective) for your own study")
    return None
