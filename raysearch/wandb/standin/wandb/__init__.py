"""raysearch's offline stand-in for `wandb`, imported by a W&B training script that raysearch
runs as a trial (its folder is put first on the script's PYTHONPATH, so it replaces a real
`wandb` there too). No account, no server, no network.

`wandb.init()` returns a run whose `config` holds the trial's parameters (they take precedence
over the `config` passed to `init`, as in a W&B sweep); every committed `wandb.log(...)` and
the final summary go to the raysearch trial that started the script, as one JSON line each on
the pipe named by RAYSEARCH_WANDB_FD. Media (Image, Table, Histogram, Html, Audio, Video) are
saved as W&B lays out a run's files, under `run.dir` (the trial's folder, which raysearch copies
into RUN_DIR/trial_<id>/): `media/images/<key>_<step>_<hash>.png`, ...; the logged value is that
path (a string column in history.parquet). `wandb.save` copies files there too. Only the
standard library is needed (PIL, matplotlib, numpy are used when the object is one of theirs).
"""

from __future__ import annotations

import atexit
import glob
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from typing import Any

__version__ = "0.0.0+raysearch"
__all__ = ["init", "log", "finish", "login", "watch", "unwatch", "define_metric", "save",
           "config", "run", "summary", "Image", "Table", "Histogram", "Video", "Audio", "Html",
           "Artifact", "Settings", "Error", "agent", "sweep", "plot", "util", "errors",
           "termlog", "termwarn", "termerror", "setup", "teardown", "require", "alert",
           "AlertLevel", "log_artifact", "use_artifact", "log_model", "use_model", "restore",
           "Api"]
_OFFLINE = ("raysearch runs W&B scripts offline (no account, no server): results go to the "
            "run folder (read it with raysearch.load(RUN_DIR))")

_SWEEP: dict = json.loads(os.environ.get("RAYSEARCH_WANDB_CONFIG", "{}"))  # the trial's values
_channel = None
_sink: Any = None  # in-process trials (raysearch.wandb.agent): where messages go instead


class Error(Exception):
    """As `wandb.Error`."""


def _send(kind: str, data: Mapping, step: int | None = None) -> None:
    global _channel
    message: dict = {"type": kind, "data": {k: _plain(v) for k, v in data.items()
                                            if _plain(v) is not None}}
    if step is not None:
        message["step"] = step
    if _sink is not None:
        _sink(message)
        return
    fd = os.environ.get("RAYSEARCH_WANDB_FD")
    if fd is None:
        return
    if _channel is None:
        _channel = os.fdopen(int(fd), "w", buffering=1)
    _channel.write(json.dumps(message) + "\n")
    _channel.flush()


def _start(values: Mapping, sink: Any) -> None:
    """A new trial in this process (raysearch.wandb.agent): its values, where logs go, and a
    fresh config, summary and run."""
    global _SWEEP, _sink, config, summary, run
    _SWEEP, _sink = dict(values), sink
    config, summary, run = Config(), Summary(), None


def _plain(value: Any) -> Any:
    """Numbers (numpy and torch scalars too), strings and booleans; anything else None."""
    if isinstance(value, bool | str | int | float):
        return value
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:
        try:
            return _plain(item())
        except Exception:  # not a scalar after all
            return None
    return None


class Config:
    """`wandb.config`: attribute and item access; the sweep's values win over the script's."""

    def __init__(self) -> None:
        object.__setattr__(self, "_items", dict(_SWEEP))

    def update(self, values: Any = None, allow_val_change: bool = False, **kwargs: Any) -> None:
        values = vars(values) if hasattr(values, "__dict__") and not isinstance(
            values, Mapping) else dict(values or {})
        for key, value in {**values, **kwargs}.items():
            if key not in _SWEEP:  # a swept parameter keeps the sweep's value, as in W&B
                self._items[key] = value

    def setdefaults(self, values: Mapping) -> None:
        for key, value in values.items():
            self._items.setdefault(key, value)

    def as_dict(self) -> dict:
        return dict(self._items)

    def keys(self) -> Any:
        return self._items.keys()

    def items(self) -> Any:
        return self._items.items()

    def values(self) -> Any:
        return self._items.values()

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)


class Summary(dict):
    """`run.summary`: sent to the trial when the run finishes."""


