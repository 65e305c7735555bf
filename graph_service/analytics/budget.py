"""Time budgets: estimate a computation's cost up front and refuse what would overrun.

A computation is refused before it starts when its estimated cost (in elementary
operations, divided by a conservative rate for the engine that runs it) exceeds what is
left of the budget; long loops also check the clock as they go.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from graph_service.errors import BudgetExceeded

#: Elementary operations per second, conservatively, on one core of a small machine.
COMPILED_RATE = 2e7  # igraph kernels (edge relaxations)
PYTHON_RATE = 1e6  # pure-Python traversal steps

DEFAULT_SECONDS = 10.0
MAX_SECONDS = 60.0


@dataclass
class Budget:
    """A time budget in seconds, started when created."""

    seconds: float = DEFAULT_SECONDS
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return self.seconds - self.elapsed()

    def require(self, operations: float, rate: float, what: str, advice: str) -> None:
        """Refuse ``what`` up front when ``operations / rate`` exceeds what is left."""
        estimate = operations / rate
        if estimate > self.remaining():
            raise BudgetExceeded(
                f"{what} would take about {_seconds(estimate)} ({operations:.3g} operations), "
                f"over the time budget of {self.seconds:g} s; {advice}"
            )

    def check(self, what: str, advice: str) -> None:
        """Stop a running loop that has used up the budget."""
        if self.remaining() < 0:
            raise BudgetExceeded(f"{what} ran past the time budget of {self.seconds:g} s; {advice}")


def _seconds(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 2 * 3600:
        return f"{s / 60:.0f} min"
    if s < 3 * 86400:
        return f"{s / 3600:.0f} h"
    return f"{s / 86400:.0f} days"
