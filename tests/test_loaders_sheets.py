"""Sheets as registers arrive: Russian headers beyond the template's own words, and a
workbook in which one sheet named after a kind was left empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import xlsxwriter

from graph_service.storage.sqlite import SqliteStore
from loaders.load import load_files
from loaders.problems import LoadRejected


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "g.db")
    yield s
    s.close()


@pytest.mark.parametrize("header", ["Сектор", "СФЕРА", "отрасль", "Sector"])
def test_the_sector_column_is_understood_in_russian(
    tmp_path: Path, store: SqliteStore, header: str
) -> None:
    path = tmp_path / "учреждения.csv"
    path.write_text(f"ИНН;Наименование;{header}\n4826000001;Школа;education\n", encoding="cp1251")
    load_files([path], store)
    school = store.get_node("Institution:4826000001")
    assert school is not None and school.properties["sector"] == "education"


def test_an_empty_sheet_named_after_a_kind_is_reported(
    tmp_path: Path, store: SqliteStore
) -> None:
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("institutions").write_row(0, 0, ["key", "name"])
    book.get_worksheet_by_name("institutions").write_row(1, 0, ["s1", "School"])
    book.add_worksheet("persons")  # left empty: no header, no rows
    book.close()
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    [problem] = e.value.problems
    assert problem.sheet == "persons" and "empty" in problem.reason
    assert store.stats().node_count == 0


def test_a_header_only_sheet_and_a_spare_empty_sheet_load_without_a_word(
    tmp_path: Path, store: SqliteStore
) -> None:
    """A kind's sheet with its header and no rows is a template sheet with nothing to add
    (as a CSV file with only its header line is), and an empty sheet named after no kind
    (Excel's ``Sheet2``) was never meant to hold data: neither is a problem."""
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("institutions").write_row(0, 0, ["key", "name"])
    book.get_worksheet_by_name("institutions").write_row(1, 0, ["s1", "School"])
    book.add_worksheet("persons").write_row(0, 0, ["key", "name"])
    book.add_worksheet("Sheet2")
    book.close()
    result = load_files([path], store)
    assert result.counts() == {"Institution": 1}
    assert result.skipped == []


def test_a_workbook_whose_only_sheet_is_empty_is_reported_once(
    tmp_path: Path, store: SqliteStore
) -> None:
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("institutions")
    book.add_worksheet("Sheet2")
    book.close()
    with pytest.raises(LoadRejected) as e:
        load_files([path], store)
    [problem] = e.value.problems
    assert (problem.file, problem.sheet) == ("book.xlsx", "institutions")
    assert "empty" in problem.reason


def test_every_sheet_of_an_ods_workbook_in_one_load(tmp_path: Path, store: SqliteStore) -> None:
    from tests.test_loaders_reading import write_ods

    path = write_ods(
        tmp_path / "book.ods",
        {
            "Органы власти": [["Ключ", "Название", "Уровень"], ["dip", "Департамент", "regional"]],
            "учреждения": [["key", "name", "инн"], ["s1", "Школа", "4826000001"]],
            "Связи": [["от", "тип", "к"], ["Institution:s1", "SUBORDINATE_TO", "Authority:dip"]],
        },
    )
    result = load_files([path], store)
    assert result.counts() == {"Authority": 1, "Institution": 1, "SUBORDINATE_TO": 1}
    [edge] = store.neighbors("Authority:dip").items
    assert edge.node.id == "Institution:4826000001"
    assert edge.relationship.provenance.origins == ("book.ods#Связи!2",)


def test_a_relationship_to_a_node_whose_row_is_bad_points_at_that_row(
    tmp_path: Path, store: SqliteStore
) -> None:
    (tmp_path / "institutions.csv").write_text(
        "key,name,sector\ns1,A,education\ns2,B,rocketry\n", encoding="utf-8"
    )
    (tmp_path / "authorities.csv").write_text("key,name\ndip,D\n", encoding="utf-8")
    (tmp_path / "relationships.csv").write_text(
        "from,type,to\nInstitution:s2,SUBORDINATE_TO,Authority:dip\n", encoding="utf-8"
    )
    with pytest.raises(LoadRejected) as e:
        load_files(sorted(tmp_path.glob("*.csv")), store)
    [endpoint] = [p for p in e.value.problems if p.file == "relationships.csv"]
    assert "neither in this load" not in endpoint.reason
    assert "institutions.csv" in endpoint.reason and "row 3" in endpoint.reason


def test_a_relationship_to_a_node_whose_inn_is_bad_points_at_its_row(
    tmp_path: Path, store: SqliteStore
) -> None:
    """A bad INN leaves the row without a key; a relationship may name its node by the
    slug in the key column (which a good INN would have replaced) or by the INN as
    written: either way it is pointed at that row, while a node named nowhere at all is
    still said to be nowhere."""
    (tmp_path / "institutions.csv").write_text(
        "key,name,inn\ns1,A,4826000001\ns2,B,48260\n", encoding="utf-8"
    )
    (tmp_path / "authorities.csv").write_text("key,name\ndip,D\n", encoding="utf-8")
    (tmp_path / "relationships.csv").write_text(
        "from,type,to\n"
        "Institution:s2,SUBORDINATE_TO,Authority:dip\n"
        "Institution:48260,SUBORDINATE_TO,Authority:dip\n"
        "Institution:s9,SUBORDINATE_TO,Authority:dip\n",
        encoding="utf-8",
    )
    with pytest.raises(LoadRejected) as e:
        load_files(sorted(tmp_path.glob("*.csv")), store)
    found = {p.row: p.reason for p in e.value.problems if p.file == "relationships.csv"}
    assert found[2].endswith("institutions.csv [institutions] row 3")
    assert found[3].endswith("institutions.csv [institutions] row 3")
    assert "neither in this load nor in the store" in found[4]
    assert store.stats().node_count == 0


def test_a_relationship_to_a_node_of_a_bad_mapped_row_points_at_that_row(
    tmp_path: Path, store: SqliteStore
) -> None:
    """A mapped row (one staff-list row: a Person, an Institution, a WORKS_AT) that is bad
    takes its nodes with it; a relationship elsewhere naming one is pointed at that row."""
    examples = Path(__file__).resolve().parents[1] / "examples"
    staff = tmp_path / "staff.csv"
    staff.write_text(
        "ФИО,Дата рождения,Должность,Руководитель,Учреждение,ИНН,Телефон\n"
        "Иванова Анна,12.03.1980,директор,да,Школа № 1,4826000001,\n"
        "Петров Иван,01.02.1975,учитель,может быть,Школа № 2,4826000002,\n",
        encoding="utf-8",
    )
    (tmp_path / "authorities.csv").write_text("key,name\ndip,D\n", encoding="utf-8")
    (tmp_path / "relationships.csv").write_text(
        "from,type,to\nInstitution:4826000002,SUBORDINATE_TO,Authority:dip\n", encoding="utf-8"
    )
    with pytest.raises(LoadRejected) as e:
        load_files(
            [examples / "sources.csv", staff, tmp_path / "authorities.csv",
             tmp_path / "relationships.csv"],
            store,
            mapping=examples / "staff-list.mapping.yaml",
        )
    [endpoint] = [p for p in e.value.problems if p.file == "relationships.csv"]
    assert endpoint.reason.endswith("staff.csv [staff] row 3"), endpoint.reason
    assert store.stats().node_count == 0
