"""What moved this figure (metrics/features/moved.py), worked by hand on the fixture (tests/fixture.sql).

Calls answered within 20 s for the organisation, April → May 2024, by department:
- April: c8 (contact centre) answered in 15 s → 1 of 1; May: the contact centre's c1 c2 c4 c5 (c3 is a short
  abandon, not counted) with c1 and c5 in time → 2 of 4; Housing's c6 (30 s) → 0 of 1. Organisation: 1.0 → 2/5 = 0.4,
  a change of -0.6.
- Shares of the calls: contact centre 1 → 4/5, Housing 0 → 1/5. Rates: contact centre 1 → 1/2; Housing — → 0 (new in
  May: it keeps May's rate for April).
- Contact centre: rate (0.5 - 1) × (1 + 0.8) / 2 = -0.45; mix (0.8 - 1) × (1 + 0.5) / 2 = -0.15. Housing: rate 0,
  mix (0.2 - 0) × (0 + 0) / 2 = 0. Sum -0.6: the change, exactly.
Calls offered (a count): April 1 (c8), May 6 (c1–c6): contact centre +4 (1 → 5), Housing +1 (0 → 1).

By a dimension (a source's `dimensions:` in config.yaml): see each test's docstring for the rows and the arithmetic.
"""
import json
import math
from pathlib import Path

import pytest

from metrics.access import SYSTEM, Viewer
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.periods import month
from metrics.compute.query import Grouping
from metrics.cli.main import main
from metrics.compute.engine import Engine
from metrics.errors import MetricsError
from metrics.features import moved
from metrics.store.database import connect
from tests.conftest import demo_sign_in, with_columns

MAY = month(2024, 5)


def test_a_ratio_splits_into_rate_and_mix_that_sum_to_the_change(engine):
    e = moved.explain(engine, SYSTEM, "grade_of_service", ORGANISATION, MAY, by="department")
    assert (e.before, e.after) == (pytest.approx(1.0), pytest.approx(0.4))
    assert e.change == pytest.approx(-0.6, abs=1e-12)
    parts = {p.group: p for p in e.parts}
    assert parts["contact_centre"].rate == pytest.approx(-0.45, abs=1e-12)
    assert parts["contact_centre"].mix == pytest.approx(-0.15, abs=1e-12)
    assert (parts["housing"].rate, parts["housing"].mix) == (pytest.approx(0, abs=1e-12), pytest.approx(0, abs=1e-12))
    assert abs(sum(p.total for p in e.parts) + e.not_shown - e.change) < 1e-12
    assert abs(e.not_shown) < 1e-12                      # every call belongs to a department here
    assert e.words.startswith("Calls answered within 20 seconds fell 60.0 pts (worse): Contact Centre -45.0 pts from "
                              "its own rate, -15.0 pts from a smaller share of the volume")


def test_a_count_splits_into_each_groups_change(engine):
    e = moved.explain(engine, SYSTEM, "calls_offered", ORGANISATION, MAY, by="department")
    assert e.change == 5 and e.kind == "count"
    assert {p.group: p.total for p in e.parts} == {"contact_centre": 4, "housing": 1}
    assert abs(sum(p.total for p in e.parts) + e.not_shown - e.change) < 1e-12


def test_groups_the_viewer_may_not_see_are_one_line_and_the_parts_still_add_up(engine):
    # Ann (S1) sees her own figures only: by person, Bob's (S2) and everyone else's are "not shown".
    ann = Viewer("Ann", "staff", "cc_phones", "S1")
    e = moved.explain(engine, ann, "grade_of_service", ORGANISATION, MAY, by="staff")
    assert {p.group for p in e.parts} <= {"S1"}
    assert abs(sum(p.total for p in e.parts) + e.not_shown - e.change) < 1e-12
    cat = Viewer("Cat", "executive", "contact_centre", "S3")
    everyone = moved.explain(engine, cat, "grade_of_service", ORGANISATION, MAY, by="staff")
    assert {p.group for p in everyone.parts} > {p.group for p in e.parts}


