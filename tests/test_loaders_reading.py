"""Readers: every encoding, delimiter and workbook format, and malformed files, each
giving a clear error and writing nothing."""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from graph_service.storage.sqlite import SqliteStore
from loaders.load import load_files
from loaders.problems import LoadError, LoadRejected
from loaders.reading import _XLSX_FORMULA, _contains, read_tables

ROWS = [
    ["key", "name", "sector", "staff_count"],
    ["school-1", "Школа № 1 «Ёлочка»", "education", "1 250"],
    ["hospital-3", "Больница 3", "health", "80"],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str, delimiter: str) -> Path:
    text = "\r\n".join(delimiter.join(r) for r in rows) + "\r\n"
    data = text.encode(encoding)
    if encoding == "utf-8-sig":
        assert data.startswith(codecs.BOM_UTF8)
    path.write_bytes(data)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
    book.close()
    return path


def write_ods(path: Path, sheets: dict[str, list[list[str]]], formula: bool = False) -> Path:
    """A real (minimal) OpenDocument spreadsheet, written by hand: no writer needed."""
    tables = []
    for name, rows in sheets.items():
        xml_rows = []
        for row in rows:
            cells = "".join(
                f'<table:table-cell office:value-type="string"><text:p>{v}</text:p>'
                "</table:table-cell>"
                for v in row
            )
            xml_rows.append(f"<table:table-row>{cells}</table:table-row>")
        if formula:
            xml_rows.append(
                '<table:table-row><table:table-cell table:formula="of:=1+1" '
                'office:value-type="float" office:value="2"><text:p>2</text:p>'
                "</table:table-cell></table:table-row>"
            )
        tables.append(f'<table:table table:name="{name}">{"".join(xml_rows)}</table:table>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<office:document-content "
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet>"
        "</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(tmp_path / "g.db")
    yield s  # type: ignore[misc]
    s.close()


def _institutions(store: SqliteStore) -> dict[str, dict[str, object]]:
    page = store.find_nodes("Institution", first=100)
    return {n.key: dict(n.properties) for n in page.items}


EXPECTED = {
    "school-1": {
        "name": "Школа № 1 «Елочка»".replace("Е", "Ё", 1),
        "sector": "education",
        "staff_count": 1250,
    },
    "hospital-3": {"name": "Больница 3", "sector": "health", "staff_count": 80},
}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_in_every_encoding_and_delimiter_loads_the_same(
    tmp_path: Path, store: SqliteStore, encoding: str, delimiter: str
) -> None:
    path = write_csv(tmp_path / "institutions.csv", ROWS, encoding, delimiter)
    result = load_files([path], store)
    assert result.rows_read == 2
    assert _institutions(store) == EXPECTED


def test_cp1251_after_64kb_of_ascii_is_still_detected(tmp_path: Path, store: SqliteStore) -> None:
    rows = [ROWS[0]] + [[f"k{i}", "ascii name", "other", "1"] for i in range(5000)] + [ROWS[1]]
    path = write_csv(tmp_path / "institutions.csv", rows, "cp1251", ";")
    assert path.stat().st_size > 64 * 1024
    load_files([path], store)
    assert store.get_node("Institution:school-1").properties["name"].startswith("Школа")


def test_xlsx_every_sheet_in_one_load(tmp_path: Path, store: SqliteStore) -> None:
    path = write_xlsx(
        tmp_path / "book.xlsx",
        {
            "Учреждения": [
                ["ключ", "Наименование", "Сфера", "Штат"],
                ["school-1", "Школа", "education", 12.0],
            ],
            "Органы власти": [["Key", "Name", "Level"], ["dip", "Department", "regional"]],
            "Связи": [
                ["от", "тип", "к"],
                ["Institution:school-1", "SUBORDINATE_TO", "Authority:dip"],
            ],
        },
    )
    result = load_files([path], store)
    assert result.counts() == {"Institution": 1, "Authority": 1, "SUBORDINATE_TO": 1}
    assert store.get_node("Institution:school-1").properties["staff_count"] == 12


def test_ods_written_by_hand_is_read(tmp_path: Path, store: SqliteStore) -> None:
    path = write_ods(tmp_path / "book.ods", {"institutions": [r[:3] for r in ROWS]})
    load_files([path], store)
    assert set(_institutions(store)) == {"school-1", "hospital-3"}


def test_ods_formula_cell_is_refused(tmp_path: Path, store: SqliteStore) -> None:
    path = write_ods(tmp_path / "book.ods", {"institutions": [r[:3] for r in ROWS]}, formula=True)
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    assert any("formula" in p.reason and p.row == 4 for p in e.value.problems)
    assert store.stats().node_count == 0


def test_xlsx_formula_cell_is_refused(tmp_path: Path, store: SqliteStore) -> None:
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("institutions")
    sheet.write_row(0, 0, ["key", "name", "staff_count"])
    sheet.write_row(1, 0, ["school-1", "School"])
    sheet.write_formula(1, 2, "=10*2")
    book.close()
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    [problem] = e.value.problems
    assert (problem.sheet, problem.row, problem.column) == ("institutions", 2, "C2")
    assert "formula" in problem.reason
    assert store.stats().node_count == 0


def test_each_sheets_formulas_are_reported_on_that_sheet(
    tmp_path: Path, store: SqliteStore
) -> None:
    """Each sheet of a workbook is scanned for formulas on its own (while calamine reads
    the sheets): a formula is reported on its own sheet, and only there."""
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    first = book.add_worksheet("authorities")
    first.write_row(0, 0, ["key", "name"])
    first.write_row(1, 0, ["dep", "Department"])
    second = book.add_worksheet("institutions")
    second.write_row(0, 0, ["key", "name", "staff_count"])
    for row in range(1, 4):
        second.write_row(row, 0, [f"school-{row}", "School"])
    second.write_formula(3, 2, "=10*2")
    third = book.add_worksheet("persons")
    third.write_row(0, 0, ["key", "public"])
    third.write_row(1, 0, ["p1"])
    third.write_formula(1, 1, "=1=1")
    book.close()
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    found = sorted((p.sheet, p.row, p.column) for p in e.value.problems)
    assert found == [("institutions", 4, "C4"), ("persons", 2, "B2")]
    assert store.stats().node_count == 0


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (b"x" * ((1 << 20) - 1) + b"<f>A1</f>", True),  # cut by the first 1 MB read
        (b"x" * ((1 << 20) - 2) + b'<f t="shared"/>', True),
        (b"x" * (1 << 20) + b"<f>", True),  # at the start of the second read
        (b"<foo/>" * 400_000 + b"<firstFooter/>", False),  # other tags starting <f
    ],
)
def test_formula_scan_finds_a_formula_anywhere(tmp_path: Path, text: bytes, found: bool) -> None:
    path = tmp_path / "member.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sheet.xml", text)
    with zipfile.ZipFile(path) as z:
        assert _contains(z, "sheet.xml", _XLSX_FORMULA, b"<f") is found


