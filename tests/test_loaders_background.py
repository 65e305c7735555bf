"""Writing while checking (``loaders.background_write``): a real writer process, whose
outcome must be exactly the one-stage-after-the-other load's, and which must leave
nothing behind when the load is rejected, the writer dies, or the loading process dies."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from graph_service.storage import Node
from graph_service.storage.sqlite import SqliteStore
from loaders.background_write import embedded_store_url, wait_for_checkpoints
from loaders.load import _writes_ahead, load_files
from loaders.problems import LoadRejected
from tests.test_loaders_bulk_write import EXAMPLES, contents, outcome, write_files

ROOT = Path(__file__).resolve().parent.parent


def write_clean_files(folder: Path, persons: int = 40) -> list[Path]:
    return write_files(folder, persons, bad_row=False)


def both_ways(tmp_path: Path, paths: list[Path], **options: Any) -> tuple[Any, ...]:
    """The outcome and stored graph of the load done both ways, into fresh stores."""
    results = []
    for background in (False, True):
        store = SqliteStore(tmp_path / f"store-{background}.db")
        result = load_files(paths, store, background=background, **options)
        results.append((outcome(result), contents(store), store.version()))
        store.close()
    return tuple(results)


def test_writing_ahead_gives_the_same_load(tmp_path: Path) -> None:
    sequential, ahead = both_ways(tmp_path, write_clean_files(tmp_path / "in"))
    assert ahead == sequential
    assert sequential[0][1]["Person"] == 40


def test_a_load_written_ahead_reaches_the_database_file(tmp_path: Path) -> None:
    """The writer reports its commit before copying the write-ahead log into the
    database file; the copy still happens. The file alone, without its log, holds the
    load once the writer has ended."""
    store = SqliteStore(tmp_path / "store.db")
    result = load_files(write_clean_files(tmp_path / "in"), store, background=True)
    assert result.written_ahead
    expected = contents(store)  # read through the log
    assert wait_for_checkpoints(timeout=60)
    alone = tmp_path / "alone.db"
    alone.write_bytes((tmp_path / "store.db").read_bytes())
    assert not (tmp_path / "alone.db-wal").exists()
    copy = SqliteStore(alone)
    assert contents(copy) == expected
    assert copy.stats().node_count == store.stats().node_count > 40
    copy.close()
    store.close()


def test_batches_ending_inside_a_chunk_lose_nothing(tmp_path: Path) -> None:
    """The writer's batches (7 records) end inside the chunks the check sends (5,000
    rows), and a mapped row gives several records."""
    sequential, ahead = both_ways(tmp_path, write_clean_files(tmp_path / "in"), batch_size=7)
    assert ahead == sequential
    paths = [EXAMPLES / "sources.csv", EXAMPLES / "staff-list.csv"]
    mapped = tmp_path / "mapped"
    mapped.mkdir()
    sequential, ahead = both_ways(
        mapped, paths, mapping=EXAMPLES / "staff-list.mapping.yaml", batch_size=2
    )
    assert ahead == sequential


def test_writing_ahead_with_a_mapping_gives_the_same_load(tmp_path: Path) -> None:
    paths = [EXAMPLES / "sources.csv", EXAMPLES / "staff-list.csv"]
    options = {"mapping": EXAMPLES / "staff-list.mapping.yaml"}
    sequential, ahead = both_ways(tmp_path, paths, **options)
    assert ahead == sequential


def test_a_repeated_load_written_ahead_changes_nothing(tmp_path: Path) -> None:
    paths = write_clean_files(tmp_path / "in")
    store = SqliteStore(tmp_path / "store.db")
    load_files(paths, store, background=True)
    before, version = contents(store), store.version()
    again = load_files(paths, store, background=True)
    assert sum(again.summary.created.values()) == sum(again.summary.updated.values()) == 0
    assert contents(store) == before and store.version() == version


def test_a_rejected_load_written_ahead_leaves_the_store_untouched(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    store.upsert([Node.create("Source", "old", {"title": "Already there"})])
    before, version = contents(store), store.version()
    with pytest.raises(LoadRejected) as rejected:
        load_files(write_files(tmp_path), store, background=True)
    assert "ghost" in str(rejected.value)
    assert contents(store) == before and store.version() == version
    # the writer is gone and its transaction with it: the store takes writes at once
    store.upsert([Node.create("Source", "new", {"title": "After"})])


def test_skipping_bad_rows_written_ahead_skips_exactly_those(tmp_path: Path) -> None:
    sequential, ahead = both_ways(tmp_path, write_files(tmp_path), skip_invalid=True)
    assert ahead == sequential


def children() -> set[int]:
    found: set[int] = set()
    for path in glob.glob(f"/proc/{os.getpid()}/task/*/children"):
        found.update(int(pid) for pid in Path(path).read_text().split())
    return found


def test_a_writer_that_dies_is_replaced_by_writing_after_the_check(tmp_path: Path) -> None:
    paths = write_clean_files(tmp_path / "in", persons=20_000)
    before = children()
    killed: list[int] = []

    def kill_the_writer(stage: str, rows: int, fraction: float | None) -> None:
        if stage == "checking" and rows >= 12_000 and not killed:
            for pid in children() - before:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    store = SqliteStore(tmp_path / "killed.db")
    result = load_files(paths, store, background=True, progress=kill_the_writer)
    assert killed, "the writer process was not found"
    reference = SqliteStore(tmp_path / "reference.db")
    expected = load_files(paths, reference, background=False)
    assert outcome(result) == outcome(expected)
    assert store.stats() == reference.stats()
    assert contents(store) == contents(reference)


def test_a_loading_process_that_dies_leaves_nothing_written(tmp_path: Path) -> None:
    paths = write_clean_files(tmp_path / "in", persons=20_000)
    db = tmp_path / "store.db"
    SqliteStore(db).close()
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from graph_service.storage.sqlite import SqliteStore
        from loaders.load import load_files

        def stall(stage, rows, fraction):
            if stage == "checking" and rows >= 12_000:
                print("stalled", flush=True)
                time.sleep(600)

        load_files([Path(p) for p in {[str(p) for p in paths]!r}], SqliteStore({str(db)!r}),
                   background=True, progress=stall)
        """
    )
    loader = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert loader.stdout is not None
    assert loader.stdout.readline().strip() == "stalled"
    time.sleep(0.5)  # let the writer take what was sent
    loader.send_signal(signal.SIGKILL)
    loader.wait()
    store = SqliteStore(db)
    # BEGIN IMMEDIATE waits (up to 30 s) for the orphaned writer to notice and roll back
    store.upsert([Node.create("Source", "after", {"title": "After"})])
    assert store.stats().node_count == 1


