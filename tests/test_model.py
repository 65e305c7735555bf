"""The model rejects what does not fit it, with messages that say why."""

from __future__ import annotations

import importlib.metadata

import pytest

from schema import (
    NODE_KINDS,
    RELATIONSHIP_TYPES,
    ModelError,
    Node,
    Provenance,
    Relationship,
    parse_iso,
    split_node_id,
)
from schema.constraints import neo4j_constraints


def test_works_at_from_an_institution_is_rejected() -> None:
    with pytest.raises(ModelError, match="cannot start at an Institution; it starts at Person"):
        Relationship.create("Institution:4826000001", "WORKS_AT", "Authority:a")


def test_unknown_kind_is_rejected_with_the_known_kinds_listed() -> None:
    with pytest.raises(ModelError, match=r"unknown node kind 'Ministry'.*Authority"):
        Node.create("Ministry", "x")


def test_unknown_relationship_type_is_rejected() -> None:
    with pytest.raises(ModelError, match="unknown relationship type 'BRIBES'"):
        Relationship.create("Person:a", "BRIBES", "Person:b")


def test_bad_enum_value_lists_the_allowed_ones() -> None:
    with pytest.raises(ModelError, match="not one of: recommended, strongly recommended"):
        Node.create("Directive", "d", {"wording": "begged"})


def test_unknown_property_is_rejected() -> None:
    with pytest.raises(ModelError, match="Institution has no property 'colour'"):
        Node.create("Institution", "1", {"colour": "red"})


def test_wrong_value_type_is_rejected() -> None:
    with pytest.raises(ModelError, match="expected integer"):
        Node.create("Institution", "1", {"staff_count": "many"})


def test_bad_evidence_grade_is_rejected() -> None:
    with pytest.raises(ModelError, match="evidence 'rumour'"):
        Node.create("Authority", "a", provenance=Provenance(evidence="rumour"))


def test_node_ids_are_kind_colon_key_and_keys_have_no_spaces() -> None:
    assert split_node_id("Institution:4826012345") == ("Institution", "4826012345")
    with pytest.raises(ModelError, match="not a node id"):
        split_node_id("lipetsk-dip")
    with pytest.raises(ModelError, match="white space"):
        split_node_id("Authority:lipetsk dip")


@pytest.mark.parametrize(
    ("text", "precision"),
    [("2023-08-16", "day"), ("2023-08", "month"), ("2023", "year"), ("--08-16", "day-month")],
)
def test_partial_dates_keep_their_precision(text: str, precision: str) -> None:
    date = parse_iso(text)
    assert date.precision == precision
    assert date.iso() == text


@pytest.mark.parametrize("text", ["2023-02-30", "--13-01", "16.08", "yesterday", "2023-8-1"])
def test_impossible_or_unrecognised_dates_are_rejected(text: str) -> None:
    with pytest.raises(ModelError):
        parse_iso(text)


def test_february_29_without_a_year_is_a_date() -> None:
    assert parse_iso("--02-29").iso() == "--02-29"


def test_every_relationship_type_joins_declared_kinds() -> None:
    kinds = {k.name for k in NODE_KINDS}
    for rt in RELATIONSHIP_TYPES:
        assert set(rt.sources) <= kinds and set(rt.targets) <= kinds


def test_constraints_are_derived_one_per_kind() -> None:
    statements = neo4j_constraints()
    for kind in NODE_KINDS:
        assert any(f"(n:{kind.name}) REQUIRE n.id IS UNIQUE" in s for s in statements)
    assert all("IF NOT EXISTS" in s for s in statements)


def test_the_unrelated_schema_package_from_pypi_is_not_installed() -> None:
    """Our import name `schema` must be ours: no dependency may pull in PyPI's `schema`."""
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("schema")
    import schema

    assert hasattr(schema, "NODE_KINDS")


def test_control_characters_in_text_are_rejected_but_line_breaks_are_not() -> None:
    with pytest.raises(ModelError, match="control character"):
        Node.create("Authority", "a", {"name": "x\x00y"})
    with pytest.raises(ModelError, match="control character"):
        Node.create("Person", "p", {"aliases": ["ok", "bad\x07"]})
    assert Node.create("Authority", "a", {"name": "line one\nline two\tend"}).properties


def test_a_relationship_to_the_wrong_kind_names_the_kinds_it_may_end_at() -> None:
    with pytest.raises(ModelError, match="WORKS_AT cannot end at a Person; it ends at "):
        Relationship.create("Person:emp-1", "WORKS_AT", "Person:emp-2")
    with pytest.raises(ModelError, match="REQUIRES cannot end at an Authority"):
        Relationship.create("Directive:d", "REQUIRES", "Authority:a")
