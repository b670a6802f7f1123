"""Closing the loop on the hand-worked fixture: a complaint's whole life, the metrics before and after each
step (worked out by hand below), the 2-business-day boundary over a weekend and a bank holiday, who may
act, and bad input that writes nothing.

F20 is a complaint added here: Fri 3 May 2024 16:00, Repairs team (Housing), customer P1, no theme yet.
England's Early May bank holiday is Mon 6 May 2024, so its 2 business days are Tue 7 and Wed 8 May:
follow-up is due by the end of Wed 8 May.

Baseline, organisation, May 2024 (tests/fixture.sql plus F20):
- negative feedback: F3 F4 F5 F6 F8 F10 F14 (see test_metrics_fixture) + F20 = 8; followed up in 2
  business days: F3 F6 F8 F14 = 4; followed up at all: those + F4 = 5.
- complaints received in May: F6 F8 F10 F20 = 4; repeats: F6 only (P1 'repairs' 41 days after F7) → 1/4.
- complaints resolved in May: F7 22 d, F10 5 d, F6 10 d → median 10.
"""
import datetime as dt
import threading

import pytest

from metrics.voice import cases

from metrics.voice import lists
from metrics.access import Viewer
from metrics.errors import AccessDenied, MetricsError
from metrics.compute.periods import month
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.store.writes import Conflict

MAY = month(2024, 5)
HEAD_HOUSING = Viewer("Hana", "head", "housing", None)
HEAD_CC = Viewer("Cat", "head", "contact_centre", "S3")
BOB = Viewer("Bob", "staff", "housing_repairs", "S2")        # Repairs team
ANN = Viewer("Ann", "staff", "cc_phones", "S1")              # Phones team
EXEC = Viewer("Eli", "executive", None, None)
ADMIN = Viewer("Ada", "admin", "people", None)
T = dt.datetime


@pytest.fixture
def eng(fresh_engine):
    fresh_engine.con.execute("""INSERT INTO feedback (feedback_id, kind, source, received_at, department_id, comment,
                                customer_id) VALUES ('F20', 'complaint', 'customer', '2024-05-03 16:00', 'housing_repairs',
                                'The leak is back', 'P1')""")
    return fresh_engine


def fig(eng, key):
    r = eng.value(EXEC, key, ORGANISATION, MAY, compare=False)
    return (r.numerator, r.denominator, r.value)


def figures(eng):
    return {k: fig(eng, k) for k in ("closed_loop_rate", "followed_up_rate", "complaint_resolution_days",
                                     "repeat_complaint_rate", "loop_not_closed")}


def version(eng, case_id="F20"):
    return int(eng.read_store("SELECT version FROM feedback WHERE feedback_id = $i", {"i": case_id}).iloc[0, 0])


def snapshot(eng):
    """Every row of the tables the dashboard writes, to prove a refused write changed nothing."""
    return {t: eng.read_store(f"SELECT * FROM {t} ORDER BY ALL").to_csv()
            for t in ("feedback", "suggestions", "recognitions", "audit_log", "meta")}


