"""The explorer page and GraphiQL, served by the real app under uvicorn, driven in
Debian's headless Chromium through Selenium; and a check that no served page loads
anything from another origin (the service must work without internet access)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graph_service.app import STATIC, create_app
from graph_service.storage.sqlite import SqliteStore
from tests.case import load_case

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,860",
]
EXTERNAL = re.compile(
    r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//"""
    r"""|@import\s+["']?(?:url\()?\s*["']?(?:https?:)?//""",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def case_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path_factory.mktemp("explorer") / "case.db")
    load_case(store)
    yield store
    store.close()


def test_served_pages_reference_no_external_url(case_store: SqliteStore) -> None:
    with TestClient(create_app(case_store)) as client:
        pages = {
            "/": client.get("/"),
            "/graphql": client.get("/graphql", headers={"Accept": "text/html"}),
        }
        for path, response in pages.items():
            assert response.status_code == 200, path
            assert "text/html" in response.headers["content-type"]
        assert "explorer.js" in pages["/"].text
        assert "graphiql.js" in pages["/graphql"].text
        html = "".join(r.text for r in pages.values())
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
        assert len(assets) >= 3
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
    for path in [*pages.values()]:
        assert not EXTERNAL.search(path.text)
    for f in STATIC.iterdir():
        if f.suffix in (".html", ".css", ".js"):
            text = f.read_text(encoding="utf-8")
            found = EXTERNAL.search(text)
            assert found is None, f"{f.name}: {text[found.start() - 60 : found.end() + 60]}"


