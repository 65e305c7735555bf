"""The real Neo4j test server: start it (or use NEO4J_URI), write, read, wipe, stop.

These tests never skip under CI=true: a missing Java or Maven there is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from neo4j import Driver, GraphDatabase

try:
    from tests.neo4j_server.launcher import (
        Neo4jServerError,
        Neo4jTestServer,
        env_connection,
        wipe,
    )
except ImportError:  # tests/ imported as a rootdir, not as a package
    from neo4j_server.launcher import (  # type: ignore[no-redef]
        Neo4jServerError,
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


def _setting(uri: str, name: str) -> str:
    with GraphDatabase.driver(uri, auth=None) as driver:
        records, _, _ = driver.execute_query(
            "SHOW SETTINGS YIELD name, value WHERE name = $name RETURN value", name=name
        )
    return str(records[0]["value"])


def test_settings_are_checked_before_start(tmp_path: Path) -> None:
    """A setting that is not a plain ``name=value`` line is refused before any JVM starts."""
    for settings in ({"dbms.x\nbad": "1"}, {"dbms.cypher.min_replan_interval": "1m\nx=y"}):
        server = Neo4jTestServer(tmp_path, settings=settings)
        with pytest.raises(Neo4jServerError, match="not a Neo4j setting"):
            server._write_settings()
        assert not server.running


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
    # Extra settings reach the server (read back below, also after restarts).
    server = Neo4jTestServer(settings={"dbms.cypher.min_replan_interval": "7m"})
    try:
        server.start()
        uri = server.uri
        assert _setting(uri, "dbms.cypher.min_replan_interval") == "7m"
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
            assert _setting(uri, "dbms.cypher.min_replan_interval") == "7m"
            assert wipe(driver, schema=True) == 2
    finally:
        server.close()
    assert not server.home.exists()
