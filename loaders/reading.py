"""Reading spreadsheets: CSV (streamed) and workbooks (XLSX, XLS, ODS through calamine).

A file is opened as a list of :class:`TableSource` objects, one per CSV file or workbook
sheet, each opened lazily into a :class:`Table`: the header row and an iterator of data
rows that carry their row number as a person sees it in a spreadsheet program (the header
is row 1 when the sheet starts at the top). A load may open the sheets in any order.

CSV is streamed in constant memory (cut into cells by ``str.split`` where it has no
quotes, else by ``csv.reader``). A workbook sheet is parsed whole by calamine (in Rust, a
few dozen bytes a cell), then handed over one row at a time.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import repeat
from pathlib import Path
from typing import Any, BinaryIO

from loaders.problems import LoadError, Problem
from loaders.xlsx_parts import Part, PartError, SheetParts, open_parts, sheet_members

Cell = str | int | float | bool | date | datetime | time | timedelta | None
#: A table's rows in lists of up to ``size``: (the first row's number, the rows), the
#: rows of a list numbered on from the first (see :attr:`Table.blocks`).
Blocks = Callable[[int], Iterator[tuple[int, list[list[Cell]]]]]
#: (the first row's number, the rows, None) or, when every row has the width asked for,
#: (the first row's number, None, the columns): see :attr:`Table.column_blocks`.
ColumnBlock = tuple[int, list[list[Cell]] | None, list[list[Cell]] | None]
#: A table's rows in blocks of up to ``size``, as rows or as columns of ``width`` (None:
#: always rows).
ColumnBlocks = Callable[[int, int | None], Iterator[ColumnBlock]]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_SNIFF_BYTES = 64 * 1024
_CHUNK = 512 * 1024  # CSV bytes read (and decoded) at a time
_ROW_BATCH = 4096  # workbook rows handed on at a time
_MAGIC = {
    b"PK\x03\x04": "a zip archive (an XLSX or ODS workbook?)",
    b"\xd0\xcf\x11\xe0": "an old Office document (an XLS workbook?)",
    b"%PDF": "a PDF document",
}


@dataclass
class Table:
    """One sheet: where it came from, its header row and its data rows.

    ``problems`` are found while opening the sheet (merged header cells, formulas); they
    are about the sheet as a whole or about single rows. ``progress`` tells how much of
    the file has been read, as a fraction, when that is known.

    ``blocks``, when a reader offers it, gives the same rows as ``rows`` a list at a
    time, for a caller that takes them so (the block check): without a tuple and a
    generator step per row, which cost a large CSV load a fifth of its reading time. A
    table is read one way or the other, never both.

    ``column_blocks``, when a reader offers it (CSV), is ``blocks`` that gives a block
    whose rows all have the width asked for as its columns instead: the block check
    works column by column, and a reader that cuts text into cells can give columns
    without building the rows.
    """

    file: Path
    sheet: str
    headers: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[Cell]]]
    problems: list[Problem] = field(default_factory=list)
    progress: Callable[[], float] | None = None
    close: Callable[[], None] = lambda: None
    blocks: Blocks | None = None
    column_blocks: ColumnBlocks | None = None

    @property
    def display(self) -> str:
        return f"{self.file.name} [{self.sheet}]"


@dataclass
class TableSource:
    """A sheet that can be opened when the load reaches it."""

    file: Path
    sheet: str
    size: int  # bytes of the file this sheet is in (for progress), 0 when shared
    open: Callable[[], Table | None]  # None: the sheet is empty
    #: Start the work of opening it in the background (a load calls it for the next
    #: sheet while it checks the one before; a workbook sheet is parsed on a thread)
    prepare: Callable[[], None] = lambda: None
    #: Give up a prepared sheet that will not be opened (stops its parsing thread)
    abandon: Callable[[], None] = lambda: None


def table_sources(path: Path) -> list[TableSource]:
    """The sheets a file holds; raise LoadError for a file that cannot be read."""
    if not path.exists():
        raise LoadError(f"{path}: no such file")
    if path.is_dir():
        raise LoadError(f"{path}: is a folder; name the files in it (e.g. {path}/*.csv)")
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        return _workbook_sources(path)
    if suffix in CSV_SUFFIXES:
        return [TableSource(path, path.stem, path.stat().st_size, lambda: _read_csv(path))]
    raise LoadError(
        f"{path}: unknown file type {suffix or '(none)'}; "
        f"use CSV or a workbook ({', '.join(WORKBOOK_SUFFIXES)})"
    )


def read_tables(path: Path) -> Iterator[Table]:
    """Every non-empty table of a file, in the file's own order."""
    for source in table_sources(path):
        table = source.open()
        if table is not None:
            yield table


