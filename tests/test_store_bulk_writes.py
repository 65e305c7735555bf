"""Bulk writes: rows instead of records, and the embedded store's bulk fill, which drops
its unique indexes for a load into a (nearly) empty file and builds them at the end."""

from __future__ import annotations

import contextlib
import sqlite3
from enum import StrEnum
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


def test_a_bulk_fill_goes_on_after_a_batch_refused_for_a_missing_end(tmp_path: Path) -> None:
    """A batch naming a node that does not exist writes none of its relationships; the
    load may go on, and those relationships, sent again once the node exists, are
    created once (the refused batch left no trace but a slower path), then merged."""
    store = SqliteStore(tmp_path / "g.db")
    with store.transaction(bulk=True):
        store.upsert(sources())
        store.upsert([inst(1), person(1)])
        with pytest.raises(StoreError, match="Person:p2"):
            store.upsert([], [works(1, 1), works(2, 1)])
        store.upsert([person(2)])
        again = store.upsert([], [works(1, 1), works(2, 1)])
        repeat = store.upsert([], [works(2, 1, S2)])
    assert again.created == {"WORKS_AT": 2}
    assert repeat.updated == {"WORKS_AT": 1} and not repeat.created
    assert [r.source for r in store.relationships_of([inst(1).id])] == ["Person:p1", "Person:p2"]
    assert store.stats().relationship_count == 2
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


