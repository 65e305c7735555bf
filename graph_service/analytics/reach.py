"""Reach: how many institutions and people a node's instructions actually reached.

Instruction flows issuer -ISSUED-> directive -TARGETS-> recipient, and from a directive
to every directive that RELAYS it (the stored RELAYS relationship points from the newer
directive to the earlier one, so the flow runs against it). A node's *reach* is the set
of Institution and Person nodes targeted by the directives it issued or by any relay of
them, at any depth; a directive's reach is that of itself and its relays. Subordination
and employment alone reach nobody: only a directive that targets a node reaches it.

The staff estimate for a reach set counts, for each institution reached, its
``staff_count`` or the number of people listed as working there (WORKS_AT), whichever is
larger, plus the people reached who are listed at no reached institution.

References
----------
.. [1] Breadth-first search: E. F. Moore, "The shortest path through a maze",
   Proc. Int. Symp. on the Theory of Switching (1959) 285-292.
.. [2] Strongly connected components (to stay exact on relay cycles): R. Tarjan,
   "Depth-first search and linear graph algorithms", SIAM J. Computing 1(2) (1972)
   146-160. doi:10.1137/0201010
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graph_service.analytics.budget import PYTHON_RATE, Budget
from graph_service.analytics.projection import Projection

#: The relationship types reach and chains need, as stored.
FLOW_TYPES = ("ISSUED", "TARGETS", "RELAYS", "REQUIRES", "WORKS_AT", "SUBORDINATE_TO")
COUNTED_KINDS = ("Institution", "Person")
_MAX_SET_ELEMENTS = 30_000_000


@dataclass(frozen=True)
class FlowCodes:
    issued: int
    targets: int
    relays: int
    requires: int
    works_at: int
    subordinate_to: int

    @staticmethod
    def of(p: Projection) -> FlowCodes:
        """The projection's codes for :data:`FLOW_TYPES` (-1 for a type it lacks)."""
        codes = p.derived.get("flow_codes")
        if codes is None:
            codes = p.derived["flow_codes"] = FlowCodes(*(p.type_code(t) for t in FLOW_TYPES))
        assert isinstance(codes, FlowCodes)
        return codes


@dataclass(frozen=True)
class ReachSet:
    """What one node's instructions reached (projection positions)."""

    directives: list[int]  # the node's own directives and every relay of them
    institutions: list[int]
    people: list[int]
    authorities: list[int]

    @property
    def score(self) -> int:
        return len(self.institutions) + len(self.people)


def issued_by(p: Projection, node: int) -> list[int]:
    """The directives a node issued (a directive stands for itself)."""
    if p.node_kinds[node] == "Directive":
        return [node]
    code = FlowCodes.of(p).issued
    return [d for d, t in p.out_adjacency().of(node) if t == code]


def reach_from(p: Projection, node: int, max_directives: int | None = None) -> ReachSet:
    """Breadth-first over the node's directives, their relays, and their targets."""
    codes = FlowCodes.of(p)
    out, inc = p.out_adjacency(), p.in_adjacency()
    kinds = p.node_kinds
    frontier = issued_by(p, node)
    seen = dict.fromkeys(frontier)
    reached: dict[int, None] = {}
    queue = list(frontier)
    for d in queue:  # the list grows while we walk it: breadth-first
        for t, ty in out.of(d):
            if ty == codes.targets:
                reached[t] = None
        for newer, ty in inc.of(d):
            if ty == codes.relays and newer not in seen and kinds[newer] == "Directive":
                seen[newer] = None
                queue.append(newer)
                if max_directives is not None and len(queue) > max_directives:
                    break
    return split_reach(p, list(seen), reached)


def split_reach(p: Projection, directives: list[int], reached: Iterable[int]) -> ReachSet:
    kinds = p.node_kinds
    inst, people, auth = [], [], []
    for r in reached:
        k = kinds[r]
        if k == "Institution":
            inst.append(r)
        elif k == "Person":
            people.append(r)
        elif k == "Authority":
            auth.append(r)
    return ReachSet(directives, inst, people, auth)


