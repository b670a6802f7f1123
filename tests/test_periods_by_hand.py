"""Periods, comparison periods, grains and breakdowns, worked by hand on the fixture (tests/fixture.sql).

Calendar facts used below: 1 May 2024 is a Wednesday (Monday 6 May is the Early May bank holiday);
2024 is a leap year (29 Feb), 2023 and 2025 are not.

What the code promises (metrics/compute/periods.py docstrings):
  previous(): "the period of the same length just before: the previous month for a month, else N days back";
  last_year(): "the same dates a year earlier", with add_months "clipped to the month's length (29 Feb → 28 Feb)";
  buckets(): "the period cut at grain boundaries; the first and last bucket may be partial" (weeks start Monday).
So the day "last year" of 29 Feb 2024 is 28 Feb 2023 (there is no 29 Feb 2023), and February 2025's last
year is the whole of February 2024, 1–29.

Phone calls in the fixture: c8 10 Apr; c1 c2 2 May; c3 c4 3 May; c5 7 May; c6 8 May (c7 9 May is an email).
"""
import datetime as dt

import pytest

from metrics.access import SYSTEM
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.periods import Period, month

D = dt.date
MAY = month(2024, 5)


def P(a: str, b: str) -> Period:
    return Period(D.fromisoformat(a), D.fromisoformat(b))


def span(p: Period) -> tuple[str, str]:
    return p.start.isoformat(), p.end.isoformat()


# --- previous period ---------------------------------------------------------------------------------
@pytest.mark.parametrize("period, expected", [
    (P("2024-05-04", "2024-05-13"), ("2024-04-24", "2024-05-03")),   # 10 days → the 10 days before
    (P("2024-05-06", "2024-05-12"), ("2024-04-29", "2024-05-05")),   # a Monday–Sunday week → the week before
    (P("2024-03-01", "2024-03-01"), ("2024-02-29", "2024-02-29")),   # one day → the day before (leap day)
    (P("2024-03-01", "2024-03-30"), ("2024-01-31", "2024-02-29")),   # 30 days, not a whole month → 30 days back
    (P("2024-03-01", "2024-03-31"), ("2024-02-01", "2024-02-29")),   # March → February (29 days in 2024)
    (P("2023-03-01", "2023-03-31"), ("2023-02-01", "2023-02-28")),   # March 2023 → February (28 days)
    (P("2024-04-01", "2024-06-30"), ("2024-01-01", "2024-03-31")),   # a quarter → the quarter before
    (P("2024-01-01", "2024-02-29"), ("2023-11-01", "2023-12-31")),   # two whole months → the two before
    (P("2024-01-01", "2024-12-31"), ("2023-01-01", "2023-12-31")),   # a year → the year before
])
def test_previous_period(period, expected):
    assert span(period.previous()) == expected


# --- same period last year ----------------------------------------------------------------------------
@pytest.mark.parametrize("period, expected", [
    (P("2024-02-29", "2024-02-29"), ("2023-02-28", "2023-02-28")),   # leap day → 28 Feb (no 29 Feb 2023)
    (P("2024-02-01", "2024-02-29"), ("2023-02-01", "2023-02-28")),   # February 2024 → the whole of February 2023
    (P("2025-02-01", "2025-02-28"), ("2024-02-01", "2024-02-29")),   # February 2025 → the whole of February 2024
    (P("2024-02-29", "2024-03-06"), ("2023-02-28", "2023-03-06")),   # the same dates, 29 Feb clipped
    (P("2025-02-28", "2025-02-28"), ("2024-02-28", "2024-02-28")),   # 28 Feb stays 28 Feb (not the month's end)
    (P("2024-05-04", "2024-05-13"), ("2023-05-04", "2023-05-13")),
    (P("2024-04-01", "2024-06-30"), ("2023-04-01", "2023-06-30")),
])
def test_last_year(period, expected):
    assert span(period.last_year()) == expected


