"""Time to a good model, side by side: every contender (bench/contenders.py) in a fresh
process, timed from the moment the race starts that process (imports, Ray's start and data
loading count, as a user waits for them), over several seeds, one after another on one
machine; plus the tutorial's sequential grid (../shared/anchors/seed_grid.py), once: it has
no seed and no search.

    python -m bench.race --seeds 0 1 2 3 4 --budget 300 \\
        --out bench/results/race.json --plot bench/race.png

Reported per contender: medians over seeds (min-max) of the time to the first result, to each
validation accuracy in THRESHOLDS and of the best accuracy at each of CHECKPOINTS seconds.
The raw events of every run are kept in the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.contenders import CONTENDERS, available
from bench.order import side_by_side
from bench.output import save

ROOT = Path(__file__).resolve().parent.parent
ANCHOR = ROOT.parent / "shared" / "anchors" / "seed_grid.py"
GRID = "tutorial grid (once)"
# the four, and higher ones: on a validation set carved from the training images
# (not the official test set, as the tutorial measured) the four are reached within seconds
THRESHOLDS = (0.86, 0.87, 0.875, 0.88, 0.89, 0.895, 0.9)
CHECKPOINTS = (30, 60, 150, 300)
GRACE_S = 60  # for a contender to shut down after its budget before it is killed


def _stop(proc: subprocess.Popen) -> None:
    """The contender's whole process group: its Ray, its trial processes."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=15)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def run_contender(name: str, seed: int, budget: float, folder: Path) -> dict:
    """One contender, one seed: its events as (seconds since process start, accuracy)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
    events, log = folder / f"{slug}-{seed}.jsonl", folder / f"{slug}-{seed}.log"
    with open(log, "w") as out:
        t0 = time.time()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.contenders", name, "--seed", str(seed),
             "--budget", str(budget), "--t0", repr(t0), "--events", str(events)],
            # in its own folder: Syne Tune leaves files (std.out) in the working directory
            cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=budget + GRACE_S)
        except subprocess.TimeoutExpired:
            _stop(proc)
        ended = time.time() - t0
    lines = events.read_text().splitlines() if events.exists() else []
    raw = sorted((round(e["t"] - t0, 3), e["acc"]) for e in map(json.loads, lines))
    if proc.returncode not in (0, None) and not raw:
        raise RuntimeError(f"{name} (seed {seed}) failed, rc {proc.returncode}:\n"
                           + log.read_text()[-3000:])
    return {"seed": seed, "rc": proc.returncode, "process_s": round(ended, 1),
            "received": len(raw), "events": [e for e in raw if e[0] <= budget]}


def run_grid(budget: float, epochs: int, folder: Path) -> dict:
    """The tutorial's grid as it is, its per-epoch accuracies read as it prints them."""
    from bench.throughput import unpacked_fashion_mnist

    data = unpacked_fashion_mnist(folder / "data")
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, str(ANCHOR), str(data), str(folder / "grid.json"),
                             str(epochs)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    raw = []
    for line in proc.stdout:
        now = time.time() - t0
        found = re.search(r"epoch \d+: val_acc=([0-9.]+)", line)
        if found:
            raw.append((round(now, 3), float(found.group(1))))
        if now > budget:
            break
    _stop(proc)
    return {"seed": None, "rc": proc.returncode, "events": [e for e in raw if e[0] <= budget]}


def best_so_far(events: list) -> list[tuple[float, float]]:
    curve, best = [], float("-inf")
    for t, acc in events:
        if acc > best:
            best = acc
            curve.append((t, acc))
    return curve


def _spread(values: list[float | None]) -> dict:
    """Median and range over seeds; a seed that never got there counts as infinitely late."""
    reached = sorted(v for v in values if v is not None)
    ordered = reached + [float("inf")] * (len(values) - len(reached))
    median = statistics.median(ordered) if ordered else float("inf")
    return {"median": None if median == float("inf") else round(median, 4),
            "min": reached[0] if reached else None, "max": reached[-1] if reached else None,
            "reached": len(reached), "of": len(values)}


