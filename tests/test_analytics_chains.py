"""Chains of instruction, reach, chain of command and paths on synthetic relay trees
and on the bundled case, run on every store kind."""

from __future__ import annotations

from typing import Any

import pytest

import graph_service.cli
from graph_service.analytics.chains import chain_to_origin, chain_up, days_between
from graph_service.analytics.projection import ProjectionCache, ProjectionSpec
from graph_service.analytics.reach import FLOW_TYPES
from graph_service.api.context import Context
from graph_service.api.schema import schema
from graph_service.storage import Node, Relationship, Store
from loaders.load import load_files
from schema import NODE_KINDS


def run(store: Store, query: str) -> dict[str, Any]:
    result = schema.execute_sync(query, context_value=Context(store=store))
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def error(store: Store, query: str) -> str:
    result = schema.execute_sync(query, context_value=Context(store=store))
    assert result.errors, result.data
    return result.errors[0].message


def relay_tree(store: Store) -> None:
    """ministry -D0-> region-a, region-b; region-a relays as D1a (to school-1, school-2,
    and a person), region-b as D1b (to school-3); school-1 relays D1a as D2 to a teacher.
    D2 is also (wrongly) recorded as relayed by D0: a cycle the walks must survive."""
    n = Node.create
    r = Relationship.create
    nodes = [
        n("Authority", "ministry", {"name": "Ministry"}),
        n("Authority", "region-a", {"name": "Region A"}),
        n("Authority", "region-b", {"name": "Region B"}),
        n("Institution", "school-1", {"name": "School 1", "staff_count": 40}),
        n("Institution", "school-2", {"name": "School 2"}),
        n("Institution", "school-3", {"name": "School 3", "staff_count": 2}),
        n("Person", "p-director", {"public": False}),
        n("Person", "p-teacher", {"public": False}),
        n("Person", "p-t2", {"public": False}),
        n("Person", "p-t3", {"public": False}),
        n("Person", "p-t4", {"public": False}),
        n("Person", "p-loose", {"public": False}),
        n("Directive", "d0", {"issued": "2023-08-01", "wording": "required"}),
        n("Directive", "d1a", {"issued": "2023-08-04", "wording": "strongly recommended"}),
        n("Directive", "d1b", {"issued": "2023-08", "wording": "recommended"}),
        n("Directive", "d2", {"issued": "2023-08-05", "channel": "messenger"}),
        n("Poll", "survey", {"title": "Survey"}),
    ]
    rels = [
        r("Authority:region-a", "SUBORDINATE_TO", "Authority:ministry"),
        r("Authority:region-b", "SUBORDINATE_TO", "Authority:ministry"),
        r("Institution:school-1", "SUBORDINATE_TO", "Authority:region-a"),
        r("Institution:school-2", "SUBORDINATE_TO", "Authority:region-a"),
        r("Institution:school-3", "SUBORDINATE_TO", "Authority:region-b"),
        r("Person:p-director", "WORKS_AT", "Institution:school-1"),
        r("Person:p-teacher", "WORKS_AT", "Institution:school-1"),
        r("Person:p-t2", "WORKS_AT", "Institution:school-2"),
        r("Person:p-t3", "WORKS_AT", "Institution:school-2"),
        r("Person:p-t4", "WORKS_AT", "Institution:school-2"),
        r("Authority:ministry", "ISSUED", "Directive:d0"),
        r("Directive:d0", "TARGETS", "Authority:region-a", {"received": "2023-08-02"}),
        r("Directive:d0", "TARGETS", "Authority:region-b", {"received": "--08-02"}),
        r("Directive:d0", "REQUIRES", "Poll:survey"),
        r("Authority:region-a", "ISSUED", "Directive:d1a"),
        r("Directive:d1a", "RELAYS", "Directive:d0"),
        r("Directive:d1a", "TARGETS", "Institution:school-1", {"received": "2023-08-06"}),
        r("Directive:d1a", "TARGETS", "Institution:school-2"),
        r("Directive:d1a", "TARGETS", "Person:p-loose"),
        r("Authority:region-b", "ISSUED", "Directive:d1b"),
        r("Directive:d1b", "RELAYS", "Directive:d0"),
        r("Directive:d1b", "TARGETS", "Institution:school-3"),
        r("Person:p-director", "ISSUED", "Directive:d2"),
        r("Directive:d2", "RELAYS", "Directive:d1a"),
        r("Directive:d0", "RELAYS", "Directive:d2"),
        r("Directive:d2", "TARGETS", "Person:p-teacher", {"received": "2023-08-05"}),
    ]
    store.upsert(nodes, rels)


