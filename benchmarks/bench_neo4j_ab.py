"""Two versions of the Neo4j store's write path side by side on one warm server: this
checkout's ``graph_service/storage/neo4j.py`` and another copy of that file (``--baseline``,
e.g. the main checkout's), taking turns round after round.

A one-off load on this shared 2-core machine mostly measures the JIT's warm-up and the
neighbours' load; alternating the two versions on the same server puts both under the
same conditions, and the medians per version say which is faster. Per round: rows/s (wall
clock, only the upsert calls: building the synthetic records is excluded), the server's
query-thread CPU and this process's CPU per row.

    .venv/bin/python benchmarks/bench_neo4j_ab.py --baseline ../main/graph_service/storage/neo4j.py
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_neo4j_threads import add_server_options, server_for, thread_cpu
from benchmarks.bench_store import node_batches, rel_batches
from graph_service.storage import neo4j as current


def load_module(path: Path) -> Any:
    """The store module at ``path``, imported under a name of its own."""
    spec = importlib.util.spec_from_file_location("baseline_neo4j_store", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", type=Path, required=True, help="another neo4j.py")
    parser.add_argument("--rows", type=int, default=30_000, help="nodes + relationships")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each version")
    parser.add_argument("--warmup-rounds", type=int, default=2, help="of each version")
    add_server_options(parser)
    args = parser.parse_args()
    versions = {"baseline": load_module(args.baseline), "this": current}
    n = args.rows // 3
    nodes = list(node_batches(n, 1))
    rels = list(rel_batches(n, 1))
    uri, pid, server = server_for(args)
    results: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    try:
        for round_ in range(args.warmup_rounds + args.rounds):
            counted = round_ >= args.warmup_rounds
            for name, module in versions.items():
                store = module.Neo4jStore(uri)
                for part, rows in (("nodes", n), ("rels", 2 * n)):
                    server_before = thread_cpu(pid)["bolt"]
                    client_before = time.process_time()
                    began = time.perf_counter()
                    if part == "nodes":
                        for batch in nodes:
                            store.upsert(batch)
                    else:
                        for batch in rels:
                            store.upsert([], batch)
                    rate = rows / (time.perf_counter() - began)
                    client = (time.process_time() - client_before) / rows * 1e6
                    server_us = (thread_cpu(pid)["bolt"] - server_before) / rows * 1e6
                    print(f"round {round_} {name:8} {part:5} {rate:7,.0f} rows/s, server "
                          f"{server_us:4.0f} µs/row, client {client:3.0f} µs/row "
                          f"(load {os.getloadavg()[0]:.1f}){'' if counted else ' warm-up'}",
                          flush=True)
                    if counted:
                        results[name, part, "rows/s"].append(rate)
                        results[name, part, "server µs/row"].append(server_us)
                        results[name, part, "client µs/row"].append(client)
                store.clear()
                store.close()
        print("medians:")
        for (name, part, what), values in results.items():
            print(f"  {name:8} {part:5} {what:14} {statistics.median(values):8,.0f}")
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
