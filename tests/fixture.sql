-- A tiny organisation for hand-worked tests: April and May 2024 (England: Mon 6 May 2024 is the
-- Early May bank holiday). Teams: cc_phones (Contact Centre), housing_repairs (Housing),
-- it_service_desk (IT, an internal provider), finance_payables (Finance).
INSERT INTO staff VALUES
 ('S1', 'Ann', 'ann@x', 'cc_phones',       'S3', true,  DATE '2020-01-01', NULL),
 ('S2', 'Bob', 'bob@x', 'housing_repairs', 'S3', true,  DATE '2020-01-01', NULL),
 ('S3', 'Cat', 'cat@x', 'contact_centre',  NULL, true,  DATE '2020-01-01', NULL),
 ('S4', 'Dan', 'dan@x', 'cc_phones',       'S3', false, DATE '2024-01-01', DATE '2024-05-31'), -- left on the last day of May
 ('S5', 'Eve', 'eve@x', 'cc_phones',       'S3', true,  DATE '2024-06-01', NULL);              -- starts the day after May

-- contact_id, channel, received_at, answered_at, abandoned, wait_seconds, department_id, staff_id,
-- resolved_first_contact, request_id, referred, customer_id
INSERT INTO contacts VALUES
 ('c1', 'phone', '2024-05-02 09:00', '2024-05-02 09:00:20', false, 20.0, 'cc_phones', 'S1', true,  NULL, false, 'P1'), -- exactly 20 s
 ('c2', 'phone', '2024-05-02 10:00', '2024-05-02 10:00:25', false, 25.0, 'cc_phones', 'S1', false, 'R1', true,  'P1'),
 ('c3', 'phone', '2024-05-03 10:00', NULL,                  true,   4.9, 'cc_phones', NULL, false, NULL, false, NULL), -- short abandon
 ('c4', 'phone', '2024-05-03 11:00', NULL,                  true,   5.0, 'cc_phones', NULL, false, NULL, false, NULL), -- counted abandon
 ('c5', 'phone', '2024-05-07 09:00', '2024-05-07 09:00:10', false, 10.0, 'cc_phones', 'S1', true,  NULL, false, 'P2'),
 ('c6', 'phone', '2024-05-08 09:00', '2024-05-08 09:00:30', false, 30.0, 'housing_repairs', 'S2', true, NULL, false, 'P3'),
 ('c7', 'email', '2024-05-09 09:00', NULL,                  false, NULL, 'cc_phones', 'S1', true,  NULL, false, 'P4'),
 ('c8', 'phone', '2024-04-10 09:00', '2024-04-10 09:00:15', false, 15.0, 'cc_phones', 'S1', false, NULL, true,  'P5');

-- request_id, category, department_id, staff_id, requester_department_id, created_at, due_at,
-- first_response_at, closed_at, status, decline_reason, priority, channel, customer_id
INSERT INTO requests VALUES
 ('R1', 'Repair', 'housing_repairs', 'S2', NULL, '2024-05-02 10:00', '2024-05-09 17:00', '2024-05-02 12:00', '2024-05-09 17:00', 'closed', NULL, 'normal', 'phone', 'P1'), -- closed exactly at due
 ('R2', 'Repair', 'housing_repairs', 'S2', NULL, '2024-05-01 09:00', '2024-05-03 17:00', '2024-05-01 13:00', '2024-05-06 09:00', 'closed', NULL, 'normal', 'web', NULL),  -- late
 ('R3', 'Query',  'cc_phones',       'S1', NULL, '2024-04-20 09:00', '2024-05-10 17:00', '2024-04-20 10:00', '2024-05-10 09:00', 'closed', NULL, 'normal', 'web', NULL),
 ('R4', 'Repair', 'housing_repairs', 'S2', NULL, '2024-04-25 09:00', '2024-04-30 17:00', NULL, NULL, 'open', NULL, 'normal', 'web', NULL),                               -- open, overdue
 ('R5', 'IT access', 'it_service_desk', NULL, 'housing_repairs', '2024-05-07 09:00', '2024-05-10 17:00', '2024-05-07 11:00', '2024-05-10 12:00', 'closed', NULL, 'normal', 'internal', NULL),
 ('R6', 'Web form',  'it_service_desk', NULL, 'cc_phones',       '2024-05-08 09:00', '2024-05-15 17:00', '2024-05-08 15:00', '2024-05-09 09:00', 'declined', 'Not on our work plan', 'normal', 'internal', NULL),
 ('R7', 'Laptop',    'it_service_desk', NULL, 'housing_repairs', '2024-05-13 09:00', '2024-05-14 17:00', '2024-05-15 09:00', '2024-05-20 09:00', 'closed', NULL, 'normal', 'internal', NULL),
 ('R8', 'Repair', 'housing_repairs', 'S2', NULL, '2024-05-30 09:00', '2024-06-05 17:00', NULL, NULL, 'open', NULL, 'normal', 'web', NULL),                               -- open, not yet due
 ('R9', 'Query',  'cc_phones',       'S1', NULL, '2024-05-20 09:00', NULL, '2024-05-20 10:00', '2024-05-21 09:00', 'closed', NULL, 'normal', 'web', NULL);              -- no due time

