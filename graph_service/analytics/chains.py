"""Chains of instruction and of command.

* :func:`instruction_tree` — from a directive's origin, the tree of relays down to every
  target (breadth-first over reversed RELAYS, each directive visited once, so cycles end).
* :func:`chain_to_origin` — from a directive back up the RELAYS it passes on to the
  directive that started it.
* :func:`directives_reaching` — every directive that targets a node, with its chain
  back to the origin.
* :func:`chain_of_command` — a node's way up WORKS_AT / SUBORDINATE_TO to the top.
* :func:`chain_details` — the dates, wording, channel, recipients and provenance of each
  hop, read through the store protocol; lags are computed between full dates only.

The structural functions take a projection holding the relationship types in
:data:`graph_service.analytics.reach.FLOW_TYPES` as stored.

References
----------
.. [1] Breadth-first search: E. F. Moore, "The shortest path through a maze",
   Proc. Int. Symp. on the Theory of Switching (1959) 285-292.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from graph_service.analytics.budget import Budget
from graph_service.analytics.projection import Projection
from graph_service.analytics.reach import (
    FlowCodes,
    ReachSet,
    reach_from,
    split_reach,
    staff_estimate,
)
from graph_service.storage.protocol import Store
from graph_service.storage.records import Direction, Node, Relationship
from schema import Value
from schema.dates import parse_iso
from schema.errors import ModelError

MAX_HOPS = 50_000
_PAGE = 500
#: Bounds on one ``neighborhoods`` round trip when reading deliveries.
_BATCH_RELATIONSHIPS = 20_000
_BATCH_NODES = 5_000


@dataclass(slots=True)
class TreeHop:
    """A directive's place in a tree. Hops and deliveries are built by the ten thousand
    for one long chain, so they are plain slotted records: a frozen dataclass pays an
    ``object.__setattr__`` call for every field it sets."""

    directive: int
    level: int  # 0 for the origin
    parent: int | None  # the directive this one relays
    issuers: list[int]
    recipients: list[int]
    requires: list[int]


@dataclass(frozen=True)
class InstructionTree:
    origin: int
    requested: int
    hops: list[TreeHop]
    truncated: bool
    reach: ReachSet

    @property
    def depth(self) -> int:
        return max((h.level for h in self.hops), default=0)


def relay_parents(p: Projection) -> array[int]:
    """For each node, the earlier directive it relays with the smallest id (``-1`` for
    none): the first choice of :func:`chain_to_origin`. Computed once per projection."""
    found = p.derived.get("relay_parents")
    if found is None:
        relays = FlowCodes.of(p).relays
        ids = p.node_ids
        parents = array("i", [-1]) * p.node_count
        if relays >= 0:
            for s, e, ty in zip(p.sources, p.targets, p.types, strict=True):
                if ty == relays and s != e:
                    current = parents[s]
                    if current < 0 or ids[e] < ids[current]:
                        parents[s] = e
        p.derived["relay_parents"] = found = parents
    assert isinstance(found, array)
    return found


def chain_to_origin(p: Projection, directive: int, max_steps: int = MAX_HOPS) -> list[int]:
    """The directives from the origin down to ``directive`` (inclusive). Where a directive
    relays several, the one with the smallest id is followed; a cycle ends the walk."""
    return chain_up(p, directive, max_steps + 1).chain


@dataclass(frozen=True)
class ChainUp:
    chain: list[int]  # the hops nearest the directive, earliest first, ``directive`` last
    origin: int
    length: int  # directives from the origin down to the directive, inclusive
    beyond: int | None  # what the earliest hop kept relays, when the chain was cut

    @property
    def cut(self) -> bool:
        return len(self.chain) < self.length


def chain_up(p: Projection, directive: int, keep: int = MAX_HOPS) -> ChainUp:
    """The walk of :func:`chain_to_origin`, keeping only the ``keep`` directives nearest
    ``directive``, with the origin and the whole length. Walks that follow only first
    choices (no cycle) are remembered per projection, so a long chain is walked once."""
    relays = FlowCodes.of(p).relays
    parents = relay_parents(p)
    memo: dict[int, tuple[int, int]] = p.derived.setdefault("chain_memo", {})
    ids = p.node_ids
    path = [directive]
    seen = {directive}
    current = directive
    first_choices = True
    ended = False  # reached a directive that relays nothing
    end: tuple[int, int] | None = None  # (origin, length) of the rest, when remembered
    while len(path) <= MAX_HOPS:
        if first_choices and current in memo and len(path) > keep:
            end = memo[current]
            break
        nxt = parents[current]
        if nxt < 0:
            ended = True
            break
        if nxt in seen:  # the first choice closes a cycle: take the next unseen, if any
            first_choices = False
            out = p.out_adjacency()
            earlier = [e for e, ty in out.of(current) if ty == relays and e not in seen]
            if not earlier:
                break
            nxt = min(earlier, key=lambda e: ids[e])
        current = nxt
        seen.add(current)
        path.append(current)
    if end is not None:
        origin, rest = end  # ``rest`` counts ``current`` (the last of ``path``) too
        length = len(path) - 1 + rest
    else:
        origin, length = path[-1], len(path)
    if end is not None or (first_choices and ended):
        for k, d in enumerate(path):
            memo[d] = (origin, length - k)
    kept = path[:keep]
    kept.reverse()
    return ChainUp(kept, origin, length, path[keep] if len(path) > keep else None)


def tree_hop(p: Projection, d: int, level: int, parent: int | None) -> TreeHop:
    """One directive's place in a tree: its issuers, recipients and what it requires."""
    return hop_maker(p)(d, level, parent)


