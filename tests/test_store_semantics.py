"""The store protocol's semantics, proved on both stores."""

from __future__ import annotations

import pytest

from graph_service.errors import InvalidArgument, StoreError
from graph_service.storage import Direction, Node, Provenance, Relationship, Store

SRC = "Source:report"


def authority(key: str, name: str, **props: object) -> Node:
    return Node.create("Authority", key, {"name": name, **props}, Provenance((SRC,), "reported"))


def institution(key: str, name: str, staff: int | None = None) -> Node:
    return Node.create("Institution", key, {"name": name, "staff_count": staff})


def sub(a: str, b: str) -> Relationship:
    return Relationship.create(a, "SUBORDINATE_TO", b, provenance=Provenance((SRC,), "documented"))


def test_upsert_then_get_returns_exactly_what_was_written(store: Store) -> None:
    dept = authority("lipetsk-dip", "Департамент внутренней политики", level="regional")
    store.upsert([dept])
    got = store.get_node("Authority:lipetsk-dip")
    assert got == dept
    assert got is not None and got.provenance.sources == (SRC,)
    assert store.get_node("Authority:nobody") is None


def test_repeating_a_load_changes_nothing_and_keeps_the_version(store: Store) -> None:
    nodes = [authority("a", "A"), institution("4826000001", "School 1", 40)]
    rels = [sub("Institution:4826000001", "Authority:a")]
    first = store.upsert(nodes, rels)
    assert first.created == {"Authority": 1, "Institution": 1, "SUBORDINATE_TO": 1}
    version = store.version()
    again = store.upsert(nodes, rels)
    assert again.created == {} and again.updated == {}
    assert again.unchanged == {"Authority": 1, "Institution": 1, "SUBORDINATE_TO": 1}
    assert store.version() == version
    assert store.stats().node_count == 2 and store.stats().relationship_count == 1


def test_every_write_bumps_the_version(store: Store) -> None:
    v0 = store.version()
    store.upsert([authority("a", "A")])
    v1 = store.version()
    store.upsert([authority("a", "A renamed")])
    v2 = store.version()
    assert v0 < v1 < v2


def test_a_repeated_fact_adds_its_source_and_keeps_the_stronger_evidence(store: Store) -> None:
    store.upsert([Node.create("Source", "second", {"title": "Second"})])
    store.upsert([authority("a", "A")])
    later = Node.create(
        "Authority",
        "a",
        {"region": "Lipetsk"},
        Provenance(("Source:second",), "documented", ("b.csv#authorities!2",)),
    )
    summary = store.upsert([later])
    assert summary.updated == {"Authority": 1}
    got = store.get_node("Authority:a")
    assert got is not None
    assert got.properties == {"name": "A", "region": "Lipetsk"}
    assert got.provenance.sources == (SRC, "Source:second")
    assert got.provenance.evidence == "documented"
    assert got.provenance.origins == ("b.csv#authorities!2",)


def test_relationship_to_a_missing_node_is_refused_and_nothing_is_written(store: Store) -> None:
    with pytest.raises(StoreError, match="Authority:ghost"):
        store.upsert([authority("a", "A")], [sub("Authority:a", "Authority:ghost")])
    assert store.get_node("Authority:a") is None
    assert store.stats().node_count == 0


def test_parallel_relationships_are_told_apart_by_key(store: Store) -> None:
    store.upsert([Node.create("Person", "p1", {"public": False}), institution("1", "I")])
    store.upsert(
        [],
        [
            Relationship.create(
                "Person:p1", "WORKS_AT", "Institution:1", {"role": "teacher"}, key="1"
            ),
            Relationship.create(
                "Person:p1", "WORKS_AT", "Institution:1", {"role": "librarian"}, key="2"
            ),
        ],
    )
    page = store.neighbors("Person:p1")
    assert [n.relationship.properties["role"] for n in page.items] == ["teacher", "librarian"]
    assert page.total_count == 2


