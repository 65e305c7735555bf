"""XLS (Excel 97-2003) workbooks, written in the test by a real XLS writer (xlwt) and read
through python-calamine like XLSX and ODS: every sheet in one load, typed cells, and the
malformed cases that must give a clear error and write nothing."""

from __future__ import annotations

import datetime
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import xlsxwriter
import xlwt

from graph_service.storage.sqlite import SqliteStore
from loaders.load import load_files
from loaders.problems import LoadRejected
from loaders.xls_formulas import XlsError, formula_cells, workbook_stream, xls_formula_cells


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "g.db")
    yield s
    s.close()


def write_xls(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    day = xlwt.easyxf(num_format_str="DD.MM.YYYY")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, datetime.date):
                    sheet.write(r, c, value, day)
                elif value is not None:
                    sheet.write(r, c, value)
    book.save(str(path))
    return path


def test_xls_every_sheet_in_one_load(tmp_path: Path, store: SqliteStore) -> None:
    path = write_xls(
        tmp_path / "book.xls",
        {
            "Учреждения": [
                ["Ключ", "Наименование", "ИНН", "Сфера", "Штат"],
                ["school-1", " Школа № 1 «Ёлочка» ", "4826000001", "education", 1250],
            ],
            "persons": [["key", "ФИО", "Публичное лицо"], ["emp-1", "Иван", "нет"]],
            "указания": [
                ["key", "title", "issued", "deadline"],
                ["d1", "Answer the survey", datetime.date(2023, 8, 14), "16.08"],
            ],
            "Связи": [
                ["от", "тип", "к", "руководитель"],
                ["Person:emp-1", "WORKS_AT", "Institution:school-1", "да"],
            ],
        },
    )
    result = load_files([path], store)
    assert result.counts() == {"Institution": 1, "Person": 1, "Directive": 1, "WORKS_AT": 1}
    school = store.get_node("Institution:4826000001")  # the INN wins over the slug
    assert school is not None
    assert school.properties["name"] == "Школа № 1 «Ёлочка»"
    assert school.properties["staff_count"] == 1250
    person = store.get_node("Person:emp-1")
    assert person is not None and person.properties["public"] is False
    directive = store.get_node("Directive:d1")
    assert directive is not None
    assert (directive.properties["issued"], directive.properties["deadline"]) == (
        "2023-08-14",
        "--08-16",
    )
    [works_at] = store.neighbors("Person:emp-1").items
    assert works_at.relationship.properties["head"] is True
    assert works_at.relationship.provenance.origins == ("book.xls#Связи!2",)


def test_xls_bad_rows_are_named_by_sheet_and_row(tmp_path: Path, store: SqliteStore) -> None:
    path = write_xls(
        tmp_path / "book.xls",
        {"institutions": [["key", "name", "sector"], ["s1", "A", "education"], ["s2", "B", "x"]]},
    )
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    [problem] = e.value.problems
    assert (problem.file, problem.sheet, problem.row, problem.column) == (
        "book.xls", "institutions", 3, "sector",
    )
    assert store.stats().node_count == 0


def test_xls_with_only_empty_sheets_is_refused(tmp_path: Path, store: SqliteStore) -> None:
    path = write_xls(tmp_path / "book.xls", {"institutions": []})
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    assert "empty" in e.value.problems[0].reason
    assert store.stats().node_count == 0


def test_xls_formula_cell_is_refused(tmp_path: Path, store: SqliteStore) -> None:
    path = write_xls(
        tmp_path / "book.xls",
        {"institutions": [["key", "name", "staff_count"], ["s1", "School", xlwt.Formula("1+1")]]},
    )
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    assert any("formula" in p.reason for p in e.value.problems)
    assert store.stats().node_count == 0


