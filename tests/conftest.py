"""Shared fixtures. Store-level tests take the ``store`` fixture, which runs each test
against both stores: the embedded SQLite store and a real Neo4j server.

The Neo4j server is the test server in ``tests/neo4j_server/`` (started once per session),
or the server named by ``NEO4J_URI`` (with ``NEO4J_USER`` / ``NEO4J_PASSWORD``) when that
is set. Every Neo4j test starts from an empty database: the server's database is WIPED
before each test, so never point ``NEO4J_URI`` at a database you care about.

Without Java or Maven the Neo4j tests are skipped with the reason, except under
``CI=true``, where a server that does not start fails the run.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import neo4j
import pytest

from graph_service.storage import Store
from graph_service.storage.neo4j import Neo4jStore
from graph_service.storage.sqlite import SqliteStore

try:
    from tests.neo4j_server import launcher
except ImportError:  # tests/ imported as a rootdir, not as a package
    from neo4j_server import launcher  # type: ignore[no-redef]

STORE_KINDS = ["sqlite", "neo4j"]



@dataclass(frozen=True)
class Neo4jConnection:
    uri: str
    user: str | None = None
    password: str | None = None
    #: the test server's key and self-signed certificate (Bolt takes TLS too); None for
    #: a server named by NEO4J_URI
    tls_dir: Path | None = None

    @property
    def auth(self) -> tuple[str, str] | None:
        if self.user is None and self.password is None:
            return None
        return (self.user or "neo4j", self.password or "")


def _cannot_start(reason: str) -> NoReturn:
    message = f"Neo4j test server unavailable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + "\n(CI=true: the Neo4j tests must run, so this is a failure)",
                    pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def neo4j_connection() -> Iterator[Neo4jConnection]:
    """Where the Neo4j tests connect: ``NEO4J_URI`` or a test server started here."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield Neo4jConnection(
            uri,
            os.environ.get("NEO4J_USER") or os.environ.get("NEO4J_USERNAME") or None,
            os.environ.get("NEO4J_PASSWORD"),
        )
        return
    server = None
    try:
        server = launcher.Neo4jTestServer(tls=True)
        server.start()
    except Exception as e:  # any failure to build or start is reported the same way
        if server is not None:
            server.close()
        _cannot_start(f"{type(e).__name__}: {e}")
    try:
        yield Neo4jConnection(server.uri, tls_dir=server.tls_dir)
    finally:
        server.close()


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_connection: Neo4jConnection) -> Iterator[neo4j.Driver]:
    """A driver to the test database (the stores open their own)."""
    driver = neo4j.GraphDatabase.driver(neo4j_connection.uri, auth=neo4j_connection.auth)
    try:
        yield driver
    finally:
        driver.close()


def wipe_neo4j(driver: neo4j.Driver) -> None:
    """Delete every node, the store's meta node too: a store opened next starts at
    version 0 and epoch 0, like a new embedded store. Constraints and indexes stay."""
    launcher.wipe(driver)


@pytest.fixture
def neo4j_store(
    neo4j_connection: Neo4jConnection, neo4j_driver: neo4j.Driver
) -> Iterator[Neo4jStore]:
    """A Neo4jStore on an empty database (version 0)."""
    wipe_neo4j(neo4j_driver)
    s = Neo4jStore(neo4j_connection.uri, neo4j_connection.user, neo4j_connection.password)
    try:
        yield s
    finally:
        s.close()


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


@pytest.fixture(autouse=True)
def _release_settled_objects() -> Iterator[None]:
    """A chain query settles its new projection out of the collector (``gc.freeze``),
    which hides objects from ``gc.get_referrers`` (Hypothesis's ``register_random``
    check, for one): each test releases what it settled."""
    yield
    gc.unfreeze()
