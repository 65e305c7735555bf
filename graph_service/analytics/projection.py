"""Projections: filtered views of the graph that analytics run on, built once per graph
version and kept in a bounded LRU cache.

A projection keeps the nodes of some kinds (every kind but ``Source`` by default: sources
are provenance, not actors) and the relationships of some types between them, optionally
narrowed to a region, a date window and a minimum evidence grade. Its ``direction`` says
how analytics read the relationships: as stored, reversed, or undirected.

For centrality the projection is read as a *simple* graph: parallel relationships between
two nodes (of one or several types) merge into one edge whose weight is the sum of theirs,
and self-loops are dropped — the graphs networkx's definitions are written for.
"""

from __future__ import annotations

import threading
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import compress
from operator import and_
from typing import TYPE_CHECKING, Any, TypeVar, cast

from graph_service.analytics.budget import PYTHON_RATE, Budget
from graph_service.errors import InvalidArgument
from graph_service.storage.protocol import Store
from graph_service.storage.records import Node, Relationship
from schema import NODE_KIND_BY_NAME, NODE_KINDS, REL_TYPE_BY_NAME, Evidence
from schema.dates import PartialDate, parse_iso
from schema.errors import ModelError

if TYPE_CHECKING:
    import igraph

_T = TypeVar("_T")

DEFAULT_KINDS = tuple(k.name for k in NODE_KINDS if k.name != "Source")
_PAGE = 5000


class ProjectionDirection(StrEnum):
    AS_STORED = "as_stored"
    REVERSED = "reversed"
    UNDIRECTED = "undirected"


@dataclass(frozen=True)
class ProjectionSpec:
    """What a projection keeps. Hashable: it is the cache key (with the graph version).

    ``region`` keeps the nodes of kinds that have a ``region`` property only where it
    equals the value (kinds without one, such as Person or Directive, are kept).
    ``date_from`` / ``date_to`` (partial ISO dates, inclusive) drop directives issued and
    relationships dated (``received``, ``date``) outside the window; a partial date is
    outside only when all of it is, and an undated or yearless fact is kept.
    ``min_evidence`` drops relationships whose evidence is weaker or not graded.
    ``weight`` names a numeric relationship property (missing or non-numeric counts 1).
    """

    node_kinds: tuple[str, ...] = DEFAULT_KINDS
    rel_types: tuple[str, ...] | None = None  # None: every type
    direction: ProjectionDirection = ProjectionDirection.AS_STORED
    weight: str | None = None
    region: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    min_evidence: str | None = None

    @staticmethod
    def create(
        node_kinds: Sequence[str] | None = None,
        rel_types: Sequence[str] | None = None,
        direction: ProjectionDirection = ProjectionDirection.AS_STORED,
        weight: str | None = None,
        region: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        min_evidence: str | None = None,
    ) -> ProjectionSpec:
        """A normalized, validated spec (sorted kinds and types, checked dates)."""
        for k in node_kinds or ():
            if k not in NODE_KIND_BY_NAME:
                raise InvalidArgument(f"unknown node kind {k!r}")
        for t in rel_types or ():
            if t not in REL_TYPE_BY_NAME:
                raise InvalidArgument(f"unknown relationship type {t!r}")
        for d in (date_from, date_to):
            if d is not None:
                try:
                    parse_iso(d)
                except ModelError as e:
                    raise InvalidArgument(f"date window: {e}") from None
        if min_evidence is not None and min_evidence not in Evidence.__members__.values():
            raise InvalidArgument(f"unknown evidence grade {min_evidence!r}")
        return ProjectionSpec(
            tuple(sorted(set(node_kinds))) if node_kinds else DEFAULT_KINDS,
            tuple(sorted(set(rel_types))) if rel_types else None,
            direction,
            weight or None,
            region or None,
            date_from or None,
            date_to or None,
            min_evidence or None,
        )

    def replace(self, **changes: Any) -> ProjectionSpec:
        values = {f: getattr(self, f) for f in self.__dataclass_fields__}
        values.update(changes)
        return ProjectionSpec(**values)

    @property
    def needs_relationship_records(self) -> bool:
        return bool(self.weight or self.min_evidence or self.date_from or self.date_to)

    def describe(self) -> dict[str, Any]:
        return {
            "nodeKinds": list(self.node_kinds),
            "relTypes": list(self.rel_types) if self.rel_types else None,
            "direction": self.direction.name,
            "weight": self.weight,
            "region": self.region,
            "dateFrom": self.date_from,
            "dateTo": self.date_to,
            "minEvidence": self.min_evidence,
        }


