"""The floor of loading over Cypher and Bolt: the cheapest loads the test server allows.

Issue #3 asks ``Neo4jStore.upsert`` for 50,000 rows/s on 1,000,000 rows (1/3 nodes,
2/3 relationships). This measures what loads far simpler than the store's reach on the
same server and machine, so the figure can be judged against a floor rather than hoped for:
if none of these reaches 50,000 rows/s, a loader that also writes ~11 properties,
provenance, merge semantics and the model's constraints cannot either.

Variants (each: n nodes, then 2n relationships, the source of relationship j is node
j mod n, its target random, as in ``bench_neo4j_load``):

* ``unique``: a unique constraint on ``:N(id)``; ``UNWIND $rows AS r CREATE (:N {id: r})``,
  then ``UNWIND $pairs AS p MATCH (a:N {id: p[0]}) MATCH (b:N {id: p[1]}) CREATE (a)-[:R]->(b)``.
* ``elementid``: no constraint; the node statement returns ``elementId(n)`` and the
  relationships find their ends by it (``MATCH (a) WHERE elementId(a) = p[0]``).
* ``nodeid``: the same with the internal ``id(n)`` (deprecated in 5, still the cheapest seek).
* ``bare``: nodes with no property at all (``UNWIND range(1, $count) … CREATE (n:N)``),
  relationships by internal id: the least a node and a relationship can cost.

Each with 1 or 2 writer sessions (threads taking disjoint batches from one queue; a
relationship batch that deadlocks with the other writer's on a shared node is retried by
the driver's managed transaction), one batch a transaction. Only the writes are timed;
the database is emptied between runs (untimed). Runs go round the whole grid, so the
neighbours' load spreads over every configuration; the table gives medians.

    .venv/bin/python benchmarks/bench_neo4j_floor.py                     # 1M rows, full grid
    .venv/bin/python benchmarks/bench_neo4j_floor.py --rows 60000 --runs 1  # quick
    .venv/bin/python benchmarks/bench_neo4j_floor.py --variants nodeid --writers 2 --batches 10000
    .venv/bin/python benchmarks/bench_neo4j_floor.py --config unique:1:10000 --config bare:2:50000
"""

from __future__ import annotations

import argparse
import itertools
import os
import queue
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import neo4j

from benchmarks.bench_neo4j_load import process_cpu
from benchmarks.bench_neo4j_threads import add_server_options, server_for

CONSTRAINT = "CREATE CONSTRAINT floor_n_id IF NOT EXISTS FOR (n:N) REQUIRE n.id IS UNIQUE"
DROP_CONSTRAINT = "DROP CONSTRAINT floor_n_id IF EXISTS"


@dataclass(frozen=True)
class Variant:
    """How one variant writes: its node and relationship statements, and whether the
    relationships find their ends by the id property (else by what the node statement
    returned)."""

    name: str
    nodes: str
    rels: str
    by_property: bool
    constraint: bool


VARIANTS = {
    v.name: v
    for v in (
        Variant(
            "unique",
            "UNWIND $rows AS r CREATE (:N {id: r})",
            "UNWIND $pairs AS p MATCH (a:N {id: p[0]}) MATCH (b:N {id: p[1]}) "
            "CREATE (a)-[:R]->(b)",
            by_property=True,
            constraint=True,
        ),
        Variant(
            "elementid",
            "UNWIND $rows AS r CREATE (n:N {id: r}) RETURN collect(elementId(n)) AS ids",
            "UNWIND $pairs AS p MATCH (a) WHERE elementId(a) = p[0] "
            "MATCH (b) WHERE elementId(b) = p[1] CREATE (a)-[:R]->(b)",
            by_property=False,
            constraint=False,
        ),
        Variant(
            "nodeid",
            "UNWIND $rows AS r CREATE (n:N {id: r}) RETURN collect(id(n)) AS ids",
            "UNWIND $pairs AS p MATCH (a) WHERE id(a) = p[0] MATCH (b) WHERE id(b) = p[1] "
            "CREATE (a)-[:R]->(b)",
            by_property=False,
            constraint=False,
        ),
        Variant(
            "bare",
            "UNWIND range(1, size($rows)) AS r CREATE (n:N) RETURN collect(id(n)) AS ids",
            "UNWIND $pairs AS p MATCH (a) WHERE id(a) = p[0] MATCH (b) WHERE id(b) = p[1] "
            "CREATE (a)-[:R]->(b)",
            by_property=False,
            constraint=False,
        ),
    )
}


