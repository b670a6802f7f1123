"""The chain on the hand-worked fixture (tests/fixture.sql, May 2024) and on hand-made hand-off chains.

Late outcomes in May 2024, worked out from the fixture:
- requests closed late: R2 only (due 3 May, closed 6 May; R1 closed exactly at its due time) — Repairs;
- callbacks not returned within a working day: H2 H4 (2 business days), H5 H6 (never) — all Repairs;
- invoices paid late: I2 (15 days on 14-day terms, Accounts payable), I3 (31 days on 30, Repairs).
So 7 in all; 6 waited longest with Housing and 1 with Finance (no hand-offs: each stays with its owner).
"""
import copy
import dataclasses
import datetime as dt
from pathlib import Path
from types import MappingProxyType

import pandas as pd
import pytest
import yaml

from metrics.features import chain
from metrics.access import SYSTEM, Viewer
from metrics.catalogue.parse import parse_config
from metrics.cli.main import main
from metrics.compute.engine import Engine
from metrics.errors import AccessDenied, ConfigError
from metrics.compute.periods import month

ROOT = Path(__file__).resolve().parent.parent
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
    assert att.loc[("housing", "callbacks not returned within a working day"), "waited_longest"] == 4
    assert att.loc[("finance", "invoices paid late"), ["waited_longest", "of_all"]].tolist() == [1, 2]
    assert chain.in_words(engine, SYSTEM, "housing_repairs", MAY).startswith(
        "Of the 7 late outcomes customers felt from 1 May 2024 to 31 May 2024")
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
    out = chain.attribute(fresh_engine, late(("requests closed late", "request", "Q1", T("2024-05-06 00:00"),
                                              T("2024-05-06 10:00"), "housing_repairs")))
    assert (out.iloc[0]["waited_longest"], out.iloc[0]["longest_hours"]) == expected, why
    assert out.iloc[0]["total_hours"] == 10.0


def test_referral_flow_of_the_fixture(engine):
    flow = chain.referral_flow(engine, SYSTEM, MAY)
    stages = flow["stages"].set_index("stage")
    # Contacts in May c1..c7; at the contact centre (the front door, its teams) all but c6 (Housing's) = 6; its
    # answered calls waited 20, 25 and 10 s → median 20 s. Of those six, a referral names only c2 (H1; H2..H6 are
    # case 'cx', no contact of the fixture): sorted there c1 c3 c4 c5 c7 = 5. Referrals handed in May: H1..H6 = 6,
    # all from the contact centre (so the Contact Centre node sends on 5 + 6 = 11 of the 6 it received).
    assert stages["count"].to_dict() == {"Contacts": 7, "Contact Centre": 6, "Sorted at the Contact Centre": 5,
                                         "Referred to an officer": 6, "Called back within a working day": 2,
                                         "Called back later": 2, "Not called back yet": 2}
    assert stages.loc["Contact Centre", "median_hours"] == pytest.approx(20 / 3600)
    # Within a day: H1 97 h, H3 78 h → 87.5 h; later: H2 118 h, H4 93 h → 105.5 h.
    assert stages.loc["Called back within a working day", "median_hours"] == pytest.approx(87.5)
    assert stages.loc["Called back later", "median_hours"] == pytest.approx(105.5)
    assert flow["by_department"].to_dict("records") == [
        {"department": "housing", "referred": 6, "within_1_day": 2, "later": 2, "not_returned": 2}]
    links = {(r.source, r.target): r.count for r in flow["links"].itertuples()}
    assert links == {("Contacts", "Contact Centre"): 6, ("Contacts", "Handled directly by departments"): 1,
                     ("Contact Centre", "Sorted at the Contact Centre"): 5,
                     ("Contact Centre", "Housing"): 6, ("Housing", "Called back within a working day"): 2,
                     ("Housing", "Called back later"): 2, ("Housing", "Not called back yet"): 2}
    # The same counts as the catalogue's callback_within_1_day for Housing.
    b = engine.breakdown(SYSTEM, "callback_within_1_day", period=MAY, by="department").set_index("grp")
    assert (b.loc["housing", "numerator"], b.loc["housing", "denominator"]) == (2, 6)