class Run:
    """What `wandb.init()` returns."""

    def __init__(self, project: str | None, entity: str | None, name: str | None,
                 group: str | None, tags: Any, notes: str | None) -> None:
        self.id = os.environ.get("WANDB_RUN_ID", "raysearch")
        self.name = name or self.id
        self.project, self.entity, self.group, self.tags, self.notes = (
            project, entity, group, tags, notes)
        self.sweep_id = os.environ.get("WANDB_SWEEP_ID")
        self.dir = os.environ.get("WANDB_DIR", os.getcwd())
        self.path = "/".join(p or "-" for p in (entity, project, self.id))
        self.start_time = time.time()
        self.url = self.sweep_url = self.project_url = None  # an offline run has no page
        self.offline, self.disabled, self.resumed = True, False, False
        self.job_type = None
        self.config = config
        self.summary = summary
        self.step = 0
        self._pending: dict = {}
        self._finished = False

    def log(self, data: Mapping, step: int | None = None, commit: bool | None = None) -> None:
        """As `wandb.log`: `commit=False` adds to the current step; a larger `step` commits
        what is pending first; every committed step goes to the trial. Media are saved under
        `run.dir` and logged as their path there."""
        if not isinstance(data, Mapping):
            raise ValueError("wandb.log must be passed a dictionary")
        if step is not None and step > self.step and self._pending:
            self._commit()
        if step is not None and step > self.step:
            self.step = step
        data = {k: v._save(self.dir, k, self.step) if isinstance(v, _Media) else v
                for k, v in data.items()}
        self._pending.update(data)
        for key, value in data.items():
            if _plain(value) is not None and not isinstance(value, str):
                self.summary[key] = value  # W&B's summary: the last value of each metric
        if commit is not False and (step is None or commit):
            self._commit()

    def _commit(self) -> None:
        _send("log", self._pending, self.step)
        self._pending = {}
        self.step += 1

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        if self._finished:
            return
        if self._pending:
            self._commit()
        _send("summary", self.summary)
        self._finished = True
        global run
        if run is self:
            run = None

    def define_metric(self, *args: Any, **kwargs: Any) -> None:
        return None

    def watch(self, *args: Any, **kwargs: Any) -> None:
        return None

    def save(self, glob_str: str | None = None, base_path: str | None = None,
             policy: str = "live") -> list:
        return save(glob_str, base_path, policy)

    def log_artifact(self, artifact_or_path: Any, name: str | None = None,
                     type: str | None = None, aliases: Any = None, tags: Any = None) -> Artifact:
        """As `run.log_artifact`: its files are copied to `artifacts/<name>/` in the run's
        folder (kept with the trial), where W&B would upload them."""
        artifact = artifact_or_path
        if not isinstance(artifact, Artifact):
            path = str(artifact_or_path)
            artifact = Artifact(name or os.path.basename(path.rstrip("/")), type or "unspecified")
            (artifact.add_dir if os.path.isdir(path) else artifact.add_file)(path)
        artifact._save(self.dir)
        return artifact

    def log_model(self, path: str, name: str | None = None, aliases: Any = None) -> Artifact:
        return self.log_artifact(path, name=name, type="model", aliases=aliases)

    def use_artifact(self, artifact_or_name: Any, *args: Any, **kwargs: Any) -> Any:
        """An artifact logged as a file or folder (an `Artifact` object) is used as it is;
        one named on W&B's server cannot be fetched offline."""
        if isinstance(artifact_or_name, Artifact):
            return artifact_or_name
        raise Error(f"use_artifact({artifact_or_name!r}): artifacts on W&B's server cannot be "
                    f"fetched; {_OFFLINE}. Read the file from disk instead (its path as a "
                    "sweep parameter or argument)")

    use_model = use_artifact

    def alert(self, *args: Any, **kwargs: Any) -> None:
        return None

    def log_code(self, *args: Any, **kwargs: Any) -> None:
        return None

    def mark_preempting(self) -> None:
        return None

    def project_name(self) -> str | None:
        return self.project

    def get_url(self) -> None:
        return None

    get_project_url = get_sweep_url = get_url

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"wandb.run.{name}: not in raysearch's offline stand-in for "
                             f"W&B's run ({_OFFLINE}); it has id, name, config, summary, dir, "
                             "log, finish, save, log_artifact, log_model")

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.finish(exit_code=1 if exc[0] else 0)


