"""The embedded store: a SQLite file is the system of record, the structure is mirrored
in memory for traversal and analytics.

* WAL journal, ``synchronous=NORMAL``: a committed write survives ``kill -9`` of any process.
* One transaction per :meth:`SqliteStore.upsert` call: a batch is written whole or not at all.
* Rows are never rewritten under a new rowid and only :meth:`clear` deletes, so the
  mirror catches up with another process's commits by reading rows past the last rowid
  it saw; ``clear`` bumps an epoch that makes every reader reload from scratch.
"""

from __future__ import annotations

import gc
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from graph_service.errors import InvalidArgument, StoreError, StoreUnavailable
from graph_service.storage import cursors, sqlite_elements, sqlite_scan
from graph_service.storage.mirror import GraphMirror
from graph_service.storage.records import (
    Adjacency,
    AdjacencyElements,
    Direction,
    EdgeList,
    Neighbor,
    Node,
    NodeRow,
    Page,
    Relationship,
    RelRow,
    Stats,
    WriteSummary,
    node_row,
    rel_row,
)
from graph_service.storage.sqlite_decode import node_from_row, rel_from_row
from graph_service.storage.sqlite_inserts import Inserter
from graph_service.storage.sqlite_rows import (
    NODE_INDEX,
    REL_INDEX,
    Fill,
    write_nodes,
    write_relationships,
)
from graph_service.storage.text import normalize
from schema import NODE_KIND_BY_NAME, Value, node_kind, relationship_type

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('version', 0), ('epoch', 0), ('format', 2);
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT NOT NULL,  -- unique: nodes_by_id (or, in older files, a constraint here)
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    props TEXT NOT NULL,
    sources TEXT NOT NULL,
    evidence TEXT,
    origins TEXT NOT NULL,
    search TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rels (
    src INTEGER NOT NULL,  -- rowid of the source node
    type TEXT NOT NULL,
    dst INTEGER NOT NULL,  -- rowid of the target node
    key TEXT NOT NULL,
    props TEXT NOT NULL,
    sources TEXT NOT NULL,
    evidence TEXT,
    origins TEXT NOT NULL  -- unique (src, type, dst, key): rels_by_identity (or a constraint)
);
CREATE TEMP VIEW IF NOT EXISTS rels_by_id AS
    SELECT s.id AS src, r.type, d.id AS dst, r.key, r.props, r.sources, r.evidence,
           r.origins, r.src AS src_row, r.dst AS dst_row
    FROM rels r JOIN nodes s ON s.rowid = r.src JOIN nodes d ON d.rowid = r.dst;