def hop_maker(p: Projection) -> Callable[[int, int, int | None], TreeHop]:
    """:func:`tree_hop` for many directives of one projection, its lookups done once."""
    codes = FlowCodes.of(p)
    out, inc = p.out_adjacency(), p.in_adjacency()
    out_offsets, out_nbrs, out_types = out.offsets, out.nbrs, out.types
    in_offsets, in_nbrs, in_types = inc.offsets, inc.nbrs, inc.types
    targets, requires_code, issued = codes.targets, codes.requires, codes.issued
    ids = p.node_ids

    def make(d: int, level: int, parent: int | None) -> TreeHop:
        lo, hi = out_offsets[d], out_offsets[d + 1]
        recipients: list[int] = []
        requires: list[int] = []
        for t, ty in zip(out_nbrs[lo:hi], out_types[lo:hi], strict=True):
            if ty == targets:
                recipients.append(t)
            elif ty == requires_code:
                requires.append(t)
        lo, hi = in_offsets[d], in_offsets[d + 1]
        issuers = [s for s, ty in zip(in_nbrs[lo:hi], in_types[lo:hi], strict=True) if ty == issued]
        return TreeHop(
            d, level, parent, _by_id(ids, issuers), _by_id(ids, recipients), _by_id(ids, requires)
        )

    return make


def _by_id(ids: Sequence[str], nodes: list[int]) -> list[int]:
    """Distinct nodes in id order."""
    if len(nodes) < 2:
        return nodes
    return sorted(set(nodes), key=ids.__getitem__)


def relay_children(p: Projection) -> tuple[array[int], array[int]]:
    """For each node, the distinct directives that relay it, in id order, as compressed
    rows ``children[offsets[i]:offsets[i + 1]]``: the steps of :func:`instruction_tree`,
    worked out once per projection rather than sorted again at every hop of every tree."""
    found = p.derived.get("relay_children")
    if found is None:
        relays = FlowCodes.of(p).relays
        ids, kinds = p.node_ids, p.node_kinds
        per_node: dict[int, list[int]] = {}
        if relays >= 0:
            for s, e, ty in zip(p.sources, p.targets, p.types, strict=True):
                if ty == relays and kinds[s] == "Directive":
                    per_node.setdefault(e, []).append(s)
        counts = [0] * (p.node_count + 1)
        for e, newer in per_node.items():
            per_node[e] = _by_id(ids, newer)
            counts[e + 1] = len(per_node[e])
        for i in range(p.node_count):
            counts[i + 1] += counts[i]
        children = array("i", bytes(4 * counts[-1]))
        for e, newer in per_node.items():
            children[counts[e] : counts[e] + len(newer)] = array("i", newer)
        p.derived["relay_children"] = found = (array("i", counts), children)
    assert isinstance(found, tuple)
    return found


