"""Run-folder I/O for local paths and pyarrow-filesystem URIs (s3://, gs://, file://) alike.

Every write goes to a temporary name and is then renamed into place, so a reader (or a crash)
never sees a half-written file.
"""

from __future__ import annotations

import io
import os
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq


def as_location(value: Any, what: str) -> str:
    """A folder path or URI given as a str or a pathlib.Path, as the str the rest reads;
    anything else is a SpecError naming `what` (the argument, or the flag)."""
    if isinstance(value, str | os.PathLike):
        return os.fspath(value)
    from raysearch.errors import SpecError

    raise SpecError(f"{what}: expected a folder path or URI (a str or pathlib.Path), got "
                    f"{type(value).__name__} {value!r}")


def is_uri(location: str) -> bool:
    return "://" in location


def filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path within it) for a local path or a URI."""
    if is_uri(location):
        return pafs.FileSystem.from_uri(location)
    return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(location))


def join(location: str, *parts: str) -> str:
    return "/".join([location.rstrip("/"), *parts]) if is_uri(location) else \
        os.path.join(location, *parts)


def write_bytes(location: str, data: bytes) -> None:
    """Atomically replace the file at `location` with `data`."""
    fs, path = filesystem(location)
    parent = path.rsplit("/", 1)[0]
    fs.create_dir(parent, recursive=True)
    tmp = f"{parent}/.{path.rsplit('/', 1)[1]}.{uuid.uuid4().hex}.tmp"
    try:
        with fs.open_output_stream(tmp) as out:
            out.write(data)
        fs.move(tmp, path)
    except BaseException:  # a full disk, a kill: the old file stays whole, no debris
        try:
            fs.delete_file(tmp)
        except (OSError, FileNotFoundError):
            pass
        raise


def read_bytes(location: str) -> bytes:
    fs, path = filesystem(location)
    with fs.open_input_stream(path) as f:
        return f.read()


def exists(location: str) -> bool:
    fs, path = filesystem(location)
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def list_dirs(location: str) -> list[str]:
    """The folders directly in `location` (local or a URI), as locations; a SpecError when it
    is not a folder."""
    fs, path = filesystem(location)
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        from raysearch.errors import SpecError

        raise SpecError(f"{location}: no such folder")
    infos = fs.get_file_info(pafs.FileSelector(path, recursive=False))
    return sorted(join(location, info.base_name) for info in infos
                  if info.type == pafs.FileType.Directory)


def claim_dir(location: str) -> bool:
    """Make the folder `location` if nothing is there, and say whether this call made it. On a
    local disk the check and the making are one step (two processes starting a sweep in the
    same second cannot both get the folder); object stores have no such step, so there it is
    a check, then the making."""
    if is_uri(location):
        if exists(location):
            return False
        fs, path = filesystem(location)
        fs.create_dir(path)
        return True
    os.makedirs(os.path.dirname(location) or ".", exist_ok=True)
    try:
        os.mkdir(location)
    except FileExistsError:
        return False
    return True


def delete_file(location: str) -> None:
    fs, path = filesystem(location)
    fs.delete_file(path)


def delete_dir(location: str) -> None:
    fs, path = filesystem(location)
    fs.delete_dir(path)


def write_table(location: str, table: pa.Table) -> None:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    write_bytes(location, buffer.getvalue())


def read_table(location: str) -> pa.Table:
    return pq.read_table(io.BytesIO(read_bytes(location)))


def write_text(location: str, text: str) -> None:
    write_bytes(location, text.encode())


def read_text(location: str) -> str:
    return read_bytes(location).decode()


def table_from_rows(rows: list[dict[str, Any]], first: tuple[str, ...] = ()) -> pa.Table:
    """A typed table from dict rows with differing keys. Columns keep their types; a column
    whose values mix types (e.g. a categorical of 1 and "a") is stored as strings."""
    names = list(dict.fromkeys([*first, *(k for row in rows for k in row)]))
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if v is None else str(v) for v in values])
    return pa.table(columns)
