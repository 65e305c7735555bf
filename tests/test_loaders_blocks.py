"""Checking rows a block at a time, column by column (``loaders.template_blocks``), gives
exactly what checking them one by one gives: the same records for good rows, and any block
with a row that is not plainly good goes row by row, where problems are worded."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Any

import pytest

import loaders.load
from graph_service.storage.sqlite import SqliteStore
from loaders.background_write import RowBatches
from loaders.load import load_files
from loaders.problems import LoadRejected
from loaders.reading import Cell, Table
from loaders.template_blocks import block_parser, props_digest
from loaders.template_format import Packed, Resolver, RowParser, compile_table
from tests.test_loaders_bulk_write import contents, outcome, write_files
from tests.test_loaders_fastpath import INSTITUTIONS, PERSONS, RELATIONSHIPS, _rows, _tables

#: Rows every one of which is good: blocks of them must take the block path.
GOOD = {
    "persons": [
        ["key", "name", "public", "position", "sources", "evidence", "aliases"],
        ["p1", "Employee Q1", "false", "teacher", "bench", "reported", ""],
        ["p2", "Иван Петров", "true", "Учитель", "bench; s2", "", "И. Петров; Ivan P."],
        ["petrov", "Пётр Петров", "да", "", "", "documented", ""],  # public: may carry the name
        ["p4", "A B C D E F Gee Hhh", "", " head ", "Source:s2", " alleged ", "ABC"],
        ["ключ5", "Cafe\u0301 Owner", "no", "", "bench", "", ""],
    ],
    "institutions": [
        ["key", "inn", "name", "staff_count", "sector"],
        ["s1", "9900000001", "School 1", "120", "education"],
        ["s2", "", "School 2", "", "Education"],
        ["", "9900000003", "School 3", "1 200", ""],
        ["Ш4", "990000000004", "Школа 4", "7", "health"],
    ],
    "relationships": [
        ["from", "type", "to", "role", "head", "received", "key"],
        ["Person:p1", "WORKS_AT", "Institution:s1", "teacher", "false", "", ""],
        [" Person:p2 ", "works at", "Institution:9900000003", "", "yes", "", "k1"],
        ["Person:ключ5", "WORKS_AT", "Institution:s2", "учитель", "", "", ""],
        ["Institution:s1", "SUBORDINATE_TO", "Authority:dep", "", "", "", ""],
        ["Directive:d1", "TARGETS", "Institution:s2", "", "", "16.08.2023", ""],
    ],
}


def _csv(folder: Path, name: str, rows: list[list[str]]) -> Path:
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def _by_blocks(
    parser: RowParser, rows: list[tuple[int, list[Cell]]], size: int
) -> tuple[list[tuple[list[Packed], list[Any]]], int]:
    """Every row's outcome as the load gets it: blocks of ``size`` on the block path,
    row by row where a block declines; and how many blocks took the block path."""
    blocks = block_parser(parser)
    assert blocks is not None
    out: list[tuple[list[Packed], list[Any]]] = []
    taken = 0
    for start in range(0, len(rows), size):
        block = rows[start : start + size]
        numbers = [n for n, _ in block]
        parsed = blocks.parse_block(numbers, [list(r) for _, r in block], "f#s!")
        if parsed is not None:
            taken += 1
            assert len(parsed.rows) == len(block)
            out.extend(([(parsed.tag, *row)], []) for row in parsed.rows)
            if parsed.tag == 0:  # a node's properties: the digest the row path takes
                assert parsed.digests == [props_digest(row[3]) for row in parsed.rows]
            continue
        for number, row in block:
            out.append(parser.parse_packed(number, list(row), f"f#s!{number}"))
    return out, taken


def _one_by_one(parser: RowParser, rows: list[tuple[int, list[Cell]]]) -> list[Any]:
    return [parser.parse_packed(n, list(r), f"f#s!{n}") for n, r in rows]


def _both_ways(table: Table, size: int) -> tuple[list[tuple[list[Packed], list[Any]]], int]:
    """A table's rows by blocks of ``size`` (what ``_by_blocks`` gives), checked equal to
    the same rows one by one, each way with a resolver of its own."""
    data = list(table.rows)
    block_side, row_side = compile_table(table, Resolver()), compile_table(table, Resolver())
    assert isinstance(block_side, RowParser) and isinstance(row_side, RowParser)
    got, taken = _by_blocks(block_side, data, size)
    assert got == _one_by_one(row_side, data)
    return got, taken


@pytest.mark.parametrize("xlsx", [False, True])
@pytest.mark.parametrize("size", [1, 2, 5, 256])
def test_blocks_give_what_rows_give_one_by_one(tmp_path: Path, xlsx: bool, size: int) -> None:
    by_blocks, by_rows = Resolver(), Resolver()
    for name, columns in (
        ("persons", PERSONS),
        ("institutions", INSTITUTIONS),
        ("relationships", RELATIONSHIPS),
    ):
        rows = _rows(columns)
        rows.append(rows[1][:2])  # a short row
        rows.append([""] * len(rows[0]))  # a blank row
        table = _tables(tmp_path, name, rows, xlsx)
        data = list(itertools.islice(table.rows, 10_000))
        block_side = compile_table(table, by_blocks)
        row_side = compile_table(table, by_rows)
        assert isinstance(block_side, RowParser) and isinstance(row_side, RowParser)
        got, _ = _by_blocks(block_side, data, size)
        assert got == _one_by_one(row_side, data)
    assert by_blocks.key_aliases == by_rows.key_aliases


@pytest.mark.parametrize("xlsx", [False, True])
def test_good_rows_take_the_block_path(tmp_path: Path, xlsx: bool) -> None:
    by_blocks, by_rows = Resolver(), Resolver()
    for name, rows in GOOD.items():
        table = _tables(tmp_path, name, rows, xlsx)
        data = list(table.rows)
        block_side = compile_table(table, by_blocks)
        row_side = compile_table(table, by_rows)
        assert isinstance(block_side, RowParser) and isinstance(row_side, RowParser)
        expected = _one_by_one(row_side, data)
        assert all(len(packed) == 1 and not bad for packed, bad in expected), name
        got, taken = _by_blocks(block_side, data, 256)
        assert taken == 1, name
        assert got == expected
    assert by_blocks.key_aliases == by_rows.key_aliases
    assert by_blocks.key_aliases["Institution:s1"] == "Institution:9900000001"


def test_a_private_persons_key_with_their_name_leaves_the_block_path(tmp_path: Path) -> None:
    rows = [*GOOD["persons"], ["x-петров-7", "Пётр Петров", "false", "", "", ""]]
    table = _tables(tmp_path, "persons", rows, False)
    parser = compile_table(table, Resolver())
    assert isinstance(parser, RowParser)
    data = list(table.rows)
    got, taken = _by_blocks(parser, data, 256)
    assert taken == 0
    assert got[-1][1][0][2].startswith("a private person's key must not contain their name")


@pytest.mark.parametrize(
    ("ends", "takes_block_path"),
    [
        (["Person:p1", "Person:p2", "Person:p3"], True),  # one kind throughout
        (["Person:p1", " Person:p2 ", "Person:p3"], True),  # stripped first
        (["Person:p1", "Institution:s1", "Person:p3"], False),  # a kind WORKS_AT refuses
        (["Person:p1", "Person:", "Person:p3"], False),  # an empty key
        (["Person:p1", "Persona:p2", "Person:p3"], False),  # an unknown kind
        (["Person:p1", "Person:p 2", "Person:p3"], False),  # a space in a key
        (["Person:p1", "Person:p2", "p3"], False),  # no kind
        (["Person:p1", "xPerson:p2", "Person:p3"], False),  # the kind inside, not first
        (["Person:p1", "Person:p2", "Person:"], False),  # the last end's key empty
        (["Person:", "Person:p2", "Person:p3"], False),  # the first end's
    ],
)
def test_relationship_ends_are_checked_by_kind_a_block_at_a_time(
    tmp_path: Path, ends: list[str], takes_block_path: bool
) -> None:
    """Each end's kind is split off once per block (one kind for a column that has one),
    and a block whose ends a type does not join goes row by row, where it is reported."""
    rows = [["from", "type", "to"], *([end, "WORKS_AT", "Institution:s1"] for end in ends)]
    mixed = [["from", "type", "to"], *([end, "SUBORDINATE_TO", "Authority:a"] for end in ends)]
    for name, sheet in (("relationships", rows), ("relationships_mixed", mixed)):
        table = _tables(tmp_path, name, sheet, False)
        got, taken = _both_ways(table, 256)
        if name == "relationships":
            assert taken == int(takes_block_path)
            assert all(not bad for _, bad in got) == takes_block_path
        else:  # SUBORDINATE_TO joins institutions (and authorities), never persons
            assert taken == 0


def _loaded(folder: Path, paths: list[Path], **options: Any) -> tuple[Any, ...]:
    """A load's outcome, problems and the graph it wrote, into a fresh embedded store."""
    store = SqliteStore(folder / f"{len(list(folder.glob('*.db')))}.db")
    result = load_files(paths, store, background=False, **options)
    loaded = (outcome(result), [str(p) for p in result.skipped], contents(store))
    store.close()
    return loaded


