"""The formula cells of an XLS workbook, found without calamine.

A load refuses formula cells: what a spreadsheet holds for one is its saved result, which
may be stale or missing, not a value an investigator typed (see ``loaders.reading``).
python-calamine (0.9) gives only those saved results, so the formulas are found here.

An XLS file is an OLE2 compound file (MS-CFB): a small file system of fixed-size sectors,
chained through a file allocation table (FAT), whose streams are listed in a directory.
The cells are in the ``Workbook`` stream (``Book`` in Excel 5 files), a sequence of BIFF
records, each a 2-byte type, a 2-byte length and its data (MS-XLS). The workbook globals
come first, one ``BOUNDSHEET`` record a sheet (its name and where its records start),
then each sheet's records between a ``BOF`` and an ``EOF`` (a chart inside a sheet nests
its own ``BOF`` … ``EOF``). Every formula cell has a ``FORMULA`` record, row and column
first; the ``SHRFMLA`` and ``ARRAY`` records that follow some carry a formula shared by
cells that each have their own ``FORMULA`` record, so only ``FORMULA`` is counted.

Only what that takes is read: the container's header, FAT, directory and the one stream,
and of the records their headers, plus the data of ``BOF``, ``BOUNDSHEET`` and
``FORMULA``. A file that is not such a container, or one whose structure is broken, gives
:class:`XlsError`; calamine then says what it makes of the file.
"""

from __future__ import annotations

import struct
from pathlib import Path

from loaders.reading import column_letter

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
_NO_STREAM = 0xFFFFFFFF
_STREAM, _ROOT = 2, 5  # directory entry types
_WORKBOOK_NAMES = ("workbook", "book")  # BIFF8, BIFF5

BOF, EOF, BOUNDSHEET, FORMULA, FILEPASS, CODEPAGE = 0x0809, 0x000A, 0x0085, 0x0006, 0x002F, 0x0042
_WANTED = frozenset((BOF, EOF, BOUNDSHEET, FORMULA, FILEPASS, CODEPAGE))
_BIFF8 = 0x0600
_WORKSHEET = 0x0010  # a BOF's substream type (globals 0x0005, chart 0x0020, macros 0x0040)


class XlsError(ValueError):
    """The file is not a readable OLE2 compound file with a workbook stream."""


def xls_formula_cells(path: Path) -> dict[str, list[str]]:
    """The formula cells (``"C2"``) of each worksheet of an XLS file, by sheet name, in
    row order; sheets without one are left out."""
    try:
        return formula_cells(workbook_stream(path.read_bytes()))
    except struct.error as e:  # a record or table shorter than it says
        raise XlsError(f"a structure is cut short ({e})") from None


def workbook_stream(data: bytes) -> bytes:
    """The ``Workbook`` (or ``Book``) stream of a compound file's bytes."""
    if not data.startswith(SIGNATURE) or len(data) < 512:
        raise XlsError("not an OLE2 compound file")
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if not 7 <= shift <= 16 or not 2 <= mini_shift < shift:
        raise XlsError(f"impossible sector sizes (2**{shift}, 2**{mini_shift})")
    size = 1 << shift
    (fat_count, first_dir, _, cutoff, first_minifat, _, first_difat, difat_count) = (
        struct.unpack_from("<IIIIIIII", data, 0x2C)
    )
    sectors = (len(data) - 1) // size  # the header takes the first sector's place

    def sector(number: int) -> bytes:
        if number >= sectors:
            raise XlsError(f"sector {number} is past the end of the file")
        start = (number + 1) * size
        return data[start : start + size]

    # The FAT's own sectors: 109 listed in the header, the rest in a chain of DIFAT sectors.
    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    difat, seen = first_difat, 0
    while difat not in (_FREE, _END_OF_CHAIN) and seen <= difat_count:
        entries = struct.unpack(f"<{size // 4}I", sector(difat))
        fat_sectors.extend(entries[:-1])
        difat, seen = entries[-1], seen + 1
    fat_sectors = fat_sectors[:fat_count]
    if len(fat_sectors) < fat_count or any(s >= sectors for s in fat_sectors):
        raise XlsError("the allocation table is cut short")
    fat = b"".join(map(sector, fat_sectors))
    links = struct.unpack(f"<{len(fat) // 4}I", fat)

    def chain(first: int, table: tuple[int, ...]) -> list[int]:
        numbers: list[int] = []
        at = first
        while at != _END_OF_CHAIN:
            if at >= len(table) or len(numbers) > len(table):  # past the table, or a loop
                raise XlsError("a sector chain is broken")
            numbers.append(at)
            at = table[at]
        return numbers

    directory = b"".join(map(sector, chain(first_dir, links)))
    root = _entry(directory, 0)
    if root[1] != _ROOT:
        raise XlsError("the directory has no root entry")
    found = None
    for index in _children(directory, root[4]):
        name, kind, _, _, _, start, length = _entry(directory, index)
        if (
            kind == _STREAM
            and name.lower() in _WORKBOOK_NAMES
            and (found is None or name.lower() == "workbook")
        ):
            found = (start, length)
    if found is None:
        raise XlsError("no Workbook stream (not an Excel workbook?)")
    start, length = found
    if shift == 9:
        length &= 0xFFFFFFFF  # version 3 files leave the high half undefined
    if length == 0:
        raise XlsError("the Workbook stream is empty")
    if length < cutoff:  # a small stream lives in the mini stream, in 64-byte sectors
        mini = 1 << mini_shift
        minifat = b"".join(map(sector, chain(first_minifat, links)))
        mini_links = struct.unpack(f"<{len(minifat) // 4}I", minifat)
        container = b"".join(map(sector, chain(root[5], links)))  # the mini stream
        stream = b"".join(container[n * mini : (n + 1) * mini] for n in chain(start, mini_links))
    else:
        stream = b"".join(map(sector, chain(start, links)))
    if len(stream) < length:
        raise XlsError("the Workbook stream is cut short")
    return stream[:length]


