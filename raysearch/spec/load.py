"""Where specs come from: a YAML file, a dict, `--set key=value` overrides."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from raysearch.errors import SpecError
from raysearch.spec.sweep import Sweep, parse_sweep


def read_yaml(path: str | Path) -> dict:
    """A spec file as a dict; a missing, unreadable or malformed file is a one-line SpecError."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such spec file")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not a text (UTF-8) file: byte {exc.start} is "
                        f"{exc.object[exc.start:exc.start + 1]!r}; a spec is YAML") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read it: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise SpecError(f"{path}: invalid YAML: nested too deeply") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a spec is a YAML mapping (key: value lines), got "
                        f"{_short(data)}")
    return with_program_path(data, path.resolve().parent)


def apply_sets(raw: Mapping, assignments: list[str]) -> dict:
    """`--set a.b=value`: YAML-typed values at dotted paths, on a copy of `raw`."""
    out = yaml.safe_load(yaml.safe_dump(dict(raw))) if raw else {}
    for item in assignments:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise SpecError(f"--set {item!r}: expected key=value, e.g. --set run_cap=4")
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SpecError(f"--set {item!r}: {part} is not a mapping in the spec")
        try:
            node[leaf] = yaml.safe_load(text)
        except yaml.YAMLError:
            raise SpecError(f"--set {item!r}: the value is not valid YAML") from None
    return out


def load_spec(source: str | Path | Mapping | Sweep) -> Sweep:
    """A Sweep from a YAML path, a dict, or a Sweep (returned as is)."""
    if isinstance(source, Sweep):
        return source
    raw = read_yaml(source) if isinstance(source, str | Path) else source
    return parse_sweep(raw)


def with_program_path(raw: Mapping, folder: Path) -> dict:
    """A W&B sweep's `program` is relative to the spec file's folder (W&B runs it there):
    made absolute, so that a trial and a resume find it from anywhere."""
    raw = dict(raw)
    program = raw.get("program")
    if isinstance(program, str) and program and not Path(program).is_absolute():
        raw["program"] = str(folder / program)
    return raw


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
