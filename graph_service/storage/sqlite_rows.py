"""The embedded store's write path: plain rows in, SQL rows out.

Writes go through rows (tuples, see :data:`NodeRow` and :data:`RelRow`) rather than
:class:`Node` / :class:`Relationship` records, because a bulk load hands the store
millions of facts and a record per fact costs as much Python time as SQLite spends
storing it. ``SqliteStore.upsert`` turns its records into rows (a few attribute reads);
a loader can hand rows over directly (``SqliteStore.upsert_rows``).

Records are built only where their semantics are needed: to merge a fact into one
already stored, or a repeat within one batch (:meth:`Node.merged`, :meth:`Relationship.merged`).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import count
from operator import itemgetter
from typing import Any

from graph_service.errors import StoreError
from graph_service.storage.mirror import GraphMirror
from graph_service.storage.records import (
    Node,
    NodeRow,
    Relationship,
    RelRow,
    WriteSummary,
    node_of,
    node_row,
    rel_of,
    rel_row,
)
from graph_service.storage.sqlite_decode import SEP, node_from_row, rel_from_row
from graph_service.storage.text import search_text_of

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
_c_encoder = getattr(json.encoder, "c_make_encoder", None)
if _c_encoder is not None:
    # Call the C encoder directly: JSONEncoder.encode's Python wrapper costs as much as
    # the encoding of a small property map.
    _iterencode = _c_encoder(
        None, _encoder.default, json.encoder.encode_basestring, None, ":", ",", True, False, True
    )

    def encode(value: object) -> str:
        return "".join(_iterencode(value, 0))
else:  # pragma: no cover - CPython always has the C encoder

    def encode(value: object) -> str:
        return _encoder.encode(value)


_CHUNK = 500  # rows per look-up statement (4 host parameters each)
_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)

INSERT_NODE = (
    "INSERT INTO nodes (rowid, id, kind, key, props, sources, evidence, origins, search) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_NODE = (
    "UPDATE nodes SET props = ?, sources = ?, evidence = ?, origins = ?, search = ? WHERE rowid = ?"
)
_INSERT_REL = (
    "INSERT INTO rels (src, type, dst, key, props, sources, evidence, origins) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_REL = _INSERT_REL + " ON CONFLICT (src, type, dst, key) DO NOTHING"
NODE_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS nodes_by_id ON nodes (id)"
REL_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS rels_by_identity ON rels (src, type, dst, key)"
_FILL_LIMIT = 100_000  # rows a table may hold for a bulk load to rebuild its unique index
UPDATE_REL = (
    "UPDATE rels SET props = ?, sources = ?, evidence = ?, origins = ? "
    "WHERE src = ? AND type = ? AND dst = ? AND key = ?"
)
REL_COLUMNS = "src, type, dst, key, props, sources, evidence, origins"


# -- records <-> rows ---------------------------------------------------------------------


def node_values(row: NodeRow) -> tuple[str, str, str | None, str, str]:
    """The stored columns props, sources, evidence, origins, search of a node row."""
    props = row[3]
    return (
        encode(props) if props else "{}",
        SEP.join(row[4]),
        row[5],
        SEP.join(row[6]),
        search_text_of(row[2], props),
    )


def rel_values(row: RelRow) -> tuple[str, str, str | None, str]:
    props = row[4]
    return (encode(props) if props else "{}", SEP.join(row[5]), row[6], SEP.join(row[7]))


def _new_node_rows(rows: list[NodeRow], first: int) -> Iterator[tuple[Any, ...]]:
    """SQL rows of new nodes: a node's rowid is its position in the mirror."""
    join = SEP.join
    for rowid, (node_id, kind, key, props, sources, evidence, origins) in zip(count(first), rows):
        yield (
            rowid,
            node_id,
            kind,
            key,
            encode(props) if props else "{}",
            join(sources),
            evidence,
            join(origins),
            search_text_of(key, props),
        )


# -- a bulk load into a (nearly) empty file ---------------------------------------------


