"""Centrality measures equal networkx's on generated graphs and on Zachary's karate club."""

from __future__ import annotations

import math
import random
from array import array
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

from graph_service.analytics import pagerank
from graph_service.analytics.budget import Budget
from graph_service.analytics.centrality import Measure, centrality, rank_top
from graph_service.analytics.pagerank import ERROR_BOUND
from graph_service.analytics.projection import ProjectionDirection
from graph_service.errors import BudgetExceeded, InvalidArgument
from tests.analytics_graphs import networkx_graph, projection

DIRECTIONS = list(ProjectionDirection)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], ProjectionDirection]:
    n = draw(st.integers(min_value=1, max_value=14))
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    edges = draw(st.lists(pair, max_size=40))
    return n, edges, draw(st.sampled_from(DIRECTIONS))


def reference(measure: Measure, g: nx.Graph, normalized: bool = True) -> dict[int, float]:
    directed = g.is_directed()
    if measure is Measure.DEGREE:
        return nx.degree_centrality(g) if normalized else dict(g.degree())
    if measure is Measure.IN_DEGREE:
        return nx.in_degree_centrality(g) if directed else nx.degree_centrality(g)
    if measure is Measure.OUT_DEGREE:
        return nx.out_degree_centrality(g) if directed else nx.degree_centrality(g)
    if measure is Measure.PAGERANK:
        return _pagerank_python(g, tol=1e-12, max_iter=10_000)
    if measure is Measure.BETWEENNESS:
        return nx.betweenness_centrality(g, normalized=normalized)
    if measure is Measure.CLOSENESS:
        return nx.closeness_centrality(g)
    if measure is Measure.HARMONIC:
        return nx.harmonic_centrality(g)
    raise AssertionError(measure)


def assert_scores_equal(ours: list[float], theirs: dict[int, float], tol: float = 1e-6) -> None:
    assert len(ours) == len(theirs)
    for i, value in enumerate(ours):
        assert math.isclose(value, theirs[i], rel_tol=tol, abs_tol=tol), (i, value, theirs[i])


MEASURES = [
    Measure.DEGREE,
    Measure.IN_DEGREE,
    Measure.OUT_DEGREE,
    Measure.PAGERANK,
    Measure.BETWEENNESS,
    Measure.CLOSENESS,
    Measure.HARMONIC,
]


@pytest.mark.parametrize("measure", MEASURES, ids=lambda m: m.name)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=graphs())
def test_measure_equals_networkx_on_random_graphs(
    measure: Measure, graph: tuple[int, list[tuple[int, int]], ProjectionDirection]
) -> None:
    n, edges, direction = graph
    p = projection(n, edges, direction)
    assert_scores_equal(list(centrality(p, measure).values), reference(measure, networkx_graph(p)))


@settings(max_examples=60, deadline=None)
@given(graph=graphs())
def test_raw_degree_and_betweenness_equal_networkx_unnormalized(
    graph: tuple[int, list[tuple[int, int]], ProjectionDirection],
) -> None:
    n, edges, direction = graph
    p = projection(n, edges, direction)
    g = networkx_graph(p)
    for measure in (Measure.DEGREE, Measure.BETWEENNESS):
        ours = centrality(p, measure, normalized=False).values
        assert_scores_equal(list(ours), reference(measure, g, normalized=False))


@settings(max_examples=40, deadline=None)
@given(
    graph=graphs(),
    weights=st.lists(st.integers(1, 5), min_size=40, max_size=40),
)
def test_weighted_measures_equal_networkx(
    graph: tuple[int, list[tuple[int, int]], ProjectionDirection], weights: list[int]
) -> None:
    n, edges, direction = graph
    p = projection(n, edges, direction, [float(w) for w in weights[: len(edges)]])
    g = networkx_graph(p)
    assert_scores_equal(
        list(centrality(p, Measure.PAGERANK).values),
        _pagerank_python(g, weight="weight", tol=1e-12, max_iter=10_000),
    )
    assert_scores_equal(
        list(centrality(p, Measure.BETWEENNESS).values),
        nx.betweenness_centrality(g, weight="weight"),
    )
    assert_scores_equal(
        list(centrality(p, Measure.CLOSENESS).values),
        nx.closeness_centrality(g, distance="weight"),
    )
    assert_scores_equal(
        list(centrality(p, Measure.HARMONIC).values),
        nx.harmonic_centrality(g, distance="weight"),
    )