def test_a_complaint_through_its_whole_life(eng):
    before = figures(eng)
    assert before["closed_loop_rate"] == (4, 8, 0.5)
    assert before["followed_up_rate"] == (5, 8, 5 / 8)
    assert before["loop_not_closed"][0] == 4
    assert before["complaint_resolution_days"][2] == 10
    assert before["repeat_complaint_rate"] == (1, 4, 0.25)
    case = cases.get(eng, HEAD_HOUSING, "F20", at=T(2024, 5, 3, 17))
    assert case["due"] == dt.date(2024, 5, 8) and case["status"] == "new" and case["theme"] == "repairs"  # "leak"
    version0 = case["version"]

    cases.assign(eng, HEAD_HOUSING, "F20", "S2", version0, at=T(2024, 5, 3, 16, 30))
    assert cases.get(eng, BOB, "F20")["status"] == "assigned"
    cases.acknowledge(eng, BOB, "F20", version(eng), at=T(2024, 5, 7, 9))
    assert figures(eng) == before                                      # nothing customers feel yet

    cases.follow_up(eng, BOB, "F20", version(eng), "Called Mrs P, plumber booked for Friday", "Plumber booked",
                    at=T(2024, 5, 8, 17))                             # Wed 8 May: within 2 business days
    after = figures(eng)
    assert after["closed_loop_rate"] == (5, 8, 5 / 8)
    assert after["followed_up_rate"] == (6, 8, 6 / 8)
    assert after["loop_not_closed"][0] == 3

    cases.resolve(eng, BOB, "F20", version(eng), "repairs", "Leak fixed and checked", at=T(2024, 5, 20, 12))
    resolved = figures(eng)
    # Resolved in May now 22, 5, 10 and F20's 3 → 20 May = 17 days → median (10 + 17) / 2.
    assert resolved["complaint_resolution_days"][2] == 13.5
    # Root cause 'repairs' makes F20 a repeat of F7 (23 days) and F6 now follows F20 (18 days) → 2/4.
    assert resolved["repeat_complaint_rate"] == (2, 4, 0.5)
    assert cases.get(eng, BOB, "F20")["status"] == "resolved"

    cases.reopen(eng, HEAD_HOUSING, "F20", version(eng), "Customer says the leak is back", at=T(2024, 5, 24, 9))
    reopened = figures(eng)
    assert reopened["complaint_resolution_days"][2] == 10             # back to 22, 5, 10
    assert reopened["repeat_complaint_rate"] == (2, 4, 0.5)            # the root cause stays
    assert reopened["closed_loop_rate"] == (5, 8, 5 / 8)              # the follow-up happened
    case = cases.get(eng, HEAD_HOUSING, "F20")
    assert case["status"] == "reopened" and case["reopen_count"] == 1
    assert list(case["history"]["action"]) == ["case.assign", "case.acknowledge", "case.follow_up", "case.resolve",
                                               "case.reopen"]
    assert list(case["history"]["user_name"]) == ["Hana", "Bob", "Bob", "Bob", "Hana"]


@pytest.mark.parametrize("when, within", [
    (T(2024, 5, 8, 23, 59, 59), True),      # the last second of Wed 8 May
    (T(2024, 5, 9, 0, 0, 0), False),        # Thu 9 May: 3 business days (Tue, Wed, Thu)
    (T(2024, 5, 7, 9, 0), True),            # Tue 7 May: the bank holiday Monday does not count
])
def test_the_two_business_day_boundary_over_a_weekend_and_a_bank_holiday(eng, when, within):
    overdue = when >= T(2024, 5, 9)
    assert cases.get(eng, EXEC, "F20", at=when)["overdue"] == overdue
    cases.follow_up(eng, EXEC, "F20", 0, "Apologised", at=when)
    assert fig(eng, "closed_loop_rate")[0] == (5 if within else 4)
    assert fig(eng, "followed_up_rate")[0] == 6
    assert bool(cases.get(eng, EXEC, "F20")["late"]) == (not within)


def test_saturday_receipt_is_due_by_wednesday(eng):
    eng.con.execute("""INSERT INTO feedback (feedback_id, kind, source, received_at, department_id, csat)
                       VALUES ('F21', 'survey', 'customer', '2024-05-11 10:00', 'housing_repairs', 1)""")
    # Sat 11 May: the clock starts Mon 13 (day 0), so Tue 14 and Wed 15 are its 2 business days.
    assert cases.get(eng, EXEC, "F21", at=T(2024, 5, 12))["due"] == dt.date(2024, 5, 15)


def test_the_inbox_puts_overdue_first_and_staff_see_their_team_only(eng):
    df = cases.inbox(eng, HEAD_HOUSING, "housing", "open", at=T(2024, 5, 23, 12))
    # Open (unresolved) housing cases: F3 F4 F5 (surveys) and F20; overdue on 23 May: F5 (due Wed 22 May, never
    # followed up) and F20 (due 8 May). F3, F4 were followed up.
    assert set(df["case_id"]) == {"F3", "F4", "F5", "F20"}
    assert list(df["overdue"]) == [True, True, False, False]
    assert list(df["case_id"][:2]) == ["F20", "F5"]                       # overdue, oldest first
    assert cases.summary(eng, HEAD_HOUSING, "housing", at=T(2024, 5, 23, 12)) == {
        "open": 4, "awaiting_follow_up": 2, "overdue": 2}
    with pytest.raises(AccessDenied):
        cases.inbox(eng, ANN, "housing")                                     # another department's records
    assert set(cases.inbox(eng, ANN, "contact_centre", "all")["case_id"]) == {"F8", "F9"}


