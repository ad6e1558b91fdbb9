"""A known-good copy of Ray Tune's experiment state, for resume after a full disk.

Tune uploads its experiment state to the run folder non-atomically, so a full disk can leave
the only copy truncated (seen: `experiment_state-*.json` cut at a block boundary), and
`Tuner.restore` then fails or restores trials wrongly. After each table flush that succeeded,
the recorder copies Tune's state files that parse into `.raysearch-state/` (atomically); on
resume, a state file that does not parse is replaced by its last good copy before Tune reads it.
"""

from __future__ import annotations

import json

import pyarrow.fs as pafs

from raysearch.results import storage

BACKUP = ".raysearch-state"
PATTERNS = ("experiment_state-", "basic-variant-state-", "searcher-state-")


def _state_files(run_dir: str) -> list[str]:
    fs, path = storage.filesystem(run_dir)
    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    return [i.base_name for i in infos if i.type == pafs.FileType.File
            and (i.base_name.startswith(PATTERNS) or i.base_name == "tuner.pkl")]


def _valid(name: str, data: bytes) -> bool:
    if not data:
        return False
    if name.endswith(".json"):
        try:
            json.loads(data)
        except ValueError:
            return False
    return True


def back_up(run_dir: str) -> None:
    """Copy each of Tune's state files that is whole (JSON that parses) into the backup."""
    for name in _state_files(run_dir):
        data = storage.read_bytes(storage.join(run_dir, name))
        if _valid(name, data):
            storage.write_bytes(storage.join(run_dir, BACKUP, name), data)


def repair(run_dir: str) -> list[str]:
    """Put back the last good copy of every state file that is missing or does not parse;
    returns the names replaced."""
    backup = storage.join(run_dir, BACKUP)
    if not storage.exists(backup):
        return []
    replaced = []
    for name in _state_files(backup):
        location = storage.join(run_dir, name)
        current = storage.read_bytes(location) if storage.exists(location) else b""
        if not _valid(name, current):
            storage.write_bytes(location, storage.read_bytes(storage.join(backup, name)))
            replaced.append(name)
    return replaced