def test_value_compares_a_10_day_period_with_the_10_days_before(engine):
    # 4–13 May: c5 (7 May), c6 (8 May) = 2 calls. Previous 24 Apr – 3 May: c1 c2 (2 May), c3 c4 (3 May) = 4.
    # Last year 4–13 May 2023: no calls → 0 (a count is 0, not "no value").
    r = engine.value(SYSTEM, "calls_offered", ORGANISATION, P("2024-05-04", "2024-05-13"))
    assert r.value == 2
    assert (r.previous.start, r.previous.end, r.previous.value) == (D(2024, 4, 24), D(2024, 5, 3), 4)
    assert (r.last_year.start, r.last_year.end, r.last_year.value) == (D(2023, 5, 4), D(2023, 5, 13), 0)


def test_value_on_a_leap_day(engine):
    r = engine.value(SYSTEM, "calls_offered", ORGANISATION, P("2024-02-29", "2024-02-29"))
    assert (r.value, r.previous.start, r.previous.end) == (0, D(2024, 2, 28), D(2024, 2, 28))
    assert (r.last_year.start, r.last_year.end) == (D(2023, 2, 28), D(2023, 2, 28))


# --- buckets -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("period, grain, expected", [
    # Weeks start on Monday: 1 May (Wed) – 5 May is a partial first week, 27–31 May a partial last one.
    (MAY, "week", [("2024-05-01", "2024-05-05"), ("2024-05-06", "2024-05-12"), ("2024-05-13", "2024-05-19"),
                   ("2024-05-20", "2024-05-26"), ("2024-05-27", "2024-05-31")]),
    (P("2024-01-31", "2024-03-01"), "month", [("2024-01-31", "2024-01-31"), ("2024-02-01", "2024-02-29"),
                                               ("2024-03-01", "2024-03-01")]),
    (P("2024-02-15", "2024-08-10"), "quarter", [("2024-02-15", "2024-03-31"), ("2024-04-01", "2024-06-30"),
                                                 ("2024-07-01", "2024-08-10")]),
    (P("2023-06-01", "2025-02-01"), "year", [("2023-06-01", "2023-12-31"), ("2024-01-01", "2024-12-31"),
                                              ("2025-01-01", "2025-02-01")]),
    (P("2024-02-28", "2024-03-01"), "day", [("2024-02-28", "2024-02-28"), ("2024-02-29", "2024-02-29"),
                                             ("2024-03-01", "2024-03-01")]),
])
def test_buckets(period, grain, expected):
    assert [span(b) for b in period.buckets(grain)] == expected


def series_of(engine, key, period, grain, scope=ORGANISATION):
    s = engine.series(SYSTEM, key, scope, period, grain)
    return ([b.isoformat() for b in s["bucket"]], [e.isoformat() for e in s["end"]],
            [None if v != v else v for v in s["value"]], s)


def test_weekly_series_with_partial_weeks(engine):
    buckets, ends, values, _ = series_of(engine, "calls_offered", MAY, "week")
    assert buckets == ["2024-05-01", "2024-05-06", "2024-05-13", "2024-05-20", "2024-05-27"]
    assert ends == ["2024-05-05", "2024-05-12", "2024-05-19", "2024-05-26", "2024-05-31"]
    # 1–5 May: c1 c2 c3 c4 = 4; 6–12 May: c5 c6 = 2; nothing after.
    assert values == [4, 2, 0, 0, 0]


def test_a_partial_first_week_counts_only_its_own_days(engine):
    # From Friday 3 May: the first bucket is 3–5 May → c3 c4 = 2 (c1 c2 on 2 May are before the period).
    buckets, ends, values, _ = series_of(engine, "calls_offered", P("2024-05-03", "2024-05-31"), "week")
    assert (buckets[0], ends[0]) == ("2024-05-03", "2024-05-05")
    assert values == [2, 2, 0, 0, 0]


