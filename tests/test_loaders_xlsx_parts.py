"""A large XLSX sheet read in parts (loaders.xlsx_parts) gives exactly what it gives read
whole: header, row numbers, cells of every type, problems. The size thresholds are
lowered so that small workbooks written here are cut into many parts."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

import loaders.xlsx_parts as xlsx_parts
from loaders.load import load_files
from loaders.problems import LoadError, LoadRejected
from loaders.reading import table_sources


def _cut_small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_parts, "MIN_SHEET_BYTES", 1)
    monkeypatch.setattr(xlsx_parts, "FIRST_PART_BYTES", 700)
    monkeypatch.setattr(xlsx_parts, "PART_BYTES", 1_500)
    monkeypatch.setattr(xlsx_parts, "_READ", 256)


def _whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_parts, "MIN_SHEET_BYTES", 1 << 60)


def _write(path: Path, start: tuple[int, int] = (0, 0), shared: bool = True) -> Path:
    """Persons with text (shared or inline), numbers, dates, booleans, blank rows, a row
    whose first columns are empty, cells merged across rows, and a formula."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": not shared})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sources = book.add_worksheet("sources")
    sources.write_row(0, 0, ["key", "title", "type"])
    sources.write_row(1, 0, ["s1", "Source", "other"])
    sheet = book.add_worksheet("persons")
    r0, c0 = start
    sheet.write_row(r0, c0, ["key", "name", "born", "public", "height", "sources"])
    for i in range(1, 400):
        r = r0 + i
        if i % 97 == 0:
            continue  # a blank row
        if i % 101 == 0:  # a row with its first cells empty
            sheet.write_row(r, c0 + 3, [True, 1.5])
            continue
        sheet.write_string(r, c0, f"p{i}")
        sheet.write_string(r, c0 + 1, f"Person {i % 13}")
        sheet.write_datetime(r, c0 + 2, datetime.datetime(1960, 1, 1 + i % 28), day)
        sheet.write_boolean(r, c0 + 3, i % 2 == 0)
        sheet.write_number(r, c0 + 4, 150 + i % 50)
        sheet.write_string(r, c0 + 5, "s1")
    if shared:  # constant_memory mode writes rows in order only
        sheet.merge_range(r0 + 200, c0 + 1, r0 + 202, c0 + 1, "Merged")
        sheet.write_formula(r0 + 300, c0 + 4, "=1+1", None, 2)
    book.close()
    return path


def _read(path: Path, by_blocks: bool) -> list[Any]:
    out: list[Any] = []
    for source in table_sources(path):
        table = source.open()
        if table is None:
            out.append(None)
            continue
        rows: list[tuple[int, list[Any]]] = []
        if by_blocks:
            assert table.blocks is not None
            for first, block in table.blocks(7):
                rows.extend(zip(range(first, first + len(block)), block, strict=True))
        else:
            rows.extend(table.rows)
        problems = [(p.row, p.column, p.value, p.reason) for p in table.problems]
        out.append((table.headers, table.header_row, problems, rows))
        table.close()
    return out


@pytest.mark.parametrize("shared", [True, False], ids=["shared-strings", "inline-strings"])
@pytest.mark.parametrize("start", [(0, 0), (4, 2)], ids=["A1", "C5"])
@pytest.mark.parametrize("by_blocks", [True, False], ids=["blocks", "rows"])
def test_a_sheet_read_in_parts_gives_what_it_gives_whole(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shared: bool,
    start: tuple[int, int],
    by_blocks: bool,
) -> None:
    path = _write(tmp_path / "book.xlsx", start, shared)
    _whole(monkeypatch)
    whole = _read(path, by_blocks)
    _cut_small(monkeypatch)
    parts = xlsx_parts.open_parts(path, "persons")
    assert parts is not None
    count = sum(1 for _ in parts)
    parts.close()
    assert count >= 5  # really cut
    small = xlsx_parts.open_parts(path, "sources")
    assert small is not None
    small.close()
    parted = _read(path, by_blocks)
    assert parted == whole
    rows = whole[1][3]
    assert rows[0][0] == start[0] + 2 and len(rows) > 380
    if shared:
        assert any("formula" in p[3] for p in whole[1][2])
        assert any("merged cells" in p[3] for p in whole[1][2])


def test_small_sheets_are_read_whole(tmp_path: Path) -> None:
    path = _write(tmp_path / "book.xlsx")
    assert xlsx_parts.open_parts(path, "persons") is None  # far below the threshold


def test_a_load_read_in_parts_names_bad_rows_as_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = xlsxwriter.Workbook(str(tmp_path / "book.xlsx"))
    sheet = book.add_worksheet("persons")
    sheet.write_row(0, 0, ["key", "name", "public"])
    for i in range(1, 600):
        sheet.write_row(
            i, 0, [f"k{i:06d}", f"Employee Q{i % 7}", "maybe" if i in (3, 450) else "false"]
        )
    book.close()
    found = []
    for cut in (False, True):
        (_cut_small if cut else _whole)(monkeypatch)
        with pytest.raises(LoadRejected) as e:
            load_files([tmp_path / "book.xlsx"], None, dry_run=True)
        found.append([(p.sheet, p.row, p.column, p.value) for p in e.value.problems])
        assert [p[1] for p in found[-1]] == [4, 451]
        result = load_files([tmp_path / "book.xlsx"], None, dry_run=True, skip_invalid=True)
        assert result.rows_read == 599 and result.records["Person"] == 597
    assert found[0] == found[1]


@pytest.mark.parametrize("cut", [False, True], ids=["whole", "parts"])
def test_a_sheet_prepared_on_a_thread_opens_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: bool
) -> None:
    """A load has the next sheet parsed on a thread while it checks the one before."""
    path = _write(tmp_path / "book.xlsx")
    (_cut_small if cut else _whole)(monkeypatch)
    inline = _read(path, by_blocks=True)
    sources = table_sources(path)
    sources[0].prepare()
    prepared = []
    for i, source in enumerate(sources):
        table = source.open()
        if i + 1 < len(sources):  # as a load does: one sheet prepared at a time
            sources[i + 1].prepare()
        assert table is not None and table.blocks is not None
        rows = [r for first, block in table.blocks(7) for r in enumerate(block, first)]
        prepared.append(
            (
                table.headers,
                table.header_row,
                [(p.row, p.column, p.value, p.reason) for p in table.problems],
                rows,
            )
        )
        table.close()
    assert prepared == inline


def test_a_load_that_fails_stops_the_sheet_it_was_parsing_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV row that does not parse ends the load while the workbook sheet after it is
    being parsed in parts: the parsing thread is stopped, not left waiting."""
    _cut_small(monkeypatch)
    csv = tmp_path / "persons.csv"
    good = "".join(f"k{i:06d},Employee Q{i % 7}\n" for i in range(300))
    csv.write_text(f'key,name\n{good}k000300,"unclosed" quote\n', encoding="utf-8")
    book = _write(tmp_path / "book.xlsx")
    before = set(threading.enumerate())
    with pytest.raises(LoadError, match="row 302"):
        load_files([csv, book], None, dry_run=True)
    left = [
        t for t in set(threading.enumerate()) - before if t.name in ("xlsx-parts", "sheet-parse")
    ]
    assert not left
