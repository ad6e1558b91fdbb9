"""The run folder's tables are append-only: a flush writes only what changed, readers see one
table (newest version of each row), compaction and a kill at any point change nothing read."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from raysearch.results import HISTORY_FILE, TRIALS_FILE, read_rows, run_table, storage
from raysearch.results.tables import SegmentedTable, TableLayout


def history_rows(trial: str, iterations: range, value: float, generation: int = 0) -> list:
    return [{"trial_id": trial, "iteration": i, "generation": generation, "loss": value}
            for i in iterations]


def segments(table: SegmentedTable) -> list[str]:
    return table.segment_names()


def test_a_flush_writes_only_new_rows_and_readers_see_the_newest_version(tmp_path):
    table = run_table(str(tmp_path), HISTORY_FILE)
    table.append(pa.Table.from_pylist(history_rows("a", range(1, 101), 1.0)))
    assert pq.read_metadata(tmp_path / HISTORY_FILE).num_rows == 100  # first write: the file
    table.append(pa.Table.from_pylist(history_rows("b", range(1, 4), 2.0)))
    (segment,) = segments(table)
    assert pq.read_metadata(tmp_path / ".raysearch-state" / f"{HISTORY_FILE}.segments"
                            / segment).num_rows == 3  # not the 103 rows recorded so far
    assert pq.read_metadata(tmp_path / HISTORY_FILE).num_rows == 100  # left as it was
    # a newer version of a row (its checkpoint, recorded after the result) wins
    table.append(pa.Table.from_pylist([{**history_rows("a", range(100, 101), 1.0)[0],
                                        "checkpoint": "/ckpt/100"}]))
    rows = read_rows(str(tmp_path), HISTORY_FILE)
    assert len(rows) == 103
    assert [r["checkpoint"] for r in rows if r["trial_id"] == "a" and r["iteration"] == 100] \
        == ["/ckpt/100"]
    # the same iteration under a later PBT generation is another row
    table.append(pa.Table.from_pylist(history_rows("a", range(100, 101), 3.0, generation=1)))
    assert len(read_rows(str(tmp_path), HISTORY_FILE)) == 104
    # ordered as the compacted file is: by trial, generation, iteration
    keys = [(r["trial_id"], r["generation"], r["iteration"])
            for r in read_rows(str(tmp_path), HISTORY_FILE)]
    assert keys == sorted(keys)


def test_compaction_changes_nothing_read_and_leaves_one_file(tmp_path):
    table = run_table(str(tmp_path), TRIALS_FILE)
    table.append(pa.Table.from_pylist([{"trial_id": t, "status": "running"} for t in "abcd"]))
    table.append(pa.Table.from_pylist([{"trial_id": "b", "status": "completed", "x": 1}]))
    table.append(pa.Table.from_pylist([{"trial_id": "e", "status": "running", "x": 2.5}]))
    before = read_rows(str(tmp_path), TRIALS_FILE)
    assert [r["trial_id"] for r in before] == list("abcde")  # in order of first appearance
    assert before[1] == {"trial_id": "b", "status": "completed", "x": 1.0}
    table.compact()
    assert segments(table) == []
    assert pq.read_table(tmp_path / TRIALS_FILE).to_pylist() == before


def test_a_kill_during_compaction_changes_nothing_read(tmp_path):
    """Compaction writes the file, then deletes segments oldest first: a kill after any of
    those steps leaves a folder that reads the same."""
    layout = TableLayout(key=("trial_id",))
    table = SegmentedTable(str(tmp_path / "t.parquet"), str(tmp_path / "seg"), layout,
                           max_segments=100)
    table.append(pa.Table.from_pylist([{"trial_id": t, "v": 0} for t in "abcdefghijkl"]))
    for version in range(1, 5):
        table.append(pa.Table.from_pylist([{"trial_id": "a", "v": version},
                                           {"trial_id": "b", "v": version}]))
    names = segments(table)
    assert len(names) == 4
    expected = table.read().to_pylist()
    storage.write_table(table.file, table.read())  # the compaction's first step, then a kill
    for deleted in range(len(names) + 1):
        assert table.read().to_pylist() == expected
        if deleted < len(names):
            (tmp_path / "seg" / names[deleted]).unlink()
    # a new writer (a resumed driver) folds what was left before its first segment
    (tmp_path / "seg").mkdir(exist_ok=True)
    storage.write_table(str(tmp_path / "seg" / "00000007.parquet"),
                        pa.Table.from_pylist([{"trial_id": "c", "v": 9}]))
    resumed = SegmentedTable(table.file, table.segments_dir, layout)
    resumed.append(pa.Table.from_pylist([{"trial_id": "d", "v": 9}]))
    rows = {r["trial_id"]: r["v"] for r in resumed.read().to_pylist()}
    assert rows == {**{t: 0 for t in "efghijkl"}, "a": 4, "b": 4, "c": 9, "d": 9}


def test_columns_that_differ_between_segments_merge(tmp_path):
    table = SegmentedTable(str(tmp_path / "t.parquet"), str(tmp_path / "seg"),
                           TableLayout(key=("trial_id",)), max_segments=100)
    table.append(pa.Table.from_pylist([{"trial_id": t, "n": 1, "c": 1} for t in "abc"]))
    table.append(pa.Table.from_pylist([{"trial_id": "d", "n": 0.5, "c": "relu",
                                        "new": True}]))
    rows = table.read().to_pylist()
    assert [r["n"] for r in rows] == [1.0, 1.0, 1.0, 0.5]  # ints widen to floats
    assert [r["c"] for r in rows] == ["1", "1", "1", "relu"]  # mixed: strings
    assert [r["new"] for r in rows] == [None, None, None, True]


def test_segments_are_folded_before_they_outgrow_the_file_or_become_many(tmp_path):
    table = SegmentedTable(str(tmp_path / "t.parquet"), str(tmp_path / "seg"),
                           TableLayout(key=("k",)), max_segments=5)
    table.append(pa.Table.from_pylist([{"k": i} for i in range(100)]))
    for i in range(4):
        table.append(pa.Table.from_pylist([{"k": 1000 + i}]))
    assert len(segments(table)) == 4
    table.append(pa.Table.from_pylist([{"k": 2000}]))  # the fifth segment: folded
    assert segments(table) == [] and pq.read_metadata(table.file).num_rows == 105
    table.append(pa.Table.from_pylist([{"k": 3000 + i} for i in range(105)]))  # as large
    assert segments(table) == [] and pq.read_metadata(table.file).num_rows == 210


def test_sweeps_started_in_the_same_second_get_folders_of_their_own(tmp_path):
    """Eight sweeps of one name claim their run folders at once (as `raysearch run ... &`
    started together do, each once its Ray answers): eight different folders, each made by
    the claim, none shared (a check, then a later write, gave several the same folder)."""
    import threading

    from raysearch.runner.pipeline import _new_run_dir

    barrier, claimed = threading.Barrier(8), []

    def claim() -> None:
        barrier.wait()
        claimed.append(_new_run_dir(str(tmp_path / "runs"), "same"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(claimed)) == 8 and all(storage.exists(path) for path in claimed)
    assert not storage.claim_dir(claimed[0])
