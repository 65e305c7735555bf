"""Export and subgraph benchmark (issue #6).

Builds a synthetic network of regions: one regional authority, 200 institutions
subordinate to it, and 50 people per institution, each of whom also works at a second
institution of the region (so a region is 10,201 nodes and 20,200 relationships). Written
with records and ``store.upsert`` inside ``store.transaction(bulk=True)``, 50,000 at a time.

1. ``subgraph`` of one region (two hops from its authority: 10,201 nodes, 20,200 edges)
   over GraphQL through the ASGI app, served (the whole body received) and decoded by the
   client, against a baseline measured in the same run: one ``get_nodes`` of the same
   node ids through the store protocol. Medians of 5 rounds.
2. GEXF export of the whole network by the CLI in a child process (its peak RSS is
   the export's peak memory, VmHWM), against a baseline in the same run: a child process that
   reads every node and relationship as the export does (the store's scans), and writes
   nothing.

    python benchmarks/bench_export.py                  # 1,000,000 nodes
    python benchmarks/bench_export.py --nodes 30000    # a quick run
"""

from __future__ import annotations

import argparse
import os
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
INSTITUTIONS = 200
STAFF = 50
REGION_NODES = 1 + INSTITUTIONS + INSTITUTIONS * STAFF

SUBGRAPH = """query($id: ID!) {
  subgraph(ids: [$id], hops: 2, limit: 20000, hubLimit: 1000) {
    nodeCount edgeCount truncated elements
  }
}"""


def records(regions: int) -> Iterator[tuple[list[Node], list[Relationship]]]:
    prov = Provenance(("Source:synthetic",), "reported")
    nodes: list[Node] = [Node.create("Source", "synthetic", {"title": "Synthetic network"})]
    rels: list[Relationship] = []
    for r in range(regions):
        region = f"Region {r}"
        authority = f"Authority:r{r}"
        nodes.append(Node(authority, "Authority", f"r{r}",
                          {"name": f"Department of Region {r}", "region": region}, prov))
        # Every institution of the region first: staff also work at a second one.
        for i in range(INSTITUTIONS):
            inst = f"Institution:r{r}i{i}"
            nodes.append(Node(inst, "Institution", f"r{r}i{i}",
                              {"name": f"School {i} of region {r}", "region": region,
                               "staff_count": STAFF}, prov))
            rels.append(Relationship(inst, "SUBORDINATE_TO", authority, "", {}, prov))
        for i in range(INSTITUTIONS):
            inst = f"Institution:r{r}i{i}"
            for p in range(STAFF):
                person = f"Person:r{r}i{i}p{p}"
                nodes.append(Node(person, "Person", f"r{r}i{i}p{p}", {"public": False}, prov))
                rels.append(Relationship(person, "WORKS_AT", inst, "", {"role": "teacher"}, prov))
                second = f"Institution:r{r}i{(i + 1 + p) % INSTITUTIONS}"
                rels.append(Relationship(person, "WORKS_AT", second, "", {"role": "tutor"}, prov))
            if len(nodes) >= BATCH:
                yield nodes, rels
                nodes, rels = [], []
    if nodes or rels:
        yield nodes, rels


def build(path: Path, regions: int) -> tuple[int, int, float]:
    store = SqliteStore(path)
    started = time.perf_counter()
    with store.transaction(bulk=True):
        for nodes, rels in records(regions):
            store.upsert(nodes, [])
            store.upsert([], rels)
    seconds = time.perf_counter() - started
    stats = store.stats()
    store.close()
    return stats.node_count, stats.relationship_count, seconds


