"""Nodes, relationships and their provenance: the records every part of the project
passes around. Building one through ``create`` checks it against the model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from schema.validation import (
    Value,
    check_endpoints,
    check_evidence,
    check_properties,
    node_kind,
    split_node_id,
    strongest_evidence,
)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a fact comes from: Source node ids, evidence grade, and load origins.

    ``origins`` are ``file#sheet!row`` strings naming where each load found the fact.
    """

    sources: tuple[str, ...] = ()
    evidence: str | None = None
    origins: tuple[str, ...] = ()

    def merged(self, other: Provenance) -> Provenance:
        """Repeating a fact adds its sources and origins; the stronger evidence wins."""
        return Provenance(
            _union(self.sources, other.sources),
            strongest_evidence(self.evidence, other.evidence),
            _union(self.origins, other.origins),
        )


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    if not b or set(b) <= set(a):
        return a
    seen = dict.fromkeys(a)
    seen.update(dict.fromkeys(b))
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str
    key: str
    properties: Mapping[str, Value]
    provenance: Provenance = Provenance()

    @staticmethod
    def create(
        kind: str,
        key: str,
        properties: Mapping[str, Any] | None = None,
        provenance: Provenance = Provenance(),
    ) -> Node:
        """Build a node, checking kind, key, properties and evidence against the model."""
        nk = node_kind(kind)
        node_id = f"{kind}:{key}"
        _, key = split_node_id(node_id)
        props = check_properties(kind, nk.properties, properties or {})
        check_evidence(provenance.evidence)
        return Node(f"{kind}:{key}", kind, key, props, provenance)

    @property
    def label(self) -> str:
        value = self.properties.get(node_kind(self.kind).label_property)
        return value if isinstance(value, str) and value else self.key

    def merged(self, newer: Node) -> Node:
        """Upsert semantics: newer non-null properties win, provenance accumulates."""
        props = dict(self.properties)
        props.update(newer.properties)
        return Node(self.id, self.kind, self.key, props, self.provenance.merged(newer.provenance))


@dataclass(frozen=True, slots=True)
class Relationship:
    """A relationship, identified by (source, type, target, key)."""

    source: str
    type: str
    target: str
    key: str = ""
    properties: Mapping[str, Value] = field(default_factory=dict)
    provenance: Provenance = Provenance()

    @staticmethod
    def create(
        source: str,
        type: str,
        target: str,
        properties: Mapping[str, Any] | None = None,
        provenance: Provenance = Provenance(),
        key: str = "",
    ) -> Relationship:
        skind, _ = split_node_id(source)
        tkind, _ = split_node_id(target)
        rt = check_endpoints(type, skind, tkind)
        props = check_properties(type, rt.properties, properties or {})
        check_evidence(provenance.evidence)
        return Relationship(source, type, target, key, props, provenance)

    @property
    def id(self) -> str:
        suffix = f"#{self.key}" if self.key else ""
        return f"{self.source}-{self.type}{suffix}->{self.target}"

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.source, self.type, self.target, self.key)

    def merged(self, newer: Relationship) -> Relationship:
        props = dict(self.properties)
        props.update(newer.properties)
        return Relationship(
            self.source,
            self.type,
            self.target,
            self.key,
            props,
            self.provenance.merged(newer.provenance),
        )
