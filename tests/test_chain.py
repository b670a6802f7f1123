"""The chain on the hand-worked fixture (tests/fixture.sql, May 2024) and on hand-made hand-off chains.

Late outcomes in May 2024, worked out from the fixture:
- requests closed late: R2 only (due 3 May, closed 6 May; R1 closed exactly at its due time) — Repairs;
- callbacks not returned within a working day: H2 H4 (2 business days), H5 H6 (never) — all Repairs;
- invoices paid late: I2 (15 days on 14-day terms, Accounts payable), I3 (31 days on 30, Repairs).
So 7 in all; 6 waited longest with Housing and 1 with Finance (no hand-offs: each stays with its owner).
"""
import datetime as dt

import pandas as pd
import pytest

from metrics.features import chain
from metrics.access import SYSTEM, Viewer
from metrics.errors import AccessDenied
from metrics.compute.periods import month

MAY = month(2024, 5)
T = pd.Timestamp


def add_handoffs(eng, rows):
    if not rows:
        return
    eng.con.executemany("INSERT INTO handoffs (handoff_id, case_type, case_id, from_department_id, to_department_id, "
                        "handed_at) VALUES (?, ?, ?, ?, ?, ?)", rows)


def late(*rows):
    return pd.DataFrame(rows, columns=["kind", "case_type", "case_id", "start_at", "end_at", "owner"])


def test_late_outcomes_of_the_fixture(engine):
    lo = chain.late_outcomes(engine, SYSTEM, MAY).set_index("case_id")
    assert sorted(lo.index) == ["I2", "I3", "R2", "cx", "cx", "cx", "cx"]
    assert lo.loc["R2", "waited_longest"] == "housing" and lo.loc["I2", "waited_longest"] == "finance"
    assert (lo.loc["cx", "waited_longest"] == "housing").all()
    att = chain.attribution(engine, SYSTEM, MAY).set_index(["department", "kind"])
    assert att.loc[("housing", "callback not returned within a working day"), "waited_longest"] == 4
    assert att.loc[("finance", "invoice paid late"), ["waited_longest", "of_all"]].tolist() == [1, 2]
    assert chain.in_words(engine, SYSTEM, "housing_repairs", MAY).startswith(
        "Of the 7 late outcomes customers felt from 01 May 2024 to 31 May 2024")
    assert chain.in_words(engine, SYSTEM, "housing_repairs", MAY).endswith("6 waited longest with Housing.")


def test_a_stage_split_and_the_longest_holder(fresh_engine):
    # R2: created 1 May 09:00, closed 6 May 09:00 (120 h). Raised at the contact centre, passed to IT at 11:00,
    # back to Repairs on 2 May 09:00: contact centre 2 h, IT 22 h, Repairs 96 h → Housing.
    add_handoffs(fresh_engine, [("X1", "request", "R2", "cc_phones", "it_service_desk", T("2024-05-01 11:00")),
                                ("X2", "request", "R2", "it_service_desk", "housing_repairs", T("2024-05-02 09:00"))])
    lo = chain.late_outcomes(fresh_engine, SYSTEM, MAY).set_index("case_id")
    assert lo.loc["R2", "stages"] == [("contact_centre", 2.0), ("it", 22.0), ("housing", 96.0)]
    assert (lo.loc["R2", "waited_longest"], lo.loc["R2", "longest_hours"], lo.loc["R2", "total_hours"]) == \
        ("housing", 96.0, 120.0)


def test_a_chain_that_loops_back_adds_both_visits(fresh_engine):
    # I3: received 1 Apr 09:00, paid 2 May 09:00 (31 days). Accounts payable registers it for 1 day, Repairs
    # approves it in 3 days and hands it back on 5 Apr 09:00; Accounts payable pays 27 days later.
    # Finance 1 + 27 = 28 days against Housing's 3 → Finance, though I3's owner is Repairs.
    add_handoffs(fresh_engine, [("X3", "invoice", "I3", "finance_payables", "housing_repairs", T("2024-04-02 09:00")),
                                ("X4", "invoice", "I3", "housing_repairs", "finance_payables", T("2024-04-05 09:00"))])
    row = chain.late_outcomes(fresh_engine, SYSTEM, MAY).set_index("case_id").loc["I3"]
    assert row["stages"] == [("finance", 24.0), ("housing", 72.0), ("finance", 648.0)]
    assert (row["waited_longest"], row["longest_hours"]) == ("finance", 672.0)


@pytest.mark.parametrize("handoffs, expected, why", [
    # 10 h in all; the hand-off at 5 h splits it 5 / 5: a tie goes to the department that had it first.
    ([("Y1", "request", "Q1", "cc_phones", "housing_repairs", T("2024-05-06 05:00"))], ("contact_centre", 5.0), "tie"),
    # Handed to IT at 1 h and still there at the end (an open stage runs to the end given): IT 9 h.
    ([("Y1", "request", "Q1", "housing_repairs", "it_service_desk", T("2024-05-06 01:00"))], ("it", 9.0), "open"),
    # A hand-off after the end is ignored: the case stayed with its first holder for all 10 h.
    ([("Y1", "request", "Q1", "housing_repairs", "it_service_desk", T("2024-05-06 12:00"))], ("housing", 10.0),
     "after the end"),
    # Housing 2 h → IT 3 h → Housing 2 h → IT 3 h: visits are summed, 4 h against 6 h → IT.
    ([("Y1", "request", "Q1", "housing_repairs", "it_service_desk", T("2024-05-06 02:00")),
      ("Y2", "request", "Q1", "it_service_desk", "housing_repairs", T("2024-05-06 05:00")),
      ("Y3", "request", "Q1", "housing_repairs", "it_service_desk", T("2024-05-06 07:00"))], ("it", 6.0), "ping-pong"),
    # No hand-offs at all: the owner held it.
    ([], ("housing", 10.0), "no hand-offs"),
])
def test_attribution_rules(fresh_engine, handoffs, expected, why):
    add_handoffs(fresh_engine, handoffs)
    out = chain.attribute(fresh_engine, late(("request closed late", "request", "Q1", T("2024-05-06 00:00"),
                                              T("2024-05-06 10:00"), "housing_repairs")))
    assert (out.iloc[0]["waited_longest"], out.iloc[0]["longest_hours"]) == expected, why
    assert out.iloc[0]["total_hours"] == 10.0