def instruction_tree(
    p: Projection,
    directive: int,
    *,
    from_origin: bool = True,
    max_hops: int = MAX_HOPS,
    budget: Budget | None = None,
) -> InstructionTree:
    """The relay tree under ``directive`` (or under its origin when ``from_origin``),
    breadth-first, children in id order, at most ``max_hops`` directives."""
    budget = budget or Budget()
    offsets, children = relay_children(p)
    origin = chain_up(p, directive, 1).origin if from_origin else directive
    make = hop_maker(p)
    hops = [make(origin, 0, None)]
    seen = {origin}
    truncated = False
    i = 0
    while i < len(hops):
        current = hops[i]
        i += 1
        d = current.directive
        lo, hi = offsets[d], offsets[d + 1]
        if hi > lo:
            level = current.level + 1
            for n in children[lo:hi]:
                if n in seen:
                    continue
                if len(hops) >= max_hops:
                    truncated = True
                    break
                seen.add(n)
                hops.append(make(n, level, d))
            if truncated:
                break
        if i % 1000 == 0:
            budget.check("the instruction chain", "lower maxHops")
    if truncated:
        reach = reach_from(p, origin)
    else:
        # The tree holds every relay of the origin: what they target is the reach.
        reached = dict.fromkeys(r for h in hops for r in h.recipients)
        reach = split_reach(p, [h.directive for h in hops], reached)
    return InstructionTree(origin, directive, hops, truncated, reach)


@dataclass(frozen=True)
class Reaching:
    directive: int
    up: ChainUp  # its chain towards the origin


def directives_reaching(
    p: Projection, node: int, max_directives: int = 1000, max_chain: int = MAX_HOPS
) -> tuple[list[Reaching], bool]:
    """Every directive that targets ``node``, ordered by id, with its chain to the origin
    (the ``max_chain`` directives nearest it); and whether ``max_directives`` cut the
    list."""
    codes = FlowCodes.of(p)
    ids = p.node_ids
    found = sorted(
        {d for d, ty in p.in_adjacency().of(node) if ty == codes.targets}, key=ids.__getitem__
    )
    truncated = len(found) > max_directives
    return [Reaching(d, chain_up(p, d, max_chain)) for d in found[:max_directives]], truncated


@dataclass(frozen=True)
class CommandLink:
    source: int
    type: str
    target: int
    level: int  # 1 for the start node's own employer or superior


@dataclass(frozen=True)
class CommandChain:
    links: list[CommandLink]
    tops: list[int]  # nodes reached that answer to no one
    truncated: bool


def chain_of_command(p: Projection, node: int, max_levels: int = 50) -> CommandChain:
    """Breadth-first up WORKS_AT and SUBORDINATE_TO; every link on the way, and the tops."""
    codes = FlowCodes.of(p)
    upward = {codes.works_at: "WORKS_AT", codes.subordinate_to: "SUBORDINATE_TO"}
    out = p.out_adjacency()
    ids = p.node_ids
    links: list[CommandLink] = []
    tops: list[int] = []
    seen = {node}
    frontier = [node]
    level = 0
    truncated = False
    while frontier:
        level += 1
        nxt: list[int] = []
        for v in frontier:
            ups = sorted({(t, ty) for t, ty in out.of(v) if ty in upward}, key=lambda e: ids[e[0]])
            if not ups and v != node:
                tops.append(v)
            for t, ty in ups:
                if level > max_levels:
                    truncated = True
                    break
                links.append(CommandLink(v, upward[ty], t, level))
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    return CommandChain(links, sorted(tops, key=ids.__getitem__), truncated)


# -- details through the store --------------------------------------------------------


@dataclass(slots=True)
class Delivery:
    """A directive's arrival at one recipient."""

    recipient: str
    received: str | None
    channel: str | None
    lag_days: int | None  # received minus the directive's issue date, full dates only
    evidence: str | None
    sources: tuple[str, ...]


