"""The Neo4j store: the same protocol as the embedded store, over Bolt.

Mapping (one Neo4j node per graph node, one Neo4j relationship per graph relationship):

* A node carries the label ``Node`` and its kind's label (e.g. ``Authority``), and the
  properties ``id``, ``kind``, ``key``, ``props`` (the properties as canonical JSON, so
  values round-trip exactly: ints stay ints, floats floats, lists lists), ``sources`` and
  ``origins`` (lists of strings), ``evidence`` and ``search`` (the normalized search text
  of :func:`graph_service.storage.text.search_text`).
* Each property is also stored a second time as a real Neo4j property named ``p_<name>``,
  so ``find_nodes`` filters are plain equality on a property (``n.p_region = $value``)
  that the planner can serve from an index if one is ever added. Answers always come from
  ``props``; the ``p_`` copies only select.
* A relationship is a real Neo4j relationship of the model's type with properties ``key``,
  ``props`` (JSON), ``sources``, ``evidence`` and ``origins``.
* Order: the protocol orders by code point (as SQLite and Python do). Neo4j's indexes do
  too, but its ``ORDER BY`` and ``<`` compare UTF-16 code units, which put U+10000 and above
  before U+E000–U+FFFF. So nodes carry ``sid`` and relationships ``skey``: the id and key
  re-encoded by :func:`sort_key` (the identity for text below U+D800, i.e. nearly all
  text), whose UTF-16 order is the code point order of the original. Every ordering and
  keyset comparison uses them; cursors stay the plain ids, the same as the embedded store's.
* The graph version and clear epoch live in one ``(:PressureGraphMeta {name: 'meta'})``
  node. Every write transaction first sets and removes a property on it, which takes its
  write lock (a no-op ``SET m.version = m.version`` does not): writers, also from other
  replicas, are serialized, so reading, merging in Python and writing back loses nothing.
  The version is bumped in the same transaction as the write it counts, only when
  something was created or changed.

Writes: :meth:`Neo4jStore.upsert` first checks in one read that every relationship endpoint
exists (else :class:`StoreError` and nothing is written), then writes nodes and then
relationships in transactions of at most ``_TX_ROWS`` rows (``UNWIND`` statements of at
most ``_BATCH``), each bumping the version if it changed anything. A small upsert is one
transaction, as in the embedded store; a large one is several, because Neo4j keeps a
transaction's changes in its heap and 150,000 rows overflow a small server. If a write
fails midway, what was committed stays, and repeating the upsert (idempotent) completes
it. Managed transactions let the driver retry transient failures. Labels and relationship
types are written into Cypher only from the model's own lists; every value is a parameter.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import neo4j
from neo4j import exceptions as neo4j_errors

from graph_service.errors import InvalidArgument, StoreError, StoreUnavailable
from graph_service.storage import cursors, neo4j_scan
from graph_service.storage.mirror import KIND_CODES, TYPE_CODES, TYPE_NAMES
from graph_service.storage.props import encode_many
from graph_service.storage.records import (
    Adjacency,
    Direction,
    EdgeList,
    Neighbor,
    Node,
    Page,
    Provenance,
    Relationship,
    Stats,
    WriteSummary,
)
from graph_service.storage.text import normalize, search_texts_of
from schema import NODE_KIND_BY_NAME, NODE_KINDS, RELATIONSHIP_TYPES, Value, node_kind
from schema import relationship_type as checked_relationship_type
from schema.constraints import neo4j_constraints

BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
_BATCH = 10_000  # rows per UNWIND statement
#: Rows per write transaction. Neo4j holds a transaction's changes in the heap (about
#: 5 kB per node with its index entries); 150,000 at once overflowed a 1 GB test server,
#: and every young collection during a transaction copies its state: measured at 20,000
#: rows, collections cost the server 12–16 µs of CPU per row, at 5,000 rows 3.6.
_TX_ROWS = 5_000
#: Rows per write statement inside a transaction: small enough that a transaction's
#: statements overlap (see _pipelined), large enough that per-statement costs stay small.
_STATEMENT_ROWS = 1_000
_PROP_PREFIX = "p_"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

T = TypeVar("T")

_NODE_FIELDS = "n.id AS id, n.kind AS kind, n.key AS key, n.props AS props, " \
    "n.sources AS sources, n.evidence AS evidence, n.origins AS origins"

_NODE_LIST = "[n.id, n.kind, n.key, n.props, n.sources, n.evidence, n.origins]"

_META = "MERGE (m:PressureGraphMeta {name: 'meta'}) ON CREATE SET m.version = 0, m.epoch = 0"
#: Indexes for this store's own mapping (the model's constraints come from ``schema``).
_STORE_SCHEMA = (
    # Pages in code point order walk this index (see sort_key).
    "CREATE INDEX node_sid IF NOT EXISTS FOR (n:Node) ON (n.sid)",
    # Search is a substring match: a TEXT index serves CONTAINS; a range index would not,
    # and would refuse values over about 8 kB.
    "CREATE TEXT INDEX node_search IF NOT EXISTS FOR (n:Node) ON (n.search)",
    "CREATE CONSTRAINT pressure_graph_meta_name IF NOT EXISTS "
    "FOR (m:PressureGraphMeta) REQUIRE m.name IS UNIQUE",
)
#: Setting a property takes the node's write lock until commit; removing it leaves no trace.
_LOCK = f"{_META} SET m.writer = true REMOVE m.writer"
_READ_VERSION = (
    "OPTIONAL MATCH (m:PressureGraphMeta {name: 'meta'}) RETURN coalesce(m.version, 0) AS v"
)


def _model_identifier(name: str) -> str:
    """A label, type or property name from the model, checked before it enters Cypher."""
    if not _IDENTIFIER.fullmatch(name):
        raise StoreError(f"model name {name!r} cannot be used in Cypher")
    return name


_KIND_LABELS = {k.name: _model_identifier(k.name) for k in NODE_KINDS}
_TYPE_NAMES = {r.name: _model_identifier(r.name) for r in RELATIONSHIP_TYPES}
#: Every property name any node kind declares, mapped to its Neo4j property.
_FILTER_PROPERTIES = {
    p.name: _PROP_PREFIX + _model_identifier(p.name) for k in NODE_KINDS for p in k.properties
}


def sort_key(text: str) -> str:
    """``text`` re-encoded so that comparing UTF-16 code units (Neo4j's ``ORDER BY``)
    orders as comparing code points does.

    Characters below U+D800 stay as they are; every other character becomes two units in
    U+F00E–U+FFFF (its code point's high and low bits), which sort after every unchanged
    character and among themselves by code point. No surrogates are produced, so the
    result also sorts the same way in Neo4j's indexes (UTF-8 byte order).
    """
    # isascii reads a flag of the string object: no scan for the usual id.
    if text.isascii() or max(text) < "\ud800":
        return text
    out: list[str] = []
    for char in text:
        cp = ord(char)
        if cp < 0xD800:
            out.append(char)
        else:
            out.append(chr(0xF000 + (cp >> 12)))
            out.append(chr(0xF000 + (cp & 0xFFF)))
    return "".join(out)


# -- URLs and credentials ---------------------------------------------------------------


def parse_bolt_url(
    url: str, user: str | None = None, password: str | None = None
) -> tuple[str, str, tuple[str, str] | None]:
    """``(driver URI, URL to show, auth)`` from a Bolt URL.

    Credentials come from the arguments, else the URL's userinfo, else ``NEO4J_USER`` /
    ``NEO4J_PASSWORD``; no user and no password means no auth. Neither URI carries the
    password; the shown URL keeps the user name.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise InvalidArgument(f"{_redact(url)!r} is not a Bolt URL: {e}") from None
    if parts.scheme not in BOLT_SCHEMES or not parts.hostname:
        raise InvalidArgument(
            f"{_redact(url)!r} is not a Bolt URL: write it as "
            f"bolt://host:7687 (or {', '.join(s + '://' for s in BOLT_SCHEMES[1:])})"
        )
    if user is None and parts.username:
        user = unquote(parts.username)
    if password is None and parts.password is not None:
        password = unquote(parts.password)
    if user is None:
        user = os.environ.get("NEO4J_USER") or None
    if password is None:
        password = os.environ.get("NEO4J_PASSWORD") or None
    host = parts.hostname
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    driver_uri = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    shown = urlunsplit(
        (parts.scheme, f"{_quote_user(user)}@{netloc}" if user else netloc,
         parts.path, parts.query, "")
    )
    auth = (user or "neo4j", password or "") if (user or password) else None
    return driver_uri, shown, auth


def _quote_user(user: str) -> str:
    return user.replace("%", "%25").replace("@", "%40").replace(":", "%3A").replace("/", "%2F")


def _redact(url: str) -> str:
    """The URL with any password in its userinfo replaced, for messages."""
    return re.sub(r"(?<=://)([^/@:]*):[^/@]*@", r"\1:***@", url)


def _one_line(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return " ".join(str(text).split())


# -- rows -------------------------------------------------------------------------------


def _node_from_record(r: Mapping[str, Any]) -> Node:
    return Node(
        r["id"], r["kind"], r["key"], json.loads(r["props"]),
        Provenance(tuple(r["sources"] or ()), r["evidence"], tuple(r["origins"] or ())),
    )


def _node_from_list(r: Sequence[Any]) -> Node:
    """A node from ``[id, kind, key, props, sources, evidence, origins]``."""
    return Node(
        r[0], r[1], r[2], json.loads(r[3]),
        Provenance(tuple(r[4] or ()), r[5], tuple(r[6] or ())),
    )


def _rel_from_record(r: Mapping[str, Any]) -> Relationship:
    return Relationship(
        r["src"], r["type"], r["dst"], r["key"], json.loads(r["props"]),
        Provenance(tuple(r["sources"] or ()), r["evidence"], tuple(r["origins"] or ())),
    )


# Rows travel as lists (packing a map repeats its keys in every row); these statements
# name the positions. Properties are written by name, never as ``SET n = map``: a map could
# hold any key, so the planner would add an Eager step against the id lookups.
_NODE_BASE = ("props", "sources", "evidence", "origins", "search")  # row[3:8]
_REL_BASE = ("props", "sources", "evidence", "origins")  # row[4:8]


def _node_rows(nodes: Sequence[Node]) -> list[list[Any]]:
    """``[id, sid or null when it equals id, key, props, sources, evidence, origins, search,
    p_… values in the kind's declared order]`` of each node. The property maps are encoded
    in one call for the whole batch and the search texts column by column: a third of the
    client's CPU node by node."""
    props = [n.properties for n in nodes]
    texts = encode_many(props)
    searches = search_texts_of([n.key for n in nodes], props)
    rows = []
    for node, text, search in zip(nodes, texts, searches, strict=True):
        p = node.provenance
        sid = sort_key(node.id)
        values = node.properties
        rows.append([
            node.id, None if sid == node.id else sid, node.key, text, list(p.sources),
            p.evidence, list(p.origins), search,
            *(values.get(prop.name) for prop in NODE_KIND_BY_NAME[node.kind].properties),
        ])
    return rows


@functools.cache
def _node_statements(kind: str) -> tuple[str, str]:
    """(create, update) statements for rows of :func:`_node_rows` of one kind."""
    label = _KIND_LABELS[kind]
    names = [*_NODE_BASE, *(_FILTER_PROPERTIES[p.name] for p in NODE_KIND_BY_NAME[kind].properties)]
    values = [f"`{name}`: row[{i}]" for i, name in enumerate(names, start=3)]
    create = (
        f"UNWIND $rows AS row CREATE (:Node:{label} {{id: row[0], sid: coalesce(row[1], row[0]), "
        f"kind: $kind, key: row[2], {', '.join(values)}}})"
    )
    # Merged properties and provenance only ever grow, so setting every declared property
    # (null removes, but only what was never there) writes the merged node exactly.
    sets = [f"n.`{name}` = row[{i}]" for i, name in enumerate(names, start=3)]
    update = f"UNWIND $rows AS row MATCH (n:Node {{id: row[0]}}) SET {', '.join(sets)}"
    return create, update


def _rel_rows(rels: Sequence[Relationship]) -> list[list[Any]]:
    """``[source, target, key, skey or null, props, sources, evidence, origins]`` of each
    relationship (property maps encoded in one call for the batch)."""
    texts = encode_many([r.properties for r in rels])
    rows = []
    for rel, text in zip(rels, texts, strict=True):
        p = rel.provenance
        skey = sort_key(rel.key)
        rows.append([
            rel.source, rel.target, rel.key, None if skey == rel.key else skey, text,
            list(p.sources), p.evidence, list(p.origins),
        ])
    return rows


@functools.cache
def _rel_statements(rel_type: str) -> tuple[str, str]:
    """(create, update) statements for rows of :func:`_rel_rows` of one type."""
    name = _TYPE_NAMES[rel_type]
    ends = "UNWIND $rows AS row MATCH (a:Node {id: row[0]}) MATCH (b:Node {id: row[1]}) "
    values = ", ".join(f"{field}: row[{i}]" for i, field in enumerate(_REL_BASE, start=4))
    create = (
        f"{ends}CREATE (a)-[:{name} {{key: row[2], skey: coalesce(row[3], row[2]), {values}}}]->(b)"
    )
    sets = ", ".join(f"r.{field} = row[{i}]" for i, field in enumerate(_REL_BASE, start=4))
    update = f"{ends}MATCH (a)-[r:{name} {{key: row[2]}}]->(b) SET {sets}"
    return create, update


# Whether a stored node or relationship already holds everything an incoming one says
# (merging it would change nothing): the same properties, its sources and origins among the
# stored ones, no evidence or the same. Any null makes the test fail, which is only slower.
_SAME = (
    "{x}.props = row[{p}] AND (row[{p} + 2] IS NULL OR {x}.evidence = row[{p} + 2]) "
    "AND all(s IN row[{p} + 1] WHERE s IN {x}.sources) "
    "AND all(o IN row[{p} + 3] WHERE o IN {x}.origins)"
)
#: Rows ``[id, props, sources, evidence, origins]``: the ids found, and the stored nodes
#: that may differ from their row.
_NODE_DIFF = (
    "UNWIND $rows AS row MATCH (n:Node {id: row[0]}) "
    f"WITH row, n, {_SAME.format(x='n', p=1)} AS same "
    f"RETURN collect(row[0]) AS found, collect(CASE WHEN same THEN null ELSE {_NODE_LIST} END) "
    "AS changed"
)


#: Both ends of a relationship row by the element ids in row[9] and row[10]: a direct
#: record read instead of a (locking) seek in the unique index on ``id``. The label-less
#: pattern keeps the planner off that index; the id comparison makes a reused element id
#: (the node deleted since they were read) drop the row, which the caller reports.
_ENDS_BY_ELEMENT_ID = (
    "UNWIND $rows AS row MATCH (a) WHERE elementId(a) = row[9] AND a.id = row[0] "
    "MATCH (b) WHERE elementId(b) = row[10] AND b.id = row[1] "
)
_ENDS_BY_ID = "UNWIND $rows AS row MATCH (a:Node {id: row[0]}) MATCH (b:Node {id: row[1]}) "


@functools.cache
def _rel_upsert(rel_type: str, by_element_id: bool) -> str:
    """For rows of :func:`_rel_rows` of one type with their position appended (row[8]),
    and with ``by_element_id`` their ends' element ids (row[9], row[10]): each
    relationship is created unless it exists, its ends looked up once. Returns how many
    rows found both ends (fewer means nodes were deleted while writing), the positions
    that existed, and ``[i, props, sources, evidence, origins]`` of those whose stored
    value may differ from their row."""
    name = _TYPE_NAMES[rel_type]
    values = ", ".join(f"{field}: row[{i}]" for i, field in enumerate(_REL_BASE, start=4))
    return (
        (_ENDS_BY_ELEMENT_ID if by_element_id else _ENDS_BY_ID)
        + f"OPTIONAL MATCH (a)-[r:{name} {{key: row[2]}}]->(b) "
        "FOREACH (_ IN CASE WHEN r IS NULL THEN [1] ELSE [] END | "
        f"CREATE (a)-[:{name} {{key: row[2], skey: coalesce(row[3], row[2]), {values}}}]->(b)) "
        # A null comparison counts as "may differ" (only slower).
        f"WITH row, r, r IS NOT NULL AND coalesce(NOT ({_SAME.format(x='r', p=4)}), true) "
        "AS differs "
        "RETURN count(*) AS matched, collect(CASE WHEN r IS NOT NULL THEN row[8] END) AS found, "
        "collect(CASE WHEN differs THEN [row[8], r.props, r.sources, r.evidence, r.origins] "
        "END) AS changed"
    )


@functools.cache
def _rel_create_by_element_id(rel_type: str) -> str:
    """Create each relationship of rows of :func:`_rel_rows` of one type, its ends found by
    the element ids in row[9] and row[10] (row[8] unused): for relationships known not to
    exist, between nodes that did."""
    name = _TYPE_NAMES[rel_type]
    values = ", ".join(f"{field}: row[{i}]" for i, field in enumerate(_REL_BASE, start=4))
    return (
        f"{_ENDS_BY_ELEMENT_ID}"
        f"CREATE (a)-[:{name} {{key: row[2], skey: coalesce(row[3], row[2]), {values}}}]->(b)"
    )


def _ends_vanished() -> StoreError:
    # Endpoints checked at the start of the upsert were deleted since (a concurrent clear).
    return StoreError("relationships name nodes that were deleted while writing")


def _pipelined(
    items: Sequence[T], rows: Callable[[Sequence[T]], list[list[Any]]]
) -> Iterator[list[list[Any]]]:
    """``rows(chunk)`` for each chunk of ``_STATEMENT_ROWS`` items, built only when the
    next one is asked for.

    Callers send each chunk with ``tx.run`` and read the results only after the last one:
    the driver sends a statement without waiting for the one before it to finish, so
    Python builds and encodes chunk k+1 while the server executes chunk k, and the two
    cores work at once instead of taking turns.
    """
    for start in range(0, len(items), _STATEMENT_ROWS):
        yield rows(items[start : start + _STATEMENT_ROWS])


def _chunks(items: Sequence[T], size: int = _BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _type_pattern(rel_types: Collection[str] | None) -> str | None:
    """``:A|B`` for the given types ("" for all); None when the list is empty."""
    if rel_types is None:
        return ""
    for t in rel_types:
        checked_relationship_type(t)
    if not rel_types:
        return None
    return ":" + "|".join(_TYPE_NAMES[t] for t in sorted(set(rel_types)))


class WriteInterrupted(StoreUnavailable):
    """The server went away during a write that spans several transactions.

    ``committed`` counts what the committed transactions wrote (``rows_committed`` rows of
    the batch, nodes first); repeating the same upsert completes the rest, without
    duplicates, because upserts are idempotent.
    """

    def __init__(self, message: str, committed: WriteSummary, rows_committed: int) -> None:
        super().__init__(
            f"{message}; {rows_committed} row(s) of this write were committed before, "
            "and repeating it completes the rest"
        )
        self.committed = committed
        self.rows_committed = rows_committed


class Neo4jStore:
    """A graph store in a Neo4j 5 database. Stateless apart from the driver's pool."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None) -> None:
        driver_uri, self.url, auth = parse_bolt_url(url, user, password)
        try:
            self._driver = neo4j.GraphDatabase.driver(
                driver_uri,
                auth=auth,
                connection_timeout=15,
                user_agent="pressure-graph",
                # The queries are fixed; notices such as "type X does not exist yet" in an
                # empty database are noise in the service's log.
                notifications_min_severity="OFF",
            )
        except (neo4j_errors.DriverError, ValueError) as e:
            raise StoreError(f"cannot use Neo4j URL {self.url}: {_one_line(e)}") from None
        try:
            with self._errors("connecting"):
                self._driver.verify_connectivity()
                with self._session() as session:
                    for statement in (*neo4j_constraints(), *_STORE_SCHEMA):
                        session.run(statement).consume()
                    session.execute_write(lambda tx: tx.run(_META).consume())
        except BaseException:
            self._driver.close()
            raise

    # -- plumbing -----------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Translate driver errors into the project's, with a one-line message."""
        try:
            yield
        except (
            neo4j_errors.ServiceUnavailable,
            neo4j_errors.SessionExpired,
            neo4j_errors.DatabaseUnavailable,
            neo4j_errors.ConnectionAcquisitionTimeoutError,
            neo4j_errors.IncompleteCommit,
            neo4j_errors.TokenExpired,
        ) as e:
            raise StoreUnavailable(f"Neo4j at {self.url} is unavailable ({action}): "
                                   f"{_one_line(e)}") from None
        except neo4j_errors.AuthError as e:
            raise StoreError(f"Neo4j at {self.url} refused the credentials: "
                             f"{_one_line(e)}; set them in the URL or NEO4J_USER / "
                             "NEO4J_PASSWORD") from None
        except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as e:
            raise StoreError(f"Neo4j at {self.url}: {action} failed: {_one_line(e)}") from None

    def _session(self) -> neo4j.Session:
        return self._driver.session()

    def _read(self, action: str, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        with self._errors(action), self._session() as session:
            return session.execute_read(work)

    def _write(self, action: str, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        with self._errors(action), self._session() as session:
            return session.execute_write(work)

    @staticmethod
    def _version(tx: neo4j.ManagedTransaction) -> int:
        record = tx.run(_READ_VERSION).single(strict=True)
        return int(record["v"])

    # -- protocol: reads ----------------------------------------------------------------

    def version(self) -> int:
        return self._read("reading the version", self._version)

    def get_node(self, node_id: str) -> Node | None:
        return self.get_nodes([node_id]).get(node_id)

    def get_nodes(self, node_ids: Sequence[str]) -> dict[str, Node]:
        ids = list(dict.fromkeys(node_ids))
        if not ids:
            return {}
        return self._read("reading nodes", lambda tx: self._fetch_nodes(tx, ids))

    @staticmethod
    def _fetch_nodes(tx: neo4j.ManagedTransaction, ids: Sequence[str]) -> dict[str, Node]:
        found: dict[str, Node] = {}
        for chunk in _chunks(ids):
            # One record holding a list: the driver's cost is per record, not per value.
            rows = tx.run(
                f"UNWIND $ids AS id MATCH (n:Node {{id: id}}) RETURN collect({_NODE_LIST}) AS rows",
                ids=list(chunk),
            ).single(strict=True)["rows"]
            for row in rows:
                node = _node_from_list(row)
                found[node.id] = node
        return found

    def find_nodes(
        self,
        kind: str | None = None,
        filters: Mapping[str, Value] | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Page[Node]:
        label = "Node"
        where: list[str] = []
        params: dict[str, Any] = {}
        if kind is not None:
            node_kind(kind)
            label = _KIND_LABELS[kind]
            # Ids start with "Kind:", so a kind is a range of the sid index (";" follows ":").
            where.append("n.sid >= $lo AND n.sid < $hi")
            params.update(lo=f"{kind}:", hi=f"{kind};")
        for i, (name, value) in enumerate((filters or {}).items()):
            if isinstance(value, list):
                raise InvalidArgument(f"filter on {name!r}: lists cannot be compared")
            if kind is not None and NODE_KIND_BY_NAME[kind].property(name) is None:
                raise InvalidArgument(f"{kind} has no property {name!r}")
            prop = _FILTER_PROPERTIES.get(name)
            if prop is not None:
                where.append(f"n.`{prop}` = $v{i}")
            else:  # no kind declares it: matches nothing, as in the embedded store
                where.append(f"n[$k{i}] = $v{i}")
                params[f"k{i}"] = _PROP_PREFIX + name
            params[f"v{i}"] = value
        condition = " AND ".join(where) or "true"

        def run(tx: neo4j.ManagedTransaction) -> Page[Node]:
            total = tx.run(
                f"MATCH (n:{label}) WHERE {condition} RETURN count(n) AS c", params
            ).single(strict=True)["c"]
            start = "" if after is None else sort_key(cursors.decode(after, 1)[0])
            records = list(tx.run(
                f"MATCH (n:Node:{label}) WHERE n.sid > $after AND {condition} "
                f"RETURN {_NODE_FIELDS} ORDER BY n.sid LIMIT $limit",
                params, after=start, limit=max(first, 0) + 1,
            ))
            items = [_node_from_record(r) for r in records[:first]]
            end = cursors.encode(items[-1].id) if items else after
            return Page(items, int(total), end, len(records) > first)

        return self._read("finding nodes", run)

    def search(
        self, text: str, kinds: Collection[str] | None = None, first: int = 20
    ) -> list[Node]:
        needle = normalize(text.strip())
        if not needle:
            return []
        condition = ""
        if kinds:
            for k in kinds:
                node_kind(k)
            condition = " AND n.kind IN $kinds"
        query = (
            f"MATCH (n:Node) WHERE n.search CONTAINS $needle{condition} "
            f"RETURN {_NODE_FIELDS} ORDER BY n.sid LIMIT $limit"
        )

        def run(tx: neo4j.ManagedTransaction) -> list[Node]:
            result = tx.run(query, needle=needle, kinds=list(kinds or ()), limit=max(first, 0))
            return [_node_from_record(r) for r in result]

        return self._read("searching", run)

    def neighbors(
        self,
        node_id: str,
        rel_types: Collection[str] | None = None,
        direction: Direction = Direction.BOTH,
        first: int = 50,
        after: str | None = None,
    ) -> Page[Neighbor]:
        types = _type_pattern(rel_types)
        direction = Direction(direction)
        arms, counts = neo4j_scan.neighbor_arms(types, direction)

        def run(tx: neo4j.ManagedTransaction) -> Page[Neighbor]:
            found = tx.run(
                f"MATCH (n:Node {{id: $id}}) RETURN {' + '.join(counts) or '0'} AS c",
                id=node_id,
            ).single()
            if found is None:
                return Page([], 0, None, False)
            total = int(found["c"])
            if not arms:
                return Page([], total, after, False)
            params: dict[str, Any] = {"id": node_id, "limit": max(first, 0) + 1}
            keyset = ""
            if after is not None:
                other, rel_type, way, key = cursors.decode(after, 4)
                params["a"] = [sort_key(other), rel_type, way, sort_key(key)]
                keyset = (
                    "WHERE oid > $a[0] OR (oid = $a[0] AND (t > $a[1] OR (t = $a[1] AND "
                    "(dir > $a[2] OR (dir = $a[2] AND k > $a[3])))))"
                )
            records = list(tx.run(
                f"MATCH (n:Node {{id: $id}}) UNWIND {' + '.join(arms)} AS row "
                "WITH row[0] AS o, row[1] AS r, row[2] AS dir "
                "WITH o, r, dir, o.sid AS oid, type(r) AS t, r.skey AS k "
                f"{keyset} "
                "RETURN startNode(r).id AS src, t AS type, endNode(r).id AS dst, r.key AS key, "
                "r.props AS props, r.sources AS sources, r.evidence AS evidence, "
                "r.origins AS origins, dir, o.id AS id, o.kind AS kind, o.key AS okey, "
                "o.props AS oprops, o.sources AS osources, o.evidence AS oevidence, "
                "o.origins AS oorigins "
                "ORDER BY oid, t, dir, k LIMIT $limit",
                params,
            ))
            rows = records[:first]
            items = [
                Neighbor(
                    _rel_from_record(r),
                    _node_from_record({
                        "id": r["id"], "kind": r["kind"], "key": r["okey"],
                        "props": r["oprops"], "sources": r["osources"],
                        "evidence": r["oevidence"], "origins": r["oorigins"],
                    }),
                    Direction(r["dir"]),
                )
                for r in rows
            ]
            end = after
            if rows:
                last = rows[-1]
                end = cursors.encode(last["id"], last["type"], last["dir"], last["key"])
            return Page(items, total, end, len(records) > first)

        return self._read("reading neighbours", run)

    def relationships(
        self,
        rel_types: Collection[str] | None = None,
        first: int = 1000,
        after: str | None = None,
    ) -> Page[Relationship]:
        types = _type_pattern(rel_types)

        def run(tx: neo4j.ManagedTransaction) -> Page[Relationship]:
            if types is None:
                if after is not None:
                    cursors.decode(after, 4)
                return Page([], 0, after, False)
            total = tx.run(
                f"MATCH (:Node)-[r{types}]->(:Node) RETURN count(r) AS c"
            ).single(strict=True)["c"]
            # Ids are never empty, so the empty position comes before every relationship.
            position = ["", "", "", ""]
            if after is not None:
                src, rel_type, dst, key = cursors.decode(after, 4)
                position = [sort_key(src), rel_type, sort_key(dst), sort_key(key)]
            # The range on a.id lets the planner walk the id index in order and sort
            # only each source's relationships.
            records = list(tx.run(
                f"MATCH (a:Node)-[r{types}]->(b:Node) WHERE a.sid >= $a0 "
                "WITH a, b, r, a.sid AS s, type(r) AS t, b.sid AS d, r.skey AS k "
                "WHERE s > $a0 OR (s = $a0 AND (t > $a1 OR (t = $a1 AND "
                "(d > $a2 OR (d = $a2 AND k > $a3))))) "
                "RETURN a.id AS src, t AS type, b.id AS dst, r.key AS key, r.props AS props, "
                "r.sources AS sources, r.evidence AS evidence, r.origins AS origins "
                "ORDER BY s, t, d, k LIMIT $limit",
                {f"a{i}": v for i, v in enumerate(position)}, limit=max(first, 0) + 1,
            ))
            items = [_rel_from_record(r) for r in records[:first]]
            end = cursors.encode(*items[-1].identity) if items else after
            return Page(items, int(total), end, len(records) > first)

        return self._read("reading relationships", run)

    def relationships_of(
        self,
        node_ids: Sequence[str],
        rel_types: Collection[str] | None = None,
        direction: Direction = Direction.BOTH,
    ) -> list[Relationship]:
        types = _type_pattern(rel_types)
        direction = Direction(direction)
        ids = list(dict.fromkeys(node_ids))
        if types is None or not ids:
            return []
        pattern = {
            Direction.OUT: f"(n)-[r{types}]->()",
            Direction.IN: f"(n)<-[r{types}]-()",
        }.get(direction, f"(n)-[r{types}]-()")
        query = (
            f"UNWIND $ids AS id MATCH (n:Node {{id: id}}) MATCH {pattern} "
            "RETURN startNode(r).id AS src, type(r) AS type, endNode(r).id AS dst, "
            "r.key AS key, r.props AS props, r.sources AS sources, r.evidence AS evidence, "
            "r.origins AS origins"
        )

        def run(tx: neo4j.ManagedTransaction) -> list[Relationship]:
            found: dict[tuple[str, str, str, str], Relationship] = {}
            for chunk in _chunks(ids):
                for record in tx.run(query, ids=list(chunk)):
                    rel = _rel_from_record(record)
                    found[rel.identity] = rel
            # Python orders the identities by code point, as the protocol asks.
            return [found[k] for k in sorted(found)]

        return self._read("reading relationships", run)

    def neighborhoods(
        self,
        node_ids: Sequence[str],
        rel_types: Collection[str] | None = None,
        direction: Direction = Direction.BOTH,
        first: int = 50,
    ) -> dict[str, Adjacency]:
        types = _type_pattern(rel_types)
        direction = Direction(direction)
        ids = list(dict.fromkeys(node_ids))

        def run(tx: neo4j.ManagedTransaction) -> dict[str, Adjacency]:
            found: dict[str, Adjacency] = {}
            for chunk in _chunks(ids, 1000):
                found.update(neo4j_scan.neighborhoods(tx, list(chunk), types, direction, first))
            return {i: found[i] for i in ids if i in found}  # in the order asked

        return self._read("reading neighbours", run) if ids else {}

    def scan_nodes(self, kind: str | None = None) -> Iterator[Node]:
        label = "Node" if kind is None else _KIND_LABELS[node_kind(kind).name]
        return self._scan("reading nodes", lambda s: neo4j_scan.scan_nodes(s, label, kind))

    def scan_relationships(
        self, rel_types: Collection[str] | None = None
    ) -> Iterator[Relationship]:
        types = _type_pattern(rel_types)
        return self._scan(
            "reading relationships", lambda s: neo4j_scan.scan_relationships(s, types)
        )

    def _scan(self, action: str, rows: Callable[[neo4j.Session], Iterator[T]]) -> Iterator[T]:
        # A generator: the session (and its query) stay open while the caller consumes.
        with self._errors(action), self._driver.session(
            default_access_mode=neo4j.READ_ACCESS
        ) as session:
            yield from rows(session)

    def stats(self) -> Stats:
        # One row of counts the planner reads from Neo4j's count store.
        counts = ", ".join(
            [f"COUNT {{ (:{label}) }} AS k{i}" for i, label in enumerate(_KIND_LABELS.values())]
            + [f"COUNT {{ ()-[:{t}]->() }} AS t{i}" for i, t in enumerate(_TYPE_NAMES.values())]
        )
        query = f"{_READ_VERSION}, {counts}"

        def run(tx: neo4j.ManagedTransaction) -> Stats:
            record = tx.run(query).single(strict=True)
            kinds = {name: int(record[f"k{i}"]) for i, name in enumerate(_KIND_LABELS)}
            types = {name: int(record[f"t{i}"]) for i, name in enumerate(_TYPE_NAMES)}
            return Stats(
                int(record["v"]),
                {k: n for k, n in kinds.items() if n},
                {t: n for t, n in types.items() if n},
            )

        return self._read("reading statistics", run)

    def edge_list(self, rel_types: Collection[str] | None = None) -> EdgeList:
        types = _type_pattern(rel_types)

        def run(tx: neo4j.ManagedTransaction) -> EdgeList:
            from array import array

            version = self._version(tx)
            # Nodes, then each type's relationships as two lists of internal node ids, all
            # in one read transaction (so the internal ids are stable) and a few records:
            # the driver's cost is per record.
            record = tx.run(
                "MATCH (n:Node) WITH n ORDER BY n.sid "
                "RETURN collect(n.id) AS ids, collect(n.kind) AS kinds, collect(id(n)) AS refs"
            ).single(strict=True)
            ids: list[str] = record["ids"]
            kinds: list[str] = record["kinds"]
            index = {ref: i for i, ref in enumerate(record["refs"])}
            src, dst, codes = array("i"), array("i"), array("b")
            for name in [] if types is None else (types[1:].split("|") if types else _TYPE_NAMES):
                record = tx.run(
                    f"MATCH (a:Node)-[:{_TYPE_NAMES[name]}]->(b:Node) "
                    "RETURN collect(id(a)) AS s, collect(id(b)) AS d"
                ).single(strict=True)
                src.extend(index[a] for a in record["s"])
                dst.extend(index[b] for b in record["d"])
                codes.extend([TYPE_CODES[name]] * len(record["d"]))
            return EdgeList(version, ids, kinds, src, dst, codes, list(TYPE_NAMES))

        return self._read("reading the edge list", run)

    # -- protocol: writes ---------------------------------------------------------------

    def upsert(
        self, nodes: Iterable[Node], relationships: Iterable[Relationship] = ()
    ) -> WriteSummary:
        node_batch = _dedupe(nodes, lambda n: n.id)
        rel_batch = _dedupe(relationships, lambda r: r.identity)
        for node in node_batch.values():
            if node.kind not in KIND_CODES:
                node_kind(node.kind)
        for rel in rel_batch.values():
            checked_relationship_type(rel.type)

        def check(tx: neo4j.ManagedTransaction) -> tuple[dict[str, str], set[str], int]:
            # The version first: reads are read-committed, so a writer that commits after
            # it changes the version the writes compare with, and one that committed
            # before it is seen by the reads below.
            version = self._version(tx)
            endpoints = {e for (s, _, d, _) in rel_batch for e in (s, d)}
            present = self._existing_ids(tx, sorted(endpoints | node_batch.keys()))
            missing = sorted(e for e in endpoints if e not in present and e not in node_batch)
            if missing:
                shown = ", ".join(missing[:10]) + (
                    f" and {len(missing) - 10} more" if len(missing) > 10 else ""
                )
                raise StoreError(f"relationships name nodes that do not exist: {shown}")
            sources = sorted({s for (s, _, _, _) in rel_batch if s in present})
            return present, self._unlinked(tx, sources, present), version

        # Nothing is written unless every endpoint exists.
        present, unlinked, version = self._read("writing", check)
        summary = WriteSummary(version=version)
        # Nodes first, then relationships, _TX_ROWS to a transaction: a small upsert is
        # one transaction and one version, as in the embedded store.
        items: list[Node | Relationship] = [*node_batch.values(), *rel_batch.values()]
        for start in range(0, len(items), _TX_ROWS):
            part = items[start : start + _TX_ROWS]
            work = self._write_work(
                {n.id: n for n in part if isinstance(n, Node)},
                {r.identity: r for r in part if isinstance(r, Relationship)},
                present,
                summary.version,
                unlinked,
            )
            try:
                summary.add(self._write("writing", work))
            except StoreUnavailable as e:
                raise WriteInterrupted(str(e), summary, start) from None
        return summary

    @staticmethod
    def _existing_ids(tx: neo4j.ManagedTransaction, ids: Sequence[str]) -> dict[str, str]:
        """The element id of each of ``ids`` that exists."""
        found: dict[str, str] = {}
        for chunk in _chunks(ids):
            record = tx.run(
                "UNWIND $ids AS id MATCH (n:Node {id: id}) "
                "RETURN collect(id) AS ids, collect(elementId(n)) AS refs",
                ids=list(chunk),
            ).single(strict=True)
            found.update(zip(record["ids"], record["refs"], strict=True))
        return found

    @staticmethod
    def _unlinked(
        tx: neo4j.ManagedTransaction, ids: Sequence[str], present: Mapping[str, str]
    ) -> set[str]:
        """Those of ``ids`` (nodes in ``present``) with no outgoing relationship: no
        relationship from them can exist yet, so a write that no other writer has
        overtaken creates theirs without looking for them (a first load's relationships
        mostly start at such nodes)."""
        by_ref = {present[i]: i for i in ids}
        unlinked: set[str] = set()
        for chunk in _chunks(list(by_ref)):
            record = tx.run(
                "UNWIND $refs AS ref MATCH (n) WHERE elementId(n) = ref "
                "AND NOT EXISTS { (n)-->() } RETURN collect(ref) AS refs",
                refs=list(chunk),
            ).single(strict=True)
            unlinked.update(by_ref[ref] for ref in record["refs"])
        return unlinked

    def _write_work(
        self,
        nodes: dict[str, Node],
        rels: dict[tuple[str, str, str, str], Relationship],
        present: dict[str, str],
        last_version: int,
        unlinked: Collection[str] = (),
    ) -> Callable[[neo4j.ManagedTransaction], WriteSummary]:
        """``unlinked``: nodes of ``present`` that had no outgoing relationship when the
        upsert checked its endpoints (see :meth:`_unlinked`); only trusted while no
        other writer has committed since."""

        def work(tx: neo4j.ManagedTransaction) -> WriteSummary:
            tx.run(_LOCK).consume()
            # If no other writer committed since this upsert checked which nodes existed,
            # a relationship to a node that did not exist then cannot exist now.
            alone = self._version(tx) == last_version
            part = WriteSummary()
            if nodes:
                self._write_nodes(tx, nodes, present if alone else None, part)
            if rels:
                self._write_relationships(
                    tx, rels, present if alone else None, part, unlinked if alone else ()
                )
            return self._bump(tx, part)

        return work

    @staticmethod
    def _bump(tx: neo4j.ManagedTransaction, part: WriteSummary) -> WriteSummary:
        """Bump the version if this transaction created or changed anything."""
        record = tx.run(
            "MATCH (m:PressureGraphMeta {name: 'meta'}) "
            "SET m.version = m.version + $bump RETURN m.version AS v",
            bump=1 if part.total_written else 0,
        ).single(strict=True)
        part.version = int(record["v"])
        return part

    @staticmethod
    def _write_nodes(
        tx: neo4j.ManagedTransaction,
        batch: Mapping[str, Node],
        present: Collection[str] | None,
        summary: WriteSummary,
    ) -> None:
        """``present``: the nodes that existed before this upsert, when no other writer has
        committed since; None looks every node up.

        The server compares each stored node with the incoming one and sends back only
        those that may change (a repeated load reads back almost nothing); Python merges
        those. Nodes not found are created.
        """
        maybe = [n for n in batch.values() if present is None or n.id in present]
        found: set[str] = set()
        existing: dict[str, Node] = {}
        for chunk in _chunks(maybe):
            texts = encode_many([n.properties for n in chunk])
            record = tx.run(_NODE_DIFF, rows=[
                [n.id, text, list(n.provenance.sources), n.provenance.evidence,
                 list(n.provenance.origins)]
                for n, text in zip(chunk, texts, strict=True)
            ]).single(strict=True)
            found.update(record["found"])
            for stored in record["changed"]:
                before = _node_from_list(stored)
                existing[before.id] = before
        creates: dict[str, list[Node]] = {}
        updates: dict[str, list[Node]] = {}
        outcomes: Counter[tuple[str, str]] = Counter()
        for node in batch.values():
            if node.id not in found:
                outcomes["created", node.kind] += 1
                creates.setdefault(node.kind, []).append(node)
                continue
            previous = existing.get(node.id)
            merged = previous.merged(node) if previous is not None else None
            if merged is None or merged == previous:
                outcomes["unchanged", node.kind] += 1
            else:
                outcomes["updated", node.kind] += 1
                updates.setdefault(node.kind, []).append(merged)
        # Writers hold the meta lock, so a node not found above is not there: CREATE.
        results = [
            tx.run(_node_statements(kind)[which], rows=rows, kind=kind)
            for which, groups in ((0, creates), (1, updates))
            for kind, nodes in groups.items()
            for rows in _pipelined(nodes, _node_rows)
        ]
        for result in results:
            result.consume()
        _count(summary, outcomes)

    def _write_relationships(
        self,
        tx: neo4j.ManagedTransaction,
        batch: Mapping[tuple[str, str, str, str], Relationship],
        present: dict[str, str] | None,
        summary: WriteSummary,
        unlinked: Collection[str] = (),
    ) -> None:
        """``present``: the element ids of the nodes that existed before this upsert, when
        no other writer has committed since (a relationship can only exist if both its ends
        did, and its source had one, so the others are created without a look; the rest
        find their ends by element id); None looks every relationship and its ends up by
        id. ``unlinked``: the sources in ``present`` that had no outgoing relationship then
        (this upsert's relationships are distinct, so none of them can exist either).

        A relationship that may exist goes through one statement that looks its ends up
        once, creates it if it is not there, and sends back the stored value when it may
        differ; Python merges those few and writes them back.
        """
        creates: dict[str, list[Relationship]] = {}
        # New relationships between nodes that existed: their ends found by element id.
        linked_creates: dict[str, list[Relationship]] = {}
        maybe: dict[str, list[Relationship]] = {}
        for rel in batch.values():
            if present is None:
                maybe.setdefault(rel.type, []).append(rel)
            elif rel.source not in present or rel.target not in present:
                creates.setdefault(rel.type, []).append(rel)
            elif rel.source in unlinked:
                linked_creates.setdefault(rel.type, []).append(rel)
            else:
                maybe.setdefault(rel.type, []).append(rel)
        outcomes: Counter[tuple[str, str]] = Counter()
        created = [
            (tx.run(_rel_statements(rel_type)[0], rows=rows), len(rows))
            for rel_type, rels in creates.items()
            for rows in _pipelined(rels, _rel_rows)
        ]
        refs = present or {}
        for rel_type, rels in linked_creates.items():
            for rows in _pipelined(rels, _rel_rows):
                for row in rows:
                    row += (None, refs[row[0]], refs[row[1]])
                created.append((tx.run(_rel_create_by_element_id(rel_type), rows=rows),
                                len(rows)))
            creates.setdefault(rel_type, []).extend(rels)
        looked_up = [rel for rels in maybe.values() for rel in rels]
        upserted = []
        position = 0
        for rel_type, rels in maybe.items():
            for rows in _pipelined(rels, _rel_rows):
                for row in rows:  # positions in looked_up, for the answers
                    row.append(position)
                    position += 1
                    if present is not None:
                        row += (present[row[0]], present[row[1]])
                statement = _rel_upsert(rel_type, present is not None)
                upserted.append((rel_type, tx.run(statement, rows=rows), len(rows)))
        for result, n in created:
            if result.consume().counters.relationships_created != n:
                raise _ends_vanished()
        for rel_type, rels in creates.items():
            outcomes["created", rel_type] += len(rels)
        updates: dict[str, list[Relationship]] = {}
        for rel_type, result, n in upserted:
            record = result.single(strict=True)
            if record["matched"] != n:
                raise _ends_vanished()
            found = len(record["found"])
            outcomes["created", rel_type] += n - found
            outcomes["unchanged", rel_type] += found - len(record["changed"])
            for i, props, sources, evidence, origins in record["changed"]:
                rel = looked_up[i]
                old = Relationship(
                    rel.source, rel_type, rel.target, rel.key, json.loads(props),
                    Provenance(tuple(sources or ()), evidence, tuple(origins or ())),
                )
                merged = old.merged(rel)
                if merged == old:
                    outcomes["unchanged", rel_type] += 1
                else:
                    updates.setdefault(rel_type, []).append(merged)
                    outcomes["updated", rel_type] += 1
        results = [
            tx.run(_rel_statements(rel_type)[1], rows=rows)
            for rel_type, rels in updates.items()
            for rows in _pipelined(rels, _rel_rows)
        ]
        for result in results:
            result.consume()
        _count(summary, outcomes)

    def clear(self) -> None:
        """Delete in batches (a huge graph does not fit one transaction); each batch
        bumps the version, and the last step bumps the epoch too."""
        bump = "MATCH (m:PressureGraphMeta {name: 'meta'}) SET m.version = m.version + 1"

        def delete(query: str) -> Callable[[neo4j.ManagedTransaction], int]:
            def work(tx: neo4j.ManagedTransaction) -> int:
                tx.run(_LOCK).consume()
                n = int(tx.run(query, limit=_BATCH).single(strict=True)["c"])
                if n:
                    tx.run(bump).consume()
                return n

            return work

        # Relationships through the relationship-type index, not from their nodes: a scan
        # from the nodes walks again, batch after batch, past every node already emptied
        # (1,000,000 rows took over four minutes to clear that way).
        types = "|".join(_TYPE_NAMES.values())
        for query in (
            f"MATCH ()-[r:{types}]->() WITH r LIMIT $limit DELETE r RETURN count(*) AS c",
            "MATCH (n:Node) WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS c",
        ):
            while self._write("clearing", delete(query)):
                pass

        def finish(tx: neo4j.ManagedTransaction) -> None:
            tx.run(f"{_META} SET m.version = m.version + 1, m.epoch = m.epoch + 1").consume()

        self._write("clearing", finish)

    def close(self) -> None:
        self._driver.close()


def _dedupe(items: Iterable[T], identity: Callable[[T], Any]) -> dict[Any, T]:
    """Merge repeats within one batch, keeping first-seen order, keyed by identity."""
    merged: dict[Any, T] = {}
    for item in items:
        key = identity(item)
        previous = merged.get(key)
        merged[key] = item if previous is None else previous.merged(item)  # type: ignore[attr-defined]
    return merged


def _count(summary: WriteSummary, outcomes: Counter[tuple[str, str]]) -> None:
    for (outcome, name), n in sorted(outcomes.items()):
        if n:
            summary.count(outcome, name, n)
