"""The embedded store inserts new rows through multi-row statements
(``sqlite_inserts.Inserter``): what it stores, and how its failures surface."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from graph_service.errors import StoreError
from graph_service.storage import Node, Provenance, Relationship
from graph_service.storage.records import node_row
from graph_service.storage.sqlite import SqliteStore
from graph_service.storage.sqlite_inserts import CHUNK, Inserter

SOURCE = Node.create("Source", "one", {"title": "One"})


def person(i: int) -> Node:
    props: dict[str, object] = {"public": i % 2 == 0}
    if i % 3 == 0:
        props["name"] = f"Ёлкин Пётр {i}" if i % 5 == 0 else f"Person {i}"
    evidence = None if i % 4 == 0 else "reported"
    return Node.create(
        "Person", f"p{i}", props, Provenance(("Source:one",), evidence, (f"f.csv#p!{i}",))
    )


def institution(i: int) -> Node:
    return Node.create("Institution", f"48{i:08d}", {"name": f"School {i}", "staff_count": i})


def works(i: int, j: int) -> Relationship:
    evidence = None if i % 4 == 0 else "documented"
    return Relationship.create(
        f"Person:p{i}",
        "WORKS_AT",
        f"Institution:48{j:08d}",
        {"role": "teacher"} if i % 2 else {},
        Provenance(("Source:one",), evidence, (f"f.csv#r!{i}",)),
    )


def raw(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every stored column with its SQL type, as SQLite holds them."""
    db = sqlite3.connect(path)
    nodes = db.execute(
        "SELECT rowid, id, kind, key, props, sources, evidence, origins, search, "
        "typeof(evidence), typeof(props) FROM nodes ORDER BY rowid"
    ).fetchall()
    rels = db.execute(
        "SELECT rowid, src, type, dst, key, props, sources, evidence, origins, "
        "typeof(src), typeof(dst), typeof(evidence) FROM rels ORDER BY rowid"
    ).fetchall()
    db.close()
    return nodes, rels


N = 3 * CHUNK * 2 + 5  # several statements a slice, and a remainder of odd size


def test_a_large_batch_stores_exactly_what_small_batches_store(tmp_path: Path) -> None:
    """One call of thousands of rows (multi-row statements) and the same
    rows ten at a time (inline) give the same file, value for value and type for type."""
    nodes = [SOURCE, *(person(i) for i in range(N)), *(institution(j) for j in range(40))]
    rels = [works(i, i % 40) for i in range(N)]
    large, small = SqliteStore(tmp_path / "large.db"), SqliteStore(tmp_path / "small.db")
    with large.transaction(bulk=True):
        summary = large.upsert(nodes, [])
        rel_summary = large.upsert([], rels)
    assert summary.created == {"Person": N, "Institution": 40, "Source": 1}
    assert rel_summary.created == {"WORKS_AT": N}
    for start in range(0, len(nodes), 10):
        small.upsert(nodes[start : start + 10])
    for start in range(0, len(rels), 10):
        small.upsert([], rels[start : start + 10])
    assert large.get_node("Person:p15") == person(15)
    found = [n.id for n in large.search("ЁЛКИН пётр 15", first=3)]
    assert found == ["Person:p15", "Person:p150", "Person:p1500"]
    assert large.edge_list().sources == small.edge_list().sources
    large.close()
    small.close()
    large_nodes, large_rels = raw(tmp_path / "large.db")
    small_nodes, small_rels = raw(tmp_path / "small.db")
    assert large_nodes == small_nodes
    assert [r[1:] for r in large_rels] == [r[1:] for r in small_rels]
    assert {r[9] for r in large_nodes} == {"null", "text"}


