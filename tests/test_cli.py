"""The command line: demo, query, load, template — and a real server from `serve`."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from graph_service.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_demo_without_serving_loads_the_case(tmp_path: Path) -> None:
    code, out = run("demo", "--no-serve", "--store", f"sqlite:///{tmp_path}/demo.db")
    assert code == 0, out
    assert "Created 46, updated 0, unchanged 0" in out


def test_query_prints_json_and_exits_1_on_errors(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/demo.db"
    run("demo", "--no-serve", "--store", store)
    code, out = run("query", "--store", store, "{ stats { nodeCount relationshipCount } }")
    assert code == 0
    assert json.loads(out) == {"data": {"stats": {"nodeCount": 23, "relationshipCount": 23}}}
    code, out = run("query", "--store", store, "{ nodes(kind: Planet) { totalCount } }")
    assert code == 1
    assert "Planet" in json.loads(out)["errors"][0]["message"]


def test_query_takes_variables(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/demo.db"
    run("demo", "--no-serve", "--store", store)
    code, out = run(
        "query",
        "--store",
        store,
        "--variables",
        '{"id": "Platform:gosuslugi"}',
        "query($id: ID!) { node(id: $id) { kind } }",
    )
    assert code == 0 and json.loads(out)["data"]["node"]["kind"] == "Platform"


def test_store_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSURE_GRAPH_STORE", f"sqlite:///{tmp_path}/env.db")
    code, out = run("load", *map(str, _case_csvs()))
    assert code == 0, out
    assert (tmp_path / "env.db").exists()


def _case_csvs() -> list[Path]:
    from graph_service.cli import case_files

    return case_files()


def test_load_dry_run_counts_and_writes_nothing(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/x.db"
    code, out = run("load", "--dry-run", "--store", store, *map(str, _case_csvs()))
    assert code == 0, out
    assert "46 rows read" in out and "Dry run: nothing was written." in out
    code, out = run("query", "--store", store, "{ stats { nodeCount } }")
    assert json.loads(out)["data"]["stats"]["nodeCount"] == 0


def test_load_reports_file_sheet_row_and_column_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "institutions.csv"
    bad.write_text("key,name,staff_count,colour\nschool-1,School 1,many,red\n", encoding="utf-8")
    code, out = run("load", "--store", f"sqlite:///{tmp_path}/x.db", str(bad))
    assert code == 1
    assert re.search(r"\n  institutions\.csv +institutions +1 +colour +unknown column", out), out
    bad.write_text("key,name,staff_count\nschool-1,School 1,many\n", encoding="utf-8")
    code, out = run("load", "--store", f"sqlite:///{tmp_path}/x.db", str(bad))
    assert code == 1
    assert re.search(r"\n  institutions\.csv +institutions +2 +staff_count +many +.*'many' is "
                     r"not a whole number", out), out


def test_unknown_store_url_is_a_one_line_error(tmp_path: Path) -> None:
    code, out = run("query", "--store", "postgres://x", "{ stats { nodeCount } }")
    assert code == 1
    assert out.startswith("Error: cannot open store 'postgres://x'")


def test_template_workbook_loads_back_as_is(tmp_path: Path) -> None:
    code, out = run("template", str(tmp_path / "t.xlsx"))
    assert code == 0, out
    code, out = run("load", "--store", f"sqlite:///{tmp_path}/t.db", str(tmp_path / "t.xlsx"))
    assert code == 0, out
    assert "Created 10," in out  # one example row per kind, plus the example relationship


def test_template_csv_folder_has_one_file_per_sheet(tmp_path: Path) -> None:
    code, _ = run("template", str(tmp_path / "tpl"))
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "tpl").iterdir())
    assert "relationships.csv" in names and "institutions.csv" in names and len(names) == 10


def test_serve_refuses_a_public_address_without_tokens() -> None:
    code, out = run("serve", "--host", "0.0.0.0")
    assert code == 1 and "refusing to bind 0.0.0.0" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_a_real_server_that_sees_a_load_made_beside_it(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/live.db"
    port = _free_port()
    exe = [sys.executable, "-m", "graph_service.cli"]
    server = subprocess.Popen(
        [*exe, "serve", "--store", db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"{url}/healthz").json()["version"] == 0
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the server did not start in 30 s"
                time.sleep(0.2)
        subprocess.run(
            [*exe, "load", "--store", db, *map(str, _case_csvs())], check=True, capture_output=True
        )
        answer = httpx.post(f"{url}/graphql", json={"query": "{ stats { nodeCount } }"}).json()
        assert answer == {"data": {"stats": {"nodeCount": 23}}}
    finally:
        server.terminate()
        server.wait(timeout=10)