def _entry(directory: bytes, index: int) -> tuple[str, int, int, int, int, int, int]:
    """(name, type, left sibling, right sibling, child, first sector, size) of a
    128-byte directory entry."""
    at = index * 128
    if at + 128 > len(directory):
        raise XlsError(f"directory entry {index} is past the directory's end")
    name_bytes = struct.unpack_from("<H", directory, at + 64)[0]
    name = directory[at : at + max(min(name_bytes, 64) - 2, 0)].decode("utf-16-le", "replace")
    kind = directory[at + 66]
    left, right, child = struct.unpack_from("<III", directory, at + 68)
    start, size = struct.unpack_from("<IQ", directory, at + 116)
    return name, kind, left, right, child, start, size


def _children(directory: bytes, first: int) -> list[int]:
    """The entries of one storage: the tree of siblings under its ``child`` entry (only
    the root's children are wanted: a Workbook stream deeper down is an embedded object's)."""
    found: list[int] = []
    todo = [first]
    limit = len(directory) // 128
    while todo:
        index = todo.pop()
        if index == _NO_STREAM:
            continue
        if index >= limit or len(found) >= limit:
            raise XlsError("the directory tree is broken")
        found.append(index)
        _, _, left, right, _, _, _ = _entry(directory, index)
        todo += (left, right)
    return found


def formula_cells(stream: bytes) -> dict[str, list[str]]:
    """The formula cells of each worksheet in a BIFF5/BIFF8 workbook stream."""
    unpack = struct.Struct("<HH").unpack_from
    end = len(stream)
    names: dict[int, str] = {}  # a sheet's BOF offset → its name
    order: list[str] = []
    biff8 = True
    codepage = "cp1252"
    cells: dict[str, list[tuple[int, int]]] = {}
    depth = 0  # nesting of BOF … EOF substreams
    in_globals = False
    current: list[tuple[int, int]] | None = None  # the formula cells of the sheet being read
    sheet_index = 0
    at = 0
    wanted = _WANTED
    while at + 4 <= end:
        kind, length = unpack(stream, at)
        data_at = at + 4
        if kind not in wanted:  # most records: a cell's value, a row, a format
            at = data_at + length
            continue
        if data_at + length > end:
            break  # cut short: calamine, reading the same stream, says so
        if kind == FORMULA:
            if current is not None and depth == 1 and length >= 4:
                current.append(unpack(stream, data_at))
        elif kind == BOF:
            depth += 1
            if length < 4:
                raise XlsError(f"a BOF record at byte {at} is too short")
            version, substream = unpack(stream, data_at)
            if at == 0:  # the workbook globals
                biff8, in_globals = version == _BIFF8, True
            elif depth == 1:  # a sheet's own substream (not the globals, not a nested chart)
                name = names.get(at)
                if name is None:  # not where a BOUNDSHEET said: take the next in order
                    name = order[sheet_index] if sheet_index < len(order) else ""
                sheet_index += 1
                current = cells.setdefault(name, []) if substream == _WORKSHEET and name else None
        elif kind == EOF:
            depth -= 1
            if depth <= 0:
                depth, current, in_globals = 0, None, False
                if sheet_index >= len(order):
                    break  # the last sheet is done; what follows is padding
        elif kind == BOUNDSHEET and in_globals and length >= 8:
            position = struct.unpack_from("<I", stream, data_at)[0]
            name = _sheet_name(stream[data_at + 6 : data_at + length], biff8, codepage)
            names[position] = name
            order.append(name)
        elif kind == CODEPAGE and length >= 2:
            page = struct.unpack_from("<H", stream, data_at)[0]
            codepage = "utf-16-le" if page == 1200 else f"cp{page}"
        elif kind == FILEPASS:
            break  # encrypted: the records after this one cannot be read
        at = data_at + length
    return {
        name: [f"{column_letter(col)}{row + 1}" for row, col in sorted(found)]
        for name, found in cells.items()
        if found
    }


def _sheet_name(data: bytes, biff8: bool, codepage: str) -> str:
    """A BOUNDSHEET's name: a length byte, then (BIFF8) a flags byte whose low bit says
    UTF-16 rather than one byte a character, or (BIFF5) bytes in the workbook's code page."""
    if not data:
        return ""
    count = data[0]
    if biff8:
        wide = len(data) > 1 and data[1] & 1
        text = data[2 : 2 + count * (2 if wide else 1)]
        return text.decode("utf-16-le" if wide else "latin-1", "replace")
    try:
        return data[1 : 1 + count].decode(codepage, "replace")
    except LookupError:
        return data[1 : 1 + count].decode("latin-1")