"""

_CACHE = -262144  # KiB: 256 MB of pages
#: Bytes a page of a new file (SQLite's default is 4,096; a file keeps the size it was made
#: with). A large load writes, logs and copies a quarter as many pages. Replaying the
#: benchmark's million-row load into a writer: the final COMMIT took 0.22-0.39 s of CPU
#: (four runs) against 0.43-0.50 (five) with 4,096-byte pages, the relationship indexes
#: 0.49-0.76 against 0.66-0.94; the rows themselves took as long either way.
_PAGE_SIZE = 16384
#: KiB of cache while a bulk load builds its indexes. SQLite sorts an index's entries in
#: runs as large as the page cache, each then merged from a temporary file: runs of
#: 8 MB sort within the CPU caches: the target index of 2,000,000 relationships in random
#: order took 2.5-3.0 s of CPU instead of 4.1 in one 256 MB run, or 5.6-6.5 in one sort
#: in memory, which is what temp_store=MEMORY does whatever the cache size (so the store
#: keeps SQLite's default temp store; the runs go to its temporary directory).
_INDEX_BUILD_CACHE = -8192
_FORMAT = 2  # 2: a node's rowid is its mirror position, counted from 0
_TARGET_INDEX = "CREATE INDEX IF NOT EXISTS rels_by_target ON rels (dst, type)"
_NODE_COLUMNS = "id, kind, key, props, sources, evidence, origins"
_REL_COLUMNS = "src, type, dst, key, props, sources, evidence, origins"
_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)
_CHUNK = 500  # host parameters per IN (...) list

T = TypeVar("T")


def _json_types(value: Value) -> tuple[str, str]:
    """The JSON types a stored value equal to ``value`` may have."""
    if isinstance(value, bool):
        return ("true", "true") if value else ("false", "false")
    if isinstance(value, int | float):
        return ("integer", "real")
    return ("text", "text")


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqliteStore:
    """The embedded store. One serving process; other processes may write beside it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30
            )
            self._db.execute(f"PRAGMA page_size={_PAGE_SIZE}")  # a new file's; before WAL
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA cache_size={_CACHE}")
            self._db.executescript(_SCHEMA)
            self._unique_indexes()
            self._db.execute(_TARGET_INDEX)
            file_format = self._meta("format")
        except sqlite3.Error as e:
            raise StoreUnavailable(f"cannot open {self.path}: {e}") from None
        if file_format != _FORMAT:
            self._db.close()
            raise StoreError(
                f"{self.path} was written by another version of pressure-graph (store format "
                f"{file_format}, this one reads {_FORMAT}); load your spreadsheets into a new file"
            )
        self._mirror = GraphMirror()
        self._in_transaction = False
        self._fill: Fill | None = None
        self._inserter = Inserter(self._db)
        self._epoch = -1
        self._data_version = -1
        self._last_rel_rowid = 0
        # The mirror is built by the first read or write that needs it (every one syncs
        # first): an export streams from its own connection and never does, and building
        # it for a million nodes took 10 s and 1 GB.

    def _unique_indexes(self) -> None:
        """Ids and relationship identities are unique through named indexes (a bulk
        load may drop and rebuild them); files written before they had names carry
        built-in constraints instead, and get no second index."""
        tables = {
            r[0]
            for r in self._db.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'index' "
                "AND name LIKE 'sqlite_autoindex_%'"
            )
        }
        if "nodes" not in tables:
            self._db.execute(NODE_INDEX)
        if "rels" not in tables:
            self._db.execute(REL_INDEX)

    # -- keeping the mirror in step with the file ---------------------------------------

    def _meta(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def _sync(self, force: bool = False) -> None:
        """Catch up with commits made by any connection since we last looked."""
        data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if data_version == self._data_version and not force:
            return
        with self._read():
            self._catch_up()
        self._data_version = data_version

    @contextmanager
    def _read(self) -> Iterator[None]:
        with self._lock:
            try:
                self._db.execute("BEGIN")
                try:
                    yield
                finally:
                    self._db.execute("COMMIT")
            except sqlite3.Error as e:
                raise StoreError(f"reading {self.path} failed: {e}") from None

    def _reading(self, fn: Callable[[], T]) -> T:
        with self._lock:
            self._sync()
            with self._read():
                return fn()

    # -- protocol: reads ----------------------------------------------------------------

    def version(self) -> int:
        with self._lock:
            self._sync()
            return self._meta("version")

    def get_node(self, node_id: str) -> Node | None:
        return self.get_nodes([node_id]).get(node_id)

    def get_nodes(self, node_ids: Sequence[str]) -> dict[str, Node]:
        return self._reading(lambda: self._fetch_nodes(node_ids))

    def find_nodes(
        self,
        kind: str | None = None,
        filters: Mapping[str, Value] | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Page[Node]:
        where, params = self._node_conditions(kind, filters)

        def run() -> Page[Node]:
            condition = " AND ".join(where) or "1"
            total = self._db.execute(
                f"SELECT count(*) FROM nodes WHERE {condition}", params
            ).fetchone()[0]
            page_where, page_params = list(where), list(params)
            if after is not None:
                page_where.append("id > ?")
                page_params.append(cursors.decode(after, 1)[0])
            rows = self._db.execute(
                f"SELECT {_NODE_COLUMNS} FROM nodes WHERE {' AND '.join(page_where) or '1'} "
                "ORDER BY id LIMIT ?",
                [*page_params, first + 1],
            ).fetchall()
            items = [node_from_row(r) for r in rows[:first]]
            end = cursors.encode(items[-1].id) if items else after
            return Page(items, total, end, len(rows) > first)

        return self._reading(run)

    @staticmethod
    def _node_conditions(
        kind: str | None, filters: Mapping[str, Value] | None
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if kind is not None:
            node_kind(kind)
            # Ids start with "Kind:", so a kind is a range of the id index (";" follows ":").
            where.append("id >= ? AND id < ?")
            params.extend((f"{kind}:", f"{kind};"))
        for name, value in (filters or {}).items():
            if isinstance(value, list):
                raise InvalidArgument(f"filter on {name!r}: lists cannot be compared")
            if kind is not None and NODE_KIND_BY_NAME[kind].property(name) is None:
                raise InvalidArgument(f"{kind} has no property {name!r}")
            # json_type keeps true apart from 1, and 1 apart from 1.0's text.
            where.append("json_extract(props, ?) = ? AND json_type(props, ?) IN (?, ?)")
            path = f'$."{name}"'
            params.extend((path, value, path, *_json_types(value)))
        return where, params

    def search(
        self, text: str, kinds: Collection[str] | None = None, first: int = 20
    ) -> list[Node]:
        needle = normalize(text.strip())
        if not needle:
            return []
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where = ["search LIKE ? ESCAPE '\\'"]
        params: list[Any] = [f"%{escaped}%"]
        if kinds:
            for k in kinds:
                node_kind(k)
            where.append(f"kind IN ({','.join('?' * len(kinds))})")
            params.extend(kinds)

        def run() -> list[Node]:
            # LIKE folds ASCII case only; the search column is already folded, so the
            # needle is too, and case_sensitive_like keeps LIKE from folding further.
            self._db.execute("PRAGMA case_sensitive_like = ON")
            rows = self._db.execute(
                f"SELECT {_NODE_COLUMNS} FROM nodes WHERE {' AND '.join(where)} "
                "ORDER BY id LIMIT ?",
                [*params, first],
            ).fetchall()
            return [node_from_row(r) for r in rows]

        return self._reading(run)

    def neighbors(
        self,
        node_id: str,
        rel_types: Collection[str] | None = None,
        direction: Direction = Direction.BOTH,
        first: int = 50,
        after: str | None = None,
    ) -> Page[Neighbor]:
        type_sql, type_params = _type_condition(rel_types, "r.type")
        arms: list[str] = []
        params: list[Any] = []
        columns = "s.id, r.type, d.id, r.key, r.props, r.sources, r.evidence, r.origins"
        joins = "JOIN nodes s ON s.rowid = r.src JOIN nodes d ON d.rowid = r.dst"
        if direction in (Direction.OUT, Direction.BOTH):
            arms.append(
                f"SELECT {columns}, d.id AS other, 'out' AS dir, r.type AS rtype, r.key AS rkey "
                f"FROM rels r {joins} WHERE r.src = ?{type_sql}"
            )
            params.extend([None, *type_params])
        if direction in (Direction.IN, Direction.BOTH):
            arms.append(
                f"SELECT {columns}, s.id AS other, 'in' AS dir, r.type AS rtype, r.key AS rkey "
                f"FROM rels r {joins} WHERE r.dst = ?{type_sql}"
            )
            params.extend([None, *type_params])
        union = " UNION ALL ".join(arms)

        def run() -> Page[Neighbor]:
            position = self._mirror.index.get(node_id)
            if position is None:
                return Page([], 0, None, False)
            params[:] = [position if p is None else p for p in params]
            total = self._db.execute(f"SELECT count(*) FROM ({union})", params).fetchone()[0]
            page_sql = f"SELECT * FROM ({union})"
            page_params = list(params)
            if after is not None:
                page_sql += " WHERE (other, rtype, dir, rkey) > (?, ?, ?, ?)"
                page_params.extend(cursors.decode(after, 4))
            page_sql += " ORDER BY other, rtype, dir, rkey LIMIT ?"
            rows = self._db.execute(page_sql, [*page_params, first + 1]).fetchall()[: first + 1]
            has_next = len(rows) > first
            rows = rows[:first]
            others = self._fetch_nodes([r[8] for r in rows])
            items = [Neighbor(rel_from_row(r[:8]), others[r[8]], Direction(r[9])) for r in rows]
            end = (
                cursors.encode(rows[-1][8], rows[-1][1], rows[-1][9], rows[-1][3])
                if rows
                else after
            )
            return Page(items, total, end, has_next)

        return self._reading(run)

    def _fetch_nodes(self, node_ids: Sequence[str]) -> dict[str, Node]:
        found: dict[str, Node] = {}
        for chunk in _chunks(list(dict.fromkeys(node_ids))):
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                f"SELECT {_NODE_COLUMNS} FROM nodes WHERE id IN ({marks})", chunk
            ):
                found[row[0]] = node_from_row(row)
        return found

    def relationships(
        self,
        rel_types: Collection[str] | None = None,
        first: int = 1000,
        after: str | None = None,
    ) -> Page[Relationship]:
        type_sql, type_params = _type_condition(rel_types)

        def run() -> Page[Relationship]:
            base = f"FROM rels_by_id WHERE 1{type_sql}"
            total = self._db.execute(f"SELECT count(*) {base}", type_params).fetchone()[0]
            sql = f"SELECT {_REL_COLUMNS} {base}"
            params = list(type_params)
            if after is not None:
                sql += " AND (src, type, dst, key) > (?, ?, ?, ?)"
                params.extend(cursors.decode(after, 4))
            rows = self._db.execute(
                sql + " ORDER BY src, type, dst, key LIMIT ?", [*params, first + 1]
            ).fetchall()
            items = [rel_from_row(r) for r in rows[:first]]
            end = cursors.encode(*items[-1].identity) if items else after
            return Page(items, total, end, len(rows) > first)

        return self._reading(run)

    def relationships_of(
        self,
        node_ids: Sequence[str],
        rel_types: Collection[str] | None = None,
        direction: Direction = Direction.BOTH,
    ) -> list[Relationship]:
        type_sql, type_params = _type_condition(rel_types, "r.type")
        columns = "s.id, r.type, d.id, r.key, r.props, r.sources, r.evidence, r.origins"
        joins = "JOIN nodes s ON s.rowid = r.src JOIN nodes d ON d.rowid = r.dst"
        ends = {Direction.OUT: ("r.src",), Direction.IN: ("r.dst",)}.get(
            direction, ("r.src", "r.dst")
        )

        def run() -> list[Relationship]:
            index = self._mirror.index
            rows = sorted({index[i] for i in node_ids if i in index})
            found: dict[tuple[str, str, str, str], Relationship] = {}
            for chunk in _chunks(rows):
                marks = ",".join("?" * len(chunk))
                for end in ends:
                    for row in self._db.execute(
                        f"SELECT {columns} FROM rels r {joins} WHERE {end} IN ({marks}){type_sql}",
                        [*chunk, *type_params],
                    ):
                        rel = rel_from_row(row)
                        found[rel.identity] = rel
            return [found[k] for k in sorted(found)]

        return self._reading(run)

    def neighborhoods(
        self,
        node_ids: Sequence[str],
        rel_types: Collection[str] | None = None,
        direction: Direction = Direction.BOTH,
        first: int = 50,
    ) -> dict[str, Adjacency]:
        type_sql, type_params = _type_condition(rel_types, "r.type")
        return self._reading(
            lambda: sqlite_scan.neighborhoods(
                self._db, self._mirror, node_ids, type_sql, type_params,
                Direction(direction), first,
            )
        )

    # -- ElementReader: subgraph's elements, written by SQLite --------------------------

    def node_elements(self, node_ids: Sequence[str]) -> dict[str, str | Node]:
        return self._reading(
            lambda: sqlite_elements.node_elements(self._db, self._mirror, node_ids)
        )

    def neighborhood_elements(
        self,
        node_ids: Sequence[str],
        rel_types: Collection[str] | None = None,
        direction: Direction = Direction.BOTH,
        first: int = 50,
    ) -> dict[str, AdjacencyElements]:
        type_sql, type_params = _type_condition(rel_types, "r.type")
        return self._reading(
            lambda: sqlite_elements.neighborhood_elements(
                self._db, self._mirror, node_ids, type_sql, type_params,
                Direction(direction), first,
            )
        )

    def scan_nodes(self, kind: str | None = None) -> Iterator[Node]:
        if kind is not None:
            node_kind(kind)
        return sqlite_scan.scan_nodes(self.path, kind)

    def scan_relationships(
        self, rel_types: Collection[str] | None = None
    ) -> Iterator[Relationship]:
        _type_condition(rel_types)  # checks the names now, not at the first row
        return sqlite_scan.scan_relationships(self.path, rel_types)

    def stats(self) -> Stats:
        def run() -> Stats:
            kinds = dict(self._db.execute("SELECT kind, count(*) FROM nodes GROUP BY kind"))
            types = dict(self._db.execute("SELECT type, count(*) FROM rels GROUP BY type"))
            return Stats(self._meta("version"), kinds, types)

        return self._reading(run)

    def edge_list(self, rel_types: Collection[str] | None = None) -> EdgeList:
        for t in rel_types or ():
            relationship_type(t)
        with self._lock:
            self._sync()
            return self._mirror.edge_list(self._meta("version"), rel_types)

    # -- protocol: writes ---------------------------------------------------------------

    def upsert(
        self, nodes: Iterable[Node], relationships: Iterable[Relationship] = ()
    ) -> WriteSummary:
        return self.upsert_rows(map(node_row, nodes), map(rel_row, relationships))

    def upsert_rows(
        self, nodes: Iterable[NodeRow], relationships: Iterable[RelRow] = ()
    ) -> WriteSummary:
        """:meth:`upsert` of plain rows (see :class:`~graph_service.storage.protocol.RowWriter`):
        the bulk path, which builds no record per fact."""
        node_rows = nodes if isinstance(nodes, list) else list(nodes)
        rel_rows = relationships if isinstance(relationships, list) else list(relationships)
        summary = WriteSummary()
        with self.transaction():
            inserter = self._inserter
            write_nodes(self._db, self._mirror, node_rows, summary, inserter)
            write_relationships(self._db, self._mirror, rel_rows, summary, inserter, self._fill)
            if summary.total_written:
                self._db.execute("UPDATE meta SET value = value + 1 WHERE name = 'version'")
            summary.version = self._meta("version")
        return summary

    @contextmanager
    def transaction(self, bulk: bool = False) -> Iterator[None]:
        """Make every upsert inside one transaction: all of it is committed, or none.

        ``bulk=True`` suits a large load: the index on relationship targets is dropped
        for the duration and built again, sorted, just before the commit; so are the
        unique indexes of tables that start (nearly) empty (see :class:`Fill`).
        A transaction inside another joins it.
        """
        with self._lock:
            if self._in_transaction:
                yield
                return
            self._sync()
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise StoreUnavailable(f"cannot write {self.path}: {e}") from None
            self._in_transaction = True
            # A write allocates many small objects and creates no cycles: collecting
            # during it only rescans the whole mirror, again and again.
            collecting = gc.isenabled()
            gc.disable()
            try:
                # Another process may have committed since our last look.
                self._catch_up()
                if bulk:
                    self._db.execute("DROP INDEX IF EXISTS rels_by_target")
                    self._fill = Fill(self._db)
                yield
                if bulk:
                    self._build_indexes()
                self._db.execute("COMMIT")
            except BaseException as e:
                self._db.execute("ROLLBACK")
                self._epoch = -1  # the mirror may hold uncommitted rows: rebuild it
                self._sync(force=True)
                if isinstance(e, sqlite3.Error):
                    raise StoreError(f"writing {self.path} failed: {e}") from None
                raise
            finally:
                self._in_transaction = False
                self._fill = None
                if collecting:
                    gc.enable()
            self._last_rel_rowid = self._max_rowid("rels")
            self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]

    def _build_indexes(self) -> None:
        """Build the indexes a bulk load dropped; the target index, whose entries come in
        no order, in sorted runs the size of a small cache (see :data:`_INDEX_BUILD_CACHE`).
        The unique indexes keep the large cache: in the benchmark (1M nodes, 2M
        relationships, entries nearly in order) shrinking it for them too cost more than
        it saved (CPU seconds: node index 0.74 -> 1.52, identity 1.35 -> 1.87)."""
        if self._fill is not None:
            self._fill.finish()
        self._db.execute(f"PRAGMA cache_size={_INDEX_BUILD_CACHE}")
        try:
            self._db.execute(_TARGET_INDEX)
        finally:
            self._db.execute(f"PRAGMA cache_size={_CACHE}")

    def _max_rowid(self, table: str) -> int:
        return int(self._db.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()[0])

    def _catch_up(self) -> None:
        """Add to the mirror the rows committed since it last looked (inside a transaction)."""
        epoch = self._meta("epoch")
        if epoch != self._epoch:
            self._mirror = GraphMirror()
            self._last_rel_rowid = 0
            self._epoch = epoch
        nodes = self._db.execute(
            "SELECT rowid, id, kind FROM nodes WHERE rowid >= ? ORDER BY rowid",
            (len(self._mirror.ids),),
        ).fetchall()
        if nodes:
            if nodes[0][0] != len(self._mirror.ids):
                raise StoreError(f"{self.path}: node rows are not contiguous; the file is damaged")
            self._mirror.add_nodes((r[1], r[2]) for r in nodes)
        rels = self._db.execute(
            "SELECT rowid, src, type, dst, key FROM rels WHERE rowid > ? ORDER BY rowid",
            (self._last_rel_rowid,),
        ).fetchall()
        if rels:
            ids = self._mirror.ids
            self._mirror.add_relationships((ids[r[1]], r[2], ids[r[3]], r[4]) for r in rels)
            self._last_rel_rowid = rels[-1][0]

    def clear(self) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM rels")
                self._db.execute("DELETE FROM nodes")
                self._db.execute(
                    "UPDATE meta SET value = value + 1 WHERE name IN ('version', 'epoch')"
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._sync(force=True)

    def defer_checkpoints(self) -> None:
        """Commits on this connection leave the write-ahead log as it is, for
        :meth:`checkpoint` to copy into the database file later. A commit normally
        copies it itself once the log holds 1,000 pages: after a large load, the whole
        file passes through the log again and is synced, a second or more of disk
        writes before the commit returns, though the data was committed (and readable
        by every connection) before the copy began."""
        with self._lock:
            self._db.execute("PRAGMA wal_autocheckpoint=0")

    def checkpoint(self) -> None:
        """Copy the committed pages of the write-ahead log into the database file, as
        far as readers allow (a reader still on an older snapshot keeps the pages it
        reads; a later commit finishes the copy)."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _type_condition(
    rel_types: Collection[str] | None, column: str = "type"
) -> tuple[str, list[str]]:
    if rel_types is None:
        return "", []
    for t in rel_types:
        relationship_type(t)
    types = sorted(set(rel_types))
    return f" AND {column} IN ({','.join('?' * len(types))})", types