def summarise(runs: list[dict], budget: float) -> dict:
    curves = [best_so_far(r["events"]) for r in runs]
    firsts = [r["events"][0][0] if r["events"] else None for r in runs]
    row = {"first_result_s": _spread(firsts)}
    for threshold in THRESHOLDS:
        row[f"to_{threshold}_s"] = _spread([next((t for t, a in c if a >= threshold), None)
                                            for c in curves])
    for at in (c for c in CHECKPOINTS if c <= budget):
        row[f"best_at_{at}_s"] = _spread([max((a for t, a in c if t <= at), default=None)
                                          for c in curves])
    row["results_per_run"] = statistics.median(len(r["events"]) for r in runs)
    return row


def _cell(spread: dict, digits: int) -> str:
    if spread["median"] is None:
        return f"never ({spread['of'] - spread['reached']} of {spread['of']})"
    text = f"{spread['median']:.{digits}f}"
    if spread["of"] > 1:
        text += f" ({spread['min']:.{digits}f}-{spread['max']:.{digits}f})"
        if spread["reached"] < spread["of"]:
            text += f", {spread['of'] - spread['reached']} never"
    return text


def table(results: dict) -> str:
    """BENCHMARKS.md's table: medians over seeds (min-max)."""
    keys = ["first_result_s", *(f"to_{t}_s" for t in THRESHOLDS),
            *(f"best_at_{c}_s" for c in CHECKPOINTS if c <= results["budget_s"])]
    heads = ["first result", *(f"to {t}" for t in THRESHOLDS),
             *(f"best at {c} s" for c in CHECKPOINTS if c <= results["budget_s"])]
    lines = ["| s from process start | " + " | ".join(heads) + " |",
             "|---" * (len(heads) + 1) + "|"]
    for name, row in results["summary"].items():
        cells = [_cell(row[k], 4 if k.startswith("best") else 1) for k in keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 6))
    colours = plt.get_cmap("tab10")
    for i, (name, runs) in enumerate(results["runs"].items()):
        for j, run in enumerate(runs):
            curve = best_so_far(run["events"])
            if not curve:
                continue
            xs, ys = zip(*curve, strict=True)
            ax.step([*xs, results["budget_s"]], [*ys, ys[-1]], where="post", color=colours(i),
                    alpha=0.8, linewidth=1.8 if name.startswith("raysearch") else 1.0,
                    label=name if j == 0 else None)
    for threshold in THRESHOLDS:
        ax.axhline(threshold, color="grey", linestyle=":", linewidth=0.8)
    ax.set_xlabel("seconds from process start")
    ax.set_ylabel("best validation accuracy so far")
    ax.set_ylim(0.84, 0.90)
    ax.set_title(f"Fashion-MNIST MLP, 2 CPU cores, every seed, {results['date']}")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300, help="seconds per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--contenders", nargs="*", default=available(),
                        choices=sorted(CONTENDERS), metavar="NAME",
                        help="default: every contender whose package is installed")
    parser.add_argument("--grid", action="store_true", help="also run the tutorial's grid once")
    parser.add_argument("--epochs", type=int, default=5, help="the grid's epochs")
    parser.add_argument("--keep", type=Path, help="keep every run's events and log here")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()

    runs: dict[str, list[dict]] = {name: [] for name in args.contenders}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if args.grid:
            runs[GRID] = [run_grid(args.budget, args.epochs, folder)]
        for seed, name in side_by_side(args.seeds, args.contenders):
            run = run_contender(name, seed, args.budget, folder)
            runs[name].append(run)
            best = max((a for _, a in run["events"]), default=None)
            print(f"seed {seed} {name:28s} {len(run['events']):4d} results, best {best}",
                  flush=True)
    results = {"date": time.strftime("%Y-%m-%d"), "budget_s": args.budget,
               "seeds": args.seeds, "cpus": os.cpu_count(),
               "summary": {name: summarise(r, args.budget) for name, r in runs.items() if r},
               "runs": runs}
    print(table(results), flush=True)
    save(results, args.out)
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