-- handoff_id, case_type, case_id, from, to, to_staff_id, handed_at, responded_at, completed_at, due_at
INSERT INTO handoffs VALUES
 ('H1', 'referral', 'c2', 'cc_phones', 'housing_repairs', 'S2', '2024-05-03 10:00', '2024-05-07 11:00', NULL, '2024-05-07 23:59:59'), -- Fri → Tue over the bank holiday
 ('H2', 'referral', 'cx', 'cc_phones', 'housing_repairs', 'S2', '2024-05-03 11:00', '2024-05-08 09:00', NULL, '2024-05-07 23:59:59'), -- Fri → Wed
 ('H3', 'referral', 'cx', 'cc_phones', 'housing_repairs', 'S2', '2024-05-10 10:00', '2024-05-13 16:00', NULL, '2024-05-13 23:59:59'), -- Fri → Mon
 ('H4', 'referral', 'cx', 'cc_phones', 'housing_repairs', 'S2', '2024-05-10 12:00', '2024-05-14 09:00', NULL, '2024-05-13 23:59:59'), -- Fri → Tue
 ('H5', 'referral', 'cx', 'cc_phones', 'housing_repairs', 'S2', '2024-05-29 10:00', NULL, NULL, '2024-05-30 23:59:59'),                -- never, past due
 ('H6', 'referral', 'cx', 'cc_phones', 'housing_repairs', 'S2', '2024-05-31 10:00', NULL, NULL, '2024-06-03 23:59:59'),                -- never, not yet due
 ('H7', 'referral', 'c8', 'cc_phones', 'housing_repairs', 'S2', '2024-04-30 10:00', '2024-05-02 09:00', NULL, '2024-05-01 23:59:59'),
 ('H8', 'referral', 'cx', 'cc_phones', 'housing_repairs', 'S2', '2024-04-25 10:00', '2024-05-03 09:00', NULL, '2024-04-26 23:59:59'),
 ('H9', 'request',  'R4', 'cc_phones', 'housing_repairs', 'S2', '2024-05-01 10:00', NULL, NULL, '2024-05-02 23:59:59');                 -- not a referral

-- feedback_id, kind, source, received_at, department_id, staff_id, request_id, contact_id, csat, nps, effort,
-- comment, theme, acknowledged_at, followed_up_at, follow_up_by, action_taken, resolved_at, shared_with_staff,
-- customer_id, from_department_id
INSERT INTO feedback VALUES
 ('F1',  'survey',    'customer', '2024-05-02 10:00', 'cc_phones',       'S1', NULL, 'c1', 5, 10, 7, 'Great', 'outcome', NULL, NULL, NULL, NULL, NULL, false, 'P1', NULL),
 ('F2',  'survey',    'customer', '2024-05-03 10:00', 'cc_phones',       'S1', NULL, 'c2', 4,  8, 5, NULL, 'outcome', NULL, NULL, NULL, NULL, NULL, false, 'P1', NULL),
 ('F3',  'survey',    'customer', '2024-05-10 09:00', 'housing_repairs', 'S2', NULL, NULL, 2,  3, 2, 'Slow', 'repairs', NULL, '2024-05-14 10:00', 'S2', 'Called', NULL, false, 'P3', NULL), -- Fri → Tue: 2 business days
 ('F4',  'survey',    'customer', '2024-05-17 09:00', 'housing_repairs', 'S2', NULL, NULL, 3,  6, 4, NULL, 'repairs', NULL, '2024-05-22 10:00', 'S2', 'Called', NULL, false, 'P6', NULL), -- Fri → Wed: 3
 ('F5',  'survey',    'customer', '2024-05-20 09:00', 'housing_repairs', NULL, NULL, NULL, 1, NULL, NULL, NULL, 'repairs', NULL, NULL, NULL, NULL, NULL, false, 'P7', NULL),            -- never followed up
 ('F6',  'complaint', 'customer', '2024-05-21 09:00', 'housing_repairs', NULL, 'R1', NULL, NULL, NULL, NULL, 'Again', 'repairs', NULL, '2024-05-21 15:00', 'S2', 'Fixed', '2024-05-31 12:00', false, 'P1', NULL),
 ('F7',  'complaint', 'customer', '2024-04-10 09:00', 'housing_repairs', NULL, NULL, NULL, NULL, NULL, NULL, 'Leak', 'repairs', NULL, '2024-04-10 12:00', 'S2', 'Fixed', '2024-05-02 09:00', false, 'P1', NULL),
 ('F8',  'complaint', 'customer', '2024-05-22 09:00', 'cc_phones',       NULL, NULL, NULL, NULL, NULL, NULL, 'Hold', 'waiting_times', NULL, '2024-05-22 10:00', 'S1', 'Apologised', NULL, false, 'P2', NULL),
 ('F9',  'complaint', 'customer', '2024-01-10 09:00', 'cc_phones',       NULL, NULL, NULL, NULL, NULL, NULL, 'Hold', 'waiting_times', NULL, '2024-01-10 10:00', 'S1', 'Apologised', '2024-01-20 09:00', false, 'P2', NULL),
 ('F10', 'complaint', 'customer', '2024-05-23 09:00', 'housing_repairs', NULL, 'R1', NULL, NULL, NULL, NULL, 'No news', 'kept_informed', NULL, NULL, NULL, NULL, '2024-05-28 09:00', false, 'P8', NULL),
 ('F11', 'compliment', 'customer', '2024-05-15 09:00', 'cc_phones',       'S1', NULL, NULL, NULL, NULL, NULL, 'Thanks Ann', NULL, NULL, NULL, NULL, NULL, NULL, true,  NULL, NULL),
 ('F12', 'compliment', 'customer', '2024-05-16 09:00', 'housing_repairs', 'S2', NULL, NULL, NULL, NULL, NULL, 'Thanks Bob', NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, NULL),
 ('F13', 'survey', 'staff', '2024-05-10 12:00', 'it_service_desk', NULL, 'R5', NULL, 4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, 'housing_repairs'),
 ('F14', 'survey', 'staff', '2024-05-21 09:00', 'it_service_desk', NULL, 'R7', NULL, 2, NULL, NULL, NULL, NULL, NULL, '2024-05-21 14:00', NULL, NULL, NULL, false, NULL, 'housing_repairs');