@dataclass(frozen=True)
class Adjacency:
    """Compressed sparse rows of the projection's relationships in one direction:
    node ``i``'s neighbours are ``nbrs[offsets[i]:offsets[i + 1]]``, with type codes
    ``types[...]`` (names in ``Projection.rel_types``). Parallel relationships stay."""

    offsets: array[int]
    nbrs: array[int]
    types: array[int]

    def of(self, i: int) -> Iterator[tuple[int, int]]:
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return zip(self.nbrs[lo:hi], self.types[lo:hi], strict=True)


@dataclass(eq=False)
class Projection:
    """Nodes ``0..n-1`` (``node_ids[i]``) and relationships ``sources[j] -> targets[j]``
    in their *stored* direction, of type ``rel_types[types[j]]``."""

    spec: ProjectionSpec
    version: int
    node_ids: list[str]
    node_kinds: list[str]
    sources: array[int]
    targets: array[int]
    types: array[int]
    rel_types: list[str]
    weights: array[float] | None = None
    _index: dict[str, int] | None = field(default=None, repr=False)
    _graph: igraph.Graph | None = field(default=None, repr=False)
    _out: Adjacency | None = field(default=None, repr=False)
    _in: Adjacency | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    derived: dict[str, Any] = field(default_factory=dict, repr=False)
    #: Entries held by large structures derived from this projection (see ``derive``),
    #: counted by the cache with its nodes and relationships.
    derived_size: int = field(default=0, repr=False)
    _derive_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def node_count(self) -> int:
        return len(self.node_ids)

    @property
    def edge_count(self) -> int:
        return len(self.sources)

    @property
    def directed(self) -> bool:
        return self.spec.direction is not ProjectionDirection.UNDIRECTED

    def index(self) -> dict[str, int]:
        """Position of each node id."""
        if self._index is None:
            self._index = {node_id: i for i, node_id in enumerate(self.node_ids)}
        return self._index

    def position(self, node_id: str) -> int | None:
        return self.index().get(node_id)

    def graph(self) -> igraph.Graph:
        """The simple igraph graph (direction applied, parallel edges merged with summed
        ``weight``, self-loops dropped). Built once per projection."""
        with self._lock:
            if self._graph is None:
                self._graph = self._build_graph()
            return self._graph

    def _build_graph(self) -> igraph.Graph:
        import igraph

        if self.spec.direction is ProjectionDirection.REVERSED:
            pairs = zip(self.targets, self.sources, strict=True)
        else:
            pairs = zip(self.sources, self.targets, strict=True)
        g = igraph.Graph(n=self.node_count, directed=self.directed)
        g.add_edges(pairs)
        if self.weights is not None:
            g.es["weight"] = list(self.weights)
            g.simplify(multiple=True, loops=True, combine_edges="sum")
        else:
            g.simplify(multiple=True, loops=True)
        return g

    def out_adjacency(self) -> Adjacency:
        """Relationships leaving each node, as stored."""
        with self._lock:
            if self._out is None:
                self._out = _csr(self.node_count, self.sources, self.targets, self.types)
            return self._out

    def in_adjacency(self) -> Adjacency:
        """Relationships arriving at each node, as stored."""
        with self._lock:
            if self._in is None:
                self._in = _csr(self.node_count, self.targets, self.sources, self.types)
            return self._in

    def type_code(self, name: str) -> int:
        try:
            return self.rel_types.index(name)
        except ValueError:
            return -1

    def derive(self, key: str, build: Callable[[], _T], size: Callable[[_T], int]) -> _T:
        """The structure ``build`` makes from this projection, made once and kept in
        ``derived`` under ``key`` — so it lives and dies with this projection (one graph
        version) — and counted in :meth:`size` (``size(structure)`` entries), so the
        cache's bound covers it from its next insertion on. Built under a lock: two
        requests arriving together build it once."""
        with self._derive_lock:
            found = self.derived.get(key)
            if found is None:
                found = build()
                self.derived[key] = found
                self.derived_size += size(found)
            return cast(_T, found)

    def size(self) -> int:
        """A rough cost for the cache: nodes plus relationships, plus the entries of
        large derived structures (see :meth:`derive`)."""
        return self.node_count + self.edge_count + self.derived_size


def _csr(n: int, frm: Sequence[int], to: Sequence[int], types: Sequence[int]) -> Adjacency:
    counts = [0] * (n + 1)
    for s in frm:
        counts[s + 1] += 1
    for i in range(n):
        counts[i + 1] += counts[i]
    offsets = array("i", counts)
    fill = counts[:-1]
    nbrs = array("i", bytes(4 * len(frm)))
    tys = array("b", bytes(len(frm)))
    for s, t, ty in zip(frm, to, types, strict=True):
        k = fill[s]
        nbrs[k] = t
        tys[k] = ty
        fill[s] = k + 1
    return Adjacency(offsets, nbrs, tys)


