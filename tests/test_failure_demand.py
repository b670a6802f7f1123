"""Failure demand on a hand-worked organisation of its own: migration 014's contact_demand view (each contact's
demand class, the item a failure call chases and whose work it waited on) and the seven catalogue metrics built
on it (config.yaml `demand:` and metrics failure_demand_* ... repeat_contact_rate), May 2024 (England: Mon 6 May
is a bank holiday). Every expected value below is worked on paper from the rules in the migration's header
comment and config.yaml, with the derivation beside it; nothing is read back from the code.

The organisation on paper
=========================
Staff (team):  S1 Amy cc_phones · S2 Ali cc_digital · S7 Cy cc_counter        (Contact Centre)
               S3 Hal housing_repairs · S4 Hen housing_repairs · S5 Tia housing_tenancy   (Housing)
               S6 Wes waste_collections                                        (Waste)

Requests (owner team / officer, customer, created → closed):
  RA  Repair  housing_repairs S3  C1  1 May 09:00 → 24 May 12:00   raised by contact a0
      HA1  3 May 10:00  housing_repairs → waste_collections S6   (the bulky waste must be cleared first)
      HA2 13 May 10:00  waste_collections → housing_repairs S4   (back to Housing, to Hen)
      stages: 0 (…, 3 May 10:00] housing_repairs (the owner: Hal S3) · 1 (3 May 10:00, 13 May 10:00] waste S6 ·
              2 (13 May 10:00, …) housing_repairs S4
  RB  Repair  housing_repairs S3  C2  2 Apr 09:00 → 11 Apr 16:00   (long closed)
  RE  Bin     waste_collections S6  C5  7 May 09:00 → open
  RE6 Repair  housing_repairs S3  C6  2 May 09:00 → 9 May 12:00
  RF  Repair  housing_repairs S3  C7  2 May 09:00 → 10 May 15:00
      HF1  7 May 10:00  housing_repairs → housing_tenancy S5   (its last stage: with Tia from 7 May on)
  RG  Repair  housing_repairs S3  C8  3 May 09:00 → 29 May 12:00   (a communal repair C8 reported)
  RH  Bin     waste_collections S6  C9  9 May 09:00 → 28 May 12:00
  RX01..RX16  Repair  housing_repairs S3, no customer: created day n of May 08:00, closed day n 16:00 (n = 1..16)
Referral (a callback asked for; case_id = the contact referred):
  HD1  referral of d0, 7 May 10:30, cc_phones → housing_tenancy S5, due 8 May 17:00, never returned

Contacts (all May 2024; team, staff, customer, reason, handle_seconds):
  a0  phone   1 May 09:00  cc_phones S1  C1   new_request (raises RA)       420
  a1  phone   8 May 11:00  cc_phones S1  C1   progress_chase                NULL
  a2  phone  20 May 14:00  cc_phones S1  C1   progress_chase                240
  b1  phone  10 May 10:00  cc_phones S1  C2   progress_chase                NULL
  c1  counter 14 May 09:30 cc_counter S7 C3   unclear_letter                NULL   (the only counter contact)
  d0  phone   7 May 10:00  cc_phones S1  C4   enquiry, referred (HD1)       360
  d1  phone  10 May 09:00  cc_phones S1  C4   callback_chase                NULL
  e1  email  16 May 11:00  cc_digital S2 C5   (no reason)                   NULL
  e2  phone  16 May 15:00  waste_collections S6  C6  (no reason)            120
  f1  phone  21 May 10:00  housing_repairs S3  C7  repeat_fault             480   (rang Housing direct)
  g1  phone  15 May 10:00  cc_phones S1  C9   progress_chase, names RG      NULL
  h0  email  13 May 09:00  cc_digital S2 C10  enquiry                       240
  h1  phone  17 May 10:00  cc_phones S1  C10  repeat_fault                  660
  j0  phone   2 May 09:00  cc_phones S1  C11  payment                       180
  j1  phone   9 May 09:00  cc_phones S1  C11  payment                       180   (exactly 7 days after j0)
  j2  phone  16 May 10:00  cc_phones S1  C11  payment                       NULL  (7 days 1 hour after j1)
  z1  phone  22 May 12:00  cc_phones —   —    (no reason), abandoned        NULL

Handling seconds: phone contacts with a time a0 420 + a2 240 + d0 360 + e2 120 + f1 480 + h1 660 + j0 180 + j1 180
= 2640 over 8 → a phone contact without one costs 330; email: h0 240 alone → 240; counter: none at all → the
default 300 (demand.default_handle_seconds).
"""
from __future__ import annotations

