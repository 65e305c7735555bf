"""Centrality measures on a projection, following networkx's definitions and defaults.

Every measure returns one score per projection node, computed on the projection's simple
graph (see :mod:`graph_service.analytics.projection`). Heavy kernels run on igraph, and
PageRank on scipy's sparse matrices; the results equal networkx's on the same graph (the
tests check each measure):

===============  ==========================================  ==============================
measure          networkx reference                          engine
===============  ==========================================  ==============================
DEGREE           ``degree_centrality``                       igraph degrees
IN_DEGREE        ``in_degree_centrality``                    igraph degrees
OUT_DEGREE       ``out_degree_centrality``                   igraph degrees
PAGERANK         ``pagerank(alpha=0.85)``                    BiCGSTAB (:mod:`.pagerank`)
BETWEENNESS      ``betweenness_centrality(k, seed)``         igraph (Brandes)
CLOSENESS        ``closeness_centrality(wf_improved=True)``  igraph
HARMONIC         ``harmonic_centrality``                     igraph
EIGENVECTOR      ``eigenvector_centrality``                  igraph ARPACK or power iteration
REACH            (this project: see :mod:`.reach`)           breadth-first search
===============  ==========================================  ==============================

References
----------
.. [1] L. C. Freeman, "Centrality in social networks: conceptual clarification",
   Social Networks 1 (1979) 215-239. doi:10.1016/0378-8733(78)90021-7
.. [2] L. Page, S. Brin, R. Motwani, T. Winograd, "The PageRank citation ranking:
   bringing order to the web", Stanford InfoLab technical report, 1999.
.. [3] U. Brandes, "A faster algorithm for betweenness centrality", Journal of
   Mathematical Sociology 25(2) (2001) 163-177. doi:10.1080/0022250X.2001.9990249
.. [4] U. Brandes, C. Pich, "Centrality estimation in large networks", International
   Journal of Bifurcation and Chaos 17(7) (2007) 2303-2318. doi:10.1142/S0218127407018403
.. [5] S. Wasserman, K. Faust, "Social Network Analysis: Methods and Applications",
   Cambridge University Press, 1994 (closeness with the Wasserman-Faust correction).
.. [6] M. Marchiori, V. Latora, "Harmony in the small-world", Physica A 285 (2000)
   539-546. doi:10.1016/S0378-4371(00)00311-3
.. [7] P. Bonacich, "Power and centrality: a family of measures", American Journal of
   Sociology 92(5) (1987) 1170-1182. doi:10.1086/228631
"""

from __future__ import annotations

import heapq
import math
import random
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from itertools import repeat
from operator import ge
from typing import Any

import numpy as np

from graph_service.analytics.budget import COMPILED_RATE, PYTHON_RATE, Budget
from graph_service.analytics.pagerank import (
    DAMPING,
    ERROR_BOUND,
    SOLVER,
    PageRankSystem,
    build_system,
    transition,
)
from graph_service.analytics.pagerank import solve as solve_pagerank
from graph_service.analytics.projection import Projection, ProjectionDirection
from graph_service.errors import BudgetExceeded, InvalidArgument


class Measure(StrEnum):
    DEGREE = "degree"
    IN_DEGREE = "in_degree"
    OUT_DEGREE = "out_degree"
    PAGERANK = "pagerank"
    BETWEENNESS = "betweenness"
    CLOSENESS = "closeness"
    HARMONIC = "harmonic"
    EIGENVECTOR = "eigenvector"
    REACH = "reach"


@dataclass(frozen=True)
class Method:
    """How a result was computed: enough to cite and to reproduce it."""

    name: str
    reference: str
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scores:
    """One score per projection node, and how they were computed."""

    values: Sequence[float]
    method: Method
    sampled: bool = False


REFERENCES = {
    Measure.DEGREE: "Freeman 1979, doi:10.1016/0378-8733(78)90021-7",
    Measure.IN_DEGREE: "Freeman 1979, doi:10.1016/0378-8733(78)90021-7",
    Measure.OUT_DEGREE: "Freeman 1979, doi:10.1016/0378-8733(78)90021-7",
    Measure.PAGERANK: "Page, Brin, Motwani, Winograd 1999 (Stanford InfoLab 1999-66)",
    Measure.BETWEENNESS: "Brandes 2001, doi:10.1080/0022250X.2001.9990249",
    Measure.CLOSENESS: "Freeman 1979; Wasserman & Faust 1994 (disconnected graphs)",
    Measure.HARMONIC: "Marchiori & Latora 2000, doi:10.1016/S0378-4371(00)00311-3",
    Measure.EIGENVECTOR: "Bonacich 1987, doi:10.1086/228631",
    Measure.REACH: "pressure-graph instruction reach (breadth-first search over ISSUED, "
    "TARGETS and reversed RELAYS)",
}

