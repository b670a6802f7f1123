"""People move (migration 008, staff_assignments): a person's past stays with the team they had then, today's line of
management decides who sees their figures, and unloading the move puts everything back.

Worked by hand on the fixture (tests/fixture.sql): Ann (S1) works in cc_phones under Cat (S3, head of the contact
centre) since 2020. A staff export loaded here moves her to housing_repairs under Hal (S6, a new head of Housing)
from 15 May 2024; she answers one call there on 20 May (c9).

Headcount is "in post at the end of the period": an assignment opened before the first instant after the period and
not closed before it (the at_period_end rule). In cc_phones: Ann; Dan (S4, 1 Jan – 31 May 2024, so not in post at
the end of May); Eve (S5) only from 1 June. In housing_repairs: Bob (S2).
"""
import datetime as dt

import pytest

from metrics.access import SYSTEM, Role, Viewer
from metrics.catalogue.scope import Scope
from metrics.compute.periods import Period, month
from metrics.errors import AccessDenied
from metrics.ingest.loader import load_file, unload

APRIL, MAY = month(2024, 4), month(2024, 5)
CAT = Viewer("cat@x", Role.HEAD, department_id="contact_centre", staff_id="S3")
HAL = Viewer("hal@x", Role.HEAD, department_id="housing", staff_id="S6")
ANN = Scope("staff", "S1")


def in_post(eng, team: str, period) -> float:
    """Staff in post in the team at the end of the period: recognitions_per_100_staff's denominator."""
    return eng.value(SYSTEM, "recognitions_per_100_staff", Scope("team", team), period, compare=False).denominator


def spans(eng, staff_id: str) -> list[tuple]:
    """A person's assignments: (team, manager, first day, day it ended or None), oldest first."""
    with eng.cursor() as cur:
        return cur.execute("SELECT department_id, manager_id, CAST(valid_from AS VARCHAR), CAST(valid_to AS VARCHAR) "
                           "FROM staff_assignments WHERE staff_id = $s ORDER BY valid_from", {"s": staff_id}).fetchall()


def calls(eng, scope, period) -> float:
    return eng.value(SYSTEM, "calls_offered", scope, period, compare=False).value


@pytest.fixture
def moved(fresh_engine, tmp_path):
    eng = fresh_engine
    eng.con.execute("""INSERT INTO contacts (contact_id, channel, received_at, answered_at, abandoned, wait_seconds,
                                             department_id, staff_id, resolved_first_contact, referred)
                       VALUES ('c9', 'phone', '2024-05-20 09:00', '2024-05-20 09:00:12', false, 12.0,
                               'housing_repairs', 'S1', true, false)""")
    before = {"cc_may": in_post(eng, "cc_phones", MAY), "housing_may": in_post(eng, "housing_repairs", MAY),
              "cc_april": in_post(eng, "cc_phones", APRIL)}
    assert eng.value(CAT, "calls_offered", ANN, MAY, compare=False).value == 4      # Cat manages Ann: c1 c2 c5 c9
    csv = tmp_path / "staff.csv"
    csv.write_text("staff_id,name,email,department_id,manager_id,active,started_on,left_on,assigned_from\n"
                   "S1,Ann,ann@x,housing_repairs,S6,true,2020-01-01,,2024-05-15\n"
                   "S6,Hal,hal@x,housing,,true,2019-03-01,,\n")
    result = load_file(eng.con, eng.config, "staff", csv, loaded_by="test")
    assert (result.inserted, result.updated) == (1, 1)
    return eng, before, result.batch_id


def test_before_the_move_counts_for_the_old_team_after_it_for_the_new_one(moved):
    eng, before, _ = moved
    # Before the load: end of April cc_phones had Ann and Dan (2); end of May only Ann (1), housing_repairs Bob (1).
    assert before == {"cc_april": 2, "cc_may": 1, "housing_may": 1}
    assert spans(eng, "S1") == [("cc_phones", "S3", "2020-01-01", "2024-05-15"),
                                ("housing_repairs", "S6", "2024-05-15", None)]
    assert in_post(eng, "cc_phones", APRIL) == 2            # April is before the move: Ann still counts there
    assert in_post(eng, "cc_phones", MAY) == 0              # at the end of May she had moved, Dan had left
    assert in_post(eng, "housing_repairs", MAY) == 2        # Bob and Ann
    # Her calls count where she took them: five phone calls in cc_phones (c1–c5), two in housing_repairs (c6, c9).
    assert calls(eng, Scope("team", "cc_phones"), MAY) == 5
    assert calls(eng, Scope("team", "housing_repairs"), MAY) == 2
    assert calls(eng, ANN, MAY) == 4                        # her own figure follows her: c1 c2 c5 c9


def test_her_figures_are_judged_against_the_target_of_the_team_she_was_in(moved):
    eng, _, _ = moved
    # sla_attainment's targets (config.yaml): the organisation 0.85 / 0.75, Housing (with its teams) 0.80 / 0.70.
    april = eng.value(SYSTEM, "sla_attainment", ANN, APRIL, compare=False)
    june = eng.value(SYSTEM, "sla_attainment", ANN, month(2024, 6), compare=False)
    assert (april.target, april.warning) == (0.85, 0.75)      # in the contact centre then: the organisation's
    assert (june.target, june.warning) == (0.80, 0.70)        # in housing_repairs from 15 May: Housing's
    series = eng.series(SYSTEM, "sla_attainment", ANN, Period(dt.date(2024, 4, 1), dt.date(2024, 6, 30)))
    # Each month is judged from its first day: 1 May is before the move on the 15th, so May keeps the organisation's.
    assert list(series["target"]) == [0.85, 0.85, 0.80]


def test_the_line_of_management_in_force_today_decides_who_sees_her_figures(moved):
    eng, _, _ = moved
    with pytest.raises(AccessDenied, match="managers above them"):
        eng.value(CAT, "calls_offered", ANN, MAY, compare=False)        # her old manager no longer sees them
    assert eng.value(HAL, "calls_offered", ANN, MAY, compare=False).value == 4


def test_unloading_the_move_puts_her_back(moved):
    eng, before, batch = moved
    unload(eng.con, batch)
    assert spans(eng, "S1") == [("cc_phones", "S3", "2020-01-01", None)]
    assert {"cc_april": in_post(eng, "cc_phones", APRIL), "cc_may": in_post(eng, "cc_phones", MAY),
            "housing_may": in_post(eng, "housing_repairs", MAY)} == before
    assert eng.value(CAT, "calls_offered", ANN, MAY, compare=False).value == 4


def test_a_move_without_a_date_takes_effect_the_day_it_was_loaded(fresh_engine, tmp_path):
    eng = fresh_engine
    csv = tmp_path / "staff.csv"
    csv.write_text("staff_id,name,email,department_id,manager_id,active,started_on,left_on\n"
                   "S2,Bob,bob@x,cc_phones,S3,true,2020-01-01,\n")
    result = load_file(eng.con, eng.config, "staff", csv, loaded_by="test")
    assert (result.inserted, result.updated) == (0, 1), result.summary() if hasattr(result, "summary") else result
    loaded_on = str(eng.read_store("SELECT CAST(max(loaded_at) AS DATE) AS d FROM load_batches").iloc[0, 0])[:10]
    assert spans(eng, "S2") == [("housing_repairs", "S3", "2020-01-01", loaded_on), ("cc_phones", "S3", loaded_on, None)]
    assert in_post(eng, "housing_repairs", MAY) == 1        # May 2024 is long before the load: Bob was in Housing