def test_only_the_embedded_store_is_written_ahead(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    small = write_clean_files(tmp_path / "in")
    assert embedded_store_url(store) == store.url
    assert _writes_ahead(small, store, True)
    assert not _writes_ahead(small, store, None)  # too small to repay a second process
    assert not _writes_ahead(small, store, False)
    assert not _writes_ahead(small, None, True)

    class Other:
        url = "bolt://127.0.0.1:7687"

        def transaction(self) -> None: ...

    assert not _writes_ahead(small, Other(), True)
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(9 << 20)
    assert _writes_ahead([big], store, None)


def test_the_writer_runs_this_code_wherever_the_load_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``loaders`` package in the working directory (another checkout, say) must not
    stand in for the writer's own: the writer would run other code than the check."""
    impostor = tmp_path / "cwd" / "loaders"
    impostor.mkdir(parents=True)
    (impostor / "__init__.py").write_text("")
    (impostor / "background_write.py").write_text("raise SystemExit('the wrong writer')\n")
    monkeypatch.chdir(tmp_path / "cwd")
    store = SqliteStore(tmp_path / "store.db")
    result = load_files(write_clean_files(tmp_path / "in"), store, background=True)
    assert result.written_ahead
    assert result.counts()["Person"] == 40


def test_a_long_running_process_forgets_writers_that_have_ended(tmp_path: Path) -> None:
    """Each written-ahead load leaves a thread reaping its writer; a process that loads
    again and again (and never calls wait_for_checkpoints) keeps only those still running."""
    from loaders import background_write

    assert wait_for_checkpoints(timeout=60)
    paths = write_clean_files(tmp_path / "in")
    for i in range(3):
        store = SqliteStore(tmp_path / f"store-{i}.db")
        assert load_files(paths, store, background=True).written_ahead
        store.close()
        for reaper in list(background_write._checkpointing):
            reaper.join(60)  # ended, but not waited for through wait_for_checkpoints
    assert len(background_write._checkpointing) == 1
    assert wait_for_checkpoints(timeout=60)
    assert not background_write._checkpointing
