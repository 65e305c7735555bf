"""``subgraph``'s elements as JSON text (what the HTTP app serves) are exactly the
elements built as dicts from records (what in-process callers get), on both stores:
same members in the same order, same values, same limits, caps and counts.

The embedded store writes the text from its stored rows (``ElementReader``); the Neo4j
store's records are written by the response encoder. Either way the text must parse to
what ``node_element`` / ``edge_element`` give.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from graph_service.api.context import Context
from graph_service.api.json_encoding import EncodedJSON, encode_response
from graph_service.api.schema import schema
from graph_service.api.subgraph import build_subgraph
from graph_service.app import create_app
from graph_service.storage import Node, Provenance, Relationship, Store
from graph_service.storage.sqlite import SqliteStore
from tests.case import load_case


def both_ways(store: Store, ids: list[str], **kwargs: Any) -> tuple[str, str]:
    """The plain and the encoded answer, each as the JSON the response would carry,
    re-written by one encoder so that key order and values are compared, not spelling."""
    plain = build_subgraph(store, ids, encoded=False, **kwargs)
    fast = build_subgraph(store, ids, encoded=True, **kwargs)
    assert isinstance(fast["elements"], EncodedJSON)
    assert isinstance(plain["elements"], dict)
    as_served = json.loads(encode_response(plain["elements"]))
    fast_elements = json.loads(fast["elements"].text)
    for answer in (plain, fast):
        answer.pop("elements")
        answer["hubs"] = [(h.id, h.shown, h.total) for h in answer["hubs"]]
    assert fast == plain
    assert fast["node_count"] == len(fast_elements["nodes"])
    assert fast["edge_count"] == len(fast_elements["edges"])
    return json.dumps(fast_elements), json.dumps(as_served)


CASE_QUERIES: list[dict[str, Any]] = [
    {"ids": ["Directive:lipetsk-dip-election-survey"]},
    {"ids": ["Authority:lipetsk-dip"], "hops": 2},
    {"ids": ["Authority:lipetsk-dip"], "hops": 3, "limit": 7},
    {"ids": ["Election:duma-by-election-lipetsk-114"], "hub_limit": 2, "hops": 2},
    {"ids": ["Election:duma-by-election-lipetsk-114"], "hops": 2, "rel_types": ["CANDIDATE_IN"]},
    {"ids": ["Authority:lipetsk-dip", "Poll:election-awareness"], "hops": 0},
    {"ids": ["Poll:election-awareness", "Authority:lipetsk-dip"], "hops": 4, "hub_limit": 3},
]


@pytest.mark.parametrize("query", CASE_QUERIES, ids=lambda q: json.dumps(q)[:60])
def test_encoded_elements_equal_the_plain_ones_on_the_case(
    store: Store, query: dict[str, Any]
) -> None:
    load_case(store)
    fast, plain = both_ways(store, **query)
    assert fast == plain


def tricky_graph(store: Store) -> None:
    """A region in the benchmark's shape, and records whose text is easy to get wrong:
    quotes, backslashes and non-ASCII in keys, values, sources and origins; empty and
    missing labels; no evidence; huge integers; NaN; parallel relationships and a
    self-loop."""
    # Neo4j holds 64-bit integers; the embedded store keeps any, which orjson refuses.
    big = 2**70 if isinstance(store, SqliteStore) else 2**62
    synthetic = Provenance(("Source:synthetic",), "reported", ("gen.xlsx#staff!2",))
    odd = Provenance(
        ("Source:synthetic", 'Source:quo"te\\back'),
        None,
        ("C:\\data\\ёлка.xlsx#лист!7", 'x"y.csv#relationships!3'),
    )
    nodes = [
        Node.create("Source", "synthetic", {"title": "Synthetic network"}),
        Node.create("Source", 'quo"te\\back', {"title": "Заголовок «ёлка» \u2028 </script>"}),
        Node.create("Authority", "r0", {"name": "Department", "region": "Region 0"}, synthetic),
        Node.create("Authority", 'odd"key\\x', {"name": ""}, odd),  # empty label: the key
        Node.create("Institution", "big", {"staff_count": big, "name": "Big"}, synthetic),
        Node.create("Institution", "plain", {}, Provenance()),  # no properties at all
        Node.create(
            "Person", "nan", {"name": 'says "NaN" and Infinity', "public": True}, synthetic
        ),
        Node.create("Directive", "d1", {"title": "Relay", "wording": "required"}, odd),
    ]
    rels = [
        Relationship.create("Institution:big", "SUBORDINATE_TO", "Authority:r0", {}, synthetic),
        Relationship.create("Institution:plain", "SUBORDINATE_TO", "Authority:r0", {}, odd),
        Relationship.create(
            'Authority:odd"key\\x', "SUBORDINATE_TO", "Authority:r0", {}, synthetic
        ),
        Relationship.create("Authority:r0", "ISSUED", "Directive:d1", {}, odd),
        Relationship.create("Directive:d1", "RELAYS", "Directive:d1", {}, synthetic),
        Relationship.create(
            "Directive:d1", "TARGETS", 'Authority:odd"key\\x', {"channel": "e-mail \\ «почта»"},
            odd,
        ),
        Relationship.create("Person:nan", "WORKS_AT", "Institution:big",
                            {"role": "head", "head": True}, synthetic, key="head"),
        Relationship.create("Person:nan", "WORKS_AT", "Institution:big",
                            {"role": 'teacher "maths"'}, odd, key='t"1\\'),
    ]
    for i in range(30):
        nodes.append(Node.create("Person", f"p{i}", {"public": False}, synthetic))
        rels.append(Relationship.create(f"Person:p{i}", "WORKS_AT", "Institution:plain",
                                        {"role": "teacher"}, synthetic))
        rels.append(Relationship.create(f"Person:p{i}", "WORKS_AT", "Institution:big",
                                        {"role": "tutor"}, synthetic))
    store.upsert(nodes, [])
    store.upsert([], rels)


SYNTHETIC_QUERIES: list[dict[str, Any]] = [
    {"ids": ["Authority:r0"], "hops": 2, "limit": 20000, "hub_limit": 1000},
    {"ids": ["Authority:r0"], "hops": 3, "hub_limit": 5},
    {"ids": ["Authority:r0"], "hops": 2, "limit": 9},
    {"ids": ['Authority:odd"key\\x', "Directive:d1"], "hops": 1},
    {"ids": ["Directive:d1"], "hops": 2, "rel_types": ["RELAYS", "TARGETS", "ISSUED"]},
    {"ids": ["Person:nan"], "hops": 1},
]


@pytest.mark.parametrize("query", SYNTHETIC_QUERIES, ids=lambda q: json.dumps(q)[:60])
def test_encoded_elements_equal_the_plain_ones_on_tricky_records(
    store: Store, query: dict[str, Any]
) -> None:
    tricky_graph(store)
    fast, plain = both_ways(store, **query)
    assert fast == plain


def test_encoded_elements_write_nan_as_null_like_the_response(store: Store) -> None:
    # Not a model property value (validation takes no floats here), but a store holds
    # whatever it is given: the answer must still be JSON, and say null as before.
    store.upsert([Node("Institution:n", "Institution", "n", {"staff_count": float("nan")},
                       Provenance())])
    fast, plain = both_ways(store, ["Institution:n"], hops=0)
    assert fast == plain
    assert json.loads(fast)["nodes"][0]["data"]["staff_count"] is None


def test_encoded_elements_respect_the_edge_cap(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph_service.api import subgraph as module

    tricky_graph(store)
    monkeypatch.setattr(module, "MAX_EDGES", 7)
    fast, plain = both_ways(store, ["Authority:r0"], hops=3)
    assert fast == plain
    assert len(json.loads(fast)["edges"]) == 7


QUERY = """query($ids: [ID!]!, $hops: Int) {
  subgraph(ids: $ids, hops: $hops, limit: 20000, hubLimit: 1000) {
    version nodeCount edgeCount truncated omittedNodes omittedEdges elements
    cappedHubs { id shown total }
  }
}"""


def test_served_subgraph_equals_the_in_process_answer(store: Store) -> None:
    tricky_graph(store)
    variables = {"ids": ["Authority:r0"], "hops": 3}
    in_process = schema.execute_sync(QUERY, variable_values=variables,
                                     context_value=Context(store=store))
    assert in_process.errors is None
    with TestClient(create_app(store)) as client:
        served = client.post("/graphql", json={"query": QUERY, "variables": variables})
    assert json.dumps(served.json()) == json.dumps(
        json.loads(encode_response({"data": in_process.data}))
    )


def test_encoded_json_is_spliced_by_either_encoder() -> None:
    value = {"a": EncodedJSON('{"x":[1,"é"]}'), "b": 1}
    assert encode_response(value) == '{"a":{"x":[1,"é"]},"b":1}'.encode()
    # Beyond 64 bits orjson gives up and the standard library writes the response.
    value = {"a": EncodedJSON('{"x":[1,"é"]}'), "b": 2**70}
    assert json.loads(encode_response(value)) == {"a": {"x": [1, "é"]}, "b": 2**70}
