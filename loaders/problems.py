"""What went wrong in a load, said so a person can find and fix it."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell or row."""

    file: str
    sheet: str
    row: int | None
    column: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file} [{self.sheet}]"
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        shown = f" (value {self.value!r})" if self.value not in (None, "") else ""
        return f"{where}: {self.reason}{shown}"


class LoadError(Exception):
    """A file cannot be read at all (missing, empty, not a spreadsheet)."""


class LoadRejected(Exception):
    """A load found problems and wrote nothing."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"{len(self.problems)} problem(s) found; nothing was written:\n"
            + format_problems(self.problems)
        )


def format_problems(problems: Sequence[Problem], limit: int = 50) -> str:
    lines = [f"  {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  … and {len(problems) - limit} more")
    return "\n".join(lines)


def problems_csv(problems: Sequence[Problem]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file", "sheet", "row", "column", "value", "reason"])
    for p in problems:
        writer.writerow([p.file, p.sheet, p.row or "", p.column or "", p.value or "", p.reason])
    return out.getvalue()
