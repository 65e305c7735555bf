"""``subgraph``: the neighbourhood of some nodes, as Cytoscape.js elements.

A breadth-first walk from the seed nodes, ``hops`` deep. Each node it expands shows at
most ``hubLimit`` of its relationships; the rest are counted (``data.more`` on the node,
and ``cappedHubs``) rather than drawn, so a hub cannot explode the picture. The walk stops
adding nodes at ``limit``; then ``truncated`` is true and ``omittedNodes`` counts the
nodes it met but left out. Relationships are shown between nodes that are both kept.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_service.api.context import Context
from graph_service.api.types import RelationshipTypeEnum
from graph_service.errors import InvalidArgument, NotFound
from graph_service.exports.elements import edge_element, node_element
from graph_service.storage import Adjacency, Direction, Node, Store
from schema import ModelError, split_node_id

MAX_LIMIT = 20_000
#: Relationships drawn at most, whatever the limits: 20,000 nodes of a dense graph could
#: otherwise bring millions.
MAX_EDGES = 50_000
MAX_HOPS = 4
MAX_HUB_LIMIT = 1000
MAX_SEEDS = 100


@strawberry.type(description="A node whose relationships were not all drawn.")
class CappedHub:
    id: strawberry.ID
    shown: int
    total: int


@strawberry.type(
    description="Nodes and edges in the element format Cytoscape.js takes directly: "
    "`cy.add(elements.nodes)`, or `elements` as a whole (`{nodes, edges}`)."
)
class Subgraph:
    version: int
    elements: JSON = strawberry.field(
        description="{nodes: [{group, data: {id, kind, label, evidence, ...}, classes}], "
        "edges: [{group, data: {id, source, target, kind, label, evidence, ...}, classes}]}. "
        "A node's `data.more` counts relationships not drawn (past hubLimit)."
    )
    node_count: int
    edge_count: int
    truncated: bool = strawberry.field(
        description="True when `limit` (or the cap on edges) cut the walk short."
    )
    omitted_nodes: int = strawberry.field(
        description="Nodes met but left out because of `limit` (a lower bound)."
    )
    omitted_edges: int = strawberry.field(
        description=f"Relationships between kept nodes left out past {MAX_EDGES:,} edges."
    )
    capped_hubs: list[CappedHub]


def build_subgraph(
    store: Store,
    ids: list[str],
    hops: int = 1,
    rel_types: list[str] | None = None,
    limit: int = 500,
    hub_limit: int = 50,
) -> dict[str, Any]:
    """The walk behind :func:`SubgraphQuery.subgraph`, as plain data."""
    if not 1 <= len(ids) <= MAX_SEEDS:
        raise InvalidArgument(f"give between 1 and {MAX_SEEDS} ids")
    if not 0 <= hops <= MAX_HOPS:
        raise InvalidArgument(f"hops must be between 0 and {MAX_HOPS}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument(f"limit must be between 1 and {MAX_LIMIT}")
    if not 1 <= hub_limit <= MAX_HUB_LIMIT:
        raise InvalidArgument(f"hubLimit must be between 1 and {MAX_HUB_LIMIT}")
    for node_id in ids:
        try:
            split_node_id(node_id)
        except ModelError as e:
            raise InvalidArgument(str(e)) from None
    version = store.version()
    seeds = store.get_nodes(list(dict.fromkeys(ids)))
    missing = [i for i in ids if i not in seeds]
    if missing:
        raise NotFound(f"there is no node {', '.join(repr(m) for m in missing)}")
    # Kept nodes in the order the walk meets them; all but the seeds are fetched at the
    # end with one get_nodes, and each frontier's relationships with one neighborhoods.
    nodes: dict[str, Node | None] = {}
    extra: dict[str, dict[str, Any]] = {}
    edges: dict[str, Any] = {}
    omitted: set[str] = set()
    omitted_edges: set[str] = set()
    hubs: list[CappedHub] = []
    for node_id in dict.fromkeys(ids):
        if len(nodes) < limit:
            nodes[node_id] = seeds[node_id]
        else:
            omitted.add(node_id)
    frontier = list(nodes)
    for _ in range(hops):
        next_frontier: list[str] = []
        around = store.neighborhoods(frontier, rel_types, Direction.BOTH, first=hub_limit)
        for node_id in frontier:
            adjacency = around.get(node_id) or Adjacency(0, [])
            shown, total = len(adjacency.items), adjacency.total_count
            info = extra.setdefault(node_id, {})
            info["degree"] = total
            if total > shown:
                info["more"] = total - shown
                hubs.append(CappedHub(id=strawberry.ID(node_id), shown=shown, total=total))
            for n in adjacency.items:
                other, rel = n.other, n.relationship
                rel_id = rel.id
                if rel_id in edges:
                    continue
                if len(edges) >= MAX_EDGES:
                    omitted_edges.add(rel_id)
                    if other not in nodes:
                        omitted.add(other)
                    continue
                if other not in nodes:
                    if len(nodes) >= limit:
                        omitted.add(other)
                        continue
                    nodes[other] = None
                    next_frontier.append(other)
                edges[rel_id] = edge_element(rel, rel_id)
        frontier = next_frontier
    fetched = store.get_nodes([i for i, node in nodes.items() if node is None])
    node_elements = [
        node_element(node, **extra.get(i, {}))
        for i, known in nodes.items()
        if (node := known or fetched.get(i)) is not None
    ]
    return {
        "version": version,
        "elements": {"nodes": node_elements, "edges": list(edges.values())},
        "truncated": bool(omitted or omitted_edges),
        "omitted": len(omitted - nodes.keys()),
        "omitted_edges": len(omitted_edges),
        "hubs": hubs,
    }


@strawberry.type
class SubgraphQuery:
    @strawberry.field(
        description="The neighbourhood of some nodes, `hops` deep, as Cytoscape.js elements; "
        "at most `limit` nodes, and at most `hubLimit` relationships drawn per node."
    )
    def subgraph(
        self,
        info: Info[Context, None],
        ids: list[strawberry.ID],
        hops: int = 1,
        rel_types: list[RelationshipTypeEnum] | None = None,  # type: ignore[valid-type]
        limit: int = 500,
        hub_limit: int = 50,
    ) -> Subgraph:
        # The walk runs inside the operation, under the collector pause of
        # graph_service.api.gc_pause (its tens of thousands of records form no cycles).
        result = build_subgraph(
            info.context.store,
            [str(i) for i in ids],
            hops,
            [t.value for t in rel_types] if rel_types else None,
            limit,
            hub_limit,
        )
        elements = result["elements"]
        return Subgraph(
            version=result["version"],
            elements=elements,
            node_count=len(elements["nodes"]),
            edge_count=len(elements["edges"]),
            truncated=result["truncated"],
            omitted_nodes=result["omitted"],
            omitted_edges=result["omitted_edges"],
            capped_hubs=result["hubs"],
        )
