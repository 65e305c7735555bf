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

import heapq
import json
import json.encoder
import sqlite3
from collections.abc import Collection, Iterator, Sequence
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
    many relationships it has, and the rows ``(anchor, other id, dir, type, key, props,
    sources, evidence, origins)`` of its first ``first`` in ``neighbors`` order.

    ``type_sql`` is an ``AND r.type IN (...)`` condition. Counts come first, from the
    indexes alone. A node with at most ``first`` relationships has them all read in one
    statement with the other such nodes and sorted here; a hub's relationships are ranked
    from the indexes alone (other end, type, key) and only its first ``first`` rows are
    read, so a hub costs its count, not its rows. The other end's id comes from the
    mirror rather than a join with ``nodes`` (a random read per relationship, which cost
    more than the relationship itself). Python compares text by code point, as SQLite
    compares UTF-8, so the order is that of ``neighbors``.
    """
    index = mirror.index
    anchors = list(dict.fromkeys(i for i in node_ids if i in index))
    if not anchors:
        return
    known = mirror.ids
    names = _NodeIds(db, known)
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
            rows = db.execute(*_arms(ends, small, type_sql, type_params, _DETAILS)).fetchall()
            try:  # the mirror's list, read in C; a node newer than the mirror is past its end
                named = [(r[0], known[r[1]], *r[2:]) for r in rows]
            except IndexError:
                named = [(r[0], names[r[1]], *r[2:]) for r in rows]
            for row in named:
                found[row[0]].append(row)
            for listed in found.values():
                listed.sort(key=_ORDER)
        if hubs and first > 0:
            _read_firsts(db, names, ends, hubs, type_sql, type_params, first, found)
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


class _NodeIds(Sequence[str]):
    """Node ids by rowid: the mirror's, and from the file for a node committed after the
    mirror last caught up (a load in another process, between the store's catch-up and
    this read's transaction), which the mirror has yet to hold."""

    def __init__(self, db: sqlite3.Connection, mirror: Sequence[str]) -> None:
        self._db = db
        self._mirror = mirror
        self._known = len(mirror)

    def __len__(self) -> int:
        return self._known

    def __getitem__(self, rowid: Any) -> Any:
        if rowid < self._known:
            return self._mirror[rowid]
        row = self._db.execute("SELECT id FROM nodes WHERE rowid = ?", (rowid,)).fetchone()
        return row[0]


def _read_firsts(
    db: sqlite3.Connection,
    ids: Sequence[str],
    ends: list[str],
    hubs: list[int],
    type_sql: str,
    type_params: Sequence[str],
    first: int,
    found: dict[int, list[tuple[Any, ...]]],
) -> None:
    """Each hub's first ``first`` relationships in ``neighbors`` order, into ``found``:
    ranked on what the indexes and the mirror hold, then only those rows read."""
    ranked: dict[int, list[tuple[Any, ...]]] = {a: [] for a in hubs}
    for anchor, other, way, rel_type, key, rowid in db.execute(
        *_arms(ends, hubs, type_sql, type_params, _RANKING)
    ):
        ranked[anchor].append((ids[other], rel_type, way, key, rowid))
    # In order already (nsmallest sorts); a self-loop read both ways is kept twice.
    kept = [
        (rowid, (anchor, other, way, rel_type, key))
        for anchor, rows in ranked.items()
        for other, rel_type, way, key, rowid in heapq.nsmallest(first, rows)
    ]
    details: dict[int, tuple[Any, ...]] = {}
    wanted = list(dict.fromkeys(rowid for rowid, _ in kept))
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start : start + _CHUNK]
        marks = ",".join("?" * len(part))
        for rowid, *rest in db.execute(
            f"SELECT rowid, props, sources, evidence, origins FROM rels WHERE rowid IN ({marks})",
            part,
        ):
            details[rowid] = tuple(rest)
    for rowid, head in kept:
        found[head[0]].append((*head, *details[rowid]))


_DIRECTIONS = {"out": Direction.OUT, "in": Direction.IN}
#: ``neighbors`` order of a row: other end, type, direction, key.
_ORDER = itemgetter(1, 3, 2, 4)
#: The columns each arm reads: the stored details, or just what ranks a relationship.
_DETAILS = "r.props, r.sources, r.evidence, r.origins"
_RANKING = "r.rowid"


def _arms(
    ends: list[str], anchors: list[int], type_sql: str, type_params: Sequence[str], columns: str
) -> tuple[str, list[Any]]:
    """Rows ``(anchor, other end's rowid, dir, type, key, *columns)`` of the anchors'
    relationships; ``dir`` is 'out' (the anchor is the source) or 'in'."""
    marks = ",".join("?" * len(anchors))
    other = {"src": "r.dst", "dst": "r.src"}
    way = {"src": "'out'", "dst": "'in'"}
    sql = " UNION ALL ".join(
        f"SELECT r.{end}, {other[end]}, {way[end]}, r.type, r.key, {columns} FROM rels r "
        f"WHERE r.{end} IN ({marks}){type_sql}"
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
# record instead (the test is written inline: it runs once per row).

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
            if text[:1] != "{" or "NaN" in text or "Infinity" in text:  # not exact: see above
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
        quoted_me = _quote(me)
        for _, other, way, rel_type, key, props, sources, evidence, origins in rows:
            src, dst = (me, other) if way == "out" else (other, me)
            rel_id = f"{src}-{rel_type}#{key}->{dst}" if key else f"{src}-{rel_type}->{dst}"
            if props[:1] != "{" or "NaN" in props or "Infinity" in props:  # not exact: see above
                rel = Relationship(src, rel_type, dst, key, decode_props(props),
                                   _provenance(sources, evidence, origins))
                items.append((other, rel_id, rel))
                continue
            t = _names.get(rel_type) or _name(rel_type)
            members = "" if props == "{}" else props[1:-1] + ","
            prov = _provenance_texts.get(p := (sources, evidence, origins)) or (
                _provenance_members(p)
            )
            # JSON quoting is per character, so the id's text is its parts' quoted text
            # (a type name needs no escapes).
            quoted_other = _quote(other)
            qsrc, qdst = (
                (quoted_me, quoted_other) if way == "out" else (quoted_other, quoted_me)
            )
            qkey = _quote(key)
            qid = (
                f'{qsrc[:-1]}-{rel_type}#{qkey[1:-1]}->{qdst[1:]}'
                if key
                else f"{qsrc[:-1]}-{rel_type}->{qdst[1:]}"
            )
            items.append((
                other,
                rel_id,
                f'{{"group":"edges","data":{{{members}"id":{qid},'
                f'"source":{qsrc},"target":{qdst},"kind":{t},'
                f'"key":{qkey},"label":{t}{prov}}},"classes":{t}}}',
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
