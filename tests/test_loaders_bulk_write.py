"""A load hands its rows to a store's bulk path (``upsert_rows``) when the store has one:
the result must be exactly that of the record path (``upsert``), which other stores take."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import loaders.load
from graph_service.storage import Node, Relationship
from graph_service.storage.sqlite import SqliteStore
from loaders.load import LoadResult, load_files

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class RecordsOnly:
    """A sink offering only the record path (and a transaction), like a store without
    ``upsert_rows``; it writes into an embedded store."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.upserts = 0

    def get_nodes(self, node_ids: Sequence[str]) -> dict[str, Node]:
        return self.store.get_nodes(node_ids)

    def upsert(self, nodes: Iterable[Node], relationships: Iterable[Relationship] = ()) -> Any:
        self.upserts += 1
        nodes, relationships = list(nodes), list(relationships)
        assert all(type(n) is Node for n in nodes)
        assert all(type(r) is Relationship for r in relationships)
        return self.store.upsert(nodes, relationships)

    @contextmanager
    def transaction(self, bulk: bool = False) -> Iterator[None]:
        with self.store.transaction(bulk=bulk):
            yield


def contents(store: SqliteStore) -> tuple[list[Node], list[Relationship]]:
    ids = [n.id for n in store.find_nodes(first=1000).items]
    nodes = sorted(store.get_nodes(ids).values(), key=lambda n: n.id)
    return nodes, list(store.relationships(first=1000).items)


def outcome(result: LoadResult) -> tuple[Any, ...]:
    s = result.summary
    return (result.counts(), s.created, s.updated, s.unchanged, result.rows_written)


def write_files(folder: Path, persons: int = 40, bad_row: bool = True) -> list[Path]:
    """Sources, 30 institutions, ``persons`` persons working at them, with repeats to
    merge and (``bad_row``) one relationship to a node that is nowhere."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "sources": "key,title\nrep,Report\nleak,Leak\n",
        "institutions": "key,name,sources\n"
        + "".join(f"s{i},School {i},rep\n" for i in range(30))
        + "s1,School 1,leak\n",  # a repeat: merged, its second source added
        "persons": "key,public,sources\n" + "".join(f"p{i},false,rep\n" for i in range(persons)),
        "relationships": "from,type,to,role,sources\n"
        + "".join(
            f"Person:p{i},WORKS_AT,Institution:s{i % 30},teacher,rep\n" for i in range(persons)
        )
        + "Person:p1,WORKS_AT,Institution:s1,teacher,leak\n"  # a repeat, merged
        + ("Person:p1,WORKS_AT,Institution:ghost,teacher,rep\n" if bad_row else ""),  # found late
    }
    paths = []
    for name, text in texts.items():
        path = folder / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.parametrize("bulk", [False, True], ids=["transaction", "bulk transaction"])
def test_a_load_through_rows_equals_a_load_through_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    if bulk:
        monkeypatch.setattr(loaders.load, "_BULK_ROWS", 1)
    paths = write_files(tmp_path)
    rows_store = SqliteStore(tmp_path / "rows.db")
    records_store = SqliteStore(tmp_path / "records.db")
    sink = RecordsOnly(records_store)
    for _ in range(2):  # a fresh load, then the same load again (all unchanged)
        by_rows = load_files(paths, rows_store, skip_invalid=True, batch_size=7)
        by_records = load_files(paths, sink, skip_invalid=True, batch_size=7)
        assert outcome(by_rows) == outcome(by_records)
        assert contents(rows_store) == contents(records_store)
    assert by_rows.summary.unchanged["WORKS_AT"] == 41  # the repeat is in another batch
    assert by_rows.counts()["WORKS_AT"] == 41  # the ghost row skipped, the repeat counted
    assert sink.upserts > 2  # several batches went through the record path
    p1 = rows_store.relationships_of(["Person:p1"])[0]
    assert p1.provenance.sources == ("Source:rep", "Source:leak")
    rows_store.close()
    records_store.close()


def test_a_mapped_load_through_rows_equals_one_through_records(tmp_path: Path) -> None:
    """Mapped sheets give several records per row (a person, an institution, WORKS_AT)."""
    paths = [EXAMPLES / "sources.csv", EXAMPLES / "staff-list.csv"]
    mapping = EXAMPLES / "staff-list.mapping.yaml"
    rows_store = SqliteStore(tmp_path / "rows.db")
    records_store = SqliteStore(tmp_path / "records.db")
    by_rows = load_files(paths, rows_store, mapping=mapping, batch_size=2)
    by_records = load_files(paths, RecordsOnly(records_store), mapping=mapping, batch_size=2)
    assert outcome(by_rows) == outcome(by_records)
    assert contents(rows_store) == contents(records_store)
    rows_store.close()
    records_store.close()
