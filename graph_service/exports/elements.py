"""Nodes and relationships as Cytoscape.js elements (``{"data": {...}, "classes": ...}``).

The same shape serves the ``subgraph`` GraphQL field, the ``cytoscape`` export and the
explorer page: ``data.id``, ``data.kind`` (the node kind, or the relationship type),
``data.label``, ``data.evidence``, ``data.sources`` (Source node ids), ``data.origins``,
and every property of the record under its own name; edges add ``data.source``,
``data.target`` and ``data.key``. ``classes`` is the kind, so a stylesheet can colour by it.
"""

from __future__ import annotations

from typing import Any

from graph_service.storage import Node, Relationship
from schema import NODE_KINDS, RELATIONSHIP_TYPES

#: Names the element itself uses; no model property may take one (checked below).
NODE_FIELDS = ("id", "kind", "key", "label", "evidence", "sources", "origins")
EDGE_FIELDS = ("id", "source", "target", "kind", "key", "label", "evidence", "sources", "origins")


def _check_names() -> None:
    for nk in NODE_KINDS:
        clash = {p.name for p in nk.properties} & set(NODE_FIELDS)
        if clash:
            raise RuntimeError(f"{nk.name} property {sorted(clash)} clashes with element fields")
    for rt in RELATIONSHIP_TYPES:
        clash = {p.name for p in rt.properties} & set(EDGE_FIELDS)
        if clash:
            raise RuntimeError(f"{rt.name} property {sorted(clash)} clashes with element fields")


_check_names()


def node_element(node: Node, **extra: Any) -> dict[str, Any]:
    # Built as one literal: subgraph and the cytoscape export make one per node.
    p = node.provenance
    data: dict[str, Any] = {
        **node.properties,
        "id": node.id,
        "kind": node.kind,
        "key": node.key,
        "label": node.label,
        "evidence": p.evidence,
        "sources": list(p.sources),
        "origins": list(p.origins),
        **extra,
    }
    return {"group": "nodes", "data": data, "classes": node.kind}


def edge_element(rel: Relationship, rel_id: str | None = None) -> dict[str, Any]:
    """``rel_id``: ``rel.id`` when the caller has it already (it is built per call)."""
    p = rel.provenance
    data: dict[str, Any] = {
        **rel.properties,
        "id": rel.id if rel_id is None else rel_id,
        "source": rel.source,
        "target": rel.target,
        "kind": rel.type,
        "key": rel.key,
        "label": rel.type,
        "evidence": p.evidence,
        "sources": list(p.sources),
        "origins": list(p.origins),
    }
    return {"group": "edges", "data": data, "classes": rel.type}