def test_xls_formulas_are_reported_as_xlsx_formulas_are(tmp_path: Path, store: SqliteStore) -> None:
    """The same workbook as XLS and as XLSX gives the same problems: each formula on its own
    sheet, the first 20 of a sheet by cell and the rest counted (SHRFMLA/ARRAY records
    aside, every formula cell of an XLS sheet has its own FORMULA record)."""
    institutions: list[list[object]] = [["key", "name", "staff_count"]]
    institutions += [[f"school-{r}", "School", xlwt.Formula("10*2")] for r in range(1, 26)]
    sheets: dict[str, list[list[object]]] = {
        "authorities": [["key", "name"], ["dep", "Department"]],
        "institutions": institutions,
        "Связи": [["from", "type", "to"], ["Institution:school-1", "SUBORDINATE_TO", None]],
    }
    sheets["Связи"][1][2] = xlwt.Formula('"Authority:"&"dep"')
    xls = write_xls(tmp_path / "book.xls", sheets)
    xlsx = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(xlsx))
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, xlwt.ExcelFormula.Formula):
                    sheet.write_formula(r, c, "=" + value.text().replace('"&"', ""))
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()

    def problems(path: Path) -> list[tuple[object, ...]]:
        with pytest.raises(LoadRejected) as e:
            load_files([path], store)
        return sorted(
            (p.sheet, p.row or 0, p.column or "", p.reason)
            for p in e.value.problems
            if "formula" in p.reason
        )

    found = problems(xls)
    assert found == problems(xlsx)
    assert [(s, r, c) for s, r, c, _ in found if s == "institutions"][:3] == [
        ("institutions", 0, ""), ("institutions", 2, "C2"), ("institutions", 3, "C3")
    ]
    assert ("institutions", 0, "", "5 more formula cells (C22 to C26); the sheet is refused "
            "whole") in found
    assert ("Связи", 2, "C2") in [(s, r, c) for s, r, c, _ in found]
    assert len(found) == 22
    assert store.stats().node_count == 0


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _biff(
    sheets: list[tuple[str, int, list[bytes]]], biff8: bool = True, order: list[int] | None = None
) -> bytes:
    """A workbook stream: the globals (one BOUNDSHEET a sheet, pointing at its BOF), then
    the sheets' substreams in ``order`` (default: as listed). A sheet is (name, its BOF's
    substream type, its records between BOF and EOF)."""
    version = 0x0600 if biff8 else 0x0500

    def boundsheet(name: str, position: int) -> bytes:
        if biff8:
            text = bytes([len(name), 1]) + name.encode("utf-16-le")
        else:
            text = bytes([len(name)]) + name.encode("cp1251")
        return _record(0x0085, struct.pack("<IBB", position, 0, 0) + text)

    bodies = [
        _record(0x0809, struct.pack("<HH", version, kind) + b"\0" * 12)
        + b"".join(records)
        + _record(0x000A)
        for _, kind, records in sheets
    ]
    head = _record(0x0809, struct.pack("<HH", version, 0x0005) + b"\0" * 12)
    head += _record(0x0042, struct.pack("<H", 1200 if biff8 else 1251))
    globals_size = len(head) + sum(len(boundsheet(n, 0)) for n, _, _ in sheets) + 4
    positions: dict[int, int] = {}
    at = globals_size
    for i in order or range(len(sheets)):
        positions[i] = at
        at += len(bodies[i])
    for i, (name, _, _) in enumerate(sheets):
        head += boundsheet(name, positions[i])
    head += _record(0x000A)
    return head + b"".join(bodies[i] for i in order or range(len(sheets)))


def _formula(row: int, col: int) -> bytes:
    return _record(0x0006, struct.pack("<HHH", row, col, 0) + b"\0" * 14)


WORKSHEET, CHART, MACROS = 0x0010, 0x0020, 0x0040


