"""Numbers as spreadsheets from Russian offices write them: spaces (ordinary, no-break,
narrow no-break) between thousands and a decimal comma. No property of today's model is a
fractional number, so the parser is checked on a property declared here."""

from __future__ import annotations

import pytest

from loaders.values import parse_cell
from schema import ModelError
from schema.model import Property, ValueType

SHARE = Property("share", ValueType.NUMBER)
STAFF = Property("staff_count", ValueType.INTEGER)


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("12,5", 12.5),
        ("1 250,75", 1250.75),
        ("1\u00a0250,75", 1250.75),
        ("1\u202f250.5", 1250.5),
        (" -0,25 ", -0.25),
        (3, 3.0),
        (2.5, 2.5),
    ],
)
def test_a_number_may_have_spaces_and_a_decimal_comma(cell: object, value: float) -> None:
    assert parse_cell("Institution", SHARE, cell) == value  # type: ignore[arg-type]


@pytest.mark.parametrize(("cell", "value"), [("1 250", 1250), ("1\u00a0250", 1250), (12.0, 12)])
def test_a_whole_number_may_have_spaces(cell: object, value: int) -> None:
    assert parse_cell("Institution", STAFF, cell) == value  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", ["1.250,5", "twelve", "12,5"])
def test_what_is_not_a_number_of_its_kind_is_refused(cell: str) -> None:
    prop = STAFF if cell == "12,5" else SHARE
    with pytest.raises(ModelError, match="not a"):
        parse_cell("Institution", prop, cell)