def test_effects_are_in_the_figures_own_units_and_a_rate_with_no_denominator_stays_not_shown(engine):
    """Complaints per 1,000 contacts (complaints ÷ contacts × 1000), organisation, by department.
    April: Contact Centre 0 complaints / 1 contact (c8); Housing 1 complaint (F7) / 0 contacts. Organisation 1/1 → 1000.
    May: Contact Centre 1 (F8) / 6 (c1–c5, c7); Housing 2 (F6, F10) / 1 (c6). Organisation 3/7 → 3000/7.
    Change 3000/7 - 1000 = -4000/7.
    Contact Centre: shares 1 → 6/7, rates 0 → 1000/6: rate (1000/6) × (13/7) / 2 = 3250/21, mix (-1/7) × (1000/6) / 2
    = -250/21. Housing: April has no contacts, so no rate (it keeps May's 2000): rate 0, mix (1/7) × 2000 = 2000/7.
    Shown: 3250/21 - 250/21 + 6000/21 = 3000/7; "not shown": -4000/7 - 3000/7 = -1000 — Housing's April complaint,
    which had no contacts to be a rate of."""
    e = moved.explain(engine, SYSTEM, "complaints_per_1000_contacts", ORGANISATION, MAY, by="department")
    assert (e.before, e.after) == (pytest.approx(1000, abs=1e-9), pytest.approx(3000 / 7, abs=1e-9))
    parts = {p.group: p for p in e.parts}
    assert parts["contact_centre"].rate == pytest.approx(3250 / 21, abs=1e-9)
    assert parts["contact_centre"].mix == pytest.approx(-250 / 21, abs=1e-9)
    assert (parts["housing"].rate, parts["housing"].mix) == (pytest.approx(0, abs=1e-9), pytest.approx(2000 / 7, abs=1e-9))
    assert e.not_shown == pytest.approx(-1000, abs=1e-9)
    assert abs(sum(p.total for p in e.parts) + e.not_shown - e.change) < 1e-9


def test_a_median_does_not_split(engine):
    median = next(k for k, m in engine.config.metrics.items()
                  if m.type == "simple" and m.measure.agg == "median")
    with pytest.raises(MetricsError, match="does not split into parts"):
        moved.explain(engine, SYSTEM, median, ORGANISATION, MAY)


def test_rate_and_mix_by_hand_for_new_and_vanished_groups():
    # A: 3/4 → 1/2; B: 1/4 → 0 rows (vanished: keeps its rate); C: 0 rows → 3/6 (new). Totals 4/8 → 4/8.
    effects = moved.ratio_effects({"A": (3, 4, 1, 2), "B": (1, 4, 0, 0), "C": (0, 0, 3, 6)})
    # A: w 0.5 → 0.25, r 0.75 → 0.5: rate -0.25 × 0.375 = -0.09375; mix -0.25 × 0.625 = -0.15625
    assert effects["A"] == (pytest.approx(-0.09375), pytest.approx(-0.15625))
    # B: w 0.5 → 0, r 0.25 both: rate 0; mix -0.5 × 0.25 = -0.125. C: w 0 → 0.75, r 0.5: mix 0.75 × 0.5 = 0.375
    assert effects["B"] == (pytest.approx(0), pytest.approx(-0.125))
    assert effects["C"] == (pytest.approx(0), pytest.approx(0.375))
    assert abs(sum(r + m for r, m in effects.values()) - (4 / 8 - 4 / 8)) < 1e-12


def test_the_overview_says_what_moved_a_card_as_the_command_line_does(env, config, capsys):
    at, viewer = demo_sign_in("executive", env, config)
    at.selectbox(key="moved-overview").set_value("csat")
    at.run()
    assert not at.exception
    eng = Engine.open(env, config)
    e = moved.explain(eng, viewer, "csat", ORGANISATION, eng.default_period())
    shown = [m.value.replace("\\", "") for m in at.markdown]
    assert e.words in shown
    assert main(["explain", "csat", "--json", "--db", env]) == 0
    assert json.loads(capsys.readouterr().out)["words"] == e.words       # the command line sees the same
    # Split by the channel instead: the page offers the metric's dimensions and says what the command line says.
    at.selectbox(key="moved-overview").set_value("first_contact_resolution")
    at.run()
    assert "Channel" in at.selectbox(key="moved-by-overview").options
    at.selectbox(key="moved-by-overview").set_value("channel")
    at.run()
    assert not at.exception
    by_channel = moved.explain(eng, viewer, "first_contact_resolution", ORGANISATION, eng.default_period(), "channel")
    assert by_channel.words in [m.value.replace("\\", "") for m in at.markdown]
    assert main(["explain", "first_contact_resolution", "--by", "channel", "--json", "--db", env]) == 0
    assert json.loads(capsys.readouterr().out)["words"] == by_channel.words


