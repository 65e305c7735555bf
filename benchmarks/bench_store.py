"""Embedded store benchmark (issue: foundation).

1. Upsert N nodes and 2N relationships into a fresh embedded store, in batches, and
   report rows per second, against a baseline measured in the same run: SQLite's own
   ``executemany`` of the same rows into a table without indexes or checks.
2. ``node(id)`` over GraphQL on a real uvicorn server, against a trivial strawberry
   ``{ hello }`` query served by the same server, both driven by the same client
   (sequential keep-alive requests from another process); medians of several rounds.

Peak memory (the process's maximum RSS) is reported for the load.

    python benchmarks/bench_store.py                 # 1,000,000 nodes, 2,000,000 relationships
    python benchmarks/bench_store.py --nodes 100000  # a quick run
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from graph_service.storage import Node, Provenance, Relationship
from graph_service.storage.sqlite import SqliteStore

BATCH = 50_000
KINDS = ("Institution", "Person", "Authority")


def node_batches(n: int, seed: int) -> Iterator[list[Node]]:
    prov = Provenance(("Source:synthetic",), "reported")
    for start in range(0, n, BATCH):
        batch = []
        for i in range(start, min(n, start + BATCH)):
            kind = KINDS[i % 3]
            props: dict[str, object] = {"name": f"{kind} {i}"}
            if kind == "Institution":
                props["staff_count"] = 10 + i % 300
                props["region"] = f"Region {i % 85}"
            elif kind == "Person":
                props["public"] = False
            batch.append(
                Node(
                    f"{kind}:{i:08d}",
                    kind,
                    f"{i:08d}",
                    props,
                    Provenance(prov.sources, prov.evidence, (f"synth#{kind}!{i}",)),
                )
            )
        yield batch


def rel_batches(n: int, seed: int) -> Iterator[list[Relationship]]:
    rng = random.Random(seed)
    prov = Provenance(("Source:synthetic",), "reported")
    total = 2 * n
    for start in range(0, total, BATCH):
        batch = []
        for j in range(start, min(total, start + BATCH)):
            i = j % n
            kind = KINDS[i % 3]
            if kind == "Person":
                # a person works at an institution
                t = rng.randrange(0, n // 3) * 3
                batch.append(
                    Relationship(
                        f"Person:{i:08d}", "WORKS_AT", f"Institution:{t:08d}", str(j // n), {}, prov
                    )
                )
            else:
                t = rng.randrange(0, n // 3) * 3 + 2
                batch.append(
                    Relationship(
                        f"{kind}:{i:08d}",
                        "SUBORDINATE_TO",
                        f"Authority:{t:08d}",
                        str(j // n),
                        {},
                        prov,
                    )
                )
        yield batch


def bench_upsert(
    path: Path, n: int, seed: int, bulk: bool
) -> tuple[float, float, int, float]:
    """Rows per second of ``upsert`` (record building excluded), seconds, rows, and the
    CPU seconds of those calls (the steadier figure on a shared machine).

    ``bulk``: the whole load is one transaction (as ``pressure-graph load`` writes it),
    else every batch of 50,000 rows commits on its own.
    """
    store = SqliteStore(path)
    store.upsert([Node.create("Source", "synthetic", {"title": "Synthetic benchmark data"})])
    spent = cpu = 0.0
    rows = 0
    with store.transaction(bulk=True) if bulk else contextlib.nullcontext():
        for nodes in node_batches(n, seed):
            t, c = time.perf_counter(), time.process_time()
            store.upsert(nodes)
            spent += time.perf_counter() - t
            cpu += time.process_time() - c
            rows += len(nodes)
        for rels in rel_batches(n, seed):
            t, c = time.perf_counter(), time.process_time()
            store.upsert([], rels)
            spent += time.perf_counter() - t
            cpu += time.process_time() - c
            rows += len(rels)
        t, c = time.perf_counter(), time.process_time()
    spent += time.perf_counter() - t  # the commit, and the index build of a bulk load
    cpu += time.process_time() - c
    store.close()
    return rows / spent, spent, rows, cpu


def bench_raw_sqlite(path: Path, n: int, seed: int) -> tuple[float, float]:
    """Baseline: the same rows into bare tables, no indexes, no merging, no checks.
    Rows per second by the clock and by CPU time."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE n (id, kind, key, props, sources, evidence, origins)")
    db.execute("CREATE TABLE r (src, type, dst, key, props, sources, evidence, origins)")
    spent = cpu = 0.0
    rows = 0
    for nodes in node_batches(n, seed):
        data = [
            (
                x.id,
                x.kind,
                x.key,
                str(x.properties),
                "Source:synthetic",
                "reported",
                x.provenance.origins[0],
            )
            for x in nodes
        ]
        t, c = time.perf_counter(), time.process_time()
        db.execute("BEGIN")
        db.executemany("INSERT INTO n VALUES (?,?,?,?,?,?,?)", data)
        db.execute("COMMIT")
        spent += time.perf_counter() - t
        cpu += time.process_time() - c
        rows += len(data)
    for rels in rel_batches(n, seed):
        data2 = [
            (x.source, x.type, x.target, x.key, "{}", "Source:synthetic", "reported", "")
            for x in rels
        ]
        t, c = time.perf_counter(), time.process_time()
        db.execute("BEGIN")
        db.executemany("INSERT INTO r VALUES (?,?,?,?,?,?,?,?)", data2)
        db.execute("COMMIT")
        spent += time.perf_counter() - t
        cpu += time.process_time() - c
        rows += len(data2)
    db.close()
    return rows / spent, rows / cpu