# -- CSV ---------------------------------------------------------------------------------


def detect_encoding(sample: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM) when the bytes decode as such, else Windows-1251."""
    for magic, what in _MAGIC.items():
        if sample.startswith(magic):
            raise LoadError(
                f"{path}: this is {what}, not CSV text; give the file its proper extension "
                "(.xlsx, .ods, .xls) or export it as CSV"
            )
    if b"\x00" in sample:
        raise LoadError(
            f"{path}: looks like a binary file, not CSV text (it contains NUL bytes); "
            "if it is UTF-16 text, save it again as UTF-8"
        )
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # A multi-byte character may be cut at the end of the sample: ignore its tail.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1251"


def detect_delimiter(header_line: str) -> str:
    """The most frequent of comma, semicolon and tab in the header line, outside quotes
    (comma on a tie, comma when there is none: a single column)."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


class _Lines:
    """Decoded text of a CSV file, in pieces of whole lines, counting bytes read.

    The encoding is chosen from the first 64 KB; a file that looked like UTF-8 there but
    turns out not to be (plain ASCII up to that point) switches to Windows-1251.

    The file is read ``_CHUNK`` bytes at a time, cut after the chunk's last line end, and
    each chunk decoded at once: one call, not one per line. A chunk that does not decode
    as a whole (and the first line, which may start with a BOM) goes line by line, which
    decides about switching and reports the line that is wrong.
    """

    def __init__(self, path: Path, raw: BinaryIO, encoding: str) -> None:
        self.path = path
        self.raw = raw
        self.encoding = encoding
        self.current = encoding  # utf-8-sig becomes utf-8 after the first line
        self.bytes_read = 0
        self.line_number = 0
        self.seen_non_ascii = encoding != "utf-8"

    def texts(self) -> Iterator[str]:
        """The file's text in pieces, each of whole lines (the file's last line may lack
        its line end); the first line is a piece of its own."""
        for chunk in self._chunks():
            if not self.line_number:
                end = chunk.find(b"\n") + 1 or len(chunk)
                yield self._decode(chunk[:end])
                chunk = chunk[end:]
                if not chunk:
                    continue
            try:
                text = chunk.decode(self.current)
            except UnicodeDecodeError:  # a line at a time, each decoded only when reached
                for line in io.BytesIO(chunk).readlines():
                    yield self._decode(line)
                continue
            self.line_number += chunk.count(b"\n") + (not chunk.endswith(b"\n"))
            self.bytes_read += len(chunk)
            if not self.seen_non_ascii and not chunk.isascii():
                self.seen_non_ascii = True
            yield text

    def _chunks(self) -> Iterator[bytes]:
        rest = b""
        while data := self.raw.read(_CHUNK):
            if rest:
                data = rest + data
            end = data.rfind(b"\n") + 1
            rest = data[end:]
            if end:
                yield data[:end]
        if rest:
            yield rest

    def _decode(self, line: bytes) -> str:
        self.bytes_read += len(line)
        self.line_number += 1
        if self.line_number == 1 and self.current == "utf-8-sig":
            line = line.removeprefix(codecs.BOM_UTF8)
            self.current = "utf-8"
        try:
            text = line.decode(self.current)
        except UnicodeDecodeError as e:
            if self.seen_non_ascii:
                raise LoadError(
                    f"{self.path}: line {self.line_number} is not valid {self.current} text "
                    f"({e.reason}) while the lines before it are; save the file again "
                    "in one encoding (UTF-8)"
                ) from None
            self.current = self.encoding = "cp1251"
            text = line.decode(self.current)
        if not self.seen_non_ascii and not line.isascii():
            self.seen_non_ascii = True
        return text


