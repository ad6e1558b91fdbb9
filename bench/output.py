"""Where every benchmark's figures go: a JSON file (bench/results/*.json for BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path


def save(result: dict, path: Path | None) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