@settings(max_examples=40, deadline=None)
@given(graph=graphs())
def test_eigenvector_equals_networkx_where_networkx_converges(
    graph: tuple[int, list[tuple[int, int]], ProjectionDirection],
) -> None:
    n, edges, direction = graph
    p = projection(n, edges, direction)
    try:
        expected = nx.eigenvector_centrality(networkx_graph(p))
    except (nx.PowerIterationFailedConvergence, nx.NetworkXPointlessConcept):
        with pytest.raises(BudgetExceeded, match="did not converge"):
            centrality(p, Measure.EIGENVECTOR)
        return
    assert_scores_equal(list(centrality(p, Measure.EIGENVECTOR).values), expected, tol=1e-4)


@settings(max_examples=40, deadline=None)
@given(graph=graphs(), seed=st.integers(0, 1000), data=st.data())
def test_sampled_betweenness_equals_networkx_with_the_same_seed(
    graph: tuple[int, list[tuple[int, int]], ProjectionDirection], seed: int, data: st.DataObject
) -> None:
    n, edges, direction = graph
    k = data.draw(st.integers(1, n))
    p = projection(n, edges, direction)
    result = centrality(p, Measure.BETWEENNESS, samples=k, seed=seed)
    expected = nx.betweenness_centrality(networkx_graph(p), k=k, seed=seed)
    assume(not any(math.isnan(v) for v in expected.values()))  # networkx's 0/0 on tiny graphs
    assert_scores_equal(list(result.values), expected)
    assert result.sampled == (k < n)
    assert result.method.parameters["samples"] == k


def karate() -> tuple[nx.Graph, object]:
    g = nx.karate_club_graph()
    edges = list(g.edges())
    return g, projection(g.number_of_nodes(), edges, ProjectionDirection.UNDIRECTED)


def test_karate_club_published_values() -> None:
    # Values as published for Zachary's karate club (networkx's normalizations).
    _, p = karate()
    degree = centrality(p, Measure.DEGREE).values  # type: ignore[arg-type]
    betweenness = centrality(p, Measure.BETWEENNESS).values  # type: ignore[arg-type]
    closeness = centrality(p, Measure.CLOSENESS).values  # type: ignore[arg-type]
    assert degree[33] == pytest.approx(17 / 33)
    assert degree[0] == pytest.approx(16 / 33)
    assert betweenness[0] == pytest.approx(0.43763528, abs=1e-8)
    assert betweenness[33] == pytest.approx(0.30407498, abs=1e-8)
    assert closeness[0] == pytest.approx(0.56896552, abs=1e-8)


@pytest.mark.parametrize("measure", [*MEASURES, Measure.EIGENVECTOR], ids=lambda m: m.name)
def test_karate_club_equals_networkx(measure: Measure) -> None:
    g, p = karate()
    unweighted = nx.Graph(g.edges())
    if measure is Measure.EIGENVECTOR:
        expected = nx.eigenvector_centrality(unweighted)
    else:
        expected = reference(measure, unweighted)
    # networkx stops its power iteration at a tolerance of n * 1e-6
    tol = 1e-4 if measure is Measure.EIGENVECTOR else 1e-6
    assert_scores_equal(list(centrality(p, measure).values), expected, tol)  # type: ignore[arg-type]


def test_karate_club_top_ranks_the_two_leaders_first() -> None:
    _, p = karate()
    scores = centrality(p, Measure.PAGERANK)  # type: ignore[arg-type]
    top = rank_top(scores.values, p.node_ids, 2)  # type: ignore[attr-defined]
    assert [r.index for r in top] == [33, 0]
    assert [r.rank for r in top] == [1, 2]


@pytest.mark.parametrize("kind", [list, lambda v: array("d", v)], ids=["list", "float array"])
def test_ties_share_a_rank_and_order_by_node_id(kind: Any) -> None:
    ranked = rank_top(kind([1.0, 3.0, 3.0, 2.0, 3.0]), ["e", "d", "b", "a", "c"], 4)
    assert [(r.index, r.rank) for r in ranked] == [(2, 1), (4, 1), (1, 1), (3, 4)]


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0]), max_size=30),
    top=st.integers(0, 35),
)
def test_rank_top_on_a_float_array_equals_rank_top_on_a_list(values: list[float], top: int) -> None:
    ids = [f"N:{i:02d}" for i in range(len(values))]
    assert rank_top(array("d", values), ids, top) == rank_top(values, ids, top)


def test_reversed_projection_swaps_in_and_out_degree() -> None:
    edges = [(0, 1), (0, 2)]
    stored = centrality(projection(3, edges), Measure.OUT_DEGREE, normalized=False).values
    reverse = projection(3, edges, ProjectionDirection.REVERSED)
    assert list(stored) == [2.0, 0.0, 0.0]
    assert list(centrality(reverse, Measure.IN_DEGREE, normalized=False).values) == [2.0, 0, 0]


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_graphs_follow_networkx(n: int) -> None:
    p = projection(n, [(0, 1)] if n == 2 else [])
    g = networkx_graph(p)
    for measure in MEASURES:
        assert_scores_equal(list(centrality(p, measure).values), reference(measure, g))


