"""``subgraph``: the neighbourhood of some nodes, as Cytoscape.js elements.

A breadth-first walk from the seed nodes, ``hops`` deep. Each node it expands shows at
most ``hubLimit`` of its relationships; the rest are counted (``data.more`` on the node,
and ``cappedHubs``) rather than drawn, so a hub cannot explode the picture. The walk stops
adding nodes at ``limit``; then ``truncated`` is true and ``omittedNodes`` counts the
nodes it met but left out. Relationships are shown between nodes that are both kept.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Mapping
from operator import itemgetter
from typing import Any, Protocol

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_service.api.context import Context
from graph_service.api.json_encoding import EncodedJSON, encode_response
from graph_service.api.types import RelationshipTypeEnum
from graph_service.errors import InvalidArgument, NotFound
from graph_service.exports.elements import edge_element, node_element
from graph_service.storage import Direction, Node, Store
from graph_service.storage.protocol import ElementReader
from graph_service.storage.records import AdjacencyElements
from schema import NODE_KINDS, ModelError, split_node_id

MAX_LIMIT = 20_000
#: Relationships drawn at most, whatever the limits: 20,000 nodes of a dense graph could
#: otherwise bring millions.
MAX_EDGES = 50_000
MAX_HOPS = 4
MAX_HUB_LIMIT = 1000
MAX_SEEDS = 100
#: The parts of an item of :meth:`_Elements.around`: other end, key, element.
_OTHER_END, _KEY, _ELEMENT = itemgetter(0), itemgetter(1), itemgetter(2)


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
    encoded: bool = False,
) -> dict[str, Any]:
    """The walk behind :func:`SubgraphQuery.subgraph`, as plain data: ``elements`` is
    ``{"nodes": [...], "edges": [...]}``, or with ``encoded`` the same as
    :class:`EncodedJSON` text (see :class:`_ElementTexts`)."""
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
    source: _Elements = _ElementTexts(store) if encoded else _ElementDicts(store)
    version = store.version()
    seeds = source.nodes(list(dict.fromkeys(ids)))
    missing = [i for i in ids if i not in seeds]
    if missing:
        raise NotFound(f"there is no node {', '.join(repr(m) for m in missing)}")
    # Kept nodes in the order the walk meets them; all but the seeds are fetched at the
    # end in one read, and each frontier's relationships in one read. The walk itself
    # needs only ids: a node or relationship is carried as the source gives it.
    nodes: dict[str, Any] = {}
    extra: dict[str, dict[str, int]] = {}
    edges: dict[Hashable, Any] = {}  # by the key the source gives each relationship
    omitted: set[str] = set()
    omitted_edges: set[Hashable] = set()
    hubs: list[CappedHub] = []
    for node_id in dict.fromkeys(ids):
        if len(nodes) < limit:
            nodes[node_id] = seeds[node_id]
        else:
            omitted.add(node_id)
    frontier = list(nodes)
    for _ in range(hops):
        next_frontier: list[str] = []
        around = source.around(frontier, rel_types, hub_limit)
        for node_id in frontier:
            total, items = around.get(node_id) or (0, [])
            shown = len(items)
            info = extra.setdefault(node_id, {})
            info["degree"] = total
            if total > shown:
                info["more"] = total - shown
                hubs.append(CappedHub(id=strawberry.ID(node_id), shown=shown, total=total))
            # The nodes this one brings that are not kept yet, in the order met (a kept
            # relationship's ends are both kept already).
            fresh = [o for o in dict.fromkeys(map(_OTHER_END, items)) if o not in nodes]
            if len(nodes) + len(fresh) <= limit and len(edges) + shown <= MAX_EDGES:
                # No limit can bite: all at once, as the loop below would add them.
                nodes.update(dict.fromkeys(fresh))
                next_frontier += fresh
                # setdefault: a relationship met before keeps its place and element.
                deque(map(edges.setdefault, map(_KEY, items), map(_ELEMENT, items)), 0)
                continue
            for other, rel_id, rel in items:
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
                edges[rel_id] = rel
        frontier = next_frontier
    wanted = [i for i, node in nodes.items() if node is None]
    fetched = source.nodes(wanted)
    if len(fetched) == len(wanted):  # all there (the ids are distinct): in place
        nodes.update(fetched)
        kept = list(nodes.items())
    else:  # a node that went between the walk and the fetch is left out
        kept = [
            (i, node)
            for i, known in nodes.items()
            if (node := known or fetched.get(i)) is not None
        ]
    elements, node_count, edge_count = source.elements(kept, extra, edges)
    return {
        "version": version,
        "elements": elements,
        "node_count": node_count,
        "edge_count": edge_count,
        "truncated": bool(omitted or omitted_edges),
        "omitted": len(omitted - nodes.keys()),
        "omitted_edges": len(omitted_edges),
        "hubs": hubs,
    }


#: Members the walk adds to a node's data; no model property may take their names.
WALK_FIELDS = ("degree", "more")
for _kind in NODE_KINDS:
    if {p.name for p in _kind.properties} & set(WALK_FIELDS):
        raise RuntimeError(f"a {_kind.name} property clashes with subgraph's {WALK_FIELDS}")


class _Elements(Protocol):
    """Where the walk reads nodes and relationships, and how it makes elements of them."""

    def nodes(self, node_ids: list[str]) -> Mapping[str, Any]: ...

    def around(
        self, node_ids: list[str], rel_types: list[str] | None, first: int
    ) -> Mapping[str, AdjacencyElements]: ...

    def elements(
        self,
        nodes: list[tuple[str, Any]],
        extra: dict[str, dict[str, int]],
        edges: dict[Hashable, Any],
    ) -> tuple[Any, int, int]:
        """The kept nodes (by id, in order; ``extra``: members the walk adds to some) and
        relationships (by the key :meth:`around` gave) as ``elements``, with how many of
        each."""
        ...


class _ElementDicts:
    """Elements as dicts, from records: for callers that read ``result.data`` (the CLI's
    ``query``, tests) and encode it themselves."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def nodes(self, node_ids: list[str]) -> Mapping[str, Node]:
        return self.store.get_nodes(node_ids)

    def around(
        self, node_ids: list[str], rel_types: list[str] | None, first: int
    ) -> dict[str, AdjacencyElements]:
        return _from_records(self.store, node_ids, rel_types, first)

    def elements(
        self,
        nodes: list[tuple[str, Any]],
        extra: dict[str, dict[str, int]],
        edges: dict[Hashable, Any],
    ) -> tuple[dict[str, list[dict[str, Any]]], int, int]:
        # Keyed by relationship id here (see _from_records).
        node_list = [node_element(node, **extra.get(i, {})) for i, node in nodes]
        edge_list = [edge_element(rel, str(rel_id)) for rel_id, rel in edges.items()]
        return {"nodes": node_list, "edges": edge_list}, len(node_list), len(edge_list)


