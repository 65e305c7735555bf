"""What only the Neo4j store has to prove: URLs and credentials, a server that is down,
schema set-up, parameters-only Cypher, writer serialization, and answers identical to the
embedded store on a graph with awkward ids."""

from __future__ import annotations

import random
import re
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from graph_service.errors import InvalidArgument, StoreUnavailable
from graph_service.storage import Direction, Node, Provenance, Relationship, Store
from graph_service.storage import neo4j as neo4j_store_module
from graph_service.storage.neo4j import _STORE_SCHEMA, Neo4jStore, parse_bolt_url, sort_key
from graph_service.storage.sqlite import SqliteStore
from schema.constraints import neo4j_constraints


@pytest.fixture
def no_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEO4J_USER", raising=False)
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)


# -- URLs and credentials (no server needed) ---------------------------------------------


@pytest.mark.usefixtures("no_env_credentials")
@pytest.mark.parametrize(
    ("url", "driver_uri", "shown", "auth"),
    [
        ("bolt://localhost:7687", "bolt://localhost:7687", "bolt://localhost:7687", None),
        ("neo4j://db.example", "neo4j://db.example", "neo4j://db.example", None),
        ("bolt+s://h:7687", "bolt+s://h:7687", "bolt+s://h:7687", None),
        ("bolt+ssc://h", "bolt+ssc://h", "bolt+ssc://h", None),
        ("neo4j+ssc://u@h", "neo4j+ssc://h", "neo4j+ssc://u@h", ("u", "")),
        ("neo4j+s://user:pw@host", "neo4j+s://host", "neo4j+s://user@host", ("user", "pw")),
        (
            "bolt://reader:p%40ss%3Aw0rd@10.0.0.5:7688",
            "bolt://10.0.0.5:7688",
            "bolt://reader@10.0.0.5:7688",
            ("reader", "p@ss:w0rd"),
        ),
        ("neo4j://[::1]:7687?policy=eu", "neo4j://[::1]:7687?policy=eu",
         "neo4j://[::1]:7687?policy=eu", None),
    ],
)
def test_bolt_urls_give_the_driver_uri_and_credentials_and_hide_the_password(
    url: str, driver_uri: str, shown: str, auth: tuple[str, str] | None
) -> None:
    assert parse_bolt_url(url) == (driver_uri, shown, auth)


def test_credentials_come_from_the_environment_when_the_url_has_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEO4J_USER", "svc")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret")
    assert parse_bolt_url("bolt://h:7687") == ("bolt://h:7687", "bolt://svc@h:7687",
                                               ("svc", "s3cret"))
    # The URL wins over the environment, and explicit arguments win over both.
    assert parse_bolt_url("bolt://a:b@h")[2] == ("a", "b")
    assert parse_bolt_url("bolt://a:b@h", "x", "y")[2] == ("x", "y")


