"""FollowTheMoney export and import: FtM's own validation accepts every entity, and a
round trip through the file keeps every node, relationship and property, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from graph_service.cli import main
from graph_service.exports import ExportSource, export_format
from graph_service.storage import Store
from graph_service.storage.sqlite import SqliteStore
from tests.case import CASE_NODES, CASE_RELATIONSHIPS, load_case

followthemoney = pytest.importorskip("followthemoney")
from followthemoney import model  # noqa: E402

from graph_service.exports.ftm import entity_id, read_entities  # noqa: E402


def ftm_lines(store: Store) -> list[str]:
    return "".join(export_format("ftm").write(ExportSource(store))).splitlines()


def snapshot(store: Store) -> tuple[list[object], list[object]]:
    return list(store.find_nodes(first=1000).items), list(store.relationships(first=1000).items)


def test_ftm_export_passes_ftm_validation_with_the_chosen_schemata(store: Store) -> None:
    load_case(store)
    lines = ftm_lines(store)
    assert len(lines) == sum(CASE_NODES.values()) + sum(CASE_RELATIONSHIPS.values())
    ids = set()
    schemata: dict[str, str] = {}
    for line in lines:
        data = json.loads(line)
        proxy = model.get_proxy(data, cleaned=False)
        assert proxy.schema.validate(data) is None
        ids.add(proxy.id)
        if "kind" in data["pressureGraph"]:
            schemata[data["pressureGraph"]["id"]] = proxy.schema.name
        else:
            schemata[data["pressureGraph"]["type"]] = proxy.schema.name
    assert schemata["Authority:lipetsk-dip"] == "PublicBody"
    assert schemata["Institution:lipetsk-budgetary-institutions"] == "Organization"
    assert schemata["Party:cprf"] == "Organization"
    assert schemata["Person:sergey-tokarev"] == "Person"
    assert schemata["Directive:lipetsk-dip-election-survey"] == "Event"
    assert schemata["Poll:election-awareness"] == "Event"
    assert schemata["Source:kommersant-lipetsk-poll"] == "Article"
    assert schemata["WORKS_AT"] == "Employment"
    assert schemata["MEMBER_OF"] == "Membership"
    assert schemata["ISSUED"] == "UnknownLink"
    # Every reference (employer, member, subject, proof, ...) names an entity in the file.
    for line in lines:
        proxy = model.get_proxy(json.loads(line), cleaned=False)
        for prop, value in proxy.itervalues():
            if prop.type.name == "entity":
                assert value in ids, (proxy.id, prop.name, value)


def test_ftm_carries_provenance_as_proof(store: Store) -> None:
    load_case(store)
    by_id = {json.loads(line)["id"]: json.loads(line) for line in ftm_lines(store)}
    directive = by_id[entity_id("Directive:lipetsk-dip-election-survey")]
    assert directive["properties"]["proof"] == [
        "source.kommersant-lipetsk-poll",
        "source.cprf-lipetsk-statement",
    ]
    assert directive["pressureGraph"]["evidence"] == "alleged"
    assert directive["pressureGraph"]["properties"]["deadline"] == "--08-16"


def test_ftm_round_trip_keeps_every_node_relationship_and_property(store: Store) -> None:
    load_case(store)
    before = snapshot(store)
    lines = ftm_lines(store)
    store.clear()
    assert store.stats().node_count == 0
    result = read_entities(lines)
    assert result.skipped == 0
    store.upsert(result.nodes, result.relationships)
    assert snapshot(store) == before


def test_cli_exports_and_imports_ftm(tmp_path: Path) -> None:
    source_db, copy_db = tmp_path / "case.db", tmp_path / "copy.db"
    s = SqliteStore(source_db)
    load_case(s)
    before = snapshot(s)
    s.close()
    out = tmp_path / "case.ftm.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        main, ["export", "--store", f"sqlite:///{source_db}", "--format", "ftm", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["import-ftm", str(out), "--store", f"sqlite:///{copy_db}"])
    assert result.exit_code == 0, result.output
    assert "23 nodes and 23 relationships read." in result.output
    copy = SqliteStore(copy_db)
    try:
        assert snapshot(copy) == before
    finally:
        copy.close()


def test_import_names_the_bad_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good = model.make_entity("Person")
    good.id = "p1"
    good.add("name", "Someone")
    bad.write_text(
        json.dumps(good.to_dict()) + "\n" + '{"id": "x", "schema": "Martian"}\n', encoding="utf-8"
    )
    db = tmp_path / "x.db"
    result = CliRunner().invoke(main, ["import-ftm", str(bad), "--store", f"sqlite:///{db}"])
    assert result.exit_code == 1
    assert "bad.jsonl line 2: not a valid FtM entity" in result.output
    s = SqliteStore(db)
    try:
        assert s.stats().node_count == 0
    finally:
        s.close()


def test_import_maps_foreign_ftm_entities_to_the_closest_kinds() -> None:
    person = model.make_entity("Person")
    person.id = "abc123"
    person.add("name", "Ivan Petrov")
    body = model.make_entity("PublicBody")
    body.id = "def456"
    body.add("name", "Department of Education")
    job = model.make_entity("Employment")
    job.id = "job1"
    job.add("employee", person.id)
    job.add("employer", body.id)
    job.add("role", "inspector")
    vessel = model.make_entity("Vessel")
    vessel.id = "ship1"
    vessel.add("name", "Aurora")
    lines = [json.dumps(e.to_dict()) for e in (person, body, job, vessel)]
    result = read_entities(lines)
    assert sorted(n.id for n in result.nodes) == ["Authority:def456", "Person:abc123"]
    [rel] = result.relationships
    assert (rel.source, rel.type, rel.target, rel.properties) == (
        "Person:abc123", "WORKS_AT", "Authority:def456", {"role": "inspector"}
    )
    assert result.skipped == 1  # the vessel has no place in the model


def test_ftm_validate_command_changes_nothing_and_its_output_imports(
    store: Store, tmp_path: Path
) -> None:
    import subprocess
    import sys

    load_case(store)
    before = snapshot(store)
    exported = tmp_path / "case.ftm.jsonl"
    exported.write_text("\n".join(ftm_lines(store)) + "\n", encoding="utf-8")
    validated = tmp_path / "validated.jsonl"
    ftm = Path(sys.executable).parent / "ftm"
    subprocess.run([str(ftm), "validate", "-i", str(exported), "-o", str(validated)],
                   check=True, capture_output=True)
    original = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    cleaned = [json.loads(line) for line in validated.read_text(encoding="utf-8").splitlines()]
    assert [(e["id"], e["schema"], e["properties"]) for e in cleaned] == [
        (e["id"], e["schema"], e["properties"]) for e in original
    ]
    store.clear()
    result = read_entities(validated.read_text(encoding="utf-8").splitlines())
    store.upsert(result.nodes, result.relationships)
    assert snapshot(store) == before