SERVER = """
import sys, uvicorn, strawberry
from starlette.routing import Route
from strawberry.asgi import GraphQL
from graph_service.app import create_app
from graph_service.storage.sqlite import SqliteStore

@strawberry.type
class Hello:
    @strawberry.field
    def hello(self) -> str:
        return "world"

app = create_app(SqliteStore(sys.argv[1]))
app.router.routes.append(Route("/hello", GraphQL(strawberry.Schema(query=Hello)),
                               methods=["POST"]))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""

CLIENT = """
import json, sys, time, httpx, random
url, query, ids, seconds = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4])
rng = random.Random(1)
with httpx.Client() as c:
    count = 0
    end = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        variables = {"id": rng.choice(ids)} if ids else {}
        r = c.post(url, json={"query": query, "variables": variables})
        assert r.status_code == 200 and "errors" not in r.json(), r.text
        count += 1
    print(count / (time.perf_counter() - start))
"""


def bench_node_by_id(path: Path, n: int, rounds: int, seconds: float) -> tuple[float, float]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(path), str(port)])
    try:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        rng = random.Random(7)
        ids = [f"{KINDS[i % 3]}:{i:08d}" for i in (rng.randrange(n) for _ in range(1000))]
        import json

        node_rps, hello_rps = [], []
        node_query = "query($id: ID!) { node(id: $id) { id kind label } }"
        for _ in range(rounds):
            for url, query, args, out in (
                (f"http://127.0.0.1:{port}/hello", "{ hello }", [], hello_rps),
                (f"http://127.0.0.1:{port}/graphql", node_query, ids, node_rps),
            ):
                result = subprocess.run(
                    [sys.executable, "-c", CLIENT, url, query, json.dumps(args), str(seconds)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                out.append(float(result.stdout))
        return statistics.median(node_rps), statistics.median(hello_rps)
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batched", action="store_true", help="also measure a commit per batch")
    parser.add_argument("--seconds", type=float, default=5.0, help="per round of requests")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store_path = Path(tmp) / "bench.db"
        raw_rate, raw_cpu_rate = bench_raw_sqlite(Path(tmp) / "raw.db", args.nodes, args.seed)
        os.unlink(Path(tmp) / "raw.db")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rate, spent, rows, cpu = bench_upsert(store_path, args.nodes, args.seed, bulk=True)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"upsert, one transaction: {rows:,} rows in {spent:.1f} s = {rate:,.0f} rows/s "
            f"(target >= 100,000); raw SQLite baseline {raw_rate:,.0f} rows/s; "
            f"ratio {rate / raw_rate:.2f}\n"
            f"  by CPU time: {rows / cpu:,.0f} rows/s ({cpu:.1f} s); raw SQLite "
            f"{raw_cpu_rate:,.0f} rows/s; ratio {rows / cpu / raw_cpu_rate:.2f}; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        if args.batched:
            batched_path = Path(tmp) / "batched.db"
            b_rate, b_spent, _, _ = bench_upsert(batched_path, args.nodes, args.seed, bulk=False)
            os.unlink(batched_path)
            print(
                f"upsert, a commit per 50,000 rows: {b_spent:.1f} s = {b_rate:,.0f} rows/s; "
                f"ratio to raw {b_rate / raw_rate:.2f}"
            )
        print(
            f"peak RSS {peak_mb:,.0f} MB (before the load {rss_before / 1024:,.0f} MB; "
            "target < 3,000 MB)"
        )
        node_rps, hello_rps = bench_node_by_id(store_path, args.nodes, args.rounds, args.seconds)
        print(
            f"node(id): {node_rps:,.0f} req/s; {{ hello }}: {hello_rps:,.0f} req/s; "
            f"ratio {node_rps / hello_rps:.2f} (target >= 0.50); medians of {args.rounds}"
        )


if __name__ == "__main__":
    main()
