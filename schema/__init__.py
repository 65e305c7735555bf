"""The pressure-graph domain model: node kinds, relationship types, enums, checks."""

from schema.dates import PartialDate, parse_iso
from schema.errors import ModelError
from schema.model import (
    EVIDENCE_VALUES,
    NODE_KIND_BY_NAME,
    NODE_KINDS,
    REL_TYPE_BY_NAME,
    RELATIONSHIP_TYPES,
    Evidence,
    NodeKind,
    Property,
    RelationshipType,
    ValueType,
)
from schema.records import Node, Provenance, Relationship
from schema.validation import (
    Value,
    check_endpoints,
    check_evidence,
    check_key,
    check_properties,
    check_value,
    node_id,
    node_kind,
    relationship_type,
    split_node_id,
    strongest_evidence,
)

__all__ = [
    "EVIDENCE_VALUES",
    "NODE_KINDS",
    "NODE_KIND_BY_NAME",
    "RELATIONSHIP_TYPES",
    "REL_TYPE_BY_NAME",
    "Evidence",
    "ModelError",
    "Node",
    "NodeKind",
    "PartialDate",
    "Property",
    "Provenance",
    "Relationship",
    "RelationshipType",
    "Value",
    "ValueType",
    "check_endpoints",
    "check_evidence",
    "check_key",
    "check_properties",
    "check_value",
    "node_id",
    "node_kind",
    "parse_iso",
    "relationship_type",
    "split_node_id",
    "strongest_evidence",
]