def test_merged_header_cells_are_refused(tmp_path: Path, store: SqliteStore) -> None:
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("institutions")
    sheet.merge_range(0, 1, 0, 2, "name")
    sheet.write(0, 0, "key")
    sheet.write_row(1, 0, ["school-1", "School", "extra"])
    book.close()
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    assert any("merged header" in p.reason for p in e.value.problems)
    assert store.stats().node_count == 0


def test_ragged_row_names_the_extra_cell(tmp_path: Path, store: SqliteStore) -> None:
    path = tmp_path / "institutions.csv"
    path.write_text("key,name\nschool-1,School,surplus\nschool-2\n", encoding="utf-8")
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    [problem] = e.value.problems
    assert (problem.row, problem.column, problem.value) == (2, "C", "surplus")
    assert store.stats().node_count == 0


def test_empty_sheet_workbook_is_refused(tmp_path: Path, store: SqliteStore) -> None:
    path = write_xlsx(tmp_path / "book.xlsx", {"institutions": []})
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    assert "empty" in e.value.problems[0].reason


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00" * 10, "binary"),
        (b"PK\x03\x04rest-of-a-zip", "zip archive"),
    ],
)
def test_unreadable_csv_is_a_clear_error(
    tmp_path: Path, store: SqliteStore, content: bytes, expected: str
) -> None:
    bad = tmp_path / "institutions.csv"
    bad.write_bytes(content)
    good = write_csv(tmp_path / "authorities.csv", [["key", "name"], ["a", "A"]], "utf-8", ",")
    with pytest.raises(LoadRejected) as e:
        load_files([good, bad], store)
    [problem] = e.value.problems
    assert problem.file == "institutions.csv" and expected in problem.reason
    assert store.stats().node_count == 0


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_zero_byte_workbook_is_a_clear_error(
    tmp_path: Path, store: SqliteStore, suffix: str
) -> None:
    path = tmp_path / f"book{suffix}"
    path.write_bytes(b"")
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    assert "empty" in e.value.problems[0].reason
    assert store.stats().node_count == 0


