"""The compiled fast path of row parsing gives exactly what the full path gives: the same
records for good rows, and for any row with a problem the full path's own problems."""

from __future__ import annotations

import csv
import datetime
import itertools
from pathlib import Path

import pytest
import xlsxwriter

from loaders.reading import Cell, Table, read_tables
from loaders.template_format import Resolver, RowParser, compile_table, pack

PERSONS = {
    "key": ["p001", " p002 ", "", "p 3", "ivanov", "пётр1", "Cafe\u0301", "p\x7f"],
    "name": ["Employee Q1", "Иван Петров", "", "Ivanov Ivan", " A B "],
    "public": ["false", "true", "да", "FALSE", " n ", "maybe", "", "1"],
    "position": ["teacher", "", "Учитель", "  head  "],
    "sources": ["bench", "", "bench; s2", "Source:bench,s2", "bad key", "Source:", "a;;b"],
    "evidence": ["reported", "", "Documented", "sure", " alleged "],
}
INSTITUTIONS = {
    "key": ["i1", "", "i 2", "Ш1"],
    "inn": ["9900000001", "", "123", " 9900000002 ", "99000000ab", "990000000001"],
    "staff_count": ["120", "", "1 200", "12.5", "x", "-3", "+4", "１２", "9" * 30],
    "sector": ["education", "", "Education", "bogus"],
}
RELATIONSHIPS = {
    "from": ["Person:p001", "", "p1", "Person:", "Nobody:x", "Person:p 1", " Person:p002 "],
    "type": ["WORKS_AT", "", "works at", "Works_At", "SUBORDINATE_TO", "BOGUS"],
    "to": ["Institution:i1", "", "Authority:x", "Institution:i 5", "Person:p001", "Institution:Ш"],
    "role": ["teacher", "", "учитель"],
    "head": ["false", "", "da", "yes"],
    "received": ["", "2023-01-02", "16.08.2023", "x"],
    "key": ["", "k1", " k2 "],
}


def _rows(columns: dict[str, list[str]]) -> list[list[str]]:
    """Every value of every column at least once, in varied company."""
    names = list(columns)
    longest = max(len(v) for v in columns.values())
    rows = []
    for shift in range(3):
        for i in range(longest):
            rows.append(
                [columns[n][(i + shift * j) % len(columns[n])] for j, n in enumerate(names)]
            )
    return [names, *rows]


def _tables(tmp_path: Path, name: str, rows: list[list[str]], xlsx: bool) -> Table:
    if not xlsx:
        path = tmp_path / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
        return next(read_tables(path))
    path = tmp_path / f"{name}.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet(name)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if r and value.isdigit() and len(value) < 15:
                sheet.write_number(r, c, int(value))
            elif r and value in ("true", "false"):
                sheet.write_boolean(r, c, value == "true")
            elif r and value == "2023-01-02":
                sheet.write_datetime(r, c, datetime.datetime(2023, 1, 2))
            elif value:
                sheet.write_string(r, c, value)
    book.close()
    return next(read_tables(path))


def _same(parser: RowParser, rows: list[tuple[int, list[Cell]]]) -> None:
    for number, row in rows:
        origin = f"f#s!{number}"
        records, bad = parser.parse(number, list(row), origin)
        packed, fast_bad = parser.parse_packed(number, list(row), origin)
        assert (packed, fast_bad) == ([pack(r) for r in records], bad), row


@pytest.mark.parametrize("xlsx", [False, True])
def test_fast_path_gives_what_the_full_path_gives(tmp_path: Path, xlsx: bool) -> None:
    resolver = Resolver()
    for name, columns in (
        ("persons", PERSONS),
        ("institutions", INSTITUTIONS),
        ("relationships", RELATIONSHIPS),
    ):
        rows = _rows(columns)
        rows.append(rows[1][:2])  # a short row
        rows.append([*rows[1], "surplus"])  # a cell beyond the header
        table = _tables(tmp_path, name, rows, xlsx)
        parser = compile_table(table, resolver)
        assert isinstance(parser, RowParser)
        _same(parser, list(itertools.islice(table.rows, 10_000)))