def test_internal_matrix_of_the_fixture(engine):
    m = chain.internal_matrix(engine, SYSTEM, MAY).set_index(["provider", "requester"])
    # IT for Housing: R5 closed on time, R7 late → 1/2; first responses 2 h and 48 h → 25 h; 0 of 2 declined;
    # staff CSAT F13 (4) and F14 (2) — two answers, fewer than 5: not shown.
    it_housing = m.loc[("it", "housing")]
    assert (it_housing["sla"], it_housing["requests"], it_housing["median_hours"], it_housing["decline_rate"]) == \
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
    assert (sup.loc["finance", "invoices_paid"], sup.loc["finance", "within_terms"],
            sup.loc["finance", "local_small_paid"], sup.loc["finance", "local_small_within_terms"]) == (2, 0.5, 2, 0.5)
    assert (sup.loc["housing", "invoices_paid"], sup.loc["housing", "within_terms"],
            sup.loc["housing", "local_small_paid"], sup.loc["housing", "paid_late"]) == (2, 0.5, 0, 1)


# --- the rules come from config's `chain:` section -----------------------------------------------------------
def with_chain(eng, **changes) -> Engine:
    """The same database under a config whose `chain:` section differs."""
    config = dataclasses.replace(eng.config, chain=dataclasses.replace(eng.config.chain, **changes))
    return Engine(eng.con, config)


def test_the_late_outcomes_and_their_words_are_configs(engine):
    # Only late_requests, in other words: R2 alone (the fixture's one request closed late), with Housing.
    eng = with_chain(engine, late_outcomes=MappingProxyType({"late_requests": "repairs closed late"}))
    lo = chain.late_outcomes(eng, SYSTEM, MAY)
    assert list(lo["case_id"]) == ["R2"] and list(lo["kind"]) == ["repairs closed late"]
    assert chain.in_words(eng, SYSTEM, "housing", MAY) == (
        "Of the 1 late outcomes customers felt from 1 May 2024 to 31 May 2024 (repairs closed late), 1 waited "
        "longest with Housing.")


def test_a_late_outcome_counted_by_a_ratio_is_its_counted_rows(engine):
    # A ratio's records are its denominator's rows; only those it counts (`counted`) are outcomes. Invoices paid in
    # May: I1 (14 days on 14-day terms: within), I2 (15 on 14), I3 (31 on 30), I4 (18 on 30: within) → I1 and I4,
    # owned by Accounts payable (Finance) and Repairs (Housing), never handed on.
    eng = with_chain(engine, late_outcomes=MappingProxyType({"paid_within_terms": "invoices paid on time"}))
    lo = chain.late_outcomes(eng, SYSTEM, MAY).set_index("case_id")
    assert sorted(lo.index) == ["I1", "I4"]
    assert (lo.loc["I1", "waited_longest"], lo.loc["I4", "waited_longest"]) == ("finance", "housing")


def test_late_outcomes_with_no_owner_are_left_out_for_every_kind(fresh_engine):
    # I7 names no approving department and is paid 30 days after receipt on 14-day terms: late_payments counts it,
    # but no department can have held it, so like a request with no owner it is not a late outcome here (the old
    # code attributed it to a department called "None").
    fresh_engine.con.execute(
        "INSERT INTO invoices (invoice_id, supplier_id, supplier_name, local_supplier, small_business, department_id, "
        "received_at, approved_at, paid_at, amount, terms_days) VALUES ('I7', 'SUP3', 'Nobody''s', false, false, NULL, "
        "'2024-05-01 09:00', '2024-05-02 09:00', '2024-05-31 09:00', 100, 14)")
    assert fresh_engine.value(SYSTEM, "late_payments", period=MAY).value == 3          # I2, I3 and I7
    lo = chain.late_outcomes(fresh_engine, SYSTEM, MAY)
    assert sorted(lo["case_id"]) == ["I2", "I3", "R2", "cx", "cx", "cx", "cx"]
    assert set(lo["waited_longest"]) == {"housing", "finance"}


