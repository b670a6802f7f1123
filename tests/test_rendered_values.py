"""What a person reads on a page: no None, nan, NaN or NaT, no raw department key or staff id, no raw timestamp
in a table (issue 15).

Every page is rendered for every role in AppTest (as tests/test_pages.py signs in), and every value shown —
metric values and deltas, table cells and headers, titles, markdown, captions and info/success/warning
text — is checked. Department keys come from config.departments and staff ids from the staff table; a key
that is also an ordinary word (`housing`, `waste`, `it`) is only a leak when it is a whole cell or a whole
metric value, a key with an underscore (`housing_repairs`) or a staff id (`S0167`) anywhere as a whole word. A
table cell or metric value holding an ISO date (`2025-10-09 23:59:59`) is a raw timestamp: dates read `9 Oct 2025`.
(Captions may say "2025-10-01 to 2025-10-31": the period, as the sidebar's date picker writes it.) Widget keys
and URLs are not shown and are not checked.

The page-data functions behind the tables are then checked by hand on the fixture organisation
(tests/fixture.sql): a goal score for a department with too little data, and a waiting list with its
dates, team names and people as the viewer may see them.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import app_cache
from metrics.access import SYSTEM, Viewer
from metrics.catalogue.scope import Scope
from metrics.compute.engine import Engine
from metrics.compute.periods import Period, month
from metrics import formatting
from metrics.present import views
from tests.conftest import demo_sign_in

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"executive": ("overview", "department", "my_contribution", "voice", "chain", "benchmark", "ideas",
                       "you_said", "definitions"),
         "head": ("overview", "department", "my_contribution", "voice", "chain", "benchmark", "ideas", "you_said",
                  "definitions"),
         "staff": ("department", "my_contribution", "voice", "chain", "ideas", "you_said", "definitions"),
         "admin": ("overview", "department", "ideas", "you_said", "definitions", "data", "users")}
MISSING_WORDS = re.compile(r"\b(None|nan|NaN|NaT|<NA>)\b")
RAW_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")           # a cell reading 2025-10-09 (23:59:59), not 9 Oct 2025


@pytest.fixture(scope="module")
def leaks(app_db, config):
    """A function naming every leak in a text or a whole cell."""
    eng = Engine.open(app_db, config, read_only=True)
    staff_ids = set(eng.read_store("SELECT staff_id FROM staff")["staff_id"])
    eng.con.close()
    coded = {k for k in config.departments if "_" in k} | staff_ids      # never an ordinary word
    words = set(config.departments) - coded                              # `housing`, `it`: leaks as a whole cell
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, coded), key=len, reverse=True)) + r")\b")

    def found(text, whole: bool = False) -> list[str]:
        text = str(text)
        out = MISSING_WORDS.findall(text) + pattern.findall(text)
        if whole and text.strip() in words:
            out.append(text.strip())
        if whole:
            out += RAW_DATE.findall(text)
        return out
    return found


def sign_in(role: str, db: str, config) -> AppTest:
    return demo_sign_in(role, db, config, timeout=180)[0]


def shown(at: AppTest):
    """(where, text, whole) for everything the page shows as text."""
    for m in at.metric:
        yield f"metric {m.label!r}", m.value, True
        if m.delta is not None:
            yield f"delta of {m.label!r}", m.delta, True
    for i, d in enumerate(at.dataframe):
        df = d.value
        for c in df.columns:
            yield f"table {i} header", c, True
        for c in df.columns:
            for r, v in enumerate(df[c]):
                if isinstance(v, (list, dict)):
                    v = repr(v)
                elif isinstance(v, (dt.date, pd.Timestamp)) and not pd.isna(v):
                    v = str(v)                              # what the grid shows for a date: 2025-10-09 23:59:59
                elif not isinstance(v, (str, bool)) and pd.isna(v):
                    v = f"None (a missing {v!r}: the grid shows a grey None)"
                yield f"table {i} {c!r} row {r}", v, True
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning", "error"):
        for e in getattr(at, kind):
            yield kind, e.value, False


@pytest.mark.parametrize("role", list(PAGES))
def test_no_page_shows_a_missing_value_a_department_key_or_a_staff_id(env, config, leaks, role):
    at = sign_in(role, env, config)
    problems, values = {}, 0
    for page in PAGES[role]:
        at.switch_page(str(ROOT / f"pages/{page}.py"))
        at.run()
        if at.exception:
            problems[f"{page}: failed"] = [e.message[:300] for e in at.exception]
        assert at.title, (role, page)
        for where, text, whole in shown(at):
            values += 1
            if bad := leaks(text, whole):
                # one line per place (a table column, a kind of text), with its first example
                problems.setdefault(f"{page}: {where.split(' row ')[0]}", f"{sorted(set(bad))} in {str(text)[:150]!r}")
    assert values > 50 * len(PAGES[role])          # the pages really were read
    assert not problems, f"leaks for {role}:\n" + "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_the_leak_check_catches_each_kind(leaks, config):
    """The check itself: each kind of leak is found, names and ordinary words are not."""
    assert leaks("Score None") == ["None"] and leaks("nan %") == ["nan"] and leaks("due NaT") == ["NaT"]
    assert leaks("Waiting on S0001") == ["S0001"]
    assert leaks("team housing_repairs, 3 overdue") == ["housing_repairs"]
    assert leaks("housing", whole=True) == ["housing"] and leaks("housing repairs are slow") == []
    assert leaks("Nonesuch Road, Nanette, 9 Oct 2025") == [] and leaks("9 Oct 2025", whole=True) == []
    assert leaks("2025-10-09 23:59:59", whole=True) == ["2025-10-09"]
    assert leaks(config.departments["housing_repairs"].name, whole=True) == []


# --- the page data behind those tables, by hand on the fixture (tests/fixture.sql) -------------------------
MAY = month(2024, 5)
HEAD_HOUSING = Viewer("Hana", "head", "housing", None)         # manages nobody in the staff table
BOB = Viewer("Bob", "staff", "housing_repairs", "S2")


def test_a_department_with_no_goal_score_reads_a_dash(config, engine):
    from tests.test_goals_by_hand import hand_config
    hand = Engine(engine.con, hand_config(config))
    rows = {d: views.department_contribution(hand, SYSTEM, d, MAY).set_index("Goal").loc["Hand-worked"]
            for d in ("housing", "it")}
    # Housing: (1 × 0.4 + ½ × 0.3 + 0 × 0.2) / 0.9 = 11/18 = 0.611 → "61 %"; misses: I3 of I2, I3 → ½ → "50 %".
    assert (rows["housing"]["Our score"], rows["housing"]["Share of all misses"]) == ("61 %", "50 %")
    assert rows["housing"]["Status"] == "▲ Warning"                 # 0.5 ≤ 0.611 < 0.75
    # IT: no invoices → no measure scores → no score: "–" (it was None on the page); no misses of 2 → "0 %";
    # no score → not enough data by the goal's rule (it read "✖ Off target" before 3b6ac09).
    assert (rows["it"]["Our score"], rows["it"]["Misses with us"], rows["it"]["Share of all misses"]) == ("–", 0, "0 %")
    assert rows["it"]["Status"] == "… Not enough data"


def test_goal_scores_and_their_previous_period_read_as_percentages(config, engine):
    from tests.test_goals_by_hand import hand_config
    hand = Engine(engine.con, hand_config(config))
    row = views.goal_table(hand, SYSTEM, Scope("department", "housing"), MAY).set_index("goal").loc["hand_worked"]
    # May 11/18 → "61 %"; April: approval_days I3 19 d > 7 off target, nothing paid → 0 / 0.4 = 0 → "0 %".
    assert (row["Score"], row["Previous"], row["Status"]) == ("61 %", "0 %", "▲ Warning")
    # The real goals have too little data on the fixture: no score → "–", never None.
    real = views.goal_table(engine, SYSTEM, Scope("department", "housing"), MAY).set_index("goal")
    assert real.loc["promises_kept", "Score"] == "–" and real.loc["promises_kept", "Status"] == "… Not enough data"


# Housing at the end of Fri 31 May 2024 (the first instant after it: 1 Jun 00:00):
#   callbacks (referrals not returned by then, handed in the last 90 days): H5 handed Wed 29 May 10:00, due
#   Thu 30 May 23:59:59 → overdue; H6 handed Fri 31 May 10:00, due Mon 3 Jun → not yet; both to Bob (S2) in
#   housing_repairs ("Repairs"). H1–H4, H7, H8 were returned in May; H9 is a request, not a referral.
#   unhappy customers not followed up: F5 (CSAT 1, Mon 20 May 09:00; 2 business days → end of Wed 22 May) and
#   F10 (a complaint, Thu 23 May 09:00, resolved but never followed up; Fri 24 is day 1, Mon 27 May is the
#   Spring bank holiday, Tue 28 day 2 → end of Tue 28 May), both overdue, both naming nobody. F3, F4, F6, F7
#   were followed up. Overdue first, then oldest first.
WHAT = ["Unhappy customer to follow up", "Unhappy customer to follow up", "Callback to return", "Callback to return"]
SINCE = ["20 May 2024", "23 May 2024", "29 May 2024", "31 May 2024"]
DUE = ["22 May 2024", "28 May 2024", "30 May 2024", "3 Jun 2024"]
OVERDUE = ["⚠ Overdue", "⚠ Overdue", "⚠ Overdue", ""]


@pytest.mark.parametrize("viewer, bob", [(SYSTEM, "Bob"), (HEAD_HOUSING, "a colleague")])
def test_a_waiting_list_shows_team_names_people_and_dates(engine, viewer, bob):
    table, words = views.waiting_list(engine, viewer, Scope("department", "housing"), dt.date(2024, 5, 31))
    assert list(table.columns) == ["What", "Team", "Person", "Since", "Due", "Overdue"]
    assert list(table["What"]) == WHAT and list(table["Since"]) == SINCE and list(table["Due"]) == DUE
    assert list(table["Overdue"]) == OVERDUE
    assert list(table["Team"]) == ["Repairs"] * 4
    # Nobody named on F5 and F10 → "–"; Bob by name where the viewer may see him, else "a colleague".
    assert list(table["Person"]) == ["–", "–", bob, bob]
    assert words == "3 overdue of 4 at the end of 31 May 2024."


def test_my_own_waiting_list_needs_no_team_or_person(engine):
    table, words = views.waiting_list(engine, BOB, Scope("staff", "S2"), dt.date(2024, 5, 31))
    # Bob's: H5 and H6 (F5 and F10 name nobody; F3 and F4, followed up by him, are done).
    assert table.values.tolist() == [["Callback to return", "29 May 2024", "30 May 2024", "⚠ Overdue"],
                                     ["Callback to return", "31 May 2024", "3 Jun 2024", ""]]
    assert list(table.columns) == ["What", "Since", "Due", "Overdue"]
    assert words == "1 overdue of 2 at the end of 31 May 2024."
    # At the end of March 2024 nothing had been handed to him yet (the first referral, H8, is of 25 April) and
    # no unhappy customer names him: an empty list says so in words (the page shows no empty table).
    table, words = views.waiting_list(engine, BOB, Scope("staff", "S2"), dt.date(2024, 3, 31))
    assert table.empty and words == "Nothing was waiting at the end of 31 Mar 2024."


# --- the formatter itself -------------------------------------------------------------------------------
@pytest.mark.parametrize("gap", [None, float("nan"), pd.NaT, pd.NA])
def test_every_kind_of_gap_reads_a_dash(config, gap):
    csat = config.metrics["csat"]                       # a percent metric
    assert formatting.format_value(csat, gap) == "–" and formatting.format_delta(csat, gap) == "–"
    assert formatting.format_percent(gap) == "–" and formatting.format_date(gap) == "–"
    assert formatting.format_hours(gap) == "–" and formatting.format_cell(gap) == "–"
    assert formatting.format_percent(gap, missing="not enough data") == "not enough data"
    assert formatting.percent(gap) is None and formatting.format_change(csat, gap) == ""


def test_shares_dates_and_changes(config):
    csat, wait = config.metrics["csat"], config.metrics["avg_speed_of_answer"]
    assert csat.format == "percent" and csat.direction == "higher_is_better" and wait.direction == "lower_is_better"
    # 0.8125 × 100 = 81.25 → "81 %" with no decimals; a change of 0.025 → +2.5 points.
    assert formatting.format_percent(0.8125) == "81 %" and formatting.percent(0.8125) == pytest.approx(81.25)
    assert formatting.format_delta(csat, 0.025).startswith("+2.5") and formatting.format_delta(csat, 0.025).endswith(" pts")
    # Higher is better for csat: up is better, down is worse; for the speed of answer the other way round.
    assert formatting.change_word(csat, 0.025) == "better" and formatting.change_word(csat, -0.01) == "worse"
    assert formatting.change_word(wait, 3.0) == "worse" and formatting.change_word(wait, 0) == "no change"
    assert formatting.format_change(wait, -3.0) == f"better by {formatting.format_delta(wait, 3.0).lstrip('+')}"
    # A deadline at the end of a day is its day; an instant keeps its time.
    assert formatting.format_datetime(pd.Timestamp("2025-10-09 23:59:59")) == "9 Oct 2025"
    assert formatting.format_datetime(pd.Timestamp("2025-10-09 14:05:31")) == "9 Oct 2025 14:05"
    assert formatting.format_date(dt.date(2024, 5, 21), weekday=True) == "Tue 21 May 2024"
    assert formatting.format_period(month(2025, 12)) == "December 2025"
    assert formatting.format_period(Period(dt.date(2023, 1, 1), dt.date(2025, 12, 31))) == "January 2023 to December 2025"
    assert formatting.format_period(Period(dt.date(2025, 11, 3), dt.date(2025, 11, 16))) == "3 Nov 2025 to 16 Nov 2025"


def test_a_frame_as_people_read_it(config):
    df = pd.DataFrame({"department_id": ["housing_repairs", None], "staff_id": ["S2", None],
                       "due": [pd.Timestamp("2025-10-09 23:59:59"), pd.NaT], "csat": pd.array([4, None], dtype="Int64"),
                       "linked_metric": ["csat", None]})
    names = {k: d.name for k, d in config.departments.items()}
    shown = formatting.readable(df, names, {"S2": "Bob"}, {"csat": config.metrics["csat"].label})
    assert shown.values.tolist() == [["Repairs", "Bob", "9 Oct 2025", "4", config.metrics["csat"].label],
                                     ["–", "–", "–", "–", "–"]]
    # The download: names too, but ISO instants and empty cells for a spreadsheet.
    down = formatting.readable(df, names, {"S2": "Bob"}, for_download=True)
    assert list(down.iloc[0, :3]) == ["Repairs", "Bob", pd.Timestamp("2025-10-09 23:59:59")]
    assert down.iloc[1].isna().all()


def test_a_whole_column_of_instants_reads_as_each_instant_does():
    """readable formats a datetime column at once; every cell must read as format_datetime writes it alone."""
    import numpy as np
    rng = np.random.default_rng(7)
    seconds = rng.integers(0, 3 * 365 * 86400, 2000)
    col = pd.Series(pd.Timestamp("2023-01-01") + pd.to_timedelta(seconds, unit="s"))
    col[::97] = pd.NaT
    col[1::89] = col[1::89].dt.normalize()                                   # midnights
    col[2::83] = col[2::83].dt.normalize() + pd.Timedelta("23:59:59")        # ends of day
    shown = formatting.readable(pd.DataFrame({"when": col}))["when"]
    assert list(shown) == [formatting.format_datetime(v) for v in col]
