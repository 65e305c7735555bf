"""Where the Neo4j test server's CPU goes during ``Neo4jStore`` loads, per JVM thread group.

``bench_neo4j_load.py`` prints the JVM's CPU per row as one number; this splits it into the
Bolt workers (running queries and commits), the JIT compiler threads (C1/C2) and the rest
(GC, page cache, Netty), separately for the node and the relationship upserts, over several
rounds on one server (load ``--rows``, clear, again), so a change can be judged by the
work it changes rather than by the JIT's warm-up, which dominates short runs on 2 cores.

    .venv/bin/python benchmarks/bench_neo4j_threads.py --rounds 4 --rows 60000
    .venv/bin/python benchmarks/bench_neo4j_threads.py --set dbms.cypher.min_replan_interval=1h
    .venv/bin/python benchmarks/bench_neo4j_threads.py --jvm=-XX:TieredStopAtLevel=1
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_store import node_batches, rel_batches
from graph_service.storage.neo4j import Neo4jStore
from tests.neo4j_server.launcher import Neo4jTestServer

_TICK = os.sysconf("SC_CLK_TCK")
GROUPS = ("bolt", "jit", "other")


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """``--uri`` / ``--pid``: time a running test server instead of starting one."""
    parser.add_argument("--uri", help="a running test server's Bolt URL (with --pid)")
    parser.add_argument("--pid", type=int, help="that server's JVM process id")


def server_for(args: argparse.Namespace) -> tuple[str, int, Neo4jTestServer | None]:
    """The Bolt URL and JVM process id to time: the one given by ``--uri`` / ``--pid``,
    else a test server started here (returned third, for the caller to close)."""
    if args.uri:
        if args.pid is None:
            raise SystemExit("--uri needs --pid (the server's JVM process id)")
        return args.uri, args.pid, None
    server = Neo4jTestServer(heap="2g", pagecache_mb=1024, quick_start=False).start()
    assert server.pid is not None
    return server.uri, server.pid, server


def thread_cpu(pid: int) -> collections.Counter[str]:
    """CPU seconds per thread group of process ``pid`` (threads that ended are lost)."""
    out: collections.Counter[str] = collections.Counter()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm", encoding="utf-8") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{task}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        group = "bolt" if name.startswith("neo4j.Bolt") else (
            "jit" if "CompilerThre" in name else "other"
        )
        out[group] += (int(fields[11]) + int(fields[12])) / _TICK
    return out


def phase(pid: int, work: Callable[[], None], rows: int) -> str:
    """Run ``work``; its server CPU per row by thread group, client CPU and rate."""
    before, client, began = thread_cpu(pid), time.process_time(), time.perf_counter()
    work()
    after = thread_cpu(pid)
    client = (time.process_time() - client) / rows * 1e6
    rate = rows / (time.perf_counter() - began)
    server = " ".join(f"{g}={(after[g] - before[g]) / rows * 1e6:.0f}" for g in GROUPS)
    return f"server µs/row {server}; client {client:.0f} µs/row; {rate:,.0f} rows/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=60_000, help="nodes + relationships")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache-mb", type=int, default=1024)
    parser.add_argument("--jvm", action="append", default=[], help="an extra JVM flag")
    parser.add_argument("--set", action="append", default=[], help="a Neo4j NAME=VALUE")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    n = args.rows // 3
    server = Neo4jTestServer(
        heap=args.heap, pagecache_mb=args.pagecache_mb, quick_start=False,
        extra_jvm_flags=tuple(args.jvm), settings=settings,
    ).start()
    pid = server.pid
    assert pid is not None
    print(f"heap {args.heap}, page cache {args.pagecache_mb} MB, JVM {args.jvm}, {settings}")
    try:
        for i in range(args.rounds):
            store = Neo4jStore(server.uri)

            def nodes(store: Neo4jStore = store) -> None:
                for batch in node_batches(n, 1):
                    store.upsert(batch)

            def rels(store: Neo4jStore = store) -> None:
                for batch in rel_batches(n, 1):
                    store.upsert([], batch)

            load = os.getloadavg()[0]
            print(f"round {i} (load {load:.1f}) nodes: {phase(pid, nodes, n)}", flush=True)
            print(f"round {i} (load {load:.1f}) rels:  {phase(pid, rels, 2 * n)}", flush=True)
            store.clear()
            store.close()
    finally:
        server.close()


if __name__ == "__main__":
    main()
