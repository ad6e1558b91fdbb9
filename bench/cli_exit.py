"""The seconds between `raysearch run`'s last line and the shell's prompt (BENCHMARKS.md §8).

    python -m bench.cli_exit --repeat 6 --out bench/results/cli_exit.json

Each repeat runs `raysearch run SPEC --quiet` (default `examples/digits.yaml`) in a fresh
process twice, the order alternated: once as the command ends (`raysearch.cli.console`:
`main`, then its objects frozen out of Python's last garbage collection) and once as a plain
`sys.exit(main())`, as the command ended before. The child notes the moment `main` returned;
the parent, the moment the process was gone. Both runs use this tree, so no second checkout is
needed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.order import side_by_side
from bench.output import save

ROOT = Path(__file__).resolve().parent.parent
CHILD = r"""
import sys, time
from raysearch import cli
if sys.argv.pop(1) == "console":  # the rest is the command line main reads
    cli.main = lambda main=cli.main: (main(), print("RETURNED", time.time(), flush=True))[0]
    cli.console()
code = cli.main()
print("RETURNED", time.time(), flush=True)
sys.exit(code)
"""
WAYS = ("console", "plain exit")


def one(way: str, spec: str, storage: str) -> float:
    """Seconds from `main`'s return to the process's end."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, way.split()[0], "run", spec,
                             "--quiet", "--storage", storage], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True,
                            env={k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"})
    out, _ = proc.communicate()
    ended = time.time()
    if proc.returncode != 0:
        raise SystemExit(f"{way}: raysearch run failed ({proc.returncode})")
    (returned,) = [float(line.split()[1]) for line in out.splitlines()
                   if line.startswith("RETURNED")]
    return ended - returned


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "cli_exit.json"))
    parser.add_argument("--spec", default=str(ROOT / "examples" / "digits.yaml"))
    parser.add_argument("--storage", default=None, help="run folders (default: a temporary one)")
    args = parser.parse_args()
    runs: dict[str, list[float]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory() as tmp:
        for _, way in side_by_side(range(args.repeat), WAYS):
            runs[way].append(one(way, args.spec, args.storage or tmp))
    summary = {way: {"median": statistics.median(v), "min": min(v), "max": max(v)}
               for way, v in runs.items()}
    for way, s in summary.items():
        print(f"{way:>10}: main returned -> process gone {s['median']:.2f} s "
              f"(min {s['min']:.2f}, max {s['max']:.2f})")
    save({"repeat": args.repeat, "runs": runs, "summary": summary}, Path(args.out))


if __name__ == "__main__":
    main()
