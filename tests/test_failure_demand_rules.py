"""Failure demand's rules on small organisations of their own, worked by hand: a callback passed on stays open until
its latest hand-off is answered; an item open too long with no closure is not chased; a call reporting a failure links
the request it raised and counts for that request's owner; a contact the no-reason rule made failure demand is no
earlier contact to chase. (The main hand-worked organisation and every metric's figure: tests/test_failure_demand.py.)
"""
from __future__ import annotations

import pytest

from metrics.access import SYSTEM
from metrics.catalogue.parse import load_config
from metrics.catalogue.scope import ORGANISATION
from tests.test_failure_demand import CONTACT_COLUMNS, HOUSING, MAY, WASTE, _build, _view


# --- A callback passed on is open until its latest hand-off is answered ---------------------------------------
# A callback passed on is one referral (case_id = the contact) with several hand-offs; it is unreturned while its
# latest hand-off has no responded_at, however its earlier hand-offs were answered (the view takes the latest
# hand-off's responded_at with arg_max_null: a first version's arg_max skipped the NULL and read such a referral as
# closed at the earlier answer).
#   r0  phone 2 Apr 10:00 cc_phones S1 C20 enquiry, referred
#       HR1 2 Apr 10:30 cc_phones → housing_repairs S3, returned 3 Apr 09:00 (Hal rang back ...)
#       HR2 3 Apr 09:30 housing_repairs → housing_tenancy S5, never returned (... and passed it to Tia)
#   r1  phone 10 May 10:00 cc_phones S1 C20 callback_chase
#   s0  phone 7 May 10:00 cc_phones S1 C21 enquiry, referred
#       HS1 7 May 10:30 cc_phones → housing_repairs S3, returned 7 May 15:00
#       HS2 7 May 15:30 housing_repairs → housing_tenancy S5, never returned
#   s1  phone 10 May 10:00 cc_phones S1 C21 (no reason)
PASSED_ON_CONTACTS = f"""
INSERT INTO contacts ({CONTACT_COLUMNS}) VALUES
 ('r0', 'phone', '2024-04-02 10:00', '2024-04-02 10:00:10', false, 10, 'cc_phones', 'S1', false, NULL, true,  'C20', 'enquiry',        300),
 ('r1', 'phone', '2024-05-10 10:00', '2024-05-10 10:00:10', false, 10, 'cc_phones', 'S1', false, NULL, false, 'C20', 'callback_chase', 300),
 ('s0', 'phone', '2024-05-07 10:00', '2024-05-07 10:00:10', false, 10, 'cc_phones', 'S1', false, NULL, true,  'C21', 'enquiry',        300),
 ('s1', 'phone', '2024-05-10 10:00', '2024-05-10 10:00:10', false, 10, 'cc_phones', 'S1', false, NULL, false, 'C21', NULL,             300);
"""
PASSED_ON_HANDOFFS = """
INSERT INTO handoffs VALUES
 ('HR1', 'referral', 'r0', 'cc_phones',       'housing_repairs', 'S3', '2024-04-02 10:30', '2024-04-03 09:00', NULL, '2024-04-03 17:00'),
 ('HR2', 'referral', 'r0', 'housing_repairs', 'housing_tenancy', 'S5', '2024-04-03 09:30', NULL,               NULL, '2024-04-04 17:00'),
 ('HS1', 'referral', 's0', 'cc_phones',       'housing_repairs', 'S3', '2024-05-07 10:30', '2024-05-07 15:00', NULL, '2024-05-08 17:00'),
 ('HS2', 'referral', 's0', 'housing_repairs', 'housing_tenancy', 'S5', '2024-05-07 15:30', NULL,               NULL, '2024-05-08 17:00');
"""


@pytest.fixture(scope="module")
def passed_on(config):
    eng = _build(config, contacts=PASSED_ON_CONTACTS, handoffs=PASSED_ON_HANDOFFS, requests="SELECT 1")
    yield _view(eng.con)
    eng.con.close()


def test_passed_on_callback_what_agrees(passed_on):
    assert passed_on["r0"] == passed_on["s0"] == ("value", False, None, None, None, None)    # enquiries


def test_passed_on_callback_chased_outside_the_window_links_the_open_callback(passed_on):
    # The referral of r0 is unreturned at 10 May (HR2 never answered) → open → r1 links it although it was opened
    # before the window (12 Apr 10:00); its stage at the call is HR2's (3 Apr 09:30, …) → housing_tenancy, Tia S5.
    # (Read as closed at HR1's answer, 3 Apr 09:00, it would be outside the window: r1 unlinked, unattributed.)
    assert passed_on["r1"] == ("chasing", True, "referral", "r0", "housing_tenancy", "S5")