# -- building -------------------------------------------------------------------------


def build_projection(
    store: Store, spec: ProjectionSpec, budget: Budget | None = None
) -> Projection:
    """Read the graph through the store protocol and apply ``spec``."""
    budget = budget or Budget()
    edges = store.edge_list(list(spec.rel_types) if spec.rel_types is not None else None)
    kinds = set(spec.node_kinds)
    keep_node = [k in kinds for k in edges.node_kinds]
    if spec.region is not None:
        _narrow_to_region(store, spec.region, edges.node_kinds, edges.node_ids, keep_node)
    if spec.date_from or spec.date_to:
        _drop_directives_outside(store, spec, edges.node_ids, keep_node)
    if all(keep_node):
        node_ids, node_kinds = list(edges.node_ids), list(edges.node_kinds)
        remap: list[int] | None = None
    else:
        remap = [-1] * len(keep_node)
        node_ids, node_kinds = [], []
        for i, keep in enumerate(keep_node):
            if keep:
                remap[i] = len(node_ids)
                node_ids.append(edges.node_ids[i])
                node_kinds.append(edges.node_kinds[i])
    if spec.needs_relationship_records:
        budget.require(
            len(edges.sources) * 20,
            PYTHON_RATE,
            "reading the relationship properties this projection filters or weighs on",
            "narrow the projection's relTypes, or drop weight, date window and minEvidence",
        )
        src, dst, typ, weights = _edges_from_records(store, spec, edges.rel_types, budget)
        index = {node_id: i for i, node_id in enumerate(edges.node_ids)}
        kept = [j for j in range(len(src)) if keep_node[index[src[j]]] and keep_node[index[dst[j]]]]
        pick_src = array("i", (index[src[j]] for j in kept))
        pick_dst = array("i", (index[dst[j]] for j in kept))
        types = array("b", (typ[j] for j in kept))
        weight_arr: array[float] | None = (
            array("d", (weights[j] for j in kept)) if spec.weight else None
        )
    else:
        # The common case, no relationship filters: copy and filter the arrays at C speed
        # (map / compress over the arrays, no Python-level loop per relationship).
        pick_src, pick_dst = array("i", edges.sources), array("i", edges.targets)
        types, weight_arr = array("b", edges.types), None
        if remap is not None:
            kept_at = keep_node.__getitem__
            mask = bytes(map(and_, map(kept_at, pick_src), map(kept_at, pick_dst)))
            if mask.count(0):
                pick_src = array("i", compress(pick_src, mask))
                pick_dst = array("i", compress(pick_dst, mask))
                types = array("b", compress(types, mask))
    if remap is not None:
        pick_src = array("i", map(remap.__getitem__, pick_src))
        pick_dst = array("i", map(remap.__getitem__, pick_dst))
    return Projection(
        spec=spec,
        version=edges.version,
        node_ids=node_ids,
        node_kinds=node_kinds,
        sources=pick_src,
        targets=pick_dst,
        types=types,
        rel_types=list(edges.rel_types),
        weights=weight_arr,
    )


def _all_nodes(store: Store, kind: str, filters: dict[str, Any] | None = None) -> Iterator[Node]:
    after: str | None = None
    while True:
        page = store.find_nodes(kind, filters, first=_PAGE, after=after)
        yield from page.items
        if not page.has_next_page:
            return
        after = page.end_cursor


def _narrow_to_region(
    store: Store, region: str, kinds: Sequence[str], ids: Sequence[str], keep: list[bool]
) -> None:
    regional = {k.name for k in NODE_KINDS if k.property("region") is not None}
    inside = {
        n.id for kind in sorted(regional) for n in _all_nodes(store, kind, {"region": region})
    }
    for i, kind in enumerate(kinds):
        if keep[i] and kind in regional and ids[i] not in inside:
            keep[i] = False


def _window(spec: ProjectionSpec) -> tuple[PartialDate | None, PartialDate | None]:
    lo = parse_iso(spec.date_from) if spec.date_from else None
    hi = parse_iso(spec.date_to) if spec.date_to else None
    return lo, hi


def _bounds(d: PartialDate) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    assert d.year is not None
    return (d.year, d.month or 1, d.day or 1), (d.year, d.month or 12, d.day or 31)