def test_exact_betweenness_past_the_budget_says_to_sample() -> None:
    n = 3000
    p = projection(n, [(i, (i * 7 + 1) % n) for i in range(n)] * 3)
    with pytest.raises(BudgetExceeded, match="samples") as caught:
        centrality(p, Measure.BETWEENNESS, budget=Budget(0.001))
    assert "exact betweenness" in str(caught.value)


def test_sampled_betweenness_reports_its_method() -> None:
    _, p = karate()
    result = centrality(p, Measure.BETWEENNESS, samples=5, seed=3)  # type: ignore[arg-type]
    assert result.sampled
    assert "Brandes & Pich 2007" in result.method.reference
    assert result.method.parameters["seed"] == 3


def test_samples_out_of_range_are_refused() -> None:
    _, p = karate()
    with pytest.raises(InvalidArgument):
        centrality(p, Measure.BETWEENNESS, samples=0)  # type: ignore[arg-type]


# -- PageRank's solver (graph_service.analytics.pagerank) -------------------------------


def pressure_like(n: int, seed: int) -> tuple[int, list[tuple[int, int]], list[float]]:
    """A small pressure network's shape: a cyclic core (authorities, institutions,
    directives) and many leaf-like people (one or two employers, reached by one or two
    directives), some dangling and some isolated nodes, parallel edges and self-loops —
    so elimination has work on more than one level."""
    rnd = random.Random(seed)
    core = max(4, n // 5)
    edges: list[tuple[int, int]] = []
    for c in range(core):
        edges.append((c, rnd.randrange(core)))  # self-loops and parallels now and then
        if rnd.random() < 0.5:
            edges.append((c, (c + 1) % core))
    for person in range(core, n - 3):
        for _ in range(rnd.choice((1, 1, 2))):
            edges.append((person, rnd.randrange(core)))  # works at
        for _ in range(rnd.choice((0, 1, 2))):
            edges.append((rnd.randrange(core), person))  # targeted by
    edges.append((n - 3, 0))  # n-3 reaches the core; n-2 is dangling, n-1 isolated
    edges.append((0, n - 2))
    weights = [float(rnd.randint(1, 5)) for _ in edges]
    return n, edges, weights


@pytest.mark.parametrize("direction", DIRECTIONS, ids=lambda d: d.name)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pagerank_equals_networkx_on_pressure_like_graphs(
    direction: ProjectionDirection, weighted: bool, seed: int
) -> None:
    n, edges, weights = pressure_like(400, seed)
    p = projection(n, edges, direction, weights if weighted else None)
    g = networkx_graph(p)
    scores = centrality(p, Measure.PAGERANK)
    expected = _pagerank_python(
        g, weight="weight" if weighted else None, tol=1e-15, max_iter=100_000
    )
    assert_scores_equal(list(scores.values), expected, tol=1e-9)
    system = p.derived["pagerank_system"]
    iterative = pagerank.solve(system, Budget(), direct_limit=0)  # BiCGSTAB, not LU
    assert_scores_equal(list(iterative.values), expected, tol=1e-9)
    assert system.levels, "the leaf-like people were not eliminated"
    assert system.unknowns < n


def test_pagerank_equals_igraph_prpack() -> None:
    n, edges, weights = pressure_like(3000, 7)
    for w in (None, weights):
        p = projection(n, edges, ProjectionDirection.AS_STORED, w)
        ours = centrality(p, Measure.PAGERANK).values
        theirs = p.graph().pagerank(directed=True, damping=0.85, weights="weight" if w else None)
        assert sum(abs(a - b) for a, b in zip(ours, theirs, strict=True)) < 1e-9


SOLVERS = {
    "sparse LU": {},
    "bicgstab": {"direct_limit": 0},
    "sweeps only": {"direct_limit": 0, "krylov_products": 0},
}


@pytest.mark.parametrize("rounds", [0, 1, 4])
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_pagerank_solution_does_not_depend_on_elimination_or_solver(
    rounds: int, solver: str
) -> None:
    """No elimination and elimination in several rounds; sparse LU, BiCGSTAB and the
    fixed-point sweeps it falls back on: the same scores, each within its certified
    bound."""
    n, edges, weights = pressure_like(600, 11)
    p = projection(n, edges, ProjectionDirection.AS_STORED, weights)
    expected = _pagerank_python(networkx_graph(p), weight="weight", tol=1e-15, max_iter=100_000)
    m = pagerank.transition(n, p.sources, p.targets, p.weights, directed=True)
    system = pagerank.build_system(m, rounds)
    assert len(system.levels) <= rounds
    solution = pagerank.solve(system, Budget(), **SOLVERS[solver])
    assert solution.error_bound <= ERROR_BOUND
    distance = sum(abs(v - expected[i]) for i, v in enumerate(solution.values))
    assert distance <= solution.error_bound + 1e-11
    krylov = pagerank.solve(system, Budget(), direct_limit=0).products
    if solver == "sparse LU":  # one factorization, one residual check
        assert solution.products == 1
        assert solution.error_bound < 1e-13
    if solver == "sweeps only":  # sweeps gain a factor of at most 0.85 each
        assert solution.products > 2 * krylov


def test_eliminated_nodes_are_independent_and_add_no_nonzeros() -> None:
    n, edges, _ = pressure_like(1000, 5)
    p = projection(n, edges)
    m = pagerank.transition(n, p.sources, p.targets, None, directed=True)
    system = pagerank.build_system(m, rounds=1)
    (level,) = system.levels
    eliminated = set(level.eliminated.tolist())
    coo = m.tocoo()
    assert not any(
        r in eliminated and c in eliminated for r, c in zip(coo.row, coo.col, strict=True)
    )
    # Eliminating node i moves its in + out entries out of the iterated matrix and adds at
    # most in * out <= in + out (its in-neighbours now reach its out-neighbours).
    removed = level.into_kept.nnz + level.into_eliminated.nnz
    indeg = [int(x) for x in m.getnnz(axis=1)]
    outdeg = [int(x) for x in m.getnnz(axis=0)]
    fill = sum(indeg[i] * outdeg[i] for i in eliminated)
    assert removed == sum(indeg[i] + outdeg[i] for i in eliminated)
    assert fill <= removed
    assert system.reduced.nnz <= m.nnz - removed + fill <= m.nnz
    assert len(eliminated) > n // 2
    # The reduced matrix still loses rank at every step: its columns sum to at most 0.85.
    assert system.reduced.sum(axis=0).max() <= 0.85 + 1e-12


def test_pagerank_system_is_kept_with_the_projection_and_counted_by_the_cache() -> None:
    n, edges, _ = pressure_like(500, 3)
    p = projection(n, edges)
    before = p.size()
    first = centrality(p, Measure.PAGERANK)
    system = p.derived["pagerank_system"]
    assert p.size() == before + system.size() > before
    second = centrality(p, Measure.PAGERANK)
    assert p.derived["pagerank_system"] is system  # built once
    assert p.size() == before + system.size()
    assert list(first.values) == list(second.values)
    assert first.method.parameters["solver"] == pagerank.SOLVER
    assert first.method.parameters["errorBound"] == ERROR_BOUND


def test_pagerank_refuses_negative_weights() -> None:
    p = projection(3, [(0, 1), (1, 2)], weights=[1.0, -2.0])
    with pytest.raises(InvalidArgument, match="non-negative"):
        centrality(p, Measure.PAGERANK)


def test_pagerank_past_the_budget_is_refused_up_front() -> None:
    n, edges, _ = pressure_like(3000, 2)
    p = projection(n, edges)
    with pytest.raises(BudgetExceeded, match="PageRank"):
        centrality(p, Measure.PAGERANK, budget=Budget(1e-6))
    assert "pagerank_system" not in p.derived
    centrality(p, Measure.PAGERANK)
    with pytest.raises(BudgetExceeded, match="PageRank on this projection"):
        centrality(p, Measure.PAGERANK, budget=Budget(1e-6))


def test_pagerank_on_a_cycle_and_a_star_by_hand() -> None:
    # A directed cycle: every node 1/n. A star of leaves pointing at a centre: the centre
    # gets (1 - a)/n + a * (n-1) * leaf + a * centre / n (it is dangling), leaves
    # (1 - a)/n + a * centre / n; solved: leaf = (1 - a + a c) / n.
    cycle = centrality(projection(5, [(i, (i + 1) % 5) for i in range(5)]), Measure.PAGERANK)
    assert list(cycle.values) == pytest.approx([0.2] * 5, abs=1e-12)
    n, a = 6, 0.85
    star = centrality(projection(n, [(i, 0) for i in range(1, n)]), Measure.PAGERANK).values
    leaf = (1 - star[0]) / (n - 1)
    assert leaf == pytest.approx((1 - a + a * star[0]) / n, abs=1e-12)
    assert star[0] == pytest.approx((1 - a) / n + a * (n - 1) * leaf + a * star[0] / n, abs=1e-12)
