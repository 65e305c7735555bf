"""Stores behind one protocol: the embedded SQLite store and the Neo4j store."""

from graph_service.storage.open import DEFAULT_STORE_URL, open_store, store_url_from_env
from graph_service.storage.protocol import Store
from graph_service.storage.records import (
    Adjacency,
    Adjacent,
    Direction,
    EdgeList,
    Neighbor,
    Node,
    Page,
    Provenance,
    Relationship,
    Stats,
    WriteSummary,
)

__all__ = [
    "DEFAULT_STORE_URL",
    "Adjacency",
    "Adjacent",
    "Direction",
    "EdgeList",
    "Neighbor",
    "Node",
    "Page",
    "Provenance",
    "Relationship",
    "Stats",
    "Store",
    "WriteSummary",
    "open_store",
    "store_url_from_env",
]
