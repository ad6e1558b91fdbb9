"""Which process drives a run folder: `.raysearch-state/driver.json` (host, pid, the process's
start time) from the moment a sweep or its resume starts until its driver ends. So `raysearch
resume` refuses a folder whose driver still runs (two drivers would write the same tables), and
`raysearch runs` tells a running sweep from a killed one. On another host liveness cannot be
checked: it is then "unknown" and said so, never guessed. A folder written before this file
existed has none (unknown too)."""

from __future__ import annotations

import json
import os
import socket

from raysearch.results import storage
from raysearch.results.result import STATE_DIR

DRIVER_FILE = f"{STATE_DIR}/driver.json"


def _path(run_dir: str) -> str:
    return storage.join(run_dir, *DRIVER_FILE.split("/"))


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) of a process (Linux's /proc), to tell a
    reused pid or a zombie from the driver; None where /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], fields[19]
    except (OSError, IndexError):
        return None


def _process_start(pid: int) -> str | None:
    stat = _stat(pid)
    return stat[1] if stat else None


def claim(run_dir: str) -> None:
    """This process drives `run_dir` from now on."""
    pid = os.getpid()
    storage.write_text(_path(run_dir), json.dumps(
        {"host": socket.gethostname(), "pid": pid, "process_start": _process_start(pid)}))


def release(run_dir: str) -> None:
    """This process no longer drives `run_dir` (another's claim is left alone)."""
    holder = driver_of(run_dir)
    if holder and holder.get("host") == socket.gethostname() and holder.get("pid") == os.getpid():
        try:
            storage.delete_file(_path(run_dir))
        except OSError:
            pass


def driver_of(run_dir: str) -> dict | None:
    """The claim in `run_dir`, if any."""
    path = _path(run_dir)
    try:
        return json.loads(storage.read_text(path)) if storage.exists(path) else None
    except (OSError, ValueError):
        return None


def driver_alive(holder: dict | None) -> bool | None:
    """Whether the claiming process still runs: True, False, or None when it cannot be told
    (no claim, or a claim from another host)."""
    if not holder or holder.get("host") != socket.gethostname():
        return None
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    stat = _stat(pid)
    if stat is None:  # no /proc: the pid answers, that is all that can be told
        return True
    state, started = stat
    return state not in ("Z", "X") and holder.get("process_start") in (None, started)
