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

import sqlite3
from collections import Counter
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from graph_service.errors import StoreError
from graph_service.storage.mirror import GraphMirror
from graph_service.storage.props import encode, encode_many
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
from graph_service.storage.sqlite_inserts import CHUNK, Inserter
from graph_service.storage.text import search_text_of, search_texts_of

_CHUNK = 500  # rows per look-up statement (4 host parameters each)
_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)
_fourth, _fifth, _sixth = itemgetter(3), itemgetter(4), itemgetter(5)
_seventh, _eighth = itemgetter(6), itemgetter(7)
_identity = itemgetter(0, 1, 2, 3)

_NODE_HEAD = "INSERT INTO nodes (rowid, id, kind, key, props, sources, evidence, origins, search)"
_REL_HEAD = "INSERT INTO rels (src, type, dst, key, props, sources, evidence, origins)"
#: rows whose SQL rows are built at a time (bounds the memory of the parameters)
_SLICE = 4 * CHUNK
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


def _new_node_columns(rows: list[NodeRow], first: int) -> list[Sequence[Any]]:
    """The SQL columns of new nodes: a node's rowid is its position in the mirror.

    Built column by column (``map`` runs in C): a Python loop over the rows cost as
    much as SQLite's insert of them.
    """
    join = SEP.join
    keys = list(map(_third, rows))
    props = list(map(_fourth, rows))
    return [
        range(first, first + len(rows)),
        list(map(_first, rows)),
        list(map(_second, rows)),
        keys,
        encode_many(props),
        list(map(join, map(_fifth, rows))),
        list(map(_sixth, rows)),
        list(map(join, map(_seventh, rows))),
        search_texts_of(keys, props),
    ]


def _endpoints(mirror: GraphMirror, rows: list[RelRow]) -> tuple[list[int], list[int]]:
    """The source and target rowids of these relationships; a :class:`StoreError`
    names endpoints that do not exist."""
    index = mirror.index
    try:
        return (
            mirror.positions(list(map(_first, rows))),
            mirror.positions(list(map(_third, rows))),
        )
    except KeyError:
        missing = sorted({e for r in rows for e in (r[0], r[2]) if e not in index})
        shown = ", ".join(missing[:10])
        if len(missing) > 10:
            shown += f" and {len(missing) - 10} more"
        raise StoreError(f"relationships name nodes that do not exist: {shown}") from None


def _rel_columns(rows: list[RelRow], src: list[int], dst: list[int]) -> list[Sequence[Any]]:
    """The SQL columns of relationships, their endpoints as node rowids."""
    join = SEP.join
    return [
        src,
        list(map(_second, rows)),
        dst,
        list(map(_fourth, rows)),
        encode_many(list(map(_fifth, rows))),
        list(map(join, map(_sixth, rows))),
        list(map(_seventh, rows)),
        list(map(join, map(_eighth, rows))),
    ]


# -- a bulk load into a (nearly) empty file ---------------------------------------------