# --- by a dimension ----------------------------------------------------------------------------------------------


def test_a_ratio_splits_by_channel_into_rate_and_mix_that_sum_to_the_change(engine):
    """Sorted at first contact (contacts resolved_first_contact / contacts) for the organisation, by channel.

    April: c8 phone, not resolved → phone 0/1; organisation 0/1 = 0.
    May: phone c1 (resolved) c2 (no) c3 (no) c4 (no) c5 (resolved) c6 (resolved) → 3/6; email c7 (resolved) → 1/1;
    organisation 4/7. Change 4/7 - 0 = 4/7.
    Shares: phone 1 → 6/7, email 0 → 1/7. Rates: phone 0 → 1/2; email — → 1 (new in May: keeps May's rate).
    Phone: rate (1/2 - 0) × (1 + 6/7) / 2 = 13/28; mix (6/7 - 1) × (0 + 1/2) / 2 = -1/28.
    Email: rate 0; mix (1/7 - 0) × (1 + 1) / 2 = 1/7 = 4/28. Sum (13 - 1 + 4)/28 = 16/28 = 4/7: the change.
    Words at one decimal of a percentage point: 4/7 = 57.1 pts, 13/28 = 46.4, 1/28 = 3.6, 1/7 = 14.3.
    """
    e = moved.explain(engine, SYSTEM, "first_contact_resolution", ORGANISATION, MAY, by="channel")
    assert (e.before, e.after, e.kind) == (pytest.approx(0.0, abs=1e-12), pytest.approx(4 / 7, abs=1e-12), "ratio")
    assert e.change == pytest.approx(4 / 7, abs=1e-12)
    parts = {p.group: p for p in e.parts}
    assert set(parts) == {"phone", "email"} and parts["phone"].name == "phone"
    assert parts["phone"].rate == pytest.approx(13 / 28, abs=1e-12)
    assert parts["phone"].mix == pytest.approx(-1 / 28, abs=1e-12)
    assert parts["email"].rate == pytest.approx(0, abs=1e-12)
    assert parts["email"].mix == pytest.approx(1 / 7, abs=1e-12)
    assert abs(e.not_shown) < 1e-12                               # every contact has a channel
    assert abs(sum(p.rate + p.mix for p in e.parts) + e.not_shown - e.change) < 1e-12
    assert e.words == ("Sorted at first contact rose 57.1 pts (better): phone +46.4 pts from its own rate, -3.6 pts "
                       "from a smaller share of the volume; email +14.3 pts from a larger share of the volume.")


def test_a_count_splits_by_category_into_each_values_change(engine):
    """Requests opened (requests by created_at) for the organisation, by category.

    April: R3 Query, R4 Repair → 2. May: R1 R2 R8 Repair, R5 IT access, R6 Web form, R7 Laptop, R9 Query → 7.
    Change +5 = Repair +2 (1 → 3) + IT access +1 + Web form +1 + Laptop +1 + Query 0 (1 → 1).
    """
    e = moved.explain(engine, SYSTEM, "requests_opened", ORGANISATION, MAY, by="category")
    assert e.kind == "count" and e.change == 5
    assert {p.group: p.total for p in e.parts} == {"Repair": 2, "IT access": 1, "Web form": 1, "Laptop": 1, "Query": 0}
    assert e.parts[0].name == "Repair" and e.not_shown == 0
    assert e.words == "Requests opened rose 5: Repair +2; IT access +1; Laptop +1."       # ties by name


