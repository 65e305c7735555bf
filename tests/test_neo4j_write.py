"""The Neo4j store's relationship writes between nodes that already exist (with and without
relationships of their own): the counts and the stored graph are the embedded store's. Any
shortcut on this path (skipping lookups, fusing lookup and create) must keep this passing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import neo4j
import pytest

from graph_service.errors import StoreError
from graph_service.storage import Node, Provenance, Relationship
from graph_service.storage.neo4j import Neo4jStore
from graph_service.storage.sqlite import SqliteStore


def _persons(n: int) -> list[Node]:
    return [Node.create("Person", f"p{i}", {"name": f"P {i}"}) for i in range(n)]


def test_relationships_between_existing_nodes_count_the_same_in_both_stores(
    neo4j_store: Neo4jStore, tmp_path: Path
) -> None:
    school = Node.create("Institution", "school", {"name": "School"})
    works = [Relationship.create(f"Person:p{i}", "WORKS_AT", "Institution:school",
                                 key=str(i % 2)) for i in range(6)]
    more = Relationship.create("Person:p0", "WORKS_AT", "Institution:school", {"role": "head"},
                               Provenance(("Source:x",), "documented"), key="head")
    changed = Relationship.create("Person:p1", "WORKS_AT", "Institution:school",
                                  provenance=Provenance(("Source:y",)), key="1")
    embedded = SqliteStore(tmp_path / "same.db")
    try:
        outcomes = []
        for store in (neo4j_store, embedded):
            steps = [
                store.upsert([*_persons(6), school]),  # nodes only: none has a relationship
                store.upsert([], works[:3]),  # between nodes that had none
                store.upsert([], works),  # half there already, half new
                store.upsert([], [more, changed]),  # new between connected nodes, a merge
                store.upsert([], works),
            ]
            outcomes.append([(s.created, s.updated, s.unchanged) for s in steps])
            rels = store.relationships(first=100).items
            outcomes.append([(r.identity, r.properties, r.provenance) for r in rels])
        assert outcomes[0] == outcomes[2] and outcomes[1] == outcomes[3]
        assert outcomes[0][2] == ({"WORKS_AT": 3}, {}, {"WORKS_AT": 3})
        assert outcomes[0][3] == ({"WORKS_AT": 1}, {"WORKS_AT": 1}, {})
        assert len(outcomes[1]) == 7
    finally:
        embedded.close()


def test_relationship_write_fails_whole_when_an_end_is_deleted_after_the_check(
    neo4j_store: Neo4jStore, neo4j_driver: neo4j.Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relationships find ends that existed by the element id the endpoint check read; a
    node deleted between that check and the write (here by another client's plain Cypher,
    which bumps no version) must fail the write, not attach it elsewhere or drop it."""
    neo4j_store.upsert([*_persons(3), Node.create("Institution", "school", {"name": "S"})])
    works = [Relationship.create(f"Person:p{i}", "WORKS_AT", "Institution:school")
             for i in range(3)]
    checked = Neo4jStore._existing_ids

    def check_then_delete(tx: Any, ids: Any) -> dict[str, str]:
        found = checked(tx, ids)
        with neo4j_driver.session() as session:
            session.run("MATCH (n:Node {id: 'Person:p1'}) DETACH DELETE n").consume()
        return found

    monkeypatch.setattr(Neo4jStore, "_existing_ids", staticmethod(check_then_delete))
    with pytest.raises(StoreError, match="deleted while writing"):
        neo4j_store.upsert([], works)
    monkeypatch.undo()
    assert neo4j_store.relationships(first=10).items == []  # the transaction rolled back


def test_a_relationship_written_by_another_writer_after_the_check_is_not_created_twice(
    neo4j_store: Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relationships from a node that had none at the endpoint check are created without a
    look; that holds only while no other writer commits in between. Here one does, writing
    the same relationship: it must come out unchanged, not doubled."""
    neo4j_store.upsert([*_persons(2), Node.create("Institution", "school", {"name": "S"})])
    works = [Relationship.create(f"Person:p{i}", "WORKS_AT", "Institution:school")
             for i in range(2)]
    unlinked = Neo4jStore._unlinked
    checks = []

    def check_then_write(tx: Any, ids: Any, present: Any) -> set[str]:
        found = unlinked(tx, ids, present)
        checks.append(found)
        if len(checks) == 1:  # ours (the other writer's own check comes second)
            neo4j_store.upsert([], works[:1])  # another writer, committed before ours
        return found

    monkeypatch.setattr(Neo4jStore, "_unlinked", staticmethod(check_then_write))
    summary = neo4j_store.upsert([], works)
    monkeypatch.undo()
    assert checks[0] == {"Person:p0", "Person:p1"}  # the shortcut would have applied
    assert (summary.created, summary.unchanged) == ({"WORKS_AT": 1}, {"WORKS_AT": 1})
    assert neo4j_store.stats().relationship_count == 2
