"""A progress line for loads: rows, rows per second and time left, on a terminal only."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    """Redraws one line on ``stream`` at most every ``interval`` seconds.

    Quiet when the stream is not a terminal (a pipe, a log file, CI), so scripted runs get
    only the final summary.

    A stage's clock starts at the call before its first one (or when the line was made),
    not at its first call: a load reports after a block of rows is done, so the first
    call already carries rows that took time, and timing them from that call would draw
    a rate of rows over nothing.
    """

    def __init__(
        self, stream: TextIO | None = None, interval: float = 0.2, force: bool = False
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = force or self.stream.isatty()
        self.interval = interval
        self.started: dict[str, float] = {}
        self.last_call = time.monotonic()
        self.last_draw = 0.0
        self.drawn = False

    def __call__(self, stage: str, rows: int, fraction: float | None) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        start = self.started.setdefault(stage, self.last_call)
        self.last_call = now
        if now - self.last_draw < self.interval and fraction != 1.0:
            return
        self.last_draw = now
        elapsed = max(now - start, 1e-9)
        rate = rows / elapsed
        line = f"{stage}: {rows:,} rows, {rate:,.0f} rows/s"
        if fraction is not None and 0 < fraction < 1:
            width = 24
            filled = int(width * fraction)
            left = elapsed * (1 - fraction) / fraction
            line = (
                f"{stage} [{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} "
                f"{rows:,} rows, {rate:,.0f} rows/s, {_duration(left)} left"
            )
        self.stream.write("\r" + line.ljust(90)[:120])
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.enabled and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