def _lines_of(text: str) -> list[str]:
    """A piece's lines with their ends, cut at line feeds only (as the bytes were)."""
    return io.StringIO(text, newline="\n").readlines()


def _cut(text: str, delimiter: str, width: int | None) -> tuple[list[Any], int] | None:
    """A piece of CSV text as ``csv.reader`` reads it, by ``str.split`` (several times
    faster): (the records, 0), or, when every line has ``width`` cells, (all the cells,
    record after record, ``width``): a block's columns are slices of them. None when the
    piece needs ``csv.reader``: a quote, a carriage return that does not end a line, a
    NUL, or a line longer than a cell may be."""
    if '"' in text or "\x00" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()  # after the last line end
    if not lines or max(map(len, lines)) > csv.field_size_limit():
        return None
    if (
        width
        and list(map(str.count, lines, repeat(delimiter))).count(width - 1) == len(lines)
        and (width > 1 or "" not in lines)
    ):
        return delimiter.join(lines).split(delimiter), width
    records = list(map(str.split, lines, repeat(delimiter)))
    if "" in lines:  # a blank line is a record without cells
        records = [record if line else [] for record, line in zip(records, lines, strict=True)]
    return records, 0


class _Records:
    """The records of a CSV file: exactly what ``csv.reader`` gives for its lines.

    Most files have no quotes: their pieces of text (see :class:`_Lines`) are cut by
    :func:`_cut`, a whole piece of records at a time and, for the block check, straight
    into columns. From the first piece that needs ``csv.reader`` on, the rest of the file
    goes through it (a quoted cell may run over lines, and over pieces)."""

    def __init__(self, path: Path, texts: Iterator[str], delimiter: str) -> None:
        self.path = path
        self.texts = texts
        self.delimiter = delimiter
        self.reader: Any = None  # csv.reader, once a piece needed it
        self.lines_cut = 0  # lines read before it
        self.records = 0  # records handed on after the header

    def _start_reader(self, text: str) -> None:
        lines = itertools.chain(
            _lines_of(text), itertools.chain.from_iterable(map(_lines_of, self.texts))
        )
        self.reader = csv.reader(lines, delimiter=self.delimiter, strict=True)

    def header(self) -> list[str]:
        """The first record (raises csv.Error, LoadError, or StopIteration: no lines)."""
        text = next(self.texts)
        cut = _cut(text, self.delimiter, None)
        if cut is None or len(cut[0]) != 1:
            self._start_reader(text)
            header: list[str] = next(self.reader)
            return header
        self.lines_cut += 1
        first: list[str] = cut[0][0]
        return first

    def pieces(self, width: int | None, size: int) -> Iterator[tuple[list[Any], int, int]]:
        """The records after the header, a piece at a time, as :func:`_cut` gives them,
        with how many records the piece holds; ``csv.reader``'s in lists of ``size``. A
        record that does not parse raises LoadError naming its row."""
        if self.reader is None:
            for text in self.texts:
                cut = _cut(text, self.delimiter, width)
                if cut is None:
                    self._start_reader(text)
                    break
                part, cells = cut
                n = len(part) // cells if cells else len(part)
                self.lines_cut += n
                self.records += n
                yield part, cells, n
        if self.reader is None:
            return
        while True:
            block: list[list[str]] = []
            try:
                block.extend(itertools.islice(self.reader, size))  # keeps the rows before
            except csv.Error as e:  # a row that does not parse
                number = 2 + self.records + len(block)
                raise LoadError(
                    f"{self.path}: row {number} (line {self.lines_cut + self.reader.line_num}): {e}"
                ) from None
            if not block:
                return
            self.records += len(block)
            yield block, 0, len(block)


