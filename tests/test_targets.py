"""Targets as data, by period of effect (metrics/features/targets.py): each figure is judged against the target in force
on its period's first day, proposals wait for an executive, every change is audited, and a bad file writes nothing.

Worked by hand on the fixture (tests/fixture.sql) with grade_of_service (calls answered within 20 s / offered calls;
config.yaml: target 0.80, warning 0.70) at min_denominator 4, for the contact centre:
- May 2024: 4 offered calls (c1 20 s, c2 25 s, c4 a 5 s abandon, c5 10 s), 2 answered within 20 s → 0.5.
- May 2025: the 4 calls this test adds (10, 15, 20 and 30 s, all answered), 3 within 20 s → 0.75.
"""
import dataclasses
import datetime as dt
from types import MappingProxyType

import pytest

from metrics.access import SYSTEM, Role, Viewer
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.cli.main import main
from metrics.compute.engine import Engine
from metrics.compute.periods import Period, month
from metrics.errors import AccessDenied, MetricsError
from metrics.features import targets

CC = Scope("department", "contact_centre")
MAY_2024, MAY_2025 = month(2024, 5), month(2025, 5)
ADMIN = Viewer("admin@x", Role.ADMIN)
EXEC = Viewer("exec@x", Role.EXECUTIVE)
HEAD = Viewer("cat@x", Role.HEAD, department_id="contact_centre", staff_id="S3")
STAFF = Viewer("ann@x", Role.STAFF, department_id="cc_phones", staff_id="S1")


@pytest.fixture
def eng(fresh_engine, config):
    """The fixture with four calls in May 2025, grade_of_service judged from 4 calls."""
    fresh_engine.con.execute("""
        INSERT INTO contacts (contact_id, channel, received_at, answered_at, abandoned, wait_seconds, department_id,
                              staff_id, resolved_first_contact, request_id, referred, customer_id) VALUES
        ('n1', 'phone', '2025-05-06 09:00', '2025-05-06 09:00:10', false, 10.0, 'cc_phones', 'S1', true, NULL, false, 'Q1'),
        ('n2', 'phone', '2025-05-06 10:00', '2025-05-06 10:00:15', false, 15.0, 'cc_phones', 'S1', true, NULL, false, 'Q2'),
        ('n3', 'phone', '2025-05-07 09:00', '2025-05-07 09:00:20', false, 20.0, 'cc_phones', 'S1', true, NULL, false, 'Q3'),
        ('n4', 'phone', '2025-05-07 10:00', '2025-05-07 10:00:30', false, 30.0, 'cc_phones', 'S1', true, NULL, false, 'Q4')""")
    gos = dataclasses.replace(config.metrics["grade_of_service"], min_denominator=4)
    cfg = dataclasses.replace(config, metrics=MappingProxyType({**config.metrics, "grade_of_service": gos}))
    return Engine(fresh_engine.con, cfg)


def judged(eng, period):
    r = eng.value(SYSTEM, "grade_of_service", CC, period, compare=False)
    return r.value, r.target, r.warning, r.status


def test_a_target_changed_for_2025_leaves_2024_statuses_unchanged(eng):
    assert judged(eng, MAY_2024) == (0.5, 0.80, 0.70, "off_target")        # config.yaml's default
    assert judged(eng, MAY_2025) == (0.75, 0.80, 0.70, "warning")          # 0.70 ≤ 0.75 < 0.80
    targets.set_target(eng, ADMIN, "grade_of_service", "contact_centre", "2025-01-01", 0.75, 0.6, "new rota")
    assert judged(eng, MAY_2025) == (0.75, 0.75, 0.6, "on_target")         # 0.75 ≥ 0.75, inclusive
    assert judged(eng, MAY_2024) == (0.5, 0.80, 0.70, "off_target")        # 2024 keeps its target
    targets.set_target(eng, EXEC, "grade_of_service", "contact_centre", "2025-01-01", 0.9, 0.8)   # the same day again
    assert judged(eng, MAY_2025) == (0.75, 0.9, 0.8, "off_target")         # 0.75 < warning 0.8
    assert judged(eng, MAY_2024) == (0.5, 0.80, 0.70, "off_target")
    held = targets.listing(eng, EXEC, metric_key="grade_of_service")
    assert sorted(held["status"]) == ["approved", "replaced"]             # the first is kept as history
    # One series across both years: each month judged against its own target.
    s = eng.series(SYSTEM, "grade_of_service", CC, Period(dt.date(2024, 5, 1), dt.date(2025, 5, 31))).set_index("bucket")
    assert (s.at[dt.date(2024, 5, 1), "target"], s.at[dt.date(2024, 5, 1), "status"]) == (0.80, "off_target")
    assert (s.at[dt.date(2025, 5, 1), "target"], s.at[dt.date(2025, 5, 1), "status"]) == (0.9, "off_target")
    # A breakdown of the organisation: the contact centre's row takes its own target in force; the rest config's.
    b = eng.breakdown(SYSTEM, "grade_of_service", ORGANISATION, MAY_2025, by="department").set_index("grp")
    assert b.at["contact_centre", "target"] == 0.9 and b.at["housing", "target"] == 0.80