def test_passed_on_callback_makes_a_no_reason_call_chasing(passed_on):
    # C21 had an unreturned callback at 10 May (HS2) → no_reason.waiting = chasing; linked to the referral of s0,
    # held by HS2's housing_tenancy, S5. (Read as closed at HS1's answer, 7 May 15:00: nothing open → value.)
    assert passed_on["s1"] == ("chasing", True, "referral", "s0", "housing_tenancy", "S5")


# --- An item open too long is taken as closed unrecorded ---------------------------------------------------------
# config demand.stale_after_days (90): an item still open that long after it was opened is not chased.
#   RS  Repair, housing_repairs S3, customer C30, opened 1 Feb 2024 09:00, never closed
#   RT  Repair, housing_repairs S3, customer C31, opened 20 Feb 2024 09:00, never closed
#   s30 phone 10 May 2024 10:00, C30, progress_chase: RS opened 99 days + 1 h before → stale → no link, unattributed
#   s31 phone 10 May 2024 10:00, C31, progress_chase: RT opened 80 days + 1 h before → open, linked; never handed on →
#       with its owner: housing_repairs, S3
#   s32 phone 10 May 2024 11:00, C30, no reason: the only open item is stale → nothing waiting → value
#   With stale_after_days 120 instead, RS is 99 days old → s30 links RS (housing_repairs, S3), s32 is chasing and
#   links RS too.
STALE_CONTACTS = f"""
INSERT INTO contacts ({CONTACT_COLUMNS}) VALUES
 ('s30', 'phone', '2024-05-10 10:00', '2024-05-10 10:00:10', false, 10, 'cc_phones', 'S1', false, NULL, false, 'C30', 'progress_chase', 300),
 ('s31', 'phone', '2024-05-10 10:00', '2024-05-10 10:00:10', false, 10, 'cc_phones', 'S1', false, NULL, false, 'C31', 'progress_chase', 300),
 ('s32', 'phone', '2024-05-10 11:00', '2024-05-10 11:00:10', false, 10, 'cc_phones', 'S1', false, NULL, false, 'C30', NULL,             300);
"""
STALE_REQUESTS = """
INSERT INTO requests VALUES
 ('RS', 'Repair', 'housing_repairs', 'S3', NULL, '2024-02-01 09:00', '2024-02-08 17:00', NULL, NULL, 'open', NULL, 'normal', 'web', 'C30'),
 ('RT', 'Repair', 'housing_repairs', 'S3', NULL, '2024-02-20 09:00', '2024-02-27 17:00', NULL, NULL, 'open', NULL, 'normal', 'web', 'C31');
"""
STALE = {90: {"s30": ("chasing", True, None, None, None, None),
              "s31": ("chasing", True, "request", "RT", "housing_repairs", "S3"),
              "s32": ("value", False, None, None, None, None)},
         120: {"s30": ("chasing", True, "request", "RS", "housing_repairs", "S3"),
               "s31": ("chasing", True, "request", "RT", "housing_repairs", "S3"),
               "s32": ("chasing", True, "request", "RS", "housing_repairs", "S3")}}


@pytest.mark.parametrize("days", sorted(STALE))
def test_an_item_open_longer_than_stale_after_days_is_not_chased(tmp_path, days):
    text = open("config.yaml", encoding="utf-8").read()
    assert text.count("  stale_after_days: 90\n") == 1
    edited = tmp_path / "config.yaml"
    edited.write_text(text.replace("  stale_after_days: 90\n", f"  stale_after_days: {days}\n"), encoding="utf-8")
    other = load_config(edited)
    eng = _build(other, contacts=STALE_CONTACTS, requests=STALE_REQUESTS, handoffs="SELECT 1")
    try:
        assert _view(eng.con) == STALE[days]
        # Housing's calls caused: s31 only at 90 days; s30, s31 and s32 at 120.
        assert eng.value(SYSTEM, "failure_demand_caused", HOUSING, MAY, compare=False).value == {90: 1, 120: 3}[days]
    finally:
        eng.con.close()