_SAMPLED_REFERENCE = "Brandes & Pich 2007, doi:10.1142/S0218127407018403"
_NARROW = "narrow the projection (nodeKinds, relTypes, region, date window)"


def centrality(
    projection: Projection,
    measure: Measure,
    *,
    normalized: bool = True,
    samples: int | None = None,
    seed: int | None = None,
    budget: Budget | None = None,
) -> Scores:
    """Score every node of ``projection`` by ``measure`` (not REACH: see :mod:`.reach`).

    Parameters
    ----------
    normalized
        Degree: divide by ``n - 1``; betweenness: divide by the number of pairs
        ``(n - 1)(n - 2)`` (as networkx does). The other measures have one definition
        (PageRank sums to 1, eigenvector has unit Euclidean norm, closeness is
        Wasserman-Faust improved, harmonic is a plain sum) and ignore it.
    samples, seed
        Betweenness only: estimate from ``samples`` source nodes drawn with ``seed``
        (networkx's ``k`` and ``seed``; the same seed draws the same sources).
    """
    budget = budget or Budget()
    if measure is Measure.REACH:
        raise InvalidArgument("REACH is computed by graph_service.analytics.reach")
    if measure in (Measure.DEGREE, Measure.IN_DEGREE, Measure.OUT_DEGREE):
        return _degree(projection, measure, normalized)
    if measure is Measure.PAGERANK:
        return _pagerank(projection, budget)
    if measure is Measure.BETWEENNESS:
        return _betweenness(projection, normalized, samples, seed, budget)
    if measure is Measure.CLOSENESS:
        return _closeness(projection, budget)
    if measure is Measure.HARMONIC:
        return _harmonic(projection, budget)
    return _eigenvector(projection, budget)


def _weights(p: Projection) -> str | None:
    return "weight" if p.weights is not None else None


def _params(p: Projection, **extra: Any) -> dict[str, Any]:
    return {"directed": p.directed, "weight": p.spec.weight, **extra}


def _degree(p: Projection, measure: Measure, normalized: bool) -> Scores:
    """Degree centrality: the number of neighbours (in, out or both), divided by ``n - 1``
    when normalized (networkx ``degree_centrality``; a one-node graph scores 1)."""
    g = p.graph()
    n = p.node_count
    mode = {Measure.DEGREE: "all", Measure.IN_DEGREE: "in", Measure.OUT_DEGREE: "out"}[measure]
    if not p.directed:
        mode = "all"
    degrees = g.degree(mode=mode)
    if normalized:
        values: list[float] = [1.0] * n if n <= 1 else [d / (n - 1) for d in degrees]
    else:
        values = [float(d) for d in degrees]
    name = {"all": "degree", "in": "in-degree", "out": "out-degree"}[mode]
    return Scores(
        values,
        Method(f"{name} centrality", REFERENCES[measure], _params(p, normalized=normalized)),
    )


def _pagerank(p: Projection, budget: Budget) -> Scores:
    """PageRank with damping 0.85; dangling nodes spread their rank uniformly (networkx
    ``pagerank`` defaults). Solved as a linear system on a reduced graph, to a certified
    L1 error of at most 1e-10 (see :mod:`.pagerank`); the reduced system is built on the
    first call and kept with the projection."""
    n, m = p.node_count, p.edge_count
    if "pagerank_system" not in p.derived:
        budget.require(
            # Building the reduced system: a few sorts and sparse products over the
            # relationships (1.3 s of CPU for 1M nodes / 3M relationships, measured on a
            # busy two-core machine; this says 3 s).
            15 * (n + m),
            COMPILED_RATE,
            "preparing PageRank on this projection",
            _NARROW,
        )
    system = p.derive("pagerank_system", partial(_pagerank_system, p), PageRankSystem.size)
    budget.require(
        # About 30-40 products of the reduced matrix plus one pass over the eliminated
        # levels: 0.13 s for 1M nodes / 3M relationships when quiet, 0.5 s on a busy
        # machine; this says about 1 s.
        5 * (system.reduced.nnz + system.unknowns) + 2 * system.size(),
        COMPILED_RATE,
        "PageRank on this projection",
        _NARROW,
    )
    solution = solve_pagerank(system, budget)
    return Scores(
        # A float array, not a list: one copy of the buffer instead of a million floats,
        # and rank_top reads it with numpy.
        array("d", solution.values.tobytes()),
        Method(
            "PageRank",
            REFERENCES[Measure.PAGERANK],
            _params(
                p,
                damping=DAMPING,
                solver=SOLVER,
                errorBound=ERROR_BOUND,
            ),
        ),
    )


