"""Turning spreadsheet cells into typed property values."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from loaders.reading import Cell
from schema import ModelError, Property, Value, ValueType, check_value, parse_iso

_TRUE = {"true", "yes", "y", "1", "да", "д", "истина", "+"}
_FALSE = {"false", "no", "n", "0", "нет", "н", "ложь", "-"}
_DOTTED = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{4}))?$")
_MONTH_DOTTED = re.compile(r"^(\d{1,2})[./](\d{4})$")
_SERIAL = re.compile(r"^\d{5}(?:[.,]\d+)?$")
_NAMED = re.compile(r"^(\d{1,2})\s+([^\W\d_]+)\.?(?:\s+(\d{4}))?(?:\s*(?:г\.?|года?))?$")
_NAMED_US = re.compile(r"^([^\W\d_]+)\.?\s+(\d{1,2})(?:,?\s+(\d{4}))?$")
_MONTHS = {
    **{
        m: i
        for i, m in enumerate(
            ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
        )
    },
    **{
        m: i
        for i, m in enumerate(
            ("янв", "фев", "мар", "апр", "ма", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"), 1
        )
    },
}
_EXCEL_EPOCH = date(1899, 12, 30)
LIST_SEPARATORS = re.compile(r"\s*(?:;|\n)\s*")


def is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def cell_text(cell: Cell) -> str:
    """A cell as text: numbers without a spurious ``.0`` (an INN read as a float)."""
    if type(cell) is str:
        text = cell.strip()
        return text if text.isascii() else unicodedata.normalize("NFC", text)
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return unicodedata.normalize("NFC", str(cell).strip())


def parse_cell(owner: str, prop: Property, cell: Cell) -> Value | None:
    """Parse one non-blank cell for ``prop``; raise ModelError saying why it does not fit."""
    if is_blank(cell):
        return None
    t = prop.type
    if t is ValueType.TEXT:
        return check_value(owner, prop, cell_text(cell))  # rejects control characters
    if t is ValueType.INTEGER:
        return check_value(owner, prop, _integer(cell))
    if t is ValueType.NUMBER:
        return check_value(owner, prop, _number(cell))
    if t is ValueType.BOOLEAN:
        return _boolean(cell)
    if t is ValueType.DATE:
        return parse_date(cell)
    if t is ValueType.TEXT_LIST:
        parts = [part for part in LIST_SEPARATORS.split(cell_text(cell)) if part]
        return check_value(owner, prop, parts)
    if t is ValueType.ENUM:
        text = cell_text(cell).casefold()
        for value in prop.enum:
            if value.casefold() == text:
                return value
        raise ModelError(f"{cell_text(cell)!r} is not one of: {', '.join(prop.enum)}")
    return check_value(owner, prop, cell_text(cell))


def _integer(cell: Cell) -> int:
    if isinstance(cell, bool):
        raise ModelError("expected a whole number, got a yes/no value")
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        if cell.is_integer():
            return int(cell)
        raise ModelError(f"{cell} is not a whole number")
    text = re.sub(r"[\s\u00a0\u202f]", "", cell_text(cell))
    try:
        return int(text)
    except ValueError:
        raise ModelError(f"{cell_text(cell)!r} is not a whole number") from None


def _number(cell: Cell) -> float:
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return float(cell)
    text = re.sub(r"[\s\u00a0\u202f]", "", cell_text(cell)).replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise ModelError(f"{cell_text(cell)!r} is not a number") from None


def _boolean(cell: Cell) -> bool:
    if isinstance(cell, bool):
        return cell
    text = cell_text(cell).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ModelError(f"{cell_text(cell)!r} is not yes/no (use true/false, yes/no, да/нет)")


def parse_date(cell: Cell) -> str:
    """A date cell as a partial ISO date, keeping the precision it was written with."""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        if isinstance(cell, int) and 1000 <= cell <= 9999:
            return f"{cell:04d}"  # a bare year
        return (_EXCEL_EPOCH + timedelta(days=int(cell))).isoformat()  # an Excel serial
    text = cell_text(cell)
    if m := _DOTTED.match(text):
        day, month, year = m.groups()
        iso = (
            f"{year}-{int(month):02d}-{int(day):02d}"
            if year
            else f"--{int(month):02d}-{int(day):02d}"
        )
        return parse_iso(iso).iso()
    if m := _MONTH_DOTTED.match(text):
        month, year = m.groups()
        return parse_iso(f"{year}-{int(month):02d}").iso()
    if _SERIAL.match(text):  # an Excel serial number exported as text (5 digits: no year)
        return (_EXCEL_EPOCH + timedelta(days=int(float(text.replace(",", "."))))).isoformat()
    if m := _NAMED.match(text):
        return _named(text, m.group(1), m.group(2), m.group(3))
    if m := _NAMED_US.match(text):
        return _named(text, m.group(2), m.group(1), m.group(3))
    if len(text) > 10 and text[10] in "T " and text[:4].isdigit():
        text = text[:10]  # a date with a time of day: the day is the precision we keep
    return parse_iso(text).iso()


def _month_number(word: str) -> int | None:
    word = word.casefold()
    if word.startswith("ма") and not word.startswith("мар"):
        return 5  # май, мая
    return _MONTHS.get(word[:3])


def _named(text: str, day: str, month_word: str, year: str | None) -> str:
    """``16 августа``, ``16 августа 2023 г.``, ``August 16, 2023``."""
    month = _month_number(month_word)
    if month is None:
        raise ModelError(f"{text!r} is not a date: {month_word!r} is not a month")
    iso = f"{year}-{month:02d}-{int(day):02d}" if year else f"--{month:02d}-{int(day):02d}"
    return parse_iso(iso).iso()
