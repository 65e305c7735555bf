"""Bulk reads of the embedded store: the relationships around many nodes in one query
(``subgraph``, chains; :mod:`.sqlite_elements` writes the same as Cytoscape.js element
text), and streaming scans of every node and relationship (exports).

They live apart from :mod:`.sqlite`, which pages and writes, because their cost is per
row over tens of thousands to millions of rows: one statement instead of one (or two) per
node or page, and rows decoded with :func:`.props.decode_props`.

A scan opens its own read-only connection and reads one snapshot (WAL keeps it stable),
so a long export neither holds the store's lock nor sees half of a later load.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from graph_service.errors import StoreError
from graph_service.storage.mirror import GraphMirror
from graph_service.storage.props import decode_many
from graph_service.storage.records import (
    Adjacency,
    Adjacent,
    Direction,
    Node,
    Relationship,
)
from graph_service.storage.sqlite_decode import provenance as _provenance

_CHUNK = 500  # anchors per statement (two IN lists of host parameters)
_FETCH = 5000  # rows per fetchmany of a scan

# -- relationships around many nodes ------------------------------------------------------

T = TypeVar("T")
#: What :func:`adjacent_rows` makes of a statement's rows, given node ids by rowid: each
#: anchor's items (by the anchor's rowid), in ``neighbors`` order.
Shape = Callable[[list[tuple[Any, ...]], Sequence[str]], dict[int, list[T]]]
_REL_COLUMNS = "s.id, r.type, d.id, r.key, r.props, r.sources, r.evidence, r.origins"


def adjacent_rows(
    db: sqlite3.Connection,
    mirror: GraphMirror,
    node_ids: Sequence[str],
    type_sql: str,
    type_params: Sequence[str],
    direction: Direction,
    first: int,
    details: str,
    shape: Shape[T],
) -> Iterator[tuple[str, int, list[T]]]:
    """For each existing node among ``node_ids``, once, in the order asked: its id, how
    many relationships it has, and what ``shape`` makes of the rows ``(anchor, other
    end's rowid, *details)`` of its first ``first`` relationships.

    ``type_sql`` is an ``AND r.type IN (...)`` condition; ``details`` the columns of
    ``rels`` each row carries after the two ends, where ``{way}`` stands for the
    direction seen from the anchor ('out' when it is the source, else 'in'): a caller
    can ask for it as a column of its own or inside an expression (one value a row
    fewer for the sqlite3 module to convert). Counts come first, from the indexes
    alone. A node with at most ``first`` relationships has them all read in one
    statement with the other such nodes; a hub's relationships are ranked from the
    indexes alone (other end, type, key) and only its first ``first`` rows are read, so
    a hub costs its count, not its rows. ``shape`` puts each anchor's rows in
    ``neighbors`` order (see :func:`_named_rows`); the other end's id comes from the
    mirror rather than a join with ``nodes`` (a random read per relationship, which
    cost more than the relationship itself).
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
        totals = _counts(db, ends, chunk, type_sql, type_params)
        small = [a for a, n in totals.items() if 0 < n <= first]
        hubs = [a for a, n in totals.items() if n > first]
        rows: list[tuple[Any, ...]] = []
        if small:
            rows = db.execute(*_arms(ends, small, type_sql, type_params, details)).fetchall()
        if hubs and first > 0:
            rows += _read_firsts(db, names, ends, hubs, type_sql, type_params, first, details)
        try:  # the mirror's list, read in C; a node newer than the mirror is past its end
            found = shape(rows, known)
        except IndexError:
            found = shape(rows, names)
        for node_id, rowid in zip(ids, chunk, strict=True):
            yield node_id, totals.get(rowid, 0), found.get(rowid, [])


def _counts(
    db: sqlite3.Connection,
    ends: list[str],
    anchors: list[int],
    type_sql: str,
    type_params: Sequence[str],
) -> dict[int, int]:
    """How many relationships each anchor has (those with none are left out): one
    grouped count per end, which SQLite takes from the index in anchor order (a UNION
    of both ends grouped once had to sort every row in a temporary tree first)."""
    marks = ",".join("?" * len(anchors))
    totals: dict[int, int] = {}
    for end in ends:
        for anchor, n in db.execute(
            f"SELECT r.{end}, count(*) FROM rels r WHERE r.{end} IN ({marks}){type_sql} "
            f"GROUP BY r.{end}",
            [*anchors, *type_params],
        ):
            totals[anchor] = totals.get(anchor, 0) + n
    return totals


def _named_rows(
    rows: list[tuple[Any, ...]], ids: Sequence[str]
) -> dict[int, list[tuple[Any, ...]]]:
    """Rows ``(anchor, other end's id, dir, type, key, *details)`` (:data:`_DETAILS`), sorted into
    ``neighbors`` order (other end, type, direction, key). Python compares text by code
    point, as SQLite compares UTF-8, so the order is that of ``neighbors``."""
    found: dict[int, list[tuple[Any, ...]]] = {}
    for row in [(r[0], ids[r[1]], *r[2:]) for r in rows]:
        listed = found.get(row[0])
        if listed is None:
            found[row[0]] = [row]
        else:
            listed.append(row)
    for listed in found.values():
        listed.sort(key=_ORDER)
    return found


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
    :func:`adjacent_rows` takes them."""
    around = list(
        adjacent_rows(
            db, mirror, node_ids, type_sql, type_params, direction, first, _DETAILS, _named_rows
        )
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
    details: str,
) -> list[tuple[Any, ...]]:
    """Each hub's first ``first`` relationships in ``neighbors`` order, as rows
    ``(anchor, other end's rowid, *details)``: ranked on what the indexes and the mirror
    hold, then only those rows' details read (once per direction, which ``details`` may
    name)."""
    ranked: dict[int, list[tuple[Any, ...]]] = {a: [] for a in hubs}
    for anchor, other, way, rel_type, key, rowid in db.execute(
        *_arms(ends, hubs, type_sql, type_params, _RANKING)
    ):
        ranked[anchor].append((ids[other], rel_type, way, key, rowid, other))
    # In order already (nsmallest sorts); a self-loop read both ways is kept twice.
    kept = [
        (way, rowid, anchor, other)
        for anchor, rows in ranked.items()
        for _, _, way, _, rowid, other in heapq.nsmallest(first, rows)
    ]
    found: dict[tuple[str, int], tuple[Any, ...]] = {}
    for way in ("out", "in"):
        wanted = list(dict.fromkeys(rowid for w, rowid, _, _ in kept if w == way))
        columns = details.format(way=f"'{way}'")
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(part))
            for rowid, *rest in db.execute(
                f"SELECT r.rowid, {columns} FROM rels r WHERE r.rowid IN ({marks})", part
            ):
                found[way, rowid] = tuple(rest)
    return [(anchor, other, *found[way, rowid]) for way, rowid, anchor, other in kept]


_DIRECTIONS = {"out": Direction.OUT, "in": Direction.IN}
#: ``neighbors`` order of a row: other end, type, direction, key.
_ORDER = itemgetter(1, 3, 2, 4)
#: The columns each arm reads: the stored details, or just what ranks a relationship.
_DETAILS = "{way}, r.type, r.key, r.props, r.sources, r.evidence, r.origins"
_RANKING = "{way}, r.type, r.key, r.rowid"


def _arms(
    ends: list[str], anchors: list[int], type_sql: str, type_params: Sequence[str], columns: str
) -> tuple[str, list[Any]]:
    """Rows ``(anchor, other end's rowid, *columns)`` of the anchors' relationships, where
    ``{way}`` in ``columns`` is 'out' (the anchor is the source) or 'in'."""
    marks = ",".join("?" * len(anchors))
    other = {"src": "r.dst", "dst": "r.src"}
    way = {"src": "'out'", "dst": "'in'"}
    sql = " UNION ALL ".join(
        f"SELECT r.{end}, {other[end]}, {columns.format(way=way[end])} FROM rels r "
        f"WHERE r.{end} IN ({marks}){type_sql}"
        for end in ends
    )
    return sql, [*anchors, *type_params] * len(ends)


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