@pytest.mark.parametrize("bad_row", [False, True])
def test_a_load_by_blocks_equals_a_load_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad_row: bool
) -> None:
    """Repeated ids (merged, or conflicting), a late-bad row, forward references and
    sources defined in the same block: the block path declines where its shortcuts do not
    hold, and the load is the same."""
    paths = write_files(tmp_path / "in", persons=600, bad_row=bad_row)
    extra = tmp_path / "in" / "more"
    extra.mkdir()
    paths += [
        _csv(extra, "persons", [["key", "public", "sources"], ["p5", "false", "rep"]]),
        _csv(extra, "institutions", [["key", "name"], ["s2", "Another name"]]),  # a conflict
        _csv(extra, "sources", [["key", "sources"], ["self", "self"], ["later", "self"]]),
    ]
    by_blocks = _loaded(tmp_path, paths, skip_invalid=True)
    monkeypatch.setattr(loaders.load, "block_parser", lambda parser: None)
    assert _loaded(tmp_path, paths, skip_invalid=True) == by_blocks
    assert by_blocks[0][0]["Person"] == 601
    assert any("Another name" in p for p in by_blocks[1])


def test_a_rejected_load_by_blocks_reports_what_row_by_row_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_files(tmp_path / "in", persons=600, bad_row=True)
    paths.append(_csv(tmp_path, "persons", [["key", "public"], ["p 9", "maybe"]]))
    with pytest.raises(LoadRejected) as by_blocks:
        load_files(paths, None, dry_run=True)
    monkeypatch.setattr(loaders.load, "block_parser", lambda parser: None)
    with pytest.raises(LoadRejected) as by_rows:
        load_files(paths, None, dry_run=True)
    assert [str(p) for p in by_blocks.value.problems] == [str(p) for p in by_rows.value.problems]
    assert len(by_rows.value.problems) == 3