def test_rows_with_no_value_are_a_group_of_their_own(engine):
    """Compliments (feedback kind compliment) by theme: April none; May F11 and F12, both with no theme → one group,
    "(none)", +2 — named, so nothing is left "not shown"."""
    e = moved.explain(engine, SYSTEM, "compliments", ORGANISATION, MAY, by="theme")
    assert e.change == 2 and [(p.group, p.name, p.total) for p in e.parts] == [(None, "(none)", 2)]
    assert e.not_shown == 0


def test_a_breakdown_by_a_dimension_takes_the_scopes_own_target_and_a_persons_own_rows(engine):
    """Promises kept (external requests closed in the period with a due time; kept if closed_at <= due_at), May.
    Housing's: R1 (Repair, closed 9 May 17:00 = due: kept) and R2 (Repair, closed 6 May, due 3 May: late) → Repair 1/2,
    judged against Housing's own target 0.80 / 0.70; the organisation adds R3 (Query, cc_phones, closed 10 May, due
    10 May 17:00: kept) → Query 1/1, Repair 1/2, against the default 0.85 / 0.75.
    Sorted at first contact for Ann (S1) by channel, May: her c1 (resolved), c2 (no), c5 (resolved) → phone 2/3, her
    c7 (resolved) → email 1/1 (c3 c4 have no person, c6 is Bob's)."""
    housing = engine.breakdown(SYSTEM, "sla_attainment", Scope("department", "housing"), MAY, by="category")
    assert list(housing["grp"]) == ["Repair"] and list(housing["name"]) == ["Repair"]
    assert (housing["numerator"][0], housing["denominator"][0]) == (1, 2)
    assert (housing["target"][0], housing["warning"][0]) == (0.80, 0.70)
    org = engine.breakdown(SYSTEM, "sla_attainment", ORGANISATION, MAY, by="category")
    assert list(zip(org["grp"], org["numerator"], org["denominator"])) == [("Query", 1, 1), ("Repair", 1, 2)]
    assert set(org["target"]) == {0.85} and set(org["warning"]) == {0.75}
    ann = engine.breakdown(SYSTEM, "first_contact_resolution", Scope("staff", "S1"), MAY, by="channel")
    assert list(zip(ann["grp"], ann["numerator"], ann["denominator"])) == [("email", 1, 1), ("phone", 2, 3)]


def test_small_survey_groups_by_a_dimension_are_suppressed(engine):
    """Customers satisfied (customer surveys with csat >= 4 / with a csat), May: F1 outcome 5, F2 outcome 4, F3 repairs
    2, F4 repairs 3, F5 repairs 1. By theme: outcome 2 answers, repairs 3 — both under privacy.min_group_size 5, so
    neither is shown (the organisation's own 2/5 is). By source: customer 5 answers (F1–F5), 2 of them >= 4 → 2/5,
    shown. Colleagues satisfied (staff surveys): F13 and F14 have no theme → "(none)", 2 answers: suppressed."""
    by_theme = engine.breakdown(SYSTEM, "csat", ORGANISATION, MAY, by="theme")
    assert list(by_theme["grp"]) == ["outcome", "repairs"]
    assert list(by_theme["status"]) == ["suppressed", "suppressed"]
    assert all(math.isnan(x) for c in ("numerator", "denominator", "value") for x in by_theme[c])
    assert engine.value(SYSTEM, "csat", ORGANISATION, MAY).value == pytest.approx(2 / 5)
    by_source = engine.breakdown(SYSTEM, "csat", ORGANISATION, MAY, by="source")
    assert list(zip(by_source["grp"], by_source["numerator"], by_source["denominator"])) == [("customer", 2, 5)]
    assert list(by_source["status"]) != ["suppressed"] and by_source["value"][0] == pytest.approx(2 / 5)
    staff = engine.breakdown(SYSTEM, "internal_csat", ORGANISATION, MAY, by="theme")
    assert list(zip(staff["grp"], staff["name"], staff["status"])) == [(None, "(none)", "suppressed")]


