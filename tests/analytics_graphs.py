"""Helpers for the analytics tests: projections built straight from edge lists, and the
same graph as networkx sees it."""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import networkx as nx

from graph_service.analytics.projection import Projection, ProjectionDirection, ProjectionSpec


def projection(
    n: int,
    edges: Sequence[tuple[int, int]],
    direction: ProjectionDirection = ProjectionDirection.AS_STORED,
    weights: Sequence[float] | None = None,
) -> Projection:
    """Nodes ``N:0000 .. N:n-1`` (ids sort like their numbers), one relationship type."""
    spec = ProjectionSpec(direction=direction, weight="w" if weights is not None else None)
    return Projection(
        spec=spec,
        version=1,
        node_ids=[f"Institution:{i:04d}" for i in range(n)],
        node_kinds=["Institution"] * n,
        sources=array("i", [s for s, _ in edges]),
        targets=array("i", [t for _, t in edges]),
        types=array("b", [0] * len(edges)),
        rel_types=["SUBORDINATE_TO"],
        weights=array("d", weights) if weights is not None else None,
    )


def networkx_graph(p: Projection) -> nx.Graph:
    """The projection's simple graph as networkx builds it: parallel edges merged with
    summed weights (weight 1 when unweighted), self-loops dropped, nodes in projection order."""
    g: nx.Graph = nx.DiGraph() if p.directed else nx.Graph()
    g.add_nodes_from(range(p.node_count))
    reverse = p.spec.direction is ProjectionDirection.REVERSED
    for j, (s, t) in enumerate(zip(p.sources, p.targets, strict=True)):
        if s == t:
            continue
        u, v = (t, s) if reverse else (s, t)
        w = p.weights[j] if p.weights is not None else 1.0
        if g.has_edge(u, v):
            if p.weights is not None:
                g[u][v]["weight"] += w
        else:
            g.add_edge(u, v, weight=w)
    return g