def test_find_nodes_pages_without_gaps_or_repeats(store: Store) -> None:
    store.upsert(
        [institution(f"{i:04d}", f"School {i}", i % 3) for i in range(23)] + [authority("x", "X")]
    )
    seen: list[str] = []
    after = None
    while True:
        page = store.find_nodes("Institution", first=5, after=after)
        assert page.total_count == 23
        seen.extend(n.id for n in page.items)
        after = page.end_cursor
        if not page.has_next_page:
            break
    assert seen == sorted(f"Institution:{i:04d}" for i in range(23))


def test_find_nodes_filters_on_property_values(store: Store) -> None:
    store.upsert([institution(f"{i:04d}", f"School {i}", i % 3) for i in range(9)])
    page = store.find_nodes("Institution", {"staff_count": 2}, first=50)
    assert [n.key for n in page.items] == ["0002", "0005", "0008"]
    assert page.total_count == 3
    with pytest.raises(InvalidArgument):
        store.find_nodes("Institution", {"colour": "red"})


def test_search_is_case_insensitive_for_cyrillic_and_treats_yo_as_ye(store: Store) -> None:
    store.upsert(
        [
            Node.create("Person", "averov", {"name": "Дмитрий Аверов", "public": True}),
            Node.create("Person", "yolkin", {"name": "Пётр Ёлкин", "public": True}),
            Node.create(
                "Person",
                "tokarev-s",
                {"name": "Sergey Tokarev", "public": True, "aliases": ["Sergei Tokarev"]},
            ),
        ]
    )
    assert [n.key for n in store.search("АВЕРОВ")] == ["averov"]
    assert [n.key for n in store.search("елкин")] == ["yolkin"]
    assert [n.key for n in store.search("ЁЛКИН")] == ["yolkin"]
    assert [n.key for n in store.search("sergei")] == ["tokarev-s"]
    assert [n.key for n in store.search("TOKAREV")] == ["tokarev-s"]
    assert store.search("100%") == []
    assert store.search("averov", kinds=["Authority"]) == []


def test_neighbors_filter_by_type_and_direction_and_count(store: Store) -> None:
    store.upsert(
        [authority("top", "Top"), authority("mid", "Mid")]
        + [institution(str(i), f"I{i}") for i in range(7)],
        [sub("Authority:mid", "Authority:top")]
        + [sub(f"Institution:{i}", "Authority:mid") for i in range(7)],
    )
    incoming = store.neighbors("Authority:mid", ["SUBORDINATE_TO"], Direction.IN, first=3)
    assert incoming.total_count == 7
    assert [n.node.id for n in incoming.items] == [
        "Institution:0",
        "Institution:1",
        "Institution:2",
    ]
    assert all(n.direction is Direction.IN for n in incoming.items)
    rest = store.neighbors(
        "Authority:mid", ["SUBORDINATE_TO"], Direction.IN, first=10, after=incoming.end_cursor
    )
    assert [n.node.key for n in rest.items] == ["3", "4", "5", "6"]
    assert not rest.has_next_page
    out = store.neighbors("Authority:mid", direction=Direction.OUT)
    assert [(n.node.id, n.direction) for n in out.items] == [("Authority:top", Direction.OUT)]
    both = store.neighbors("Authority:mid")
    assert both.total_count == 8
    assert store.neighbors("Authority:mid", ["WORKS_AT"]).total_count == 0


def test_a_bad_cursor_is_an_invalid_argument(store: Store) -> None:
    with pytest.raises(InvalidArgument):
        store.find_nodes("Institution", after="not-a-cursor")


