"""The root query: look-ups, listing, search, neighbours, stats."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graph_service.api.context import Context
from graph_service.api.limits import check_first
from graph_service.api.types import (
    Direction,
    NeighborConnection,
    Node,
    NodeConnection,
    NodeKindEnum,
    PageInfo,
    RelationshipTypeEnum,
    neighbor_connection,
    wrap_node,
)
from graph_service.errors import InvalidArgument, NotFound
from loaders.values import parse_cell
from schema import NODE_KIND_BY_NAME, ModelError, Value, split_node_id


@strawberry.input(
    description="Keep nodes whose property equals a value (written as in a spreadsheet)."
)
class PropertyFilter:
    property: str
    value: str


@strawberry.type
class KindCount:
    kind: str
    count: int


@strawberry.type
class Stats:
    version: int
    node_count: int
    relationship_count: int
    nodes_by_kind: list[KindCount]
    relationships_by_type: list[KindCount]


def _filters(kind: str | None, filters: list[PropertyFilter] | None) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for f in filters or []:
        if kind is None:
            raise InvalidArgument("filtering on properties needs a kind")
        prop = NODE_KIND_BY_NAME[kind].property(f.property)
        if prop is None:
            raise InvalidArgument(f"{kind} has no property {f.property!r}")
        try:
            value = parse_cell(kind, prop, f.value)
        except ModelError as e:
            raise InvalidArgument(f"filter on {f.property}: {e}") from None
        if value is None:
            raise InvalidArgument(f"filter on {f.property}: the value is empty")
        out[f.property] = value
    return out


@strawberry.type
class Query:
    @strawberry.field(description="One node by id (`Kind:key`), or null when there is none.")
    def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        try:
            split_node_id(id)
        except ModelError as e:
            raise InvalidArgument(str(e)) from None
        record = info.context.node(id)
        return wrap_node(record) if record else None

    @strawberry.field(description="Nodes of a kind, ordered by id, a page at a time.")
    def nodes(
        self,
        info: Info[Context, None],
        kind: NodeKindEnum | None = None,  # type: ignore[valid-type]
        filter: list[PropertyFilter] | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> NodeConnection:
        check_first(first)
        kind_name = kind.value if kind is not None else None  # type: ignore[attr-defined]
        page = info.context.store.find_nodes(kind_name, _filters(kind_name, filter), first, after)
        info.context.remember(list(page.items))
        return NodeConnection(
            total_count=page.total_count,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
            nodes=[wrap_node(n) for n in page.items],
        )

    @strawberry.field(
        description="Nodes whose name, title, key or aliases contain the text "
        "(case-insensitive, ё = е), ordered by id."
    )
    def search(
        self,
        info: Info[Context, None],
        text: str,
        kinds: list[NodeKindEnum] | None = None,  # type: ignore[valid-type]
        first: int = 20,
    ) -> list[Node]:
        check_first(first)
        names = [k.value for k in kinds] if kinds else None  # type: ignore[attr-defined]
        found = info.context.store.search(text, names, first)
        info.context.remember(found)
        return [wrap_node(n) for n in found]

    @strawberry.field(description="A node's relationships, with a total count, a page at a time.")
    def neighbors(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        rel_types: list[RelationshipTypeEnum] | None = None,  # type: ignore[valid-type]
        direction: Direction = Direction.BOTH,
        first: int = 50,
        after: str | None = None,
    ) -> NeighborConnection:
        if info.context.node(id) is None:
            raise NotFound(f"there is no node {id!r}")
        return neighbor_connection(info, id, rel_types, direction, first, after)

    @strawberry.field(description="Counts of nodes and relationships, and the graph version.")
    def stats(self, info: Info[Context, None]) -> Stats:
        s = info.context.store.stats()
        return Stats(
            version=s.version,
            node_count=s.node_count,
            relationship_count=s.relationship_count,
            nodes_by_kind=[KindCount(kind=k, count=n) for k, n in sorted(s.nodes_by_kind.items())],
            relationships_by_type=[
                KindCount(kind=k, count=n) for k, n in sorted(s.relationships_by_type.items())
            ],
        )
