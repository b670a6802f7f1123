"""Business days: the organisation's working calendar, in one place.

A business-day duration from a start to an end is `bd_before(end) - bd_before(start)`, where
bd_before(d) counts the business days strictly before date d. That is the number of business days
from the start day (counted if it is one) up to, not including, the end day. So "within 1
business day" (duration ≤ 1) means "by the end of the next business day": a Friday hand-off
answered on Monday is within 1; answered on Tuesday it is not, unless Monday was a holiday.
A hand-off on a Saturday starts the clock on Monday.
"""
from __future__ import annotations

import datetime as dt
import hashlib

import holidays as holidays_lib
import pandas as pd

from metrics.catalogue.definitions import Organisation

FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2040, 12, 31)


def holiday_names(org: Organisation, first: dt.date = FIRST_DAY, last: dt.date = LAST_DAY) -> dict[dt.date, str]:
    """Public holidays of the organisation's country/region plus its local closure days.

    Args:
        org: the organisation section of the config.
        first, last: the range of years to cover.
    Returns:
        date → holiday name.
    """
    names: dict[dt.date, str] = {}
    if org.country:
        years = range(first.year, last.year + 1)
        names.update(holidays_lib.country_holidays(org.country, subdiv=org.subdivision, years=years))
    for day in org.holidays:
        names.setdefault(day, "Local closure day")
    return names


def calendar_frame(org: Organisation, first: dt.date = FIRST_DAY, last: dt.date = LAST_DAY) -> pd.DataFrame:
    """One row per day: day, is_business_day, bd_before, holiday (see module docstring)."""
    days = pd.date_range(first, last, freq="D")
    names = holiday_names(org, first, last)
    holiday = [names.get(d.date()) for d in days]
    business = [(d.weekday() in org.business_days) and h is None for d, h in zip(days, holiday)]
    before, running = [], 0
    for b in business:
        before.append(running)
        running += b
    return pd.DataFrame({"day": days.date, "is_business_day": business, "bd_before": before, "holiday": holiday})


def fingerprint(org: Organisation) -> str:
    """A short hash of everything that shapes the calendar, to notice when config changed."""
    text = repr((org.country, org.subdivision, org.business_days, org.holidays, FIRST_DAY, LAST_DAY,
                 holidays_lib.__version__))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
