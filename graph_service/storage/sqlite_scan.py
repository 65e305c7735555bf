"""Bulk reads of the embedded store: the relationships around many nodes in one query
(``subgraph``, chains), the same and many nodes as Cytoscape.js element text
(``subgraph``'s answer), and streaming scans of every node and relationship (exports).

They live apart from :mod:`.sqlite`, which pages and writes, because their cost is per
row over tens of thousands to millions of rows: one statement instead of one (or two) per
node or page, and rows decoded with :func:`.props.decode_props`.

A scan opens its own read-only connection and reads one snapshot (WAL keeps it stable),
so a long export neither holds the store's lock nor sees half of a later load.
"""

from __future__ import annotations

import json
import json.encoder
import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

from graph_service.errors import StoreError
from graph_service.storage.mirror import GraphMirror
from graph_service.storage.props import decode_many, decode_props
from graph_service.storage.records import (
    Adjacency,
    AdjacencyElements,
    Adjacent,
    AdjacentElement,
    Direction,
    Node,
    Relationship,
)
from graph_service.storage.sqlite_decode import node_from_row, split
from graph_service.storage.sqlite_decode import provenance as _provenance
from schema import NODE_KINDS

_CHUNK = 500  # anchors per statement (two IN lists of host parameters)
_FETCH = 5000  # rows per fetchmany of a scan

# -- relationships around many nodes ------------------------------------------------------

_REL_COLUMNS = "s.id, r.type, d.id, r.key, r.props, r.sources, r.evidence, r.origins"


def _adjacent_rows(
    db: sqlite3.Connection,
    mirror: GraphMirror,
    node_ids: Sequence[str],
    type_sql: str,
    type_params: Sequence[str],
    direction: Direction,
    first: int,
) -> Iterator[tuple[str, int, list[tuple[Any, ...]]]]:
    """For each existing node among ``node_ids``, once, in the order asked: its id, how
    many relationships it has, and the rows (see :func:`_arms`) of its first ``first`` in
    ``neighbors`` order.

    ``type_sql`` is an ``AND r.type IN (...)`` condition. Counts come first, from the
    indexes alone. A node with at most ``first`` relationships has them all read in one
    statement with the other such nodes; a hub has only its first ``first`` read, ranked
    by SQLite, so a hub costs its count, not its rows. SQLite compares text by code
    point, as ``neighbors`` orders. The other ends' ids come from the mirror (a node's
    rowid is its position there), not from a join.
    """
    index = mirror.index
    anchors = list(dict.fromkeys(i for i in node_ids if i in index))
    ends = [
        end
        for end, way in (("src", Direction.OUT), ("dst", Direction.IN))
        if direction in (way, Direction.BOTH)
    ]
    for start in range(0, len(anchors), _CHUNK):
        ids = anchors[start : start + _CHUNK]
        chunk = [index[i] for i in ids]
        marks = ",".join("?" * len(chunk))
        counts = " UNION ALL ".join(
            f"SELECT r.{end} AS anchor FROM rels r WHERE r.{end} IN ({marks}){type_sql}"
            for end in ends
        )
        totals = dict(
            db.execute(
                f"SELECT anchor, count(*) FROM ({counts}) GROUP BY anchor",
                [*chunk, *type_params] * len(ends),
            )
        )
        small = [a for a, n in totals.items() if 0 < n <= first]
        hubs = [a for a, n in totals.items() if n > first]
        found: dict[int, list[tuple[Any, ...]]] = {a: [] for a in totals}
        if small:
            rows = db.execute(*_arms(ends, small, type_sql, type_params)).fetchall()
            name = _namer(db, mirror.ids, rows)
            for row in rows:
                found[row[0]].append((row[0], name(row[1]), *row[2:]))
            for listed in found.values():
                listed.sort(key=_ORDER)
        if hubs and first > 0:
            sql, params = _arms(ends, hubs, type_sql, type_params)
            rows = db.execute(
                "SELECT anchor, other, dir, type, key, props, sources, evidence, origins "
                "FROM (SELECT a.*, row_number() OVER (PARTITION BY a.anchor "
                f"ORDER BY o.id, a.type, a.dir, a.key) AS n FROM ({sql}) a "
                "JOIN nodes o ON o.rowid = a.other) WHERE n <= ? ORDER BY anchor, n",
                [*params, first],
            ).fetchall()
            name = _namer(db, mirror.ids, rows)
            for row in rows:
                found[row[0]].append((row[0], name(row[1]), *row[2:]))
        for node_id, rowid in zip(ids, chunk, strict=True):
            yield node_id, totals.get(rowid, 0), found.get(rowid, [])


