"""A known-good copy of Ray Tune's experiment state, for resume after a full disk or a kill.

Tune uploads its experiment state to the run folder non-atomically, so a full disk can leave
the only copy truncated (seen: `experiment_state-*.json` cut at a block boundary), and
`Tuner.restore` then fails or restores trials wrongly. After each table flush that succeeded,
the recorder copies Tune's state files that parse into `.raysearch-state/` (atomically, as
`<name>.bak`: Tune's restore copies every .json/.pkl of the run folder and uploads it again
later, which would put back stale backups); on resume, a state file that does not parse is
replaced by its last good copy before Tune reads it.
"""

from __future__ import annotations

import json
import posixpath
import re

import pyarrow.fs as pafs

from raysearch.results import STATE_DIR, storage

BACKUP = STATE_DIR
SUFFIX = ".bak"
CHECKPOINT_NAME = re.compile(r"checkpoint_(\d+)")  # Ray Train's checkpoint folder names
PATTERNS = ("experiment_state-", "basic-variant-state-", "search_gen_state-", "searcher-state-")
# where a search algorithm's saved state says it has finished (set by a fail_fast stop)
FINISHED_FLAGS = {"basic-variant-state-": "_finished", "search_gen_state-": "finished"}


def _state_infos(run_dir: str) -> list[pafs.FileInfo]:
    fs, path = storage.filesystem(run_dir)
    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    return [i for i in infos if i.type == pafs.FileType.File
            and (i.base_name.startswith(PATTERNS) or i.base_name == "tuner.pkl")]


def _state_files(run_dir: str) -> list[str]:
    return [i.base_name for i in _state_infos(run_dir)]


def _valid(name: str, data: bytes) -> bool:
    """Whole: a pickle that reaches its STOP opcode (Tune's `basic-variant-state-*.json` and
    `searcher-state-*` are pickles despite the name; read without running them), else JSON
    that parses."""
    if not data:
        return False
    if data[:1] == b"\x80":  # a pickle (protocol 2 and later)
        import pickletools

        try:
            for _ in pickletools.genops(data):
                pass
        except (ValueError, EOFError):
            return False
        return True
    if name.endswith(".json"):
        try:
            json.loads(data)
        except ValueError:
            return False
    return True


def back_up(run_dir: str, copied: dict[str, tuple] | None = None) -> None:
    """Copy each of Tune's state files that is whole (JSON that parses) into the backup.
    `copied` (name -> size and time of the version copied, kept by the caller across calls)
    skips the files unchanged since: Tune saves its state every few seconds, while the
    recorder flushes up to once a second."""
    for info in _state_infos(run_dir):
        stamp = (info.size, info.mtime_ns)
        if copied is not None and copied.get(info.base_name) == stamp:
            continue
        data = storage.read_bytes(storage.join(run_dir, info.base_name))
        if _valid(info.base_name, data):
            storage.write_bytes(storage.join(run_dir, BACKUP, info.base_name + SUFFIX), data)
            if copied is not None:
                copied[info.base_name] = stamp


def repair(run_dir: str) -> list[str]:
    """Put back the last good copy of every state file that is missing or does not parse;
    returns the names replaced."""
    backup = storage.join(run_dir, BACKUP)
    if not storage.exists(backup):
        return []
    replaced = []
    fs, path = storage.filesystem(backup)
    copies = [i.base_name for i in fs.get_file_info(pafs.FileSelector(path))
              if i.type == pafs.FileType.File]
    for copy in copies:  # <name>.bak (earlier versions: <name>)
        name = copy.removesuffix(SUFFIX)
        if not (name.startswith(PATTERNS) or name == "tuner.pkl"):
            continue
        location = storage.join(run_dir, name)
        current = storage.read_bytes(location) if storage.exists(location) else b""
        if not _valid(name, current) and (copy.endswith(SUFFIX) or name + SUFFIX not in copies):
            storage.write_bytes(location, storage.read_bytes(storage.join(backup, copy)))
            replaced.append(name)
    return replaced


def reconcile(run_dir: str, history: list[dict], reopen: set[str]) -> dict[str, list[str]]:
    """Make Tune's newest saved state fit what is on disk before `Tuner.restore` reads it.

    - Tune saves its state every few seconds but rotates checkpoints (`keep`) as they are
      written: a driver killed between the two leaves a state naming a checkpoint already
      deleted, and the restore would fail that trial ("does not exist on storage anymore").
    - The recorder flushes its tables every few seconds too: a driver killed between a flush
      and Tune's next save leaves a state naming a checkpoint newer than the trial's last
      recorded result; restoring from it would leave the results in between unrecorded.
    Such a trial is pointed at its newest checkpoint that is on disk and recorded in `history`
    (its iteration read from there), or at none (it starts again; rows it re-runs replace the
    recorded ones), so that every result ends up recorded exactly once.
    - Tune names a trial's next checkpoint folder by a counter saved with that state, so a
      resumed trial would write over folders saved after the state (or the one it was moved
      to above), under a name the history already records at another iteration; a later
      resume would then restore that folder's newer content at the older iteration. The
      counter is moved past every checkpoint folder on disk or in `history`.
    - Trials in `reopen` that Tune saved as TERMINATED (a sweep that stopped on an error, such
      as a full disk, ends its live trials) are set PAUSED, so the restore continues them.
    Returns the trial ids changed, under "moved" and "reopened"."""
    changed: dict[str, list[str]] = {"moved": [], "reopened": []}
    state_path = _newest_state(run_dir)
    if state_path is None:
        return changed
    state = json.loads(storage.read_bytes(state_path))
    dirty = False
    for entry in state["trial_data"]:
        trial = json.loads(entry[0])
        fixed = _fixed_metadata(run_dir, entry[0], entry[1], history)
        if fixed is not None:
            entry[1] = fixed
            changed["moved"].append(trial["trial_id"])
        renumbered = _skip_used_checkpoint_names(run_dir, trial, history)
        if trial["trial_id"] in reopen and trial.get("status") == "TERMINATED":
            trial["status"] = "PAUSED"
            changed["reopened"].append(trial["trial_id"])
        if renumbered or trial["trial_id"] in changed["reopened"]:
            entry[0] = json.dumps(trial, indent=2)
            dirty = True
        dirty = dirty or fixed is not None
    if dirty:
        storage.write_bytes(state_path, json.dumps(state).encode())
    return changed


