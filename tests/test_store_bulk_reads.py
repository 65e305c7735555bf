"""The store's bulk reads agree with its paged reads, on both stores: ``neighborhoods``
with ``neighbors`` node by node, the scans with ``find_nodes`` and ``relationships``."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_service.storage import Direction, Node, Relationship, Store
from graph_service.storage.sqlite import SqliteStore
from schema import Provenance
from tests.case import load_case

P = Provenance(("Source:kommersant-lipetsk-poll",), "reported", ("extra.csv#rels!2",))


def load_awkward_ids(store: Store) -> None:
    """Ids whose code point order differs from UTF-16 order, parallel relationships, and
    a hub with more relationships than the smaller limits."""
    people = [Node.create("Person", key, {"name": f"N {key}"}, P)
              for key in ("ёлка", "\U0001f600x", "\uff5ex", "a1", "a2", "a3")]
    school = Node.create("Institution", "школа-1", {"name": "Школа"}, P)
    rels = [Relationship.create(p.id, "WORKS_AT", school.id, {"role": "teacher"}, P)
            for p in people]
    rels += [Relationship.create(people[0].id, "WORKS_AT", school.id, {"role": r}, P, key=r)
             for r in ("head", "deputy")]
    store.upsert([*people, school], rels)


@pytest.fixture
def loaded(store: Store) -> Store:
    load_case(store)
    load_awkward_ids(store)
    return store


def all_ids(store: Store) -> list[str]:
    return [n.id for n in store.scan_nodes()]


@pytest.mark.parametrize("first", [2, 50])
@pytest.mark.parametrize("rel_types", [None, ["WORKS_AT", "ISSUED", "TARGETS"], []])
def test_neighborhoods_match_neighbors_node_by_node(
    loaded: Store, first: int, rel_types: list[str] | None
) -> None:
    ids = all_ids(loaded)
    assert len(ids) > 20
    for direction in Direction:
        around = loaded.neighborhoods(ids, rel_types, direction, first)
        assert list(around) == ids
        for node_id in ids:
            page = loaded.neighbors(node_id, rel_types, direction, first=first)
            got = around[node_id]
            assert got.total_count == page.total_count, (node_id, direction)
            assert [(a.relationship, a.other, a.direction) for a in got.items] == [
                (n.relationship, n.node.id, n.direction) for n in page.items
            ], (node_id, direction)


def test_neighborhoods_cap_a_hub_and_count_all_of_it(loaded: Store) -> None:
    school = "Institution:школа-1"
    around = loaded.neighborhoods([school, "Person:nobody", school], ["WORKS_AT"], first=3)
    assert list(around) == [school]  # missing nodes left out, repeats once
    assert around[school].total_count == 8
    assert [a.other for a in around[school].items] == [
        "Person:a1", "Person:a2", "Person:a3"
    ]
    assert all(a.direction is Direction.IN for a in around[school].items)


def test_scan_nodes_gives_every_node_in_id_order_like_pages(loaded: Store) -> None:
    for kind in (None, "Person", "Institution", "Poll"):
        paged: list[Node] = []
        after = None
        while True:
            page = loaded.find_nodes(kind, None, first=7, after=after)
            paged.extend(page.items)
            if not page.has_next_page:
                break
            after = page.end_cursor
        scanned = list(loaded.scan_nodes(kind))
        assert scanned == paged
        assert [n.id for n in scanned] == sorted(n.id for n in scanned)
    assert "Person:\U0001f600x" in {n.id for n in loaded.scan_nodes("Person")}


def test_scan_relationships_gives_every_relationship_in_page_order(loaded: Store) -> None:
    for types in (None, ["WORKS_AT"], ["ISSUED", "RELAYS", "TARGETS"], []):
        paged: list[Relationship] = []
        after = None
        while True:
            page = loaded.relationships(types, first=5, after=after)
            paged.extend(page.items)
            if not page.has_next_page:
                break
            after = page.end_cursor
        assert list(loaded.scan_relationships(types)) == paged, types
    assert len(list(loaded.scan_relationships())) == loaded.stats().relationship_count


def test_scans_check_names_before_reading(loaded: Store) -> None:
    from graph_service.errors import PressureGraphError

    with pytest.raises((PressureGraphError, ValueError)):
        loaded.scan_nodes("Martian")
    with pytest.raises((PressureGraphError, ValueError)):
        loaded.scan_relationships(["LIKES"])


def test_property_maps_decode_in_batches_and_fall_back_row_by_row() -> None:
    import json

    from graph_service.storage.props import decode_many, decode_props

    texts = ['{"a":1}', "{}", '{"b":[1,"ё"],"c":null}', '{ "d" : true }']
    assert decode_many(texts) == [{"a": 1}, {}, {"b": [1, "ё"], "c": None}, {"d": True}]
    assert decode_many([]) == []
    # Two objects in one text would still make a valid array: the count gives it away.
    with pytest.raises(json.JSONDecodeError):
        decode_many(['{"a":1},{"b":2}', "{}"])
    with pytest.raises(json.JSONDecodeError):
        decode_props('{"a":1')
    assert decode_props('["not a map"]') == ["not a map"]  # json.loads' answer, unchanged


@pytest.mark.parametrize("first", [1, 2, 3, 50])
def test_neighborhoods_of_a_hub_with_a_self_loop_match_neighbors(store: Store, first: int) -> None:
    """A hub's first relationships are ranked apart from its rows: a self-loop read from
    both ends must stay twice, in its place."""
    top = Node.create("Authority", "top", {"name": "Top"}, P)
    subs = [Node.create("Authority", f"sub-{i}", {"name": f"Sub {i}"}, P) for i in range(3)]
    rels = [Relationship.create(s.id, "SUBORDINATE_TO", top.id, {}, P) for s in subs]
    rels.append(Relationship.create(top.id, "SUBORDINATE_TO", top.id, {}, P))
    store.upsert([top, *subs], rels)
    for direction in Direction:
        got = store.neighborhoods([top.id], ["SUBORDINATE_TO"], direction, first)[top.id]
        page = store.neighbors(top.id, ["SUBORDINATE_TO"], direction, first=first)
        assert got.total_count == page.total_count
        assert [(a.relationship, a.other, a.direction) for a in got.items] == [
            (n.relationship, n.node.id, n.direction) for n in page.items
        ], direction


def test_embedded_neighborhoods_name_nodes_committed_after_the_mirror_caught_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's load can commit between the store's catch-up and its read: the
    nodes it added are named from the file, not the (shorter) mirror."""
    server = SqliteStore(tmp_path / "g.db")
    school = Node.create("Institution", "s", {"name": "School"}, P)
    server.upsert([school], [])
    assert server.neighborhoods([school.id])[school.id].total_count == 0
    loader = SqliteStore(tmp_path / "g.db")
    people = [Node.create("Person", f"p{i}", {"name": f"P {i}"}, P) for i in range(3)]
    loader.upsert(people, [Relationship.create(p.id, "WORKS_AT", school.id, {}, P) for p in people])
    loader.close()
    monkeypatch.setattr(server, "_sync", lambda force=False: None)  # the commit came after it
    for first in (2, 50):  # a hub, and not
        around = server.neighborhoods([school.id], ["WORKS_AT"], Direction.IN, first)[school.id]
        assert around.total_count == 3
        assert [a.other for a in around.items] == [p.id for p in people][:first]
        assert [a.relationship.source for a in around.items] == [p.id for p in people][:first]
    server.close()