config = Config()
summary = Summary()
run: Run | None = None


def init(project: str | None = None, entity: str | None = None, config: Any = None,
         name: str | None = None, group: str | None = None, tags: Any = None,
         notes: str | None = None, reinit: Any = None, **kwargs: Any) -> Run:
    """As `wandb.init`: a run whose config merges the script's `config` under the sweep's."""
    global run
    if run is not None:
        if not reinit:
            return run
        run.finish()
    if config is not None:
        globals()["config"].update(config)
    run = Run(project, entity, name, group, tags, notes)
    run.job_type = kwargs.get("job_type")
    return run


def log(data: Mapping, step: int | None = None, commit: bool | None = None) -> None:
    if run is None:
        raise Error("You must call wandb.init() before wandb.log()")
    run.log(data, step=step, commit=commit)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    if run is not None:
        run.finish(exit_code, quiet)


def login(*args: Any, **kwargs: Any) -> bool:
    return True


def setup(*args: Any, **kwargs: Any) -> None:
    return None


teardown = require = setup


def termlog(string: str = "", newline: bool = True, repeat: bool = True,
            prefix: bool = True) -> None:
    """As `wandb.termlog`: a line on stderr, `wandb: ` first (in the trial's error log)."""
    import sys

    print(("wandb: " if prefix else "") + str(string), end="\n" if newline else "",
          file=sys.stderr, flush=True)


def termwarn(string: str = "", newline: bool = True, repeat: bool = True,
             prefix: bool = True) -> None:
    termlog(("WARNING " if prefix else "") + str(string), newline, repeat, prefix)


def termerror(string: str = "", newline: bool = True, repeat: bool = True,
              prefix: bool = True) -> None:
    termlog(("ERROR " if prefix else "") + str(string), newline, repeat, prefix)


class AlertLevel:
    INFO, WARN, ERROR = "INFO", "WARN", "ERROR"


def alert(*args: Any, **kwargs: Any) -> None:
    return None


def _current_run(what: str) -> Run:
    if run is None:
        raise Error(f"You must call wandb.init() before wandb.{what}()")
    return run


def log_artifact(artifact_or_path: Any, name: str | None = None, type: str | None = None,
                 aliases: Any = None, tags: Any = None) -> Artifact:
    return _current_run("log_artifact").log_artifact(artifact_or_path, name, type, aliases)


def log_model(path: str, name: str | None = None, aliases: Any = None) -> Artifact:
    return _current_run("log_model").log_model(path, name, aliases)


def use_artifact(artifact_or_name: Any, *args: Any, **kwargs: Any) -> Any:
    return _current_run("use_artifact").use_artifact(artifact_or_name)


use_model = use_artifact


def restore(name: str, *args: Any, **kwargs: Any) -> None:
    raise Error(f"wandb.restore({name!r}) fetches a file from W&B's server; {_OFFLINE}")


class Api:
    """W&B's public API reads W&B's server, which raysearch does not use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise Error(f"wandb.Api() reads W&B's server; {_OFFLINE}")


def watch(*args: Any, **kwargs: Any) -> None:
    return None


def unwatch(*args: Any, **kwargs: Any) -> None:
    return None


def define_metric(*args: Any, **kwargs: Any) -> None:
    return None


def save(glob_str: str | None = None, base_path: str | None = None,
         policy: str = "live") -> list:
    """As `wandb.save`: copy the matching files into the run's folder (kept relative to
    `base_path` when given, else by name); returns the copies' paths."""
    if run is None:
        raise Error("You must call wandb.init() before wandb.save()")
    if glob_str is None:
        return []
    copies = []
    for path in sorted(glob.glob(str(glob_str), recursive=True)):
        if not os.path.isfile(path):
            continue
        name = os.path.relpath(path, base_path) if base_path else os.path.basename(path)
        target = os.path.join(run.dir, name)
        if os.path.abspath(target) != os.path.abspath(path):
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            shutil.copyfile(path, target)
        copies.append(target)
    return copies