def _pagerank_system(p: Projection) -> PageRankSystem:
    reverse = p.spec.direction is ProjectionDirection.REVERSED
    sources, targets = (p.targets, p.sources) if reverse else (p.sources, p.targets)
    return build_system(transition(p.node_count, sources, targets, p.weights, p.directed))


def _betweenness(
    p: Projection, normalized: bool, samples: int | None, seed: int | None, budget: Budget
) -> Scores:
    """Betweenness: the share of shortest paths between other pairs that pass through a
    node (Brandes 2001), normalized by ``(n - 1)(n - 2)`` as networkx does; with
    ``samples`` = k, the Brandes-Pich estimate from k random sources, scaled by n / k."""
    g = p.graph()
    n, m = g.vcount(), g.ecount()
    if samples is not None and not 1 <= samples <= max(n, 1):
        raise InvalidArgument(f"samples must be between 1 and the node count {n}")
    sources = n if samples is None else samples
    cost = float(sources) * (n + m) * (math.log2(n + 2) if p.weights is not None else 1.0)
    if samples is None:
        advice = f"pass `samples` (e.g. samples: 200, seed: 1) for a sampled estimate, or {_NARROW}"
    else:
        advice = f"use fewer samples, or {_NARROW}"
    budget.require(
        cost,
        COMPILED_RATE,
        f"{'sampled' if samples else 'exact'} betweenness on {n} nodes and {m} edges",
        advice,
    )
    picked: list[int] | None = None
    if samples is not None and samples < n:
        picked = random.Random(seed).sample(range(n), samples)
    if picked is None:
        raw = g.betweenness(directed=p.directed, weights=_weights(p))
    else:
        raw = g.betweenness(directed=p.directed, weights=_weights(p), sources=picked)
    values = _rescale_betweenness(raw, n, p.directed, normalized, picked)
    params = _params(p, normalized=normalized, samples=samples, seed=seed)
    reference = REFERENCES[Measure.BETWEENNESS]
    if picked is not None:
        reference = f"{reference}; sampled: {_SAMPLED_REFERENCE}"
    name = "betweenness centrality" + (" (sampled sources)" if picked is not None else "")
    return Scores(values, Method(name, reference, params), sampled=picked is not None)


def _rescale_betweenness(
    raw: Sequence[float], n: int, directed: bool, normalized: bool, picked: list[int] | None
) -> list[float]:
    """networkx 3.6's rescaling (endpoints excluded): over ``N = n - 1`` possible targets;
    with k sampled sources, a sampled node is scaled over ``k - 1`` sources (its own
    search says nothing about it) and the others over ``k``."""
    pairs = 1 if directed else 2  # igraph counts an undirected pair once, networkx twice
    big_n = n - 1
    if big_n < 2:
        return [b * pairs for b in raw]
    if picked is None:
        scale = 1 / (big_n * (big_n - 1)) if normalized else 1 / pairs
        return [b * pairs * scale for b in raw]
    k = len(picked)
    if normalized:
        on_source = 1 / ((k - 1) * (big_n - 1)) if k > 1 else 0.0
        off_source = 1 / (k * (big_n - 1))
    else:
        on_source = big_n / ((k - 1) * pairs) if k > 1 else 0.0
        off_source = big_n / (k * pairs)
    sources = set(picked)
    return [b * pairs * (on_source if v in sources else off_source) for v, b in enumerate(raw)]


def _all_pairs_cost(p: Projection, budget: Budget, what: str) -> None:
    g = p.graph()
    n, m = g.vcount(), g.ecount()
    factor = math.log2(n + 2) if p.weights is not None else 1.0
    budget.require(
        float(n) * (n + m) * factor,
        COMPILED_RATE,
        f"{what} on {n} nodes and {m} edges (one search per node)",
        _NARROW,
    )


def _closeness(p: Projection, budget: Budget) -> Scores:
    """Closeness: ``(r - 1) / sum of distances`` from the ``r - 1`` nodes that reach a node,
    times ``(r - 1) / (n - 1)`` (Wasserman-Faust), on incoming paths when directed —
    networkx ``closeness_centrality(wf_improved=True)``."""
    _all_pairs_cost(p, budget, "closeness")
    g = p.graph()
    n = g.vcount()
    mode = "in" if p.directed else "all"
    inverse_mean = g.closeness(mode=mode, weights=_weights(p), normalized=True)
    reached = g.neighborhood_size(order=n, mode=mode)
    values = [
        0.0 if r <= 1 or c is None or math.isnan(c) else c * (r - 1) / (n - 1)
        for c, r in zip(inverse_mean, reached, strict=True)
    ]
    return Scores(
        values,
        Method("closeness centrality", REFERENCES[Measure.CLOSENESS], _params(p, wf_improved=True)),
    )