@pytest.mark.parametrize("url", ["http://h:7474", "bolt://", "sqlite:///x.db", "bolt://h:port"])
def test_a_url_that_is_not_bolt_is_an_invalid_argument(url: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_bolt_url(url)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.usefixtures("no_env_credentials")
def test_a_server_that_is_down_is_store_unavailable_naming_the_url_in_one_line() -> None:
    port = _closed_port()
    with pytest.raises(StoreUnavailable) as caught:
        Neo4jStore(f"bolt://scott:tiger-pw@127.0.0.1:{port}")
    message = str(caught.value)
    assert f"bolt://scott@127.0.0.1:{port}" in message
    assert "tiger-pw" not in message
    assert "\n" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_sort_keys_order_by_utf16_units_as_the_originals_do_by_code_point() -> None:
    rng = random.Random(7)
    alphabet = ["a", "z", "~", "é", "Ё", "中", "\ud7ff", "\ue000", "\uffee", "\uffff",
                "\U00010000", "\U0001f600", "\U0010ffff", ":", ";"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(3000)]
    by_code_point = sorted(set(texts))
    by_utf16 = sorted(set(texts), key=lambda t: sort_key(t).encode("utf-16-be"))
    assert by_utf16 == by_code_point
    assert sort_key("Institution:4826-школа") == "Institution:4826-школа"


# -- against the server ------------------------------------------------------------------


def test_the_store_url_keeps_the_user_but_not_the_password(
    neo4j_store: Neo4jStore, neo4j_connection: Any  # conftest.Neo4jConnection
) -> None:
    if neo4j_connection.user or neo4j_connection.password:
        pytest.skip("the server named by NEO4J_URI checks credentials")
    # The test server has auth off, so it accepts any credentials.
    scheme, _, rest = neo4j_connection.uri.partition("://")
    store = Neo4jStore(f"{scheme}://some%40one:pw-S3CRET@{rest}")
    try:
        assert store.url == f"{scheme}://some%40one@{rest}"
        assert "S3CRET" not in store.url
        assert store.version() == 0
    finally:
        store.close()


def test_opening_twice_creates_the_constraints_once(
    neo4j_store: Neo4jStore, neo4j_driver: object
) -> None:
    again = Neo4jStore(neo4j_store.url)
    again.close()
    import neo4j

    assert isinstance(neo4j_driver, neo4j.Driver)
    with neo4j_driver.session() as session:
        constraints = [r["name"] for r in session.run("SHOW CONSTRAINTS YIELD name")]
        indexes = [r["name"] for r in session.run("SHOW INDEXES YIELD name")]
    expected = [re.search(r"(?:CONSTRAINT|INDEX) (\w+) IF NOT EXISTS", s).group(1)  # type: ignore[union-attr]
                for s in (*neo4j_constraints(), *_STORE_SCHEMA)]
    assert len(constraints) == len(set(constraints))
    assert set(expected) <= set(constraints) | set(indexes)
    assert neo4j_store.version() == 0


NASTY = [
    "x'}) MATCH (n) DETACH DELETE n //",
    '"}) RETURN 1 UNION MATCH (m) SET m.hacked = true //',
    "`Authority`:Node {id: $id} ${x} \\'\\\" end",
    "$param {props} [0..9] <-[:SUBORDINATE_TO]- ;",
]


def test_cypher_looking_text_is_stored_verbatim_in_every_text_field(
    neo4j_store: Neo4jStore, tmp_path: Path
) -> None:
    key = "k'})-[:X]->(`m`)//$id{}\\\"<>"
    answers = []
    for store in (neo4j_store, SqliteStore(tmp_path / "same.db")):
        source = Node.create("Source", f"src-{key}", {"title": NASTY[1], "url": NASTY[3]})
        person = Node.create(
            "Person", key,
            {"name": NASTY[0], "public": True, "aliases": [*NASTY, "tab\tand\u00a0nbsp"]},
            Provenance((source.id,), "alleged", (*NASTY, "tab\tand\u00a0nbsp")),
        )
        authority = Node.create("Authority", "a", {"name": "A", "region": NASTY[2]},
                                Provenance((source.id,), "documented", (NASTY[3],)))
        works = Relationship.create(
            person.id, "WORKS_AT", authority.id, {"role": NASTY[1]},
            Provenance((source.id,), "reported", (NASTY[0],)), key=NASTY[2],
        )
        store.upsert([source, person, authority], [works])
        assert store.get_node(person.id) == person
        assert store.get_node(source.id) == source
        assert store.find_nodes("Authority", {"region": NASTY[2]}).items == [authority]
        assert store.find_nodes("Person", {"name": NASTY[0]}).items == [person]
        assert store.find_nodes(None, {"region": NASTY[2]}).items == [authority]
        [neighbor] = store.neighbors(person.id).items
        assert neighbor.relationship == works and neighbor.node == authority
        assert store.relationships().items == [works]
        assert [n.id for n in store.search("detach delete n")] == [person.id]
        assert [n.id for n in store.search("$param {props}")] == [person.id]
        stats = store.stats()
        assert stats.node_count == 3 and stats.relationship_count == 1
        answers.append((stats, store.neighbors(authority.id).items))
        store.close()
    assert answers[0] == answers[1]


def test_writers_are_serialized_so_no_source_is_lost(neo4j_store: Neo4jStore) -> None:
    sources = [Node.create("Source", f"s{i}", {"title": f"S{i}"}) for i in range(8)]
    neo4j_store.upsert([*sources, Node.create("Authority", "a", {"name": "A"})])
    errors: list[BaseException] = []

    def write(i: int) -> None:
        store = Neo4jStore(neo4j_store.url)
        try:
            store.upsert([Node.create("Authority", "a", {"name": "A"},
                                      Provenance((f"Source:s{i}",), "alleged"))])
        except BaseException as e:  # reported below
            errors.append(e)
        finally:
            store.close()

    version = neo4j_store.version()
    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = neo4j_store.get_node("Authority:a")
    assert got is not None and sorted(got.provenance.sources) == sorted(s.id for s in sources)
    assert neo4j_store.version() == version + 8


# -- identical answers on a graph with awkward ids --------------------------------------


def _awkward_graph() -> tuple[list[Node], list[Relationship]]:
    """Keys that sort differently by UTF-16 unit, by byte and by code point, self-loops,
    parallel relationships, and kinds whose names share prefixes."""
    keys = ["a", "B", "ÿ", "é", "\uffee", "\U0001f600", "z~", "a-1", "a_1", "Ё", "ё", "10", "9"]
    nodes = [Node.create("Directive", k, {"title": f"Directive {k}"}) for k in keys]
    nodes += [Node.create("Institution", k, {"name": f"I {k}", "staff_count": len(k)})
              for k in keys]
    nodes.append(Node.create("Authority", "hub", {"name": "Hub", "level": "regional"}))
    rels = [Relationship.create(f"Institution:{k}", "SUBORDINATE_TO", "Authority:hub")
            for k in keys]
    for i, k in enumerate(keys):
        other = keys[(i * 5 + 3) % len(keys)]
        rels.append(Relationship.create(f"Directive:{k}", "RELAYS", f"Directive:{other}"))
        rels.append(Relationship.create(f"Directive:{k}", "TARGETS", f"Institution:{other}",
                                        {"channel": "mail"}, key="1"))
        rels.append(Relationship.create(f"Directive:{k}", "TARGETS", f"Institution:{other}",
                                        {"channel": "chat"}, key="2"))
        rels.append(Relationship.create("Authority:hub", "ISSUED", f"Directive:{k}"))
    rels.append(Relationship.create("Directive:a", "RELAYS", "Directive:a"))  # self-loop
    return nodes, rels


def _walk(store: Store) -> dict[str, object]:
    out: dict[str, object] = {}
    for kind in (None, "Directive", "Institution"):
        pages: list[object] = []
        after = None
        while True:
            page = store.find_nodes(kind, first=4, after=after)
            pages.append(([n.id for n in page.items], page.total_count, page.has_next_page))
            after = page.end_cursor
            if not page.has_next_page:
                break
        out[f"find {kind}"] = pages
    out["filter"] = [n.id for n in store.find_nodes("Institution", {"staff_count": 2}).items]
    for node_id in ("Directive:a", "Authority:hub", "Institution:\U0001f600"):
        for direction in Direction:
            for types in (None, ["TARGETS"], ["RELAYS", "ISSUED"], []):
                pages = []
                after = None
                while True:
                    nb = store.neighbors(node_id, types, direction, first=3, after=after)
                    pages.append(([(n.node.id, n.relationship.id, n.direction)
                                   for n in nb.items], nb.total_count, nb.has_next_page))
                    after = nb.end_cursor
                    if not nb.has_next_page:
                        break
                out[f"nb {node_id} {direction} {types}"] = pages
    for types in (None, ["TARGETS"]):
        pages = []
        after = None
        while True:
            rp = store.relationships(types, first=7, after=after)
            pages.append(([r for r in rp.items], rp.total_count, rp.has_next_page))
            after = rp.end_cursor
            if not rp.has_next_page:
                break
        out[f"rels {types}"] = pages
    for ids in (["Directive:a", "Institution:\U0001f600", "Authority:hub"], ["Directive:a"]):
        for direction in Direction:
            for types in (None, ["TARGETS", "RELAYS"], []):
                out[f"of {ids} {direction} {types}"] = store.relationships_of(ids, types, direction)
    out["search"] = [n.id for n in store.search("директ")] + [n.id for n in store.search("i ")]
    out["search е"] = [n.id for n in store.search("Ё")]
    edges = store.edge_list()
    out["edges"] = sorted(
        (edges.node_ids[s], edges.rel_types[t], edges.node_ids[d])
        for s, d, t in zip(edges.sources, edges.targets, edges.types, strict=True)
    )
    out["edge nodes"] = sorted(zip(edges.node_ids, edges.node_kinds, strict=True))
    stats = store.stats()
    out["stats"] = (dict(stats.nodes_by_kind), dict(stats.relationships_by_type))
    return out


def test_answers_match_the_embedded_store_on_awkward_ids(
    neo4j_store: Neo4jStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny transactions and statements, so every boundary is crossed.
    monkeypatch.setattr(neo4j_store_module, "_TX_ROWS", 7)
    monkeypatch.setattr(neo4j_store_module, "_BATCH", 3)
    nodes, rels = _awkward_graph()
    embedded = SqliteStore(tmp_path / "same.db")
    try:
        for store in (neo4j_store, embedded):
            first = store.upsert(nodes, rels)
            again = store.upsert(nodes, rels)
            assert again.total_written == 0 and again.unchanged == first.created
        assert _walk(neo4j_store) == _walk(embedded)
        ids = [n.id for n in neo4j_store.find_nodes("Directive", first=100).items]
        assert ids == sorted(ids)  # Python orders by code point
    finally:
        embedded.close()


def test_a_write_by_someone_else_midway_makes_every_relationship_looked_up(
    neo4j_store: Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes, rels = _awkward_graph()
    neo4j_store.upsert(nodes, rels[:20])
    # As if another writer had committed between the check and the relationship writes.
    real = Neo4jStore._write_work
    monkeypatch.setattr(Neo4jStore, "_write_work",
                        lambda self, nodes, rels, present, _, *rest:
                        real(self, nodes, rels, present, -1, *rest))
    later = Relationship.create("Directive:a", "RELAYS", "Directive:B",
                                provenance=Provenance(("Source:x",)))
    again = neo4j_store.upsert([], [*rels, later])
    assert again.unchanged == {"SUBORDINATE_TO": 13, "TARGETS": 4, "RELAYS": 2, "ISSUED": 1}
    assert again.created == {"ISSUED": 12, "RELAYS": 13, "TARGETS": 22}
    assert again.updated == {}
    assert neo4j_store.stats().relationship_count == len(rels) + 1


def test_clear_then_reload_restarts_cleanly(neo4j_store: Neo4jStore) -> None:
    nodes, rels = _awkward_graph()
    neo4j_store.upsert(nodes, rels)
    v = neo4j_store.version()
    neo4j_store.clear()
    assert neo4j_store.version() > v
    assert neo4j_store.stats().node_count == 0
    summary = neo4j_store.upsert(nodes, rels)
    assert summary.total_written == len(nodes) + len(rels)


# -- a server that goes away mid-load ----------------------------------------------------


def test_a_server_lost_mid_load_reports_what_was_committed_and_a_rerun_completes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server of its own (the session's is not disturbed), killed after two of the
    load's transactions committed, then started again on the same port and data."""
    from graph_service.storage.neo4j import WriteInterrupted
    from tests.neo4j_server.launcher import Neo4jTestServer

    monkeypatch.setattr(neo4j_store_module, "_TX_ROWS", 500)
    nodes = [Node.create("Person", f"p{i:05d}", {"name": f"P {i}"}) for i in range(1000)]
    nodes += [Node.create("Institution", f"i{i:05d}", {"name": f"I {i}"}) for i in range(500)]
    rels = [Relationship.create(f"Person:p{i:05d}", "WORKS_AT", f"Institution:i{i % 500:05d}")
            for i in range(1000)]
    with Neo4jTestServer() as server:
        store = Neo4jStore(server.uri)
        real = Neo4jStore._write
        calls = 0

        def write(self: Neo4jStore, action: str, work: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 3:  # two transactions of the load committed
                server.kill()
            return real(self, action, work)

        monkeypatch.setattr(Neo4jStore, "_write", write)
        with pytest.raises(StoreUnavailable) as caught:
            store.upsert(nodes, rels)
        monkeypatch.setattr(Neo4jStore, "_write", real)
        store.close()
        error = caught.value
        assert isinstance(error, WriteInterrupted)
        message = str(error)
        assert server.uri in message and "\n" not in message
        assert error.rows_committed == 1000
        assert error.committed.created == {"Person": 1000}

        server.start()  # same port, same data
        store = Neo4jStore(server.uri)
        try:
            again = store.upsert(nodes, rels)
            assert again.unchanged == {"Person": 1000}
            assert again.created == {"Institution": 500, "WORKS_AT": 1000}
            stats = store.stats()
            assert stats.nodes_by_kind == {"Person": 1000, "Institution": 500}
            assert stats.relationships_by_type == {"WORKS_AT": 1000}
        finally:
            store.close()


# -- the CLI -----------------------------------------------------------------------------


def test_the_cli_loads_spreadsheets_into_neo4j(
    neo4j_store: Neo4jStore, neo4j_connection: Any, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from graph_service.cli import case_files, main
    from tests.case import CASE_NODES, CASE_RELATIONSHIPS

    if neo4j_connection.user or neo4j_connection.password:
        pytest.skip("the server named by NEO4J_URI checks credentials")
    files = [str(p) for p in case_files()]
    runner = CliRunner()
    for _ in range(2):  # the second load changes nothing
        result = runner.invoke(main, ["load", "--store", neo4j_connection.uri, *files])
        assert result.exit_code == 0, result.output
    stats = neo4j_store.stats()
    assert dict(stats.nodes_by_kind) == CASE_NODES
    assert dict(stats.relationships_by_type) == CASE_RELATIONSHIPS
    assert stats.version == 1
