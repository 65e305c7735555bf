"""A long GraphQL operation does not hold up the server: ``/healthz`` (and any other
request) is answered while a ``subgraph`` is still being read.

The operation is made long by a store that holds its first element read until the test
lets it go (or 5 s pass). Were the operation run on the event loop, as strawberry runs a
synchronous resolver, the health check could not be answered before that wait ran out.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from graph_service.app import create_app
from graph_service.storage import Node
from graph_service.storage.sqlite import SqliteStore
from tests.case import load_case

QUERY = """query($ids: [ID!]!) {
  subgraph(ids: $ids, hops: 2) { nodeCount elements }
}"""


class HeldStore(SqliteStore):
    """An embedded store whose element reads wait for :attr:`release` (at most 5 s)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released_in_time: bool | None = None

    def node_elements(self, node_ids: Sequence[str]) -> dict[str, str | Node]:
        if self.released_in_time is None:
            self.entered.set()
            self.released_in_time = self.release.wait(5)
        return super().node_elements(node_ids)


def test_healthz_is_answered_while_a_subgraph_is_being_read(tmp_path: Path) -> None:
    store = HeldStore(tmp_path / "held.db")
    load_case(store)
    expected_version = store.version()
    answers: dict[str, Any] = {}
    with TestClient(create_app(store)) as client:

        def ask_subgraph() -> None:
            response = client.post(
                "/graphql",
                json={"query": QUERY, "variables": {"ids": ["Authority:lipetsk-dip"]}},
            )
            answers["subgraph"] = response.json()

        asking = threading.Thread(target=ask_subgraph)
        asking.start()
        try:
            assert store.entered.wait(10), "the subgraph never reached the store"
            health = client.get("/healthz")
            answered_while_held = not store.release.is_set()
        finally:
            store.release.set()
            asking.join(30)
    assert health.status_code == 200
    assert health.json()["version"] == expected_version
    assert answered_while_held
    assert store.released_in_time is True, "the health check waited for the subgraph"
    result = answers["subgraph"]["data"]["subgraph"]
    assert result["nodeCount"] == len(result["elements"]["nodes"]) > 1