def test_rows_in_blocks_are_written_in_the_batches_rows_one_by_one_make() -> None:
    """A batch ends right after the row that fills it, however the rows arrive."""
    rows = [(f"Person:p{i}", "Person", f"p{i}", {}, (), None, ()) for i in range(23)]
    for size in (1, 4, 7, 23, 50):
        by_row: list[Any] = []
        one_by_one = RowBatches(size, lambda n, r, out=by_row: out.append((n, r)))
        mapped = [
            (0, *rows[0]),
            (1, "Person:p0", "WORKS_AT", "Institution:i", "", {}, (), None, ()),
        ]
        one_by_one.add_row(mapped)  # a mapped row: two records
        for row in rows:
            one_by_one.add_row([(0, *row)])
        one_by_one.flush()
        by_block: list[Any] = []
        blocks = RowBatches(size, lambda n, r, out=by_block: out.append((n, r)))
        blocks.add_chunk([(7, mapped), ([1, 2, 3], 0, rows[:3]), (list(range(20)), 0, rows[3:])])
        blocks.flush()
        assert by_block == by_row
        assert blocks.rows == one_by_one.rows == 24


@pytest.mark.parametrize("xlsx", [False, True])
@pytest.mark.parametrize(
    ("public", "sources", "evidence"),
    [
        ("false", "bench", "reported"),  # each column one value throughout
        ("да", "bench; s2", " alleged "),  # converted, not kept as typed
        ("true", "", ""),  # blank throughout
        ("maybe", "bench", "reported"),  # one bad value throughout: reported on every row
        ("false", "bench", "rumour"),
    ],
)
def test_a_column_of_one_value_throughout_gives_what_each_row_gives(
    tmp_path: Path, xlsx: bool, public: str, sources: str, evidence: str
) -> None:
    """A column whose cells are one text throughout is converted once for the block (see
    ``memo_column``); the records, and the problems of the rows, are those of the rows one
    by one (a workbook's yes/no cells are not text, and take the per-cell way)."""
    rows = [["key", "name", "public", "sources", "evidence"]]
    rows += [[f"p{i}", f"Name Q{i}", public, sources, evidence] for i in range(300)]
    table = _tables(tmp_path, "persons", rows, xlsx)
    got, taken = _both_ways(table, 128)
    good = public != "maybe" and evidence != "rumour"
    assert taken == (3 if good else 0)
    assert all(not bad for _, bad in got) == good