@dataclass
class Result:
    rows: int
    seconds: float
    client: float
    server: float
    node_rate: float
    rel_rate: float
    retries: int
    node_server: float  # server CPU seconds of the node phase (the rest: relationships)


def run_batches(
    driver: neo4j.Driver,
    statement: str,
    key: str,
    batches: Sequence[tuple[int, list[Any]]],
    writers: int,
    returns: list[Any] | None,
) -> int:
    """Write every batch, each in its own managed transaction, on ``writers`` sessions;
    the ids a node statement returns go to ``returns`` at the batch's offset. Returns the
    number of retried transactions (deadlocks between the writers)."""
    work: queue.SimpleQueue[tuple[int, list[Any]]] = queue.SimpleQueue()
    for batch in batches:
        work.put(batch)
    attempts = [0]
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer() -> None:
        try:
            with driver.session() as session:
                while True:
                    try:
                        start, rows = work.get_nowait()
                    except queue.Empty:
                        return

                    def tx(t: neo4j.ManagedTransaction, rows: list[Any] = rows) -> Any:
                        with lock:
                            attempts[0] += 1
                        result = t.run(statement, {key: rows})
                        return result.single() if returns is not None else result.consume()

                    record = session.execute_write(tx)
                    if returns is not None:
                        ids = record["ids"]
                        returns[start:start + len(ids)] = ids
        except BaseException as e:  # reported by the caller, not lost in the thread
            errors.append(e)

    # Daemons, so that Ctrl-C ends the benchmark without waiting for the queue to drain.
    threads = [threading.Thread(target=writer, daemon=True) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return attempts[0] - len(batches)


def one_run(
    driver: neo4j.Driver, pid: int, variant: Variant, writers: int, batch: int,
    ids: list[str], targets: list[int],
) -> Result:
    """Load n nodes and 2n relationships with one variant; only the writes are timed."""
    n = len(ids)
    if variant.constraint:
        with driver.session() as s:
            s.run(CONSTRAINT).consume()
    node_batches = [(i, ids[i:i + batch]) for i in range(0, n, batch)]
    created: list[Any] | None = None if variant.by_property else [None] * n
    rows, seconds, client, server = 0, 0.0, 0.0, 0.0
    retries = 0
    rates = []
    servers = []

    def timed(work: Callable[[], int], n_rows: int) -> None:
        nonlocal rows, seconds, client, server, retries
        s0, c0, t0 = process_cpu(pid), time.process_time(), time.perf_counter()
        retries += work()
        spent = time.perf_counter() - t0
        seconds += spent
        client += time.process_time() - c0
        servers.append(process_cpu(pid) - s0)
        server += servers[-1]
        rows += n_rows
        rates.append(n_rows / spent)

    timed(lambda: run_batches(driver, variant.nodes, "rows", node_batches, writers, created), n)
    ends: Sequence[Any] = ids if created is None else created
    pairs = [[ends[j % n], ends[t]] for j, t in enumerate(targets)]
    rel_batches = [(j, pairs[j:j + batch]) for j in range(0, len(pairs), batch)]
    timed(lambda: run_batches(driver, variant.rels, "pairs", rel_batches, writers, None),
          len(pairs))
    return Result(rows, seconds, client, server, rates[0], rates[1], retries, servers[0])


def empty(driver: neo4j.Driver) -> float:
    """Delete the relationships, then the nodes, in large batches; seconds spent."""
    began = time.perf_counter()
    with driver.session() as s:
        s.run("MATCH ()-[r:R]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 50000 ROWS").consume()
        s.run("MATCH (n:N) CALL (n) { DELETE n } IN TRANSACTIONS OF 50000 ROWS").consume()
        s.run(DROP_CONSTRAINT).consume()
    return time.perf_counter() - began


def parse_config(text: str) -> tuple[str, int, int]:
    """``nodeid:2:10000`` -> ("nodeid", 2, 10000), or a clear error."""
    try:
        name, writers, batch = text.split(":")
        if name not in VARIANTS or int(writers) < 1 or int(batch) < 1:
            raise ValueError
        return name, int(writers), int(batch)
    except ValueError:
        raise SystemExit(f"--config {text!r}: expected VARIANT:WRITERS:BATCH with VARIANT one "
                         f"of {', '.join(VARIANTS)} and positive numbers") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="nodes + relationships")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS),
                        default=["unique", "elementid", "nodeid", "bare"])
    parser.add_argument("--writers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--batches", nargs="+", type=int, default=[1_000, 10_000, 50_000])
    parser.add_argument("--config", action="append", default=[], metavar="VARIANT:WRITERS:BATCH",
                        help="run only these configurations (repeatable) instead of the grid")
    parser.add_argument("--warmup-rows", type=int, default=150_000,
                        help="rows of each variant loaded (and deleted) first, untimed")
    add_server_options(parser)
    args = parser.parse_args()
    if args.rows < 3 or min(args.writers) < 1 or min(args.batches) < 1:
        raise SystemExit("--rows must be at least 3, --writers and --batches at least 1")
    uri, pid, server = server_for(args)
    # ``id()`` is deprecated in Neo4j 5: without this, every statement of ``nodeid`` and
    # ``bare`` logs a warning.
    driver = neo4j.GraphDatabase.driver(uri, auth=None, notifications_min_severity="OFF")
    n = args.rows // 3
    ids = [f"N:{i:08d}" for i in range(n)]
    rng = random.Random(1)
    targets = [rng.randrange(n) for _ in range(args.rows - n)]
    grid = list(itertools.product(args.variants, args.writers, args.batches))
    if args.config:
        grid = [parse_config(c) for c in args.config]
        args.variants = list(dict.fromkeys(g[0] for g in grid))
    results: dict[tuple[str, int, int], list[Result]] = {g: [] for g in grid}
    loads: dict[tuple[str, int, int], list[float]] = {g: [] for g in grid}
    try:
        empty(driver)
        if args.warmup_rows:
            wn = max(1, args.warmup_rows // 3)
            wrng = random.Random(2)
            wtargets = [wrng.randrange(wn) for _ in range(2 * wn)]
            for name in args.variants:
                r = one_run(driver, pid, VARIANTS[name], 1, 10_000, ids[:wn], wtargets)
                empty(driver)
                print(f"warm-up {name}: {r.rows / r.seconds:,.0f} rows/s", flush=True)
        for run in range(args.runs):
            for g in grid:
                name, writers, batch = g
                load = os.getloadavg()[0]
                r = one_run(driver, pid, VARIANTS[name], writers, batch, ids, targets)
                wiped = empty(driver)
                results[g].append(r)
                loads[g].append(load)
                print(f"run {run} {name:9} writers {writers} batch {batch:6}: "
                      f"{r.rows / r.seconds:8,.0f} rows/s (nodes {r.node_rate:,.0f}, "
                      f"rels {r.rel_rate:,.0f}); client {r.client / r.rows * 1e6:.1f} µs/row, "
                      f"server {r.server / r.rows * 1e6:.1f} µs/row (a node "
                      f"{r.node_server / n * 1e6:.1f}, a relationship "
                      f"{(r.server - r.node_server) / len(targets) * 1e6:.1f}); "
                      f"retries {r.retries}; load {load:.1f}; emptied in {wiped:.0f} s", flush=True)
        print(f"\nmedians of {args.runs} run(s) of {n + len(targets):,} rows "
              f"({n:,} nodes, {len(targets):,} relationships):")
        print("variant   writers  batch   rows/s (range)          nodes/s   rels/s  "
              "client µs/row  server µs/row (node, rel)  load")
        for g in grid:
            rs = results[g]

            def med(f: Callable[[Result], float], rs: list[Result] = rs) -> float:
                return statistics.median(f(r) for r in rs)

            spread = [r.rows / r.seconds for r in rs]
            print(f"{g[0]:9} {g[1]:7} {g[2]:6} {med(lambda r: r.rows / r.seconds):8,.0f} "
                  f"({min(spread):7,.0f}-{max(spread):7,.0f}) "
                  f"{med(lambda r: r.node_rate):8,.0f} {med(lambda r: r.rel_rate):8,.0f} "
                  f"{med(lambda r: r.client / r.rows * 1e6):14.1f} "
                  f"{med(lambda r: r.server / r.rows * 1e6):14.1f} "
                  f"({med(lambda r: r.node_server / n * 1e6):.1f}, "
                  f"{med(lambda r: (r.server - r.node_server) / len(targets) * 1e6):.1f})  "
                  f"{min(loads[g]):.1f}-{max(loads[g]):.1f}")
    finally:
        driver.close()
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
