"""What went wrong in a load, said so a person can find and fix it."""

from __future__ import annotations

import csv
import io
import unicodedata
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
    """Problems as a table for a terminal: sorted by file, sheet and row (a load finds them
    stage by stage, nodes before relationships, so in finding order one sheet's rows come
    in pieces), in aligned columns, the reason last and whole. At most ``limit`` rows; a
    last line says how many more there are (the ``--report`` CSV has every one)."""
    ordered = sorted(problems, key=_place)
    shown = ordered[:limit]
    rows = [
        [
            _clip(p.file, 40),
            _clip(p.sheet, 30),
            "" if p.row is None else str(p.row),
            _clip(p.column or "", 24),
            _clip(_one_line(p.value or ""), 30),
            p.reason,
        ]
        for p in shown
    ]
    header = ["file", "sheet", "row", "column", "value", "reason"]
    widths = [max(map(_width, column)) for column in zip(header, *rows, strict=True)]
    lines = [_line(header, widths)] + [_line(row, widths) for row in rows]
    if len(problems) > limit:
        lines.append(
            f"  … and {len(problems) - limit} more (--report problems.csv lists every one)"
        )
    return "\n".join(lines)


def _place(p: Problem) -> tuple[str, str, int, str]:
    return (p.file, p.sheet, -1 if p.row is None else p.row, p.column or "")


def _line(cells: list[str], widths: list[int]) -> str:
    """Cells padded to their column's width (the row number right-aligned), the last
    column not padded."""
    out = []
    for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        pad = " " * (width - _width(cell))
        if i == len(cells) - 1:
            out.append(cell)
        else:
            out.append(pad + cell if i == 2 else cell + pad)
    return ("  " + "  ".join(out)).rstrip()


def _width(text: str) -> int:
    """Terminal columns a text takes: two for a wide (East Asian) character."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _clip(text: str, most: int) -> str:
    if _width(text) <= most:
        return text
    while _width(text) > most - 1:
        text = text[:-1]
    return text + "…"


def _one_line(text: str) -> str:
    return text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎").replace("\t", " ")


def problems_csv(problems: Sequence[Problem]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file", "sheet", "row", "column", "value", "reason"])
    for p in problems:
        writer.writerow([p.file, p.sheet, p.row or "", p.column or "", p.value or "", p.reason])
    return out.getvalue()
