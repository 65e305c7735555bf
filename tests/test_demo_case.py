"""The bundled Lipetsk case loads whole, and holds only what the report states."""

from __future__ import annotations

from graph_service.storage import Direction, Store
from tests.case import CASE_NODES, CASE_RELATIONSHIPS, load_case

REPORT = "Source:kommersant-lipetsk-poll"


def test_case_loads_with_the_expected_counts(store: Store) -> None:
    load_case(store)
    stats = store.stats()
    assert dict(stats.nodes_by_kind) == CASE_NODES
    assert dict(stats.relationships_by_type) == CASE_RELATIONSHIPS


def test_every_fact_cites_the_report(store: Store) -> None:
    load_case(store)
    nodes = store.find_nodes(first=100).items
    rels = store.relationships(first=100).items
    assert len(nodes) == 23 and len(rels) == 23
    assert all(REPORT in n.provenance.sources for n in nodes)
    assert all(REPORT in r.provenance.sources for r in rels)
    assert all(n.provenance.origins for n in nodes)


def test_the_deadline_has_no_invented_year(store: Store) -> None:
    load_case(store)
    directive = store.get_node("Directive:lipetsk-dip-election-survey")
    assert directive is not None
    assert directive.properties["deadline"] == "--08-16"
    assert directive.properties["wording"] == "strongly recommended"
    election = store.get_node("Election:duma-by-election-lipetsk-114")
    assert election is not None and "date" not in election.properties


def test_two_spellings_are_one_person_and_the_namesake_is_another(store: Store) -> None:
    load_case(store)
    assert [n.id for n in store.search("Sergei Tokarev")] == ["Person:sergey-tokarev"]
    assert [n.id for n in store.search("Sergey Tokarev")] == ["Person:sergey-tokarev"]
    assert [n.id for n in store.search("tokarev", kinds=["Person"])] == [
        "Person:oleg-tokarev",
        "Person:sergey-tokarev",
    ]


def test_the_poll_has_three_questions_and_five_candidates_stand(store: Store) -> None:
    load_case(store)
    poll = store.get_node("Poll:election-awareness")
    assert poll is not None
    assert len(poll.properties["questions"]) == 3  # type: ignore[arg-type]
    assert poll.properties["anonymous_claimed"] is True
    candidates = store.neighbors(
        "Election:duma-by-election-lipetsk-114", ["CANDIDATE_IN"], Direction.IN
    )
    assert candidates.total_count == 5


def test_the_department_issued_the_directive_and_initiated_the_poll(store: Store) -> None:
    load_case(store)
    out = store.neighbors("Authority:lipetsk-dip", direction=Direction.OUT)
    assert {(n.relationship.type, n.node.id) for n in out.items} == {
        ("ISSUED", "Directive:lipetsk-dip-election-survey"),
        ("INITIATED", "Poll:election-awareness"),
    }


def test_loading_the_case_twice_changes_nothing(store: Store) -> None:
    load_case(store)
    version = store.version()
    load_case(store)
    assert store.version() == version
    assert store.stats().node_count == 23