def test_an_insert_failing_late_in_a_batch_fails_its_own_call_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """A row SQLite refuses (an id of NULL) late in a large batch: the same upsert raises
    a StoreError, its transaction is rolled back whole, and the store writes again as
    usual."""
    store = SqliteStore(tmp_path / "g.db")
    store.upsert([SOURCE])
    rows = [node_row(person(i)) for i in range(N)]
    broken = list(rows[N - 3])
    broken[0] = None
    rows[N - 3] = tuple(broken)  # type: ignore[assignment]
    with pytest.raises(StoreError, match="NOT NULL"):
        store.upsert_rows(rows)
    assert store.stats().node_count == 1
    assert store.get_node("Person:p1") is None
    assert store.upsert([person(1)]).created == {"Person": 1}
    store.close()
    assert raw(tmp_path / "g.db")[0][-1][1] == "Person:p1"


def test_a_missing_endpoint_in_a_late_slice_takes_back_the_whole_batch(tmp_path: Path) -> None:
    """An all-new batch of relationships goes in a slice at a time; an endpoint missing
    from its last slice is reported before any of the batch is inserted, so a caller
    who goes on with the transaction stores only the good batches."""
    store = SqliteStore(tmp_path / "g.db")
    nodes = [SOURCE, *(person(i) for i in range(N)), *(institution(j) for j in range(40))]
    good = [works(i, i % 40) for i in range(N)]
    bad = [works(i, (i + 1) % 40) for i in range(N)]
    bad[-2] = Relationship.create("Person:p1", "WORKS_AT", "Institution:4899999999")
    with store.transaction(bulk=True):
        store.upsert(nodes, good[: N // 2])
        with pytest.raises(StoreError, match="Institution:4899999999"):
            store.upsert([], bad)
        store.upsert([], good[N // 2 :])
    assert store.stats().relationship_count == N
    assert store.upsert([], good).unchanged == {"WORKS_AT": N}
    store.close()
    stored = raw(tmp_path / "g.db")[1]
    assert len(stored) == N and stored[-1][0] == N


def test_the_inserter_writes_every_row_in_statements_of_any_size(tmp_path: Path) -> None:
    """Rows in full statements of ``CHUNK`` and a remainder of odd size all go in, in
    order; a refused row fails its statement; columns of unequal lengths are refused."""
    db = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    db.execute("CREATE TABLE t (a INTEGER NOT NULL, b TEXT)")
    inserter = Inserter(db)
    head = "INSERT INTO t (a, b)"
    rows = [(i, f"x{i}") for i in range(2 * CHUNK + 7)]
    inserter.insert(head, list(zip(*rows, strict=True)))
    assert db.execute("SELECT a, b FROM t ORDER BY rowid").fetchall() == rows
    with pytest.raises(sqlite3.IntegrityError):
        inserter.insert(head, [[1, None], ["y", "z"]])
    with pytest.raises(ValueError, match="unequal lengths"):
        inserter.insert(head, [[1, 2, 3], ["a", "b"]])
    db.close()


def test_nodes_written_after_the_relationships_began_are_merged_and_found(
    tmp_path: Path,
) -> None:
    """A bulk load builds the node index once relationships arrive:
    nodes that come later go into it, repeats of earlier ones are merged, and every id
    is found through it."""
    store = SqliteStore(tmp_path / "g.db")
    nodes = [SOURCE, *(person(i) for i in range(N)), *(institution(j) for j in range(40))]
    with store.transaction(bulk=True):
        store.upsert(nodes, [])
        store.upsert([], [works(i, i % 40) for i in range(N)])
        later = store.upsert([person(N + 1), institution(3).merged(institution(77))], [])
    assert later.created == {"Person": 1} and later.updated == {"Institution": 1}
    assert store.get_node("Institution:4800000003") == institution(3).merged(institution(77))
    assert store.get_node(f"Person:p{N + 1}") == person(N + 1)
    assert store.find_nodes("Person", first=1).total_count == N + 1
    store.close()
    db = sqlite3.connect(tmp_path / "g.db")
    found = db.execute(
        "SELECT count(*) FROM nodes INDEXED BY nodes_by_id WHERE id >= 'Person:' AND id < 'Person;'"
    ).fetchone()[0]
    db.close()
    assert found == N + 1