CHAIN = """{ instructionChain(directiveId: "%s") {
  version originId depth institutionsReached peopleReached authoritiesReached
  estimatedStaffReached truncated method { name reference parameters }
  hops { directiveId level relaysId issued lagDays wording channel
         issuers { id } requires { id }
         recipients { recipientId received lagDays } } } }"""


def test_instruction_chain_walks_the_relay_tree_from_the_origin(store: Store) -> None:
    relay_tree(store)
    chain = run(store, CHAIN % "Directive:d2")["instructionChain"]
    assert chain["originId"] == "Directive:d0"
    hops = {h["directiveId"]: h for h in chain["hops"]}
    assert [h["directiveId"] for h in chain["hops"]] == [
        "Directive:d0",
        "Directive:d1a",
        "Directive:d1b",
        "Directive:d2",
    ]
    assert [hops[d]["level"] for d in hops] == [0, 1, 1, 2]
    assert hops["Directive:d2"]["relaysId"] == "Directive:d1a"
    assert chain["depth"] == 2
    assert hops["Directive:d0"]["requires"] == [{"id": "Poll:survey"}]
    assert hops["Directive:d1a"]["issuers"] == [{"id": "Authority:region-a"}]
    # Lags only between full dates: d1b's "2023-08" has no day.
    assert hops["Directive:d1a"]["lagDays"] == 3
    assert hops["Directive:d2"]["lagDays"] == 1
    assert hops["Directive:d1b"]["lagDays"] is None
    received = {r["recipientId"]: r for r in hops["Directive:d0"]["recipients"]}
    assert received["Authority:region-a"]["lagDays"] == 1
    assert received["Authority:region-b"] == {
        "recipientId": "Authority:region-b",
        "received": "--08-02",
        "lagDays": None,
    }
    assert chain["method"]["reference"].startswith("Moore 1959")
    assert chain["version"] == store.version()


def test_chain_totals_count_institutions_people_and_staff(store: Store) -> None:
    relay_tree(store)
    chain = run(store, CHAIN % "Directive:d0")["instructionChain"]
    assert chain["institutionsReached"] == 3
    assert chain["peopleReached"] == 2  # p-loose and p-teacher
    assert chain["authoritiesReached"] == 2
    # school-1: max(40, 2 listed) + school-2: max(none, 3 listed) + school-3: max(2, 0)
    # + p-loose (listed nowhere reached); p-teacher is listed at school-1.
    assert chain["estimatedStaffReached"] == 40 + 3 + 2 + 1


def test_chain_can_start_at_the_given_directive_and_be_cut(store: Store) -> None:
    relay_tree(store)
    q = """{ instructionChain(directiveId: "Directive:d1a", fromOrigin: false, maxHops: %d) {
        originId truncated hops { directiveId } institutionsReached } }"""
    whole = run(store, q % 10)["instructionChain"]
    assert whole["originId"] == "Directive:d1a"
    # d2 relays d1a, and the (bad) record "d0 relays d2" closes a cycle back round.
    assert [h["directiveId"] for h in whole["hops"]] == [
        "Directive:d1a",
        "Directive:d2",
        "Directive:d0",
        "Directive:d1b",
    ]
    assert not whole["truncated"]
    cut = run(store, q % 1)["instructionChain"]
    assert cut["truncated"] and len(cut["hops"]) == 1