def _indexes(store: SqliteStore) -> set[str]:
    return {r[0] for r in store._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


@pytest.mark.parametrize("in_order", [True, False])
def test_the_identity_index_kept_while_relationships_come_by_source(
    tmp_path: Path, in_order: bool
) -> None:
    """Relationships by source into an empty table keep the identity index as they come
    (it exists after the first batch); a batch out of that order drops it, and the commit
    builds it again. Either way the file ends with the index, refusing duplicates, and
    holds what the general path stores; a later repeat is merged."""
    people = [person(i) for i in range(30)]
    batches = [[works(i, i % 3) for i in range(0, 10)], [works(i, i % 3) for i in range(10, 20)]]
    batches.append([works(i, i % 3) for i in range(20, 30)])
    if not in_order:
        batches[1].reverse()  # sources go down inside the batch
    fast = SqliteStore(tmp_path / "fast.db")
    general = SqliteStore(tmp_path / "general.db")
    seen = []
    with fast.transaction(bulk=True):
        fast.upsert([*sources(), *(inst(j) for j in range(3)), *people])
        for batch in batches:
            fast.upsert([], batch)
            seen.append("rels_by_identity" in _indexes(fast))
        repeat = fast.upsert([], [works(5, 2, S2)])
    general.upsert([*sources(), *(inst(j) for j in range(3)), *people])
    for batch in batches:
        general.upsert([], batch)
    general.upsert([], [works(5, 2, S2)])
    assert seen == ([True, True, True] if in_order else [True, False, False])
    assert repeat.updated == {"WORKS_AT": 1}
    assert "rels_by_identity" in _indexes(fast)
    assert everything(fast) == everything(general)
    assert fast.stats().relationship_count == 30
    with pytest.raises(sqlite3.IntegrityError):
        fast._db.execute(
            "INSERT INTO rels (src, type, dst, key, props, sources, evidence, origins) "
            "SELECT src, type, dst, key, props, sources, evidence, origins FROM rels LIMIT 1"
        )
    fast.close()
    general.close()


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


# -- the fast paths of a write: batches of new facts go in column by column -------------


def _expected(
    batches: list[tuple[list[Node], list[Relationship]]],
) -> tuple[list[dict[str, dict[str, int]]], list[Node], list[Relationship]]:
    """What upserting these batches must store and count, worked out from the records'
    own merge semantics (the general path, one fact at a time)."""
    nodes: dict[str, Node] = {}
    rels: dict[tuple[str, str, str, str], Relationship] = {}
    counts = []
    for batch_nodes, batch_rels in batches:
        before_nodes, before_rels = dict(nodes), dict(rels)
        for n in batch_nodes:
            nodes[n.id] = nodes[n.id].merged(n) if n.id in nodes else n
        for r in batch_rels:
            rels[r.identity] = rels[r.identity].merged(r) if r.identity in rels else r
        outcome: dict[str, dict[str, int]] = {"created": {}, "updated": {}, "unchanged": {}}
        for stored, before, name in (
            *(
                (nodes[i], before_nodes.get(i), nodes[i].kind)
                for i in {n.id: 0 for n in batch_nodes}
            ),
            *((rels[i], before_rels.get(i), i[1]) for i in {r.identity: 0 for r in batch_rels}),
        ):
            kind = "created" if before is None else "unchanged" if stored == before else "updated"
            outcome[kind][name] = outcome[kind].get(name, 0) + 1
        counts.append(outcome)
    return (
        counts,
        sorted(nodes.values(), key=lambda n: n.id),
        sorted(rels.values(), key=lambda r: r.identity),
    )


def _fast_path_batches() -> list[tuple[list[Node], list[Relationship]]]:
    fresh = (
        [*sources(), *(inst(i) for i in range(5)), *(person(i) for i in range(7))],
        [works(i, i) for i in range(5)],
    )
    mixed = (
        # updated, unchanged, new, and a new node twice in one batch
        [
            inst(0, staff_count=7),
            inst(1),
            inst(5),
            inst(6, region="Lipetsk"),
            inst(6, staff_count=3),
        ],
        [
            works(0, 0, S2),  # updated: a second source
            works(1, 1),  # unchanged
            works(5, 5),  # new
            works(6, 5),  # new, and repeated below with stronger evidence
            works(6, 5, S2, "documented"),
        ],
    )
    all_new_again = ([inst(7), inst(8)], [works(2, 7), works(3, 8)])
    return [fresh, mixed, fresh, all_new_again, mixed]


@pytest.mark.parametrize("bulk", [True, False], ids=["one-bulk-transaction", "a-commit-per-batch"])
def test_batches_of_new_mixed_and_repeated_facts_store_and_count_what_merging_says(
    store: Store, bulk: bool
) -> None:
    """Whatever path a batch takes (all new: inserted column by column; mixed with
    stored or repeated facts: merged), the stored graph and the counts are those of
    merging fact by fact — in one bulk transaction and with a commit per batch."""
    batches = _fast_path_batches()
    counts, nodes, rels = _expected(batches)
    transaction = getattr(store, "transaction", None)
    scope = transaction(bulk=True) if bulk and transaction is not None else contextlib.nullcontext()
    got = []
    with scope:
        for batch_nodes, batch_rels in batches:
            s = upsert_rows(store, map(node_row, batch_nodes), map(rel_row, batch_rels))
            got.append({"created": s.created, "updated": s.updated, "unchanged": s.unchanged})
    assert got == counts
    stored_nodes, stored_rels = everything(store)
    assert stored_nodes == nodes
    assert sorted(stored_rels, key=lambda r: r.identity) == rels
    assert store.stats().node_count == len(nodes)
    assert store.stats().relationship_count == len(rels)


def _edges(store: SqliteStore) -> list[tuple[str, str]]:
    edges = store.edge_list()
    ids = edges.node_ids
    return [(ids[s], ids[t]) for s, t in zip(edges.sources, edges.targets, strict=True)]


def test_a_bulk_fill_of_new_batches_equals_the_general_path_and_survives_reopening(
    tmp_path: Path,
) -> None:
    """The same batches into a store in one bulk transaction (all-new batches skip the
    look-ups) and into one that already held a fact (every batch takes the general
    path): the same counts, the same file content, and a reopened store reads it back."""
    batches = [
        ([*sources(), *(inst(i) for i in range(50)), *(person(i) for i in range(50))], []),
        ([], [works(i, i % 50) for i in range(50)]),
        ([], [works(i, (i + 1) % 50, S2) for i in range(50)]),
    ]
    fast = SqliteStore(tmp_path / "fast.db")
    general = SqliteStore(tmp_path / "general.db")
    general.upsert([inst(99)])
    with fast.transaction(bulk=True):
        fast_counts = [fast.upsert(*b).created for b in batches]
    general_counts = [general.upsert(*b).created for b in batches]
    assert fast_counts == general_counts
    fast.close()
    reopened = SqliteStore(tmp_path / "fast.db")
    fast_nodes, fast_rels = everything(reopened)
    general_nodes, general_rels = everything(general)
    assert fast_nodes == [n for n in general_nodes if n.id != inst(99).id]
    assert fast_rels == general_rels
    assert _edges(reopened) == _edges(general)
    reopened.close()
    general.close()


class _Colour(StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    "maps",
    [
        [],
        [{}, {}],
        [{"name": "A"}, {}, {"b": 1, "a": [1, 2]}, {"x": 1.5, "y": None, "z": True}],
        [{"name": "a},{b"}, {"name": "c"}],  # the boundary inside a string
        [{"list": [{"a": 1}, {"b": 2}]}, {}],  # and inside a nested list of objects
        [{"name": "Ёлкин\n\x1f\x00 «школа»"}, {"name": "x"}],
        [{"name": "one"}],
        # where orjson and json differ: floats, NaN, integers past 64 bits, subclasses
        [{"a": 1e-05}, {"b": 1}],
        [{"a": [0.5, 2]}, {"n": float("nan")}, {"i": float("inf")}],
        [{"a": 2**64}, {"b": -(2**63)}],
        [{"kind": _Colour.RED}, {"name": "Region 1.5, e-mail e+"}],
        # and where they agree: control characters, key order by code point, text "null"
        [{"s": "\x01\x7f\u2028\"\\/\b\f\t\r", "é": 1, "z": 2, "ё": 3, "\U0001f600": 4}],
        [{"name": "null", "n": -3, "t": False, "l": []}, {"x": "1.5"}],
    ],
)
def test_encoding_many_property_maps_equals_encoding_each(maps: list[dict[str, object]]) -> None:
    from graph_service.storage.props import encode, encode_many

    assert encode_many(maps) == [encode(m) if m else "{}" for m in maps]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("keys", "props"),
    [
        (["a", "B"], [{"name": "School 1"}, {"name": "SCHOOL 2", "staff_count": 3}]),
        (["a", "b"], [{"name": "x", "title": "T"}, {"name": "y", "title": "U"}]),
        (["a", "b"], [{"name": "x"}, {"title": "U"}]),  # different fields: row by row
        (["a", "b"], [{"name": "Ёлкин"}, {"name": "ЕЛКИН"}]),  # not ASCII
        (["a", "b"], [{"aliases": ["Q", "R"]}, {}]),
        (["a", "b"], [{}, {"staff_count": 1}]),  # nothing searched but the key
        (["a", "b"], [{"name": ""}, {"name": "Z"}]),
        (["İ"], [{"name": "x"}]),
    ],
)
def test_search_texts_of_a_batch_equal_those_of_each_node(
    keys: list[str], props: list[dict[str, object]]
) -> None:
    from graph_service.storage.text import search_text_of, search_texts_of

    assert search_texts_of(keys, props) == [
        search_text_of(k, p) for k, p in zip(keys, props, strict=True)
    ]  # type: ignore[arg-type]
