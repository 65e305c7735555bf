"""Shared fixtures. Store-level tests take the ``store`` fixture, which runs each test
against both stores: the embedded SQLite store and a real Neo4j server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_service.storage import Store
from graph_service.storage.sqlite import SqliteStore

STORE_KINDS = ["sqlite"]  # "neo4j" joins when the Neo4j store lands


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each kind."""
    if request.param == "sqlite":
        s: Store = SqliteStore(tmp_path / "test.db")
    else:
        s = request.getfixturevalue("neo4j_store")
    try:
        yield s
    finally:
        s.close()
