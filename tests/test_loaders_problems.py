"""How problems are shown: a table on the terminal, sorted by place and aligned, and the
full list, in finding order, in the ``--report`` CSV."""

from __future__ import annotations

import csv
import io

from loaders.problems import Problem, format_problems, problems_csv

FOUND = [  # in the order a load finds them: node sheets first, then relationships
    Problem("institutions.csv", "institutions", 12, "sector", "galactic", "not one of: education"),
    Problem("relationships.csv", "relationships", 3, "to", "Authority:x", "names a node …"),
    Problem("book.xlsx", "Связи", None, None, None, "5 more formula cells"),
    Problem("institutions.csv", "institutions", 3, "name", "Школа\nдва", "also on row 2"),
]


def test_problems_are_a_table_sorted_by_file_sheet_and_row() -> None:
    lines = format_problems(FOUND).splitlines()
    assert lines == [
        "  file               sheet          row  column  value        reason",
        "  book.xlsx          Связи                                    5 more formula cells",
        "  institutions.csv   institutions     3  name    Школа⏎два    also on row 2",
        "  institutions.csv   institutions    12  sector  galactic     not one of: education",
        "  relationships.csv  relationships    3  to      Authority:x  names a node …",
    ]


def test_a_long_list_is_cut_with_a_line_saying_how_many_more() -> None:
    many = [
        Problem("persons.csv", "persons", row, "key", None, "the key is empty")
        for row in range(200, 1, -1)
    ]
    lines = format_problems(many, limit=50).splitlines()
    assert len(lines) == 1 + 50 + 1
    assert [line.split()[2] for line in lines[1:4]] == ["2", "3", "4"]  # the first rows
    assert lines[-1] == "  … and 149 more (--report problems.csv lists every one)"
    assert format_problems(many[:50], limit=50).splitlines()[-1].split()[2] == "200"


def test_long_cells_are_clipped_and_the_reason_is_whole() -> None:
    reason = "a long reason " * 10
    [_, line] = format_problems(
        [Problem("f.csv", "f", 2, "c" * 40, "v" * 100, reason)]
    ).splitlines()
    assert "c" * 23 + "…" in line and "v" * 29 + "…" in line
    assert line.endswith(reason.rstrip())


def test_the_report_csv_keeps_every_problem_in_finding_order() -> None:
    rows = list(csv.reader(io.StringIO(problems_csv(FOUND))))
    assert rows[0] == ["file", "sheet", "row", "column", "value", "reason"]
    assert [r[:3] for r in rows[1:]] == [
        ["institutions.csv", "institutions", "12"],
        ["relationships.csv", "relationships", "3"],
        ["book.xlsx", "Связи", ""],
        ["institutions.csv", "institutions", "3"],
    ]
