"""Bulk reads of the embedded store: the relationships around many nodes in one query
(``subgraph``), and streaming scans of every node and relationship (exports).

They live apart from :mod:`.sqlite`, which pages and writes, because their cost is per
row over tens of thousands to millions of rows: one statement instead of one (or two) per
node or page, and rows decoded with :func:`.props.decode_props`.

A scan opens its own read-only connection and reads one snapshot (WAL keeps it stable),
so a long export neither holds the store's lock nor sees half of a later load.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

from graph_service.errors import StoreError
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

_REL_COLUMNS = "s.id, r.type, d.id, r.key, r.props, r.sources, r.evidence, r.origins"


def neighborhoods(
    db: sqlite3.Connection,
    index: Mapping[str, int],
    node_ids: Sequence[str],
    type_sql: str,
    type_params: Sequence[str],
    direction: Direction,
    first: int,
) -> dict[str, Adjacency]:
    """See :meth:`graph_service.storage.protocol.Store.neighborhoods`.

    ``index`` maps node ids to rowids; ``type_sql`` is an ``AND r.type IN (...)`` condition.
    Counts come first, from the indexes alone. A node with at most ``first``
    relationships has them all read in one statement with the other such nodes and
    sorted here; a hub has only its first ``first`` read, ranked by SQLite, so a hub
    costs its count, not its rows. SQLite compares text by code point, as ``neighbors``.
    """
    anchors = list(dict.fromkeys(i for i in node_ids if i in index))
    out = {node_id: Adjacency(0, []) for node_id in anchors}
    if not anchors:
        return out
    ids = {index[i]: i for i in anchors}
    ends = [
        end
        for end, way in (("src", Direction.OUT), ("dst", Direction.IN))
        if direction in (way, Direction.BOTH)
    ]
    for start in range(0, len(anchors), _CHUNK):
        chunk = [index[i] for i in anchors[start : start + _CHUNK]]
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
            for row in db.execute(*_arms(ends, small, type_sql, type_params)):
                found[row[0]].append(row)
            for rows in found.values():
                rows.sort(key=_ORDER)
        if hubs and first > 0:
            arms, params = _arms(ends, hubs, type_sql, type_params)
            for row in db.execute(
                f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY anchor "
                f"ORDER BY other, type, dir, key) AS n FROM ({arms})) WHERE n <= ? "
                "ORDER BY anchor, n",
                [*params, first],
            ):
                found[row[0]].append(row[:-1])
        props = iter(decode_many([r[7] for rows in found.values() for r in rows]))
        for anchor, rows in found.items():
            me = ids[anchor]
            out[me] = Adjacency(
                totals[anchor],
                [
                    Adjacent(
                        Relationship(r[3] or me, r[4], r[5] or me, r[6], next(props),
                                     _provenance(r[8], r[9], r[10])),
                        r[1],
                        _DIRECTIONS[r[2]],
                    )
                    for r in rows
                ],
            )
    return out


_DIRECTIONS = {"out": Direction.OUT, "in": Direction.IN}
#: ``neighbors`` order of an arms row: other end, type, direction, key.
_ORDER = itemgetter(1, 4, 2, 6)


def _arms(
    ends: list[str], anchors: list[int], type_sql: str, type_params: Sequence[str]
) -> tuple[str, list[Any]]:
    """Rows ``(anchor, other, dir, ...relationship columns)`` of the anchors' relationships."""
    marks = ",".join("?" * len(anchors))
    # The anchor's own end is left NULL (the caller knows its id): one join, not two.
    arm = {
        "src": "d.id AS other, 'out' AS dir, NULL AS src, r.type AS type, d.id AS dst",
        "dst": "s.id AS other, 'in' AS dir, s.id AS src, r.type AS type, NULL AS dst",
    }
    join = {"src": "JOIN nodes d ON d.rowid = r.dst", "dst": "JOIN nodes s ON s.rowid = r.src"}
    sql = " UNION ALL ".join(
        f"SELECT r.{end} AS anchor, {arm[end]}, r.key AS key, r.props AS props, "
        "r.sources AS sources, r.evidence AS evidence, r.origins AS origins FROM rels r "
        f"{join[end]} WHERE r.{end} IN ({marks}){type_sql}"
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