class Fill:
    """A bulk load into tables that are empty or small: their unique indexes are dropped
    for the load and built once, sorted, before the commit (SQLite's work per row drops
    by a fifth, and a big load no longer spills index pages out of the cache).

    Nothing depends on the node index meanwhile: the mirror knows every id and its rowid.
    It is built when the first relationships arrive (:meth:`build_node_index`), the
    relationship indexes just before the commit.
    Relationships are kept unique by hashes of the identities written so far; the first
    batch that might repeat one (equal hashes) brings the index back for the rest of the
    load, and from then on conflicts are found by SQLite as usual.

    Into an empty relationship table, relationships often come in the index's order, by
    source (a staff list gives one ``WORKS_AT`` per person row, and persons are written
    first): the identity index is then built on the first batch and kept as they come,
    each entry landing at its right-hand end, which costs less than building it before
    the commit (the commit waits for that). The first batch out of that order drops it,
    to be built before the commit after all (:meth:`follow_order`).

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
        rels = _rows(db, "rels")
        #: relationships have come by source so far (see :meth:`follow_order`)
        self.in_order = rels == 0 and "rels_by_identity" in named
        self.last_source = -1
        if "rels_by_identity" in named and rels <= _FILL_LIMIT:
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

    def build_node_index(self) -> None:
        """Build the node index when relationships start: it is needed at the end
        anyway, and by then the nodes are usually all in (later ones go into the index
        as they come)."""
        if self.node_index_off:
            self.db.execute(NODE_INDEX)
            self.node_index_off = False

    def follow_order(self, src: list[int]) -> None:
        """Before a batch of new relationships (their source rowids) is inserted: keep
        the identity index as they come while sources never go down (built on the first
        batch, on an empty table), else drop it for the rest of the load."""
        if not self.in_order or self.seen is None or not src:
            return
        if src[0] < self.last_source or src != sorted(src):
            self.in_order = False
            if self.last_source >= 0:  # the index was built: the commit builds it again
                self.db.execute("DROP INDEX rels_by_identity")
            return
        if self.last_source < 0:
            self.db.execute(REL_INDEX)
        self.last_source = src[-1]

    def restore_rel_index(self) -> None:
        self.in_order = False
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
    db: sqlite3.Connection, mirror: GraphMirror, rows: Sequence[NodeRow]
) -> dict[str, Node]:
    """The stored nodes these rows repeat, by id, except those stored exactly as the row
    would write them (their merge changes nothing: a re-load decodes and merges only
    what it changes). Found through their rowids (their mirror positions): this needs
    no index on ids, which a bulk load may have dropped."""
    index = mirror.index
    join = SEP.join
    wanted = list(
        zip(
            map(index.__getitem__, map(_first, rows)),
            encode_many(list(map(_fourth, rows))),
            map(join, map(_fifth, rows)),
            map(_sixth, rows),
            map(join, map(_seventh, rows)),
            strict=True,
        )
    )
    found: dict[str, Node] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        values = ",".join(["(?, ?, ?, ?, ?)"] * len(chunk))
        for row in db.execute(
            f"WITH wanted (rowid, props, sources, evidence, origins) AS (VALUES {values}) "
            "SELECT n.id, n.kind, n.key, n.props, n.sources, n.evidence, n.origins "
            "FROM wanted w CROSS JOIN nodes n ON n.rowid = w.rowid "
            f"WHERE NOT ({_SAME})",
            [part for values_ in chunk for part in values_],
        ):
            found[row[0]] = node_from_row(row)
    return found


#: a stored row (``n``) holds what its wanted row (``w``) would write
_SAME = (
    "n.props = w.props AND n.sources = w.sources AND n.evidence IS w.evidence "
    "AND n.origins = w.origins"
)


# -- one batch: repeats merged ------------------------------------------------------------


def dedupe_nodes(rows: list[NodeRow]) -> dict[str, NodeRow]:
    """One row per id, repeats within the batch merged, in first-seen order."""
    merged = dict(zip(map(_first, rows), rows, strict=True))
    if len(merged) != len(rows):
        records: dict[str, Node] = {}
        for r in rows:
            previous = records.get(r[0])
            records[r[0]] = node_of(r) if previous is None else previous.merged(node_of(r))
        merged = {i: node_row(n) for i, n in records.items()}
    return merged


def dedupe_relationships(rows: list[RelRow]) -> dict[tuple[str, str, str, str], RelRow]:
    merged = dict(zip(map(_identity, rows), rows, strict=True))
    if len(merged) != len(rows):
        records: dict[tuple[str, str, str, str], Relationship] = {}
        for r in rows:
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
    rows: list[NodeRow],
    summary: WriteSummary,
    inserter: Inserter,
) -> None:
    """Insert the new nodes (and add them to the mirror), merge the stored ones.

    The mirror knows every stored id, so a fresh load asks SQLite nothing; and a batch
    of ids that are all new and all different (the common case) is inserted as it is,
    with no per-row work in Python beyond building its SQL rows.
    """
    if not rows:
        return
    index = mirror.index
    node_ids = list(map(_first, rows))
    batch: dict[str, NodeRow] = {}
    repeats: list[NodeRow] = []  # of stored nodes
    existing: dict[str, Node] = {}  # the stored nodes that the repeats may change
    first = len(mirror.ids)
    kinds = list(map(_second, rows))
    if mirror.claim(node_ids, kinds):
        created = rows
    else:
        batch = dedupe_nodes(rows)
        repeats = [r for r in batch.values() if r[0] in index]
        if repeats:
            existing = fetch_nodes(db, mirror, repeats)
        created = [r for r in batch.values() if r[0] not in index]
        kinds = list(map(_second, created))
        mirror.extend_nodes(list(map(_first, created)), kinds)
    for start in range(0, len(created), _SLICE):
        part = created[start : start + _SLICE]
        inserter.insert(_NODE_HEAD, _new_node_columns(part, first + start))
    outcomes: Counter[tuple[str, str]] = Counter(
        {("created", k): n for k, n in Counter(kinds).items()}
    )
    if repeats:  # those stored exactly as written are unchanged
        unchanged = Counter(map(_second, repeats))
        unchanged.subtract(Counter(n.kind for n in existing.values()))
        outcomes.update({("unchanged", k): n for k, n in unchanged.items() if n})
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
    rows: list[RelRow],
    summary: WriteSummary,
    inserter: Inserter,
    fill: Fill | None = None,
) -> None:
    """Insert what is new and merge what exists, telling them apart by the unique
    index: a fresh load (the common case) pays for no look-ups at all.

    In a bulk fill (the index is off) a batch whose identities are all different and
    none stored yet (by their hashes) is inserted as it is, with no dedupe or merge.
    """
    if not rows:
        return
    index = mirror.index  # already holds this batch's nodes
    if fill is not None:
        fill.build_node_index()
    if fill is not None and fill.seen is not None:
        hashes = set(map(hash, map(_identity, rows)))  # of (source id, type, target id, key)
        # Added first, checked after (the set grew by one per row): a batch that
        # repeats one discards the set anyway, and a hash left by a batch that failed
        # can only send a later batch to the slower path. Saves a probe of a set of up
        # to millions of hashes per row.
        seen = fill.seen
        count = len(seen)
        seen |= hashes
        if len(hashes) == len(rows) and len(seen) - count == len(rows):
            src, dst = _insert_new_relationships(inserter, mirror, rows, fill)
            types = list(map(_second, rows))
            mirror.extend_edges(src, dst, types)
            count_outcomes(summary, Counter({("created", t): n for t, n in Counter(types).items()}))
            return
        fill.restore_rel_index()
    batch = dedupe_relationships(rows)
    unique = list(batch.values())
    all_rows = list(zip(*_rel_columns(unique, *_endpoints(mirror, unique)), strict=True))
    new_rows, existing = _insert_relationships(db, mirror, all_rows)
    mirror.extend_edges(
        list(map(_first, new_rows)), list(map(_third, new_rows)), list(map(_second, new_rows))
    )
    created = Counter(map(_second, new_rows))
    outcomes: Counter[tuple[str, str]] = Counter({("created", t): n for t, n in created.items()})
    if len(new_rows) != len(all_rows):  # the repeats stored exactly as written are unchanged
        unchanged = Counter(map(_second, all_rows))
        unchanged.subtract(created)
        unchanged.subtract(Counter(map(_second, existing)))
        outcomes.update({("unchanged", t): n for t, n in unchanged.items() if n})
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


def _insert_new_relationships(
    inserter: Inserter, mirror: GraphMirror, rows: list[RelRow], fill: Fill
) -> tuple[list[int], list[int]]:
    """Insert relationships known to be new, a slice at a time; their source and
    target rowids. Every endpoint is looked up before anything is inserted, so a batch
    that names a node that does not exist writes none of its relationships."""
    src, dst = _endpoints(mirror, rows)
    fill.follow_order(src)
    for start in range(0, len(rows), _SLICE):
        end = start + _SLICE
        inserter.insert(_REL_HEAD, _rel_columns(rows[start:end], src[start:end], dst[start:end]))
    return src, dst


def _insert_relationships(
    db: sqlite3.Connection, mirror: GraphMirror, rows: list[tuple[Any, ...]]
) -> tuple[list[tuple[Any, ...]], dict[tuple[str, str, str, str], Relationship]]:
    """Insert the rows new to the store; the SQL rows inserted, and the stored
    relationships the others repeat (to merge), but for those stored exactly as the
    row would write them (unchanged)."""
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
        existing = _stored_relationships(db, mirror, [r for r in rows if r[:4] not in inserted])
    return new_rows, existing


def _stored_relationships(
    db: sqlite3.Connection, mirror: GraphMirror, repeats: list[tuple[Any, ...]]
) -> dict[tuple[str, str, str, str], Relationship]:
    """The stored relationships these SQL rows repeat, by their (source id, type,
    target id, key), except those stored exactly as the row would write them (their
    merge changes nothing): a few hundred per statement, each found through the unique
    index (a re-load looks up every relationship it repeats, and decodes and merges
    only what it changes)."""
    ids = mirror.ids
    found: dict[tuple[str, str, str, str], Relationship] = {}
    for start in range(0, len(repeats), _CHUNK):
        chunk = repeats[start : start + _CHUNK]
        values = ",".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
        params = [part for row in chunk for part in row]
        for src, rel_type, dst, key, props, sources, evidence, origins in db.execute(
            f"WITH wanted ({REL_COLUMNS}) AS (VALUES {values}) "
            "SELECT n.src, n.type, n.dst, n.key, n.props, n.sources, n.evidence, n.origins "
            "FROM wanted w CROSS JOIN rels n ON n.src = w.src AND n.type = w.type "
            f"AND n.dst = w.dst AND n.key = w.key WHERE NOT ({_SAME})",
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