@pytest.mark.parametrize("position", [0, 1, 3, 4, 6])
@pytest.mark.parametrize("public", ["false", "true"])
@pytest.mark.parametrize("key", ["x-{}-1", "x{}1", "X{}1"])
def test_a_private_key_with_any_word_of_the_name_is_found_in_a_block(
    tmp_path: Path, position: int, public: str, key: str
) -> None:
    """Names of different lengths in one block: a key carrying the word at any position
    of a private person's name sends the block row by row, where it is reported; a public
    person's key may carry it."""
    words = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf"]
    rows = [["key", "name", "public"]]
    rows += [[f"k{i}", " ".join(words[: 1 + i % 7]) + f" Q{i}", "false"] for i in range(40)]
    word = words[position].upper() if key.startswith("X") else words[position].lower()
    rows.append([key.format(word), " ".join(words), public])
    rows += [[f"m{i}", f"Mike Q{i}", "false"] for i in range(10)]
    table = _tables(tmp_path, "persons", rows, False)
    got, taken = _both_ways(table, 256)
    assert taken == (public == "true")
    problems = [bad for _, bad in got if bad]
    if public == "false":
        [[(column, _, reason)]] = problems
        assert column == "key" and "must not contain their name" in reason
    else:
        assert not problems


def test_a_block_of_several_relationship_types_is_counted_by_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block whose rows are of several types (or cite several source lists, one of
    them missing) is counted, and its references settled, as its rows one by one are."""
    paths = [
        _csv(tmp_path, "sources", [["key", "title"], ["rep", "R"], ["leak", "L"]]),
        _csv(tmp_path, "authorities", [["key", "name"], ["dep", "Department"]]),
        _csv(tmp_path, "institutions", [["key", "name"], *([f"s{i}", f"S{i}"] for i in range(9))]),
        _csv(tmp_path, "persons", [["key", "name"], *([f"p{i}", f"Q{i}"] for i in range(30))]),
        _csv(
            tmp_path,
            "relationships",
            [
                ["from", "type", "to", "sources"],
                *(
                    [f"Person:p{i}", "WORKS_AT", f"Institution:s{i % 9}", "rep" if i < 29 else "x"]
                    if i % 3
                    else [f"Institution:s{i % 9}", "SUBORDINATE_TO", "Authority:dep", "leak"]
                    for i in range(30)
                ),
            ],
        ),
    ]
    by_blocks = load_files(paths, None, dry_run=True, skip_invalid=True)
    assert by_blocks.counts()["WORKS_AT"] == 19 and by_blocks.counts()["SUBORDINATE_TO"] == 10
    [problem] = by_blocks.skipped
    assert (problem.row, problem.column, problem.value) == (31, "sources", "Source:x")
    monkeypatch.setattr(loaders.load, "block_parser", lambda parser: None)
    by_rows = load_files(paths, None, dry_run=True, skip_invalid=True)
    assert by_rows.counts() == by_blocks.counts() and by_rows.skipped == by_blocks.skipped
