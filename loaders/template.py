"""Blank spreadsheets in the template format: one sheet per node kind and one for
relationships, with the expected headers, one example row each, and drop-down lists for
enumerated columns. Written as one XLSX workbook, or as CSV files in a folder."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from schema import EVIDENCE_VALUES, NODE_KINDS, RELATIONSHIP_TYPES, NodeKind, Property, ValueType

_EXAMPLE_BY_TYPE = {
    ValueType.TEXT: "text",
    ValueType.INTEGER: "120",
    ValueType.NUMBER: "1.5",
    ValueType.BOOLEAN: "false",
    ValueType.DATE: "2023-08-16",
    ValueType.TEXT_LIST: "first; second",
}
_EXAMPLE_KEYS = {
    "Authority": "lipetsk-dip",
    "Institution": "4826000000",
    "Person": "staff-00017",
    "Source": "kommersant-lipetsk-poll",
}


def _example(prop: Property) -> str:
    if prop.enum:
        return prop.enum[0]
    if prop.name == "inn":
        return "4826000000"
    return _EXAMPLE_BY_TYPE[prop.type]


def node_headers(kind: NodeKind) -> list[str]:
    return ["key", *(p.name for p in kind.properties), "sources", "evidence"]


def node_example(kind: NodeKind) -> list[str]:
    key = _EXAMPLE_KEYS.get(kind.name, f"example-{kind.name.lower()}")
    values = [_example(p) for p in kind.properties]
    if kind.name == "Person":
        values = [
            "" if p.name == "name" else v for p, v in zip(kind.properties, values, strict=True)
        ]
    return [key, *values, "kommersant-lipetsk-poll", "reported"]


def relationship_properties() -> list[Property]:
    seen: dict[str, Property] = {}
    for rt in RELATIONSHIP_TYPES:
        for p in rt.properties:
            seen.setdefault(p.name, p)
    return list(seen.values())


def relationship_headers() -> list[str]:
    return [
        "from",
        "type",
        "to",
        "key",
        *(p.name for p in relationship_properties()),
        "sources",
        "evidence",
    ]


def relationship_example() -> list[str]:
    cells = {
        "from": "Institution:4826000000",
        "type": "SUBORDINATE_TO",
        "to": "Authority:lipetsk-dip",
        "sources": "kommersant-lipetsk-poll",
        "evidence": "reported",
    }
    return [cells.get(h, "") for h in relationship_headers()]


def write_template(target: Path) -> list[Path]:
    """Write the template to ``target`` (``.xlsx`` file, or a folder for CSV files)."""
    if target.suffix.lower() == ".xlsx":
        _write_xlsx(target)
        return [target]
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in NODE_KINDS:
        written.append(
            _write_csv(target / f"{kind.sheet}.csv", node_headers(kind), node_example(kind))
        )
    written.append(
        _write_csv(target / "relationships.csv", relationship_headers(), relationship_example())
    )
    return written


def _write_csv(path: Path, headers: list[str], example: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerow(example)
    return path


def _write_xlsx(path: Path) -> None:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7"})
    try:
        for kind in NODE_KINDS:
            sheet = workbook.add_worksheet(kind.sheet)
            props = {p.name: p for p in kind.properties}
            _fill(sheet, bold, node_headers(kind), node_example(kind), props)
        sheet = workbook.add_worksheet("relationships")
        props = {p.name: p for p in relationship_properties()}
        _fill(
            sheet,
            bold,
            relationship_headers(),
            relationship_example(),
            props,
            extra_lists={"type": [r.name for r in RELATIONSHIP_TYPES]},
        )
    finally:
        workbook.close()


def _fill(
    sheet: Any,
    bold: Any,
    headers: list[str],
    example: list[str],
    props: dict[str, Property],
    extra_lists: dict[str, list[str]] | None = None,
) -> None:
    lists = dict(extra_lists or {})
    lists["evidence"] = list(EVIDENCE_VALUES)
    for name, prop in props.items():
        if prop.enum:
            lists[name] = list(prop.enum)
        elif prop.type is ValueType.BOOLEAN:
            lists[name] = ["true", "false"]
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, bold)
        sheet.write_string(1, col, example[col])
        sheet.set_column(col, col, max(12, len(header) + 2))
        if header in lists:
            sheet.data_validation(
                1,
                col,
                100_000,
                col,
                {
                    "validate": "list",
                    "source": lists[header],
                    "error_message": f"Choose one of: {', '.join(lists[header])}",
                },
            )
    sheet.freeze_panes(1, 0)