@pytest.mark.parametrize("viewer, case_id, allowed", [
    (BOB, "F20", True),            # his team's case
    (ANN, "F20", False),           # another department's
    (ANN, "F8", True),             # her team's
    (HEAD_HOUSING, "F20", True),
    (HEAD_HOUSING, "F8", False),   # the contact centre's
    (HEAD_CC, "F8", True),
    (HEAD_CC, "F20", False),
    (EXEC, "F8", True),
    (ADMIN, "F20", False),         # administrators manage data, not cases
    (Viewer("Tom", "staff", "housing_tenancy", "S9"), "F20", False),   # same department, another team
])
def test_who_may_act_on_a_case(eng, viewer, case_id, allowed):
    before = snapshot(eng)
    if allowed:
        cases.acknowledge(eng, viewer, case_id, version(eng, case_id), at=T(2024, 5, 24))
        assert eng.read_store("SELECT acknowledged_at FROM feedback WHERE feedback_id = $i", {"i": case_id}).iloc[0, 0] \
            == T(2024, 5, 24)
    else:
        with pytest.raises(AccessDenied):
            cases.acknowledge(eng, viewer, case_id, version(eng, case_id), at=T(2024, 5, 24))
        assert snapshot(eng) == before


def test_staff_act_on_a_case_assigned_to_them_outside_their_team(eng):
    cases.assign(eng, HEAD_HOUSING, "F20", "S2", 0)
    tom = Viewer("Tom", "staff", "housing_tenancy", "S2")   # S2 moved team, the case is still his
    cases.acknowledge(eng, tom, "F20", version(eng))


def test_staff_take_cases_but_do_not_assign_them_to_others(eng):
    before = snapshot(eng)
    with pytest.raises(AccessDenied, match="ask the head"):
        cases.assign(eng, ANN, "F8", "S4", 0)
    assert snapshot(eng) == before
    cases.assign(eng, ANN, "F8", "S1", 0)
    with pytest.raises(MetricsError, match="active person in Housing"):
        cases.assign(eng, HEAD_HOUSING, "F20", "S1", 0)                      # Ann is not in Housing


def test_verbatim_comments_only_for_the_department_and_executives(eng):
    assert len(lists.feedback_comments(eng, HEAD_HOUSING, Scope("department", "housing"), MAY)) > 0
    assert len(lists.feedback_comments(eng, EXEC, Scope("department", "housing"), MAY)) > 0
    for viewer in (ANN, HEAD_CC, ADMIN):
        with pytest.raises(AccessDenied):
            lists.feedback_comments(eng, viewer, Scope("department", "housing"), MAY)
    with pytest.raises(AccessDenied):
        lists.feedback_comments(eng, HEAD_HOUSING, ORGANISATION, MAY)


@pytest.mark.parametrize("call, words", [
    (lambda e, v: cases.follow_up(e, BOB, "F20", v, ""), "is empty"),
    (lambda e, v: cases.follow_up(e, BOB, "F20", v, "   "), "is empty"),
    (lambda e, v: cases.follow_up(e, BOB, "F20", v, "x" * 1001), "1001 characters long; at most 1000"),
    (lambda e, v: cases.follow_up(e, BOB, "F20", v, "ok <script>alert(1)</script>"), "markup"),
    (lambda e, v: cases.follow_up(e, BOB, "F20", v, "<img src=x onerror=alert(1)>"), "markup"),
    (lambda e, v: cases.follow_up(e, BOB, "F20", v, "Fine", "<b>bold</b>"), "Action taken contains markup"),
    (lambda e, v: cases.resolve(e, BOB, "F20", v, "plumbing", "Fixed"), "Root cause 'plumbing' is not accepted"),
    (lambda e, v: cases.resolve(e, BOB, "F20", v, "repairs", ""), "Action taken is empty"),
    (lambda e, v: cases.reopen(e, BOB, "F20", v, "Came back"), "not resolved"),
    (lambda e, v: cases.reopen(e, BOB, "F6", 0, ""), "Reason for reopening is empty"),
    (lambda e, v: cases.assign(e, HEAD_HOUSING, "F20", "S999", v), "S999"),
    (lambda e, v: cases.acknowledge(e, BOB, "F1", 0), "no case 'F1'"),                 # praise is not a case
    (lambda e, v: cases.follow_up(e, BOB, "F20", v + 1, "Called"), "changed"),
])
def test_bad_input_on_case_forms_writes_nothing(eng, call, words):
    before = snapshot(eng)
    with pytest.raises(MetricsError, match=words.replace("(", r"\(")):
        call(eng, version(eng))
    assert snapshot(eng) == before


