"""The embedded store's file: reopened exactly, shared with other processes, and
intact after `kill -9`. (SQLite-specific: the Neo4j server has its own guarantees.)"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from graph_service.storage import Node, Provenance, Relationship
from graph_service.storage.sqlite import SqliteStore

WRITER = """
import sys
from graph_service.storage import Node, Relationship
from graph_service.storage.sqlite import SqliteStore
store = SqliteStore(sys.argv[1])
batch = 0
while True:
    nodes = [Node.create("Institution", f"{batch:05d}{i:05d}", {"name": f"I{i}"})
             for i in range(500)]
    rels = [Relationship.create(nodes[i].id, "SUBORDINATE_TO", "Authority:top")
            for i in range(500)]
    store.upsert(nodes, rels)
    batch += 1
    print(batch, flush=True)
"""


def test_reopening_gives_back_exactly_what_was_committed(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    store = SqliteStore(path)
    nodes = [
        Node.create("Authority", "top", {"name": "Top"}, Provenance(("Source:s",), "reported")),
        Node.create("Source", "s", {"title": "S"}),
        Node.create("Institution", "4826000001", {"name": "Школа", "staff_count": 12}),
    ]
    rels = [Relationship.create("Institution:4826000001", "SUBORDINATE_TO", "Authority:top")]
    store.upsert(nodes, rels)
    version = store.version()
    before = (store.find_nodes(first=10).items, store.relationships().items, store.edge_list())
    store.close()
    again = SqliteStore(path)
    after = (again.find_nodes(first=10).items, again.relationships().items, again.edge_list())
    assert after == before
    assert again.version() == version


def test_a_reader_sees_another_process_commit_at_its_next_call(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    reader = SqliteStore(path)
    assert reader.stats().node_count == 0
    writer = SqliteStore(path)
    writer.upsert([Node.create("Authority", "a", {"name": "A"})])
    assert reader.get_node("Authority:a") is not None
    assert reader.version() == writer.version()
    assert reader.edge_list().node_ids == ["Authority:a"]


def test_clear_in_another_process_resets_the_readers_mirror(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    reader = SqliteStore(path)
    writer = SqliteStore(path)
    writer.upsert([Node.create("Authority", "a", {"name": "A"})])
    assert len(reader.edge_list().node_ids) == 1
    writer.clear()
    writer.upsert([Node.create("Authority", "b", {"name": "B"})])
    assert reader.edge_list().node_ids == ["Authority:b"]


def test_kill_9_mid_load_loses_no_committed_batch_and_leaves_no_partial_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "g.db"
    SqliteStore(path).upsert([Node.create("Authority", "top", {"name": "Top"})])
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    committed = 0
    deadline = time.monotonic() + 60
    while committed < 5 and time.monotonic() < deadline:
        committed = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = SqliteStore(path)
    stats = store.stats()
    institutions = stats.nodes_by_kind["Institution"]
    assert institutions >= committed * 500  # every batch it reported is there
    assert institutions % 500 == 0  # and no batch is there in part
    assert stats.relationships_by_type["SUBORDINATE_TO"] == institutions
    assert len(store.edge_list().sources) == institutions
    # The file is still writable after the crash.
    store.upsert([Node.create("Authority", "after", {"name": "After"})])


def test_a_file_of_another_store_format_is_refused_with_advice(tmp_path: Path) -> None:
    import sqlite3

    import pytest

    from graph_service.errors import StoreError

    path = tmp_path / "old.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = 1 WHERE name = 'format'")
    with pytest.raises(StoreError, match="store format 1, this one reads 2"):
        SqliteStore(path)


def test_new_files_have_large_pages_and_old_files_keep_theirs(tmp_path: Path) -> None:
    """A new store is made with 16 KiB pages (a large load writes a quarter as many); a
    file made with SQLite's default 4 KiB pages opens, takes writes and keeps its size."""
    new = SqliteStore(tmp_path / "new.db")
    new.upsert([Node.create("Source", "s", {"title": "S"})])
    new.close()
    old_path = tmp_path / "old.db"
    db = sqlite3.connect(old_path)
    db.execute("PRAGMA page_size=4096")
    db.execute("CREATE TABLE made_before (x)")
    db.close()
    old = SqliteStore(old_path)
    old.upsert([Node.create("Source", "s", {"title": "S"})])
    old.close()
    sizes = {}
    for name in ("new.db", "old.db"):
        db = sqlite3.connect(tmp_path / name)
        sizes[name] = db.execute("PRAGMA page_size").fetchone()[0]
        assert db.execute("SELECT id FROM nodes").fetchall() == [("Source:s",)]
        db.close()
    assert sizes == {"new.db": 16384, "old.db": 4096}