def _read_csv(path: Path) -> Table | None:
    size = path.stat().st_size
    with path.open("rb") as f:
        sample = f.read(_SNIFF_BYTES)
    if not sample.strip():
        raise LoadError(
            f"{path}: the file is empty; it needs a header row (try: pressure-graph template DIR)"
        )
    encoding = detect_encoding(sample, path)
    raw = path.open("rb")
    lines = _Lines(path, raw, encoding)
    texts = lines.texts()
    try:
        first = next(texts, "")
    except LoadError:
        raw.close()
        raise
    first_line = first.split("\n", 1)[0]
    delimiter = detect_delimiter(first_line.rstrip("\r\n"))
    records = _Records(path, itertools.chain((first,), texts), delimiter)
    try:
        headers = records.header()
    except (csv.Error, LoadError) as e:
        raw.close()
        raise LoadError(f"{path}: cannot read the header row: {e}") from None

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        number = 2
        try:
            for part, _, n in records.pieces(None, _ROW_BATCH):
                yield from zip(itertools.count(number), part)
                number += n
        finally:
            raw.close()

    def blocks(count: int) -> Iterator[tuple[int, list[list[Cell]]]]:
        for first, block, _ in column_blocks(count, None):
            assert block is not None
            yield first, block

    def column_blocks(count: int, width: int | None) -> Iterator[ColumnBlock]:
        number = 2
        try:
            for part, cells, n in records.pieces(width, count):
                for at in range(0, n, count):
                    if cells:
                        start, stop = at * cells, min(at + count, n) * cells
                        yield number + at, None, [
                            part[start + i : stop : cells] for i in range(cells)
                        ]
                    else:
                        yield number + at, part[at : at + count], None
                number += n
        finally:
            raw.close()

    def progress() -> float:
        return lines.bytes_read / size if size else 1.0

    return Table(
        path,
        path.stem,
        [h.strip() for h in headers],
        1,
        rows(),
        progress=progress,
        close=raw.close,
        blocks=blocks,
        column_blocks=column_blocks,
    )


# -- workbooks ---------------------------------------------------------------------------


def _workbook_sources(path: Path) -> list[TableSource]:
    from python_calamine import CalamineError, CalamineWorkbook

    with path.open("rb") as f:
        head = f.read(8)
    if not head:
        raise LoadError(f"{path}: the file is empty (0 bytes)")
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as e:
        raise LoadError(
            f"{path}: cannot open the workbook ({e}); is it really a "
            f"{path.suffix.lstrip('.').upper()} file? Try saving it again, or export CSV"
        ) from None
    names = list(workbook.sheet_names)
    formulas = _FormulaScan(path, names)
    size = path.stat().st_size
    sources = []
    for i, name in enumerate(names):
        sheet = _Sheet(path, workbook, name, formulas)
        sources.append(
            TableSource(path, name, size if i == 0 else 0, sheet.open, sheet.prepare, sheet.abandon)
        )
    return sources