class _Media:
    """A logged media object: saved under the run's folder when logged, as W&B's files lay
    them out (`media/<kind>/<key>_<step>_<hash>.<ext>`); what cannot be saved without a
    library the script lacks is skipped (logged as None)."""

    kind = "media"

    def __init__(self, data_or_path: Any = None, *args: Any, caption: str | None = None,
                 **kwargs: Any) -> None:
        self.data, self.caption, self.args, self.kwargs = data_or_path, caption, args, kwargs

    def _save(self, run_dir: str, key: str, step: int) -> str | None:
        """Write this object under `run_dir`; the path written, relative to it."""
        made = self._bytes()
        if made is None:
            return None
        content, ext = made
        digest = hashlib.sha1(content).hexdigest()[:20]
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
        relative = os.path.join("media", self.kind, f"{safe}_{step}_{digest}{ext}")
        os.makedirs(os.path.join(run_dir, "media", self.kind), exist_ok=True)
        with open(os.path.join(run_dir, relative), "wb") as f:
            f.write(content)
        return relative

    def _bytes(self) -> tuple[bytes, str] | None:
        """(content, extension) of what was given as a file path."""
        if isinstance(self.data, str) and os.path.isfile(self.data):
            with open(self.data, "rb") as f:
                return f.read(), os.path.splitext(self.data)[1]
        return None

    def _json(self, value: Any, ext: str) -> tuple[bytes, str]:
        return json.dumps(value, default=_jsonable).encode(), ext

    def add_data(self, *args: Any) -> None:
        return None


def _jsonable(value: Any) -> Any:
    plain = _plain(value)
    if plain is not None:
        return plain
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else str(value)


class Image(_Media):
    """From a file, a PIL image, a matplotlib figure, or an array (HWC or CHW, 0-1 floats or
    0-255; needs PIL)."""

    kind = "images"

    def _bytes(self) -> tuple[bytes, str] | None:
        import io

        from_file = super()._bytes()
        if from_file is not None:
            return from_file
        data, buffer = self.data, io.BytesIO()
        if hasattr(data, "savefig"):  # a matplotlib figure
            data.savefig(buffer, format="png")
            return buffer.getvalue(), ".png"
        if not hasattr(data, "save") and hasattr(data, "shape"):
            data = _array_image(data)
        if data is not None and hasattr(data, "save"):  # a PIL image
            data.save(buffer, format="PNG")
            return buffer.getvalue(), ".png"
        return None


def _array_image(data: Any) -> Any:
    """An array (numpy, torch) as a PIL image, or None without PIL/numpy."""
    try:
        import numpy as np
        from PIL import Image as PILImage
    except ImportError:
        return None
    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    array = np.asarray(data)
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = array.transpose(1, 2, 0)  # CHW (torch) to HWC
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.dtype.kind == "f":
        array = array * 255 if array.max(initial=0) <= 1 else array
    return PILImage.fromarray(np.clip(array, 0, 255).astype("uint8"))


class Table(_Media):
    """`columns` and `data` (rows), or a pandas `dataframe`: saved as W&B's table JSON."""

    kind = "table"
    MAX_ROWS = 10000

    def __init__(self, columns: Any = None, data: Any = None, rows: Any = None,
                 dataframe: Any = None, **kwargs: Any) -> None:
        if dataframe is not None:
            columns, data = list(dataframe.columns), dataframe.values.tolist()
        self.columns = list(columns or [])
        self.rows = [list(r) for r in (data if data is not None else rows or [])]
        super().__init__(None, **kwargs)

    def add_data(self, *values: Any) -> None:
        self.rows.append(list(values))

    def _bytes(self) -> tuple[bytes, str]:
        return self._json({"columns": self.columns, "data": self.rows}, ".table.json")


class Histogram(_Media):
    """A sequence of values, or `np_histogram=(counts, bin_edges)`: saved as JSON."""

    kind = "histogram"

    def __init__(self, sequence: Any = None, np_histogram: Any = None, num_bins: int = 64,
                 **kwargs: Any) -> None:
        super().__init__(sequence, **kwargs)
        self.np_histogram, self.num_bins = np_histogram, num_bins

    def _bytes(self) -> tuple[bytes, str]:
        if self.np_histogram is not None:
            counts, bins = self.np_histogram
            return self._json({"values": counts, "bins": bins}, ".histogram.json")
        return self._json({"sequence": self.data, "num_bins": self.num_bins},
                          ".histogram.json")