INSERT INTO surveys_sent VALUES
 (DATE '2024-05-02', 'cc_phones', NULL, 'email', 20),
 (DATE '2024-05-10', 'housing_repairs', NULL, 'sms', 30),
 (DATE '2024-04-10', 'cc_phones', NULL, 'email', 10);

-- suggestion_id, source, submitted_by, department_id, submitted_at, status, decided_at, implemented_at,
-- what_we_did, linked_metric, title, decline_reason
INSERT INTO suggestions VALUES
 ('G1', 'staff',    'S1', 'cc_phones',       '2024-04-02 09:00', 'implemented', '2024-05-02 09:00', '2024-05-20 09:00', 'Done', 'csat', 'Idea 1', NULL),
 ('G2', 'customer', NULL, 'housing_repairs', '2024-05-03 09:00', 'declined',    '2024-05-13 09:00', NULL, NULL, 'csat', 'Idea 2', 'Cost'),
 ('G3', 'staff',    'S2', 'housing_repairs', '2024-05-20 09:00', 'new',         NULL, NULL, NULL, 'csat', 'Idea 3', NULL),
 ('G4', 'staff',    'S1', 'cc_phones',       '2024-05-06 09:00', 'implemented', '2024-05-26 09:00', NULL, 'Done', 'csat', 'Idea 4', NULL);

INSERT INTO recognitions VALUES
 ('K1', '2024-05-07 09:00', 'staff', 'S2', 'S1', 'cc_phones',       'Commitment', 'Thanks'),
 ('K2', '2024-05-08 09:00', 'customer', NULL, 'S2', 'housing_repairs', 'Capability', 'Thanks'),
 ('K3', '2024-04-15 09:00', 'staff', 'S2', 'S1', 'cc_phones',       'Creativity', 'Thanks');

-- invoice_id, supplier_id, supplier_name, local_supplier, small_business, department_id, received_at,
-- approved_at, paid_at, amount, terms_days
INSERT INTO invoices VALUES
 ('I1', 'SUP1', 'Local One', true,  true,  'finance_payables', '2024-05-01 09:00', '2024-05-05 09:00', '2024-05-15 09:00', 100, 14), -- 14 days on 14-day terms
 ('I2', 'SUP1', 'Local One', true,  true,  'finance_payables', '2024-05-01 09:00', '2024-05-10 09:00', '2024-05-16 09:00', 100, 14), -- 15 days: late
 ('I3', 'SUP2', 'Big Co',    false, false, 'housing_repairs',  '2024-04-01 09:00', '2024-04-20 09:00', '2024-05-02 09:00', 100, 30), -- 31 days: late
 ('I4', 'SUP2', 'Big Co',    false, false, 'housing_repairs',  '2024-05-02 09:00', '2024-05-03 09:00', '2024-05-20 23:00', 100, 30), -- 18 days
 ('I5', 'SUP2', 'Big Co',    false, false, 'housing_repairs',  '2024-05-20 09:00', '2024-05-28 09:00', NULL,               100, 30); -- unpaid

-- The telephony report: May by team only; April has an organisation-wide row and a team row.
INSERT INTO kpi_observations VALUES
 ('avg_handle_time', 'cc_phones',       DATE '2024-05-01', DATE '2024-05-31', 3000, 10, 300, 'Telephony'),
 ('avg_handle_time', 'housing_repairs', DATE '2024-05-01', DATE '2024-05-31', 1000,  5, 200, 'Telephony'),
 ('avg_handle_time', NULL,              DATE '2024-04-01', DATE '2024-04-30', 9000, 30, 300, 'Telephony'),
 ('avg_handle_time', 'cc_phones',       DATE '2024-04-01', DATE '2024-04-30', 2000, 10, 200, 'Telephony');