class _Sheet:
    """Opens one workbook sheet. :meth:`prepare` starts the parse on a thread (calamine
    releases the GIL while it parses; a large sheet's parts start coming), so a load can
    have a sheet parsed while it checks the sheet before. One sheet of a workbook is
    prepared at a time, and opened only after its preparation: calamine's workbook takes
    one call at a time."""

    def __init__(self, path: Path, workbook: Any, name: str, scan: _FormulaScan) -> None:
        self.path = path
        self.workbook = workbook
        self.name = name
        self.scan = scan
        self._thread: threading.Thread | None = None
        self._parts: SheetParts | None = None
        self._sheet: Any = None
        self._error: BaseException | None = None
        self._opened = False

    def prepare(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._parse, name="sheet-parse", daemon=True)
            self._thread.start()

    def _parse(self) -> None:
        try:
            self._parts = open_parts(self.path, self.name)
            if self._parts is None:
                self._sheet = self.workbook.get_sheet_by_name(self.name)
        except BaseException as e:  # raised by open()
            self._error = e

    def abandon(self) -> None:
        if self._thread is not None and not self._opened:
            self._opened = True
            self._thread.join()
            if self._parts is not None:
                self._parts.close()

    def open(self) -> Table | None:
        from python_calamine import CalamineError

        self._opened = True
        if self._thread is None:
            self._parse()
        else:
            self._thread.join()
        if isinstance(self._error, CalamineError | ValueError):
            raise LoadError(f"{self.path} [{self.name}]: cannot read the sheet: {self._error}")
        if self._error is not None:
            raise self._error
        if self._parts is not None:
            return _read_parts(self.path, self.name, self._parts, self.scan)
        return _read_sheet(self.path, self._sheet, self.name, self.scan)


Merge = tuple[tuple[int, int], tuple[int, int]]  # (first row, col), (last row, col); from 0


@dataclass
class _Scan:
    """What a sheet's scan found: its formula cells, and (XLSX) its merged ranges, which
    a sheet read in parts (:mod:`loaders.xlsx_parts`) does not get from calamine."""

    formulas: dict[str, list[str]] = field(default_factory=dict)  # by sheet name
    merges: dict[str, list[Merge]] = field(default_factory=dict)


class _FormulaScan:
    """:func:`_scan_workbook`, worked out in threads from the moment a workbook is opened:
    one a sheet for XLSX (each sheet is its own part of the file), one for the file else.

    Both the scan and calamine read a whole sheet (the scan inflates the sheet's XML,
    about 1.5 s of CPU for a million rows; calamine parses it, about 10 s), and both let
    other threads run meanwhile (zlib and calamine release the GIL), so on a second core
    the scan costs a large load no time: it is done when calamine has parsed the sheet.
    A sheet's own scan goes alone, so a small sheet read first does not wait for a big
    one's."""

    def __init__(self, path: Path, sheets: list[str]) -> None:
        self._jobs: dict[str | None, _Job] = {}
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            for sheet in sheets:
                self._jobs[sheet] = _Job(path, sheet)
        else:
            self._jobs[None] = _Job(path, None)

    def result(self, sheet: str) -> _Scan:
        job = self._jobs.get(sheet) or self._jobs.get(None)
        return _Scan() if job is None else job.result()

    def cells(self, sheet: str) -> list[str]:
        """The formula cells of a sheet (waits for its scan)."""
        return self.result(sheet).formulas.get(sheet, [])

    def merges(self, sheet: str) -> list[Merge]:
        """The merged ranges of an XLSX sheet (waits for its scan)."""
        return self.result(sheet).merges.get(sheet, [])


class _Job:
    def __init__(self, path: Path, sheet: str | None) -> None:
        self._found = _Scan()
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._scan, args=(path, sheet), name="formula-scan", daemon=True
        )
        self._thread.start()

    def _scan(self, path: Path, sheet: str | None) -> None:
        try:
            self._found = _scan_workbook(path, sheet)
        except BaseException as e:  # raised where the result is asked for
            self._error = e

    def result(self) -> _Scan:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._found


