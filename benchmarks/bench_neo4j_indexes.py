"""What each index costs a Neo4j bulk load: the server's query-thread CPU per row with all
of the store's indexes, and with one of them dropped, on one warmed server.

The variants take turns round after round (all, no search, no sid, ..., all, no search, ...)
so the JIT's warm-up and the machine's load fall on each alike; the medians per variant
are printed at the end. Nodes and relationships are reported apart (relationships write
no node index, but look their ends up through the ``id`` constraint).

    .venv/bin/python benchmarks/bench_neo4j_indexes.py --rows 30000 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_neo4j_threads import add_server_options, server_for, thread_cpu
from benchmarks.bench_store import node_batches, rel_batches
from graph_service.storage.neo4j import Neo4jStore

#: Variant name -> the statements that drop what it leaves out (the store re-creates
#: every index when it is opened again).
VARIANTS: dict[str, tuple[str, ...]] = {
    "all indexes": (),
    "no TEXT index on search": ("DROP INDEX node_search",),
    "no range index on sid": ("DROP INDEX node_sid",),
    "no per-kind id constraints": tuple(
        f"DROP CONSTRAINT {k}_id" for k in (
            "authority", "institution", "person", "party", "election", "directive", "poll",
            "platform", "source",
        )
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=30_000, help="nodes + relationships")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every variant")
    parser.add_argument("--warmup-rounds", type=int, default=2)
    add_server_options(parser)
    args = parser.parse_args()
    n = args.rows // 3
    nodes = list(node_batches(n, 1))
    rels = list(rel_batches(n, 1))
    uri, pid, server = server_for(args)
    results: dict[tuple[str, str], list[float]] = defaultdict(list)
    try:
        plan = [("all indexes", False)] * args.warmup_rounds + [
            (v, True) for _ in range(args.rounds) for v in VARIANTS
        ]
        for variant, counted in plan:
            store = Neo4jStore(uri)
            with store._driver.session() as session:
                for statement in VARIANTS[variant]:
                    session.run(statement).consume()
            for part, batches, rows in (("nodes", nodes, n), ("rels", rels, 2 * n)):
                before = thread_cpu(pid)["bolt"]
                for batch in batches:
                    if part == "nodes":
                        store.upsert(batch)  # type: ignore[arg-type]
                    else:
                        store.upsert([], batch)  # type: ignore[arg-type]
                us = (thread_cpu(pid)["bolt"] - before) / rows * 1e6
                load = os.getloadavg()[0]
                print(f"{variant:28} {part:5} query threads {us:5.0f} µs/row "
                      f"(load {load:.1f}){'' if counted else ' warm-up'}", flush=True)
                if counted:
                    results[variant, part].append(us)
            store.clear()
            store.close()
        print("medians (µs of query-thread CPU per row):")
        for (variant, part), values in results.items():
            print(f"  {variant:28} {part:5} {statistics.median(values):5.0f}")
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