def test_formula_records_are_counted_on_the_sheet_they_belong_to() -> None:
    """Sheets are found by where their BOUNDSHEET says they start, not by their order;
    SHRFMLA and ARRAY records are parts of formulas already counted by FORMULA; a chart
    nested in a sheet ends without ending the sheet; a macro sheet's formulas are code,
    not cells of data."""
    stream = _biff(
        [
            (
                "institutions",
                WORKSHEET,
                [
                    _formula(1, 2),
                    _record(0x04BC, b"\0" * 10),  # SHRFMLA
                    _formula(3, 2),
                    _record(0x0221, b"\0" * 14),  # ARRAY
                    _record(0x0809, struct.pack("<HH", 0x0600, CHART) + b"\0" * 12),
                    _record(0x000A),
                    _formula(2, 27),
                ],
            ),
            ("macros", MACROS, [_formula(0, 0)]),
            ("Связи", WORKSHEET, [_formula(4, 3)]),
            ("persons", WORKSHEET, []),
        ],
        order=[2, 0, 3, 1],
    )
    assert formula_cells(stream + b"\0" * 100) == {
        "institutions": ["C2", "AB3", "C4"],
        "Связи": ["D5"],
    }


def test_excel_5_sheet_names_are_read_in_the_workbook_code_page() -> None:
    stream = _biff([("Связи", WORKSHEET, [_formula(1, 0)])], biff8=False)
    assert formula_cells(stream) == {"Связи": ["A2"]}


def _compound_file(stream: bytes) -> bytes:
    """A version 3 compound file holding ``stream`` (under 4096 bytes) as ``Workbook`` in
    its mini stream: sector 0 the FAT, 1 the directory, 2 the mini FAT, 3… the mini
    stream. (xlwt pads its streams to 4096 bytes, so it never writes one.)"""
    assert len(stream) < 4096
    end, free, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
    minis = (len(stream) + 63) // 64
    container = stream.ljust(minis * 64, b"\0")
    container_sectors = (len(container) + 511) // 512
    fat = [0xFFFFFFFD, end, end] + [4 + i for i in range(container_sectors - 1)] + [end]
    minifat = [i + 1 for i in range(minis - 1)] + [end]

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", no_stream, no_stream, child)
            + b"\0" * 36
            + struct.pack("<IQ", start, size)
        )

    directory = (
        entry("Root Entry", 5, 1, 3, len(container))
        + entry("Workbook", 2, no_stream, 0, len(stream))
        + entry("", 0, no_stream, 0, 0) * 2
    )
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, 2, 1, end, 0)
        + struct.pack("<109I", 0, *[free] * 108)
    )

    def sector(values: list[int]) -> bytes:
        return struct.pack(f"<{len(values)}I", *values).ljust(512, b"\xff")

    return (
        header
        + sector(fat)
        + directory
        + sector(minifat)
        + container.ljust(container_sectors * 512, b"\0")
    )


def test_a_small_workbook_stream_is_read_from_the_mini_stream() -> None:
    stream = _biff([("institutions", WORKSHEET, [_formula(1, 2), _formula(7, 0)])])
    assert len(stream) > 64  # spans mini sectors
    assert workbook_stream(_compound_file(stream)) == stream
    assert formula_cells(workbook_stream(_compound_file(stream))) == {"institutions": ["C2", "A8"]}


def test_a_large_xls_file_is_walked_through_its_whole_allocation_table(tmp_path: Path) -> None:
    """Past about 7 MB a compound file lists its FAT's sectors in DIFAT sectors too: a
    formula in the last row of a full sheet is found there."""
    book = xlwt.Workbook()
    sheet = book.add_sheet("institutions")
    for r in range(65536):
        row = sheet.row(r)
        for c in range(7):
            row.set_cell_number(c, r + c / 3)  # not an RK number: 18 bytes a cell
    sheet.write(65535, 9, xlwt.Formula("1+1"))
    path = tmp_path / "big.xls"
    book.save(str(path))
    data = path.read_bytes()
    assert struct.unpack_from("<I", data, 0x48)[0] >= 1  # it has DIFAT sectors
    assert xls_formula_cells(path) == {"institutions": ["J65536"]}


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:1000],  # cut inside the FAT's sectors
        lambda data: data[:512] + b"\xff" * (len(data) - 512),  # every sector chain broken
        lambda data: b"not an OLE2 file at all" * 40,
    ],
)
def test_a_broken_xls_file_is_an_xls_error_not_a_crash(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    path = write_xls(tmp_path / "book.xls", {"institutions": [["key"], [xlwt.Formula("1+1")]]})
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(XlsError):
        xls_formula_cells(path)