def _read_sheet(path: Path, sheet: Any, name: str, scan: _FormulaScan) -> Table | None:
    """A sheet parsed whole by calamine (``sheet``), as a table."""
    formulas = scan.cells(name)
    if sheet.height == 0:
        return None
    start_row, start_col = sheet.start or (0, 0)
    row_iter: Iterator[list[Cell]] = iter(sheet.iter_rows())
    header_cells = next(row_iter, None)
    # python-calamine 0.9 starts iter_rows at the sheet's first row, not at the used
    # range's (whose first row is the header): the blank rows above the range come first.
    skipped = 0
    while header_cells is not None and skipped < start_row and _blank_row(header_cells):
        header_cells = next(row_iter, None)
        skipped += 1
    if header_cells is None:
        return None
    # Cells left of the used range are not in the rows calamine gives; pad them back so
    # columns keep their letters.
    pad: list[Cell] = [None] * start_col
    headers = [("" if c is None else str(c)).strip() for c in pad + list(header_cells)]
    header_row = start_row + 1
    problems = _sheet_problems(path, name, start_row, sheet.merged_cell_ranges or [], formulas)
    total: int = max(int(sheet.height) - 1, 1)

    state: dict[str, int] = {"done": 0}

    def blocks(count: int, first: int = start_row + 2) -> Iterator[tuple[int, list[list[Cell]]]]:
        padded = row_iter if not pad else (pad + cells for cells in row_iter)
        while block := list(itertools.islice(padded, count)):
            state["done"] += len(block)
            yield first, block
            first += len(block)

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        # taken in batches: counting rows for progress one by one costs more than the
        # rest of reading them
        for first, block in blocks(_ROW_BATCH):
            yield from zip(itertools.count(first), block)

    def progress() -> float:
        return float(state["done"] / total)

    return Table(path, name, headers, header_row, rows(), problems, progress, blocks=blocks)


def _read_parts(path: Path, name: str, parts: SheetParts, scan: _FormulaScan) -> Table | None:
    """:func:`_read_sheet` for a large XLSX sheet read in parts (:mod:`loaders.xlsx_parts`):
    the same header, rows, row numbers and problems, the rows of each part padded to the
    columns the whole sheet's would have (blank cells left of a part's first cell, and up
    to the header's width)."""

    def failed(e: PartError) -> LoadError:
        return LoadError(f"{path} [{name}]: cannot read the sheet: {e}")

    found = iter(parts)
    try:
        formulas, merges = scan.cells(name), scan.merges(name)
        first = next((part for part in found if part.rows), None)
    except PartError as e:
        parts.close()
        raise failed(e) from None
    if first is None:
        parts.close()
        return None
    start_row, start_col = first.first_row, first.first_col
    pad: list[Cell] = [None] * start_col
    headers = [("" if c is None else str(c)).strip() for c in pad + list(first.rows[0])]
    width = len(headers)
    problems = _sheet_problems(path, name, start_row, merges, formulas)

    def padded(part: Part) -> tuple[int, list[list[Cell]]]:
        """(the number of the part's first row, its rows as the whole sheet's would be)."""
        rows: list[list[Cell]] = part.rows
        if part.first_col:
            left: list[Cell] = [None] * min(part.first_col, start_col)
            left += [""] * (part.first_col - start_col)
            rows = [left + row for row in rows]
        if rows and len(rows[0]) < width:
            right: list[Cell] = [""] * (width - len(rows[0]))
            rows = [row + right for row in rows]
        return part.first_row + 1, rows

    blank: list[Cell] = pad + [""] * (width - start_col)

    def each() -> Iterator[tuple[int, list[list[Cell]]]]:
        try:
            number, rows = padded(first)
            yield number + 1, rows[1:]
            following = number + len(rows)
            for part in found:
                if not part.rows:
                    continue
                number, rows = padded(part)
                # blank rows between parts (each part starts and ends with a cell): read
                # whole, they are rows too, and one may hold a problem (a formula)
                for at in range(following, number, _ROW_BATCH):
                    yield at, [blank.copy() for _ in range(min(number - at, _ROW_BATCH))]
                yield number, rows
                following = number + len(rows)
        except PartError as e:
            raise failed(e) from None
        finally:
            parts.close()

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        for number, some in each():
            yield from zip(itertools.count(number), some)

    def blocks(count: int) -> Iterator[tuple[int, list[list[Cell]]]]:
        for number, some in each():
            for at in range(0, len(some), count):
                yield number + at, some[at : at + count]

    return Table(
        path,
        name,
        headers,
        start_row + 1,
        rows(),
        problems,
        parts.progress,
        close=parts.close,
        blocks=blocks,
    )


