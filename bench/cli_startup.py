"""Start-up cost of the commands that need no Ray: wall time and peak memory of
`raysearch validate SPEC` and `raysearch trainables`, each in a fresh process, median of N.

    python -m bench.cli_startup --repeat 5 --out bench/results/cli_startup.json

Target (BENCHMARKS.md): under 0.5 s and 150 MiB for a registered trainable.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.output import save

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "validate": ["validate", str(ROOT / "examples" / "quickstart.yaml")],
    "trainables": ["trainables"],
}


def measure(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one `python -m raysearch ARGS` process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "raysearch", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"raysearch {' '.join(args)} failed")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = {}
    for name, argv in COMMANDS.items():
        runs = [measure(argv) for _ in range(args.repeat)]
        walls, peaks = [w for w, _ in runs], [m for _, m in runs]
        rows[name] = {"wall_s_median": statistics.median(walls), "wall_s": walls,
                      "peak_mib_median": statistics.median(peaks), "peak_mib": peaks}
        print(f"{name}: {rows[name]['wall_s_median']:.2f} s, "
              f"{rows[name]['peak_mib_median']:.0f} MiB (median of {args.repeat})")
    save({"repeat": args.repeat, "commands": rows}, args.out)


if __name__ == "__main__":
    main()