def test_csv_is_streamed_with_spreadsheet_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "persons.csv"
    path.write_text('key,name\np1,"two\nlines"\np2,B\n', encoding="utf-8")
    [table] = list(read_tables(path))
    assert [n for n, _ in table.rows] == [2, 3]


@pytest.mark.parametrize("xlsx", [False, True])
def test_blocks_give_the_rows_and_numbers_rows_give(tmp_path: Path, xlsx: bool) -> None:
    """A table read a list at a time (what the block check takes) holds the same rows, with
    the same numbers, as read row by row; a workbook sheet that starts further right keeps
    its column letters."""
    rows = [["key", "name"], *([f"p{i}", f"Name {i}"] for i in range(600)), ["", ""], ["p", "P"]]
    if xlsx:
        path = tmp_path / "persons.xlsx"
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet("persons")
        for r, row in enumerate(rows):
            sheet.write_row(r, 2, row)
        book.close()
    else:
        path = write_csv(tmp_path / "persons.csv", rows, "utf-8", ",")
    [by_rows] = list(read_tables(path))
    [by_blocks] = list(read_tables(path))
    assert by_blocks.blocks is not None
    expected = [(n, list(r)) for n, r in by_rows.rows]
    got = [
        (first + i, list(row))
        for first, block in by_blocks.blocks(256)
        for i, row in enumerate(block)
    ]
    assert got == expected
    assert expected[0][0] == 2
    assert expected[0][1][-2:] == ["p0", "Name 0"]
    assert len(expected) == 602


def test_a_csv_row_that_does_not_parse_is_named_past_the_first_block(tmp_path: Path) -> None:
    path = tmp_path / "persons.csv"
    good = "".join(f"p{i},Name {i}\n" for i in range(300))
    path.write_text(f'key,name\n{good}p300,"unclosed" quote\n', encoding="utf-8")
    with pytest.raises(LoadError) as by_blocks:
        load_files([path], None, dry_run=True)
    assert "row 302 (line 302)" in str(by_blocks.value)
    [table] = list(read_tables(path))
    with pytest.raises(LoadError) as by_rows:
        list(table.rows)
    assert str(by_rows.value) == str(by_blocks.value)


def test_a_line_in_another_encoding_is_named_by_its_line(tmp_path: Path) -> None:
    """UTF-8 lines (read a batch at a time past the first 64 KB) and then one that is
    not: the error names that line, however the lines before it were decoded."""
    lines = ["key,name", "p0,Пётр"] + [f"p{i},Name {i}" for i in range(1, 5000)]
    data = ("\n".join(lines) + "\n").encode("utf-8") + "p5000,Пётр\n".encode("cp1251")
    path = tmp_path / "persons.csv"
    path.write_bytes(data)
    with pytest.raises(LoadError) as e:
        load_files([path], None, dry_run=True)
    assert "line 5002 is not valid utf-8 text" in str(e.value)


def test_a_sheet_that_starts_lower_keeps_its_header_and_row_numbers(tmp_path: Path) -> None:
    """Blank rows above a sheet's data: the header is the first row with something in
    it, and rows keep the numbers a spreadsheet program shows (and columns their
    letters)."""
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("persons")
    rows = [["key", "public"], ["p1", "no"], ["p 2", "maybe"]]
    for r, row in enumerate(rows):
        sheet.write_row(r + 3, 2, row)
    book.close()
    [table] = list(read_tables(path))
    assert table.headers[2:] == ["key", "public"] and table.header_row == 4
    with pytest.raises(LoadRejected) as e:
        load_files([path], None, dry_run=True)
    found = sorted((p.row, p.column) for p in e.value.problems)
    assert found == [(6, "key"), (6, "public")]


@pytest.mark.parametrize("value", [0, ""])
def test_formula_alone_on_its_row_is_still_refused(
    tmp_path: Path, store: SqliteStore, value: object
) -> None:
    """A row whose only cell is a formula reads as blank when the saved result is empty
    (files from programs that do not calculate); the formula must still be reported."""
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("institutions")
    sheet.write_row(0, 0, ["key", "name"])
    sheet.write_row(1, 0, ["school-1", "School"])
    sheet.write_formula(2, 1, "=A1", None, value)
    sheet.write_row(3, 0, ["school-2", "School"])
    book.close()
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    [problem] = e.value.problems
    assert (problem.sheet, problem.row, problem.column) == ("institutions", 3, "B3")
    assert "formula" in problem.reason
    assert store.stats().node_count == 0