import datetime as dt

import pytest

from metrics.access import SYSTEM
from metrics.catalogue.parse import load_config
from metrics.catalogue.scope import ORGANISATION, Scope
from metrics.compute.engine import Engine
from metrics.compute.periods import month
from metrics.store.database import connect
from tests.conftest import with_columns

MAY = month(2024, 5)
HOUSING, WASTE, CC = Scope("department", "housing"), Scope("department", "waste"), Scope("department", "contact_centre")
REPAIRS, TENANCY = Scope("team", "housing_repairs"), Scope("team", "housing_tenancy")

STAFF = """
INSERT INTO staff VALUES
 ('S1', 'Amy', 'amy@x', 'cc_phones',         NULL, true, DATE '2020-01-01', NULL),
 ('S2', 'Ali', 'ali@x', 'cc_digital',        NULL, true, DATE '2020-01-01', NULL),
 ('S3', 'Hal', 'hal@x', 'housing_repairs',   NULL, true, DATE '2020-01-01', NULL),
 ('S4', 'Hen', 'hen@x', 'housing_repairs',   'S3', true, DATE '2020-01-01', NULL),
 ('S5', 'Tia', 'tia@x', 'housing_tenancy',   NULL, true, DATE '2020-01-01', NULL),
 ('S6', 'Wes', 'wes@x', 'waste_collections', NULL, true, DATE '2020-01-01', NULL),
 ('S7', 'Cy',  'cy@x',  'cc_counter',        NULL, true, DATE '2020-01-01', NULL);
"""

# contacts.reason / handle_seconds are left out of positional INSERTs (tests/conftest.py BOOKKEEPING): named here.
CONTACT_COLUMNS = ("contact_id, channel, received_at, answered_at, abandoned, wait_seconds, department_id, staff_id, "
                   "resolved_first_contact, request_id, referred, customer_id, reason, handle_seconds")
CONTACTS = f"""
INSERT INTO contacts ({CONTACT_COLUMNS}) VALUES
 ('a0', 'phone',   '2024-05-01 09:00', '2024-05-01 09:00:10', false, 10, 'cc_phones',  'S1', false, 'RA', false, 'C1', 'new_request',    420),
 ('a1', 'phone',   '2024-05-08 11:00', '2024-05-08 11:00:10', false, 10, 'cc_phones',  'S1', true,  NULL, false, 'C1', 'progress_chase', NULL),
 ('a2', 'phone',   '2024-05-20 14:00', '2024-05-20 14:00:10', false, 10, 'cc_phones',  'S1', true,  NULL, false, 'C1', 'progress_chase', 240),
 ('b1', 'phone',   '2024-05-10 10:00', '2024-05-10 10:00:10', false, 10, 'cc_phones',  'S1', true,  NULL, false, 'C2', 'progress_chase', NULL),
 ('c1', 'counter', '2024-05-14 09:30', NULL,                  false, NULL, 'cc_counter', 'S7', true, NULL, false, 'C3', 'unclear_letter', NULL),
 ('d0', 'phone',   '2024-05-07 10:00', '2024-05-07 10:00:10', false, 10, 'cc_phones',  'S1', false, NULL, true,  'C4', 'enquiry',        360),
 ('d1', 'phone',   '2024-05-10 09:00', '2024-05-10 09:00:10', false, 10, 'cc_phones',  'S1', false, NULL, false, 'C4', 'callback_chase', NULL),
 ('e1', 'email',   '2024-05-16 11:00', NULL,                  false, NULL, 'cc_digital', 'S2', true, NULL, false, 'C5', NULL,             NULL),
 ('e2', 'phone',   '2024-05-16 15:00', '2024-05-16 15:00:10', false, 10, 'waste_collections', 'S6', true, NULL, false, 'C6', NULL,   120),
 ('f1', 'phone',   '2024-05-21 10:00', '2024-05-21 10:00:10', false, 10, 'housing_repairs', 'S3', false, NULL, false, 'C7', 'repeat_fault', 480),
 ('g1', 'phone',   '2024-05-15 10:00', '2024-05-15 10:00:10', false, 10, 'cc_phones',  'S1', true,  'RG', false, 'C9', 'progress_chase', NULL),
 ('h0', 'email',   '2024-05-13 09:00', NULL,                  false, NULL, 'cc_digital', 'S2', true, NULL, false, 'C10', 'enquiry',       240),
 ('h1', 'phone',   '2024-05-17 10:00', '2024-05-17 10:00:10', false, 10, 'cc_phones',  'S1', true,  NULL, false, 'C10', 'repeat_fault',  660),
 ('j0', 'phone',   '2024-05-02 09:00', '2024-05-02 09:00:10', false, 10, 'cc_phones',  'S1', true,  NULL, false, 'C11', 'payment',       180),
 ('j1', 'phone',   '2024-05-09 09:00', '2024-05-09 09:00:10', false, 10, 'cc_phones',  'S1', true,  NULL, false, 'C11', 'payment',       180),
 ('j2', 'phone',   '2024-05-16 10:00', '2024-05-16 10:00:10', false, 10, 'cc_phones',  'S1', true,  NULL, false, 'C11', 'payment',       NULL),
 ('z1', 'phone',   '2024-05-22 12:00', NULL,                  true,  40, 'cc_phones',  NULL, false, NULL, false, NULL,  NULL,            NULL);
"""