def test_reach_counts_what_directives_reached_not_subordination(store: Store) -> None:
    relay_tree(store)
    q = """{ centrality(measure: REACH, top: 20) { method { name } entries {
        nodeId score rank institutionsReached peopleReached staffReached } } }"""
    entries = {e["nodeId"]: e for e in run(store, q)["centrality"]["entries"]}
    assert entries["Authority:ministry"]["score"] == 5
    assert entries["Authority:ministry"]["staffReached"] == 46
    assert entries["Authority:region-b"]["score"] == 1
    assert entries["Authority:region-b"]["staffReached"] == 2
    # d1a reaches its targets and, through the relay d2, the teacher — and through the
    # cycle d2 -> d0, everything d0 reaches.
    assert entries["Directive:d1a"]["score"] == 5
    assert entries.get("Institution:school-3", {"score": 0})["score"] == 0


def test_directives_reaching_a_node_come_with_their_chain(store: Store) -> None:
    relay_tree(store)
    q = """{ directivesReaching(id: "Person:p-teacher") { node { id } truncated
        directives { directiveId chain { directiveId level issuers { id } } } } }"""
    result = run(store, q)["directivesReaching"]
    assert result["node"] == {"id": "Person:p-teacher"}
    [reaching] = result["directives"]
    assert reaching["directiveId"] == "Directive:d2"
    assert [h["directiveId"] for h in reaching["chain"]] == [
        "Directive:d0",
        "Directive:d1a",
        "Directive:d2",
    ]
    assert reaching["chain"][2]["issuers"] == [{"id": "Person:p-director"}]


def relay_line(store: Store, length: int, recipients: int = 0) -> None:
    """Directives line-0 .. line-(length-1), each relaying the one before and targeting
    Person:p-end; line-0 also targets ``recipients`` people p-000, p-001, ..."""
    n = Node.create
    r = Relationship.create
    nodes = [n("Person", "p-end", {"public": False})]
    nodes += [n("Person", f"p-{i:03d}", {"public": False}) for i in range(recipients)]
    nodes += [
        n("Directive", f"line-{i}", {"issued": f"2023-08-{1 + i % 28:02d}"}) for i in range(length)
    ]
    rels = [r(f"Directive:line-{i}", "TARGETS", "Person:p-end") for i in range(length)]
    rels += [
        r(f"Directive:line-{i}", "RELAYS", f"Directive:line-{i - 1}") for i in range(1, length)
    ]
    rels += [
        r("Directive:line-0", "TARGETS", f"Person:p-{i:03d}", {"received": "2023-08-02"})
        for i in range(recipients)
    ]
    store.upsert(nodes, rels)


def test_directives_reaching_cuts_long_chains_to_the_nearest_hops(store: Store) -> None:
    relay_line(store, 8)
    q = """{ directivesReaching(id: "Person:p-end", first: 1000, maxChainHops: %d) {
        truncated directives { directiveId originId chainLength chainTruncated
        chain { directiveId level relaysId issued lagDays } } } }"""
    result = run(store, q % 3)["directivesReaching"]
    assert not result["truncated"]
    by_id = {d["directiveId"]: d for d in result["directives"]}
    assert len(by_id) == 8
    last = by_id["Directive:line-7"]
    assert last["originId"] == "Directive:line-0"
    assert last["chainLength"] == 8 and last["chainTruncated"]
    assert [(h["directiveId"], h["level"]) for h in last["chain"]] == [
        ("Directive:line-5", 5),
        ("Directive:line-6", 6),
        ("Directive:line-7", 7),
    ]
    assert last["chain"][0]["relaysId"] == "Directive:line-4"  # cut off, still named
    assert last["chain"][0]["lagDays"] == 1
    first = by_id["Directive:line-1"]
    assert first["chainLength"] == 2 and not first["chainTruncated"]
    assert [h["directiveId"] for h in first["chain"]] == ["Directive:line-0", "Directive:line-1"]
    whole = run(store, q % 50)["directivesReaching"]["directives"]
    assert all(not d["chainTruncated"] for d in whole)
    assert max(len(d["chain"]) for d in whole) == 8
    assert "maxChainHops" in error(store, q % 0)


