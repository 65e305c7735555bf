"""Reading spreadsheets: CSV (streamed) and workbooks (XLSX, XLS, ODS through calamine).

Every reader yields :class:`Table` objects: one per CSV file or workbook sheet, with the
header row and an iterator of data rows that carry their row number as a person sees it
in a spreadsheet program (the header is row 1 when the sheet starts at the top).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from loaders.problems import LoadError

Cell = str | int | float | bool | date | datetime | time | timedelta | None

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_SNIFF_BYTES = 64 * 1024


@dataclass
class Table:
    """One sheet: where it came from, its header row and its data rows."""

    file: Path
    sheet: str
    headers: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[Cell]]]

    @property
    def display(self) -> str:
        return f"{self.file.name} [{self.sheet}]"


def read_tables(path: Path) -> Iterator[Table]:
    """Yield the tables a file holds; raise LoadError for a file that cannot be read."""
    if not path.exists():
        raise LoadError(f"{path}: no such file")
    if path.is_dir():
        raise LoadError(f"{path}: is a folder; name the files in it")
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        yield from _read_workbook(path)
    elif suffix in CSV_SUFFIXES:
        yield _read_csv(path)
    else:
        raise LoadError(
            f"{path}: unknown file type {suffix or '(none)'}; "
            f"use CSV or a workbook ({', '.join(WORKBOOK_SUFFIXES)})"
        )


def detect_encoding(sample: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM) when the bytes decode as such, else Windows-1251."""
    if b"\x00" in sample:
        raise LoadError(f"{path}: looks like a binary file, not CSV text (it contains NUL bytes)")
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # A multi-byte character may be cut at the end of the sample: ignore its tail.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1251"


def detect_delimiter(header_line: str) -> str:
    """The most frequent of comma, semicolon and tab in the header line (comma on a tie)."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _read_csv(path: Path) -> Table:
    with path.open("rb") as f:
        sample = f.read(_SNIFF_BYTES)
    if not sample.strip():
        raise LoadError(f"{path}: the file is empty")
    encoding = detect_encoding(sample, path)
    text = sample.decode(encoding, errors="ignore")
    first_line = text.splitlines()[0] if text else ""
    delimiter = detect_delimiter(first_line)
    stream = io.TextIOWrapper(path.open("rb"), encoding=encoding, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        headers = next(reader)
    except (UnicodeDecodeError, csv.Error) as e:
        stream.close()
        raise LoadError(f"{path}: cannot read the header row: {e}") from None

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        try:
            for row in reader:
                yield reader.line_num, list(row)
        except UnicodeDecodeError as e:
            raise LoadError(
                f"{path}: line {reader.line_num + 1} is not valid {encoding} text ({e.reason})"
            ) from None
        except csv.Error as e:
            raise LoadError(f"{path}: line {reader.line_num}: {e}") from None
        finally:
            stream.close()

    return Table(path, path.stem, [h.strip() for h in headers], 1, rows())


def _read_workbook(path: Path) -> Iterator[Table]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as e:
        raise LoadError(f"{path}: cannot open the workbook: {e}") from None
    for name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(name)
        except (CalamineError, ValueError) as e:
            raise LoadError(f"{path} [{name}]: cannot read the sheet: {e}") from None
        if sheet.height == 0:
            continue
        start_row = (sheet.start or (0, 0))[0]
        row_iter: Iterator[list[Cell]] = iter(sheet.iter_rows())  # type: ignore[arg-type]
        header_cells = next(row_iter, None)
        if header_cells is None:
            continue
        headers = [("" if c is None else str(c)).strip() for c in header_cells]

        def rows(
            it: Iterator[list[Cell]] = row_iter, first: int = start_row + 2
        ) -> Iterator[tuple[int, list[Cell]]]:
            for offset, cells in enumerate(it):
                yield first + offset, list(cells)

        yield Table(path, name, headers, start_row + 1, rows())