def bench_subgraph(path: Path) -> tuple[float, float, float, int, int]:
    """Medians of 5 rounds: the request until its whole body has arrived ("served"), the
    same plus the client's ``json.loads`` of the body, and the ``get_nodes`` baseline.

    Only the last round's body is kept: holding all five (some 150,000 dicts each) made
    every later round pay the collector's passes over the earlier ones.
    """
    from starlette.testclient import TestClient

    from graph_service.app import create_app

    store = SqliteStore(path)
    with TestClient(create_app(store)) as client:
        def once() -> tuple[float, float, dict[str, object]]:
            t = time.perf_counter()
            response = client.post(
                "/graphql", json={"query": SUBGRAPH, "variables": {"id": "Authority:r0"}}
            )
            served = time.perf_counter() - t
            body = response.json()
            return served, time.perf_counter() - t, body["data"]["subgraph"]

        once()  # warm: parse and validate caches, SQLite page cache
        served: list[float] = []
        decoded: list[float] = []
        for _ in range(5):
            s, d, result = once()
            served.append(s)
            decoded.append(d)
        elements = result["elements"]  # type: ignore[index]
        ids = [n["data"]["id"] for n in elements["nodes"]]

        def baseline() -> float:
            t = time.perf_counter()
            store.get_nodes(ids)
            return time.perf_counter() - t

        base = statistics.median(baseline() for _ in range(5))
    store.close()
    return (statistics.median(served), statistics.median(decoded), base,
            int(result["nodeCount"]), int(result["edgeCount"]))  # type: ignore[call-overload]


READ_ONLY = """
import sys
from graph_service.exports import ExportSource
from graph_service.storage.sqlite import SqliteStore
s = SqliteStore(sys.argv[1])
src = ExportSource(s)
n = sum(1 for _ in src.nodes()); r = sum(1 for _ in src.relationships())
print(n, r)
"""


#: Runs a child's work (a module or code) and writes its own peak RSS (VmHWM) on exit.
#: Peak from wait4 (ru_maxrss) would not do: Linux carries the parent's peak across
#: fork and exec, so every child reported this process's 1.5 GB (store, subgraph).
PEAK = """
import atexit, os, runpy, sys
def report():
    with open("/proc/self/status") as f:
        kb = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(os.environ["BENCH_PEAK_FILE"], "w") as out:
        out.write(kb)
atexit.register(report)
kind, what, *rest = sys.argv[1:]
sys.argv = [what, *rest]
if kind == "module":
    runpy.run_module(what, run_name="__main__", alter_sys=True)
else:
    exec(compile(what, "<bench child>", "exec"), {"__name__": "__main__"})
"""


def child(kind: str, what: str, args: list[str]) -> tuple[float, float]:
    """Run a child process (``kind`` "module" or "code"): its wall time, and its own
    peak RSS in GB."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak:
        env = {**os.environ, "BENCH_PEAK_FILE": peak.name}
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", PEAK, kind, what, *args],
                              stdout=subprocess.DEVNULL, env=env, check=False)
        seconds = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(f"{kind} {what[:40]!r} failed with {proc.returncode}")
        return seconds, int(peak.read() or 0) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None,
                        help="Keep the store in this file; an existing one is used as it is.")
    args = parser.parse_args()
    regions = max(1, round(args.nodes / REGION_NODES))
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.db"
        if args.keep and args.keep.exists():
            store = SqliteStore(path)
            stats = store.stats()
            store.close()
            n, r = stats.node_count, stats.relationship_count
            print(f"using {path}: {n:,} nodes and {r:,} relationships")
        else:
            n, r, seconds = build(path, regions)
            print(f"built {n:,} nodes and {r:,} relationships in {seconds:.1f}s")

        sub, decoded, base, sn, se = bench_subgraph(path)
        print(f"subgraph of {sn:,} nodes and {se:,} edges over GraphQL: served in "
              f"{sub * 1000:.0f} ms, {decoded * 1000:.0f} ms with the client's json.loads "
              f"(medians of 5); baseline get_nodes of the same ids {base * 1000:.0f} ms; "
              f"ratios {sub / base:.1f}x and {decoded / base:.1f}x")

        read_s, read_gb = child("code", READ_ONLY, [str(path)])
        out = Path(tmp) / "bench.gexf"
        gexf_s, gexf_gb = child("module", "graph_service.cli",
                                ["export", "--store", f"sqlite:///{path}", "--format", "gexf",
                                 "-o", str(out)])
        print(f"GEXF export of {n:,} nodes and {r:,} relationships: {gexf_s:.1f}s, "
              f"{out.stat().st_size / 1e6:,.0f} MB written, peak RSS {gexf_gb:.2f} GB; "
              f"baseline read-only pass {read_s:.1f}s "
              f"(peak RSS {read_gb:.2f} GB); ratio {gexf_s / read_s:.2f}x")


if __name__ == "__main__":
    main()