def undo_fail_fast_stop(run_dir: str) -> bool:
    """Let a sweep that `fail_fast` stopped go on from there: Tune saved its controller as
    having seen an error and its search algorithm as finished, and restores both, so the
    restore would stop again before any trial ran. Both are cleared in the newest saved state
    (the restore's `resume_errored` retries the failed trial; a search that had really run out
    finds so again at its next suggestion). Whether there was such a stop."""
    from ray import cloudpickle

    state_path = _newest_state(run_dir)
    if state_path is None:
        return False
    state = json.loads(storage.read_bytes(state_path))
    runner = state.get("runner_data") or {}
    if not (runner.get("_fail_fast") and runner.get("_has_errored")):
        return False
    runner["_has_errored"] = False
    storage.write_bytes(state_path, json.dumps(state).encode())
    for prefix, flag in FINISHED_FLAGS.items():
        names = sorted(n for n in _state_files(run_dir) if n.startswith(prefix))
        if not names:
            continue
        path = storage.join(run_dir, names[-1])  # the one Tune restores: the newest by name
        saved = cloudpickle.loads(storage.read_bytes(path))
        if isinstance(saved, dict) and saved.get(flag):
            saved[flag] = False
            storage.write_bytes(path, cloudpickle.dumps(saved))
    return True


def _skip_used_checkpoint_names(run_dir: str, trial: dict, history: list[dict]) -> bool:
    """Set the trial's checkpoint counter (in its pickled storage context) past every
    `checkpoint_<n>` folder in its trial folder or recorded in `history`; whether it moved."""
    from ray import cloudpickle

    blob = trial.get("storage")
    if not isinstance(blob, dict) or blob.get("_type") != "CLOUDPICKLE_FALLBACK":
        return False
    context = cloudpickle.loads(bytes.fromhex(blob["value"]))
    fs, folder = storage.filesystem(storage.join(run_dir, posixpath.basename(
        context.trial_fs_path)))
    names = [i.base_name for i in fs.get_file_info(pafs.FileSelector(folder,
                                                                      allow_not_found=True))]
    names += [posixpath.basename(r["checkpoint"].rstrip("/")) for r in history
              if r.get("trial_id") == trial["trial_id"] and r.get("checkpoint")]
    used = [int(m.group(1)) for m in map(CHECKPOINT_NAME.fullmatch, names) if m]
    if not used or context.current_checkpoint_index > max(used):
        return False
    context.current_checkpoint_index = max(used) + 1
    blob["value"] = cloudpickle.dumps(context).hex()
    return True


def _newest_state(run_dir: str) -> str | None:
    names = sorted(n for n in _state_files(run_dir) if n.startswith("experiment_state-"))
    return storage.join(run_dir, names[-1]) if names else None


def _fixed_metadata(run_dir: str, trial_json: str, metadata_json: str,
                    history: list[dict]) -> str | None:
    """The trial's run metadata pointing at a checkpoint on disk, or None if it already does."""
    from ray.train import Checkpoint
    from ray.train._internal.session import _TrainingResult
    from ray.tune.experiment.trial import Trial
    from ray.tune.trainable.metadata import _TrainingRunMetadata

    metadata = _TrainingRunMetadata.from_json_state(metadata_json)
    manager = metadata.checkpoint_manager
    latest = manager.latest_checkpoint_result
    if latest is None:
        return None
    trial = Trial.from_json_state(trial_json, stub=True)
    iterations = {posixpath.basename(r["checkpoint"]): r["iteration"] for r in history
                  if r.get("trial_id") == trial.trial_id and r.get("checkpoint")}
    if _on_disk(run_dir, latest.checkpoint.path) and \
            posixpath.basename(latest.checkpoint.path.rstrip("/")) in iterations:
        return None
    folder = storage.join(run_dir, posixpath.basename(trial.storage.trial_fs_path))
    kept = sorted((n for n in iterations if storage.exists(storage.join(folder, n))),
                  key=lambda n: iterations[n])
    manager._checkpoint_results = [r for r in manager._checkpoint_results
                                   if _on_disk(run_dir, r.checkpoint.path)]
    if kept:
        newest = _TrainingResult(
            checkpoint=Checkpoint(posixpath.join(trial.storage.trial_fs_path, kept[-1]),
                                  latest.checkpoint.filesystem),
            metrics={"training_iteration": iterations[kept[-1]]})
        manager._checkpoint_results.append(newest)
        manager._latest_checkpoint_result = newest
    else:
        manager._latest_checkpoint_result = None
    metadata.invalidate_cache()
    return metadata.get_json_state()


def _on_disk(run_dir: str, checkpoint_path: str) -> bool:
    """Whether a checkpoint Tune names exists, looked up in this run folder (it may have been
    moved since Tune wrote the absolute path)."""
    parts = checkpoint_path.replace("\\", "/").rstrip("/").split("/")
    return storage.exists(storage.join(run_dir, *parts[-2:]))
