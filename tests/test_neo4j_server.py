"""The real Neo4j test server: start it (or use NEO4J_URI), write, read, wipe, stop.

These tests never skip under CI=true: a missing Java or Maven there is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from neo4j import Driver, GraphDatabase

try:
    from tests.neo4j_server.launcher import Neo4jTestServer, env_connection, wipe
except ImportError:  # tests/ imported as a rootdir, not as a package
    from neo4j_server.launcher import (  # type: ignore[no-redef]
        Neo4jTestServer,
        env_connection,
        wipe,
    )

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# ``neo4j_driver`` is the session fixture in conftest.py: a driver to NEO4J_URI when that is
# set, else to the one test server the session starts through the launcher.


def _count(driver: Driver, marker: str) -> int:
    records, _, _ = driver.execute_query(
        "MATCH (n:LauncherProbe {marker: $marker}) RETURN count(n) AS c", marker=marker
    )
    return int(records[0]["c"])


def test_create_read_wipe(neo4j_driver: Driver) -> None:
    marker = uuid.uuid4().hex
    neo4j_driver.execute_query(
        "CREATE (:LauncherProbe {marker: $marker, name: $name})", marker=marker, name="Липецк"
    )
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (n:LauncherProbe {marker: $marker}) RETURN n.name AS name", marker=marker
    )
    assert [r["name"] for r in records] == ["Липецк"]

    neo4j_driver.execute_query(
        "UNWIND range(1, 2500) AS i CREATE (:LauncherProbe {marker: $marker, i: i})"
        "-[:NEXT]->(:LauncherProbe {marker: $marker})",
        marker=marker,
    )
    assert _count(neo4j_driver, marker) == 5001

    deleted = wipe(neo4j_driver)
    assert deleted >= 5001
    records, _, _ = neo4j_driver.execute_query("MATCH (n) RETURN count(n) AS c")
    assert records[0]["c"] == 0


def test_server_info(neo4j_driver: Driver) -> None:
    info = neo4j_driver.get_server_info()
    assert info.agent.startswith("Neo4j/")
    if env_connection() is None:
        assert info.agent.startswith("Neo4j/5.26.")


def test_stop_start_and_kill_keep_committed_data() -> None:
    """Clean stop and SIGKILL both keep committed data; the port stays the same."""
    if not IN_CI:
        if env_connection() is not None:
            pytest.skip("NEO4J_URI is set: the launcher's own lifecycle is not under test")
        missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
        if missing:
            pytest.skip(f"Neo4j test server unavailable: {', '.join(missing)} not on PATH")
    server = Neo4jTestServer()
    try:
        server.start()
        uri = server.uri
        with GraphDatabase.driver(uri, auth=None) as driver:
            driver.execute_query("CREATE (:LauncherProbe {marker: 'before-stop'})")
        server.stop()
        assert not server.running

        server.start()
        assert server.uri == uri
        with GraphDatabase.driver(uri, auth=None) as driver:
            assert _count(driver, "before-stop") == 1
            driver.execute_query("CREATE (:LauncherProbe {marker: 'before-kill'})")
        server.kill()
        assert not server.running

        server.restart()
        assert server.uri == uri
        with GraphDatabase.driver(uri, auth=None) as driver:
            assert _count(driver, "before-stop") == 1
            assert _count(driver, "before-kill") == 1
            assert wipe(driver, schema=True) == 2
    finally:
        server.close()
    assert not server.home.exists()