def test_a_unit_target_reaches_its_teams_and_people_and_comes_before_config_at_its_level(eng):
    targets.set_target(eng, ADMIN, "grade_of_service", None, "2024-01-01", 0.4, 0.3)   # the organisation
    # The contact centre has no target of its own: the organisation's, in force since January 2024, applies.
    assert judged(eng, MAY_2024) == (0.5, 0.4, 0.3, "on_target")
    targets.set_target(eng, ADMIN, "grade_of_service", "contact_centre", "2024-05-01", 0.6, 0.5)
    assert judged(eng, MAY_2024) == (0.5, 0.6, 0.5, "warning")
    person = eng.value(SYSTEM, "grade_of_service", Scope("staff", "S1"), MAY_2024, compare=False)
    team = eng.value(SYSTEM, "grade_of_service", Scope("team", "cc_phones"), MAY_2024, compare=False)
    assert (person.target, team.target) == (0.6, 0.6)
    # April 2024 is before the contact centre's target: the organisation's applies there.
    assert eng.value(SYSTEM, "grade_of_service", CC, month(2024, 4), compare=False).target == 0.4


def test_a_proposal_waits_for_an_executive_and_every_step_is_audited(eng):
    tid = targets.propose(eng, HEAD, "grade_of_service", "cc_phones", "2025-01-01", 0.7, None, "the team asked")
    assert judged(eng, MAY_2025)[1:] == (0.80, 0.70, "warning")            # a proposal judges nothing
    row = targets.listing(eng, EXEC, status="proposed").set_index("target_id").loc[tid]
    assert (row["proposed_by"], row["department_id"], row["target"]) == ("cat@x", "cc_phones", 0.7)
    with pytest.raises(AccessDenied, match="executive"):
        targets.decide(eng, HEAD, tid, int(row["version"]), approve=True)
    with pytest.raises(MetricsError, match="Note"):
        targets.decide(eng, EXEC, tid, int(row["version"]), approve=False)      # a rejection needs a note
    targets.decide(eng, EXEC, tid, int(row["version"]), approve=True, note="agreed")
    team = eng.value(SYSTEM, "grade_of_service", Scope("team", "cc_phones"), MAY_2025, compare=False)
    assert (team.target, team.warning, team.status) == (0.7, None, "on_target")     # 0.75 ≥ 0.7
    with pytest.raises(MetricsError, match="approved, not proposed"):
        targets.decide(eng, EXEC, tid, int(row["version"]) + 1, approve=False, note="too late")
    trail = targets.history(eng, EXEC, tid)
    assert list(trail["action"]) == ["target.propose", "target.approve"]
    assert list(trail["user_name"]) == ["cat@x", "exec@x"]
    rejected = targets.propose(eng, HEAD, "grade_of_service", "contact_centre", "2025-06-01", 0.5, None, "easier")
    version = int(targets.listing(eng, EXEC).set_index("target_id").at[rejected, "version"])
    targets.decide(eng, EXEC, rejected, version, approve=False, note="not lower than last year")
    assert targets.listing(eng, EXEC).set_index("target_id").at[rejected, "status"] == "rejected"
    assert list(targets.history(eng, EXEC, rejected)["action"]) == ["target.propose", "target.reject"]