def test_long_chains_read_every_hop_and_fragments_still_get_nodes(store: Store) -> None:
    relay_line(store, 300)
    q = """{ instructionChain(directiveId: "Directive:line-0", maxHops: 1000) { depth truncated
        hops { directiveId ...Who
               recipients { recipientId ... on Delivery { recipient { id } } } } } }
        fragment Who on ChainHop { directive { id } issued }"""
    chain = run(store, q)["instructionChain"]
    assert chain["depth"] == 299 and not chain["truncated"]
    assert len(chain["hops"]) == 300
    assert [h["directiveId"] for h in chain["hops"][:3]] == [
        "Directive:line-0",
        "Directive:line-1",
        "Directive:line-2",
    ]
    for h in chain["hops"]:
        assert h["directive"] == {"id": h["directiveId"]}
        assert h["recipients"] == [
            {"recipientId": "Person:p-end", "recipient": {"id": "Person:p-end"}}
        ]


def test_deliveries_are_the_first_recipients_by_id_however_many_there_are(store: Store) -> None:
    # line-0 has 301 recipients: past the batch threshold for maxRecipients 2, so it is
    # read alone, a page at a time; line-1 has one and is read in a batch.
    relay_line(store, 2, recipients=300)
    q = """{ instructionChain(directiveId: "Directive:line-0", maxRecipients: %d) {
        hops { directiveId recipientCount recipients { recipientId received lagDays } } } }"""
    hops = run(store, q % 2)["instructionChain"]["hops"]
    assert hops[0]["recipientCount"] == 301
    assert hops[0]["recipients"] == [
        {"recipientId": "Person:p-000", "received": "2023-08-02", "lagDays": 1},
        {"recipientId": "Person:p-001", "received": "2023-08-02", "lagDays": 1},
    ]
    assert hops[1]["recipients"] == [
        {"recipientId": "Person:p-end", "received": None, "lagDays": None}
    ]
    # Asking for recipient ids only reads them from the projection: the same recipients.
    bare = """{ instructionChain(directiveId: "Directive:line-0", maxRecipients: %d) {
        hops { recipients { recipientId } } } }"""
    for limit in (2, 1000):
        detailed = run(store, q % limit)["instructionChain"]["hops"]
        assert run(store, bare % limit)["instructionChain"]["hops"] == [
            {"recipients": [{"recipientId": d["recipientId"]} for d in h["recipients"]]}
            for h in detailed
        ]
    many = run(store, q % 1000)["instructionChain"]["hops"]
    assert len(many[0]["recipients"]) == 301
    ids = [d["recipientId"] for d in many[0]["recipients"]]
    assert ids == sorted(ids)


def test_recipient_ids_alone_match_deliveries_with_parallel_targets(store: Store) -> None:
    """Two TARGETS of one directive to one recipient (told apart by key) are two
    deliveries whether or not their details are asked for; a directive that also
    REQUIRES a poll keeps only its TARGETS as deliveries."""
    relay_tree(store)
    store.upsert(
        [],
        [
            Relationship.create(
                "Directive:d0",
                "TARGETS",
                "Authority:region-a",
                {"received": "2023-08-03"},
                key="again",
            )
        ],
    )
    detailed = """{ instructionChain(directiveId: "Directive:d0", fromOrigin: false) {
        hops { directiveId recipientCount recipients { recipientId received } } } }"""
    bare = """{ instructionChain(directiveId: "Directive:d0", fromOrigin: false) {
        hops { directiveId recipientCount recipients { recipientId } } } }"""
    full = run(store, detailed)["instructionChain"]["hops"]
    assert full[0]["directiveId"] == "Directive:d0" and full[0]["recipientCount"] == 2
    assert [d["recipientId"] for d in full[0]["recipients"]] == [
        "Authority:region-a",
        "Authority:region-a",
        "Authority:region-b",
    ]
    assert run(store, bare)["instructionChain"]["hops"] == [
        {
            "directiveId": h["directiveId"],
            "recipientCount": h["recipientCount"],
            "recipients": [{"recipientId": d["recipientId"]} for d in h["recipients"]],
        }
        for h in full
    ]