def neighborhoods(
    db: sqlite3.Connection,
    mirror: GraphMirror,
    node_ids: Sequence[str],
    type_sql: str,
    type_params: Sequence[str],
    direction: Direction,
    first: int,
) -> dict[str, Adjacency]:
    """See :meth:`graph_service.storage.protocol.Store.neighborhoods`; the arguments as
    :func:`_adjacent_rows` takes them."""
    around = list(
        _adjacent_rows(db, mirror, node_ids, type_sql, type_params, direction, first)
    )
    props = iter(decode_many([r[5] for _, _, rows in around for r in rows]))
    return {
        me: Adjacency(
            total,
            [
                Adjacent(
                    Relationship(me, r[3], r[1], r[4], next(props),
                                 _provenance(r[6], r[7], r[8]))
                    if r[2] == "out"
                    else Relationship(r[1], r[3], me, r[4], next(props),
                                      _provenance(r[6], r[7], r[8])),
                    r[1],
                    _DIRECTIONS[r[2]],
                )
                for r in rows
            ],
        )
        for me, total, rows in around
    }


_DIRECTIONS = {"out": Direction.OUT, "in": Direction.IN}
#: ``neighbors`` order of an arms row: other end, type, direction, key.
_ORDER = itemgetter(1, 3, 2, 4)


def _namer(
    db: sqlite3.Connection, ids: list[str], rows: list[tuple[Any, ...]]
) -> Callable[[int], str]:
    """The node id of a rowid among the rows' other ends (``row[1]``): from the mirror,
    or for a node committed after the mirror last caught up, from the file."""
    known = len(ids)
    late = sorted({r[1] for r in rows if r[1] >= known})
    if not late:
        return ids.__getitem__
    named = dict(
        db.execute(
            "SELECT rowid, id FROM nodes WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(late),),
        )
    )
    return lambda rowid: ids[rowid] if rowid < known else named[rowid]


def _arms(
    ends: list[str], anchors: list[int], type_sql: str, type_params: Sequence[str]
) -> tuple[str, list[Any]]:
    """Rows ``(anchor, other, dir, type, key, props, sources, evidence, origins)`` of the
    anchors' relationships: ``other`` is the other end's rowid, ``dir`` 'out' (the anchor
    is the source) or 'in'."""
    marks = ",".join("?" * len(anchors))
    other = {"src": "r.dst AS other, 'out' AS dir", "dst": "r.src AS other, 'in' AS dir"}
    sql = " UNION ALL ".join(
        f"SELECT r.{end} AS anchor, {other[end]}, r.type AS type, r.key AS key, "
        f"r.props AS props, r.sources AS sources, r.evidence AS evidence, "
        f"r.origins AS origins FROM rels r WHERE r.{end} IN ({marks}){type_sql}"
        for end in ends
    )
    return sql, [*anchors, *type_params] * len(ends)


