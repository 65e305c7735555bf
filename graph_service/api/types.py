"""GraphQL types for nodes and relationships, generated from the model.

``Node`` is an interface with the fields every node has (id, kind, key, label, provenance,
properties as one JSON object, neighbours); each node kind gets its own object type with
one typed field per declared property, so the schema documents the model.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Optional

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_service.api.context import Context
from graph_service.api.limits import check_first
from graph_service.storage import Direction as StoreDirection
from graph_service.storage import Neighbor as NeighborRecord
from graph_service.storage import Node as NodeRecord
from graph_service.storage import Relationship as RelationshipRecord
from schema import NODE_KINDS, RELATIONSHIP_TYPES, NodeKind, ValueType

NodeKindEnum = strawberry.enum(
    enum.Enum("NodeKind", {k.name: k.name for k in NODE_KINDS}),  # type: ignore[misc]
    description="The kinds of node in the model.",
)
RelationshipTypeEnum = strawberry.enum(
    enum.Enum("RelationshipType", {r.name: r.name for r in RELATIONSHIP_TYPES}),  # type: ignore[misc]
    description="The relationship types in the model.",
)


@strawberry.enum(description="Which relationships of a node: leaving it, arriving, or both.")
class Direction(enum.Enum):
    OUT = "out"
    IN = "in"
    BOTH = "both"


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.interface(description="A node of the pressure network. Ids are `Kind:key`.")
class Node:
    record: strawberry.Private[NodeRecord]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.id)

    @strawberry.field
    def kind(self) -> NodeKindEnum:  # type: ignore[valid-type]
        return NodeKindEnum[self.record.kind]  # type: ignore[misc]

    @strawberry.field
    def key(self) -> str:
        return self.record.key

    @strawberry.field(description="A name to show: the name or title, else the key.")
    def label(self) -> str:
        return self.record.label

    @strawberry.field(description="All properties as one JSON object.")
    def properties(self) -> JSON:
        return dict(self.record.properties)

    @strawberry.field(description="documented > reported > alleged.")
    def evidence(self) -> str | None:
        return self.record.provenance.evidence

    @strawberry.field(description="Ids of the Source nodes this fact cites.")
    def source_ids(self) -> list[strawberry.ID]:
        return [strawberry.ID(s) for s in self.record.provenance.sources]

    @strawberry.field(description="The Source nodes this fact cites.")
    def sources(
        self, info: Info[Context, None]
    ) -> list[Annotated[Node, strawberry.lazy("graph_service.api.types")]]:
        found = info.context.nodes(self.record.provenance.sources)
        return [wrap_node(found[s]) for s in self.record.provenance.sources if s in found]

    @strawberry.field(description="Where loads found this fact: file#sheet!row.")
    def origins(self) -> list[str]:
        return list(self.record.provenance.origins)

    @strawberry.field(description="This node's relationships and the nodes at their other ends.")
    def neighbors(
        self,
        info: Info[Context, None],
        rel_types: list[RelationshipTypeEnum] | None = None,  # type: ignore[valid-type]
        direction: Direction = Direction.BOTH,
        first: int = 50,
        after: str | None = None,
    ) -> Annotated[NeighborConnection, strawberry.lazy("graph_service.api.types")]:
        return neighbor_connection(info, self.record.id, rel_types, direction, first, after)


@strawberry.type(description="A relationship: (from, type, to) plus a key for parallel ones.")
class Relationship:
    record: strawberry.Private[RelationshipRecord]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.id)

    @strawberry.field
    def type(self) -> RelationshipTypeEnum:  # type: ignore[valid-type]
        return RelationshipTypeEnum[self.record.type]  # type: ignore[misc]

    @strawberry.field
    def key(self) -> str:
        return self.record.key

    @strawberry.field(name="from")
    def from_(self, info: Info[Context, None]) -> Node | None:
        node = info.context.node(self.record.source)
        return wrap_node(node) if node else None

    @strawberry.field
    def to(self, info: Info[Context, None]) -> Node | None:
        node = info.context.node(self.record.target)
        return wrap_node(node) if node else None

    @strawberry.field
    def from_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.source)

    @strawberry.field
    def to_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.target)

    @strawberry.field
    def properties(self) -> JSON:
        return dict(self.record.properties)

    @strawberry.field
    def evidence(self) -> str | None:
        return self.record.provenance.evidence

    @strawberry.field
    def source_ids(self) -> list[strawberry.ID]:
        return [strawberry.ID(s) for s in self.record.provenance.sources]

    @strawberry.field
    def sources(self, info: Info[Context, None]) -> list[Node]:
        found = info.context.nodes(self.record.provenance.sources)
        return [wrap_node(found[s]) for s in self.record.provenance.sources if s in found]

    @strawberry.field
    def origins(self) -> list[str]:
        return list(self.record.provenance.origins)


@strawberry.type(description="One relationship of a node, seen from that node.")
class NeighborEdge:
    direction: Direction
    relationship: Relationship
    node: Node


@strawberry.type
class NeighborConnection:
    total_count: int
    page_info: PageInfo
    edges: list[NeighborEdge]


@strawberry.type
class NodeConnection:
    total_count: int
    page_info: PageInfo
    nodes: list[Node]


def neighbor_connection(
    info: Info[Context, None],
    node_id: str,
    rel_types: list[Any] | None,
    direction: Direction,
    first: int,
    after: str | None,
) -> NeighborConnection:
    check_first(first)
    page = info.context.store.neighbors(
        node_id,
        [t.value for t in rel_types] if rel_types is not None else None,
        StoreDirection(direction.value),
        first,
        after,
    )
    info.context.remember([n.node for n in page.items])
    return NeighborConnection(
        total_count=page.total_count,
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        edges=[_edge(n) for n in page.items],
    )


def _edge(n: NeighborRecord) -> NeighborEdge:
    return NeighborEdge(
        direction=Direction(n.direction.value),
        relationship=Relationship(record=n.relationship),
        node=wrap_node(n.node),
    )


_PY_TYPES: dict[ValueType, Any] = {
    ValueType.TEXT: Optional[str],  # noqa: UP045 - strawberry needs a runtime type object
    ValueType.ENUM: Optional[str],  # noqa: UP045
    ValueType.DATE: Optional[str],  # noqa: UP045
    ValueType.INTEGER: Optional[int],  # noqa: UP045
    ValueType.NUMBER: Optional[float],  # noqa: UP045
    ValueType.BOOLEAN: Optional[bool],  # noqa: UP045
    ValueType.TEXT_LIST: Optional[list[str]],  # noqa: UP045
}


def _property_resolver(name: str, py_type: Any) -> Any:
    def resolve(root: Node) -> Any:
        return root.record.properties.get(name)

    resolve.__annotations__ = {"root": Node, "return": py_type}
    return resolve


def _kind_type(kind: NodeKind) -> type[Node]:
    namespace: dict[str, Any] = {"__doc__": kind.description}
    for prop in kind.properties:
        description = prop.description or (
            f"One of: {', '.join(prop.enum)}."
            if prop.enum
            else "A partial ISO date: 2023-08-16, 2023-08, 2023, or --08-16 (no year)."
            if prop.type is ValueType.DATE
            else None
        )
        namespace[f"prop_{prop.name}"] = strawberry.field(
            resolver=_property_resolver(prop.name, _PY_TYPES[prop.type]),
            name=_camel(prop.name),
            description=description,
        )
    cls = type(kind.name, (Node,), namespace)
    return strawberry.type(cls, description=kind.description)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


KIND_TYPES: dict[str, type[Node]] = {k.name: _kind_type(k) for k in NODE_KINDS}


def wrap_node(record: NodeRecord) -> Node:
    return KIND_TYPES[record.kind](record=record)