def test_remembered_walks_give_the_same_chains_in_any_order(store: Store) -> None:
    relay_tree(store)
    relay_line(store, 40)
    spec = ProjectionSpec.create(node_kinds=[k.name for k in NODE_KINDS], rel_types=FLOW_TYPES)
    directives = [
        i
        for i, k in enumerate(ProjectionCache().get(store, spec).projection.node_kinds)
        if k == "Directive"
    ]
    for order in (directives, directives[::-1], directives[1::2] + directives[::2]):
        p = ProjectionCache().get(store, spec).projection  # a fresh memo each time
        for d in order:
            for keep in (1, 3, 100):
                full = chain_to_origin(p, d)
                up = chain_up(p, d, keep)
                assert up.chain == full[-keep:]
                assert (up.origin, up.length) == (full[0], len(full))
                assert up.beyond == (full[-keep - 1] if len(full) > keep else None)


def test_chain_of_command_goes_up_to_the_top_authority(store: Store) -> None:
    relay_tree(store)
    q = """{ chainOfCommand(id: "Person:p-teacher") { links { fromId toId type level }
        tops { id } } }"""
    result = run(store, q)["chainOfCommand"]
    assert result["links"] == [
        {
            "fromId": "Person:p-teacher",
            "toId": "Institution:school-1",
            "type": "WORKS_AT",
            "level": 1,
        },
        {
            "fromId": "Institution:school-1",
            "toId": "Authority:region-a",
            "type": "SUBORDINATE_TO",
            "level": 2,
        },
        {
            "fromId": "Authority:region-a",
            "toId": "Authority:ministry",
            "type": "SUBORDINATE_TO",
            "level": 3,
        },
    ]
    assert result["tops"] == [{"id": "Authority:ministry"}]


def test_unknown_or_wrong_nodes_get_clear_errors(store: Store) -> None:
    relay_tree(store)
    assert "no node" in error(store, CHAIN % "Directive:nope")
    assert "not a Directive" in error(store, CHAIN % "Authority:ministry")


def test_days_between_needs_two_full_dates() -> None:
    assert days_between("2023-08-01", "2023-08-16") == 15
    assert days_between("2023-08", "2023-08-16") is None
    assert days_between("--08-01", "--08-16") is None
    assert days_between(None, "2023-08-16") is None


# -- the bundled case -----------------------------------------------------------------


@pytest.fixture
def case(store: Store) -> Store:
    load_files(graph_service.cli.case_files(), store)
    return store


def test_case_poll_is_traced_to_the_regional_department(case: Store) -> None:
    q = """{ paths(from: "Poll:election-awareness", to: "Authority:lipetsk-dip", maxHops: 3)
        { length paths { hops { fromId toId type direction sourceIds } } } }"""
    result = run(case, q)["paths"]
    assert result["length"] == 1
    [path] = result["paths"]
    assert path["hops"][0]["type"] == "INITIATED"
    assert path["hops"][0]["direction"] == "IN"
    chain = run(case, CHAIN % "Directive:lipetsk-dip-election-survey")["instructionChain"]
    [hop] = chain["hops"]
    assert hop["issuers"] == [{"id": "Authority:lipetsk-dip"}]
    assert hop["requires"] == [{"id": "Poll:election-awareness"}]
    assert hop["wording"] == "strongly recommended"
    assert chain["institutionsReached"] == 1


def test_case_platform_is_traced_to_the_ministry_that_operates_it(case: Store) -> None:
    q = """{ paths(from: "Platform:gosuslugi", to: "Authority:mincifry", relTypes: [OPERATES])
        { length paths { hops { type direction sourceIds } } } }"""
    result = run(case, q)["paths"]
    assert result["length"] == 1
    assert result["paths"][0]["hops"] == [
        {"type": "OPERATES", "direction": "IN", "sourceIds": ["Source:kommersant-lipetsk-poll"]}
    ]


def test_case_candidates_are_reachable_from_the_poll(case: Store) -> None:
    candidates = {
        "Person:dmitry-averov",
        "Person:sergey-tokarev",
        "Person:anatoly-yemelyanov",
        "Person:larisa-ksenofontova",
        "Person:oleg-tokarev",
    }
    for person in candidates:
        q = """{ paths(from: "Poll:election-awareness", to: "%s",
                 relTypes: [ABOUT, CANDIDATE_IN]) { length paths { hops { toId type } } } }"""
        result = run(case, q % person)["paths"]
        assert result["length"] == 2
        assert [h["type"] for h in result["paths"][0]["hops"]] == ["ABOUT", "CANDIDATE_IN"]


