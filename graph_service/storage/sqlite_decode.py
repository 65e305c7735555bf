"""Stored rows of the embedded store back into records: one decoder for pages, bulk
reads, scans and the look-ups of a re-load.

Source ids and load origins are kept joined by :data:`SEP` (neither ever contains it);
property maps are compact JSON, read with :func:`.props.decode_props`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graph_service.storage.props import decode_props
from graph_service.storage.records import Node, Provenance, Relationship

SEP = "\x1f"  # joins source ids and origins; neither ever contains it


def split(text: str) -> tuple[str, ...]:
    return tuple(text.split(SEP)) if text else ()


def provenance(sources: str, evidence: str | None, origins: str) -> Provenance:
    """The provenance of a row. Records share a few provenances (one per source list and
    load origin), and a provenance is immutable, so equal ones are built once."""
    key = (sources, evidence, origins)
    p = _provenances.get(key)
    if p is None:
        if len(_provenances) >= 10_000:
            _provenances.clear()
        p = _provenances[key] = Provenance(split(sources), evidence, split(origins))
    return p


_provenances: dict[tuple[str, str | None, str], Provenance] = {}


def node_from_row(row: Sequence[Any]) -> Node:
    """A node from ``(id, kind, key, props, sources, evidence, origins)``."""
    node_id, kind, key, props, sources, evidence, origins = row
    return Node(node_id, kind, key, decode_props(props), provenance(sources, evidence, origins))


def rel_from_row(row: Sequence[Any]) -> Relationship:
    """A relationship from ``(source id, type, target id, key, props, sources, evidence,
    origins)``."""
    src, rel_type, dst, key, props, sources, evidence, origins = row
    return Relationship(
        src, rel_type, dst, key, decode_props(props), provenance(sources, evidence, origins)
    )