def _sheet_problems(
    path: Path, name: str, start_row: int, merges: list[Merge], formulas: list[str]
) -> list[Problem]:
    """What is wrong with a workbook sheet as a whole, or with single rows of it, found
    when it is opened: merged cells (of the header, or across rows) and formulas."""
    header_row = start_row + 1
    problems: list[Problem] = []
    merged_rows: dict[int, str] = {}
    for (r0, c0), (r1, c1) in merges:
        span = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
        if r0 <= start_row <= r1:
            problems.append(
                Problem(
                    path.name,
                    name,
                    header_row,
                    None,
                    span,
                    "merged header cells: give every column its own header in one row",
                )
            )
        elif r1 > r0:
            for r in range(r0 + 2, r1 + 2):
                merged_rows[r] = span
    for cell in formulas[:20]:
        problems.append(
            Problem(
                path.name,
                name,
                _cell_row(cell),
                cell,
                None,
                "the cell holds a formula; the loader takes typed-in values only "
                "(copy the column and paste values)",
            )
        )
    if len(formulas) > 20:
        problems.append(
            Problem(
                path.name,
                name,
                None,
                None,
                None,
                f"{len(formulas) - 20} more formula cells ({formulas[20]} to {formulas[-1]}); "
                "the sheet is refused whole",
            )
        )
    for r, span in merged_rows.items():
        problems.append(
            Problem(
                path.name,
                name,
                r,
                None,
                span,
                "merged cells: only the first row of the range holds the value; unmerge "
                "and fill every row",
            )
        )
    return problems


def _blank_row(cells: list[Cell]) -> bool:
    return all(cell is None or cell == "" for cell in cells)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cell_row(ref: str) -> int | None:
    m = re.search(r"(\d+)$", ref)
    return int(m.group(1)) if m else None


def _scan_workbook(path: Path, sheet: str | None = None) -> _Scan:
    """Formula cells by sheet name (XLSX, ODS and XLS; XLSB is not checked), and XLSX's
    merged ranges; of XLSX, only those of ``sheet`` when one is named.

    calamine reads a formula's cached result, which may be stale or missing (files written
    by programs that do not calculate hold 0), so a formula is refused, not guessed at.
    A file whose structure cannot be walked gives nothing here: calamine, opening it,
    says what is wrong with it.
    """
    suffix = path.suffix.lower()
    if suffix == ".xls":
        from loaders.xls_formulas import XlsError, xls_formula_cells

        try:
            return _Scan(xls_formula_cells(path))
        except (XlsError, OSError):
            return _Scan()
    try:
        with zipfile.ZipFile(path) as z:
            if suffix in (".xlsx", ".xlsm"):
                return _xlsx_scan(z, sheet)
            if suffix == ".ods":
                return _Scan(_ods_formulas(z))
    except (zipfile.BadZipFile, KeyError, OSError):
        return _Scan()
    return _Scan()