def test_an_unknown_dimension_is_one_sentence_naming_what_is_accepted(engine):
    with pytest.raises(MetricsError) as e:
        moved.explain(engine, SYSTEM, "first_contact_resolution", ORGANISATION, MAY, by="colour")
    assert str(e.value) == ("Sorted at first contact cannot be split by 'colour'; use one of directorate, department, "
                            "team, staff, channel (its source 'contacts' declares the dimension channel)")
    with pytest.raises(MetricsError, match="its sources 'complaints' and 'contacts' have no dimension in common"):
        engine.breakdown(SYSTEM, "complaints_per_1000_contacts", ORGANISATION, MAY, by="channel")
    with pytest.raises(MetricsError, match=r"^Average handling time comes from pre-aggregated figures "
                                           r"\(kpi_observations\), which cannot be split by 'channel'"):
        engine.breakdown(SYSTEM, "avg_handle_time", ORGANISATION, MAY, by="channel")
    metric = engine.metric("complaints_per_1000_contacts")        # the SQL's own check, for any caller of the builder
    with pytest.raises(MetricsError, match="cannot be split by 'theme'"):
        engine.builder.build(metric, engine.rows_for(metric, ORGANISATION), MAY, Grouping(column="theme"))


def test_the_ways_a_change_can_be_split(engine):
    assert moved.splits(engine, "first_contact_resolution", ORGANISATION) == [
        ("department", "Department"), ("staff", "Person"), ("channel", "Channel")]
    assert moved.splits(engine, "sla_attainment", Scope("department", "housing")) == [
        ("team", "Team"), ("staff", "Person"), ("category", "Category"), ("channel", "Channel"), ("priority", "Priority")]
    assert moved.splits(engine, "csat", Scope("team", "cc_phones")) == [
        ("staff", "Person"), ("kind", "Kind"), ("source", "Source"), ("theme", "Theme")]
    assert moved.splits(engine, "first_contact_resolution", Scope("staff", "S1")) == [("channel", "Channel")]
    assert moved.splits(engine, "complaints_per_1000_contacts", ORGANISATION) == [
        ("department", "Department"), ("staff", "Person")]                    # no dimension common to both sources
    assert moved.splits(engine, "avg_handle_time", ORGANISATION) == [("department", "Department")]
    assert moved.splits(engine, "median_resolution_hours", ORGANISATION) == []  # a median does not split


def test_the_figure_store_leaves_a_cut_by_a_dimension_to_the_live_engine(engine):
    stored = Engine(engine.con, engine.config, figure_store="wait")
    assert stored.served_figures() is not None
    a = engine.frame(SYSTEM, "first_contact_resolution", ORGANISATION, MAY, by="channel")
    b = stored.frame(SYSTEM, "first_contact_resolution", ORGANISATION, MAY, by="channel")
    assert a.equals(b) and list(b["denominator"]) == [1, 6]         # email c7; phone c1–c6


@pytest.fixture
def fixture_file(tmp_path, config):
    path = tmp_path / "fixture.duckdb"
    con = connect(path, config, create=True)
    con.execute(with_columns(con, (Path(__file__).parent / "fixture.sql").read_text(encoding="utf-8")))
    con.close()
    return str(path)


def test_the_command_line_explains_by_channel(fixture_file, capsys):
    """The first test's numbers (13/28, -1/28; 0, 1/7), from `explain --by channel --json`; an unknown --by: exit 2."""
    args = ["explain", "first_contact_resolution", "--by", "channel", "--from", "2024-05-01", "--to", "2024-05-31",
            "--db", fixture_file]
    assert main(args + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["change"] == pytest.approx(4 / 7, abs=1e-12) and out["kind"] == "ratio"
    parts = {p["group"]: p for p in out["parts"]}
    assert (parts["phone"]["rate"], parts["phone"]["mix"]) == (pytest.approx(13 / 28, abs=1e-12),
                                                               pytest.approx(-1 / 28, abs=1e-12))
    assert (parts["email"]["rate"], parts["email"]["mix"]) == (pytest.approx(0, abs=1e-12),
                                                               pytest.approx(1 / 7, abs=1e-12))
    assert out["words"].startswith("Sorted at first contact rose 57.1 pts (better): phone +46.4 pts")
    assert main(args[:3] + ["colour"] + args[4:]) == 2
    err = capsys.readouterr().err
    assert "Sorted at first contact cannot be split by 'colour'; use one of" in err and len(err.strip().splitlines()) == 1
