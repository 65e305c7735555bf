"""Partial dates that keep the precision of their source.

A date is stored as an ISO 8601 string of one of four shapes: ``2023-08-16`` (day),
``2023-08`` (month), ``2023`` (year), or ``--08-16`` (day and month, no year — ISO 8601's
truncated form, used when a source such as a news report gives "August 16" only).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Literal

from schema.errors import ModelError

Precision = Literal["day", "month", "year", "day-month"]

_FULL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_NO_YEAR = re.compile(r"^--(\d{2})-(\d{2})$")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to day, month, year, or day-and-month without a year."""

    year: int | None
    month: int | None
    day: int | None

    @property
    def precision(self) -> Precision:
        if self.year is None:
            return "day-month"
        if self.month is None:
            return "year"
        return "month" if self.day is None else "day"

    def iso(self) -> str:
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}"
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def ordinal_days(self) -> int | None:
        """Days since 0001-01-01 for a full date, else None (lags need full dates)."""
        if self.year is None or self.month is None or self.day is None:
            return None
        from datetime import date

        return date(self.year, self.month, self.day).toordinal()


def parse_iso(text: str) -> PartialDate:
    """Parse one of the four ISO shapes; raise ModelError on anything else."""
    s = text.strip()
    if m := _FULL.match(s):
        y, mo, d = (int(g) for g in m.groups())
        return _checked(y, mo, d, text)
    if m := _MONTH.match(s):
        y, mo = (int(g) for g in m.groups())
        return _checked(y, mo, None, text)
    if m := _YEAR.match(s):
        return PartialDate(int(m.group(1)), None, None)
    if m := _NO_YEAR.match(s):
        mo, d = (int(g) for g in m.groups())
        return _checked(None, mo, d, text)
    raise ModelError(f"{text!r} is not a date: use 2023-08-16, 2023-08, 2023 or --08-16 (no year)")


def _checked(year: int | None, month: int, day: int | None, text: str) -> PartialDate:
    if not 1 <= month <= 12:
        raise ModelError(f"{text!r} is not a date: month {month} does not exist")
    if day is not None:
        # Without a year, February 29 is allowed (it exists in some year).
        last = calendar.monthrange(year if year is not None else 2000, month)[1]
        if not 1 <= day <= last:
            raise ModelError(f"{text!r} is not a date: day {day} does not exist in that month")
    return PartialDate(year, month, day)
