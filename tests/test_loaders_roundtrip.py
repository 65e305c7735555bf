"""Property-based round trips: template → fill → load → read back → the same data."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_service.storage.sqlite import SqliteStore
from loaders.load import load_files
from loaders.template import node_headers
from schema import NODE_KIND_BY_NAME
from tests.cell_text import cell_text

INSTITUTION = NODE_KIND_BY_NAME["Institution"]
SECTORS = INSTITUTION.property("sector").enum  # type: ignore[union-attr]

text = cell_text(30, banned_first="=+-@", banned=";")

institution = st.fixed_dictionaries(
    {
        "key": st.from_regex(r"[a-z][a-z0-9\-]{0,15}", fullmatch=True),
        "name": text,
        "sector": st.sampled_from(SECTORS),
        "region": text,
        "staff_count": st.integers(min_value=0, max_value=10**9),
    }
)
institutions = st.lists(institution, min_size=1, max_size=15, unique_by=lambda r: r["key"])


def _expected(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    import unicodedata

    def norm(v: object) -> object:
        return unicodedata.normalize("NFC", v) if isinstance(v, str) else v

    return {r["key"]: {k: norm(v) for k, v in r.items() if k != "key"} for r in rows}  # type: ignore[misc]


def _read_back(db: Path) -> dict[str, dict[str, object]]:
    store = SqliteStore(db)
    try:
        return {
            n.key: dict(n.properties) for n in store.find_nodes("Institution", first=1000).items
        }
    finally:
        store.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=institutions,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_csv_round_trip(rows: list[dict[str, object]], encoding: str, delimiter: str) -> None:
    if encoding == "cp1251":
        rows = [r for r in rows if all(_cp1251(str(v)) for v in r.values())]
        if not rows:
            return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "institutions.csv"
        headers = node_headers(INSTITUTION)
        with path.open("w", newline="", encoding=encoding) as f:
            writer = csv.DictWriter(f, headers, delimiter=delimiter)
            writer.writeheader()
            writer.writerows(rows)
        db = Path(tmp) / "g.db"
        store = SqliteStore(db)
        load_files([path], store)
        store.close()
        assert _read_back(db) == _expected(rows)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=institutions)
def test_xlsx_template_round_trip(rows: list[dict[str, object]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "filled.xlsx"
        headers = node_headers(INSTITUTION)
        book = xlsxwriter.Workbook(
            str(path), {"strings_to_numbers": False, "strings_to_formulas": False}
        )
        sheet = book.add_worksheet("institutions")
        sheet.write_row(0, 0, headers)
        for r, row in enumerate(rows, start=1):
            for c, h in enumerate(headers):
                if h in row:
                    sheet.write(r, c, row[h])
        book.close()
        db = Path(tmp) / "g.db"
        store = SqliteStore(db)
        load_files([path], store)
        store.close()
        assert _read_back(db) == _expected(rows)


def _cp1251(s: str) -> bool:
    try:
        s.encode("cp1251")
        return True
    except UnicodeEncodeError:
        return False
