"""What the app does before its first request."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from graph_service.app import create_app
from graph_service.storage.sqlite import SqliteStore
from tests.case import load_case


def test_server_start_builds_the_mirror_before_the_first_request(tmp_path: Path) -> None:
    load_case(SqliteStore(tmp_path / "case.db"))
    store = SqliteStore(tmp_path / "case.db")
    assert store._mirror.ids == []  # built on first use, not by opening the file
    with TestClient(create_app(store)):
        assert len(store._mirror.ids) == 23  # the bundled case's nodes
    store.close()