# request_id, category, department_id, staff_id, requester_department_id, created_at, due_at, first_response_at,
# closed_at, status, decline_reason, priority, channel, customer_id
FILLERS = ",\n".join(
    f" ('RX{n:02d}', 'Repair', 'housing_repairs', 'S3', NULL, '2024-05-{n:02d} 08:00', '2024-05-{n:02d} 17:00', "
    f"'2024-05-{n:02d} 09:00', '2024-05-{n:02d} 16:00', 'closed', NULL, 'normal', 'web', NULL)" for n in range(1, 17))
REQUESTS = f"""
INSERT INTO requests VALUES
 ('RA',  'Repair', 'housing_repairs',   'S3', NULL, '2024-05-01 09:00', '2024-05-15 17:00', '2024-05-01 12:00', '2024-05-24 12:00', 'closed', NULL, 'normal', 'phone', 'C1'),
 ('RB',  'Repair', 'housing_repairs',   'S3', NULL, '2024-04-02 09:00', '2024-04-09 17:00', '2024-04-02 11:00', '2024-04-11 16:00', 'closed', NULL, 'normal', 'web',   'C2'),
 ('RE',  'Bin',    'waste_collections', 'S6', NULL, '2024-05-07 09:00', '2024-05-14 17:00', NULL,               NULL,               'open',   NULL, 'normal', 'web',   'C5'),
 ('RE6', 'Repair', 'housing_repairs',   'S3', NULL, '2024-05-02 09:00', '2024-05-09 17:00', '2024-05-02 10:00', '2024-05-09 12:00', 'closed', NULL, 'normal', 'web',   'C6'),
 ('RF',  'Repair', 'housing_repairs',   'S3', NULL, '2024-05-02 09:00', '2024-05-10 17:00', '2024-05-02 11:00', '2024-05-10 15:00', 'closed', NULL, 'normal', 'web',   'C7'),
 ('RG',  'Repair', 'housing_repairs',   'S3', NULL, '2024-05-03 09:00', '2024-05-17 17:00', '2024-05-03 12:00', '2024-05-29 12:00', 'closed', NULL, 'normal', 'web',   'C8'),
 ('RH',  'Bin',    'waste_collections', 'S6', NULL, '2024-05-09 09:00', '2024-05-16 17:00', '2024-05-09 12:00', '2024-05-28 12:00', 'closed', NULL, 'normal', 'web',   'C9'),
{FILLERS};
"""

