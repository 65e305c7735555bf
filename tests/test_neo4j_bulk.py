"""The Neo4j store's load scope: bulk mode defers the search index, answers never change."""

from __future__ import annotations

import neo4j
import pytest

from graph_service.storage import Node, Provenance, Relationship
from graph_service.storage.neo4j import Neo4jStore
from graph_service.storage.neo4j_bulk import SEARCH_INDEX


def _search_index_state(driver: neo4j.Driver) -> str | None:
    with driver.session() as session:
        record = session.run(
            "SHOW INDEXES YIELD name, state WHERE name = $name RETURN state", name=SEARCH_INDEX
        ).single()
    return None if record is None else str(record["state"])


def _graph(n: int) -> tuple[list[Node], list[Relationship]]:
    prov = Provenance(("Source:register",), "documented")
    nodes = [Node.create("Institution", f"i{i}", {"name": f"Школа №{i}"}, prov) for i in range(n)]
    nodes.append(Node.create("Authority", "dept", {"name": "Department of Internal Policy"}))
    rels = [Relationship.create(f"Institution:i{i}", "SUBORDINATE_TO", "Authority:dept",
                                provenance=prov) for i in range(n)]
    return nodes, rels


def test_bulk_mode_drops_the_search_index_and_builds_it_again_at_the_end(
    neo4j_store: Neo4jStore, neo4j_driver: neo4j.Driver
) -> None:
    nodes, rels = _graph(30)
    assert _search_index_state(neo4j_driver) == "ONLINE"
    with neo4j_store.transaction(bulk=True):
        assert _search_index_state(neo4j_driver) is None
        first = neo4j_store.upsert(nodes[:10])
        # Without the index, search still answers (from the label), the same way.
        assert [n.id for n in neo4j_store.search("школа №1")] == ["Institution:i1"]
        with neo4j_store.transaction(bulk=True):  # joins the outer scope
            second = neo4j_store.upsert(nodes[10:], rels)
        assert _search_index_state(neo4j_driver) is None
    assert _search_index_state(neo4j_driver) == "ONLINE"
    assert first.created == {"Institution": 10}
    assert second.created == {"Institution": 20, "Authority": 1, "SUBORDINATE_TO": 30}
    assert [n.id for n in neo4j_store.search("ШКОЛА №2")] == [
        "Institution:i2", "Institution:i20", "Institution:i21", "Institution:i22",
        "Institution:i23", "Institution:i24", "Institution:i25", "Institution:i26",
        "Institution:i27", "Institution:i28", "Institution:i29",
    ]
    again = neo4j_store.upsert(nodes, rels)
    assert again.total_written == 0


def test_a_load_that_fails_in_bulk_mode_leaves_the_search_index_in_place(
    neo4j_store: Neo4jStore, neo4j_driver: neo4j.Driver
) -> None:
    nodes, _ = _graph(3)
    with pytest.raises(RuntimeError, match="spreadsheet went away"), \
            neo4j_store.transaction(bulk=True):
        neo4j_store.upsert(nodes)
        raise RuntimeError("spreadsheet went away")
    assert _search_index_state(neo4j_driver) in ("ONLINE", "POPULATING")
    assert neo4j_store.stats().node_count == 4  # what was upserted stays committed


def test_a_plain_scope_keeps_the_search_index(
    neo4j_store: Neo4jStore, neo4j_driver: neo4j.Driver
) -> None:
    nodes, rels = _graph(3)
    with neo4j_store.transaction():
        neo4j_store.upsert(nodes, rels)
        assert _search_index_state(neo4j_driver) == "ONLINE"
    assert neo4j_store.stats().relationship_count == 3
