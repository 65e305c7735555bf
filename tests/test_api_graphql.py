"""GraphQL through the real ASGI app (Starlette + strawberry), on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from graph_service.app import create_app
from graph_service.storage import Store
from tests.case import load_case


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    load_case(store)
    with TestClient(create_app(store)) as c:
        yield c


def gql(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_node_by_id_exposes_typed_properties_and_provenance(client: TestClient) -> None:
    body = gql(
        client,
        """
      query($id: ID!) { node(id: $id) {
        id kind label evidence sourceIds origins
        ... on Directive { deadline wording action }
        sources { id label }
      } }""",
        id="Directive:lipetsk-dip-election-survey",
    )
    node = body["data"]["node"]
    assert node["kind"] == "Directive"
    assert node["deadline"] == "--08-16"
    assert node["wording"] == "strongly recommended"
    assert node["evidence"] == "alleged"
    assert node["sourceIds"] == ["Source:kommersant-lipetsk-poll", "Source:cprf-lipetsk-statement"]
    assert [s["id"] for s in node["sources"]] == node["sourceIds"]
    assert node["origins"] == ["directives.csv#directives!2"]


def test_missing_node_is_null_and_a_malformed_id_is_an_error(client: TestClient) -> None:
    assert gql(client, '{ node(id: "Person:nobody") { id } }')["data"]["node"] is None
    body = gql(client, '{ node(id: "nobody") { id } }')
    assert "Kind:key" in body["errors"][0]["message"]


def test_nodes_pages_with_cursor_and_total_count(client: TestClient) -> None:
    query = """query($after: String) { nodes(kind: Party, first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { id } } }"""
    seen: list[str] = []
    after = None
    for _ in range(5):
        page = gql(client, query, after=after)["data"]["nodes"]
        assert page["totalCount"] == 5
        seen += [n["id"] for n in page["nodes"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == sorted(seen) and len(set(seen)) == 5


def test_nodes_filter_coerces_values_like_a_spreadsheet(client: TestClient) -> None:
    body = gql(
        client,
        """{ nodes(kind: Person, filter: [{property: "public", value: "да"}],
                               first: 10) { totalCount } }""",
    )
    assert body["data"]["nodes"]["totalCount"] == 6
    body = gql(
        client,
        """{ nodes(kind: Person, filter: [{property: "height", value: "2"}])
                            { totalCount } }""",
    )
    assert body["errors"][0]["message"] == "Person has no property 'height'"


def test_search_finds_both_spellings_and_filters_by_kind(client: TestClient) -> None:
    body = gql(
        client,
        """{ a: search(text: "SERGEI tokarev") { id }
                            b: search(text: "tokarev", kinds: [Person]) { id }
                            c: search(text: "tokarev", kinds: [Party]) { id } }""",
    )
    assert body["data"]["a"] == [{"id": "Person:sergey-tokarev"}]
    assert body["data"]["b"] == [{"id": "Person:oleg-tokarev"}, {"id": "Person:sergey-tokarev"}]
    assert body["data"]["c"] == []


def test_neighbors_with_type_and_direction_filters(client: TestClient) -> None:
    body = gql(
        client,
        """{ neighbors(id: "Election:duma-by-election-lipetsk-114",
                 relTypes: [CANDIDATE_IN], direction: IN, first: 2) {
                 totalCount pageInfo { hasNextPage }
                 edges { direction node { id }
                         relationship { type properties from { id } } } } }""",
    )
    n = body["data"]["neighbors"]
    assert n["totalCount"] == 5 and n["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in n["edges"]] == [
        "Person:anatoly-yemelyanov",
        "Person:dmitry-averov",
    ]
    assert n["edges"][1]["relationship"]["properties"] == {"party": "United Russia"}
    assert n["edges"][1]["direction"] == "IN"


def test_neighbors_of_a_missing_node_is_a_clear_error(client: TestClient) -> None:
    body = gql(client, '{ neighbors(id: "Person:nobody") { totalCount } }')
    assert body["errors"][0]["message"] == "there is no node 'Person:nobody'"


def test_stats_counts_the_case(client: TestClient) -> None:
    stats = gql(client, "{ stats { version nodeCount relationshipCount } }")["data"]["stats"]
    assert stats["nodeCount"] == 23 and stats["relationshipCount"] == 23
    assert stats["version"] >= 1


def test_page_size_is_capped(client: TestClient) -> None:
    body = gql(client, "{ nodes(first: 100000) { totalCount } }")
    assert "first must be between 1 and 500" in body["errors"][0]["message"]


def test_too_deep_a_query_is_refused(client: TestClient) -> None:
    body = gql(
        client,
        '{ neighbors(id: "Authority:lipetsk-dip") { edges { node { neighbors { '
        + "edges { node { neighbors { " * 6
        + "totalCount"
        + " } } }" * 6
        + " } } } } }",
    )
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


def test_unexpected_failures_are_masked(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(store, "stats", broken)
    body = gql(client, "{ stats { nodeCount } }")
    assert body["errors"][0]["message"] == "Internal error; the server log has the details."
    assert "secret" not in str(body)


def test_graphiql_is_served_to_browsers(client: TestClient) -> None:
    response = client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_healthz_reports_the_version(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["version"] >= 1