def test_weekly_ratio_series(engine):
    # Referrals by week handed: 1–5 May H1 (Fri → Tue over the bank holiday: 1 business day) and H2 (2) → 1/2;
    # 6–12 May H3 (Fri → Mon: 1) and H4 (2) → 1/2; 13–26 May none → no value; 27–31 May H5, H6 never → 0/2.
    _, _, values, s = series_of(engine, "callback_within_1_day", MAY, "week")
    assert list(s["numerator"]) == [1, 1, 0, 0, 0]
    assert list(s["denominator"]) == [2, 2, 0, 0, 2]
    assert values == [0.5, 0.5, None, None, 0.0]
    assert list(s["status"]) == ["insufficient_data"] * 5        # 2 referrals < min_denominator 20


def test_weekly_snapshot_series(engine):
    # open_backlog at the end of each week (the first instant after it):
    #   6 May 00:00: R1 (closed 9 May), R2 (closed 6 May 09:00), R3 (closed 10 May), R4 (never) = 4
    #  13 May 00:00: R4 = 1 (R7 is created 13 May 09:00)
    #  20 May 00:00: R4, R7 (closed 20 May 09:00) = 2
    #  27 May 00:00: R4 = 1 (R9 created 20 May, closed 21 May)
    #   1 Jun 00:00: R4, R8 (created 30 May) = 2
    _, _, values, _ = series_of(engine, "open_backlog", MAY, "week")
    assert values == [4, 1, 2, 1, 2]


def test_monthly_series_partial_at_both_ends(engine):
    # 10 Apr – 2 May by month: 10–30 Apr → c8 = 1; 1–2 May → c1 c2 = 2.
    buckets, ends, values, _ = series_of(engine, "calls_offered", P("2024-04-10", "2024-05-02"), "month")
    assert (buckets, ends, values) == (["2024-04-10", "2024-05-01"], ["2024-04-30", "2024-05-02"], [1, 2])


def test_quarterly_series(engine):
    # 15 Feb – 10 Aug 2024 by quarter: Q1 part none; Q2 c8 + c1..c6 = 7; Q3 part none.
    buckets, ends, values, _ = series_of(engine, "calls_offered", P("2024-02-15", "2024-08-10"), "quarter")
    assert buckets == ["2024-02-15", "2024-04-01", "2024-07-01"]
    assert ends == ["2024-03-31", "2024-06-30", "2024-08-10"]
    assert values == [0, 7, 0]


def test_yearly_series(engine):
    # Requests created R1..R9 are all in 2024 (20 Apr – 30 May).
    buckets, ends, values, _ = series_of(engine, "requests_opened", P("2023-06-01", "2025-02-01"), "year")
    assert buckets == ["2023-06-01", "2024-01-01", "2025-01-01"]
    assert ends == ["2023-12-31", "2024-12-31", "2025-02-01"]
    assert values == [0, 9, 0]


def test_daily_series_over_the_leap_day(engine):
    buckets, _, values, _ = series_of(engine, "calls_offered", P("2024-02-28", "2024-03-01"), "day")
    assert (buckets, values) == (["2024-02-28", "2024-02-29", "2024-03-01"], [0, 0, 0])


# --- breakdowns by team and by directorate -------------------------------------------------------------
def rows(df, *cols):
    return [tuple(None if (isinstance(v, float) and v != v) else v for v in r) for r in df[list(cols)].itertuples(index=False)]


def test_breakdown_by_team_within_a_department(engine):
    # Housing's teams, requests created in May: housing_repairs R1 R2 R8 = 3 (R4 was created in April);
    # housing_tenancy none.
    b = engine.breakdown(SYSTEM, "requests_opened", Scope("department", "housing"), MAY, by="team")
    assert rows(b, "grp", "name", "value") == [("housing_repairs", "Repairs", 3), ("housing_tenancy", "Tenancy services", 0)]