def test_case_directive_reached_the_budgetary_institutions(case: Store) -> None:
    q = """{ directivesReaching(id: "Institution:lipetsk-budgetary-institutions") {
        directives { directiveId chain { issuers { id } deadline } } } }"""
    [d] = run(case, q)["directivesReaching"]["directives"]
    assert d["directiveId"] == "Directive:lipetsk-dip-election-survey"
    assert d["chain"] == [{"issuers": [{"id": "Authority:lipetsk-dip"}], "deadline": "--08-16"}]


# -- projections and their cache ------------------------------------------------------


def test_projection_is_cached_until_a_write(store: Store) -> None:
    relay_tree(store)
    cache = ProjectionCache()
    spec = ProjectionSpec.create(rel_types=["SUBORDINATE_TO"])
    first = cache.get(store, spec)
    again = cache.get(store, spec)
    assert not first.from_cache and again.from_cache
    assert again.projection is first.projection
    assert first.projection.edge_count == 5
    store.upsert([Node.create("Authority", "new", {"name": "New"})])
    after = cache.get(store, spec)
    assert not after.from_cache
    assert after.projection.version > first.projection.version
    assert len(cache) == 1


def test_cache_evicts_least_recently_used_past_its_size(store: Store) -> None:
    relay_tree(store)
    cache = ProjectionCache(max_size=40)
    a = ProjectionSpec.create(rel_types=["SUBORDINATE_TO"])
    b = ProjectionSpec.create(rel_types=["WORKS_AT"])
    cache.get(store, a)
    cache.get(store, b)
    assert len(cache) == 1
    assert cache.get(store, b).from_cache
    assert not cache.get(store, a).from_cache


def test_projection_filters_kinds_region_dates_and_evidence(store: Store) -> None:
    relay_tree(store)
    store.upsert(
        [
            Node.create("Institution", "far", {"name": "Far", "region": "Elsewhere"}),
            Node.create("Institution", "near", {"name": "Near", "region": "Lipetsk"}),
        ],
        [Relationship.create("Institution:far", "SUBORDINATE_TO", "Authority:ministry")],
    )
    cache = ProjectionCache()
    kinds = cache.get(store, ProjectionSpec.create(node_kinds=["Authority"])).projection
    assert set(kinds.node_kinds) == {"Authority"} and kinds.edge_count == 2
    region = cache.get(store, ProjectionSpec.create(region="Lipetsk")).projection
    assert "Institution:near" in region.node_ids and "Institution:far" not in region.node_ids
    assert "Person:p-teacher" in region.node_ids  # kinds without a region stay
    window = cache.get(store, ProjectionSpec.create(date_from="2023-08-03")).projection
    assert "Directive:d0" not in window.node_ids and "Directive:d1a" in window.node_ids
    assert "Directive:d1b" in window.node_ids  # "2023-08" overlaps the window
    graded = cache.get(store, ProjectionSpec.create(min_evidence="reported")).projection
    assert graded.edge_count == 0  # nothing in the tree is graded


def test_centrality_reports_projection_and_cache(store: Store) -> None:
    relay_tree(store)
    q = """{ centrality(measure: OUT_DEGREE, projection: {relTypes: [SUBORDINATE_TO],
        direction: REVERSED}, top: 2, normalized: false) { version
        projection { nodeCount edgeCount fromCache } entries { nodeId score rank } } }"""
    first = run(store, q)["centrality"]
    assert first["entries"] == [
        {"nodeId": "Authority:ministry", "score": 2.0, "rank": 1},
        {"nodeId": "Authority:region-a", "score": 2.0, "rank": 1},
    ]
    assert first["projection"]["edgeCount"] == 5
    assert run(store, q)["centrality"]["projection"]["fromCache"] is True


def test_budget_refusal_reaches_the_client_with_advice(store: Store) -> None:
    relay_tree(store)
    q = """{ centrality(measure: BETWEENNESS, timeBudgetSeconds: 0.0000001) {
        entries { nodeId } } }"""
    message = error(store, q)
    assert "time budget" in message and "samples" in message
