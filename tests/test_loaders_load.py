"""Validation before writing, skipping exactly the reported rows, dry runs, re-runs,
provenance across files, mappings, and normalized values."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_service.storage.sqlite import SqliteStore
from loaders.load import load_files
from loaders.mapping import MappingError, load_mapping
from loaders.problems import LoadRejected
from loaders.values import parse_cell, parse_date
from schema import NODE_KIND_BY_NAME

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SOURCES = "key,title,type\nrep,A report,article\nleak,A leak,leak\n"


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(tmp_path / "g.db")
    yield s  # type: ignore[misc]
    s.close()


def files(tmp_path: Path, **contents: str) -> list[Path]:
    paths = []
    for name, text in contents.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


BAD = {
    "sources": SOURCES,
    "authorities": "key,name,level,sources\ndip,Department,regional,rep\nbad,X,galactic,rep\n",
    "institutions": (
        "key,name,sources\ns1,School,rep\ns1,Other name,rep\n,no key,rep\ns2,School 2,nosuch\n"
    ),
    "relationships": (
        "from,type,to,sources\n"
        "Institution:s1,SUBORDINATE_TO,Authority:dip,rep\n"
        "Institution:s1,SUBORDINATE_TO,Authority:ghost,rep\n"
        "Authority:dip,WORKS_AT,Institution:s1,rep\n"
        "Institution:s2,SUBORDINATE_TO,Authority:dip,rep\n"
    ),
}


def test_every_problem_is_reported_at_once_and_nothing_is_written(
    tmp_path: Path, store: SqliteStore
) -> None:
    with pytest.raises(LoadRejected) as e:
        load_files(files(tmp_path, **BAD), store)
    found = {(p.file, p.row, p.column): p for p in e.value.problems}
    assert "not one of" in found["authorities.csv", 3, "level"].reason  # bad enum
    assert "is also on institutions.csv" in found["institutions.csv", 3, "name"].reason  # conflict
    assert "key is empty" in found["institutions.csv", 4, "key"].reason  # missing key
    assert "cites a source" in found["institutions.csv", 5, "sources"].reason
    assert "neither in this load" in found["relationships.csv", 3, "to"].reason  # endpoint
    assert "cannot start at an Authority" in found["relationships.csv", 4, "from"].reason
    assert "own row has a problem" in found["relationships.csv", 5, "from"].reason
    # the row named is the one that would have defined the node (it cites a missing source)
    assert found["relationships.csv", 5, "from"].reason.endswith(
        ": institutions.csv [institutions] row 5"
    )
    assert len(e.value.problems) == 7
    assert store.stats().node_count == 0 and store.version() == 0


def test_skip_invalid_skips_exactly_the_reported_rows(tmp_path: Path, store: SqliteStore) -> None:
    result = load_files(files(tmp_path, **BAD), store, skip_invalid=True)
    reported = {(p.file, p.row) for p in result.skipped}
    assert len(reported) == 7
    origins = {o for n in store.find_nodes(first=100).items for o in n.provenance.origins}
    origins |= {o for r in store.relationships().items for o in r.provenance.origins}
    loaded = {(o.split("#")[0], int(o.rsplit("!", 1)[1])) for o in origins}
    all_rows = {(f"{k}.csv", r) for k, v in BAD.items() for r in range(2, v.count("\n") + 1)}
    assert loaded == all_rows - reported
    assert result.skipped_rows["Institution"] == 3


def test_dry_run_counts_and_writes_nothing(tmp_path: Path, store: SqliteStore) -> None:
    paths = files(tmp_path, sources=SOURCES, authorities="key,name,sources\ndip,D,rep\n")
    result = load_files(paths, store, dry_run=True)
    assert result.counts() == {"Source": 2, "Authority": 1}
    assert store.stats().node_count == 0 and store.version() == 0


def test_rerunning_a_load_changes_nothing(tmp_path: Path, store: SqliteStore) -> None:
    paths = files(
        tmp_path,
        sources=SOURCES,
        authorities="key,name,sources\ndip,D,rep\n",
        relationships="from,type,to\nAuthority:dip,OPERATES,Platform:p\n",
        platforms="key,name\np,Portal\n",
    )
    load_files(paths, store)
    version = store.version()
    again = load_files(paths, store)
    assert sum(again.summary.unchanged.values()) == 5
    assert again.summary.total_written == 0 and store.version() == version


def test_a_repeated_fact_adds_the_second_source(tmp_path: Path, store: SqliteStore) -> None:
    first = tmp_path / "a"
    second = tmp_path / "b"
    first.mkdir()
    second.mkdir()
    load_files(files(first, sources=SOURCES, authorities="key,name,sources\ndip,D,rep\n"), store)
    load_files(
        files(second, authorities="key,name,sources,evidence\ndip,D,leak,documented\n"), store
    )
    node = store.get_node("Authority:dip")
    assert node.provenance.sources == ("Source:rep", "Source:leak")
    assert node.provenance.evidence == "documented"
    # the same file name in two folders gives one origin string; the sources accumulate
    assert node.provenance.origins == ("authorities.csv#authorities!2",)


def test_provenance_records_file_sheet_and_row(tmp_path: Path, store: SqliteStore) -> None:
    load_files(
        files(tmp_path, sources=SOURCES, persons="key,public,sources\np-1,false,rep;leak\n"), store
    )
    node = store.get_node("Person:p-1")
    assert node.provenance.origins == ("persons.csv#persons!2",)
    assert node.provenance.sources == ("Source:rep", "Source:leak")


def test_relationship_may_name_a_node_already_in_the_store(
    tmp_path: Path, store: SqliteStore
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    load_files(files(a, authorities="key,name\ndip,D\n", platforms="key\np\n"), store)
    result = load_files(
        files(b, relationships="from,type,to\nAuthority:dip,OPERATES,Platform:p\n"), store
    )
    assert result.counts() == {"OPERATES": 1}


def test_inn_wins_and_relationships_may_use_the_slug(tmp_path: Path, store: SqliteStore) -> None:
    load_files(
        files(
            tmp_path,
            institutions="key,ИНН\nschool-1,4826012345\n",
            authorities="key\ndip\n",
            relationships="from,type,to\nInstitution:school-1,SUBORDINATE_TO,Authority:dip\n",
        ),
        store,
    )
    assert store.get_node("Institution:4826012345") is not None
    [rel] = store.relationships().items
    assert rel.source == "Institution:4826012345"


def test_headers_match_in_both_languages_whatever_the_case(
    tmp_path: Path, store: SqliteStore
) -> None:
    load_files(
        files(
            tmp_path, institutions='КЛЮЧ,  Tax_ID ,Наименование,ШТАТ\nx,4826012345,Школа,"1 200"\n'
        ),
        store,
    )
    node = store.get_node("Institution:4826012345")
    assert node.properties == {"inn": "4826012345", "name": "Школа", "staff_count": 1200}


@pytest.mark.parametrize(
    ("cell", "iso"),
    [
        ("16.08", "--08-16"),
        ("16.08.2023", "2023-08-16"),
        ("2023-08", "2023-08"),
        ("2023", "2023"),
        (45154, "2023-08-16"),
        (45154.0, "2023-08-16"),
        ("45154", "2023-08-16"),
        ("16 августа", "--08-16"),
        ("August 16, 2023", "2023-08-16"),
        ("08.2023", "2023-08"),
    ],
)
def test_dates_keep_the_precision_given(cell: object, iso: str) -> None:
    assert parse_date(cell) == iso  # type: ignore[arg-type]


def test_values_are_normalized() -> None:
    inst = NODE_KIND_BY_NAME["Institution"]
    person = NODE_KIND_BY_NAME["Person"]
    staff = inst.property("staff_count")
    public = person.property("public")
    name = person.property("name")
    assert staff and public and name
    assert parse_cell("Institution", staff, " 1\u00a0250 ") == 1250
    assert parse_cell("Person", public, "Да") is True
    assert parse_cell("Person", public, "нет") is False
    assert parse_cell("Person", name, "  Ёлкин Rene\u0301  ") == "Ёлкин Ren\u00e9"


def test_staff_list_mapping_gives_person_institution_and_works_at(store: SqliteStore) -> None:
    result = load_files(
        [EXAMPLES / "sources.csv", EXAMPLES / "staff-list.csv"],
        store,
        mapping=EXAMPLES / "staff-list.mapping.yaml",
    )
    assert result.counts() == {"Source": 2, "Person": 3, "Institution": 3, "WORKS_AT": 3}
    assert dict(store.stats().nodes_by_kind) == {"Source": 2, "Person": 3, "Institution": 2}
    persons = store.find_nodes("Person", first=10).items
    assert all(p.key.startswith("h") and len(p.key) == 21 for p in persons)
    assert all(p.properties["public"] is False for p in persons)
    names = {p.properties["name"] for p in persons}
    assert all(part not in p.key for p in persons for n in names for part in n.split())
    heads = [r for r in store.relationships().items if r.properties.get("head") is True]
    assert len(heads) == 1 and heads[0].properties["role"] == "директор"
    assert all(p.provenance.sources == ("Source:example-staff-leak",) for p in persons)
    # keys are stable: loading again changes nothing
    again = load_files(
        [EXAMPLES / "sources.csv", EXAMPLES / "staff-list.csv"],
        store,
        mapping=EXAMPLES / "staff-list.mapping.yaml",
    )
    assert again.summary.total_written == 0


def test_incident_mapping_builds_directives(store: SqliteStore) -> None:
    load_files(
        [EXAMPLES / "sources.csv", EXAMPLES / "incidents.csv"],
        store,
        mapping=EXAMPLES / "incidents.mapping.yaml",
    )
    directive = store.get_node("Directive:incident-1")
    assert directive.properties["deadline"] == "--08-16"
    assert directive.properties["wording"] == "strongly recommended"
    assert directive.provenance.evidence == "reported"
    assert len(store.relationships(["TARGETS"]).items) == 2


def test_a_mapping_must_account_for_every_column(tmp_path: Path, store: SqliteStore) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "sheets:\n  - match: staff\n    nodes:\n      p:\n        kind: Person\n"
        "        key: {hash: [Name]}\n        properties: {name: Name}\n",
        encoding="utf-8",
    )
    data = tmp_path / "staff.csv"
    data.write_text("Name,Salary\nA B,100\n", encoding="utf-8")
    with pytest.raises(LoadRejected) as e:
        load_files([data], store, mapping=mapping)
    assert e.value.problems[0].column == "Salary"
    assert "neither loads nor ignores" in e.value.problems[0].reason


def test_a_bad_mapping_says_where(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("sheets:\n  - nodes:\n      p: {kind: Persn, key: X}\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"sheets\[0\]\.nodes\.p: kind 'Persn'"):
        load_mapping(mapping)


def test_a_control_character_in_a_text_cell_is_a_problem(tmp_path: Path) -> None:
    bad = tmp_path / "authorities.csv"
    bad.write_text("key,name\na,Dept\x07One\nb,Line\tTab\n", encoding="utf-8")
    with pytest.raises(LoadRejected) as caught:
        load_files([bad], None, dry_run=True)
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [(2, "name")]
    assert "control character" in problems[0].reason