def test_referral_flow_of_the_fixture(engine):
    flow = chain.referral_flow(engine, SYSTEM, MAY)
    stages = flow["stages"].set_index("stage")
    # Contacts in May c1..c7; at the contact centre all but c6 (Housing's) = 6; its answered calls waited 20, 25
    # and 10 s → median 20 s. Referrals handed in May: H1..H6 = 6, all from the contact centre.
    assert stages["count"].to_dict() == {"Contacts": 7, "Contact centre": 6, "Sorted at the contact centre": 0,
                                         "Referred to an officer": 6, "Called back within a working day": 2,
                                         "Called back later": 2, "Not called back yet": 2}
    assert stages.loc["Contact centre", "median_hours"] == pytest.approx(20 / 3600)
    # Within a day: H1 97 h, H3 78 h → 87.5 h; later: H2 118 h, H4 93 h → 105.5 h.
    assert stages.loc["Called back within a working day", "median_hours"] == pytest.approx(87.5)
    assert stages.loc["Called back later", "median_hours"] == pytest.approx(105.5)
    assert flow["by_department"].to_dict("records") == [
        {"department": "housing", "referred": 6, "within_1_day": 2, "later": 2, "not_returned": 2}]
    links = {(r.source, r.target): r.count for r in flow["links"].itertuples()}
    assert links == {("Contacts", "Contact centre"): 6, ("Contacts", "Handled directly by departments"): 1,
                     ("Contact centre", "Housing"): 6, ("Housing", "Called back within a working day"): 2,
                     ("Housing", "Called back later"): 2, ("Housing", "Not called back yet"): 2}
    # The same counts as the catalogue's callback_within_1_day for Housing.
    b = engine.breakdown(SYSTEM, "callback_within_1_day", period=MAY, by="department").set_index("grp")
    assert (b.loc["housing", "numerator"], b.loc["housing", "denominator"]) == (2, 6)


def test_internal_matrix_of_the_fixture(engine):
    m = chain.internal_matrix(engine, SYSTEM, MAY).set_index(["provider", "requester"])
    # IT for Housing: R5 closed on time, R7 late → 1/2; first responses 2 h and 48 h → 25 h; 0 of 2 declined;
    # staff CSAT F13 (4) and F14 (2) — two answers, fewer than 5: not shown.
    it_housing = m.loc[("it", "housing")]
    assert (it_housing["sla"], it_housing["sla_requests"], it_housing["median_hours"], it_housing["decline_rate"]) == \
        (0.5, 2, 25.0, 0.0)
    assert it_housing["csat"] != it_housing["csat"]
    # IT for the contact centre: R6 declined ("Not on our work plan"), first response after 6 h; no closed request.
    it_cc = m.loc[("it", "contact_centre")]
    assert (it_cc["decline_rate"], it_cc["declined"], it_cc["median_hours"]) == (1.0, 1, 6.0)
    assert it_cc["sla"] != it_cc["sla"]
    assert set(m.index) == {("it", "housing"), ("it", "contact_centre")}
    reasons = chain.decline_reasons(engine, SYSTEM, MAY)
    assert reasons.to_dict("records") == [{"provider": "it", "requester": "contact_centre",
                                           "reason": "Not on our work plan", "declined": 1}]


def test_customers_waiting_for_a_callback_are_records(engine):
    # At the end of 31 May: H5 (due 30 May) is past due and unanswered; H6 is not yet due.
    w = chain.waiting_for_callback(engine, Viewer("Hana", "head", "housing", None), "housing", dt.date(2024, 5, 31))
    assert list(w["due_at"]) == [T("2024-05-30 23:59:59")]
    with pytest.raises(AccessDenied):
        chain.waiting_for_callback(engine, Viewer("Ann", "staff", "cc_phones", "S1"), "housing", dt.date(2024, 5, 31))


def test_supplier_payments_of_the_fixture(engine):
    sup = chain.supplier_payments(engine, SYSTEM, MAY).set_index("department")
    # Paid in May: Finance I1 (14 d, on time), I2 (15 d, late) → 1/2, both local small → 1/2;
    # Housing I3 (31 d, late), I4 (18 d) → 1/2, no local small business.
    assert (sup.loc["finance", "invoices_paid"], sup.loc["finance", "paid_within_terms"],
            sup.loc["finance", "local_small_paid"], sup.loc["finance", "local_small_within_terms"]) == (2, 0.5, 2, 0.5)
    assert (sup.loc["housing", "invoices_paid"], sup.loc["housing", "paid_within_terms"],
            sup.loc["housing", "local_small_paid"], sup.loc["housing", "late_payments"]) == (2, 0.5, 0, 1)