@dataclass(slots=True)
class Hop:
    directive: str
    level: int
    relays: str | None
    issuers: list[str]
    title: str | None
    issued: str | None
    deadline: str | None
    lag_days: int | None  # issued minus the relayed directive's issue date, full dates only
    wording: str | None
    channel: str | None
    action: str | None
    requires: list[str]
    evidence: str | None
    sources: tuple[str, ...]
    recipient_count: int = 0  # all recipients; ``deliveries`` may hold fewer
    deliveries: list[Delivery] = field(default_factory=list)


def days_between(earlier: Value | None, later: Value | None) -> int | None:
    """Days from ``earlier`` to ``later`` when both are full dates, else None."""
    if not isinstance(earlier, str) or not isinstance(later, str):
        return None
    a, b = _ordinal(earlier), _ordinal(later)
    return None if a is None or b is None else b - a


@lru_cache(maxsize=65_536)
def _ordinal(text: str) -> int | None:
    """The day number of a full ISO date (None for a partial or invalid one); dates
    repeat along a chain, so each is parsed once."""
    try:
        return parse_iso(text).ordinal_days()
    except ModelError:
        return None


def _text(value: Value | None) -> str | None:
    return value if isinstance(value, str) else None


def outgoing(store: Store, node_id: str, rel_type: str, limit: int) -> list[Relationship]:
    """Up to ``limit`` relationships of one type leaving a node (in the store's neighbour
    order), through the store protocol, a page at a time."""
    found: list[Relationship] = []
    after: str | None = None
    while len(found) < limit:
        first = min(_PAGE, limit - len(found))
        page = store.neighbors(node_id, [rel_type], Direction.OUT, first=first, after=after)
        found.extend(n.relationship for n in page.items)
        if not page.has_next_page:
            break
        after = page.end_cursor
    return found


def deliveries_of(
    store: Store, p: Projection, directives: Sequence[int], limit: int
) -> dict[int, list[Relationship]]:
    """The first ``limit`` TARGETS relationships (by target id, then key) leaving each
    directive, to recipients in the projection.

    Directives are read a batch at a time with ``neighborhoods`` (one round trip per
    batch of up to :data:`_BATCH_RELATIONSHIPS` relationships, as the projection counts
    them), which reads and decodes only each directive's first ``limit``; a directive
    with many more recipients than ``limit`` is read alone, a page at a time, so no more
    than it needs is read.
    """
    found: dict[int, list[Relationship]] = {d: [] for d in directives}
    if limit <= 0 or not directives:
        return found
    targets = FlowCodes.of(p).targets
    out = p.out_adjacency()
    ids, index = p.node_ids, p.index()
    alone = 4 * limit + 256
    batch: list[int] = []
    weight = 0

    def flush() -> None:
        nonlocal weight
        if not batch:
            return
        by_id = {ids[d]: d for d in batch}
        hoods = store.neighborhoods(list(by_id), ["TARGETS"], Direction.OUT, first=limit)
        for node_id, hood in hoods.items():
            rels = [a.relationship for a in hood.items if a.relationship.target in index]
            if len(rels) < limit and hood.total_count > len(hood.items):
                # Some of the first were outside the projection: the next ones may count.
                every = store.relationships_of([node_id], ["TARGETS"], Direction.OUT)
                rels = [r for r in every if r.target in index][:limit]
            found[by_id[node_id]] = rels
        batch.clear()
        weight = 0

    for d in dict.fromkeys(directives):
        count = sum(1 for _, ty in out.of(d) if ty == targets)
        if count == 0:
            continue
        if count > alone:
            rels = outgoing(store, ids[d], "TARGETS", limit)
            found[d] = [r for r in rels if r.target in index]
            continue
        if weight + count > _BATCH_RELATIONSHIPS or len(batch) >= _BATCH_NODES:
            flush()
        batch.append(d)
        weight += count
    flush()
    return found