# -- Cytoscape.js elements, written from the stored rows -----------------------------------
#
# ``subgraph`` answers with tens of thousands of elements; decoding each row into a record,
# building its element dict and encoding that again cost about 20 microseconds an
# element. Here each element's JSON text is written straight from the stored columns, in
# the shape of graph_service.exports.elements (tests/test_subgraph_elements.py holds the
# two equal): the stored property map is compact JSON already, and its members are
# spliced in as they are; a row's provenance is written once per distinct provenance.
# (SQLite's own JSON functions were tried for this: a dozen function calls a row cost
# more than the whole Python assembly.) A row whose property map holds NaN or Infinity,
# which Python's JSON writes but the response must spell null, is answered with its
# record instead.

_quote = json.encoder.encode_basestring  # C; keeps non-ASCII text as it is
_label_property = {k.name: k.label_property for k in NODE_KINDS}


def _name(name: str) -> str:
    """A kind or relationship type as a JSON string (there are a few: each is quoted once)."""
    quoted = _names.get(name)
    if quoted is None:
        quoted = _names[name] = _quote(name)
    return quoted


_names: dict[str, str] = {}


def _provenance_members(key: tuple[str, str | None, str]) -> str:
    """``,"evidence":…,"sources":[…],"origins":[…]`` of stored ``(sources, evidence,
    origins)``. Rows share a few provenances (one per source list and load origin):
    each is written once."""
    text = _provenance_texts.get(key)
    if text is None:
        if len(_provenance_texts) >= 10_000:
            _provenance_texts.clear()
        sources, evidence, origins = key
        text = _provenance_texts[key] = (
            f',"evidence":{"null" if evidence is None else _quote(evidence)}'
            f',"sources":[{",".join(map(_quote, split(sources)))}]'
            f',"origins":[{",".join(map(_quote, split(origins)))}]'
        )
    return text


_provenance_texts: dict[tuple[str, str | None, str], str] = {}


def _inexact(props: str) -> bool:
    """Whether a stored property map cannot be spliced into an element as it is: Python's
    JSON writes NaN and Infinity, which the response must spell null."""
    return props[:1] != "{" or "NaN" in props or "Infinity" in props


def node_elements(
    db: sqlite3.Connection, mirror: GraphMirror, node_ids: Sequence[str]
) -> dict[str, str | Node]:
    """See :meth:`graph_service.storage.protocol.ElementReader.node_elements`."""
    index = mirror.index
    rowids = [index[i] for i in dict.fromkeys(node_ids) if i in index]
    out: dict[str, str | Node] = {}
    for start in range(0, len(rowids), _FETCH):
        chunk = rowids[start : start + _FETCH]
        rows = db.execute(
            "SELECT id, kind, key, props, sources, evidence, origins FROM nodes "
            "WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(chunk),),
        ).fetchall()
        # The label is the only member read from the property map.
        for row, props in zip(rows, decode_many([r[3] for r in rows]), strict=True):
            node_id, kind, key, text, sources, evidence, origins = row
            if _inexact(text):
                out[node_id] = node_from_row(row)
                continue
            label = props.get(_label_property.get(kind, ""))
            if not isinstance(label, str) or not label:
                label = key
            k = _names.get(kind) or _name(kind)
            members = "" if text == "{}" else text[1:-1] + ","
            prov = _provenance_texts.get(p := (sources, evidence, origins)) or (
                _provenance_members(p)
            )
            out[node_id] = (
                f'{{"group":"nodes","data":{{{members}"id":{_quote(node_id)},"kind":{k},'
                f'"key":{_quote(key)},"label":{_quote(label)}{prov}}},"classes":{k}}}'
            )
    return out


