"""Shortest paths between two nodes over chosen relationship types.

Breadth-first search from the start, layer by layer, recording every predecessor on a
shortest path; it stops at the target's layer or at ``max_hops``, so it ends on cycles
and is bounded. The paths are then enumerated (at most ``first``) in id order.

References
----------
.. [1] E. F. Moore, "The shortest path through a maze", Proc. Int. Symp. on the Theory
   of Switching (1959) 285-292.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from graph_service.analytics.budget import Budget
from graph_service.analytics.projection import Projection

MAX_HOPS = 12
MAX_VISITED = 2_000_000


class Walk(StrEnum):
    """Which way a path may use a relationship."""

    OUT = "out"  # as stored
    IN = "in"  # against the stored direction
    BOTH = "both"


@dataclass(frozen=True)
class PathHop:
    source: int  # the node the hop leaves (along the path)
    target: int
    type: str
    direction: str  # "out" when stored source -> target, "in" when stored target -> source


@dataclass(frozen=True)
class PathsResult:
    paths: list[list[PathHop]]
    length: int | None  # hops on a shortest path; None when there is none within max_hops
    truncated: bool  # more shortest paths than ``first``, or the search hit a cap


def shortest_paths(
    p: Projection,
    start: int,
    goal: int,
    *,
    walk: Walk = Walk.BOTH,
    max_hops: int = MAX_HOPS,
    first: int = 10,
    budget: Budget | None = None,
) -> PathsResult:
    """All shortest paths from ``start`` to ``goal`` (up to ``first`` of them)."""
    budget = budget or Budget()
    if start == goal:
        return PathsResult([[]], 0, False)
    sides = []
    if walk in (Walk.OUT, Walk.BOTH):
        sides.append((p.out_adjacency(), "out"))
    if walk in (Walk.IN, Walk.BOTH):
        sides.append((p.in_adjacency(), "in"))
    level = {start: 0}
    preds: dict[int, list[tuple[int, int, str]]] = {}
    frontier = [start]
    depth = 0
    found = False
    capped = False
    while frontier and depth < max_hops and not found:
        depth += 1
        nxt: list[int] = []
        for v in frontier:
            for adjacency, direction in sides:
                for w, ty in adjacency.of(v):
                    seen = level.get(w)
                    if seen is None:
                        level[w] = depth
                        nxt.append(w)
                        preds[w] = [(v, ty, direction)]
                    elif seen == depth:
                        preds[w].append((v, ty, direction))
        found = goal in level
        frontier = nxt
        if len(level) > MAX_VISITED:
            capped = True
            break
        budget.check("the path search", "lower maxHops or narrow relTypes")
    if not found:
        return PathsResult([], None, capped)
    ids, names = p.node_ids, p.rel_types
    paths: list[list[PathHop]] = []
    more = False

    def unwind(w: int, tail: list[PathHop]) -> None:
        nonlocal more
        if len(paths) >= first:
            more = True
            return
        if w == start:
            paths.append(list(reversed(tail)))
            return
        options = sorted(set(preds[w]), key=lambda e: (ids[e[0]], names[e[1]], e[2]))
        for v, ty, direction in options:
            tail.append(PathHop(v, w, names[ty], direction))
            unwind(v, tail)
            tail.pop()

    unwind(goal, [])
    return PathsResult(paths, level[goal], more or capped)