def _bare_deliveries(p: Projection, limit: int) -> Callable[[TreeHop], list[Delivery]]:
    """What :func:`deliveries_of` would give for a hop, with only the recipients filled
    in, from the projection alone: one per TARGETS relationship, by recipient id."""
    ids = p.node_ids
    out = p.out_adjacency()
    offsets, nbrs, types = out.offsets, out.nbrs, out.types
    targets = FlowCodes.of(p).targets

    def of(hop: TreeHop) -> list[Delivery]:
        if limit <= 0 or not hop.recipients:
            return []
        d = hop.directive
        lo, hi = offsets[d], offsets[d + 1]
        if hi - lo == 1:  # its only relationship: the TARGETS one (it has a recipient)
            to = [ids[hop.recipients[0]]]
        else:
            found = [
                ids[t] for t, ty in zip(nbrs[lo:hi], types[lo:hi], strict=True) if ty == targets
            ]
            found.sort()
            to = found[:limit]
        return [Delivery(t, None, None, None, None, ()) for t in to]

    return of


def chain_details(
    store: Store,
    p: Projection,
    hops: Sequence[TreeHop],
    fetch_nodes: Callable[[Sequence[str]], Mapping[str, Node]],
    max_recipients: int = 100,
    delivery_details: bool = True,
) -> list[Hop]:
    """Dates, wording, channel, deliveries (at most ``max_recipients`` per hop) and
    provenance for each hop. Without ``delivery_details`` the deliveries name only their
    recipients (read from the projection, not the store: no dates, channel or sources)."""
    ids = p.node_ids
    directive_ids = [ids[h.directive] for h in hops]
    parents = [ids[h.parent] for h in hops if h.parent is not None]
    nodes = fetch_nodes(list(dict.fromkeys([*directive_ids, *parents])))
    delivered: dict[int, list[Relationship]] = {}
    if delivery_details:
        delivered = deliveries_of(store, p, [h.directive for h in hops], max_recipients)
    bare = _bare_deliveries(p, max_recipients)
    out: list[Hop] = []
    append = out.append
    for h, d_id in zip(hops, directive_ids, strict=True):
        node = nodes.get(d_id)
        props: Mapping[str, Value] = node.properties if node else {}
        issued = props.get("issued")
        parent = h.parent
        parent_node = nodes.get(ids[parent]) if parent is not None else None
        parent_issued = parent_node.properties.get("issued") if parent_node else None
        if delivery_details:
            deliveries = _detailed(p, h, delivered.get(h.directive, ()), issued)
        else:
            deliveries = bare(h)
        append(
            Hop(
                directive=d_id,
                level=h.level,
                relays=ids[parent] if parent is not None else None,
                issuers=[ids[i] for i in h.issuers],
                title=_text(props.get("title")),
                issued=_text(issued),
                deadline=_text(props.get("deadline")),
                lag_days=days_between(parent_issued, issued),
                wording=_text(props.get("wording")),
                channel=_text(props.get("channel")),
                action=_text(props.get("action")),
                requires=[ids[r] for r in h.requires],
                evidence=node.provenance.evidence if node else None,
                sources=node.provenance.sources if node else (),
                recipient_count=len(h.recipients),
                deliveries=deliveries,
            )
        )
    return out


def _detailed(
    p: Projection, hop: TreeHop, rels: Sequence[Relationship], issued: Value | None
) -> list[Delivery]:
    """Deliveries from the stored TARGETS relationships, to the hop's recipients."""
    if not rels:
        return []
    ids = p.node_ids
    recipients = {ids[r] for r in hop.recipients}
    return [
        Delivery(
            rel.target,
            _text(rel.properties.get("received")),
            _text(rel.properties.get("channel")),
            days_between(issued, rel.properties.get("received")),
            rel.provenance.evidence,
            rel.provenance.sources,
        )
        for rel in rels
        if rel.target in recipients
    ]


def staff_reached(
    p: Projection,
    reach: ReachSet,
    fetch_nodes: Callable[[Sequence[str]], Mapping[str, Node]],
) -> int:
    """The staff estimate of :func:`graph_service.analytics.reach.staff_estimate`, with
    ``staff_count`` read through ``fetch_nodes``."""
    ids = p.node_ids
    records = fetch_nodes([ids[i] for i in reach.institutions])
    counts: dict[int, int | None] = {}
    for i in reach.institutions:
        node = records.get(ids[i])
        value = node.properties.get("staff_count") if node else None
        counts[i] = value if isinstance(value, int) and not isinstance(value, bool) else None
    return staff_estimate(p, reach, counts)