def outside_window(value: Any, spec: ProjectionSpec) -> bool:
    """True when a date value lies wholly outside the spec's window (see ProjectionSpec)."""
    if not isinstance(value, str):
        return False
    try:
        d = parse_iso(value)
    except ModelError:
        return False
    if d.year is None:
        return False
    first, last = _bounds(d)
    lo, hi = _window(spec)
    if lo is not None and lo.year is not None and last < _bounds(lo)[0]:
        return True
    return hi is not None and hi.year is not None and first > _bounds(hi)[1]


def _drop_directives_outside(
    store: Store, spec: ProjectionSpec, ids: Sequence[str], keep: list[bool]
) -> None:
    dropped = {
        n.id
        for n in _all_nodes(store, "Directive")
        if outside_window(n.properties.get("issued"), spec)
    }
    if dropped:
        for i, node_id in enumerate(ids):
            if node_id in dropped:
                keep[i] = False


def _edges_from_records(
    store: Store, spec: ProjectionSpec, rel_types: Sequence[str], budget: Budget
) -> tuple[list[str], list[str], list[int], list[float]]:
    codes = {name: i for i, name in enumerate(rel_types)}
    strength = Evidence(spec.min_evidence).strength if spec.min_evidence else 0
    dated = spec.date_from or spec.date_to
    src: list[str] = []
    dst: list[str] = []
    typ: list[int] = []
    weights: list[float] = []
    after: str | None = None
    while True:
        page = store.relationships(
            list(spec.rel_types) if spec.rel_types is not None else None,
            first=_PAGE,
            after=after,
        )
        for rel in page.items:
            if strength and not _strong_enough(rel, strength):
                continue
            if dated and any(
                outside_window(rel.properties.get(p), spec) for p in ("received", "date")
            ):
                continue
            src.append(rel.source)
            dst.append(rel.target)
            typ.append(codes[rel.type])
            weights.append(_weight(rel, spec.weight))
        if not page.has_next_page:
            break
        after = page.end_cursor
        budget.check(
            "reading relationship properties",
            "narrow the projection's relTypes, or drop weight, date window and minEvidence",
        )
    return src, dst, typ, weights


def _strong_enough(rel: Relationship, strength: int) -> bool:
    ev = rel.provenance.evidence
    return ev is not None and Evidence(ev).strength >= strength


def _weight(rel: Relationship, name: str | None) -> float:
    if name is None:
        return 1.0
    value = rel.properties.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 1.0
    return float(value)


# -- the cache ------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedProjection:
    projection: Projection
    from_cache: bool


class ProjectionCache:
    """Projections by (store object, spec), for the store's current version only; least
    recently used first out once the total size (nodes + relationships) passes
    ``max_size``. Keyed by the store object, not its URL: a database wiped outside the
    protocol restarts its version count, and must not be served an old projection."""

    def __init__(self, max_size: int = 30_000_000, max_entries: int = 32) -> None:
        self.max_size = max_size
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, ProjectionSpec], Projection] = OrderedDict()
        self._stores: dict[int, weakref.ref[Store]] = {}
        self._lock = threading.Lock()
        self._building: dict[tuple[int, ProjectionSpec], threading.Lock] = {}

    def get(
        self, store: Store, spec: ProjectionSpec, budget: Budget | None = None
    ) -> CachedProjection:
        version = store.version()
        key = (id(store), spec)
        with self._lock:
            known = self._stores.get(id(store))
            if known is None or known() is not store:
                # A new store (perhaps at the address of a collected one): forget the old.
                for k in [k for k in self._entries if k[0] == id(store)]:
                    del self._entries[k]
                self._stores[id(store)] = weakref.ref(store)
            found = self._entries.get(key)
            if found is not None and found.version == version:
                self._entries.move_to_end(key)
                return CachedProjection(found, True)
            build_lock = self._building.setdefault(key, threading.Lock())
        with build_lock:  # one build per key at a time; others wait and reuse it
            with self._lock:
                found = self._entries.get(key)
                if found is not None and found.version == version:
                    self._entries.move_to_end(key)
                    return CachedProjection(found, True)
            projection = build_projection(store, spec, budget)
            with self._lock:
                self._put(key, projection)
        return CachedProjection(projection, False)

    def _put(self, key: tuple[int, ProjectionSpec], projection: Projection) -> None:
        # A newer version makes every older projection of that store useless.
        for k in [
            k for k, p in self._entries.items() if k[0] == key[0] and p.version < projection.version
        ]:
            del self._entries[k]
        self._entries[key] = projection
        self._entries.move_to_end(key)
        total = sum(p.size() for p in self._entries.values())
        while len(self._entries) > 1 and (
            total > self.max_size or len(self._entries) > self.max_entries
        ):
            _, evicted = self._entries.popitem(last=False)
            total -= evicted.size()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: The process-wide cache the API uses.
PROJECTIONS = ProjectionCache()