# --- A call reporting a failure raises the request it is about -------------------------------------------------
#   m1  phone 14 May 2024 10:00, C40, missed_service, names RM — the request the call itself raised (RM created 10:05,
#       Waste collections' Wes S6), handed from cc_phones to waste_collections at 10:30 (HM1): the call is linked to
#       RM although RM opened after it; its cause is RM's owner, waste_collections S6 (not stage 0's cc_phones: the
#       request did not exist at the call, so no stage of it was open).
#   n1  phone 14 May 2024 11:00, C41, no reason, names RN (raised by this call, created 11:05): RN was not open
#       before the call → nothing waiting → value.
#   n2  phone 15 May 2024 09:00, C41, no reason: RN is open (created before) → chasing, linked RN, cause its owner
#       housing_repairs S3 (never handed on).
#   n3  phone 16 May 2024 09:00, C41, repeat_fault: candidates RN (open, request) and the earlier value contact n1;
#       n2 is failure demand, so not a candidate → RN (open first) → housing_repairs S3.
#   p1  phone 14 May 2024 09:00, C42, progress_chase: RP opened 1 Feb 2024 (103 days before), closed 20 May 2024 →
#       its closure was recorded, so it is not stale: open at the call → linked, cause housing_repairs S3.
RAISED_CONTACTS = f"""
INSERT INTO contacts ({CONTACT_COLUMNS}) VALUES
 ('m1', 'phone', '2024-05-14 10:00', '2024-05-14 10:00:10', false, 10, 'cc_phones', 'S1', false, 'RM', false, 'C40', 'missed_service', 300),
 ('n1', 'phone', '2024-05-14 11:00', '2024-05-14 11:00:10', false, 10, 'cc_phones', 'S1', false, 'RN', false, 'C41', NULL,            300),
 ('n2', 'phone', '2024-05-15 09:00', '2024-05-15 09:00:10', false, 10, 'cc_phones', 'S1', false, NULL, false, 'C41', NULL,            300),
 ('n3', 'phone', '2024-05-16 09:00', '2024-05-16 09:00:10', false, 10, 'cc_phones', 'S1', false, NULL, false, 'C41', 'repeat_fault',  300),
 ('p1', 'phone', '2024-05-14 09:00', '2024-05-14 09:00:10', false, 10, 'cc_phones', 'S1', false, NULL, false, 'C42', 'progress_chase', 300);
"""
RAISED_REQUESTS = """
INSERT INTO requests VALUES
 ('RM', 'Missed bin', 'waste_collections', 'S6', NULL, '2024-05-14 10:05', '2024-05-16 17:00', NULL, NULL, 'open', NULL, 'normal', 'phone', 'C40'),
 ('RN', 'Repair',     'housing_repairs',   'S3', NULL, '2024-05-14 11:05', '2024-05-21 17:00', NULL, NULL, 'open', NULL, 'normal', 'phone', 'C41'),
 ('RP', 'Repair',     'housing_repairs',   'S3', NULL, '2024-02-01 09:00', '2024-02-08 17:00', NULL, '2024-05-20 12:00', 'closed', NULL, 'normal', 'web', 'C42');
"""
RAISED_HANDOFFS = """
INSERT INTO handoffs VALUES
 ('HM1', 'request', 'RM', 'cc_phones', 'waste_collections', 'S6', '2024-05-14 10:30', '2024-05-14 11:00', NULL, NULL);
"""
RAISED = {"m1": ("not_done", True, "request", "RM", "waste_collections", "S6"),
          "n1": ("value", False, None, None, None, None),
          "n2": ("chasing", True, "request", "RN", "housing_repairs", "S3"),
          "n3": ("not_right_first_time", True, "request", "RN", "housing_repairs", "S3"),
          "p1": ("chasing", True, "request", "RP", "housing_repairs", "S3")}


def test_a_reported_failure_links_the_request_it_raised_and_counts_for_its_owner(config):
    eng = _build(config, contacts=RAISED_CONTACTS, requests=RAISED_REQUESTS, handoffs=RAISED_HANDOFFS)
    try:
        assert _view(eng.con) == RAISED
        # Waste's calls caused in May: m1 → 1; Housing's: n2, n3, p1 → 3; the organisation's: 4 (all linked).
        got = {str(s): eng.value(SYSTEM, "failure_demand_caused", s, MAY, compare=False).value
               for s in (WASTE, HOUSING, ORGANISATION)}
        assert got == {str(WASTE): 1, str(HOUSING): 3, str(ORGANISATION): 4}
        # Items chased: RM, RN, RP → 3 (n2 and n3 chase the same RN).
        assert eng.value(SYSTEM, "failure_demand_items", ORGANISATION, MAY, compare=False).value == 3
    finally:
        eng.con.close()
