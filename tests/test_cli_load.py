"""The load, template and synth commands."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from graph_service.cli import main
from graph_service.storage.sqlite import SqliteStore
from schema import NODE_KINDS


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_load_rejects_and_writes_a_csv_report(tmp_path: Path) -> None:
    data = tmp_path / "institutions.csv"
    data.write_text("key,sector\ns1,education\ns2,galactic\n", encoding="utf-8")
    report = tmp_path / "problems.csv"
    db = tmp_path / "g.db"
    code, _, err = run("load", str(data), "--store", f"sqlite:///{db}", "--report", str(report))
    assert code == 1
    assert re.search(r"\n  institutions\.csv +institutions +3 +sector +galactic +\S", err), err
    assert "nothing was written" in err
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert rows == [
        {
            "file": "institutions.csv",
            "sheet": "institutions",
            "row": "3",
            "column": "sector",
            "value": "galactic",
            "reason": rows[0]["reason"],
        }
    ]
    assert SqliteStore(db).stats().node_count == 0


def test_load_skip_invalid_prints_a_summary_per_kind(tmp_path: Path) -> None:
    data = tmp_path / "institutions.csv"
    data.write_text("key,sector\ns1,education\ns2,galactic\n", encoding="utf-8")
    db = tmp_path / "g.db"
    code, out, err = run("load", str(data), "--store", f"sqlite:///{db}", "--skip-invalid")
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.startswith("Institution"))
    assert line.split() == ["Institution", "1", "0", "0", "1"]
    assert "\r" not in err  # no progress line when output is not a terminal


def test_load_dry_run_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "authorities.csv"
    data.write_text("key,name\ndip,D\n", encoding="utf-8")
    db = tmp_path / "g.db"
    code, out, _ = run("load", str(data), "--store", f"sqlite:///{db}", "--dry-run")
    assert code == 0 and "Dry run" in out
    assert SqliteStore(db).stats().node_count == 0


def test_load_with_mapping(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    db = tmp_path / "g.db"
    code, _out, err = run(
        "load",
        str(examples / "sources.csv"),
        str(examples / "staff-list.csv"),
        "--mapping",
        str(examples / "staff-list.mapping.yaml"),
        "--store",
        f"sqlite:///{db}",
    )
    assert code == 0, err
    assert SqliteStore(db).stats().nodes_by_kind["Person"] == 3


def test_template_xlsx_has_every_sheet_headers_example_and_dropdowns(tmp_path: Path) -> None:
    target = tmp_path / "t.xlsx"
    code, _, _ = run("template", str(target))
    assert code == 0
    book = CalamineWorkbook.from_path(str(target))
    assert book.sheet_names == [k.sheet for k in NODE_KINDS] + ["relationships"]
    rows = book.get_sheet_by_name("institutions").to_python()
    assert rows[0][:3] == ["key", "name", "inn"] and len(rows) == 2
    import zipfile

    with zipfile.ZipFile(target) as z:
        sheet_xml = z.read("xl/worksheets/sheet2.xml").decode()
    assert "<dataValidation" in sheet_xml and "education" in sheet_xml


def test_template_folder_loads_back(tmp_path: Path) -> None:
    code, _, _ = run("template", str(tmp_path / "t"))
    assert code == 0
    db = tmp_path / "g.db"
    code, _out, err = run(
        "load", *map(str, sorted((tmp_path / "t").glob("*.csv"))), "--store", f"sqlite:///{db}"
    )
    assert code == 0, err


def test_synth_is_reproducible_labelled_and_loads(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("synth", "--regions", "2", "--seed", "5", "--institutions", "6", str(a))[0] == 0
    assert run("synth", "--regions", "2", "--seed", "5", "--institutions", "6", str(b))[0] == 0
    for path in a.glob("*.csv"):
        assert path.read_bytes() == (b / path.name).read_bytes()
    sources = (a / "sources.csv").read_text(encoding="utf-8")
    assert "SYNTHETIC" in sources
    for path in a.glob("*.csv"):
        for row in csv.DictReader(path.open(encoding="utf-8")):
            assert row["sources"] == "synthetic"
    db = tmp_path / "g.db"
    code, _, err = run("load", *map(str, sorted(a.glob("*.csv"))), "--store", f"sqlite:///{db}")
    assert code == 0, err
    stats = SqliteStore(db).stats()
    assert stats.relationships_by_type["RELAYS"] == 2 + 2 * 5
    assert stats.nodes_by_kind["Institution"] == 12


def test_load_can_write_while_checking(tmp_path: Path) -> None:
    data = tmp_path / "institutions.csv"
    data.write_text("key,sector\ns1,education\ns2,health\n", encoding="utf-8")
    db = tmp_path / "g.db"
    code, out, err = run("load", str(data), "--store", f"sqlite:///{db}", "--write-ahead")
    assert code == 0, err
    assert "while writing, committed in" in out
    assert SqliteStore(db).stats().node_count == 2
    code, out, err = run("load", str(data), "--store", f"sqlite:///{db}", "--no-write-ahead")
    assert code == 0, err
    assert ", written in" in out