class Html(_Media):
    kind = "html"

    def _bytes(self) -> tuple[bytes, str] | None:
        if isinstance(self.data, str) and not os.path.isfile(self.data):
            return self.data.encode(), ".html"
        read = getattr(self.data, "read", None)
        if not callable(read):
            return super()._bytes()
        content = read()
        return (content.encode() if isinstance(content, str) else content), ".html"


class Video(_Media):
    kind = "videos"


class Audio(_Media):
    kind = "audio"


class Artifact:
    """As `wandb.Artifact`: files and folders gathered under a name, copied to
    `artifacts/<name>/` in the run's folder when logged (W&B would upload them)."""

    def __init__(self, name: str, type: str = "unspecified", description: str | None = None,
                 metadata: dict | None = None, **kwargs: Any) -> None:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        if not safe.strip("."):
            raise ValueError(f"Artifact name may only contain alphanumeric characters, "
                             f"dashes, underscores, and dots; got {name!r}")
        self.name, self._folder, self.type = name, safe, type
        self.description, self.metadata = description, dict(metadata or {})
        self._files: list[tuple[str, str]] = []  # (source, name inside the artifact)
        self._new: dict[str, Any] = {}

    def add_file(self, local_path: str, name: str | None = None, **kwargs: Any) -> None:
        if not os.path.isfile(local_path):
            raise ValueError(f"Path is not a file: {local_path!r}")
        self._files.append((local_path, name or os.path.basename(local_path)))

    def add_dir(self, local_path: str, name: str | None = None, **kwargs: Any) -> None:
        if not os.path.isdir(local_path):
            raise ValueError(f"Path is not a directory: {local_path!r}")
        for folder, _, files in os.walk(local_path):
            for file in files:
                inside = os.path.relpath(os.path.join(folder, file), local_path)
                self._files.append((os.path.join(folder, file),
                                    os.path.join(name, inside) if name else inside))

    def new_file(self, name: str, mode: str = "x", encoding: str | None = None) -> Any:
        """`with artifact.new_file(name) as f:` as W&B's: what is written is kept until the
        artifact is logged."""
        import contextlib
        import io

        buffer = io.StringIO() if "b" not in mode else io.BytesIO()
        self._new[name] = buffer
        return contextlib.nullcontext(buffer)

    def add_reference(self, *args: Any, **kwargs: Any) -> None:
        return None

    def _save(self, run_dir: str) -> str:
        target = os.path.join(run_dir, "artifacts", self._folder)
        for source, name in self._files:
            os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
            shutil.copyfile(source, os.path.join(target, name))
        for name, buffer in self._new.items():
            os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
            content = buffer.getvalue()
            with open(os.path.join(target, name), "wb" if isinstance(content, bytes) else "w") \
                    as f:
                f.write(content)
        if self.metadata or self.description:
            os.makedirs(target, exist_ok=True)
            with open(os.path.join(target, "wandb_artifact.json"), "w") as f:
                json.dump({"name": self.name, "type": self.type,
                           "description": self.description, "metadata": self.metadata},
                          f, default=_jsonable)
        return target

    def download(self, root: str | None = None, *args: Any, **kwargs: Any) -> str:
        raise Error(f"Artifact.download: {_OFFLINE}")

    def wait(self, *args: Any, **kwargs: Any) -> Artifact:
        return self


class Settings(_Media):
    pass


def sweep(*args: Any, **kwargs: Any) -> str:
    raise Error("inside a raysearch trial the sweep already runs: wandb.sweep/wandb.agent are "
                "for starting one; run your sweep file with `raysearch run sweep.yaml`")


agent = sweep


def __getattr__(name: str) -> Any:
    raise AttributeError(f"wandb.{name}: not in raysearch's offline stand-in for wandb "
                         f"({_OFFLINE}); it has {', '.join(sorted(__all__))}")


@atexit.register
def _at_exit() -> None:
    """A script that never calls finish() still sends its last step and summary."""
    if run is not None:
        run.finish()
    if _channel is not None:
        _channel.close()


from . import errors, plot, util  # noqa: E402  (they use the names above, as W&B's do)
