"""GraphQL fields for analytics: centrality, instruction chains, chain of command, paths.

Results are plain strawberry types whose fields are filled in before they are returned:
node records are fetched once per request in one batch (through the context), so a
10,000-entry ranking costs one store round trip, not one per entry.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.nodes import SelectedField

from graph_service.analytics import chains as chains_mod
from graph_service.analytics import reach as reach_mod
from graph_service.analytics.budget import DEFAULT_SECONDS, MAX_SECONDS, Budget
from graph_service.analytics.centrality import REFERENCES, rank_top
from graph_service.analytics.centrality import Measure as MeasureKind
from graph_service.analytics.centrality import Method as MethodRecord
from graph_service.analytics.centrality import centrality as compute_centrality
from graph_service.analytics.paths import MAX_HOPS as PATH_MAX_HOPS
from graph_service.analytics.paths import Walk, shortest_paths
from graph_service.analytics.projection import (
    PROJECTIONS,
    CachedProjection,
    Projection,
    ProjectionDirection,
    ProjectionSpec,
)
from graph_service.api.context import Context
from graph_service.api.gc_pause import settle_after_operation
from graph_service.api.types import Direction, Node, NodeKindEnum, RelationshipTypeEnum, wrap_node
from graph_service.errors import InvalidArgument, NotFound
from graph_service.storage.protocol import Store
from graph_service.storage.records import Direction as StoreDirection
from graph_service.storage.records import Node as NodeRecord
from schema import NODE_KINDS, ModelError, split_node_id

MAX_TOP = 10_000
MAX_CHAIN_HOPS = chains_mod.MAX_HOPS
MAX_REACHING = 1000
MAX_CHAIN_HOPS_REACHING = 10_000
MAX_RECIPIENTS = 10_000

Measure = strawberry.enum(
    enum.Enum("CentralityMeasure", {m.name: m.value for m in MeasureKind}),  # type: ignore[misc]
    description="DEGREE, IN_DEGREE, OUT_DEGREE, PAGERANK, BETWEENNESS, CLOSENESS, HARMONIC "
    "and EIGENVECTOR follow networkx's definitions; REACH counts the distinct institutions "
    "and people a node's directives (and every relay of them) targeted.",
)


@strawberry.enum(name="ProjectionDirection", description="How analytics read relationships.")
class ProjectionDirectionEnum(enum.Enum):
    AS_STORED = "as_stored"
    REVERSED = "reversed"
    UNDIRECTED = "undirected"


@strawberry.enum(name="EvidenceGrade", description="documented > reported > alleged.")
class EvidenceGrade(enum.Enum):
    DOCUMENTED = "documented"
    REPORTED = "reported"
    ALLEGED = "alleged"


@strawberry.input(
    description="A filtered view of the graph. By default every node kind but Source and "
    "every relationship type, as stored."
)
class ProjectionInput:
    node_kinds: list[NodeKindEnum] | None = None  # type: ignore[valid-type]
    rel_types: list[RelationshipTypeEnum] | None = None  # type: ignore[valid-type]
    direction: ProjectionDirectionEnum = ProjectionDirectionEnum.AS_STORED
    weight: str | None = strawberry.field(
        default=None, description="A numeric relationship property (missing counts 1)."
    )
    region: str | None = strawberry.field(
        default=None,
        description="Keep authorities and institutions of this region (other kinds stay).",
    )
    date_from: str | None = strawberry.field(
        default=None, description="Drop directives and dated relationships before this date."
    )
    date_to: str | None = strawberry.field(
        default=None, description="Drop directives and dated relationships after this date."
    )
    min_evidence: EvidenceGrade | None = strawberry.field(
        default=None, description="Drop relationships with weaker (or no) evidence."
    )


@strawberry.type(description="How a result was computed: cite it, or reproduce it.")
class Method:
    name: str
    reference: str
    parameters: JSON


@strawberry.type(description="The projection an answer was computed on.")
class ProjectionInfo:
    node_count: int
    edge_count: int = strawberry.field(description="Relationships kept (before merging parallels).")
    from_cache: bool
    spec: JSON


@strawberry.type
class CentralityEntry:
    node_id: strawberry.ID
    node: Node | None
    score: float
    rank: int = strawberry.field(description="1-based; tied scores share a rank.")
    institutions_reached: int | None = None
    people_reached: int | None = None
    staff_reached: int | None = strawberry.field(
        default=None,
        description="REACH only: estimated staff reached (per institution reached, its "
        "staff_count or its listed people, whichever is larger, plus people reached who are "
        "listed at no reached institution).",
    )


@strawberry.type
class CentralityResult:
    measure: Measure  # type: ignore[valid-type]
    version: int
    method: Method
    projection: ProjectionInfo
    sampled: bool
    entries: list[CentralityEntry]


@strawberry.type(description="A directive's arrival at one recipient.")
class Delivery:
    recipient_id: strawberry.ID
    recipient: Node | None
    received: str | None
    channel: str | None
    lag_days: int | None = strawberry.field(
        description="Received minus issued, in days, when both are full dates."
    )
    evidence: str | None
    source_ids: list[strawberry.ID]


@strawberry.type(description="One directive in a chain of relays.")
class ChainHop:
    directive_id: strawberry.ID
    directive: Node | None
    level: int = strawberry.field(description="0 for the origin.")
    relays_id: strawberry.ID | None = strawberry.field(
        description="The earlier directive this one passes on."
    )
    issuers: list[Node]
    title: str | None
    issued: str | None
    deadline: str | None
    lag_days: int | None = strawberry.field(
        description="Issued minus the relayed directive's issue date, in days, when both are "
        "full dates."
    )
    wording: str | None
    channel: str | None
    action: str | None
    requires: list[Node] = strawberry.field(description="What the directive requires (polls).")
    evidence: str | None
    source_ids: list[strawberry.ID]
    sources: list[Node]
    recipient_count: int = strawberry.field(description="All recipients of the directive.")
    recipients: list[Delivery] = strawberry.field(
        description="Deliveries with dates, at most maxRecipients per hop."
    )


@strawberry.type
class InstructionChain:
    version: int
    method: Method
    origin: Node | None
    origin_id: strawberry.ID
    hops: list[ChainHop]
    depth: int
    institutions_reached: int
    people_reached: int
    authorities_reached: int
    estimated_staff_reached: int
    truncated: bool = strawberry.field(description="maxHops cut the tree.")


@strawberry.type
class ReachingDirective:
    directive_id: strawberry.ID
    directive: Node | None
    origin_id: strawberry.ID = strawberry.field(
        description="The directive the chain starts from (relays no other)."
    )
    chain_length: int = strawberry.field(
        description="Directives from the origin down to this one, inclusive."
    )
    chain_truncated: bool = strawberry.field(
        description="maxChainHops cut the chain: it holds only the hops nearest this one."
    )
    chain: list[ChainHop] = strawberry.field(
        description="From the origin (or, when cut, the earliest hop kept) down to this one."
    )


@strawberry.type
class DirectivesReaching:
    version: int
    method: Method
    node: Node | None
    directives: list[ReachingDirective]
    truncated: bool


@strawberry.type
class CommandLink:
    from_id: strawberry.ID
    to_id: strawberry.ID
    to: Node | None
    type: str
    level: int


@strawberry.type
class ChainOfCommand:
    version: int
    method: Method
    node: Node | None
    links: list[CommandLink]
    tops: list[Node] = strawberry.field(description="Where the chain ends: answers to no one.")
    truncated: bool


@strawberry.type
class PathHop:
    from_id: strawberry.ID
    to_id: strawberry.ID
    to: Node | None
    type: str
    direction: Direction = strawberry.field(
        description="OUT when stored from -> to, IN when stored to -> from."
    )
    evidence: str | None
    source_ids: list[strawberry.ID]


@strawberry.type
class Path:
    length: int
    hops: list[PathHop]


@strawberry.type
class PathsResult:
    version: int
    method: Method
    length: int | None = strawberry.field(description="Hops on a shortest path, if any.")
    paths: list[Path]
    truncated: bool


# -- helpers --------------------------------------------------------------------------


def _budget(seconds: float | None) -> Budget:
    s = DEFAULT_SECONDS if seconds is None else seconds
    if not 0 < s <= MAX_SECONDS:
        raise InvalidArgument(f"timeBudgetSeconds must be above 0 and at most {MAX_SECONDS:g}")
    return Budget(s)


def _check_recipients(n: int) -> None:
    if not 0 <= n <= MAX_RECIPIENTS:
        raise InvalidArgument(f"maxRecipients must be between 0 and {MAX_RECIPIENTS}")


def _json(value: Any) -> JSON:
    """A plain value as the JSON scalar (for the type checker only)."""
    return cast(JSON, value)


def _method(m: MethodRecord) -> Method:
    return Method(name=m.name, reference=m.reference, parameters=_json(dict(m.parameters)))


def _spec(projection: ProjectionInput | None) -> ProjectionSpec:
    if projection is None:
        return ProjectionSpec.create()
    return ProjectionSpec.create(
        [k.value for k in projection.node_kinds] if projection.node_kinds else None,
        [t.value for t in projection.rel_types] if projection.rel_types else None,
        ProjectionDirection(projection.direction.value),
        projection.weight,
        projection.region,
        projection.date_from,
        projection.date_to,
        projection.min_evidence.value if projection.min_evidence else None,
    )


def _info(cached: CachedProjection) -> ProjectionInfo:
    p = cached.projection
    return ProjectionInfo(
        node_count=p.node_count,
        edge_count=p.edge_count,
        from_cache=cached.from_cache,
        spec=_json(p.spec.describe()),
    )


_FLOW_SPEC = ProjectionSpec.create(
    node_kinds=[k.name for k in NODE_KINDS], rel_types=reach_mod.FLOW_TYPES
)


def _flow(info: Info[Context, None], budget: Budget) -> CachedProjection:
    cached = PROJECTIONS.get(info.context.store, _FLOW_SPEC, budget)
    if not cached.from_cache:
        settle_after_operation()  # a new projection lives until the graph changes
    return cached


def _position(p_ids: dict[str, int], node_id: str, info: Info[Context, None]) -> int:
    try:
        split_node_id(node_id)
    except ModelError as e:
        raise InvalidArgument(str(e)) from None
    i = p_ids.get(node_id)
    if i is None:
        raise NotFound(f"there is no node {node_id!r}")
    return i


def _wrapped(records: dict[str, NodeRecord], node_id: str | None) -> Node | None:
    if node_id is None:
        return None
    r = records.get(node_id)
    return wrap_node(r) if r is not None else None


def _selected(selections: Sequence[Any], path: Sequence[str]) -> bool:
    """Whether the query selects the field at ``path`` (GraphQL names) below
    ``selections``, looking through fragments."""
    if not path:
        return True
    for s in selections:
        if isinstance(s, SelectedField):
            if s.name == path[0] and _selected(s.selections, path[1:]):
                return True
        elif _selected(getattr(s, "selections", ()), path):
            return True
    return False


def _wants(info: Info[Context, None], *path: str) -> bool:
    # ``selected_fields`` holds the field being resolved itself: look below it.
    return any(_selected(f.selections, path) for f in info.selected_fields)


#: Delivery fields read from the stored relationship (the rest come from the projection).
_DELIVERY_DETAILS = ("received", "channel", "lagDays", "evidence", "sourceIds")


def _wants_delivery_details(info: Info[Context, None], *at: str) -> bool:
    return any(_wants(info, *at, "recipients", name) for name in _DELIVERY_DETAILS)


def _chain_hops(
    info: Info[Context, None], hops: Sequence[chains_mod.Hop], at: Sequence[str]
) -> list[ChainHop]:
    """The hops as GraphQL objects; ``at`` is where the hops sit in the query, so that
    node records are fetched (in one batch) only for the node fields it selects."""
    want_directive = _wants(info, *at, "directive")
    want_issuers = _wants(info, *at, "issuers")
    want_requires = _wants(info, *at, "requires")
    want_sources = _wants(info, *at, "sources")
    want_recipients = _wants(info, *at, "recipients", "recipient")
    wanted: list[str] = []
    for h in hops:
        if want_directive:
            wanted.append(h.directive)
        if want_issuers:
            wanted.extend(h.issuers)
        if want_requires:
            wanted.extend(h.requires)
        if want_sources:
            wanted.extend(h.sources)
        if want_recipients:
            wanted.extend(d.recipient for d in h.deliveries)
    records = info.context.nodes(wanted) if wanted else {}
    ids = strawberry.ID

    def nodes(names: Sequence[str], wanted: bool) -> list[Node]:
        return [wrap_node(records[n]) for n in names if n in records] if wanted else []

    return [
        ChainHop(
            directive_id=ids(h.directive),
            directive=_wrapped(records, h.directive) if want_directive else None,
            level=h.level,
            relays_id=ids(h.relays) if h.relays else None,
            issuers=nodes(h.issuers, want_issuers),
            title=h.title,
            issued=h.issued,
            deadline=h.deadline,
            lag_days=h.lag_days,
            wording=h.wording,
            channel=h.channel,
            action=h.action,
            requires=nodes(h.requires, want_requires),
            evidence=h.evidence,
            source_ids=[ids(s) for s in h.sources],
            sources=nodes(h.sources, want_sources),
            recipient_count=h.recipient_count,
            recipients=[
                Delivery(
                    recipient_id=ids(d.recipient),
                    recipient=_wrapped(records, d.recipient) if want_recipients else None,
                    received=d.received,
                    channel=d.channel,
                    lag_days=d.lag_days,
                    evidence=d.evidence,
                    source_ids=[ids(s) for s in d.sources],
                )
                for d in h.deliveries
            ],
        )
        for h in hops
    ]


def _provenance(
    store: Store, p: Projection, hops: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], tuple[str | None, tuple[str, ...]]]:
    """Evidence and sources of each stored (source, type, target) hop, in two round trips:
    each hop's relationships are read from whichever end has fewer in the projection
    (the first relationship, by key, of a parallel set stands for it)."""
    index = p.index()
    out, inc = p.out_adjacency(), p.in_adjacency()
    wanted = set(hops)
    by_source: dict[str, None] = {}
    by_target: dict[str, None] = {}
    for s, _, t in wanted:
        i, j = index[s], index[t]
        if out.offsets[i + 1] - out.offsets[i] <= inc.offsets[j + 1] - inc.offsets[j]:
            by_source[s] = None
        else:
            by_target[t] = None
    types = sorted({ty for _, ty, _ in wanted})
    found: dict[tuple[str, str, str], tuple[str | None, tuple[str, ...]]] = {}
    for ends, direction in ((by_source, StoreDirection.OUT), (by_target, StoreDirection.IN)):
        if not ends:
            continue
        for rel in store.relationships_of(list(ends), types, direction):
            hop = (rel.source, rel.type, rel.target)
            if hop in wanted and hop not in found:
                found[hop] = (rel.provenance.evidence, rel.provenance.sources)
    return {hop: found.get(hop, (None, ())) for hop in wanted}


_BFS = "Moore 1959 (breadth-first search)"


# -- the query fields -----------------------------------------------------------------


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(
        description="Nodes ranked by a centrality measure on a projection (score desc, then "
        "id). Carries the graph version, the method with its reference, and parameters."
    )
    def centrality(
        self,
        info: Info[Context, None],
        measure: Measure,  # type: ignore[valid-type]
        projection: ProjectionInput | None = None,
        top: int = 20,
        normalized: bool = True,
        samples: int | None = None,
        seed: int | None = None,
        time_budget_seconds: float | None = None,
    ) -> CentralityResult:
        if not 1 <= top <= MAX_TOP:
            raise InvalidArgument(f"top must be between 1 and {MAX_TOP} (got {top})")
        budget = _budget(time_budget_seconds)
        kind = MeasureKind(measure.value)
        spec = _spec(projection)
        reach_table = None
        values: Sequence[float]
        if kind is MeasureKind.REACH:
            # Reach follows instruction flow as stored, whatever the projection's types.
            spec = spec.replace(
                rel_types=reach_mod.FLOW_TYPES, direction=ProjectionDirection.AS_STORED
            )
            cached = PROJECTIONS.get(info.context.store, spec, budget)
            reach_table = reach_mod.reach_table(cached.projection, budget)
            values = reach_table.scores()
            method = MethodRecord(
                "instruction reach",
                REFERENCES[MeasureKind.REACH],
                {
                    "counts": ["Institution", "Person"],
                    "follows": ["ISSUED", "TARGETS", "RELAYS (reversed)"],
                },
            )
            sampled = False
        else:
            if samples is not None and kind is not MeasureKind.BETWEENNESS:
                raise InvalidArgument("samples applies to BETWEENNESS only")
            cached = PROJECTIONS.get(info.context.store, spec, budget)
            scores = compute_centrality(
                cached.projection,
                kind,
                normalized=normalized,
                samples=samples,
                seed=seed,
                budget=budget,
            )
            values, method, sampled = scores.values, scores.method, scores.sampled
        p = cached.projection
        ranked = rank_top(values, p.node_ids, top)
        records = info.context.nodes([p.node_ids[r.index] for r in ranked])
        reach_sets: dict[int, reach_mod.ReachSet] = {}
        if reach_table is not None:
            reach_sets = {r.index: reach_table.reach_set(r.index) for r in ranked}
            # Every institution's staff_count in one round trip, not one per entry.
            info.context.nodes(
                list(
                    dict.fromkeys(
                        p.node_ids[i] for rs in reach_sets.values() for i in rs.institutions
                    )
                )
            )
        entries: list[CentralityEntry] = []
        for r in ranked:
            node_id = p.node_ids[r.index]
            entry = CentralityEntry(
                node_id=strawberry.ID(node_id),
                node=_wrapped(records, node_id),
                score=r.score,
                rank=r.rank,
            )
            if reach_table is not None:
                rs = reach_sets[r.index]
                entry.institutions_reached = len(rs.institutions)
                entry.people_reached = len(rs.people)
                entry.staff_reached = chains_mod.staff_reached(p, rs, info.context.nodes)
            entries.append(entry)
        return CentralityResult(
            measure=measure,
            version=p.version,
            method=_method(method),
            projection=_info(cached),
            sampled=sampled,
            entries=entries,
        )

    @strawberry.field(
        description="From a directive's origin (or the directive itself), the tree of relays "
        "down to every target, with dates, lags, wording, channel and provenance per hop."
    )
    def instruction_chain(
        self,
        info: Info[Context, None],
        directive_id: strawberry.ID,
        from_origin: bool = True,
        max_hops: int = 10_000,
        max_recipients: int = 100,
        time_budget_seconds: float | None = None,
    ) -> InstructionChain:
        if not 1 <= max_hops <= MAX_CHAIN_HOPS:
            raise InvalidArgument(f"maxHops must be between 1 and {MAX_CHAIN_HOPS}")
        _check_recipients(max_recipients)
        budget = _budget(time_budget_seconds)
        cached = _flow(info, budget)
        p = cached.projection
        d = _position(p.index(), directive_id, info)
        if p.node_kinds[d] != "Directive":
            raise InvalidArgument(f"{directive_id} is not a Directive")
        tree = chains_mod.instruction_tree(
            p, d, from_origin=from_origin, max_hops=max_hops, budget=budget
        )
        hops = chains_mod.chain_details(
            info.context.store,
            p,
            tree.hops,
            info.context.nodes,
            max_recipients,
            _wants_delivery_details(info, "hops"),
        )
        origin_id = p.node_ids[tree.origin]
        return InstructionChain(
            version=p.version,
            method=Method(
                name="instruction chain (breadth-first over reversed RELAYS and TARGETS)",
                reference=_BFS,
                parameters=_json({"fromOrigin": from_origin, "maxHops": max_hops}),
            ),
            origin=_wrapped(info.context.nodes([origin_id]), origin_id),
            origin_id=strawberry.ID(origin_id),
            hops=_chain_hops(info, hops, ("hops",)),
            depth=tree.depth,
            institutions_reached=len(tree.reach.institutions),
            people_reached=len(tree.reach.people),
            authorities_reached=len(tree.reach.authorities),
            estimated_staff_reached=chains_mod.staff_reached(p, tree.reach, info.context.nodes),
            truncated=tree.truncated,
        )

    @strawberry.field(
        description="Every directive that targeted a node, each with its chain of relays "
        "back to the origin (the maxChainHops hops nearest the directive)."
    )
    def directives_reaching(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        first: int = 100,
        max_chain_hops: int = 50,
        max_recipients: int = 20,
        time_budget_seconds: float | None = None,
    ) -> DirectivesReaching:
        if not 1 <= first <= MAX_REACHING:
            raise InvalidArgument(f"first must be between 1 and {MAX_REACHING}")
        if not 1 <= max_chain_hops <= MAX_CHAIN_HOPS_REACHING:
            raise InvalidArgument(f"maxChainHops must be between 1 and {MAX_CHAIN_HOPS_REACHING}")
        _check_recipients(max_recipients)
        budget = _budget(time_budget_seconds)
        p = _flow(info, budget).projection
        v = _position(p.index(), id, info)
        found, truncated = chains_mod.directives_reaching(p, v, first, max_chain_hops)
        tree_hops: dict[tuple[int, int | None], chains_mod.TreeHop] = {}
        make_hop = chains_mod.hop_maker(p)
        parents: list[int | None] = []  # per found directive: what its earliest hop relays
        for r in found:
            start = r.up.length - len(r.up.chain)  # the level of the earliest hop kept
            parent = r.up.beyond
            parents.append(parent)
            for level, d in enumerate(r.up.chain, start=start):
                if (d, parent) not in tree_hops:
                    tree_hops[d, parent] = make_hop(d, level, parent)
                parent = d
            budget.check("directivesReaching", "lower first or maxChainHops")
        details = chains_mod.chain_details(
            info.context.store,
            p,
            list(tree_hops.values()),
            info.context.nodes,
            max_recipients,
            _wants_delivery_details(info, "directives", "chain"),
        )
        hops = _chain_hops(info, details, ("directives", "chain"))
        by_key = dict(zip(tree_hops, hops, strict=True))
        wanted = [id] if _wants(info, "node") else []
        if _wants(info, "directives", "directive"):
            wanted.extend(p.node_ids[r.directive] for r in found)
        records = info.context.nodes(wanted) if wanted else {}
        directives = []
        for r, parent in zip(found, parents, strict=True):
            chain: list[ChainHop] = []
            for d in r.up.chain:
                chain.append(by_key[d, parent])
                parent = d
            d_id = p.node_ids[r.directive]
            directives.append(
                ReachingDirective(
                    directive_id=strawberry.ID(d_id),
                    directive=_wrapped(records, d_id),
                    origin_id=strawberry.ID(p.node_ids[r.up.origin]),
                    chain_length=r.up.length,
                    chain_truncated=r.up.cut,
                    chain=chain,
                )
            )
        return DirectivesReaching(
            version=p.version,
            method=Method(
                name="directives targeting the node, chains followed up RELAYS",
                reference=_BFS,
                parameters=_json({"first": first, "maxChainHops": max_chain_hops}),
            ),
            node=_wrapped(records, id),
            directives=directives,
            truncated=truncated,
        )

    @strawberry.field(description="A node's way up WORKS_AT / SUBORDINATE_TO to the top.")
    def chain_of_command(
        self, info: Info[Context, None], id: strawberry.ID, max_levels: int = 50
    ) -> ChainOfCommand:
        if not 1 <= max_levels <= 200:
            raise InvalidArgument("maxLevels must be between 1 and 200")
        p = _flow(info, _budget(None)).projection
        v = _position(p.index(), id, info)
        chain = chains_mod.chain_of_command(p, v, max_levels)
        ids = p.node_ids
        records = info.context.nodes(
            [id, *(ids[link.target] for link in chain.links), *(ids[t] for t in chain.tops)]
        )
        return ChainOfCommand(
            version=p.version,
            method=Method(
                name="chain of command (breadth-first up WORKS_AT and SUBORDINATE_TO)",
                reference=_BFS,
                parameters=_json({"maxLevels": max_levels}),
            ),
            node=_wrapped(records, id),
            links=[
                CommandLink(
                    from_id=strawberry.ID(ids[link.source]),
                    to_id=strawberry.ID(ids[link.target]),
                    to=_wrapped(records, ids[link.target]),
                    type=link.type,
                    level=link.level,
                )
                for link in chain.links
            ],
            tops=[n for t in chain.tops if (n := _wrapped(records, ids[t])) is not None],
            truncated=chain.truncated,
        )

    @strawberry.field(
        description="Shortest paths between two nodes over chosen relationship types "
        "(direction BOTH by default), each hop with its relationship, direction and sources."
    )
    def paths(
        self,
        info: Info[Context, None],
        from_: Annotated[strawberry.ID, strawberry.argument(name="from")],
        to: strawberry.ID,
        rel_types: list[RelationshipTypeEnum] | None = None,  # type: ignore[valid-type]
        direction: Direction = Direction.BOTH,
        max_hops: int = 6,
        first: int = 10,
        time_budget_seconds: float | None = None,
    ) -> PathsResult:
        if not 1 <= max_hops <= PATH_MAX_HOPS:
            raise InvalidArgument(f"maxHops must be between 1 and {PATH_MAX_HOPS}")
        if not 1 <= first <= 100:
            raise InvalidArgument("first must be between 1 and 100")
        budget = _budget(time_budget_seconds)
        spec = ProjectionSpec.create(
            node_kinds=[k.name for k in NODE_KINDS],
            rel_types=[t.value for t in rel_types] if rel_types else None,
        )
        p = PROJECTIONS.get(info.context.store, spec, budget).projection
        index = p.index()
        a = _position(index, from_, info)
        b = _position(index, to, info)
        result = shortest_paths(
            p, a, b, walk=Walk(direction.value), max_hops=max_hops, first=first, budget=budget
        )
        ids = p.node_ids
        stored_hops = [
            (ids[h.source], h.type, ids[h.target])
            if h.direction == "out"
            else (ids[h.target], h.type, ids[h.source])
            for path in result.paths
            for h in path
        ]
        provenance = _provenance(info.context.store, p, stored_hops)
        stored = iter(stored_hops)
        records = info.context.nodes([ids[h.target] for path in result.paths for h in path])
        paths = []
        for path in result.paths:
            hops = []
            for h in path:
                s, t = ids[h.source], ids[h.target]
                evidence, sources = provenance[next(stored)]
                hops.append(
                    PathHop(
                        from_id=strawberry.ID(s),
                        to_id=strawberry.ID(t),
                        to=_wrapped(records, t),
                        type=h.type,
                        direction=Direction.OUT if h.direction == "out" else Direction.IN,
                        evidence=evidence,
                        source_ids=[strawberry.ID(x) for x in sources],
                    )
                )
            paths.append(Path(length=len(hops), hops=hops))
        return PathsResult(
            version=p.version,
            method=Method(
                name="all shortest paths (breadth-first search)",
                reference=_BFS,
                parameters=_json(
                    {
                        "relTypes": list(spec.rel_types) if spec.rel_types else None,
                        "direction": direction.name,
                        "maxHops": max_hops,
                        "first": first,
                    }
                ),
            ),
            length=result.length,
            paths=paths,
            truncated=result.truncated,
        )