# handoff_id, case_type, case_id, from, to, to_staff_id, handed_at, responded_at, completed_at, due_at
HANDOFFS = """
INSERT INTO handoffs VALUES
 ('HA1', 'request',  'RA', 'housing_repairs',   'waste_collections', 'S6', '2024-05-03 10:00', '2024-05-03 14:00', '2024-05-13 10:00', '2024-05-10 17:00'),
 ('HA2', 'request',  'RA', 'waste_collections', 'housing_repairs',   'S4', '2024-05-13 10:00', '2024-05-13 11:00', '2024-05-24 12:00', '2024-05-17 17:00'),
 ('HF1', 'request',  'RF', 'housing_repairs',   'housing_tenancy',   'S5', '2024-05-07 10:00', '2024-05-07 11:00', '2024-05-10 15:00', '2024-05-10 17:00'),
 ('HD1', 'referral', 'd0', 'cc_phones',         'housing_tenancy',   'S5', '2024-05-07 10:30', NULL,               NULL,               '2024-05-08 17:00');
"""

# Each contact in the view: (demand_class, failure, linked_type, linked_id, cause_department_id, cause_staff_id),
# window_days 28. The candidates of a failure call: the request it names, the customer's requests and referrals,
# the customer's earlier contacts that were not failure demand, each opened before the call and open at it or
# closed within 28 days before it; ranked named, open, request/referral before contact, latest opened.
EXPECTED = {
    # new_request → value; not failure, so no link and no cause.
    "a0": ("value", False, None, None, None, None),
    # progress_chase → chasing. Candidates: RA (open: closes 24 May) and a0 (a value contact, 1 May, in the
    # window). Open first → RA. RA's stage at 8 May 11:00: HA1's (3 May 10:00, 13 May 10:00] → waste_collections,
    # HA1's to_staff S6 — the call counts for Waste, not for Housing who own the request.
    "a1": ("chasing", True, "request", "RA", "waste_collections", "S6"),
    # progress_chase again: RA still open (a1 is failure demand, so not a candidate; a0 ranks after RA). At 20 May
    # 14:00 RA is in HA2's stage (13 May 10:00, …) → back with housing_repairs, HA2's to_staff S4 (Hen, not Hal).
    "a2": ("chasing", True, "request", "RA", "housing_repairs", "S4"),
    # progress_chase of RB, closed 11 Apr 16:00; the window starts 10 May 10:00 − 28 d = 12 Apr 10:00, after it →
    # RB is no candidate; C2 has nothing else → failure, unlinked, unattributed (the organisation's only).
    "b1": ("chasing", True, None, None, None, None),
    # unclear_letter → unclear (failure); C3 has no request, referral or earlier contact → no link.
    "c1": ("unclear", True, None, None, None, None),
    # enquiry → value.
    "d0": ("value", False, None, None, None, None),
    # callback_chase → chasing. Candidates: the referral of d0 (opened 7 May 10:30 by HD1, never returned: open)
    # and the contact d0 (value, 7 May 10:00). Open first → referral d0. Its stage at 10 May: HD1's (7 May 10:30, …)
    # → housing_tenancy, HD1's to_staff S5.
    "d1": ("chasing", True, "referral", "d0", "housing_tenancy", "S5"),
    # No reason: C5's request RE (7 May, never closed) is open at 16 May → no_reason.waiting = chasing (failure).
    # Linked to RE; no hand-offs → its owner waste_collections and owner officer S6.
    "e1": ("chasing", True, "request", "RE", "waste_collections", "S6"),
    # No reason: C6's only item RE6 closed 9 May, before the call (16 May) → nothing open → no_reason.otherwise =
    # value (a closed request in the window does not make a no-reason call chasing).
    "e2": ("value", False, None, None, None, None),
    # repeat_fault → not_right_first_time. RF closed 10 May 15:00, inside 21 May − 28 d = 23 Apr → RF (C7's only
    # item). Its stage at 21 May: HF1's (7 May 10:00, …), its last → housing_tenancy, S5 — not housing_repairs,
    # whose line f1 rang (the call arrives at Housing repairs but is caused by Tenancy).
    "f1": ("not_right_first_time", True, "request", "RF", "housing_tenancy", "S5"),
    # progress_chase naming RG (C8's open communal repair). C9's own RH (9 May, open) is also a candidate and was
    # opened later, so it would win unnamed; the named one comes first → RG, never handed on → housing_repairs, S3.
    "g1": ("chasing", True, "request", "RG", "housing_repairs", "S3"),
    # enquiry → value.
    "h0": ("value", False, None, None, None, None),
    # repeat_fault: C10 has no request or referral; its only candidate is h0 (value demand, 13 May, in the window)
    # → linked_type contact, cause h0's own team cc_digital and its handler S2.
    "h1": ("not_right_first_time", True, "contact", "h0", "cc_digital", "S2"),
    # payment → value, all three.
    "j0": ("value", False, None, None, None, None),
    "j1": ("value", False, None, None, None, None),
    "j2": ("value", False, None, None, None, None),
    # No reason, no customer, no request named → nothing open → value.
    "z1": ("value", False, None, None, None, None),
}

