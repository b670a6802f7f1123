"""Positive first, recognition and suggestions on the hand-worked fixture (tests/fixture.sql, May 2024).

Compliments in May: F11 (Ann, cc_phones, shared) and F12 (Bob, housing_repairs, not shared) → shared 1/2.
Staff in post at the end of May 2024 (the first instant of June): S1 S2 S3 (S4 left on 31 May, S5 starts
1 June) = 3; recognitions given in May: K1 (to Ann) and K2 (to Bob) = 2 → 2 / 3 × 100 per 100 staff.
"""
import datetime as dt

import pytest

from metrics.voice import suggestions, praise
from metrics.access import Viewer
from metrics.errors import AccessDenied, MetricsError
from metrics.compute.periods import Period, month
from metrics.catalogue.scope import ORGANISATION, Scope
from tests.test_cases import ANN, BOB, EXEC, HEAD_CC, HEAD_HOUSING, snapshot

MAY = month(2024, 5)


def value(eng, key):
    r = eng.value(EXEC, key, ORGANISATION, MAY, compare=False)
    return (r.numerator, r.denominator, r.value)


def test_praise_comes_first_and_a_head_shares_it(fresh_engine):
    eng = fresh_engine
    df = praise.praise(eng, HEAD_HOUSING, Scope("department", "housing"), MAY)
    assert list(df["feedback_id"]) == ["F12"] and df.iloc[0]["person"] == "Bob"
    mine = praise.praise(eng, ANN, Scope("staff", "S1"), MAY)
    assert list(mine["feedback_id"]) == ["F11", "F1"]   # newest first: 15 and 2 May (F2 scored 4 but left no words)
    assert value(eng, "positive_feedback_shared") == (1, 2, 0.5)
    with pytest.raises(AccessDenied):
        praise.share(eng, HEAD_CC, "F12", 0)                       # not the contact centre's
    with pytest.raises(AccessDenied):
        praise.share(eng, BOB, "F12", 0)                           # heads share, staff receive
    praise.share(eng, HEAD_HOUSING, "F12", 0, at=dt.datetime(2024, 5, 17, 9))
    assert value(eng, "positive_feedback_shared") == (2, 2, 1.0)
    with pytest.raises(MetricsError, match="already shared"):
        praise.share(eng, HEAD_HOUSING, "F12", 1)
    with pytest.raises(MetricsError, match="not praise"):
        praise.share(eng, HEAD_HOUSING, "F5", 0)                   # a CSAT 1 survey


def test_recognition_reaches_the_receiver_and_the_department_feed(fresh_engine):
    eng = fresh_engine
    assert value(eng, "recognitions_per_100_staff") == pytest.approx((2, 3, 200 / 3))
    rid = praise.give(eng, BOB, "Commitment", "Thanks for covering the phones", to_staff_id="S1",
                     at=dt.datetime(2024, 5, 20, 10))
    assert value(eng, "recognitions_per_100_staff") == (3, 3, 100.0)
    from metrics.voice import lists
    got = lists.thanks(eng, ANN, Scope("staff", "S1"), MAY)
    assert "Thanks for covering the phones" in list(got["message"])
    feed = praise.feed(eng, ANN, "contact_centre", MAY)
    assert feed.iloc[0]["from_name"] == "Bob" and feed.iloc[0]["to_name"] == "Ann" and feed.iloc[0]["value"] == "Commitment"
    assert eng.read_store("SELECT action FROM audit_log WHERE entity_id = $i", {"i": rid}).iloc[0, 0] == "recognition.give"
    praise.give(eng, ANN, "Capability", "Great repair work", to_department_id="housing_repairs")
    assert praise.feed(eng, BOB, "housing", Period(dt.date(2024, 5, 1), dt.date.today())).iloc[0]["to_name"] == "Repairs"


@pytest.mark.parametrize("kwargs, words", [
    ({"value": "Commitment", "message": "", "to_staff_id": "S1"}, "Message is empty"),
    ({"value": "Commitment", "message": "x" * 501, "to_staff_id": "S1"}, "at most 500"),
    ({"value": "Commitment", "message": "<script>alert(1)</script>", "to_staff_id": "S1"}, "markup"),
    ({"value": "Speed", "message": "Thanks", "to_staff_id": "S1"}, "Value 'Speed' is not accepted"),
    ({"value": "Commitment", "message": "Thanks", "to_staff_id": "S2"}, "not yourself"),
    ({"value": "Commitment", "message": "Thanks", "to_staff_id": "S4"}, "not a current colleague"),   # left
    ({"value": "Commitment", "message": "Thanks"}, "one colleague or one team"),
    ({"value": "Commitment", "message": "Thanks", "to_department_id": "nowhere"}, "unknown team"),
])
def test_bad_recognition_writes_nothing(fresh_engine, kwargs, words):
    before = snapshot(fresh_engine)
    with pytest.raises(MetricsError, match=words):
        praise.give(fresh_engine, BOB, **kwargs)
    assert snapshot(fresh_engine) == before