def _harmonic(p: Projection, budget: Budget) -> Scores:
    """Harmonic centrality: the sum of ``1 / d(u, v)`` over the nodes ``u`` that reach
    ``v`` (networkx ``harmonic_centrality``, not normalized)."""
    _all_pairs_cost(p, budget, "harmonic centrality")
    g = p.graph()
    mode = "in" if p.directed else "all"
    values = g.harmonic_centrality(mode=mode, weights=_weights(p), normalized=False)
    return Scores(
        [0.0 if math.isnan(v) else v for v in values],
        Method("harmonic centrality", REFERENCES[Measure.HARMONIC], _params(p)),
    )


def _eigenvector(p: Projection, budget: Budget) -> Scores:
    """Eigenvector centrality: the principal eigenvector of the (in-edge) adjacency
    matrix, with unit Euclidean norm (networkx ``eigenvector_centrality``). On a strongly
    connected graph it is unique and computed by ARPACK; otherwise networkx's own power
    iteration (``x <- (A^T + I) x``, 100 steps, tolerance ``n * 1e-6``) is run so the
    answer is the one networkx gives."""
    g = p.graph()
    n, m = g.vcount(), g.ecount()
    params = _params(p, max_iter=100, tol=1e-6)
    if n == 0:
        return Scores([], Method("eigenvector centrality", REFERENCES[Measure.EIGENVECTOR], params))
    if g.is_connected(mode="strong") and n > 1:
        budget.require(200 * (n + m), COMPILED_RATE, "eigenvector centrality", _NARROW)
        raw = g.eigenvector_centrality(directed=True, scale=True, weights=_weights(p))
        norm = math.sqrt(sum(x * x for x in raw)) or 1.0
        values = [abs(x) / norm for x in raw]
    else:
        budget.require(
            100 * (n + m),
            PYTHON_RATE,
            "eigenvector centrality (power iteration on a graph that is not strongly connected)",
            _NARROW,
        )
        values = _power_iteration(g, p.directed, p.weights is not None)
    return Scores(values, Method("eigenvector centrality", REFERENCES[Measure.EIGENVECTOR], params))


def _power_iteration(g: Any, directed: bool, weighted: bool) -> list[float]:
    n = g.vcount()
    edges = g.get_edgelist()
    weights = g.es["weight"] if weighted else [1.0] * len(edges)
    if not directed:
        edges = edges + [(v, u) for u, v in edges]
        weights = weights + weights
    x = [1.0 / n] * n
    for _ in range(100):
        last = x
        x = list(last)
        for (u, v), w in zip(edges, weights, strict=True):
            x[v] += last[u] * w
        norm = math.sqrt(sum(a * a for a in x)) or 1.0
        x = [a / norm for a in x]
        if sum(abs(a - b) for a, b in zip(x, last, strict=True)) < n * 1e-6:
            return x
    raise BudgetExceeded(
        "eigenvector centrality did not converge in 100 power iterations (networkx's limit) "
        "on this projection, which is not strongly connected; use PAGERANK instead, or " + _NARROW
    )


@dataclass(frozen=True)
class Ranked:
    index: int  # projection node position
    score: float
    rank: int  # 1-based; tied scores share the best rank ("1224" ranking)


def rank_top(values: Sequence[float], node_ids: Sequence[str], top: int) -> list[Ranked]:
    """The ``top`` highest scores, ordered by score (descending) then node id."""
    if top <= 0 or not values:
        return []
    candidates: list[int] = []
    if isinstance(values, array) and values.typecode == "d":
        # Scores in a float array (PageRank's): its buffer seen by numpy without a copy,
        # the threshold picked by a partial sort, not a Python loop over a million scores.
        scores = np.frombuffer(values, dtype=np.float64)
        k = min(top, len(scores))
        threshold = float(np.partition(scores, len(scores) - k)[len(scores) - k])
        candidates = np.flatnonzero(scores >= threshold).tolist()
    else:
        threshold = heapq.nlargest(min(top, len(values)), values)[-1]
        # The positions scoring at least the threshold, found at C speed (no Python frame
        # per entry): usually ``top`` of them, more only on ties.
        mask = bytes(map(ge, values, repeat(threshold)))
        i = mask.find(1)
        while i >= 0:
            candidates.append(i)
            i = mask.find(1, i + 1)
    candidates.sort(key=lambda i: (-values[i], node_ids[i]))
    out: list[Ranked] = []
    previous: float | None = None
    rank = 0
    for position, i in enumerate(candidates[:top], start=1):
        if values[i] != previous:
            rank = position
            previous = values[i]
        out.append(Ranked(i, values[i], rank))
    return out
