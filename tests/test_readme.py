"""The README's examples are real output: each GraphQL example, run against the bundled
case, gives exactly the JSON printed below it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from graph_service.api.context import Context
from graph_service.api.schema import schema
from graph_service.storage.sqlite import SqliteStore
from tests.case import load_case

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLE = re.compile(r"```graphql\n(.*?)```\s*```json\n(.*?)```", re.S)


def examples() -> list[tuple[str, str]]:
    found = EXAMPLE.findall(README.read_text(encoding="utf-8"))
    assert len(found) >= 3, "the README should show three example queries"
    return found


@pytest.mark.parametrize(("query", "expected"), examples())
def test_readme_example_output_is_real(query: str, expected: str, tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "demo.db")
    load_case(store)
    result = schema.execute_sync(query, context_value=Context(store=store))
    assert result.errors is None
    assert {"data": result.data} == json.loads(expected)


def test_readme_quick_start_is_exactly_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
