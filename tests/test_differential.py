"""Both stores give the same answers to every GraphQL query field.

The bundled case and a ~20,000-node synthetic network (``loaders.synth``, fixed seed) are
loaded into the embedded store and into Neo4j; then every field of the ``Query`` type —
enumerated from the schema, so a new field is covered or fails here — is asked a seeded
sample of arguments on both, with a selection set built from the schema (every field
without required arguments, a few levels deep), and the JSON answers are compared whole.
Only the graph version and cache flags are normalized (the stores count versions
differently), and floats are compared to 9 significant digits (summation order).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLUnionType,
    Undefined,
    get_named_type,
    is_leaf_type,
)

from graph_service.api.context import Context
from graph_service.api.schema import schema
from graph_service.storage import Node, Store
from graph_service.storage.neo4j import Neo4jStore
from graph_service.storage.sqlite import SqliteStore
from loaders.load import load_files
from loaders.synth import write_synthetic
from tests.case import load_case
from tests.conftest import Neo4jConnection, wipe_neo4j

SEED = 20240917
SAMPLES = 6  # argument sets per field
#: Keys whose values legitimately differ between the stores.
VOLATILE = {"version", "graphVersion", "fromCache", "cached", "elapsedSeconds", "seconds"}
DEPTH = 4

GRAPH = schema._schema


# -- the graph ---------------------------------------------------------------------------


class Graph:
    """What the argument generators draw from (read from the embedded store)."""

    def __init__(self, store: Store) -> None:
        edges = store.edge_list()
        self.ids: list[str] = sorted(edges.node_ids)
        self.by_kind: dict[str, list[str]] = {}
        for node_id, kind in zip(edges.node_ids, edges.node_kinds, strict=True):
            self.by_kind.setdefault(kind, []).append(node_id)
        for ids in self.by_kind.values():
            ids.sort()
        self.store = store

    def some(self, rng: random.Random, *kinds: str) -> str:
        pool = [i for k in kinds for i in self.by_kind.get(k, [])] if kinds else self.ids
        return rng.choice(pool)

    def node(self, node_id: str) -> Node:
        node = self.store.get_node(node_id)
        assert node is not None
        return node


@pytest.fixture(scope="module")
def stores(
    tmp_path_factory: pytest.TempPathFactory,
    neo4j_connection: Neo4jConnection,
    neo4j_driver: neo4j.Driver,
) -> Iterator[tuple[Store, Store]]:
    folder = tmp_path_factory.mktemp("differential")
    synth = folder / "synth"
    write_synthetic(synth, regions=19, seed=SEED)
    files = sorted(synth.glob("*.csv"))
    wipe_neo4j(neo4j_driver)
    embedded = SqliteStore(folder / "same.db")
    remote = Neo4jStore(neo4j_connection.uri, neo4j_connection.user, neo4j_connection.password)
    try:
        for store in (embedded, remote):
            load_case(store)
            load_files(files, store)
        yield embedded, remote
    finally:
        embedded.close()
        remote.close()
        wipe_neo4j(neo4j_driver)


@pytest.fixture(scope="module")
def graph(stores: tuple[Store, Store]) -> Graph:
    return Graph(stores[0])


# -- selection sets from the schema ------------------------------------------------------


def _needs_arguments(field: GraphQLField) -> bool:
    return any(
        isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined
        for a in field.args.values()
    )


def selection(type_: GraphQLOutputType, depth: int = DEPTH) -> str | None:
    """Every field without required arguments, ``depth`` levels of objects deep; None when
    an object cannot be selected within the depth."""
    named: GraphQLNamedType = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if depth == 0:
        return None
    parts = ["__typename"]
    # Each kind's own fields only near the top (else every node's sources' sources …).
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType) and depth >= DEPTH - 1:
        for possible in GRAPH.get_possible_types(named):
            inner = _fields(possible, depth)
            if inner:
                parts.append(f"... on {possible.name} {{ {' '.join(inner)} }}")
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        parts += _fields(named, depth)
    return "{ " + " ".join(parts) + " }"


def _fields(named: GraphQLObjectType | GraphQLInterfaceType, depth: int) -> list[str]:
    out = []
    for name, field in named.fields.items():
        # Below the top, fields taking arguments (a node's own neighbours, …) would make the
        # answer grow with every level; the top-level fields cover them.
        if _needs_arguments(field) or (field.args and depth < DEPTH):
            continue
        inner = selection(field.type, depth - 1)
        if inner is not None:
            out.append(f"{name} {inner}".strip())
    return out


def _type_text(t: Any) -> str:
    return str(t)


def query_text(name: str, variables: dict[str, Any]) -> str:
    field = GRAPH.query_type.fields[name]  # type: ignore[union-attr]
    declared = [f"${a}: {_type_text(field.args[a].type)}" for a in variables]
    passed = [f"{a}: ${a}" for a in variables]
    head = f"query({', '.join(declared)})" if declared else "query"
    args = f"({', '.join(passed)})" if passed else ""
    return f"{head} {{ {name}{args} {selection(field.type) or ''} }}"


# -- arguments per field -----------------------------------------------------------------

Args = dict[str, Any]
Generator = Callable[[random.Random, Graph], Args]


def _enum(name: str) -> list[str]:
    t = GRAPH.get_type(name)
    assert isinstance(t, GraphQLEnumType)
    return list(t.values)


def _rel_types(rng: random.Random) -> list[str] | None:
    types = _enum("RelationshipType")
    return None if rng.random() < 0.4 else sorted(rng.sample(types, rng.randint(1, 3)))


def _node(rng: random.Random, g: Graph) -> Args:
    return {"id": g.some(rng) if rng.random() < 0.9 else "Person:no-such-person"}


def _nodes(rng: random.Random, g: Graph) -> Args:
    kind = rng.choice([None, *sorted(g.by_kind)])
    args: Args = {"kind": kind, "first": rng.choice([1, 7, 50])}
    if kind is not None and rng.random() < 0.5:
        node = g.node(g.some(rng, kind))
        name, value = sorted(node.properties.items())[0]
        if not isinstance(value, list):
            args["filter"] = [{"property": name, "value": str(value).lower()
                               if isinstance(value, bool) else str(value)}]
    if rng.random() < 0.5:
        args["after"] = None
    return args


def _search(rng: random.Random, g: Graph) -> Args:
    node = g.node(g.some(rng))
    text = str(node.properties.get("name") or node.properties.get("title") or node.key)
    start = rng.randrange(len(text))
    needle = text[start : start + rng.randint(3, 8)].strip() or node.key
    kinds = None if rng.random() < 0.6 else [node.kind]
    return {"text": needle, "kinds": kinds, "first": rng.choice([5, 20, 100])}


def _neighbors(rng: random.Random, g: Graph) -> Args:
    return {"id": g.some(rng, "Authority", "Institution", "Directive", "Person"),
            "relTypes": _rel_types(rng), "direction": rng.choice(_enum("Direction")),
            "first": rng.choice([3, 50])}


def _centrality(rng: random.Random, g: Graph) -> Args:
    args: Args = {"measure": rng.choice(_enum("CentralityMeasure")), "top": 15,
                  "normalized": rng.random() < 0.5, "seed": 7, "timeBudgetSeconds": 60.0}
    if rng.random() < 0.5:
        args["projection"] = {"relTypes": ["SUBORDINATE_TO", "WORKS_AT", "RELAYS", "TARGETS"]}
    return args


def _instruction_chain(rng: random.Random, g: Graph) -> Args:
    return {"directiveId": g.some(rng, "Directive"), "fromOrigin": rng.random() < 0.5,
            "maxRecipients": rng.choice([5, 100]), "timeBudgetSeconds": 60.0}


def _directives_reaching(rng: random.Random, g: Graph) -> Args:
    return {"id": g.some(rng, "Institution", "Person", "Authority"),
            "first": rng.choice([3, 100]), "timeBudgetSeconds": 60.0}


def _chain_of_command(rng: random.Random, g: Graph) -> Args:
    return {"id": g.some(rng, "Person", "Institution", "Authority")}


def _paths(rng: random.Random, g: Graph) -> Args:
    return {"from": g.some(rng, "Person", "Institution"),
            "to": g.some(rng, "Authority", "Institution", "Directive"),
            "relTypes": _rel_types(rng), "maxHops": rng.choice([3, 6]),
            "first": rng.choice([1, 10]), "timeBudgetSeconds": 60.0}


def _subgraph(rng: random.Random, g: Graph) -> Args:
    return {"ids": [g.some(rng) for _ in range(rng.randint(1, 3))], "hops": rng.choice([1, 2]),
            "relTypes": _rel_types(rng), "limit": rng.choice([20, 300]),
            "hubLimit": rng.choice([5, 50])}


GENERATORS: dict[str, Generator] = {
    "node": _node,
    "nodes": _nodes,
    "search": _search,
    "neighbors": _neighbors,
    "stats": lambda rng, g: {},
    "centrality": _centrality,
    "instructionChain": _instruction_chain,
    "directivesReaching": _directives_reaching,
    "chainOfCommand": _chain_of_command,
    "paths": _paths,
    "subgraph": _subgraph,
}

QUERY_FIELDS = sorted(GRAPH.query_type.fields)  # type: ignore[union-attr]


# -- comparing ---------------------------------------------------------------------------


def normalized(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "*" if k in VOLATILE else normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, float):
        # The stores list relationships in different orders, so sums of floats (PageRank,
        # …) may differ in the last bits.
        return float(f"{value:.9g}")
    return value


def run(store: Store, text: str, variables: Args) -> dict[str, Any]:
    result = asyncio.run(
        schema.execute(text, variable_values=variables, context_value=Context(store=store))
    )
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        out["errors"] = [e.message for e in result.errors]
    return out


def test_every_query_field_has_an_argument_generator() -> None:
    missing = [name for name in QUERY_FIELDS if name not in GENERATORS]
    assert not missing, (
        f"no argument generator for Query field(s) {missing}: add one to GENERATORS in "
        f"{Path(__file__).name} so both stores are compared on it"
    )


@pytest.mark.parametrize("field", QUERY_FIELDS)
def test_both_stores_answer_the_same(
    field: str, stores: tuple[Store, Store], graph: Graph
) -> None:
    generator = GENERATORS.get(field)
    assert generator is not None, f"no argument generator for Query field {field!r}"
    rng = random.Random(f"{SEED}-{field}")
    embedded, remote = stores
    answered = 0
    for _ in range(1 if field == "stats" else SAMPLES):
        variables = generator(rng, graph)
        text = query_text(field, variables)
        expected = run(embedded, text, variables)
        got = run(remote, text, variables)
        assert normalized(got) == normalized(expected), (field, variables)
        answered += "errors" not in expected
    assert answered, f"every sampled {field} query failed: the generator needs fixing"
