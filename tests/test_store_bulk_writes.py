"""Bulk writes: rows instead of records, and the embedded store's bulk fill, which drops
its unique indexes for a load into a (nearly) empty file and builds them at the end."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from graph_service.errors import StoreError
from graph_service.storage import Node, Provenance, Relationship, Store
from graph_service.storage.protocol import RowWriter, upsert_rows
from graph_service.storage.records import node_row, rel_row
from graph_service.storage.sqlite import SqliteStore

S1, S2 = "Source:one", "Source:two"


def sources() -> list[Node]:
    return [Node.create("Source", "one", {"title": "One"}), Node.create("Source", "two", {})]


def inst(i: int, **props: object) -> Node:
    return Node.create(
        "Institution",
        f"48260{i:05d}",
        {"name": f"School {i}", **props},
        Provenance((S1,), "reported", (f"f.csv#institutions!{i}",)),
    )


def works(i: int, j: int, source: str = S1, evidence: str = "reported") -> Relationship:
    return Relationship.create(
        f"Person:p{i}",
        "WORKS_AT",
        f"Institution:48260{j:05d}",
        {"role": "teacher"},
        Provenance((source,), evidence),
    )


def person(i: int) -> Node:
    return Node.create("Person", f"p{i}", {"public": False})


def everything(store: Store) -> tuple[list[Node], list[Relationship]]:
    ids = [n.id for n in store.find_nodes(first=10_000).items]
    return sorted(store.get_nodes(ids).values(), key=lambda n: n.id), list(
        store.relationships(first=10_000).items
    )


def test_upsert_rows_writes_and_counts_exactly_what_upsert_does(
    store: Store, tmp_path: Path
) -> None:
    reference = SqliteStore(tmp_path / "reference.db")
    for s in (store, reference):
        s.upsert([*sources(), inst(0), inst(1)])
    nodes = [inst(0, staff_count=5), inst(1), inst(2), *(person(i) for i in range(3))]
    rels = [works(i, i) for i in range(3)]
    expected = reference.upsert(nodes, rels)
    got = upsert_rows(store, map(node_row, nodes), map(rel_row, rels))
    assert got.created == expected.created == {"Institution": 1, "Person": 3, "WORKS_AT": 3}
    assert got.updated == expected.updated == {"Institution": 1}
    assert got.unchanged == expected.unchanged == {"Institution": 1}
    assert everything(store) == everything(reference)
    reference.close()


def test_the_embedded_store_takes_rows_directly(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.db")
    assert isinstance(store, RowWriter)
    store.close()


def test_a_bulk_fill_keeps_ids_and_relationships_unique_across_batches(tmp_path: Path) -> None:
    """A relationship or node repeated in a later batch of one bulk load is merged, not
    stored twice, though the unique indexes are off while the load runs."""
    store = SqliteStore(tmp_path / "g.db")
    with store.transaction(bulk=True):
        store.upsert(sources())
        first = store.upsert([inst(1), person(1), person(2)], [works(1, 1)])
        second = store.upsert(
            [inst(1, staff_count=30), person(2)],
            [works(1, 1, S2, "documented"), works(2, 1)],
        )
    assert first.created == {"Institution": 1, "Person": 2, "WORKS_AT": 1}
    assert second.created == {"WORKS_AT": 1}
    assert second.updated == {"Institution": 1, "WORKS_AT": 1}
    assert second.unchanged == {"Person": 1}
    assert store.stats().relationship_count == 2 and store.stats().node_count == 5
    rel = store.relationships_of(["Person:p1"])[0]
    assert rel.provenance.sources == (S1, S2) and rel.provenance.evidence == "documented"
    node = store.get_node(inst(1).id)
    assert node is not None and node.properties["staff_count"] == 30
    indexes = {
        r[0]
        for r in sqlite3.connect(tmp_path / "g.db").execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'"
        )
    }
    assert {"nodes_by_id", "rels_by_identity", "rels_by_target"} <= indexes
    # the rebuilt index still refuses a duplicate
    with pytest.raises(sqlite3.IntegrityError):
        store._db.execute(
            "INSERT INTO rels (src, type, dst, key, props, sources, evidence, origins) "
            "SELECT src, type, dst, key, props, sources, evidence, origins FROM rels LIMIT 1"
        )
    store.close()


def test_a_failed_bulk_fill_leaves_the_file_and_its_indexes_as_they_were(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.db")
    store.upsert(sources())
    with pytest.raises(StoreError), store.transaction(bulk=True):
        store.upsert([inst(1), person(1)], [works(1, 1)])
        store.upsert([], [works(9, 1)])  # Person:p9 does not exist
    assert store.stats().node_count == 2 and store.stats().relationship_count == 0
    store.upsert([inst(1), person(1)], [works(1, 1)])
    again = store.upsert([inst(1), person(1)], [works(1, 1)])
    assert again.unchanged == {"Institution": 1, "Person": 1, "WORKS_AT": 1}
    store.close()


def test_a_reload_merges_many_stored_relationships_in_batched_lookups(tmp_path: Path) -> None:
    """More repeated relationships than one look-up statement holds (500), each merged."""
    store = SqliteStore(tmp_path / "g.db")
    store.upsert(sources())
    nodes = [inst(0), *(person(i) for i in range(1_200))]
    store.upsert(nodes, [works(i, 0) for i in range(1_200)])
    summary = store.upsert([], [works(i, 0, S2 if i % 2 else S1) for i in range(1_200)])
    assert summary.updated == {"WORKS_AT": 600} and summary.unchanged == {"WORKS_AT": 600}
    rels = {r.source: r for r in store.relationships_of(["Institution:4826000000"])}
    assert rels["Person:p1"].provenance.sources == (S1, S2)
    assert rels["Person:p2"].provenance.sources == (S1,)
    store.close()


def test_a_file_with_built_in_unique_constraints_still_loads_in_bulk(tmp_path: Path) -> None:
    """Files written before the unique indexes had names: a bulk load keeps their
    constraints (they cannot be dropped) and merges repeats as before."""
    path = tmp_path / "old.db"
    store = SqliteStore(path)
    store.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        """
        DROP INDEX nodes_by_id; DROP INDEX rels_by_identity; DROP INDEX rels_by_target;
        DROP TABLE nodes; DROP TABLE rels;
        CREATE TABLE nodes (id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, key TEXT NOT NULL,
            props TEXT NOT NULL, sources TEXT NOT NULL, evidence TEXT,
            origins TEXT NOT NULL, search TEXT NOT NULL);
        CREATE TABLE rels (src INTEGER NOT NULL, type TEXT NOT NULL, dst INTEGER NOT NULL,
            key TEXT NOT NULL, props TEXT NOT NULL, sources TEXT NOT NULL, evidence TEXT,
            origins TEXT NOT NULL, UNIQUE (src, type, dst, key));
        """
    )
    db.close()
    store = SqliteStore(path)
    with store.transaction(bulk=True):
        store.upsert([*sources(), inst(1), person(1)], [works(1, 1)])
        repeat = store.upsert([], [works(1, 1, S2)])
    assert repeat.updated == {"WORKS_AT": 1}
    names = {r[0] for r in store._db.execute("SELECT name FROM sqlite_master")}
    assert "nodes_by_id" not in names and "rels_by_identity" not in names
    assert store.stats().relationship_count == 1
    store.close()
