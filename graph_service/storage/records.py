"""The values that cross the store protocol: nodes, relationships, pages, summaries.

Both stores take and return exactly these, so their answers can be compared field by field.
Nodes, relationships and provenance are the model's own records (:mod:`schema.records`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from typing import Generic, TypeVar

from schema import Value
from schema.records import Node, Provenance, Relationship

__all__ = [
    "Adjacency",
    "AdjacencyElements",
    "Adjacent",
    "AdjacentElement",
    "Direction",
    "EdgeList",
    "Neighbor",
    "Node",
    "NodeRow",
    "Page",
    "Provenance",
    "RelRow",
    "Relationship",
    "Stats",
    "WriteSummary",
    "node_of",
    "node_row",
    "rel_of",
    "rel_row",
]

T = TypeVar("T")

#: A node as a plain tuple, for bulk writes (``Store.upsert_rows``): the fields of
#: :class:`Node` and its :class:`Provenance`, in order —
#: ``(id, kind, key, properties, sources, evidence, origins)``.
NodeRow = tuple[str, str, str, Mapping[str, Value], tuple[str, ...], str | None, tuple[str, ...]]
#: A relationship as a plain tuple:
#: ``(source, type, target, key, properties, sources, evidence, origins)``.
RelRow = tuple[
    str, str, str, str, Mapping[str, Value], tuple[str, ...], str | None, tuple[str, ...]
]


# attrgetter reads every field in C: a bulk write converts millions of records.
_PROVENANCE = ("provenance.sources", "provenance.evidence", "provenance.origins")
#: A node's row.
node_row: Callable[[Node], NodeRow] = attrgetter("id", "kind", "key", "properties", *_PROVENANCE)
#: A relationship's row.
rel_row: Callable[[Relationship], RelRow] = attrgetter(
    "source", "type", "target", "key", "properties", *_PROVENANCE
)


def node_of(row: NodeRow) -> Node:
    return Node(row[0], row[1], row[2], row[3], Provenance(row[4], row[5], row[6]))


def rel_of(row: RelRow) -> Relationship:
    return Relationship(row[0], row[1], row[2], row[3], row[4], Provenance(row[5], row[6], row[7]))


class Direction(StrEnum):
    OUT = "out"
    IN = "in"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class Neighbor:
    """One relationship of a node, seen from that node."""

    relationship: Relationship
    node: Node  # the node at the other end
    direction: Direction  # OUT: the relationship starts at the asking node


@dataclass(frozen=True, slots=True)
class Adjacent:
    """One relationship of a node, seen from that node, naming only the other end: a
    caller that reads many nodes' relationships fetches the other ends once, together."""

    relationship: Relationship
    other: str  # the id of the node at the other end
    direction: Direction  # OUT: the relationship starts at the asking node


@dataclass(frozen=True, slots=True)
class Adjacency:
    """The first relationships of a node in ``neighbors`` order, and how many it has."""

    total_count: int
    items: list[Adjacent]


#: One relationship of a node as a Cytoscape.js element (see
#: :class:`graph_service.storage.protocol.ElementReader`): the other end's id, what tells
#: the relationship apart from every other one the store gives (its id, or something
#: cheaper the store has to hand, such as its row number), and its element as JSON
#: text, or the record itself where the store could not write the text exactly.
AdjacentElement = tuple[str, Hashable, str | Relationship]
#: How many relationships a node has, and its first ones as elements.
AdjacencyElements = tuple[int, list[AdjacentElement]]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total_count: int
    end_cursor: str | None
    has_next_page: bool


@dataclass(slots=True)
class WriteSummary:
    """What an upsert did, counted per kind / type."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    version: int = 0

    def count(self, outcome: str, name: str, n: int = 1) -> None:
        bucket: dict[str, int] = getattr(self, outcome)
        bucket[name] = bucket.get(name, 0) + n

    def add(self, other: WriteSummary) -> None:
        for outcome in ("created", "updated", "unchanged"):
            for name, n in getattr(other, outcome).items():
                self.count(outcome, name, n)
        self.version = max(self.version, other.version)

    @property
    def total_written(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())


@dataclass(frozen=True, slots=True)
class Stats:
    version: int
    nodes_by_kind: Mapping[str, int]
    relationships_by_type: Mapping[str, int]

    @property
    def node_count(self) -> int:
        return sum(self.nodes_by_kind.values())

    @property
    def relationship_count(self) -> int:
        return sum(self.relationships_by_type.values())


@dataclass(frozen=True, slots=True)
class EdgeList:
    """The graph as arrays, for analytics: node i is ``node_ids[i]``.

    ``sources[j] -> targets[j]`` is relationship j, of type ``rel_types[types[j]]``.
    """

    version: int
    node_ids: Sequence[str]
    node_kinds: Sequence[str]
    sources: Sequence[int]
    targets: Sequence[int]
    types: Sequence[int]
    rel_types: Sequence[str]
