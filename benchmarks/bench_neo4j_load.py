"""Neo4j load speed: ``Neo4jStore.upsert`` against a naive one-transaction-per-row loader
measured in the same run (on a smaller sample), on the launcher's test server or NEO4J_URI.

A ``--warmup-rows`` sample is loaded and cleared before the timed load (its rate is
printed as the cold-JVM figure; ``--warmup-rows 0`` times a cold server). The naive
loader's sample runs in pieces between the timed loads, so both meet the same warm JVM
and the same machine load, and the ratio is of medians. Only the writes are timed, not
the building of the synthetic records.
On the launcher's server the JVM's CPU time per row is printed too: on a shared machine it
is steadier than the rate.

    .venv/bin/python benchmarks/bench_neo4j_load.py --rows 1000000 --naive-rows 20000
    .venv/bin/python benchmarks/bench_neo4j_load.py --rows 60000 --naive-rows 3000  # quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import neo4j

from benchmarks.bench_store import node_batches, rel_batches
from graph_service.storage import Node
from graph_service.storage.neo4j import Neo4jStore
from tests.neo4j_server.launcher import Neo4jTestServer, wipe

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) the process has used; 0 when it is not ours to read."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def load(
    store: Neo4jStore, n: int, server_pid: int | None = None, label: str = ""
) -> tuple[float, int]:
    """Rows per second of upserting n nodes and 2n relationships (in 50,000-row batches);
    with ``label``, also prints the server's and this process's CPU time per row.

    Only the ``upsert`` calls are timed: building the synthetic records is the generator's
    cost, not the loader's (the server idles meanwhile, so pausing the clock is fair).
    """
    rows = 0
    elapsed = client = server = 0.0

    def timed(write: Callable[[], object], n_rows: int) -> None:
        nonlocal rows, elapsed, client, server
        server_began, client_began = process_cpu(server_pid), time.process_time()
        began = time.perf_counter()
        write()
        elapsed += time.perf_counter() - began
        client += time.process_time() - client_began
        server += process_cpu(server_pid) - server_began
        rows += n_rows

    for nodes in node_batches(n, 1):
        timed(lambda nodes=nodes: store.upsert(nodes), len(nodes))
    for rels in rel_batches(n, 1):
        timed(lambda rels=rels: store.upsert([], rels), len(rels))
    rate = rows / elapsed
    if label:
        shown = f"server {server / rows * 1e6:.0f} µs/row, " if server_pid is not None else ""
        print(f"{label}: {rows} rows, {rate:,.0f} rows/s; CPU {shown}"
              f"client {client / rows * 1e6:.0f} µs/row (load {os.getloadavg()[0]:.1f})",
              flush=True)
    return rate, rows


def naive(driver: neo4j.Driver, n: int, label: str) -> float:
    """One MERGE per row, each in its own transaction, timed like :func:`load` (only the
    writes); its nodes carry the label ``Naive`` and ids of their own (the loaded graph
    may be there, under the per-kind constraints), and are deleted afterwards."""
    nodes = [x for batch in node_batches(n, 2) for x in batch]
    rels = [r for batch in rel_batches(n, 2) for r in batch]
    began = time.perf_counter()
    with driver.session() as session:
        for x in nodes:
            session.execute_write(lambda tx, x=x: tx.run(
                f"MERGE (n:Naive:{x.kind} {{id: $id}}) SET n.props = $props",
                id="naive/" + x.id, props=str(x.properties)).consume())
        for r in rels:
            session.execute_write(lambda tx, r=r: tx.run(
                "MATCH (a:Naive {id: $a}) MATCH (b:Naive {id: $b}) "
                f"MERGE (a)-[x:{r.type} {{key: $k}}]->(b)", a="naive/" + r.source,
                b="naive/" + r.target,
                k=r.key).consume())
    rate = (len(nodes) + len(rels)) / (time.perf_counter() - began)
    with driver.session() as session:
        session.run("MATCH (n:Naive) CALL (n) { DETACH DELETE n } IN TRANSACTIONS "
                    "OF 1000 ROWS").consume()
    print(f"naive {label}: {len(nodes) + len(rels)} rows, {rate:,.0f} rows/s "
          f"(load {os.getloadavg()[0]:.1f})", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--warmup-rows", type=int, default=60_000)
    args = parser.parse_args()
    uri = os.environ.get("NEO4J_URI")
    server = None
    pid = None
    if not uri:
        server = Neo4jTestServer(heap="2g", pagecache_mb=1024, quick_start=False).start()
        uri = server.uri
        pid = server.pid
    driver = neo4j.GraphDatabase.driver(uri, auth=None)
    try:
        with driver.session() as s:
            s.run("CREATE INDEX naive_id IF NOT EXISTS FOR (n:Naive) ON (n.id)").consume()
        rates, repeats, bases = [], [], []
        # The naive sample runs in pieces between the timed loads (after the warm-up,
        # after each load, at the end), so both loaders meet the same warm JVM and the same
        # neighbours' load; the ratio is of the medians.
        pieces = args.repeat + 2
        piece_nodes = max(1, args.naive_rows // pieces // 3)
        if args.warmup_rows:
            wipe(driver)
            store = Neo4jStore(uri)
            load(store, args.warmup_rows // 3, pid, "warm-up (cold JVM)")
            store.clear()
            store.close()
        bases.append(naive(driver, piece_nodes, "after the warm-up"))
        for _ in range(args.repeat):
            wipe(driver)
            store = Neo4jStore(uri)
            store.upsert([Node.create("Source", "synthetic", {"title": "benchmark"})])
            rate, rows = load(store, args.rows // 3, pid, "load")
            rates.append(rate)
            bases.append(naive(driver, piece_nodes, "after the load"))
            repeats.append(load(store, args.rows // 3, pid, "repeat (unchanged)")[0])
            began = time.perf_counter()
            store.edge_list()
            print(f"edge_list {time.perf_counter() - began:.1f} s", flush=True)
            began = time.perf_counter()
            store.clear()
            print(f"clear {time.perf_counter() - began:.1f} s", flush=True)
            store.close()
            print(f"upsert {rows} rows: {rate:,.0f} rows/s; repeat {repeats[-1]:,.0f} rows/s",
                  flush=True)
        wipe(driver)
        bases.append(naive(driver, piece_nodes, "at the end"))
        median, base = statistics.median(rates), statistics.median(bases)
        print(f"median upsert {median:,.0f} rows/s, repeat {statistics.median(repeats):,.0f}")
        print(f"naive baseline median {base:,.0f} rows/s ({pieces} pieces of "
              f"{piece_nodes * 3} rows: {', '.join(f'{b:,.0f}' for b in bases)}); "
              f"ratio {median / base:.1f}x")
    finally:
        driver.close()
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
