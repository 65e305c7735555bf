"""A large XLSX sheet parsed in parts, each while the rows of the part before are checked.

calamine parses a sheet whole before it hands over a row: for a million rows about 9 s of
CPU in which the check has nothing to do, and nor has a write-ahead process waiting for
the check's rows (:mod:`loaders.background_write`), so one of two cores idles for half
the load. calamine releases the GIL while it parses, so a thread can parse the next part
of a sheet while the check works on this one, if the sheet comes in parts.

calamine takes only whole workbooks, so each part is one: the sheet's XML is inflated as
a stream and cut at row elements into parts of about :data:`PART_BYTES`; a part is the
sheet's own head (without its ``<dimension>``, which would make calamine reserve the
whole sheet), its slice of rows and a closing tag, put into a workbook of its own (stored,
not compressed) with the original's members that calamine reads to make sense of it
(workbook, relationships, shared strings, styles for dates). Rows keep their numbers:
every row element carries its number (``r``), calamine places cells by it, and a part's
rows come with the position of its first cell. A sheet whose XML is not of that shape (a
namespace prefix, rows without numbers) is parsed whole, as before.

What it costs: inflating, cutting and copying the parts, about what calamine saves by
reading them stored (a 1M-row check: 17.2 s of CPU in all against 18.4 s read whole, its
main thread 6.4 s against 17.2 s; peak 503 MB against 638 MB); and calamine reads a
workbook's shared strings once a part, not once, so parts are made at least twice as
large as the shared strings (300,000 rows with a unique key each, 7.8 MB of shared
strings, four parts: 3.6 to 4.6 s of CPU in all against 3.1 to 3.2 s read whole, the
main thread's 0.2 s against 2.9 s). It pays on a second core only, and only sheets of at least
:data:`MIN_SHEET_BYTES` of XML are read so (a 60,000-row sheet: main thread 0.5 s of CPU
instead of 1.2 s, 5% more CPU in all).
"""

from __future__ import annotations

import contextlib
import queue
import re
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PART_BYTES = 32 << 20  # XML of the sheet in a part (about 90,000 rows of 6 text cells)
FIRST_PART_BYTES = 4 << 20  # the first part small, so the check starts early
MIN_SHEET_BYTES = 16 << 20  # a sheet's XML from which it is read in parts
_HEAD_LIMIT = 16 << 20  # the head (before the rows) is looked for in this much XML
_READ = 1 << 20
_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData/></worksheet>"
)
_CLOSE = b"</sheetData></worksheet>"
_DIMENSION = re.compile(rb"<dimension\b[^>]*/>")
_ROW = b"<row "
_NUMBERED = re.compile(rb'<row\b[^>]*?\sr="\d+"')
# members a part leaves out: other sheets (replaced by empty ones) and what calamine never
# reads for cell values
_LEFT_OUT = ("xl/media/", "xl/drawings/", "xl/embeddings/", "xl/pivotCache/", "xl/printerSettings/")
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}


@dataclass
class Part:
    """Rows of a part as calamine gives a sheet's (``to_python``: from its first cell, the
    empty columns left of it not included), and that first cell's position."""

    first_row: int  # zero-based
    first_col: int
    rows: list[list[Any]]


class PartError(Exception):
    """A part could not be made or parsed (the message says why)."""


