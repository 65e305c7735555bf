"""Analytics benchmark: centrality and chains over GraphQL on a synthetic pressure network.

Generates a network (authorities -> sub-authorities -> institutions, people WORKS_AT,
directives issued and relayed down three levels with dates, plus one relay line of
``--line`` directives), loads it into a fresh embedded store in batches of 50,000, then
prints medians of several runs and ratios against baselines measured in the same run:

* first (uncached) projection of the whole graph;
* PageRank through GraphQL ``centrality`` (projection cached) vs igraph alone on the same
  graph, and vs ``networkx.pagerank`` (measured on a smaller graph of the same shape and
  scaled by relationship count when ``--nodes`` exceeds ``--networkx-nodes``);
* ``instructionChain`` / ``directivesReaching`` p50 / p99 over GraphQL;
* the long relay line as one ``instructionChain``.

Example::

    .venv/bin/python benchmarks/bench_analytics.py --nodes 20000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph_service.analytics.projection import PROJECTIONS, ProjectionSpec
from graph_service.api.context import Context
from graph_service.api.schema import schema
from graph_service.storage import Node, Provenance, Relationship
from graph_service.storage.sqlite import SqliteStore

BATCH = 50_000
SOURCES = Provenance(("Source:synthetic",), "alleged")


def generate(
    n: int, line: int, seed: int = 7
) -> tuple[list[Node], list[Relationship], dict[str, Any]]:
    """About ``n`` nodes and ``3 n`` relationships, labelled synthetic."""
    rnd = random.Random(seed)
    tops = max(1, n // 10_000)
    subs = max(tops, n // 500)
    insts = max(subs, n // 10)
    directives = tops + subs + insts + line
    people = max(1, n - tops - subs - insts - directives)
    nodes: list[Node] = []
    rels: list[Relationship] = []

    def node(kind: str, key: str, props: dict[str, Any]) -> str:
        nodes.append(Node(f"{kind}:{key}", kind, key, props, SOURCES))
        return f"{kind}:{key}"

    def rel(s: str, t: str, ty: str, props: dict[str, Any] | None = None, key: str = "") -> None:
        rels.append(Relationship(s, ty, t, key, props or {}, SOURCES))

    top_ids = [
        node("Authority", f"top-{i}", {"name": f"Top {i}", "level": "federal"}) for i in range(tops)
    ]
    sub_ids, sub_top = [], []
    for i in range(subs):
        sid = node("Authority", f"sub-{i}", {"name": f"Sub {i}", "region": f"R{i % 80}"})
        sub_ids.append(sid)
        sub_top.append(i % tops)
        rel(sid, top_ids[i % tops], "SUBORDINATE_TO")
    inst_ids, inst_sub = [], []
    for i in range(insts):
        s = rnd.randrange(subs)
        iid = node(
            "Institution",
            f"inst-{i}",
            {"name": f"School {i}", "staff_count": rnd.randrange(5, 200)},
        )
        inst_ids.append(iid)
        inst_sub.append(s)
        rel(iid, sub_ids[s], "SUBORDINATE_TO")
    person_ids, person_inst = [], []
    for i in range(people):
        pid = node("Person", f"p-{i}", {"public": False})
        inst = rnd.randrange(insts)
        person_ids.append(pid)
        person_inst.append(inst)
        rel(pid, inst_ids[inst], "WORKS_AT")
        if rnd.random() < 0.5:
            rel(pid, inst_ids[rnd.randrange(insts)], "WORKS_AT", key="second")
    d0 = [
        node("Directive", f"d0-{i}", {"issued": "2023-08-01", "wording": "required"})
        for i in range(tops)
    ]
    for i, d in enumerate(d0):
        rel(top_ids[i], d, "ISSUED")
    d1 = []
    for i, sid in enumerate(sub_ids):
        d = node(
            "Directive",
            f"d1-{i}",
            {"issued": f"2023-08-0{2 + i % 3}", "wording": "strongly recommended"},
        )
        d1.append(d)
        rel(sid, d, "ISSUED")
        rel(d, d0[sub_top[i]], "RELAYS")
        rel(d0[sub_top[i]], sid, "TARGETS", {"received": "2023-08-02"})
    d2 = []
    for i, iid in enumerate(inst_ids):
        d = node("Directive", f"d2-{i}", {"issued": f"2023-08-{5 + i % 5:02d}"})
        d2.append(d)
        rel(iid, d, "ISSUED")
        rel(d, d1[inst_sub[i]], "RELAYS")
        rel(d1[inst_sub[i]], iid, "TARGETS", {"received": "2023-08-05"})
    for i, pid in enumerate(person_ids):
        rel(d2[person_inst[i]], pid, "TARGETS", {"received": "2023-08-10"})
        if rnd.random() < 0.7:
            rel(d1[rnd.randrange(subs)], pid, "TARGETS")
    previous = d0[0]
    line_head = None
    for i in range(line):
        d = node("Directive", f"line-{i}", {"issued": "2023-09-01"})
        line_head = line_head or d
        rel(d, previous, "RELAYS")
        rel(d, person_ids[i % people], "TARGETS")
        previous = d
    node("Source", "synthetic", {"title": "Synthetic network (not real data)"})
    sample = {"d1": d1, "d2": d2, "people": person_ids, "line_head": line_head}
    return nodes, rels, sample


def load(store: SqliteStore, nodes: list[Node], rels: list[Relationship]) -> float:
    started = time.perf_counter()
    for i in range(0, len(nodes), BATCH):
        store.upsert(nodes[i : i + BATCH])
    for i in range(0, len(rels), BATCH):
        store.upsert([], rels[i : i + BATCH])
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def gql(store: SqliteStore, query: str) -> dict[str, Any]:
    result = schema.execute_sync(query, context_value=Context(store=store))
    if result.errors:
        raise RuntimeError(result.errors)
    assert result.data is not None
    return result.data


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def networkx_pagerank_seconds(n: int, line: int, runs: int) -> tuple[float, int, str]:
    """networkx.pagerank on a graph of this shape: (median seconds, edges, implementation)."""
    import networkx as nx

    _, rels, _ = generate(n, line)
    g = nx.DiGraph()
    g.add_edges_from((r.source, r.target) for r in rels)
    try:
        import scipy  # noqa: F401

        fn, impl = nx.pagerank, "networkx.pagerank (scipy)"
    except ImportError:
        from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

        fn, impl = _pagerank_python, "networkx _pagerank_python (scipy not installed)"
    return statistics.median(timed(lambda: fn(g), runs)), g.number_of_edges(), impl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--line", type=int, default=10_000, help="relay line length")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chain-samples", type=int, default=200)
    parser.add_argument(
        "--networkx-nodes",
        type=int,
        default=100_000,
        help="largest graph networkx is timed on; above it, scale",
    )
    parser.add_argument("--store", type=Path, default=None, help="SQLite file (default: temp)")
    args = parser.parse_args()

    path = args.store or Path(tempfile.mkdtemp()) / "bench.db"
    if path.exists():
        path.unlink()
    nodes, rels, sample = generate(args.nodes, args.line)
    store = SqliteStore(path)
    load_s = load(store, nodes, rels)
    print(
        f"graph: {len(nodes)} nodes, {len(rels)} relationships; loaded in {load_s:.1f} s "
        f"({(len(nodes) + len(rels)) / load_s:,.0f} rows/s) into {path}"
    )
    del nodes, rels

    PROJECTIONS.clear()
    started = time.perf_counter()
    cached = PROJECTIONS.get(store, ProjectionSpec.create())
    cached.projection.graph()
    first_projection = time.perf_counter() - started
    print(
        f"first projection (uncached, incl. igraph graph): {first_projection:.2f} s "
        f"[target < 10 s] ({cached.projection.node_count} nodes, "
        f"{cached.projection.edge_count} edges)"
    )

    query = (
        "{ centrality(measure: PAGERANK, top: 10) { projection { fromCache } "
        "entries { nodeId score } } }"
    )
    gql(store, query)  # warm: projection and graph cached
    ours = statistics.median(timed(lambda: gql(store, query), args.runs))
    g = cached.projection.graph()
    alone = statistics.median(timed(lambda: g.pagerank(directed=True, damping=0.85), args.runs))
    print(
        f"PageRank via GraphQL (cached projection): {ours:.3f} s; igraph alone: {alone:.3f} s; "
        f"ratio {ours / alone:.2f}x [target <= 1.5x]"
    )

    nx_nodes = min(args.nodes, args.networkx_nodes)
    nx_line = args.line * nx_nodes // args.nodes
    nx_s, nx_edges, impl = networkx_pagerank_seconds(nx_nodes, nx_line, max(1, args.runs // 2))
    full_edges = g.ecount()
    scaled = nx_s * full_edges / nx_edges
    note = (
        ""
        if nx_nodes == args.nodes
        else (
            f" (measured {nx_s:.2f} s on {nx_nodes} nodes / {nx_edges} edges, scaled linearly "
            f"to {full_edges} edges)"
        )
    )
    print(f"{impl}: {scaled:.2f} s{note}; speed-up {scaled / ours:.1f}x [target >= 30x]")

    rnd = random.Random(1)
    picks = [rnd.choice(sample["d2"]) for _ in range(args.chain_samples)]
    chain_q = (
        '{ instructionChain(directiveId: "%s", fromOrigin: false) { depth '
        "estimatedStaffReached hops { directiveId issued lagDays issuers { id } "
        "recipients { recipientId received } } } }"
    )
    gql(store, chain_q % picks[0])
    chain_times = [timed(lambda d=d: gql(store, chain_q % d), 1)[0] for d in picks]
    print(
        f"instructionChain (an institution's directive, its subtree): "
        f"p50 {percentile(chain_times, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(chain_times, 0.99) * 1000:.1f} ms [target p99 < 50 ms]"
    )
    people = [rnd.choice(sample["people"]) for _ in range(args.chain_samples)]
    reach_q = (
        '{ directivesReaching(id: "%s") { directives { directiveId chain { '
        "directiveId issued issuers { id } } } } }"
    )
    reach_times = [timed(lambda p=p: gql(store, reach_q % p), 1)[0] for p in people]
    print(
        f"directivesReaching (a person): p50 {percentile(reach_times, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(reach_times, 0.99) * 1000:.1f} ms [target p99 < 50 ms]"
    )
    mid = rnd.choice(sample["d1"])
    origin_q = '{ instructionChain(directiveId: "%s") { depth hops { directiveId } } }'
    whole = timed(lambda: gql(store, origin_q % mid), 3)
    hops = len(gql(store, origin_q % mid)["instructionChain"]["hops"])
    print(
        f"instructionChain from a top authority's origin ({hops} hops): "
        f"median {statistics.median(whole) * 1000:.0f} ms"
    )
    if sample["line_head"]:
        line_q = (
            '{ instructionChain(directiveId: "%s", fromOrigin: false, maxHops: 50000) '
            "{ depth hops { directiveId issued lagDays recipients { recipientId } } } }"
        )
        line_times = timed(lambda: gql(store, line_q % sample["line_head"]), 3)
        depth = gql(store, line_q % sample["line_head"])["instructionChain"]["depth"]
        print(
            f"instructionChain on the relay line ({depth + 1} hops): median "
            f"{statistics.median(line_times):.2f} s [target < 1 s]"
        )
    store.close()


if __name__ == "__main__":
    main()
