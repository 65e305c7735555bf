"""Spreadsheet formula injection: text that a spreadsheet would run as a formula.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is executed
by Excel, LibreOffice and Google Sheets when a file is opened (OWASP "CSV injection").
Exports a spreadsheet could open prefix such text with an apostrophe, which spreadsheets
show as text. Text that already starts with an apostrophe gets one too, so the rule is
reversible: :func:`restore_cell` drops exactly one leading apostrophe.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(text: str) -> str:
    """``text`` made safe to open in a spreadsheet (see the module docstring)."""
    if text.startswith(FORMULA_TRIGGERS) or text.startswith("'"):
        return "'" + text
    return text


def restore_cell(text: str) -> str:
    """The original of a :func:`neutralize_cell` result."""
    return text[1:] if text.startswith("'") else text
