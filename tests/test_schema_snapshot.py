"""The checked-in SDL is what the code serves; regenerate with `make schema`."""

from __future__ import annotations

from pathlib import Path

from graph_service.api.schema import schema

SNAPSHOT = Path(__file__).resolve().parents[1] / "schema" / "schema.graphql"


def test_schema_snapshot_matches_the_code() -> None:
    assert SNAPSHOT.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema/schema.graphql is out of date: run `make schema` and review the diff"
    )