def test_breakdown_by_team_of_a_ratio(engine):
    # Contact centre teams, grade_of_service in May: cc_phones c1 c2 c4 c5 (c3 is a short abandon) with c1 c5
    # answered within 20 s → 2/4; cc_digital and cc_counter have no calls → 0/0, no value.
    b = engine.breakdown(SYSTEM, "grade_of_service", Scope("department", "contact_centre"), MAY, by="team")
    assert rows(b, "grp", "numerator", "denominator", "value") == [
        ("cc_phones", 2, 4, 0.5), ("cc_digital", 0, 0, None), ("cc_counter", 0, 0, None)]


def test_breakdown_by_team_shows_a_department_with_rows_of_its_own(engine):
    # recognitions_per_100_staff, May: thanks K1 to S1 (cc_phones); staff in post at 1 Jun: cc_phones S1 (S4 left
    # 31 May, S5 starts 1 Jun), contact_centre itself S3 (the head, in no team).
    # cc_phones 1 / 1 × 100 = 100; cc_digital, cc_counter 0 / 0; Contact Centre (not in a team) 0 / 1 × 100 = 0.
    b = engine.breakdown(SYSTEM, "recognitions_per_100_staff", Scope("department", "contact_centre"), MAY, by="team")
    assert rows(b, "grp", "name", "numerator", "denominator", "value") == [
        ("cc_phones", "Phones team", 1, 1, 100.0), ("cc_digital", "Digital & email team", 0, 0, None),
        ("cc_counter", "Customer service counter", 0, 0, None),
        ("contact_centre", "Contact Centre (not in a team)", 0, 1, 0.0)]


def test_breakdown_of_the_organisation_by_team_adds_up(config, engine):
    # first_contact_resolution, May: cc_phones c1 c2 c3 c4 c5 c7 with c1 c5 c7 resolved → 3/6; housing_repairs c6 → 1/1;
    # the other 23 teams 0/0. Together 4/7, the organisation's figure.
    b = engine.breakdown(SYSTEM, "first_contact_resolution", ORGANISATION, MAY, by="team").set_index("grp")
    teams = [k for k, d in config.departments.items() if d.level == "team"]
    assert list(b.index) == teams and len(teams) == 25
    assert (b.at["cc_phones", "numerator"], b.at["cc_phones", "denominator"]) == (3, 6)
    assert (b.at["housing_repairs", "numerator"], b.at["housing_repairs", "denominator"]) == (1, 1)
    others = b.drop(["cc_phones", "housing_repairs"])
    assert (others["numerator"] == 0).all() and (others["denominator"] == 0).all()
    assert (b["numerator"].sum(), b["denominator"].sum()) == (4, 7)


def test_breakdown_by_directorate(engine):
    # Requests created in May: Customer & Digital = R9 (cc_phones) + R5 R6 R7 (it_service_desk) = 4;
    # Place & Environment = R1 R2 R8 (housing_repairs) = 3; Resources & Communities none.
    b = engine.breakdown(SYSTEM, "requests_opened", ORGANISATION, MAY, by="directorate")
    assert rows(b, "grp", "name", "value") == [("customer_digital", "Customer & Digital Services", 4),
                                               ("place", "Place & Environment", 3),
                                               ("resources", "Resources & Communities", 0)]


def test_breakdown_by_directorate_of_a_ratio_with_targets(engine):
    # sla_attainment, May: customer_digital R3 kept → 1/1; place R1 kept, R2 late → 1/2; resources 0/0.
    # Housing's own target (0.80) applies to housing and below, not to the directorate above it: 0.85 everywhere.
    b = engine.breakdown(SYSTEM, "sla_attainment", ORGANISATION, MAY, by="directorate")
    assert rows(b, "grp", "numerator", "denominator", "value", "target") == [
        ("customer_digital", 1, 1, 1.0, 0.85), ("place", 1, 2, 0.5, 0.85), ("resources", 0, 0, None, 0.85)]