# Each contact's (about_request_id, days_since_previous, cost_seconds) — what the request, repeat and cost metrics
# add up. about: the linked request, else the request the contact names. days: since the customer's previous
# contact. cost: its handling seconds, else its channel's average (phone 330, email 240), else 300 (counter).
ABOUT_REPEAT_COST = {
    "a0": ("RA", None, 420),             # names RA (raised it); C1's first contact
    "a1": ("RA", 7 + 2 / 24, 330),       # linked RA; 8 May 11:00 − 1 May 09:00 = 7 d 2 h; phone average
    "a2": ("RA", 12 + 3 / 24, 240),      # 20 May 14:00 − 8 May 11:00 = 12 d 3 h
    "b1": (None, None, 330),             # unlinked, names nothing
    "c1": (None, None, 300),             # the counter has no handling time at all → default
    "d0": (None, None, 360),
    "d1": (None, 2 + 23 / 24, 330),      # linked to a referral, names no request; 10 May 09:00 − 7 May 10:00
    "e1": ("RE", None, 240),             # email average (h0's 240)
    "e2": (None, None, 120),
    "f1": ("RF", None, 480),
    "g1": ("RG", None, 330),
    "h0": (None, None, 240),
    "h1": (None, 4 + 1 / 24, 660),       # 17 May 10:00 − 13 May 09:00
    "j0": (None, None, 180),
    "j1": (None, 7.0, 180),              # exactly 7 days
    "j2": (None, 7 + 1 / 24, 330),       # 7 days 1 hour
    "z1": (None, None, 0),               # no customer → no previous contact; abandoned: nobody handled it, costs 0
}


def _build(config, path=":memory:", handoffs=HANDOFFS, contacts=CONTACTS, requests=REQUESTS) -> Engine:
    """The organisation above in a new database, and an Engine on it (opening one brings whatever the store
    derives from the rows inserted here up to date)."""
    con = connect(path, config, create=True)
    for sql in (STAFF, contacts, requests, handoffs):
        con.execute(with_columns(con, sql))
    return Engine(con, config)


@pytest.fixture(scope="module")
def engine(config):
    eng = _build(config)
    yield eng
    eng.con.close()


def _view(con) -> dict:
    rows = con.execute("SELECT contact_id, demand_class, failure, linked_type, linked_id, cause_department_id, "
                       "cause_staff_id FROM contact_demand ORDER BY contact_id").fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_each_contact_class_link_and_cause(engine):
    got = _view(engine.con)
    assert set(got) == set(EXPECTED)
    for cid, want in EXPECTED.items():
        assert got[cid] == want, cid


def test_each_contact_request_repeat_and_cost(engine, config):
    # days_since_previous is the demand source's derived column (config.yaml), read as the metrics read it.
    days = config.sources["demand"].derived["days_since_previous"]
    rows = engine.con.execute(f"SELECT contact_id, about_request_id, {days}, cost_seconds "
                              "FROM contact_demand").fetchall()
    got = {r[0]: r[1:] for r in rows}
    assert set(got) == set(ABOUT_REPEAT_COST)
    for cid, (about, days, cost) in ABOUT_REPEAT_COST.items():
        assert got[cid][0] == about, cid
        assert (got[cid][1] is None) if days is None else got[cid][1] == pytest.approx(days), cid
        assert got[cid][2] == pytest.approx(cost), cid


