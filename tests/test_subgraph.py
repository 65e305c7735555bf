"""``subgraph``: a neighbourhood as Cytoscape.js elements, with limits, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from graph_service.app import create_app
from graph_service.storage import Node, Relationship, Store
from schema import Provenance
from tests.case import load_case

QUERY = """query($ids: [ID!]!, $hops: Int, $limit: Int, $hubLimit: Int,
                 $relTypes: [RelationshipType!]) {
  subgraph(ids: $ids, hops: $hops, limit: $limit, hubLimit: $hubLimit, relTypes: $relTypes) {
    version nodeCount edgeCount truncated omittedNodes elements
    cappedHubs { id shown total }
  }
}"""


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    load_case(store)
    with TestClient(create_app(store)) as c:
        yield c


def subgraph(client: TestClient, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": QUERY, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["subgraph"]
    return result


def test_subgraph_returns_cytoscape_elements_with_kind_label_and_evidence(
    client: TestClient,
) -> None:
    s = subgraph(client, ids=["Directive:lipetsk-dip-election-survey"])
    nodes = {n["data"]["id"]: n for n in s["elements"]["nodes"]}
    edges = {e["data"]["id"]: e for e in s["elements"]["edges"]}
    assert set(nodes) == {
        "Directive:lipetsk-dip-election-survey",
        "Authority:lipetsk-dip",
        "Institution:lipetsk-budgetary-institutions",
        "Poll:election-awareness",
    }
    directive = nodes["Directive:lipetsk-dip-election-survey"]
    assert directive["group"] == "nodes"
    assert directive["classes"] == "Directive"
    assert directive["data"]["kind"] == "Directive"
    assert directive["data"]["evidence"] == "alleged"
    assert directive["data"]["deadline"] == "--08-16"
    assert directive["data"]["degree"] == 3
    issued = edges["Authority:lipetsk-dip-ISSUED->Directive:lipetsk-dip-election-survey"]["data"]
    assert issued["source"] == "Authority:lipetsk-dip"
    assert issued["target"] == "Directive:lipetsk-dip-election-survey"
    assert issued["kind"] == issued["label"] == "ISSUED"
    assert issued["evidence"] == "alleged"
    assert issued["sources"] == ["Source:kommersant-lipetsk-poll", "Source:cprf-lipetsk-statement"]
    assert (s["nodeCount"], s["edgeCount"], s["truncated"], s["omittedNodes"]) == (4, 3, False, 0)


def test_subgraph_hops_zero_is_just_the_seeds(client: TestClient) -> None:
    s = subgraph(client, ids=["Authority:lipetsk-dip", "Poll:election-awareness"], hops=0)
    assert [n["data"]["id"] for n in s["elements"]["nodes"]] == [
        "Authority:lipetsk-dip",
        "Poll:election-awareness",
    ]
    assert s["elements"]["edges"] == []


def test_subgraph_limit_cuts_the_walk_and_says_how_much(client: TestClient) -> None:
    s = subgraph(client, ids=["Election:duma-by-election-lipetsk-114"], limit=3)
    assert s["nodeCount"] == 3
    assert s["truncated"] is True
    # Five candidates and the poll about the election: four left out.
    assert s["omittedNodes"] == 4
    ids = {n["data"]["id"] for n in s["elements"]["nodes"]}
    for e in s["elements"]["edges"]:
        assert e["data"]["source"] in ids and e["data"]["target"] in ids


def test_subgraph_caps_hubs_with_a_more_count(client: TestClient) -> None:
    s = subgraph(client, ids=["Election:duma-by-election-lipetsk-114"], hubLimit=2)
    assert s["cappedHubs"] == [
        {"id": "Election:duma-by-election-lipetsk-114", "shown": 2, "total": 6}
    ]
    election = s["elements"]["nodes"][0]["data"]
    assert (election["id"], election["more"], election["degree"]) == (
        "Election:duma-by-election-lipetsk-114",
        4,
        6,
    )
    assert s["nodeCount"] == 3 and s["truncated"] is False


def test_subgraph_follows_only_the_given_relationship_types(client: TestClient) -> None:
    s = subgraph(
        client, ids=["Election:duma-by-election-lipetsk-114"], hops=2, relTypes=["CANDIDATE_IN"]
    )
    kinds = {n["data"]["kind"] for n in s["elements"]["nodes"]}
    assert kinds == {"Election", "Person"}
    assert {e["data"]["kind"] for e in s["elements"]["edges"]} == {"CANDIDATE_IN"}
    assert s["nodeCount"] == 6


def test_subgraph_of_a_missing_node_is_an_error(client: TestClient) -> None:
    response = client.post(
        "/graphql", json={"query": QUERY, "variables": {"ids": ["Person:nobody"]}}
    )
    assert "there is no node 'Person:nobody'" in response.json()["errors"][0]["message"]
    response = client.post(
        "/graphql",
        json={"query": QUERY, "variables": {"ids": ["Authority:lipetsk-dip"], "limit": 0}},
    )
    assert "limit must be between" in response.json()["errors"][0]["message"]


def test_subgraph_keeps_parallel_relationships_apart(store: Store) -> None:
    p = Provenance(evidence="documented")
    store.upsert(
        [
            Node.create("Person", "p1", {"name": "A"}, p),
            Node.create("Institution", "i1", {"name": "School"}, p),
        ],
        [
            Relationship.create("Person:p1", "WORKS_AT", "Institution:i1", {"role": "teacher"}, p,
                                key="teacher"),
            Relationship.create("Person:p1", "WORKS_AT", "Institution:i1", {"role": "head"}, p,
                                key="head"),
        ],
    )
    with TestClient(create_app(store)) as client:
        s = subgraph(client, ids=["Person:p1"])
    roles = sorted(e["data"]["role"] for e in s["elements"]["edges"])
    assert roles == ["head", "teacher"]
    assert {e["data"]["key"] for e in s["elements"]["edges"]} == {"head", "teacher"}


def test_subgraph_caps_edges_and_counts_the_rest(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph_service.api import subgraph as module

    monkeypatch.setattr(module, "MAX_EDGES", 2)
    response = client.post(
        "/graphql",
        json={"query": '{ subgraph(ids: ["Election:duma-by-election-lipetsk-114"]) '
                       "{ nodeCount edgeCount omittedNodes omittedEdges truncated } }"},
    )
    assert response.json()["data"]["subgraph"] == {
        "nodeCount": 3, "edgeCount": 2, "omittedNodes": 4, "omittedEdges": 4, "truncated": True,
    }
