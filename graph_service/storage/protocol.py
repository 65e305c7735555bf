"""The store protocol: what the embedded (SQLite) and Neo4j stores both implement.

Ordering contracts, so both stores give the same answers:

* ``find_nodes`` orders by node id (code point order); the cursor is the last id.
* ``search`` orders by node id.
* ``neighbors`` orders by (neighbour id, relationship type, direction, relationship key);
  the cursor encodes that tuple (see :mod:`graph_service.storage.cursors`);
  ``neighborhoods`` takes each node's first relationships in that same order.
* ``relationships`` and ``scan_relationships`` order by (source, type, target, key);
  ``scan_nodes`` orders by node id.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

from graph_service.storage.records import (
    Adjacency,
    AdjacencyElements,
    Direction,
    EdgeList,
    Neighbor,
    Node,
    NodeRow,
    Page,
    Relationship,
    RelRow,
    Stats,
    WriteSummary,
    node_of,
    rel_of,
)
from schema import Value


@runtime_checkable
class Store(Protocol):
    """A graph store. Every write bumps the graph version."""

    url: str

    def version(self) -> int:
        """The graph version: a number every committed write increases."""
        ...

    def upsert(
        self, nodes: Iterable[Node], relationships: Iterable[Relationship] = ()
    ) -> WriteSummary:
        """Idempotently create or merge nodes and relationships.

        A repeated node or relationship merges: newer non-null properties win, sources and
        origins accumulate, the stronger evidence wins. Relationship endpoints must exist
        (in this batch or already in the store), else :class:`StoreError` and nothing is
        written. Writing facts identical to what is stored does not bump the version.
        """
        ...

    def get_node(self, node_id: str) -> Node | None: ...

    def get_nodes(self, node_ids: Sequence[str]) -> dict[str, Node]:
        """The nodes that exist among ``node_ids``, by id."""
        ...

    def find_nodes(
        self,
        kind: str | None = None,
        filters: Mapping[str, Value] | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Page[Node]:
        """Nodes of a kind whose properties equal ``filters``, ordered by id."""
        ...

    def search(
        self, text: str, kinds: Collection[str] | None = None, first: int = 20
    ) -> list[Node]:
        """Nodes whose label, key or other names contain ``text`` (normalized: NFC,
        case-folded, ё as е), ordered by id."""
        ...

    def neighbors(
        self,
        node_id: str,
        rel_types: Collection[str] | None = None,
        direction: Direction = Direction.BOTH,
        first: int = 50,
        after: str | None = None,
    ) -> Page[Neighbor]: ...

    def relationships(
        self,
        rel_types: Collection[str] | None = None,
        first: int = 1000,
        after: str | None = None,
    ) -> Page[Relationship]:
        """All relationships (of some types), ordered by relationship id."""
        ...

    def relationships_of(
        self,
        node_ids: Sequence[str],
        rel_types: Collection[str] | None = None,
        direction: Direction = Direction.BOTH,
    ) -> list[Relationship]:
        """Every relationship (of the given types) leaving (OUT), reaching (IN) or touching
        (BOTH) any of the nodes, ordered by (source, type, target, key), each once.

        Not paginated: the caller bounds how many nodes it asks about. Traversals use it to
        read a whole frontier's relationships in one round trip.
        """
        ...

    def neighborhoods(
        self,
        node_ids: Sequence[str],
        rel_types: Collection[str] | None = None,
        direction: Direction = Direction.BOTH,
        first: int = 50,
    ) -> dict[str, Adjacency]:
        """For each existing node among ``node_ids``: its first ``first`` relationships in
        ``neighbors`` order (naming the other end by id) and how many it has in all, as
        ``neighbors(id, rel_types, direction, first)`` would give them one node at a time.

        One round trip for a whole frontier of a walk; the caller fetches the other ends
        it keeps with one ``get_nodes``. Nodes come in the order asked, once each; nodes that
        do not exist are left out.
        """
        ...

    def scan_nodes(self, kind: str | None = None) -> Iterator[Node]:
        """Every node (of one kind), ordered by id, streamed from one query: for exports,
        which read everything once and would otherwise pay a page query (and count) per
        page. Consume it or close it: it holds a read open until then."""
        ...

    def scan_relationships(
        self, rel_types: Collection[str] | None = None
    ) -> Iterator[Relationship]:
        """Every relationship (of some types), ordered as ``relationships`` orders them,
        streamed like :meth:`scan_nodes`."""
        ...

    def stats(self) -> Stats: ...

    def edge_list(self, rel_types: Collection[str] | None = None) -> EdgeList:
        """Every node and the relationships of the given types, as arrays for analytics."""
        ...

    def clear(self) -> None:
        """Delete everything (bumps the version)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class RowWriter(Protocol):
    """A store with a bulk write path: :meth:`Store.upsert` of plain rows.

    A loader holds every fact as a tuple already; building a :class:`Node` or
    :class:`Relationship` for each, only for the store to take it apart again, costs as
    much as storing it. Stores without this path are written through
    :func:`upsert_rows`, which builds the records.
    """

    def upsert_rows(
        self, nodes: Iterable[NodeRow], relationships: Iterable[RelRow] = ()
    ) -> WriteSummary:
        """Exactly :meth:`Store.upsert` of ``map(node_of, nodes)``,
        ``map(rel_of, relationships)``."""
        ...


@runtime_checkable
class ElementReader(Protocol):
    """A store that writes nodes and relationships as the Cytoscape.js elements of
    :mod:`graph_service.exports.elements` itself, as JSON text: ``subgraph`` answers with
    tens of thousands of elements, and building each as a record, then a dict, then
    JSON costs more than reading it. The text must parse to exactly what
    ``node_element`` / ``edge_element`` of the record give, members in the same order.
    Where a store cannot write an element exactly, it gives the record instead.

    Stores without this path are read through records (see ``graph_service.api.subgraph``).
    """

    def node_elements(self, node_ids: Sequence[str]) -> dict[str, str | Node]:
        """The elements of the nodes that exist among ``node_ids``, by id."""
        ...

    def neighborhood_elements(
        self,
        node_ids: Sequence[str],
        rel_types: Collection[str] | None = None,
        direction: Direction = Direction.BOTH,
        first: int = 50,
    ) -> dict[str, AdjacencyElements]:
        """Exactly :meth:`Store.neighborhoods`, each relationship as ``(other end's id,
        key, element)``: the key tells the relationship apart from every other one this
        store gives (the same relationship read from both ends has one key)."""
        ...


def upsert_rows(
    store: Store, nodes: Iterable[NodeRow], relationships: Iterable[RelRow] = ()
) -> WriteSummary:
    """Write rows through the store's bulk path, or as records through ``upsert``."""
    if isinstance(store, RowWriter):
        return store.upsert_rows(nodes, relationships)
    return store.upsert(map(node_of, nodes), map(rel_of, relationships))
