"""Bulk reads of the Neo4j store: the relationships around many nodes in one statement
(``subgraph``), and streamed scans of every node and relationship (exports).

Apart from :mod:`.neo4j`, which pages and writes: a page query repeats its count and
its seek for every page, and an export of a million records paid that thousands of
times. A scan is one auto-commit query whose records the driver fetches in batches as
the export consumes them, so memory stays at one batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import neo4j

from graph_service.storage.props import decode_props
from graph_service.storage.records import (
    Adjacency,
    Adjacent,
    Direction,
    Node,
    Provenance,
    Relationship,
)

_DIRECTIONS = {"out": Direction.OUT, "in": Direction.IN}
_REL_LIST = "[a.id, type(r), b.id, r.key, r.props, r.sources, r.evidence, r.origins]"
_NODE_LIST = "[n.id, n.kind, n.key, n.props, n.sources, n.evidence, n.origins]"


def node_from_list(r: list[Any]) -> Node:
    """A node from ``[id, kind, key, props, sources, evidence, origins]``."""
    return Node(
        r[0], r[1], r[2], decode_props(r[3]),
        Provenance(tuple(r[4] or ()), r[5], tuple(r[6] or ())),
    )


def rel_from_list(r: list[Any]) -> Relationship:
    """A relationship from ``[source, type, target, key, props, sources, evidence,
    origins]``."""
    return Relationship(
        r[0], r[1], r[2], r[3], decode_props(r[4]),
        Provenance(tuple(r[5] or ()), r[6], tuple(r[7] or ())),
    )


def neighbor_arms(types: str | None, direction: Direction) -> tuple[list[str], list[str]]:
    """The pattern comprehensions listing node ``n``'s relationships ``[other, rel,
    'out'|'in']`` in the asked direction(s), and the counts of each, for ``neighbors``
    and ``neighborhoods``; ``types`` as there (None: no type can match)."""
    arms: list[str] = []
    counts: list[str] = []
    if types is not None:
        if direction in (Direction.OUT, Direction.BOTH):
            arms.append(f"[(n)-[r{types}]->(o) | [o, r, 'out']]")
            counts.append(f"COUNT {{ (n)-[{types}]->() }}")
        if direction in (Direction.IN, Direction.BOTH):
            arms.append(f"[(n)<-[r{types}]-(o) | [o, r, 'in']]")
            counts.append(f"COUNT {{ (n)<-[{types}]-() }}")
    return arms, counts


def neighborhoods(
    tx: neo4j.ManagedTransaction,
    ids: list[str],
    types: str | None,
    direction: Direction,
    first: int,
) -> dict[str, Adjacency]:
    """See :meth:`graph_service.storage.protocol.Store.neighborhoods`; ``types`` is the
    relationship type pattern (``:A|B``, "" for all, None for none). The ranking is the
    one ``neighbors`` uses (sort keys of the other end and of the key), applied per node
    inside a subquery, so a hub sends only its first ``first`` relationships."""
    arms, counts = neighbor_arms(types, direction)
    if not arms:
        found = tx.run("MATCH (n:Node) WHERE n.id IN $ids RETURN n.id AS id", ids=ids)
        return {record["id"]: Adjacency(0, []) for record in found}
    query = (
        "UNWIND $ids AS id MATCH (n:Node {id: id}) "
        "CALL { WITH n "
        f"UNWIND {' + '.join(arms)} AS row "
        "WITH row[0] AS o, row[1] AS r, row[2] AS dir "
        "WITH o, r, dir, o.sid AS oid, type(r) AS t, r.skey AS k "
        "ORDER BY oid, t, dir, k LIMIT $limit "
        "RETURN collect([startNode(r).id, t, endNode(r).id, r.key, r.props, r.sources, "
        "r.evidence, r.origins, dir, o.id]) AS rows } "
        f"RETURN n.id AS id, {' + '.join(counts)} AS total, rows"
    )
    out: dict[str, Adjacency] = {}
    for record in tx.run(query, ids=ids, limit=max(first, 0)):
        out[record["id"]] = Adjacency(
            int(record["total"]),
            [Adjacent(rel_from_list(row), row[9], _DIRECTIONS[row[8]]) for row in record["rows"]],
        )
    return out


def scan_nodes(session: neo4j.Session, label: str, kind: str | None) -> Iterator[Node]:
    """Every node (with the kind's label), in id order: the sid index gives the order."""
    lo, hi = (f"{kind}:", f"{kind};") if kind is not None else ("", None)
    condition = "n.sid >= $lo" + (" AND n.sid < $hi" if hi is not None else "")
    result = session.run(
        f"MATCH (n:Node:{label}) WHERE {condition} RETURN {_NODE_LIST} AS row ORDER BY n.sid",
        lo=lo, hi=hi,
    )
    for record in result:
        yield node_from_list(record[0])


def scan_relationships(session: neo4j.Session, types: str | None) -> Iterator[Relationship]:
    """Every relationship (of the pattern's types), ordered by the sort keys of (source,
    type, target, key), as ``relationships`` pages them. The range on ``a.sid`` lets the
    planner walk the sid index in order and sort only each source's relationships."""
    if types is None:
        return
    result = session.run(
        f"MATCH (a:Node)-[r{types}]->(b:Node) WHERE a.sid >= '' "
        "WITH a, b, r, a.sid AS s, type(r) AS t, b.sid AS d, r.skey AS k "
        f"RETURN {_REL_LIST} AS row ORDER BY s, t, d, k"
    )
    for record in result:
        yield rel_from_list(record[0])