def test_case_stages_of_the_handed_request(engine):
    rows = engine.con.execute("SELECT ord, stage_from, stage_to, department_id, staff_id FROM case_stages "
                              "WHERE case_type = 'request' AND case_id = 'RA' ORDER BY ord").fetchall()
    t = dt.datetime
    assert rows == [(0, None, t(2024, 5, 3, 10), "housing_repairs", None),                 # with HA1's sender
                    (1, t(2024, 5, 3, 10), t(2024, 5, 13, 10), "waste_collections", "S6"),
                    (2, t(2024, 5, 13, 10), None, "housing_repairs", "S4")]                 # still with Hen


# Failure contacts in May and where each counts (cause) with its cost in seconds:
#   a1 waste_collections S6 330 · e1 waste_collections S6 240                      → Waste 2, 570 s
#   a2 housing_repairs S4 240 · g1 housing_repairs S3 330                          → Repairs 2, 570 s
#   d1 housing_tenancy S5 330 · f1 housing_tenancy S5 480                          → Tenancy 2, 810 s
#   h1 cc_digital S2 660                                                          → Contact Centre 1, 660 s
#   b1 330 · c1 300: unattributed                                                 → organisation only
#   total 9 contacts, 3240 s. Of 17 contacts in May (a0 a1 a2 b1 c1 d0 d1 e1 e2 f1 g1 h0 h1 j0 j1 j2 z1).
# Requests created in May: RA RE RE6 RF RG RH + RX01..RX16 = 22; Housing RA RE6 RF RG + 16 = 20; Waste RE RH = 2.
# Requests closed (status closed) in May: RA RE6 RF RG RH + 16 = 21; Housing 20 (RA RE6 RF RG + 16); Waste RH = 1.
# (metric, scope, N, D, value); £ = seconds / 60 × 0.85.
CASES = [
    # 9 failure / 17 contacts, where they arrived.
    ("failure_demand_share", ORGANISATION, 9, 17, 9 / 17),
    # Arrived at contact centre teams: all but e2 (waste_collections) and f1 (housing_repairs) = 15; failure among
    # them: a1 a2 b1 c1 d1 e1 g1 h1 = 8.
    ("failure_demand_share", CC, 8, 15, 8 / 15),
    # Housing received f1 only, a failure call.
    ("failure_demand_share", HOUSING, 1, 1, 1.0),
    # Counted where the customer's wait was: organisation 9 including the unattributed b1 and c1.
    ("failure_demand_caused", ORGANISATION, 9, None, 9),
    ("failure_demand_caused", HOUSING, 4, None, 4),            # a2 g1 (repairs) + d1 f1 (tenancy)
    ("failure_demand_caused", WASTE, 2, None, 2),              # a1 e1
    ("failure_demand_caused", CC, 1, None, 1),                 # h1; 4 + 2 + 1 = 7 = 9 − 2 unattributed
    ("failure_demand_caused", REPAIRS, 2, None, 2),            # a2 g1
    ("failure_demand_caused", TENANCY, 2, None, 2),            # d1 f1
    ("failure_demand_caused", Scope("staff", "S5"), 2, None, 2),   # Tia: d1 f1
    ("failure_demand_caused", Scope("staff", "S4"), 1, None, 1),   # Hen: a2
    ("failure_demand_caused", Scope("staff", "S3"), 1, None, 1),   # Hal: g1 (f1 rang his line but is Tia's)
    ("failure_demand_caused", Scope("staff", "S6"), 2, None, 2),   # Wes: a1 e1
    ("failure_demand_caused", Scope("staff", "S1"), 0, None, 0),   # Amy took 11 of the calls and caused none
    # Distinct items: request:RA (a1 and a2: once), request:RE, request:RF, request:RG, referral:d0, contact:h0
    # = 6; b1 and c1 chase nothing linked.
    ("failure_demand_items", ORGANISATION, 6, None, 6),
    ("failure_demand_items", HOUSING, 4, None, 4),             # RA (a2), RG, d0, RF
    ("failure_demand_items", WASTE, 2, None, 2),               # RA (a1), RE — RA counts for both units once each
    ("failure_demand_items", REPAIRS, 2, None, 2),             # RA, RG
    ("failure_demand_items", CC, 1, None, 1),                  # h0
    # 3240 s / 60 × 0.85 = 54 min × 0.85 = £45.90.
    ("failure_demand_cost", ORGANISATION, 45.9, None, 45.9),
    # Housing: a2 240 + g1 330 + d1 330 + f1 480 = 1380 s = 23 min × 0.85 = £19.55.
    ("failure_demand_cost", HOUSING, 19.55, None, 19.55),
    # Waste: a1 330 + e1 240 = 570 s = 9.5 min × 0.85 = £8.075.
    ("failure_demand_cost", WASTE, 8.075, None, 8.075),
    # Contact centre: h1 660 s = 11 min × 0.85 = £9.35.
    ("failure_demand_cost", CC, 9.35, None, 9.35),
    # 9 failure contacts / 22 requests opened × 1000.
    ("avoidable_contacts_per_1000_requests", ORGANISATION, 9, 22, 9000 / 22),
    # Housing 4 / its 20 requests × 1000 = 200.
    ("avoidable_contacts_per_1000_requests", HOUSING, 4, 20, 200.0),
    # Waste 2 / 2 × 1000 = 1000 (a value, but below min_denominator 20: see the status test).
    ("avoidable_contacts_per_1000_requests", WASTE, 2, 2, 1000.0),
    # Contact centre: h1 / no requests opened → no value.
    ("avoidable_contacts_per_1000_requests", CC, 1, 0, None),
    # Contacts about requests: a0 (raised RA), a1 a2 (RA), e1 (RE), f1 (RF), g1 (RG) = 6 / 21 closed.
    ("contacts_per_resolved_request", ORGANISATION, 6, 21, 6 / 21),
    # By the request's owner: Housing a0 a1 a2 f1 g1 = 5 / 20 closed (RA's chases count for Housing, its owner,
    # even a1 which counted for Waste above).
    ("contacts_per_resolved_request", HOUSING, 5, 20, 0.25),
    ("contacts_per_resolved_request", WASTE, 1, 1, 1.0),      # e1 about RE / RH closed
    # Within 7 days of the customer's previous contact: d1 (2 d 23 h), h1 (4 d 1 h), j1 (exactly 7 d) = 3 / 17;
    # a1 (7 d 2 h), a2 (12 d 3 h) and j2 (7 d 1 h) are not, nor anyone's first, nor z1 (no customer).
    ("repeat_contact_rate", ORGANISATION, 3, 17, 3 / 17),
    ("repeat_contact_rate", CC, 3, 15, 0.2),                  # all three arrived at cc teams, of 15
]


