"""Load speed and memory: CSV and XLSX, read+validate stage and end to end.

End to end is measured both ways: written while checking by a second process (what a
large load into the embedded store does by default) and one stage after the other.

Prints medians and ratios against baselines measured in the same run on the same files
(plain ``csv.reader`` for CSV, calamine's own row iteration for XLSX): absolute times on a
shared machine are noise, the ratios are the signal.

    .venv/bin/python benchmarks/bench_load.py --rows 1000000
    .venv/bin/python benchmarks/bench_load.py --rows 20000 --repeat 3   # quick
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_csv_set(folder: Path, rows: int) -> list[Path]:
    """rows/2 persons and rows/2 WORKS_AT relationships, plus institutions and a source."""
    half = rows // 2
    n_inst = max(1, rows // 500)
    with (folder / "sources.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["key", "title", "type"], ["bench", "BENCHMARK", "other"]])
    with (folder / "institutions.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["key", "inn", "name", "sector", "staff_count", "sources"])
        for i in range(n_inst):
            w.writerow([f"i{i}", f"99{i:08d}", f"Institution {i}", "education", "120", "bench"])
    with (folder / "persons.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["key", "name", "public", "position", "sources", "evidence"])
        for i in range(half):
            w.writerow(
                [f"p{i:09d}", f"Employee Q{i % 977}", "false", "teacher", "bench", "reported"]
            )
    with (folder / "relationships.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["from", "type", "to", "role", "head", "sources"])
        for i in range(rows - half):
            w.writerow(
                [
                    f"Person:p{i:09d}",
                    "WORKS_AT",
                    f"Institution:99{i % n_inst:08d}",
                    "teacher",
                    "false",
                    "bench",
                ]
            )
    return [
        folder / n for n in ("sources.csv", "institutions.csv", "persons.csv", "relationships.csv")
    ]


def write_xlsx(folder: Path, rows: int) -> Path:
    import xlsxwriter

    path = folder / "bench.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("sources")
    sheet.write_row(0, 0, ["key", "title", "type"])
    sheet.write_row(1, 0, ["bench", "BENCHMARK", "other"])
    sheet = book.add_worksheet("persons")
    sheet.write_row(0, 0, ["key", "name", "public", "position", "sources", "evidence"])
    for i in range(rows):
        sheet.write_row(
            i + 1, 0, [f"p{i:09d}", f"Employee Q{i % 977}", "false", "teacher", "bench", "reported"]
        )
    book.close()
    return path


def baseline_csv(paths: list[Path]) -> float:
    t = time.perf_counter()
    for p in paths:
        with p.open(newline="", encoding="utf-8") as f:
            for _ in csv.reader(f):
                pass
    return time.perf_counter() - t


def baseline_xlsx(path: Path) -> float:
    from python_calamine import CalamineWorkbook

    t = time.perf_counter()
    book = CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        for _ in book.get_sheet_by_name(name).iter_rows():
            pass
    return time.perf_counter() - t


def stage(paths: list[str], store: str | None, ahead: bool | None = None) -> dict[str, float]:
    """One measured run in a fresh process (so peak memory is this run's own).

    ``ahead``: written while checking, by a second process (``load_files(background=)``;
    its CPU time is added to the run's, and its peak memory reported beside the run's)."""
    code = f"""
import json, resource, sys, time
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from loaders.load import load_files
store = None
if {store!r}:
    from graph_service.storage.sqlite import SqliteStore
    store = SqliteStore({store!r})
t = time.perf_counter()
c = time.process_time()
m = time.thread_time()
r = load_files([Path(p) for p in {paths!r}], store, dry_run=store is None,
               background={ahead!r})
total = time.perf_counter() - t
own_cpu = time.process_time() - c
main_cpu = time.thread_time() - m
# the writer copies its log into the database file after reporting its commit: not part
# of the load's time, but waited for here so that it does not overlap the next run
from loaders.background_write import wait_for_checkpoints
t = time.perf_counter()
wait_for_checkpoints()
after = time.perf_counter() - t
cpu = own_cpu + r.writer_cpu_seconds
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(rows=r.rows_read, check=r.check_seconds, write=r.write_seconds,
                      total=total, cpu=cpu, own_cpu=own_cpu, writer_cpu=r.writer_cpu_seconds,
                      main_cpu=main_cpu, checkpoint_after=after,
                      peak_mb=peak, writer_peak_mb=r.writer_peak_mb, ahead=r.written_ahead)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def report(
    label: str, rows: int, base: list[float], runs: list[dict[str, float]], key: str
) -> None:
    """Wall-clock figures against the baseline; with ``cpu``, also the run's CPU time (the
    steadier figure on a shared machine: a dry run is all read+validate, an end-to-end run
    read+validate+write). For a write-ahead, the CPU of the loader's main thread too: what
    cannot run beside the rest (threads parse workbook parts and scan for formulas), so
    on a busy machine it tells the time a load would take on two free cores better than
    the wall clock does."""
    b = statistics.median(base)
    t = statistics.median(r[key] for r in runs)
    peak = max(r["peak_mb"] for r in runs)
    writer = max(r.get("writer_peak_mb", 0.0) for r in runs)
    cpu = f"  writer peak {writer:,.0f} MB" if writer else ""
    if key in ("check", "total"):
        c = min(r["cpu"] for r in runs)
        cpu += f"  cpu {rows / c:,.0f} rows/s (best {c:.2f}s)"
    if any(r.get("ahead") for r in runs):
        # where a write-ahead's time goes: the check (the writer keeping pace), then the
        # wait for the writer to catch up, build its indexes and commit; CPU of each side
        cpu += (
            f"\n{'':<34} check {statistics.median(r['check'] for r in runs):.2f}s then "
            f"commit wait {statistics.median(r['write'] for r in runs):.2f}s; cpu: loader "
            f"{statistics.median(r['own_cpu'] for r in runs):.2f}s (its main thread "
            f"{statistics.median(r['main_cpu'] for r in runs):.2f}s), writer "
            f"{statistics.median(r['writer_cpu'] for r in runs):.2f}s up to its commit; "
            f"its checkpoint went on {statistics.median(r['checkpoint_after'] for r in runs):.2f}s"
            " after the load returned"
        )
    print(
        f"{label:<34} {rows / t:>10,.0f} rows/s  median {t:7.2f}s  "
        f"{t / b:5.1f}x baseline ({rows / b:,.0f} rows/s)  peak {peak:,.0f} MB{cpu}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--xlsx-rows",
        type=int,
        default=None,
        help="rows in the XLSX sheet (default: --rows, at most 1,048,575)",
    )
    parser.add_argument(
        "--write-repeat",
        type=int,
        default=None,
        help="end-to-end runs (default: --repeat, but 1 from 500,000 rows on: each such run "
        "takes a minute or more)",
    )
    parser.add_argument("--skip-write", action="store_true", help="only the read+validate stage")
    args = parser.parse_args()
    xlsx_rows = min(args.xlsx_rows or args.rows, 1_048_575)
    write_repeat = args.write_repeat or (1 if args.rows >= 500_000 else args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_csv_set(folder, args.rows)
        names = [str(p) for p in paths]
        base = [baseline_csv(paths) for _ in range(args.repeat)]
        checks = [stage(names, None) for _ in range(args.repeat)]
        rows = int(checks[0]["rows"])
        print(
            f"CSV: {rows:,} rows ({sum(p.stat().st_size for p in paths) / 1e6:,.0f} MB); "
            f"baseline csv.reader; {args.repeat} dry runs, {write_repeat} end to end"
        )
        report("CSV read+validate (dry run)", rows, base, checks, "check")
        if not args.skip_write:
            ahead = [stage(names, str(folder / f"a{i}.db"), True) for i in range(write_repeat)]
            ends = [stage(names, str(folder / f"g{i}.db"), False) for i in range(write_repeat)]
            report("CSV end to end, written ahead", rows, base, ahead, "total")
            report("CSV end to end, one process", rows, base, ends, "total")
            report("CSV write stage alone", rows, base, ends, "write")
        xlsx = write_xlsx(folder, xlsx_rows)
        base = [baseline_xlsx(xlsx) for _ in range(args.repeat)]
        checks = [stage([str(xlsx)], None) for _ in range(args.repeat)]
        rows = int(checks[0]["rows"])
        print(
            f"XLSX: {rows:,} rows ({xlsx.stat().st_size / 1e6:,.0f} MB); "
            "baseline calamine iter_rows"
        )
        report("XLSX read+validate (dry run)", rows, base, checks, "check")
        if not args.skip_write:
            one = [str(xlsx)]
            ahead = [stage(one, str(folder / f"xa{i}.db"), True) for i in range(write_repeat)]
            ends = [stage(one, str(folder / f"x{i}.db"), False) for i in range(write_repeat)]
            report("XLSX end to end, written ahead", rows, base, ahead, "total")
            report("XLSX end to end, one process", rows, base, ends, "total")


if __name__ == "__main__":
    main()
