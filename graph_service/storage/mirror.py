"""The in-memory mirror of a graph's structure, for traversal and analytics.

It holds only what never changes once written — node ids and kinds, relationship
endpoints and types — as compact arrays; properties stay in the system of record.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable

from graph_service.storage.records import EdgeList
from schema import NODE_KINDS, RELATIONSHIP_TYPES

KIND_CODES = {k.name: i for i, k in enumerate(NODE_KINDS)}
KIND_NAMES = [k.name for k in NODE_KINDS]
TYPE_CODES = {r.name: i for i, r in enumerate(RELATIONSHIP_TYPES)}
TYPE_NAMES = [r.name for r in RELATIONSHIP_TYPES]
#: ids resolved together by :meth:`GraphMirror.positions` when they may be a run
_RUN = 512


class GraphMirror:
    """Node index and edge arrays; append-only between clears."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.kinds = array("b")
        self.src = array("i")
        self.dst = array("i")
        self.type = array("b")
        #: whether :meth:`claim` adds first and checks after (see there)
        self._optimistic = True

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.index

    def add_nodes(self, rows: Iterable[tuple[str, str]]) -> None:
        """Add (id, kind) pairs not seen before."""
        index, ids, kinds = self.index, self.ids, self.kinds
        for node_id, kind in rows:
            if node_id not in index:
                index[node_id] = len(ids)
                ids.append(node_id)
                kinds.append(KIND_CODES[kind])

    def extend_nodes(self, node_ids: list[str], kinds: list[str]) -> None:
        """Append nodes known to be new, in order (their positions follow the last)."""
        start = len(self.ids)
        self.index.update(zip(node_ids, range(start, start + len(node_ids)), strict=True))
        self.ids.extend(node_ids)
        self.kinds.extend(map(KIND_CODES.__getitem__, kinds))

    def positions(self, node_ids: list[str]) -> list[int]:
        """The positions of these ids (a ``KeyError`` names one that is not here).

        A run of ids that follow each other in the mirror (relationships written in the
        order of their sources, as a staff list gives one ``WORKS_AT`` per person row)
        is resolved by one look-up and a comparison of the run with the mirror's ids,
        which lie in memory in that same order; other ids are looked up one by one.
        Each look-up in a dict of a million ids is a random read or three (slot, entry,
        key), about 1 µs; the comparison reads memory in order (measured at 1M nodes:
        the benchmark's 2M sources cost ~1 s of CPU by look-ups, see ``bench_store.py``).
        """
        index, ids = self.index, self.ids
        lookup = index.__getitem__
        out: list[int] = []
        for start in range(0, len(node_ids), _RUN):
            run = node_ids[start : start + _RUN]
            first = index.get(run[0])
            if first is not None and ids[first : first + len(run)] == run:
                out.extend(range(first, first + len(run)))
            else:
                out.extend(map(lookup, run))
        return out

    def claim(self, node_ids: list[str], kinds: list[str]) -> bool:
        """Append these nodes if their ids are all new and all different, and say so;
        else change nothing and return False.

        Ids are added first and checked after (the dict grew by one per id, or some
        were there already or repeated): checking first cost a second random probe of
        a dict of up to a million ids per new node, ~0.6 s of CPU at 1M nodes. The
        first batch that repeats an id is undone by a scan of the ids (its old
        positions were overwritten), and from then on this mirror checks first, so a
        re-load pays for the scan once, not per batch.
        """
        index, ids = self.index, self.ids
        start = len(ids)
        positions = range(start, start + len(node_ids))
        if self._optimistic:
            index.update(zip(node_ids, positions, strict=True))
            if len(index) - start != len(node_ids):
                self._undo_claim(node_ids, start)
                self._optimistic = False
                return False
        elif len(set(node_ids)) == len(node_ids) and index.keys().isdisjoint(node_ids):
            index.update(zip(node_ids, positions, strict=True))
        else:
            return False
        ids.extend(node_ids)
        self.kinds.extend(map(KIND_CODES.__getitem__, kinds))
        return True

    def _undo_claim(self, node_ids: list[str], start: int) -> None:
        """Put the index back as it was before ``node_ids`` were added from ``start``."""
        index, ids = self.index, self.ids
        claimed = set(node_ids)
        for node_id in claimed:
            del index[node_id]
        for position, node_id in enumerate(ids):  # those that were here keep theirs
            if node_id in claimed:
                index[node_id] = position
        if len(index) != start:
            raise AssertionError(f"mirror index has {len(index)} ids after an undo, not {start}")

    def add_relationships(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """Add (source, type, target, key) relationships that are new to the store."""
        index = self.index
        src, dst, types = self.src, self.dst, self.type
        for identity in rows:
            source, rel_type, target, _ = identity
            src.append(index[source])
            dst.append(index[target])
            types.append(TYPE_CODES[rel_type])

    def extend_edges(self, src: list[int], dst: list[int], types: list[str]) -> None:
        """Append new relationships already resolved to node positions."""
        self.src.extend(src)
        self.dst.extend(dst)
        self.type.extend(map(TYPE_CODES.__getitem__, types))

    def edge_list(self, version: int, rel_types: Collection[str] | None) -> EdgeList:
        if rel_types is None:
            src, dst, types = self.src, self.dst, self.type
        else:
            wanted = {TYPE_CODES[t] for t in rel_types}
            keep = [j for j, t in enumerate(self.type) if t in wanted]
            src = array("i", (self.src[j] for j in keep))
            dst = array("i", (self.dst[j] for j in keep))
            types = array("b", (self.type[j] for j in keep))
        return EdgeList(
            version=version,
            node_ids=list(self.ids),
            node_kinds=[KIND_NAMES[c] for c in self.kinds],
            sources=array("i", src),
            targets=array("i", dst),
            types=array("b", types),
            rel_types=list(TYPE_NAMES),
        )