def sheet_members(z: zipfile.ZipFile) -> dict[str, str]:
    """The XML member of each sheet of an XLSX workbook, by sheet name."""
    import xml.etree.ElementTree as ET

    book = ET.fromstring(z.read("xl/workbook.xml"))
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    members: dict[str, str] = {}
    for sheet in book.iterfind("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        members[sheet.get("name", "")] = member
    return members


def open_parts(path: Path, sheet: str) -> SheetParts | None:
    """The sheet read in parts, or None when it is to be parsed whole: not XLSX, small, or
    its XML not of the shape this cuts (see the module docstring)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    try:
        with zipfile.ZipFile(path) as z:
            member = sheet_members(z).get(sheet)
            if member is None or member not in z.NameToInfo:
                return None
            info = z.getinfo(member)
            if info.file_size < MIN_SHEET_BYTES:
                return None
            with z.open(info) as f:
                head = _head(f)
            if head is None:
                return None
            strings = sum(
                i.file_size for i in z.infolist() if "sharedstrings" in i.filename.lower()
            )
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError):
        return None
    return SheetParts(path, sheet, member, info.file_size, max(PART_BYTES, 2 * strings))


def _head(f: Any) -> tuple[bytes, bytes] | None:
    """(the sheet's XML up to its rows, without ``<dimension>``; the XML read after it),
    or None when the rows are not where this looks, or the first is not numbered."""
    data = b""
    while len(data) < _HEAD_LIMIT:
        more = f.read(_READ)
        data += more
        start = data.find(b"<sheetData>")
        if start >= 0:
            start += len(b"<sheetData>")
            row = data.find(_ROW, start)
            end = data.find(b">", row)
            if row < 0 or end < 0:
                if not more:
                    return None
                continue
            if not _NUMBERED.match(data, row, end):
                return None
            return _DIMENSION.sub(b"", data[:start]), data[start:]
        if not more:
            return None
    return None


class SheetParts:
    """The parts of one sheet, made and parsed by a thread up to two parts ahead of the reader.
    Iterate once; :meth:`close` when done (or stopping early)."""

    def __init__(self, path: Path, sheet: str, member: str, size: int, part_bytes: int) -> None:
        self.path = path
        self.sheet = sheet
        self.member = member
        self.size = size
        self.part_bytes = part_bytes
        self.bytes_read = 0  # of the sheet's XML, for progress
        self._parts: queue.Queue[Part | BaseException | None] = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="xlsx-parts", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[Part]:
        while True:
            item = self._parts.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise PartError(str(item) or type(item).__name__) from item
            yield item

    def progress(self) -> float:
        return min(self.bytes_read / self.size, 1.0) if self.size else 1.0

    def close(self) -> None:
        """Stop the thread (it may be waiting to hand on a part) and wait for it."""
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._parts.get(timeout=0.05)

    def _put(self, item: Part | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._parts.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for part in self._make():
                if not self._put(part):
                    return
            self._put(None)
        except BaseException as e:  # handed to the reader, which raises it
            self._put(e)

    def _make(self) -> Iterator[Part]:
        with zipfile.ZipFile(self.path) as z:
            members = sheet_members(z)
            others = {m for name, m in members.items() if name != self.sheet}
            keep: list[tuple[str, bytes]] = []
            for info in z.infolist():
                name = info.filename
                if name == self.member or name.startswith(_LEFT_OUT) or info.is_dir():
                    continue
                keep.append((name, _EMPTY_SHEET if name in others else z.read(info)))
            with z.open(self.member) as f:
                found = _head(f)
                if found is None:
                    raise PartError("the sheet's rows changed while it was read")
                head, rest = found
                self.bytes_read = len(head) + len(rest)
                size = FIRST_PART_BYTES
                while not self._stop.is_set():
                    more = f.read(size)
                    self.bytes_read += len(more)
                    data = rest + more if rest else more
                    if not more:  # the last part: up to the end of the rows
                        end = data.rfind(b"</sheetData>")
                        if end < 0:
                            raise PartError("the sheet's XML ends before its rows do")
                        if data.find(b"<row", 0, end) >= 0:
                            yield self._parse(keep, head, memoryview(data)[:end])
                        return
                    cut = _last_numbered_row(data)
                    if cut <= 0:  # no row starts in it after the first: read on
                        rest = data
                        continue
                    yield self._parse(keep, head, memoryview(data)[:cut])
                    rest = data[cut:]
                    size = self.part_bytes

    def _parse(self, keep: list[tuple[str, bytes]], head: bytes, rows: memoryview) -> Part:
        from python_calamine import CalamineWorkbook

        # through a file: calamine reads a file-like object several times slower
        with tempfile.NamedTemporaryFile(prefix="pressure-graph-part-", suffix=".xlsx") as file:
            with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as out:
                for name, data in keep:
                    out.writestr(name, data)
                with out.open(self.member, "w") as w:
                    w.write(head)
                    w.write(rows)
                    w.write(_CLOSE)
            file.flush()
            book = CalamineWorkbook.from_path(file.name)
            try:
                sheet = book.get_sheet_by_name(self.sheet)
                first_row, first_col = sheet.start or (0, 0)
                cells = sheet.to_python(skip_empty_area=True)
            finally:
                book.close()
        return Part(first_row, first_col, cells)


def _last_numbered_row(data: bytes) -> int:
    """Where the last row element that carries its number starts (> 0), or -1."""
    end = len(data)
    while True:
        at = data.rfind(_ROW, 0, end)
        if at <= 0:
            return -1
        close = data.find(b">", at)
        if close >= 0 and _NUMBERED.match(data, at, close):
            return at
        end = at