class _ElementTexts:
    """Elements as JSON text, for a response that :func:`encode_response` writes: a
    store that writes elements itself (:class:`ElementReader`) gives their text, and the
    30,000 elements of a large subgraph are never built as objects; any other store
    gives records, written here with the encoder of the response. Either way the text
    parses to what :class:`_ElementDicts` gives."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.reader = store if isinstance(store, ElementReader) else None

    def nodes(self, node_ids: list[str]) -> Mapping[str, str | Node]:
        if self.reader is not None:
            return self.reader.node_elements(node_ids)
        return self.store.get_nodes(node_ids)

    def around(
        self, node_ids: list[str], rel_types: list[str] | None, first: int
    ) -> dict[str, AdjacencyElements]:
        if self.reader is not None:
            return self.reader.neighborhood_elements(node_ids, rel_types, Direction.BOTH, first)
        return _from_records(self.store, node_ids, rel_types, first)

    def elements(
        self,
        nodes: list[tuple[str, Any]],
        extra: dict[str, dict[str, int]],
        edges: dict[Hashable, Any],
    ) -> tuple[EncodedJSON, int, int]:
        # Tens of thousands of texts: only the few that are not plain texts take a call,
        # and when all are (the usual case), join takes them without a Python loop (it
        # refuses anything but text, and then they are written one by one).
        texts = dict(nodes)
        for i, info in extra.items():
            if (node := texts.get(i)) is not None:
                texts[i] = _node_text(node, info)
        try:
            node_text = ",".join(texts.values())
        except TypeError:
            node_text = ",".join(
                [n if type(n) is str else _node_text(n, None) for n in texts.values()]
            )
        try:
            edge_text = ",".join(edges.values())
        except TypeError:
            edge_text = ",".join(
                [rel if type(rel) is str else _text(edge_element(rel)) for rel in edges.values()]
            )
        text = f'{{"nodes":[{node_text}],"edges":[{edge_text}]}}'
        return EncodedJSON(text), len(texts), len(edges)


def _node_text(node: str | Node, extra: dict[str, int] | None) -> str:
    if not isinstance(node, str):
        return _text(node_element(node, **(extra or {})))
    if not extra:
        return node
    # The data object closes just before the element's last member, "classes" (whose
    # value, a kind, cannot hold this): the walk's members go in before it.
    cut = node.rindex('},"classes":')
    return f"{node[:cut]},{_text(extra)[1:-1]}{node[cut:]}"


def _from_records(
    store: Store, node_ids: list[str], rel_types: list[str] | None, first: int
) -> dict[str, AdjacencyElements]:
    return {
        node_id: (a.total_count, [(n.other, n.relationship.id, n.relationship) for n in a.items])
        for node_id, a in store.neighborhoods(node_ids, rel_types, Direction.BOTH, first).items()
    }


def _text(value: object) -> str:
    """JSON text as the response would spell it."""
    return encode_response(value).decode("utf-8")


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
            encoded=info.context.encoded_json,
        )
        return Subgraph(
            version=result["version"],
            elements=result["elements"],
            node_count=result["node_count"],
            edge_count=result["edge_count"],
            truncated=result["truncated"],
            omitted_nodes=result["omitted"],
            omitted_edges=result["omitted_edges"],
            capped_hubs=result["hubs"],
        )
