"""Property-based round trip through the commands an investigator runs: ``template DIR``
→ fill its CSV files (nodes of three kinds, relationships with properties) → ``load`` →
``export --format graphml`` → networkx reads back the same nodes, properties and edges.

The loader tests elsewhere read back from the store; this one goes out through an export,
which is where the data leaves the service."""

from __future__ import annotations

import csv
import json
import tempfile
import unicodedata
from pathlib import Path

import networkx as nx
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_service.cli import main
from schema import NODE_KIND_BY_NAME
from tests.cell_text import cell_text

LEVELS = NODE_KIND_BY_NAME["Authority"].property("level").enum  # type: ignore[union-attr]
SECTORS = NODE_KIND_BY_NAME["Institution"].property("sector").enum  # type: ignore[union-attr]

# Text a person types into a cell: any letters, digits, punctuation and inner spaces. Not
# text that exports escape as a would-be formula or that starts with an apostrophe (those
# come back with a leading "'", by design), and no surrounding spaces (the loader trims).
text = cell_text(25, banned_first="=+-@'")
slug = st.from_regex(r"[a-z][a-z0-9\-]{0,12}", fullmatch=True)

authorities = st.lists(
    st.fixed_dictionaries({"key": slug, "name": text, "level": st.sampled_from(LEVELS)}),
    min_size=1, max_size=4, unique_by=lambda r: r["key"],
)
institutions = st.lists(
    st.fixed_dictionaries({
        "key": slug,
        "name": text,
        "sector": st.sampled_from(SECTORS),
        "staff_count": st.integers(0, 10**6),
    }),
    min_size=1, max_size=6, unique_by=lambda r: r["key"],
)
persons = st.lists(
    st.fixed_dictionaries({"public": st.booleans(), "position": text}), max_size=6
)


def _template_headers(folder: Path) -> dict[str, list[str]]:
    result = CliRunner().invoke(main, ["template", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    headers = {}
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as f:
            headers[path.stem] = next(csv.reader(f))
    return headers


def _fill(
    folder: Path, headers: dict[str, list[str]], sheets: dict[str, list[dict[str, object]]]
) -> None:
    """Replace each template file's example row with the rows (other files are removed)."""
    for path in folder.glob("*.csv"):
        if path.stem not in sheets:
            path.unlink()
    for sheet, rows in sheets.items():
        with (folder / f"{sheet}.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, headers[sheet])
            writer.writeheader()
            for row in rows:
                assert set(row) <= set(headers[sheet]), (sheet, set(row) - set(headers[sheet]))
                writer.writerow({k: _cell(v) for k, v in row.items()})


def _cell(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(authorities=authorities, institutions=institutions, persons=persons, data=st.data())
def test_template_fill_load_export_gives_the_same_graph(
    authorities: list[dict[str, object]],
    institutions: list[dict[str, object]],
    persons: list[dict[str, object]],
    data: st.DataObject,
) -> None:
    people = [{"key": f"emp-{i}", **p} for i, p in enumerate(persons)]
    relationships = [
        {
            "from": f"Institution:{inst['key']}",
            "type": "SUBORDINATE_TO",
            "to": f"Authority:{data.draw(st.sampled_from(authorities))['key']}",
        }
        for inst in institutions
    ] + [
        {
            "from": f"Person:{p['key']}",
            "type": "WORKS_AT",
            "to": f"Institution:{data.draw(st.sampled_from(institutions))['key']}",
            "role": data.draw(text),
            "head": data.draw(st.booleans()),
        }
        for p in people
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sheets"
        headers = _template_headers(folder)
        _fill(folder, headers, {
            "authorities": authorities,
            "institutions": institutions,
            "persons": people,
            "relationships": relationships,
        })
        store = f"sqlite:///{tmp}/g.db"
        runner = CliRunner()
        loaded = runner.invoke(
            main, ["load", *map(str, sorted(folder.glob("*.csv"))), "--store", store],
            catch_exceptions=False,
        )
        assert loaded.exit_code == 0, loaded.output
        out = Path(tmp) / "g.graphml"
        exported = runner.invoke(
            main, ["export", "--format", "graphml", "-o", str(out), "--store", store],
            catch_exceptions=False,
        )
        assert exported.exit_code == 0, exported.output
        graph = nx.read_graphml(out, force_multigraph=True)

    expected_nodes = {
        f"{kind}:{row['key']}": {k: _nfc(v) for k, v in row.items() if k != "key"}
        for kind, rows in (
            ("Authority", authorities), ("Institution", institutions), ("Person", people)
        )
        for row in rows
    }
    assert set(graph.nodes) == set(expected_nodes)
    for node_id, props in expected_nodes.items():
        got = graph.nodes[node_id]
        assert {k: got.get(k) for k in props} == props, node_id
        assert json.loads(got["origins"]), node_id  # where it was loaded from
    expected_edges = sorted(
        (r["from"], r["to"], r["type"], _nfc(r.get("role")), r.get("head")) for r in relationships
    )
    got_edges = sorted(
        (u, v, d["type"], d.get("role"), d.get("head")) for u, v, d in graph.edges(data=True)
    )
    assert got_edges == expected_edges


def _nfc(value: object) -> object:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value