def neighborhood_elements(
    db: sqlite3.Connection,
    mirror: GraphMirror,
    node_ids: Sequence[str],
    type_sql: str,
    type_params: Sequence[str],
    direction: Direction,
    first: int,
) -> dict[str, AdjacencyElements]:
    """See :meth:`graph_service.storage.protocol.ElementReader.neighborhood_elements`;
    the arguments as :func:`neighborhoods` takes them."""
    out: dict[str, AdjacencyElements] = {}
    # The loop runs once per relationship (tens of thousands): the common case is inline.
    for me, total, rows in _adjacent_rows(
        db, mirror, node_ids, type_sql, type_params, direction, first
    ):
        items: list[AdjacentElement] = []
        for _, other, way, rel_type, key, props, sources, evidence, origins in rows:
            src, dst = (me, other) if way == "out" else (other, me)
            rel_id = f"{src}-{rel_type}#{key}->{dst}" if key else f"{src}-{rel_type}->{dst}"
            if _inexact(props):
                rel = Relationship(src, rel_type, dst, key, decode_props(props),
                                   _provenance(sources, evidence, origins))
                items.append((other, rel_id, rel))
                continue
            t = _names.get(rel_type) or _name(rel_type)
            members = "" if props == "{}" else props[1:-1] + ","
            prov = _provenance_texts.get(p := (sources, evidence, origins)) or (
                _provenance_members(p)
            )
            items.append((
                other,
                rel_id,
                f'{{"group":"edges","data":{{{members}"id":{_quote(rel_id)},'
                f'"source":{_quote(src)},"target":{_quote(dst)},"kind":{t},'
                f'"key":{_quote(key)},"label":{t}{prov}}},"classes":{t}}}',
            ))
        out[me] = (total, items)
    return out


# -- streaming scans ----------------------------------------------------------------------


def _snapshot(path: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        db.execute("PRAGMA temp_store=MEMORY")
        db.execute("BEGIN")
    except sqlite3.Error as e:
        raise StoreError(f"reading {path} failed: {e}") from None
    return db


def _stream(path: Path, sql: str, params: Sequence[Any]) -> Iterator[list[Any]]:
    """The rows of one statement over one snapshot, a batch at a time."""
    db = _snapshot(path)
    try:
        cursor = db.execute(sql, params)
        while True:
            rows = cursor.fetchmany(_FETCH)
            if not rows:
                return
            yield rows
    except sqlite3.Error as e:
        raise StoreError(f"reading {path} failed: {e}") from None
    finally:
        db.close()


def scan_nodes(path: Path, kind: str | None) -> Iterator[Node]:
    """Every node (of one kind), ordered by id: the id index gives the order."""
    where, params = "", []
    if kind is not None:
        # Ids start with "Kind:", so a kind is a range of the id index (";" follows ":").
        where, params = "WHERE id >= ? AND id < ?", [f"{kind}:", f"{kind};"]
    sql = f"SELECT id, kind, key, props, sources, evidence, origins FROM nodes {where} ORDER BY id"
    for rows in _stream(path, sql, params):
        props = decode_many([r[3] for r in rows])
        for row, p in zip(rows, props, strict=True):
            yield Node(row[0], row[1], row[2], p, _provenance(row[4], row[5], row[6]))


def scan_relationships(path: Path, rel_types: Collection[str] | None) -> Iterator[Relationship]:
    """Every relationship (of some types), ordered by (source id, type, target id, key).

    The CROSS JOINs fix the loop order: source nodes in id order by the id index, then
    their relationships by the (src, ...) index, so SQLite sorts only each source's few
    relationships ("right part of ORDER BY") instead of all of them at once.
    """
    where, params = "", list(rel_types or ())
    if rel_types is not None:
        where = f"WHERE r.type IN ({','.join('?' * len(params))})"
    sql = (
        f"SELECT {_REL_COLUMNS} FROM nodes s CROSS JOIN rels r ON r.src = s.rowid "
        f"CROSS JOIN nodes d ON d.rowid = r.dst {where} ORDER BY s.id, r.type, d.id, r.key"
    )
    for rows in _stream(path, sql, params):
        props = decode_many([r[4] for r in rows])
        for r, p in zip(rows, props, strict=True):
            yield Relationship(r[0], r[1], r[2], r[3], p, _provenance(r[5], r[6], r[7]))