def test_sorted_at_the_front_door_is_its_contacts_no_referral_names(fresh_engine):
    # Added: c9, a call at the contact centre on 31 May referred on 3 June (H10, after May), and H11, a second
    # referral of c2 in May (to IT). By hand: the contact centre's contacts in May are c1 c2 c3 c4 c5 c7 c9 = 7; a
    # referral names c2 (H1, H11) and c9 (H10), so 5 were sorted there (c1 c3 c4 c5 c7). Referrals handed in May:
    # H1..H6 and H11 = 7. (Subtracting May's referrals from the contacts, as the old code did, gives 7 − 7 = 0.)
    fresh_engine.con.execute(
        "INSERT INTO contacts (contact_id, channel, received_at, answered_at, abandoned, wait_seconds, department_id, "
        "staff_id, resolved_first_contact, request_id, referred, customer_id) VALUES ('c9', 'phone', "
        "'2024-05-31 16:00', '2024-05-31 16:00:10', false, 10.0, 'cc_phones', 'S1', false, NULL, true, 'P9')")
    add_handoffs(fresh_engine, [("H10", "referral", "c9", "cc_phones", "housing_repairs", T("2024-06-03 09:00")),
                                ("H11", "referral", "c2", "cc_phones", "it_service_desk", T("2024-05-02 11:00"))])
    stages = chain.referral_flow(fresh_engine, SYSTEM, MAY)["stages"].set_index("stage")["count"]
    assert (stages["Contact Centre"], stages["Sorted at the Contact Centre"], stages["Referred to an officer"]) == \
        (7, 5, 7)


def test_the_front_door_is_configs(engine):
    # With Housing as the front door: its contact in May is c6, which no referral names → 1 contact, 1 sorted there;
    # the referrals H1..H6 come from the contact centre, so none leaves Housing's front door.
    flow = chain.referral_flow(with_chain(engine, front_door="housing"), SYSTEM, MAY)
    stages = flow["stages"].set_index("stage")["count"]
    assert (stages["Housing"], stages["Sorted at the Housing"], stages["Referred to an officer"]) == (1, 1, 6)
    links = {(r.source, r.target): r.count for r in flow["links"].itertuples()}
    assert links[("Handled directly by departments", "Housing")] == 6 and ("Housing", "Housing") not in links


def test_supplier_stage_medians_are_over_each_departments_invoices(fresh_engine):
    """Each stage's median is over the department's invoices, not the median of its teams' medians.

    Added: hand-offs of I3 and I4 (Repairs) and I6, an invoice of Tenancy services (Housing's other team). Days in
    each stage (received → first hand-off → approved → paid), worked out from the timestamps:
        I3 (Repairs)  1 Apr 09:00 → 3 Apr 09:00 → 20 Apr 09:00 → 2 May 09:00   = 2,   17,  12
        I4 (Repairs)  2 May 09:00 → 2 May 21:00 → 3 May 09:00  → 20 May 23:00  = 0.5, 0.5, 17 14/24 (17.5833)
        I6 (Tenancy) 10 May 09:00 → 14 May 09:00 → 15 May 09:00 → 17 May 09:00 = 4,   1,   2
    Housing, median of its three invoices: registration 2, approval 1, payment 12.
    The median of its teams' medians would be registration median(1.25, 4) = 2.625, approval median(8.75, 1) =
    4.875, payment median(14.7917, 2) = 8.3958 — what the old code showed.
    Finance (one team, no hand-offs): payment I1 5 → 15 May = 10, I2 10 → 16 May = 6 → 8; no registration stage.
    """
    fresh_engine.con.execute(
        "INSERT INTO invoices (invoice_id, supplier_id, supplier_name, local_supplier, small_business, department_id, "
        "received_at, approved_at, paid_at, amount, terms_days) VALUES ('I6', 'SUP2', 'Big Co', false, false, "
        "'housing_tenancy', '2024-05-10 09:00', '2024-05-15 09:00', '2024-05-17 09:00', 100, 30)")
    add_handoffs(fresh_engine, [("V1", "invoice", "I3", "finance_payables", "housing_repairs", T("2024-04-03 09:00")),
                                ("V2", "invoice", "I4", "finance_payables", "housing_repairs", T("2024-05-02 21:00")),
                                ("V3", "invoice", "I6", "finance_payables", "housing_tenancy", T("2024-05-14 09:00"))])
    sup = chain.supplier_payments(fresh_engine, SYSTEM, MAY).set_index("department")
    assert sup.loc["housing", "invoices_paid"] == 3                                   # I3, I4, I6
    assert sup.loc["housing", ["registration_days", "approval_stage_days", "payment_days"]].tolist() == \
        pytest.approx([2.0, 1.0, 12.0])
    assert sup.loc["finance", "payment_days"] == pytest.approx(8.0)
    assert sup.loc["finance", "registration_days"] != sup.loc["finance", "registration_days"]     # NaN


