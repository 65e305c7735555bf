"""PageRank solver benchmark: ``centrality(PAGERANK)`` on a projection vs igraph's PRPACK.

The quick loop for work on :mod:`graph_service.analytics.pagerank`, without the store and
GraphQL of ``bench_analytics.py`` (which measures issue #5's figure end to end): the same
synthetic network is generated and turned straight into a projection. Prints the first
call (which builds the reduced system) on its own, then medians of interleaved runs of
our PageRank and igraph's PRPACK on the same simple graph — wall-clock and CPU seconds,
and their ratio — and the L1 distance between the two score vectors.

Example::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_pagerank.py --nodes 1000000
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from array import array
from collections.abc import Callable
from typing import Any

from bench_analytics import generate

from graph_service.analytics.budget import Budget
from graph_service.analytics.centrality import Measure, centrality
from graph_service.analytics.pagerank import solve
from graph_service.analytics.projection import Projection, ProjectionSpec


def projection_of(n: int, line: int) -> Projection:
    nodes, rels, _ = generate(n, line)
    index = {node.id: i for i, node in enumerate(nodes)}
    return Projection(
        spec=ProjectionSpec.create(),
        version=1,
        node_ids=[node.id for node in nodes],
        node_kinds=[node.kind for node in nodes],
        sources=array("i", (index[r.source] for r in rels)),
        targets=array("i", (index[r.target] for r in rels)),
        types=array("b", bytes(len(rels))),
        rel_types=["ANY"],
    )


def clocked(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds)."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--line", type=int, default=10_000, help="relay line length")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    p = projection_of(args.nodes, args.line)
    g = p.graph()
    print(
        f"graph: {g.vcount()} nodes, {g.ecount()} simple edges; load average "
        + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    )
    first, wall, cpu = clocked(lambda: centrality(p, Measure.PAGERANK, budget=Budget(60)))
    system = p.derived["pagerank_system"]
    print(
        f"first call (builds the reduced system: {system.unknowns} unknowns, "
        f"{system.reduced.nnz} nonzeros, {len(system.levels)} elimination rounds): "
        f"{wall:.2f} s (CPU {cpu:.2f} s)"
    )
    ours: list[tuple[float, float]] = []
    alone: list[tuple[float, float]] = []
    prpack: list[float] = []
    for _ in range(args.runs):
        scores, wall, cpu = clocked(lambda: centrality(p, Measure.PAGERANK, budget=Budget(60)))
        ours.append((wall, cpu))
        prpack, wall, cpu = clocked(lambda: g.pagerank(directed=True, damping=0.85))
        alone.append((wall, cpu))
    med = [statistics.median(x[k] for x in runs) for runs in (ours, alone) for k in (0, 1)]
    print(
        f"ours: median {med[0]:.3f} s (CPU {med[1]:.3f}); igraph PRPACK: median {med[2]:.3f} s "
        f"(CPU {med[3]:.3f}); {args.runs} interleaved runs; ratio {med[2] / med[0]:.1f}x "
        f"wall, {med[3] / med[1]:.1f}x CPU"
    )
    solution = solve(system, Budget(60))
    distance = sum(abs(a - b) for a, b in zip(scores.values, prpack, strict=True))
    print(
        f"{solution.products} matrix products; certified L1 error "
        f"{solution.error_bound:.1e}; L1 distance to PRPACK {distance:.1e}; first "
        f"and later calls agree: {list(first.values) == list(scores.values)}"
    )


if __name__ == "__main__":
    main()
