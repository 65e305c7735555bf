"""The load's progress line: drawn on a terminal with rows per second and time left, and
rates that are real (rows over the time they took)."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

from loaders.progress import ProgressLine

ROOT = Path(__file__).resolve().parents[1]


def _institutions_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        f.write("key,name\n")
        for i in range(rows):
            f.write(f"school-{i},School {i}\n")
    return path


def _run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal, as an investigator's shell would."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "graph_service.cli", *args],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.stdout is not None
    process.stdout.read()
    return process.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_a_load_on_a_terminal_draws_rows_per_second_and_time_left(tmp_path: Path) -> None:
    data = _institutions_csv(tmp_path / "institutions.csv", 60_000)
    code, terminal = _run_on_a_terminal(
        ["load", str(data), "--store", f"sqlite:///{tmp_path}/g.db"], tmp_path
    )
    assert code == 0, terminal
    assert "\r" in terminal
    drawn = [line for line in terminal.split("\r") if "rows/s" in line]
    assert any(re.search(r"checking \[[#.]{24}\] +\d+% [\d,]+ rows, [\d,]+ rows/s, \S+ left", line)
               for line in drawn), drawn
    assert any(line.startswith("writing: ") for line in drawn), drawn


def test_the_line_counts_rows_and_time_left_from_the_fraction() -> None:
    stream = io.StringIO()
    line = ProgressLine(stream, interval=0.0, force=True)
    before = time.monotonic()
    line("checking", 0, 0.0)
    time.sleep(0.2)
    line("checking", 1_000, 0.25)
    took = time.monotonic() - before
    drawn = stream.getvalue().split("\r")[-1]
    found = re.search(r"\[######\.{18}\]  25% 1,000 rows, ([\d,]+) rows/s, (\d+)s left", drawn)
    assert found, drawn
    rate, left = int(found.group(1).replace(",", "")), int(found.group(2))
    assert 1_000 / took <= rate <= 1_000 / 0.2
    assert round(3 * 0.2) <= left <= round(3 * took) + 1  # a quarter took 0.2 s or a bit more
    line.finish()
    assert stream.getvalue().endswith("\n")


def test_the_line_is_quiet_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    line = ProgressLine(stream)
    line("checking", 10, 0.5)
    line.finish()
    assert stream.getvalue() == ""


def test_the_first_rate_drawn_counts_the_time_the_rows_took() -> None:
    stream = io.StringIO()
    line = ProgressLine(stream, interval=0.0, force=True)
    time.sleep(0.1)  # the first block of rows is read and checked before the first call
    line("checking", 5_000, 0.5)
    rate = int(re.search(r"([\d,]+) rows/s", stream.getvalue()).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert rate <= 5_000 / 0.1  # the rows took at least the 0.1 s slept