def test_a_suggestion_from_submission_to_you_said_we_did(fresh_engine):
    eng = fresh_engine
    sid = suggestions.submit(eng, ANN, "Call back slots", "Let callers pick a time", "cc_phones", "customer",
                       "grade_of_service", at=dt.datetime(2024, 4, 10, 12))
    row = suggestions.listing(eng, HEAD_CC, "contact_centre").set_index("suggestion_id").loc[sid]
    assert row["status"] == "new" and row["source"] == "customer"
    with pytest.raises(AccessDenied):
        suggestions.review(eng, HEAD_HOUSING, sid, 0)
    suggestions.review(eng, HEAD_CC, sid, 0, at=dt.datetime(2024, 4, 11, 9))
    suggestions.decide(eng, HEAD_CC, sid, 1, "implemented", "Callers can now choose a callback time.",
                 at=dt.datetime(2024, 4, 12, 9))
    public = suggestions.you_said_we_did(eng).set_index("you_said").loc["Call back slots"]
    # Before: 10–11 Apr (data starts 10 Apr): c8 answered in 15 s → 1/1 = 100 %. After: 12 Apr – 9 May (28 days,
    # the end of the data): contact-centre calls c1 c2 c4 c5 (c3 a short abandon, c6 Housing's), within 20 s
    # c1 c5 → 2/4 = 50 %.
    assert (public["before"], public["after"], public["change"]) == ("100.0 %", "50.0 %", "worse by 50.0 pts")
    assert public["department"] == "Phones team" and "Ann" not in " ".join(map(str, public.values))
    # Decided in April: only this one (G1 was decided on 2 May) → 1 implemented of 1.
    apr = eng.value(EXEC, "suggestions_implemented_rate", ORGANISATION, month(2024, 4), compare=False)
    assert (apr.numerator, apr.denominator) == (1, 1)


@pytest.mark.parametrize("call, words", [
    (lambda e: suggestions.submit(e, ANN, "", None, "cc_phones"), "Title is empty"),
    (lambda e: suggestions.submit(e, ANN, "t" * 121, None, "cc_phones"), "at most 120"),
    (lambda e: suggestions.submit(e, ANN, "<script>x</script>", None, "cc_phones"), "markup"),
    (lambda e: suggestions.submit(e, ANN, "Idea", None, "mars"), "unknown department"),
    (lambda e: suggestions.submit(e, ANN, "Idea", None, "cc_phones", linked_metric="happiness"), "unknown metric"),
    (lambda e: suggestions.submit(e, Viewer("Ada", "admin", "people", None), "Idea", None, "cc_phones"), "no staff record"),
    (lambda e: suggestions.decide(e, HEAD_CC, "G4", 0, "implemented", "Done"), "already implemented"),
    (lambda e: suggestions.decide(e, HEAD_HOUSING, "G3", 0, "maybe", "Hmm"), "Decision 'maybe' is not accepted"),
    (lambda e: suggestions.decide(e, HEAD_HOUSING, "G3", 0, "implemented", "Ask jo@example.org"), "personal details"),
    (lambda e: suggestions.decide(e, HEAD_HOUSING, "G3", 0, "declined", ""), "Reason for declining is empty"),
    (lambda e: suggestions.decide(e, HEAD_HOUSING, "G3", 5, "declined", "Too costly"), "changed since you opened it"),
])
def test_bad_suggestion_input_writes_nothing(fresh_engine, call, words):
    before = snapshot(fresh_engine)
    with pytest.raises(MetricsError, match=words):
        call(fresh_engine)
    assert snapshot(fresh_engine) == before


def test_suggestion_names_only_for_those_who_decide(fresh_engine):
    assert fresh_engine.read_store("SELECT count(*) FROM suggestions WHERE submitted_by IS NOT NULL").iloc[0, 0] > 0
    assert suggestions.listing(fresh_engine, ANN, "contact_centre")["submitted_by"].isna().all()
    assert suggestions.listing(fresh_engine, HEAD_CC, "contact_centre")["submitted_by"].notna().any()
