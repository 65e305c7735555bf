"""Neo4j constraints and indexes, derived from the model (never written by hand)."""

from __future__ import annotations

from schema.model import NODE_KINDS


def neo4j_constraints() -> list[str]:
    """One uniqueness constraint on ``id`` per node kind, plus lookup indexes.

    Labels come only from the model's own list, so building these strings from them is safe.
    """
    statements: list[str] = []
    for kind in NODE_KINDS:
        name = kind.name.lower()
        statements.append(
            f"CREATE CONSTRAINT {name}_id IF NOT EXISTS FOR (n:{kind.name}) REQUIRE n.id IS UNIQUE"
        )
    statements.append("CREATE CONSTRAINT node_id IF NOT EXISTS FOR (n:Node) REQUIRE n.id IS UNIQUE")
    return statements