def test_edge_list_lists_every_node_and_the_chosen_relationships(store: Store) -> None:
    store.upsert(
        [authority("top", "Top"), institution("1", "I1")],
        [sub("Institution:1", "Authority:top")],
    )
    edges = store.edge_list()
    assert sorted(edges.node_ids) == ["Authority:top", "Institution:1"]
    pairs = [
        (edges.node_ids[s], edges.rel_types[t], edges.node_ids[d])
        for s, d, t in zip(edges.sources, edges.targets, edges.types, strict=True)
    ]
    assert pairs == [("Institution:1", "SUBORDINATE_TO", "Authority:top")]
    assert len(store.edge_list(["WORKS_AT"]).sources) == 0
    assert edges.version == store.version()


def test_relationships_page_in_identity_order(store: Store) -> None:
    store.upsert(
        [authority("b", "B"), authority("a", "A"), authority("c", "C")],
        [
            sub("Authority:c", "Authority:a"),
            sub("Authority:b", "Authority:a"),
            sub("Authority:b", "Authority:c"),
        ],
    )
    first = store.relationships(first=2)
    assert [r.id for r in first.items] == [
        "Authority:b-SUBORDINATE_TO->Authority:a",
        "Authority:b-SUBORDINATE_TO->Authority:c",
    ]
    rest = store.relationships(first=2, after=first.end_cursor)
    assert [r.id for r in rest.items] == ["Authority:c-SUBORDINATE_TO->Authority:a"]
    assert rest.total_count == 3


def test_clear_empties_the_store_and_bumps_the_version(store: Store) -> None:
    store.upsert([authority("a", "A")])
    v = store.version()
    store.clear()
    assert store.stats().node_count == 0
    assert store.version() > v
    store.upsert([authority("b", "B")])
    assert [n.id for n in store.find_nodes().items] == ["Authority:b"]


def test_text_that_looks_like_cypher_or_sql_is_stored_verbatim(store: Store) -> None:
    nasty = "x'}) MATCH (n) DETACH DELETE n //; DROP TABLE nodes; --"
    store.upsert([Node.create("Authority", "nasty", {"name": nasty, "region": '"\\'})])
    got = store.get_node("Authority:nasty")
    assert got is not None and got.properties == {"name": nasty, "region": '"\\'}
    assert [n.key for n in store.search("detach delete")] == ["nasty"]


def test_relationships_of_reads_a_whole_frontier_at_once(store: Store) -> None:
    store.upsert(
        [authority("top", "Top"), authority("mid", "Mid")]
        + [institution(str(i), f"I{i}") for i in range(4)],
        [sub("Authority:mid", "Authority:top")]
        + [sub(f"Institution:{i}", "Authority:mid") for i in range(4)],
    )
    into_mid = store.relationships_of(["Authority:mid"], ["SUBORDINATE_TO"], Direction.IN)
    assert [r.source for r in into_mid] == [f"Institution:{i}" for i in range(4)]
    both = store.relationships_of(["Authority:mid", "Institution:0", "Authority:ghost"])
    assert [r.id for r in both] == [
        "Authority:mid-SUBORDINATE_TO->Authority:top",
        "Institution:0-SUBORDINATE_TO->Authority:mid",
        "Institution:1-SUBORDINATE_TO->Authority:mid",
        "Institution:2-SUBORDINATE_TO->Authority:mid",
        "Institution:3-SUBORDINATE_TO->Authority:mid",
    ]
    assert store.relationships_of(["Institution:0"], direction=Direction.IN) == []
    assert store.relationships_of([]) == []


def test_filters_keep_booleans_and_numbers_apart(store: Store) -> None:
    store.upsert(
        [
            Node.create("Person", "p1", {"public": True}),
            Node.create("Person", "p2", {"public": False}),
            institution("0001", "One", 1),
            institution("0002", "Two", 2),
        ]
    )
    assert [n.id for n in store.find_nodes("Person", {"public": True}).items] == ["Person:p1"]
    assert store.find_nodes("Person", {"public": 1}).total_count == 0
    assert store.find_nodes("Institution", {"staff_count": True}).total_count == 0
    assert [n.key for n in store.find_nodes("Institution", {"staff_count": 1}).items] == ["0001"]
