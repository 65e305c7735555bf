"""CSV text cut into cells by ``str.split`` (``loaders.reading._cut``) gives exactly what
``csv.reader`` gives: the same records, or their columns, for any text it takes; and a
file read in pieces, switching to ``csv.reader`` at its first quote, gives the rows, row
numbers and errors of a file read by ``csv.reader`` alone."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import loaders.reading
from loaders.load import _Check, _young_gc_only
from loaders.problems import LoadError
from loaders.reading import _cut, _lines_of, read_tables

#: The characters csv.reader treats specially, and some it does not.
ALPHABET = [",", ";", "\t", '"', "\r", "\n", "\x00", " ", "a", "б", "\u2028", "\x0c"]


def _by_csv(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(_lines_of(text), delimiter=delimiter, strict=True))


@settings(max_examples=600, deadline=None)
@given(
    st.text(st.sampled_from(ALPHABET), max_size=60),
    st.sampled_from([",", ";", "\t"]),
    st.one_of(st.none(), st.integers(1, 4)),
)
def test_a_cut_piece_is_what_csv_reader_reads(text: str, delimiter: str, width: Any) -> None:
    cut = _cut(text, delimiter, width)
    if cut is None:
        return  # left to csv.reader
    part, cells = cut
    expected = _by_csv(text, delimiter)
    if cells:
        assert cells == width
        assert all(len(record) == width for record in expected)
        assert [part[at : at + cells] for at in range(0, len(part), cells)] == expected
    else:
        assert part == expected


@pytest.mark.parametrize(
    ("text", "width", "by_columns"),
    [
        ("a,b\r\nc,d\n", 2, True),
        ("a,b\nc,d", 2, True),  # the file's last line, without its end
        ("a,b\n\nc,d\n", 2, False),  # a blank line: a record without cells
        ("a,b\nc\n", 2, False),  # a short row
        ("a\n\nb\n", 1, False),
        ("a,b\nc,d\n", None, False),
    ],
)
def test_plain_text_is_cut_without_csv_reader(
    text: str, width: int | None, by_columns: bool
) -> None:
    cut = _cut(text, ",", width)
    assert cut is not None and bool(cut[1]) is by_columns
    part, cells = cut
    rows = [part[at : at + cells] for at in range(0, len(part), cells)] if cells else part
    assert rows == _by_csv(text, ",")


@pytest.mark.parametrize("text", ['a,"b"\n', "a\rb\n", "a,b\r", "a\x00b\n"])
def test_what_only_csv_reader_reads_right_is_left_to_it(text: str) -> None:
    assert _cut(text, ",", 2) is None


def test_a_cell_longer_than_csvs_limit_is_left_to_csv_reader() -> None:
    """csv.reader refuses a cell longer than its limit (a process-wide setting, which a
    library may raise): a piece with a line that long is left to it, to be refused."""
    previous = csv.field_size_limit(1000)
    try:
        long = "a," + "x" * 1001 + "\n"
        assert _cut(long, ",", 2) is None
        with pytest.raises(csv.Error):
            _by_csv(long, ",")
        assert _cut("a," + "x" * 990 + "\n", ",", 2) is not None
    finally:
        csv.field_size_limit(previous)


def _file_rows(path: Path, encoding: str) -> list[tuple[int, list[str]]]:
    """The rows of a CSV file as csv.reader alone reads them, numbered from 2."""
    with path.open(encoding=encoding, newline="") as f:
        records = list(csv.reader(f, strict=True))
    return list(enumerate(records[1:], 2))


TRICKY = (
    "key,name,public\r\n"
    + "".join(f"p{i},Name {i},false\r\n" for i in range(40))
    + "\n"  # a blank line
    + "p40,short\n"
    + "p41,Иван Петров,true,extra\n"
    + "".join(f"p{i},Name {i},false\n" for i in range(42, 80))
    + 'p80,"Petrov, Ivan\non two lines",true\n'  # from here on csv.reader
    + "".join(f"p{i},Name {i},false\n" for i in range(81, 120))
)


@pytest.mark.parametrize("chunk", [16, 100, 1 << 20])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_a_file_read_in_pieces_gives_what_csv_reader_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, encoding: str
) -> None:
    monkeypatch.setattr(loaders.reading, "_CHUNK", chunk)
    path = tmp_path / "persons.csv"
    path.write_bytes(TRICKY.encode(encoding))
    expected = _file_rows(path, encoding)
    [by_rows] = list(read_tables(path))
    assert [(n, list(r)) for n, r in by_rows.rows] == expected
    [by_blocks] = list(read_tables(path))
    assert by_blocks.blocks is not None
    got = [(first + i, row) for first, block in by_blocks.blocks(7) for i, row in enumerate(block)]
    assert got == expected
    [by_columns] = list(read_tables(path))
    assert by_columns.column_blocks is not None
    got = []
    taken = 0
    for first, rows, columns in by_columns.column_blocks(7, 3):
        if columns is not None:
            taken += 1
            assert all(len(c) == len(columns[0]) for c in columns) and len(columns) == 3
            rows = [list(r) for r in zip(*columns, strict=True)]
        assert rows is not None
        got.extend(enumerate(rows, first))
    assert got == expected
    # plain lines before the quote's piece came as columns (in one piece, none did)
    assert taken >= 5 if chunk < 1000 else taken == 0


@pytest.mark.parametrize("chunk", [16, 1 << 20])
def test_a_row_that_does_not_parse_after_cut_pieces_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(loaders.reading, "_CHUNK", chunk)
    path = tmp_path / "persons.csv"
    good = "".join(f"p{i},Name {i}\n" for i in range(300))
    path.write_text(f'key,name\n{good}\np300,"unclosed" quote\n', encoding="utf-8")
    with pytest.raises(LoadError) as e:
        list(next(read_tables(path)).rows)
    assert "row 303 (line 303)" in str(e.value)


def _check(paths: list[Path]) -> tuple[list[Any], list[Any], int]:
    with tempfile.TemporaryFile() as spill:
        check = _Check(None, spill, None)
        with _young_gc_only():
            check.run(paths, None)
        return list(check._spilled()), check.problems, check.rows_read


def test_a_load_of_cut_pieces_is_the_load_of_csv_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything a load's check finds and keeps, with pieces cut (and given to the block
    check as columns), is what it finds and keeps with every line through csv.reader."""
    monkeypatch.setattr(loaders.reading, "_CHUNK", 4096)
    (tmp_path / "sources.csv").write_text("key,title,type\nbench,B,other\n", encoding="utf-8")
    (tmp_path / "persons.csv").write_text(
        TRICKY
        + "".join(
            f"q{i},Name {i % 7},{'yes' if i % 5 else 'maybe'}\n" for i in range(2000)
        )
        + "q5,Other name,no\n",  # a repeated id with another name: a conflict
        encoding="utf-8",
    )
    (tmp_path / "relationships.csv").write_text(
        "from,type,to,role,sources\n"
        + "".join(
            f"Person:q{i},WORKS_AT,Institution:s{i % 3},teacher,"
            f"{'bench' if i % 50 else 'nosuch'}\n"
            for i in range(2000)
        ),
        encoding="utf-8",
    )
    (tmp_path / "institutions.csv").write_text(
        "key,name\ns0,School 0\ns1,School 1\n", encoding="utf-8"
    )
    paths = [tmp_path / f"{n}.csv" for n in ("sources", "institutions", "persons", "relationships")]
    cut = _check(paths)
    monkeypatch.setattr(loaders.reading, "_cut", lambda text, delimiter, width: None)
    whole = _check(paths)
    assert cut == whole
    assert cut[1]  # problems were found (bad flags, a missing source, a conflict, ...)
    assert len(cut[0]) > 3000