# --- a mistake in the chain's config is one sentence with its key path, at start-up ------------------------------
@pytest.fixture(scope="module")
def raw():
    with open(ROOT / "config.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.mark.parametrize("mutate, expected", [
    (lambda c: c["chain"]["late_outcomes"].update(late_request=c["chain"]["late_outcomes"].pop("late_requests")),
     "chain.late_outcomes.late_request: unknown metric 'late_request' (did you mean: "),
    (lambda c: c["chain"].update(front_door="contact_center"),
     "chain.front_door: 'contact_center' is not a department key in `departments` (did you mean: contact_centre"),
    (lambda c: c["sources"]["requests"].pop("case"),
     "chain.late_outcomes.late_requests: late_requests counts source 'requests', which has no `case` (how its rows "
     "are followed through the hand-offs): add sources.requests.case: {type, id, opened, closed}"),
    (lambda c: c["chain"]["internal_service"].update(sla="internal_sla_attainmnt"),
     "chain.internal_service.sla: unknown metric 'internal_sla_attainmnt'"),
    (lambda c: c["chain"]["internal_service"].update(declined=c["chain"]["internal_service"].pop("csat")),
     "chain.internal_service.declined: the matrix already has a column 'declined'"),
    (lambda c: c["chain"].update(declines="declined_rate"),
     "chain.declines: 'declined_rate' is not a column of chain.internal_service (sla, median_hours, decline_rate, csat)"),
    (lambda c: c["chain"]["supplier_payments"].pop("paid_late"), "chain.supplier_payments.paid_late: required key is missing"),
    (lambda c: c["chain"].update(callbacks="first_contact_resolution"),
     "chain.callbacks: first_contact_resolution counts source 'contacts', which has no `case`"),
    (lambda c: c["sources"]["invoices"]["case"].update(type="invoise"),
     "sources.invoices.case.type: 'invoise' is not a case type the hand-offs accept (loader.allowed_values.handoffs."
     "case_type: request, referral, invoice, complaint)"),
    (lambda c: c["sources"]["referrals"]["case"].pop("closed"), "sources.referrals.case.closed: required key is missing"),
    (lambda c: c.pop("chain"), "chain: expected a mapping with keys front_door, internal_service, "),
])
def test_a_chain_config_mistake_is_one_sentence_with_its_key_path(raw, mutate, expected):
    bad = copy.deepcopy(raw)
    mutate(bad)
    with pytest.raises(ConfigError) as info:
        parse_config(bad)
    assert len(info.value.errors) == 1 and info.value.errors[0].startswith(expected), info.value.errors


def test_the_check_command_says_it(raw, tmp_path, capsys):
    bad = copy.deepcopy(raw)
    bad["chain"]["late_outcomes"]["late_paymnts"] = "invoices paid late"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "1 error" in err and "chain.late_outcomes.late_paymnts: unknown metric 'late_paymnts'" in err
