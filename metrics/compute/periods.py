"""Periods (whole days, inclusive) and the grains a series is cut into."""
from __future__ import annotations

import calendar as cal
import datetime as dt
from dataclasses import dataclass

from metrics.errors import MetricsError

GRAINS = ("day", "week", "month", "quarter", "year")
_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}


def parse_date(text: str, what: str = "date") -> dt.date:
    """Parse YYYY-MM-DD, or raise a MetricsError naming what was wrong."""
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise MetricsError(f"{what} {text!r} is not a date; write it as YYYY-MM-DD (e.g. 2025-11-30)") from None


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (or earlier), clipped to the month's length (29 Feb → 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, cal.monthrange(year, month + 1)[1]))


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=cal.monthrange(day.year, day.month)[1])


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both whole days and both included."""
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise MetricsError(f"the period ends ({self.end}) before it starts ({self.start}); "
                               "give --from on or before --to")

    @property
    def end_exclusive(self) -> dt.datetime:
        """The first instant after the period: rows are in it when start <= t < end_exclusive."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time())

    @property
    def start_instant(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time())

    def whole_months(self) -> int | None:
        """How many calendar months the period spans exactly, or None if it is not whole months."""
        if self.start.day != 1 or self.end != _month_end(self.end):
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def shifted_months(self, months: int) -> "Period":
        start = add_months(self.start, months)
        if self.whole_months():
            return Period(start, _month_end(add_months(self.end.replace(day=1), months)))
        return Period(start, add_months(self.end, months))

    def previous(self) -> "Period":
        """The period of the same length just before: the previous month for a month, else N days back."""
        months = self.whole_months()
        if months:
            return self.shifted_months(-months)
        days = (self.end - self.start).days + 1
        return Period(self.start - dt.timedelta(days=days), self.end - dt.timedelta(days=days))

    def last_year(self) -> "Period":
        """The same dates a year earlier."""
        return self.shifted_months(-12)

    def buckets(self, grain: str) -> list["Period"]:
        """The period cut at grain boundaries; the first and last bucket may be partial."""
        if grain not in GRAINS:
            raise MetricsError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
        out, start = [], self.start
        while start <= self.end:
            nxt = bucket_start(start, grain, following=True)
            end = min(nxt - dt.timedelta(days=1), self.end)
            out.append(Period(start, end))
            start = nxt
        return out

    def __str__(self) -> str:
        return f"{self.start} to {self.end}"


def bucket_start(day: dt.date, grain: str, following: bool = False) -> dt.date:
    """The first day of the grain bucket holding `day` (or of the next bucket, if following)."""
    if grain == "day":
        first = day
        return first + dt.timedelta(days=1) if following else first
    if grain == "week":   # ISO weeks start on Monday, as DuckDB's date_trunc('week')
        first = day - dt.timedelta(days=day.weekday())
        return first + dt.timedelta(days=7) if following else first
    months = _MONTHS_PER[grain]
    first = dt.date(day.year, ((day.month - 1) // months) * months + 1, 1)
    return add_months(first, months) if following else first


def month(year: int, month_: int) -> Period:
    """The calendar month as a Period."""
    start = dt.date(year, month_, 1)
    return Period(start, _month_end(start))


def last_full_month(last_day: dt.date) -> Period:
    """The last calendar month that ends on or before `last_day`."""
    if last_day == _month_end(last_day):
        return month(last_day.year, last_day.month)
    prev = add_months(last_day.replace(day=1), -1)
    return month(prev.year, prev.month)


def within(period: Period, first: dt.date, last: dt.date, fallback: Period) -> tuple[Period, str | None]:
    """The part of `period` inside the data (first..last), and a sentence when it had to change.

    A period wholly outside the data becomes `fallback` (itself clipped to the data). Used for periods that
    arrive in a shared link, so a link from another time never breaks a page.
    """
    start, end = max(period.start, first), min(period.end, last)
    if (start, end) == (period.start, period.end):
        return period, None
    shown = Period(start, end) if start <= end else Period(max(fallback.start, first), min(fallback.end, last))
    where = "lies outside" if start > end else "reaches beyond"
    return shown, (f"the period {period.start} – {period.end} {where} the data ({first} to {last}); "
                   f"showing {shown.start} – {shown.end} instead")
