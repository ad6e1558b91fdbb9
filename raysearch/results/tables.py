"""Append-only tables: a run folder's table is its compacted file plus segments written since.

Rewriting a whole table at every flush costs O(rows recorded so far) on the driver (87 ms at
40,000 history rows), which is what first limits a large sweep (docs/scaling.md). Instead each
flush appends a segment holding only the rows added or changed since the last one, and the
segments are folded into the table's file now and then (when they hold as many rows as the file,
or are many) and at the end of the sweep, so the total work stays linear in the rows.

A row is identified by the table's key; where several versions of a row exist the newest wins
(the file is older than every segment, segments are numbered in the order written). Readers
see one table at any moment, also while a sweep runs or after its driver was killed. Every file
is written atomically, and compaction deletes segments oldest first, so a kill at any point
leaves a folder that reads the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from raysearch.results import storage

SEGMENT_SUFFIX = ".parquet"


@dataclass(frozen=True)
class TableLayout:
    """What identifies a row of a table, and the order its compacted file is written in."""

    key: tuple[str, ...]
    order: tuple[str, ...] = ()


class SegmentedTable:
    """One table of a run folder: `file` (compacted) plus the segments under `segments`."""

    def __init__(self, file: str, segments: str, layout: TableLayout,
                 max_segments: int = 64):
        self.file, self.segments_dir, self.layout = file, segments, layout
        self.max_segments = max_segments
        self._written: int | None = None  # the newest segment's number (None: not started)
        self._segments = self._rows_in_file = self._rows_in_segments = 0

    # -------------------------------------------------------------- reading

    def segment_names(self) -> list[str]:
        """The segments on disk, oldest first (temporary files of a write under way excluded)."""
        fs, path = storage.filesystem(self.segments_dir)
        infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.File
                      and i.base_name.endswith(SEGMENT_SUFFIX)
                      and not i.base_name.startswith("."))

    def read(self) -> pa.Table | None:
        """The whole table (None when nothing was ever written)."""
        for attempt in range(20):
            try:
                return self._read_once()
            except FileNotFoundError:  # a compaction removed a segment between list and read
                time.sleep(0.05 * (attempt + 1))
        return self._read_once()

    def _read_once(self, names: list[str] | None = None) -> pa.Table | None:
        """The file merged with the segments `names` (default: those on disk, listed before
        the file is read: see `read`)."""
        names = self.segment_names() if names is None else names
        parts = [storage.read_table(self.file)] if storage.exists(self.file) else []
        parts += [storage.read_table(storage.join(self.segments_dir, n)) for n in names]
        if not parts:
            return None
        return self._ordered(latest_rows(concat(parts), self.layout.key))

    def _ordered(self, table: pa.Table) -> pa.Table:
        order = [c for c in self.layout.order if c in table.column_names]
        return table.sort_by([(c, "ascending") for c in order]) if order else table

    # -------------------------------------------------------------- writing

    def append(self, table: pa.Table) -> None:
        """Write `table` (new rows, and newer versions of rows written before) as a segment,
        then fold the segments into the file when they are as large as it, or many."""
        if table.num_rows == 0:
            return
        if self._written is None:
            self._start()
        number = self._written + 1
        storage.write_table(storage.join(self.segments_dir, f"{number:08d}{SEGMENT_SUFFIX}"),
                            table)
        self._written, self._segments = number, self._segments + 1
        self._rows_in_segments += table.num_rows
        if self._rows_in_segments >= self._rows_in_file or self._segments >= self.max_segments:
            self.compact()

    def _start(self) -> None:
        """The first write of this process: fold what an earlier one left (a killed driver's
        segments), so the counts that decide when to compact start from a plain file."""
        self.compact()
        self._rows_in_file = pq.read_metadata(
            pa.BufferReader(storage.read_bytes(self.file))).num_rows \
            if storage.exists(self.file) else 0
        self._written, self._segments, self._rows_in_segments = 0, 0, 0

    def compact(self) -> None:
        """Fold every segment into the file: the file is replaced whole, then the segments
        are deleted oldest first (a kill in between leaves newer-wins reads unchanged)."""
        names = self.segment_names()
        if not names:
            return
        table = self._read_once(names)  # exactly the segments deleted below
        storage.write_table(self.file, table)
        for name in names:
            storage.delete_file(storage.join(self.segments_dir, name))
        if not self.segment_names():  # nothing written meanwhile: no empty folder left
            storage.delete_dir(self.segments_dir)
        self._rows_in_file, self._rows_in_segments, self._segments = table.num_rows, 0, 0


def concat(parts: list[pa.Table]) -> pa.Table:
    """One table from several whose columns differ (missing ones are nulls, ints widen to
    floats); a column whose types cannot be merged (ints in one, strings in another) is
    stored as strings, as `storage.table_from_rows` does within one table."""
    try:
        return pa.concat_tables(parts, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return storage.table_from_rows([row for part in parts for row in part.to_pylist()])


def latest_rows(table: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """The newest version (the last one) of each row, in the order rows first appeared."""
    columns = [table.column(k).to_pylist() if k in table.column_names
               else [None] * table.num_rows for k in key]
    last: dict[tuple, int] = {}
    for index, row_key in enumerate(zip(*columns, strict=False)):
        last[row_key] = index
    if len(last) == table.num_rows:
        return table
    return table.take(pa.array(list(last.values()), pa.int64()))