def test_who_may_set_and_propose(eng):
    with pytest.raises(AccessDenied, match="may not propose a target for Housing"):
        targets.propose(eng, HEAD, "grade_of_service", "housing", "2025-01-01", 0.7, None, "mine?")
    with pytest.raises(AccessDenied, match="may not propose a target for the organisation"):
        targets.propose(eng, HEAD, "grade_of_service", None, "2025-01-01", 0.7, None, "all of us")
    with pytest.raises(AccessDenied, match="may not set targets"):
        targets.set_target(eng, HEAD, "grade_of_service", "contact_centre", "2025-01-01", 0.7)
    with pytest.raises(AccessDenied):
        targets.propose(eng, STAFF, "grade_of_service", "cc_phones", "2025-01-01", 0.7, None, "me")
    with pytest.raises(AccessDenied):
        targets.set_target(eng, Viewer("exec@x", Role.EXECUTIVE, real=ADMIN), "grade_of_service", None, "2025-01-01",
                           0.7)                                         # an administrator viewing as: only looks
    assert targets.listing(eng, EXEC).empty                                  # nothing was written


@pytest.mark.parametrize("fields, words", [
    (("no_such_metric", None, "2025-01-01", 0.7, None), "unknown metric"),
    (("grade_of_service", "narnia", "2025-01-01", 0.7, None), "unknown department 'narnia'"),
    (("grade_of_service", None, "1/4/2025", 0.7, None), "YYYY-MM-DD"),
    (("grade_of_service", None, "2025-01-01", "high", None), "'high' is not a number"),
    (("grade_of_service", None, "2025-01-01", 0.7, 0.9), "warning 0.9 is above the target 0.7"),
])
def test_a_bad_target_is_one_sentence_and_writes_nothing(eng, fields, words):
    with pytest.raises(MetricsError, match=words):
        targets.set_target(eng, ADMIN, *fields)
    assert targets.listing(eng, EXEC).empty


def test_a_file_is_set_whole_or_not_at_all(eng, tmp_path):
    good = tmp_path / "targets.csv"
    good.write_text("metric,department,effective_from,target,warning,reason\n"
                    "grade_of_service,contact_centre,2025-01-01,0.75,0.6,new rota\n"
                    "grade_of_service,,2024-01-01,0.4,,\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("metric,department,effective_from,target,warning,reason\n"
                   "grade_of_service,contact_centre,2023-01-01,0.75,0.6,\n"
                   "grade_of_servce,contact_centre,2025-01-01,0.75,0.6,\n")
    with pytest.raises(MetricsError, match=r"bad.csv, line 3: unknown metric 'grade_of_servce'"):
        targets.import_file(eng, ADMIN, bad)
    assert targets.listing(eng, EXEC).empty                                  # line 2 was fine, and not written
    assert len(targets.import_file(eng, ADMIN, good)) == 2
    assert judged(eng, MAY_2025)[1:] == (0.75, 0.6, "on_target")
    assert judged(eng, MAY_2024)[1:] == (0.4, None, "on_target")           # the organisation's, no warning band


def test_the_command_line_sets_lists_and_approves(tmp_path, capsys, config):
    from metrics.demo.build import build_demo_database
    db = tmp_path / "cli.duckdb"
    build_demo_database(db, config, scale=0.05)
    assert main(["targets", "set", "csat", "--target", "4.2", "--warning", "3.9", "--from", "2025-04-01",
                 "--department", "housing", "--db", str(db)]) == 0
    assert "set csat for housing from 2025-04-01: target 4.2, warning 3.9" in capsys.readouterr().out
    assert main(["targets", "set", "csat", "--target", "4.2", "--warning", "4.5", "--from", "2025-04-01",
                 "--db", str(db)]) == 2
    assert "warning 4.5 is above the target 4.2" in capsys.readouterr().err
    assert main(["targets", "list", "--json", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert '"department_id": "housing"' in out and out.count('"target_id"') == 1