def test_a_case_changed_by_someone_else_is_not_overwritten(eng):
    opened = version(eng)                                                   # both open the case
    cases.follow_up(eng, BOB, "F20", opened, "Called the customer", at=T(2024, 5, 7, 10))
    before = snapshot(eng)
    with pytest.raises(Conflict, match=r"changed by Bob at 07 May 2024 10:00 since you opened it"):
        cases.resolve(eng, HEAD_HOUSING, "F20", opened, "repairs", "Fixed")
    assert snapshot(eng) == before
    assert eng.read_store("SELECT follow_up_note FROM feedback WHERE feedback_id = 'F20'").iloc[0, 0] == "Called the customer"


def test_simultaneous_edits_one_wins_the_other_is_told(eng):
    opened = version(eng)
    barrier, outcome = threading.Barrier(2), {}

    def work(name, viewer):
        barrier.wait()
        try:
            cases.follow_up(eng, viewer, "F20", opened, f"Called by {name}")
            outcome[name] = "saved"
        except Conflict:
            outcome[name] = "conflict"

    threads = [threading.Thread(target=work, args=(n, v)) for n, v in (("Bob", BOB), ("Hana", HEAD_HOUSING))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome.values()) == ["conflict", "saved"]
    winner = next(n for n, o in outcome.items() if o == "saved")
    row = eng.read_store("SELECT follow_up_note, version FROM feedback WHERE feedback_id = 'F20'").iloc[0]
    assert row["follow_up_note"] == f"Called by {winner}" and row["version"] == opened + 1
    assert eng.read_store("SELECT count(*) FROM audit_log WHERE entity_id = 'F20'").iloc[0, 0] == 1


def test_a_write_moves_the_data_version(eng):
    v0 = eng.data_version()
    cases.acknowledge(eng, BOB, "F20", 0)
    assert eng.data_version() != v0


def test_waiting_lists_use_the_same_due_rule(eng):
    def unhappy(day):
        w = lists.waiting(eng, HEAD_HOUSING, Scope("department", "housing"), day)
        return w[w["what"] == "Unhappy customer to follow up"][["since", "due", "overdue"]].values.tolist()
    # End of Tue 21 May: F20 (due end of Wed 8 May) and F4 (Fri 17 May, due end of Tue 21; followed up only on
    # the 22nd) are overdue; F5 (Mon 20 May, due end of Wed 22) is not yet.
    assert unhappy(dt.date(2024, 5, 21)) == [[T(2024, 5, 3, 16), T(2024, 5, 8, 23, 59, 59), True],
                                             [T(2024, 5, 17, 9), T(2024, 5, 21, 23, 59, 59), True],
                                             [T(2024, 5, 20, 9), T(2024, 5, 22, 23, 59, 59), False]]
    # End of Wed 22 May: both missed their day. F4 was followed up that morning, so it is not listed.
    assert [r[2] for r in unhappy(dt.date(2024, 5, 22))] == [True, True]


def test_whoever_follows_up_an_unassigned_case_takes_it(eng):
    cases.follow_up(eng, BOB, "F5", 0, "Rang the tenant", at=T(2024, 5, 21, 9))
    case = cases.get(eng, BOB, "F5")
    assert (case["assigned_to"], case["follow_up_by"], case["status"]) == ("S2", "S2", "followed up")


@pytest.mark.parametrize("hour, minute", [(0, 0), (0, 1), (12, 0), (23, 59)])
def test_overdue_is_the_same_all_day_so_it_is_judged_at_the_days_start(eng, hour, minute):
    """F5 falls due by the end of Wed 22 May (worked out in the test above): not overdue at any moment of 22 May,
    overdue at every moment of 23 May — and the lists judged at cases.judged_at(now) say the same as at now."""
    for day, overdue in ((22, {"F20"}), (23, {"F20", "F5"})):
        now = T(2024, 5, day, hour, minute)
        assert cases.judged_at(now) == T(2024, 5, day, 0, 0)
        at_now = cases.inbox(eng, HEAD_HOUSING, "housing", "all", at=now)
        at_start = cases.inbox(eng, HEAD_HOUSING, "housing", "all", at=cases.judged_at(now))
        assert set(at_now.loc[at_now["overdue"], "case_id"]) == overdue
        assert at_now[["case_id", "overdue"]].equals(at_start[["case_id", "overdue"]])
        assert cases.summary(eng, HEAD_HOUSING, "housing", at=now) == cases.summary(eng, HEAD_HOUSING, "housing",
                                                                                    at=cases.judged_at(now))