# -- the browser ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(case_store: SqliteStore) -> Iterator[str]:
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(create_app(case_store), host="127.0.0.1", port=port,
                            log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        message = "Debian's chromium and chromium-driver are not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium fetch a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, script: str, timeout: float = 15) -> Any:
    """Poll a JavaScript expression until it is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return ({script});")
        if value:
            return value
        time.sleep(0.1)
    status = driver.execute_script("return document.getElementById('status')?.textContent")
    raise AssertionError(f"timed out waiting for {script!r} (status: {status!r})")


def _same_origin_only(driver: Any, base: str) -> None:
    urls = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert urls, "no resources recorded"
    outside = [u for u in urls if not u.startswith(base)]
    assert outside == []


def test_explorer_search_expand_chain_and_edge_sources(browser: Any, server: str) -> None:
    from selenium.webdriver.common.by import By

    d = browser
    d.get(server + "/")
    _wait(d, "document.body.dataset.ready === 'true'")
    box = d.find_element(By.ID, "search")
    box.send_keys("Department of Internal Policy")
    d.find_element(By.ID, "search-button").click()
    _wait(d, "document.querySelector('#results li[data-id=\"Authority:lipetsk-dip\"]')")
    d.find_element(By.CSS_SELECTOR, '#results li[data-id="Authority:lipetsk-dip"]').click()
    _wait(d, "cy.getElementById('Authority:lipetsk-dip').nonempty()")
    assert d.execute_script("return cy.nodes().length") == 1
    _wait(d, "document.getElementById('expand')")
    d.find_element(By.ID, "expand").click()
    _wait(d, "cy.getElementById('Directive:lipetsk-dip-election-survey').nonempty()")
    assert d.execute_script("return cy.nodes().length") > 1
    # Colour by kind: the directive and the department differ.
    colours = d.execute_script(
        "return [cy.getElementById('Authority:lipetsk-dip').style('background-color'),"
        " cy.getElementById('Directive:lipetsk-dip-election-survey').style('background-color')]"
    )
    assert colours[0] != colours[1]

    # Clicking the directive draws its instruction chain (the button draws it again).
    d.execute_script("cy.getElementById('Directive:lipetsk-dip-election-survey').emit('tap')")
    _wait(d, "cy.$('edge.chain').length >= 3")
    d.execute_script("cy.elements().removeClass('chain')")
    d.find_element(By.ID, "chain").click()
    _wait(d, "cy.$('edge.chain').length >= 3")
    chain = set(d.execute_script("return cy.$('edge.chain').map(e => e.data('kind'))"))
    assert {"ISSUED", "TARGETS", "REQUIRES"} <= chain
    assert "Instruction chain" in d.find_element(By.ID, "status").text

    edge = "Authority:lipetsk-dip-ISSUED->Directive:lipetsk-dip-election-survey"
    d.execute_script(f"cy.getElementById('{edge}').emit('tap')")
    _wait(d, "document.querySelectorAll('#sources li').length === 2")
    sources = [li.get_attribute("data-source-id")
               for li in d.find_elements(By.CSS_SELECTOR, "#sources li")]
    assert sources == ["Source:kommersant-lipetsk-poll", "Source:cprf-lipetsk-statement"]

    # Size by a centrality measure from the analytics API.
    options = d.execute_script(
        "return [...document.querySelectorAll('#size-by option')].map(o => o.value)"
    )
    if "PAGERANK" in options:
        before = d.execute_script("return cy.getElementById('Authority:lipetsk-dip').data('size')")
        d.execute_script(
            "const s = document.getElementById('size-by'); s.value = 'PAGERANK';"
            "s.dispatchEvent(new Event('change'));"
        )
        _wait(d, f"cy.getElementById('Authority:lipetsk-dip').data('size') !== {before}")
    _same_origin_only(d, server)
    OUTPUT.mkdir(exist_ok=True)
    assert d.save_screenshot(str(OUTPUT / "explorer.png"))


def test_graphiql_is_served_from_the_package(browser: Any, server: str) -> None:
    d = browser
    d.get(server + "/graphql")
    _wait(d, "document.querySelector('.graphiql-container')", timeout=20)
    _same_origin_only(d, server)
    OUTPUT.mkdir(exist_ok=True)
    assert d.save_screenshot(str(OUTPUT / "graphiql.png"))


# -- CORS -----------------------------------------------------------------------------


def test_cors_is_off_by_default(case_store: SqliteStore) -> None:
    with TestClient(create_app(case_store)) as client:
        response = client.post(
            "/graphql",
            json={"query": "{ stats { nodeCount } }"},
            headers={"Origin": "http://localhost:5173"},
        )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_configured_origins_only(case_store: SqliteStore) -> None:
    app = create_app(case_store, cors_origins=["http://localhost:5173"])
    with TestClient(app) as client:
        preflight = client.options(
            "/graphql",
            headers={
                "Origin": "http://localhost:5173",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
        allowed = client.get("/export/cytoscape", headers={"Origin": "http://localhost:5173"})
        assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
        other = client.get("/healthz", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_serve_takes_cors_origins_from_option_or_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import click
    from click.testing import CliRunner

    from graph_service import cli

    seen: dict[str, Any] = {}

    def fake_serve(store: Any, host: str, port: int, cors: tuple[str, ...] = ()) -> None:
        seen["cors"] = cors

    monkeypatch.setattr(cli, "_serve", fake_serve)
    monkeypatch.setattr(cli, "opened", _fake_opened)
    runner = CliRunner()
    result = runner.invoke(cli.main, ["serve", "--cors-origin", "http://localhost:5173/"])
    assert result.exit_code == 0, result.output
    assert seen["cors"] == ("http://localhost:5173",)
    monkeypatch.setenv("PRESSURE_GRAPH_CORS_ORIGINS", "http://a.test, https://b.test")
    assert runner.invoke(cli.main, ["serve"]).exit_code == 0
    assert seen["cors"] == ("http://a.test", "https://b.test")
    bad = runner.invoke(cli.main, ["serve", "--cors-origin", "localhost:5173"])
    assert bad.exit_code == 2
    assert "write an origin as scheme://host[:port]" in bad.output
    assert isinstance(cli.serve, click.Command)


class _fake_opened:  # stands in for the cli's opened() context manager
    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None