def staff_estimate(p: Projection, reach: ReachSet, staff_counts: Mapping[int, int | None]) -> int:
    """Estimated staff reached (see the module docstring); ``staff_counts`` holds the
    ``staff_count`` property of (at least) the institutions reached."""
    works_at = FlowCodes.of(p).works_at
    inc = p.in_adjacency()
    listed_at_reached: set[int] = set()
    total = 0
    for inst in reach.institutions:
        listed = {person for person, ty in inc.of(inst) if ty == works_at}
        listed_at_reached |= listed
        total += max(staff_counts.get(inst) or 0, len(listed))
    total += sum(1 for person in reach.people if person not in listed_at_reached)
    return total


class ReachTable:
    """Reach of every node of a projection at once, exact on relay cycles.

    Directives are grouped into strongly connected components of the relay graph (a
    cycle of relays reaches what any of its members reaches); the components are
    processed children first, each one's reach the union of its own targets and its
    relays' reach.
    """

    def __init__(self, p: Projection, budget: Budget | None = None) -> None:
        import igraph

        budget = budget or Budget()
        self.projection = p
        codes = FlowCodes.of(p)
        kinds = p.node_kinds
        counted = {"Institution", "Person"}
        directives = [i for i, k in enumerate(kinds) if k == "Directive"]
        local = {d: j for j, d in enumerate(directives)}
        relay_edges = [
            (local[e], local[s])  # earlier -> newer: the direction instructions travel
            for s, e, ty in zip(p.sources, p.targets, p.types, strict=True)
            if ty == codes.relays and s in local and e in local
        ]
        g = igraph.Graph(n=len(directives), edges=relay_edges, directed=True)
        components = g.connected_components(mode="strong")
        membership = components.membership
        condensed = components.cluster_graph(combine_edges=False)
        own: list[list[int]] = [[] for _ in range(len(components))]
        for j, d in enumerate(directives):
            own[membership[j]].extend(
                t
                for t, ty in p.out_adjacency().of(d)
                if ty == codes.targets and kinds[t] in counted
            )
        order = condensed.topological_sorting(mode="out")
        children = [sorted({c for c in condensed.successors(v) if c != v}) for v in range(len(own))]
        upper = [0] * len(own)
        for v in reversed(order):
            upper[v] = len(own[v]) + sum(upper[c] for c in children[v])
        total = sum(upper)
        budget.require(
            total,
            PYTHON_RATE * 20,
            "REACH on this projection",
            "narrow the projection, or ask instructionChain for particular directives",
        )
        if total > _MAX_SET_ELEMENTS:
            from graph_service.errors import BudgetExceeded

            raise BudgetExceeded(
                f"REACH would hold {total} reach-set entries in memory; narrow the projection "
                "(region, date window), or ask instructionChain for particular directives"
            )
        sets: list[frozenset[int]] = [frozenset()] * len(own)
        for v in reversed(order):
            s = set(own[v])
            for c in children[v]:
                s |= sets[c]
            sets[v] = frozenset(s)
        self._component = {d: membership[j] for j, d in enumerate(directives)}
        self._sets = sets

    def members(self, node: int) -> frozenset[int]:
        """Institutions and people reached by ``node``'s instructions."""
        directives = issued_by(self.projection, node)
        if len(directives) == 1:
            c = self._component.get(directives[0])
            return self._sets[c] if c is not None else frozenset()
        out: set[int] = set()
        for d in directives:
            c = self._component.get(d)
            if c is not None:
                out |= self._sets[c]
        return frozenset(out)

    def scores(self) -> list[float]:
        p = self.projection
        issued = FlowCodes.of(p).issued
        values = [0.0] * p.node_count
        starts = {i for i, k in enumerate(p.node_kinds) if k == "Directive"}
        starts.update(s for s, ty in zip(p.sources, p.types, strict=True) if ty == issued)
        for i in starts:
            values[i] = float(len(self.members(i)))
        return values

    def reach_set(self, node: int) -> ReachSet:
        return split_reach(self.projection, issued_by(self.projection, node), self.members(node))


def reach_table(p: Projection, budget: Budget | None = None) -> ReachTable:
    """The projection's reach table, computed once and kept with the projection."""
    table = p.derived.get("reach")
    if table is None:
        table = ReachTable(p, budget)
        p.derived["reach"] = table
    assert isinstance(table, ReachTable)
    return table
