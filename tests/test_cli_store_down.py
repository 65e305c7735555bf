"""A Neo4j server that is down gives the command line one line on stderr, naming the URL.

Run as a real process: the driver's own logging (the pool's "Unable to retrieve routing
information" for ``neo4j://`` URLs) reaches stderr through Python's last-resort handler,
which an in-process runner would not show.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("scheme", ["bolt", "neo4j", "bolt+ssc", "neo4j+s"])
@pytest.mark.parametrize("command", [["query", "{ stats { nodeCount } }"], ["load", "x.csv"]])
def test_a_server_that_is_down_is_one_line_naming_the_url(
    scheme: str, command: list[str], tmp_path: Path
) -> None:
    (tmp_path / "x.csv").write_text("key,name\na,A\n", encoding="utf-8")
    url = f"{scheme}://127.0.0.1:{_closed_port()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PRESSURE_GRAPH_STORE", None)
    result = subprocess.run(
        [sys.executable, "-m", "graph_service.cli", *command, "--store", url],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and url in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