def _close(a, b):
    return a is None and b is None or (a is not None and b is not None and a == pytest.approx(b, rel=1e-12))


@pytest.mark.parametrize("key, scope, n, d, v", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_metric_by_hand(engine, key, scope, n, d, v):
    r = engine.value(SYSTEM, key, scope, MAY, compare=False)
    assert _close(r.numerator, n), ("numerator", r.numerator, n)
    assert _close(r.denominator, d), ("denominator", r.denominator, d)
    assert _close(r.value, v), ("value", r.value, v)


def test_min_denominator_judges_the_figure_but_keeps_its_value(engine):
    # min_denominator (metrics/compute/target_status.has_enough_data) does not blank a figure: the value is
    # computed and the status is "insufficient_data" (no colour against the target).
    r = engine.value(SYSTEM, "avoidable_contacts_per_1000_requests", WASTE, MAY, compare=False)
    assert (r.denominator, r.value, r.status) == (2, 1000.0, "insufficient_data")        # 2 < 20
    # Housing's 20 requests reach it: 200 against target 150 / warning 250, lower is better → warning.
    r = engine.value(SYSTEM, "avoidable_contacts_per_1000_requests", HOUSING, MAY, compare=False)
    assert (r.denominator, r.value, r.status) == (20, 200.0, "warning")
    # The organisation: 409.1 > 250 → off target.
    r = engine.value(SYSTEM, "avoidable_contacts_per_1000_requests", ORGANISATION, MAY, compare=False)
    assert (r.denominator, r.status) == (22, "off_target")
    # Housing's 20 closed requests: 0.25 ≤ target 1.2 → on target; Waste's 1 → insufficient data.
    assert engine.value(SYSTEM, "contacts_per_resolved_request", HOUSING, MAY, compare=False).status == "on_target"
    assert engine.value(SYSTEM, "contacts_per_resolved_request", WASTE, MAY, compare=False).status == \
        "insufficient_data"
    # 17 contacts < 30 for the shares.
    assert engine.value(SYSTEM, "failure_demand_share", ORGANISATION, MAY, compare=False).status == "insufficient_data"
    assert engine.value(SYSTEM, "repeat_contact_rate", ORGANISATION, MAY, compare=False).status == "insufficient_data"


# Another window: only the rows that change from EXPECTED, and the figures they move.
WINDOWS = {
    # 60 days: b1's window starts 10 May 10:00 − 60 d = 11 Mar 10:00, before RB's close (11 Apr 16:00) → b1 links
    # RB; never handed on → owner housing_repairs, Hal S3. No other candidate closed between 28 and 60 days
    # before its call (a1 a2 d1 e1 g1 link open items, f1 and h1 link items of the last 28 days).
    60: {"b1": ("chasing", True, "request", "RB", "housing_repairs", "S3")},
    # 10 days: f1's window starts 21 May 10:00 − 10 d = 11 May 10:00, after RF closed (10 May 15:00) → unlinked,
    # unattributed. h1's h0 (4 days before) and the open items stay.
    10: {"f1": ("not_right_first_time", True, None, None, None, None)},
}
# (metric, scope, value) at each window.
WINDOW_FIGURES = {
    60: [("failure_demand_caused", ORGANISATION, 9),      # the same 9 calls
         ("failure_demand_caused", HOUSING, 5),           # + b1
         ("failure_demand_caused", REPAIRS, 3),           # a2 g1 b1
         ("failure_demand_caused", Scope("staff", "S3"), 2),   # g1 b1
         ("failure_demand_items", ORGANISATION, 7),       # + request:RB
         ("failure_demand_items", HOUSING, 5),
         # + b1's 330 s: 1710 s = 28.5 min × 0.85
         ("failure_demand_cost", HOUSING, 24.225),
         # b1 is now about RB (Housing's): 6 / 20 (RB closed in April, not a May closure)
         ("contacts_per_resolved_request", HOUSING, 0.3),
         ("avoidable_contacts_per_1000_requests", HOUSING, 250.0)],     # 5 / 20 × 1000
    10: [("failure_demand_caused", ORGANISATION, 9),
         ("failure_demand_caused", TENANCY, 1),           # d1 only
         ("failure_demand_caused", Scope("staff", "S5"), 1),
         ("failure_demand_items", ORGANISATION, 5),       # RA RE RG d0 h0
         ("failure_demand_cost", HOUSING, 12.75),         # 1380 − 480 = 900 s = 15 min × 0.85
         ("contacts_per_resolved_request", HOUSING, 0.2)],              # f1 no longer about RF: 4 / 20
}


@pytest.mark.parametrize("days", sorted(WINDOWS))
def test_window_days_from_config(tmp_path, config, days):
    text = open("config.yaml", encoding="utf-8").read()
    assert text.count("  window_days: 28\n") == 1
    edited = tmp_path / "config.yaml"
    edited.write_text(text.replace("  window_days: 28\n", f"  window_days: {days}\n"), encoding="utf-8")
    other = load_config(edited)
    assert other.demand.window_days == days
    db = tmp_path / "demand.duckdb"
    eng = _build(config, str(db))             # built with window 28 ...
    assert _view(eng.con) == EXPECTED
    eng.con.close()
    con = connect(str(db), other)             # ... reopened with the edited config: demand_settings rewritten
    try:
        assert con.execute("SELECT window_days FROM demand_settings").fetchall() == [(days,)]
        eng = Engine(con, other)
        assert _view(con) == EXPECTED | WINDOWS[days]
        for key, scope, v in WINDOW_FIGURES[days]:
            r = eng.value(SYSTEM, key, scope, MAY, compare=False)
            assert r.value == pytest.approx(v, rel=1e-12), (key, str(scope), r.value, v)
    finally:
        con.close()