def _contains(
    z: zipfile.ZipFile,
    member: str,
    pattern: re.Pattern[bytes],
    hint: bytes,
    merges: list[bytes] | None = None,
) -> bool:
    """Whether the member holds ``pattern`` (one pass over it, 1 MB at a time). ``hint``,
    a part of every match, is looked for first: a plain search of the bytes is several
    times faster than the regular expression, and most members have no match at all.

    ``merges``, if given, gets the ``ref`` of every XLSX merged range met on the way (all
    of them when the answer is False: they come after the rows)."""
    overlap = 64  # longer than any match: a match cut by a read is found across the cut
    tail = b""
    carry = b""  # the end of the last read after its last merged range
    with z.open(member) as f:
        while chunk := f.read(1 << 20):
            if hint in chunk and pattern.search(chunk):
                return True
            if tail and pattern.search(tail + chunk[:overlap]):
                return True
            tail = chunk[-overlap:]
            if merges is not None:
                if b"<mergeCell " in chunk or b"<mergeCell " in carry + chunk[:overlap]:
                    text = carry + chunk
                    last = 0
                    for m in _XLSX_MERGE.finditer(text):
                        merges.append(m.group(1))
                        last = m.end()
                    carry = text[max(len(text) - overlap, last) :]
                else:
                    carry = chunk[-overlap:]
    return False


_XLSX_FORMULA = re.compile(rb"<f[ >]")  # a formula element, <f> or <f attributes>
_XLSX_MERGE = re.compile(rb'<mergeCell ref="([A-Za-z]+[0-9]+(?::[A-Za-z]+[0-9]+)?)"')
_ODS_FORMULA = re.compile(rb"table:formula")


def _xlsx_scan(z: zipfile.ZipFile, only: str | None = None) -> _Scan:
    import xml.etree.ElementTree as ET

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    names = set(z.namelist())
    found = _Scan()
    for name, member in sheet_members(z).items():
        if (only is not None and name != only) or member not in names:
            continue
        refs: list[bytes] = []
        if _contains(z, member, _XLSX_FORMULA, b"<f", refs):
            cells: list[str] = []
            refs = []
            with z.open(member) as f:
                for _, elem in ET.iterparse(f):
                    if elem.tag == f"{main}c":
                        if elem.find(f"{main}f") is not None:
                            cells.append(elem.get("r", "?"))
                        elem.clear()
                    elif elem.tag == f"{main}mergeCell":
                        refs.append(elem.get("ref", "").encode())
            if cells:
                found.formulas[name] = cells
        merges = [m for m in map(_merge_range, refs) if m is not None]
        if merges:
            found.merges[name] = merges
    return found


def _merge_range(ref: bytes) -> Merge | None:
    """``b"B2:C4"`` as calamine gives a merged range: ((1, 1), (3, 2))."""
    ends = []
    for cell in ref.decode("ascii", "replace").split(":"):
        m = re.fullmatch(r"([A-Za-z]+)([0-9]+)", cell)
        if m is None:
            return None
        col = 0
        for letter in m.group(1).upper():
            col = col * 26 + ord(letter) - 64
        ends.append((int(m.group(2)) - 1, col - 1))
    return (ends[0], ends[-1])


def _ods_formulas(z: zipfile.ZipFile) -> dict[str, list[str]]:
    import xml.etree.ElementTree as ET

    if not _contains(z, "content.xml", _ODS_FORMULA, b"table:formula"):
        return {}
    table_ns = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    found: dict[str, list[str]] = {}
    sheet = ""
    row = col = 0
    with z.open("content.xml") as f:
        for event, elem in ET.iterparse(f, events=("start", "end")):
            tag = elem.tag
            if event == "start":
                if tag == f"{{{table_ns}}}table":
                    sheet, row = elem.get(f"{{{table_ns}}}name", ""), 0
                elif tag == f"{{{table_ns}}}table-row":
                    row, col = row + 1, 0
                elif tag == f"{{{table_ns}}}table-cell":
                    col += 1
                    if elem.get(f"{{{table_ns}}}formula"):
                        found.setdefault(sheet, []).append(f"{column_letter(col - 1)}{row}")
            elif tag == f"{{{table_ns}}}table-cell":
                repeat = int(elem.get(f"{{{table_ns}}}number-columns-repeated", "1"))
                col += repeat - 1
                elem.clear()
    return found