class Fill:
    """A bulk load into tables that are empty or small: their unique indexes are dropped
    for the load and built once, sorted, before the commit (SQLite's work per row drops
    by a fifth, and a big load no longer spills index pages out of the cache).

    Nothing depends on the node index meanwhile: the mirror knows every id and its rowid.
    Relationships are kept unique by hashes of the identities written so far; the first
    batch that might repeat one (equal hashes) brings the index back for the rest of the
    load, and from then on conflicts are found by SQLite as usual.

    Files written before these indexes had names keep their built-in unique constraints,
    which cannot be dropped: a bulk load into them simply keeps them.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        named = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        self.node_index_off = "nodes_by_id" in named and _rows(db, "nodes") <= _FILL_LIMIT
        if self.node_index_off:
            db.execute("DROP INDEX nodes_by_id")
        #: hashes of the relationship identities stored, while their index is off
        self.seen: set[int] | None = None
        if "rels_by_identity" in named and _rows(db, "rels") <= _FILL_LIMIT:
            self.seen = set(
                map(
                    hash,
                    db.execute(
                        "SELECT s.id, r.type, d.id, r.key FROM rels r "
                        "JOIN nodes s ON s.rowid = r.src JOIN nodes d ON d.rowid = r.dst"
                    ),
                )
            )
            db.execute("DROP INDEX rels_by_identity")

    def restore_rel_index(self) -> None:
        if self.seen is not None:
            self.db.execute(REL_INDEX)
            self.seen = None

    def finish(self) -> None:
        """Build the dropped indexes (before the commit: a duplicate fails the load)."""
        if self.node_index_off:
            self.db.execute(NODE_INDEX)
            self.node_index_off = False
        self.restore_rel_index()


def _rows(db: sqlite3.Connection, table: str) -> int:
    return int(db.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()[0])


def fetch_nodes(
    db: sqlite3.Connection, mirror: GraphMirror, node_ids: Sequence[str]
) -> dict[str, Node]:
    """Stored nodes by id, found through their rowids (their mirror positions): this
    needs no index on ids, which a bulk load may have dropped."""
    index = mirror.index
    rowids = [index[i] for i in node_ids]
    found: dict[str, Node] = {}
    for start in range(0, len(rowids), _CHUNK):
        chunk = rowids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(
            "SELECT id, kind, key, props, sources, evidence, origins FROM nodes "
            f"WHERE rowid IN ({marks})",
            chunk,
        ):
            found[row[0]] = node_from_row(row)
    return found


# -- one batch: repeats merged ------------------------------------------------------------


def dedupe_nodes(rows: Iterable[NodeRow]) -> dict[str, NodeRow]:
    """One row per id, repeats within the batch merged, in first-seen order."""
    items = rows if isinstance(rows, list | tuple) else list(rows)
    merged = {r[0]: r for r in items}
    if len(merged) != len(items):
        records: dict[str, Node] = {}
        for r in items:
            previous = records.get(r[0])
            records[r[0]] = node_of(r) if previous is None else previous.merged(node_of(r))
        merged = {i: node_row(n) for i, n in records.items()}
    return merged


def dedupe_relationships(rows: Iterable[RelRow]) -> dict[tuple[str, str, str, str], RelRow]:
    items = rows if isinstance(rows, list | tuple) else list(rows)
    merged = {r[:4]: r for r in items}
    if len(merged) != len(items):
        records: dict[tuple[str, str, str, str], Relationship] = {}
        for r in items:
            identity = r[:4]
            previous = records.get(identity)
            rel = rel_of(r)
            records[identity] = rel if previous is None else previous.merged(rel)
        merged = {i: rel_row(r) for i, r in records.items()}
    return merged


# -- writing ------------------------------------------------------------------------------


def write_nodes(
    db: sqlite3.Connection,
    mirror: GraphMirror,
    batch: dict[str, NodeRow],
    summary: WriteSummary,
) -> None:
    """Insert the new nodes (and add them to the mirror), merge the stored ones.

    The mirror knows every stored id, so a fresh load asks SQLite nothing.
    """
    index = mirror.index
    existing_ids = [node_id for node_id in batch if node_id in index]
    existing = fetch_nodes(db, mirror, existing_ids) if existing_ids else {}
    created = (
        [r for r in batch.values() if r[0] not in existing] if existing else list(batch.values())
    )
    db.executemany(INSERT_NODE, _new_node_rows(created, len(mirror.ids)))
    kinds = list(map(_second, created))
    mirror.extend_nodes(list(map(_first, created)), kinds)
    outcomes: Counter[tuple[str, str]] = Counter(
        {("created", k): n for k, n in Counter(kinds).items()}
    )
    updates: list[tuple[Any, ...]] = []
    for node_id, old in existing.items():
        new = old.merged(node_of(batch[node_id]))
        if new == old:
            outcomes["unchanged", new.kind] += 1
        else:
            outcomes["updated", new.kind] += 1
            updates.append((*node_values(node_row(new)), index[node_id]))
    if updates:
        db.executemany(UPDATE_NODE, updates)
    count_outcomes(summary, outcomes)


def write_relationships(
    db: sqlite3.Connection,
    mirror: GraphMirror,
    batch: dict[tuple[str, str, str, str], RelRow],
    summary: WriteSummary,
    fill: Fill | None = None,
) -> None:
    """Insert what is new and merge what exists, telling them apart by the unique
    index: a fresh load (the common case) pays for no look-ups at all."""
    if not batch:
        return
    index = mirror.index  # already holds this batch's nodes
    join = SEP.join
    try:
        rows = [
            (
                index[source],
                rel_type,
                index[target],
                key,
                encode(props) if props else "{}",
                join(sources),
                evidence,
                join(origins),
            )
            for source, rel_type, target, key, props, sources, evidence, origins in batch.values()
        ]
    except KeyError:
        missing = sorted({e for i in batch for e in (i[0], i[2]) if e not in index})
        shown = ", ".join(missing[:10])
        if len(missing) > 10:
            shown += f" and {len(missing) - 10} more"
        raise StoreError(f"relationships name nodes that do not exist: {shown}") from None
    existing: dict[tuple[str, str, str, str], Relationship] = {}
    if fill is not None and fill.seen is not None:
        hashes = set(map(hash, batch))  # of (source id, type, target id, key)
        if len(hashes) == len(rows) and fill.seen.isdisjoint(hashes):
            db.executemany(_INSERT_REL, rows)  # all new: no index to consult
            fill.seen |= hashes
        else:
            fill.restore_rel_index()
    if fill is None or fill.seen is None:
        new_rows, existing = _insert_relationships(db, mirror, rows)
    else:
        new_rows = rows
    mirror.extend_edges(
        list(map(_first, new_rows)), list(map(_third, new_rows)), list(map(_second, new_rows))
    )
    outcomes: Counter[tuple[str, str]] = Counter(
        {("created", t): n for t, n in Counter(map(_second, new_rows)).items()}
    )
    updates: list[tuple[Any, ...]] = []
    for identity, old in existing.items():
        merged = old.merged(rel_of(batch[identity]))
        if merged == old:
            outcomes["unchanged", identity[1]] += 1
        else:
            outcomes["updated", identity[1]] += 1
            row_identity = (index[identity[0]], identity[1], index[identity[2]], identity[3])
            updates.append((*rel_values(rel_row(merged)), *row_identity))
    if updates:
        db.executemany(UPDATE_REL, updates)
    count_outcomes(summary, outcomes)


def _insert_relationships(
    db: sqlite3.Connection, mirror: GraphMirror, rows: list[tuple[Any, ...]]
) -> tuple[list[tuple[Any, ...]], dict[tuple[str, str, str, str], Relationship]]:
    """Insert the rows new to the store; the SQL rows inserted, and the stored
    relationships the others repeat (to merge)."""
    last_rowid = _rows(db, "rels")
    changes = db.total_changes
    db.executemany(INSERT_REL, rows)
    existing: dict[tuple[str, str, str, str], Relationship] = {}
    if db.total_changes - changes == len(rows):
        new_rows = rows
    else:
        inserted = set(
            db.execute("SELECT src, type, dst, key FROM rels WHERE rowid > ?", (last_rowid,))
        )
        new_rows = [r for r in rows if r[:4] in inserted]
        existing = _stored_relationships(db, mirror, [r[:4] for r in rows if r[:4] not in inserted])
    return new_rows, existing


def _stored_relationships(
    db: sqlite3.Connection, mirror: GraphMirror, row_identities: list[tuple[Any, ...]]
) -> dict[tuple[str, str, str, str], Relationship]:
    """The stored relationships with these (src rowid, type, dst rowid, key) identities,
    by their (source id, type, target id, key): a few hundred per statement, each found
    through the unique index (a re-load looks up every relationship it repeats)."""
    ids = mirror.ids
    found: dict[tuple[str, str, str, str], Relationship] = {}
    for start in range(0, len(row_identities), _CHUNK):
        chunk = row_identities[start : start + _CHUNK]
        values = ",".join(["(?, ?, ?, ?)"] * len(chunk))
        params = [part for identity in chunk for part in identity]
        for src, rel_type, dst, key, props, sources, evidence, origins in db.execute(
            f"WITH wanted (src, type, dst, key) AS (VALUES {values}) "
            f"SELECT r.src, r.type, r.dst, r.key, r.props, r.sources, r.evidence, r.origins "
            "FROM wanted w CROSS JOIN rels r ON r.src = w.src AND r.type = w.type "
            "AND r.dst = w.dst AND r.key = w.key",
            params,
        ):
            source, target = ids[src], ids[dst]
            found[source, rel_type, target, key] = rel_from_row(
                (source, rel_type, target, key, props, sources, evidence, origins)
            )
    return found


def count_outcomes(summary: WriteSummary, outcomes: Counter[tuple[str, str]]) -> None:
    for (outcome, name), n in sorted(outcomes.items()):
        summary.count(outcome, name, n)
