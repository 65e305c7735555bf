"""The TLS URL forms (``bolt+ssc://``, ``bolt+s://``, ``neo4j+ssc://``, ``neo4j+s://``)
against a real server that speaks TLS: the test server takes TLS as well as plain Bolt,
with a self-signed certificate for 127.0.0.1 that it made at its start
(``tests/neo4j_server``, ``Neo4jTestServer(tls=True)``).

``+ssc`` encrypts and accepts any certificate; ``+s`` encrypts and verifies the server's
certificate against the trusted authorities, which a self-signed one passes only when
the client is told to trust it (here through ``SSL_CERT_FILE``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import neo4j
import pytest

from graph_service.errors import StoreUnavailable
from graph_service.storage import Node
from graph_service.storage.neo4j import Neo4jStore
from tests.conftest import Neo4jConnection, wipe_neo4j

try:
    from tests.neo4j_server import launcher
except ImportError:  # tests/ imported as a rootdir, not as a package
    from neo4j_server import launcher  # type: ignore[no-redef]


@pytest.fixture(scope="module")
def tls_port_and_certificate(
    neo4j_connection: Neo4jConnection,
) -> Iterator[tuple[int, Path]]:
    """The port of a test server that takes TLS, and its certificate: the session's own,
    or (when ``NEO4J_URI`` names another server) one started for this module."""
    if neo4j_connection.tls_dir is not None:
        port = urlsplit(neo4j_connection.uri).port
        assert port is not None
        yield port, neo4j_connection.tls_dir / "public.crt"
        return
    server = launcher.Neo4jTestServer(tls=True)
    try:
        server.start()
    except Exception as e:
        server.close()
        message = f"TLS test server unavailable: {type(e).__name__}: {e}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield server.port, server.tls_dir / "public.crt"
    finally:
        server.close()


@pytest.fixture
def empty_database(neo4j_driver: neo4j.Driver) -> None:
    wipe_neo4j(neo4j_driver)


def _round_trip(url: str) -> None:
    """Open the store at ``url``, write a node, and read it back through a new connection."""
    node = Node.create("Person", "tls", {"name": "Зашифрованный Путь"})
    store = Neo4jStore(url)
    try:
        store.upsert([node])
    finally:
        store.close()
    again = Neo4jStore(url)
    try:
        assert again.get_node(node.id) == node
        assert [n.id for n in again.search("зашифрованный")] == [node.id]
    finally:
        again.close()


@pytest.mark.usefixtures("empty_database")
@pytest.mark.parametrize("scheme", ["bolt+ssc", "neo4j+ssc"])
def test_ssc_urls_connect_over_tls_to_a_self_signed_server(
    tls_port_and_certificate: tuple[int, Path], scheme: str
) -> None:
    port, _ = tls_port_and_certificate
    _round_trip(f"{scheme}://127.0.0.1:{port}")


@pytest.mark.usefixtures("empty_database")
@pytest.mark.parametrize("scheme", ["bolt+s", "neo4j+s"])
def test_s_urls_verify_the_certificate_and_work_once_it_is_trusted(
    tls_port_and_certificate: tuple[int, Path], scheme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, certificate = tls_port_and_certificate
    url = f"{scheme}://127.0.0.1:{port}"
    monkeypatch.setenv("SSL_CERT_FILE", str(os.devnull))  # trust nothing
    with pytest.raises(StoreUnavailable) as caught:
        Neo4jStore(url)
    message = str(caught.value)
    assert url in message and "\n" not in message
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # trust the server's certificate
    _round_trip(url)


def test_plain_bolt_still_works_beside_tls(tls_port_and_certificate: tuple[int, Path]) -> None:
    port, _ = tls_port_and_certificate
    store = Neo4jStore(f"bolt://127.0.0.1:{port}")
    try:
        assert store.version() >= 0
    finally:
        store.close()
