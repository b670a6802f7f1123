-- 014: why customers call, and which department's work made them call again (failure demand).
-- A contact may carry its reason (an organisation's reason key: config `demand.reasons`, mapped from an export's own
-- codes by the loader's profile) and its handling time. `demand_reasons` and `demand_classes` are copies of config's
-- `demand` section (rewritten when it changes, like `departments`), `demand_settings` its one row of rules.
--
-- `case_stages` is the one statement of who holds a case when: before its first hand-off the case is with that
-- hand-off's sender (stage 0, `stage_from` NULL: from the case's own start); then with each hand-off's receiver until
-- the next hand-off (`stage_to` NULL: still with them). The chain's delay attribution (metrics.features.chain.attribute)
-- and the failure-demand attribution below both read it.
--
-- `contact_demand_rules` states, and the table `contact_links` keeps (rewritten from it in the same transaction as
-- every load, unload or demo build of contacts, requests or hand-offs and every change of config's rules:
-- metrics.store.database.refresh_derived), for each contact the rules decide — one with no reason, or failure
-- demand — its class, the item it chases and the department (and person) whose work the customer was waiting on at
-- the moment of the call; the view `contact_demand` gives every contact with those (any other contact is its
-- reason's class and chases nothing), what it is about and its cost:
-- - class: the reason's class; a contact with no reason is `waiting_class` (chasing) when the customer had (or the
--   request the contact names was) an open request or an unreturned callback then — opened before the call and
--   within `stale_after_days` of it — else `otherwise_class`;
-- - link (failure demand only): of the items the call might chase — the request it names (even one the call itself
--   raised: a missed bin reported is the waste service's), the customer's requests and referrals (callbacks asked
--   for: a referral is open until its latest hand-off is answered), and the customer's earlier contacts that were
--   value demand — those opened before the call (the named request aside), open at it or closed within
--   `window_days` before it, and, if never closed, opened within `stale_after_days` of it (an item open longer
--   with no closure is taken as one whose closure was never recorded); the one named first, then open ones, then
--   requests and referrals before contacts, then the latest opened. Repeat calls about one item link to that item,
--   so they count once per cause;
-- - cause: the holder of the linked case's stage open at the call (case_stages), the case's owner when it was never
--   handed on or the call raised it, the earlier contact's own department; none: unattributed;
-- - cost: the handling seconds, the channel's average where a contact has none, the default where no contact of
--   the channel has any; an abandoned call costs nothing (nobody handled it).
ALTER TABLE contacts ADD COLUMN reason VARCHAR;           -- why the customer called (config demand.reasons)
ALTER TABLE contacts ADD COLUMN handle_seconds DOUBLE;    -- talk plus wrap-up time, when the system records it

-- replaced_<table> must keep the column order of <table> followed by replaced_by.
CREATE TABLE replaced_contacts_014 AS SELECT c.*, CAST(NULL AS BIGINT) AS replaced_by FROM contacts c WHERE false;
INSERT INTO replaced_contacts_014 BY NAME SELECT * FROM replaced_contacts;
DROP TABLE replaced_contacts;
ALTER TABLE replaced_contacts_014 RENAME TO replaced_contacts;

CREATE TABLE demand_classes (
    demand_class VARCHAR NOT NULL PRIMARY KEY,
    label        VARCHAR NOT NULL,
    failure      BOOLEAN NOT NULL
);
CREATE TABLE demand_reasons (
    reason       VARCHAR NOT NULL PRIMARY KEY,
    demand_class VARCHAR NOT NULL
);
CREATE TABLE demand_settings (
    window_days            INTEGER NOT NULL,
    stale_after_days       INTEGER NOT NULL,
    waiting_class          VARCHAR,
    otherwise_class        VARCHAR,
    default_handle_seconds DOUBLE
);

CREATE VIEW case_stages AS
WITH h AS (
    SELECT case_type, case_id, handed_at, from_department_id, to_department_id, to_staff_id,
           row_number() OVER w AS ord, lead(handed_at) OVER w AS next_at
    FROM handoffs
    WINDOW w AS (PARTITION BY case_type, case_id ORDER BY handed_at, handoff_id)
)
SELECT case_type, case_id, 0 AS ord, CAST(NULL AS TIMESTAMP) AS stage_from, handed_at AS stage_to,
       from_department_id AS department_id, CAST(NULL AS VARCHAR) AS staff_id
FROM h WHERE ord = 1
UNION ALL
SELECT case_type, case_id, ord, handed_at, next_at, to_department_id, to_staff_id FROM h;

CREATE VIEW contact_demand_rules AS
WITH settings AS (
    SELECT * FROM demand_settings LIMIT 1
), c AS (
    SELECT c.contact_id, c.channel, c.received_at, c.department_id, c.staff_id, c.customer_id, c.request_id,
           c.abandoned, c.reason, c.handle_seconds, r.demand_class AS reason_class,
           r.demand_class IS NULL OR coalesce(k.failure, false) AS needs_cases   -- value reasons chase nothing
    FROM contacts c LEFT JOIN demand_reasons r ON r.reason = c.reason
    LEFT JOIN demand_classes k ON k.demand_class = r.demand_class
), case_items AS (
    -- requests and referrals (a callback asked for: open until its latest hand-off is answered)
    SELECT 'request' AS linked_type, request_id AS linked_id, customer_id, created_at AS opened_at, closed_at,
           department_id AS owner, staff_id AS owner_staff
    FROM requests
    UNION ALL
    SELECT 'referral', h.case_id, any_value(rc.customer_id), min(h.handed_at),
           arg_max_null(h.responded_at, (h.handed_at, h.handoff_id)),
           arg_min(h.to_department_id, (h.handed_at, h.handoff_id)), arg_min(h.to_staff_id, (h.handed_at, h.handoff_id))
    FROM handoffs h JOIN contacts rc ON rc.contact_id = h.case_id
    WHERE h.case_type = 'referral'
    GROUP BY h.case_id
), case_cand AS (
    -- the customer's cases, and the request the contact names (whoever's it is; it may be the one the call raised);
    -- a case both ways appears twice, which changes neither rule below
    SELECT c.contact_id, c.received_at, i.* FROM c JOIN case_items i ON i.customer_id = c.customer_id WHERE c.needs_cases
    UNION ALL
    SELECT c.contact_id, c.received_at, i.* FROM c JOIN case_items i ON i.linked_type = 'request' AND i.linked_id = c.request_id
    WHERE c.needs_cases
), waiting AS (
    -- the no-reason rule: a case opened before the call, still open at it, not stale
    SELECT k.contact_id, bool_or(k.opened_at < k.received_at AND (k.closed_at IS NULL OR k.closed_at > k.received_at)
                                 AND k.opened_at >= k.received_at - to_days(s.stale_after_days)) AS waiting
    FROM case_cand k CROSS JOIN settings s GROUP BY k.contact_id
), classed AS (
    SELECT c.*, coalesce(c.reason_class, CASE WHEN w.waiting THEN s.waiting_class ELSE s.otherwise_class END)
               AS demand_class
    FROM c CROSS JOIN settings s LEFT JOIN waiting w USING (contact_id)
), flagged AS (
    SELECT d.*, coalesce(k.failure, false) AS failure, k.label AS demand_label
    FROM classed d LEFT JOIN demand_classes k USING (demand_class)
), cand AS (
    SELECT * FROM case_cand
    UNION ALL   -- the customer's earlier contacts that were value demand
    SELECT f.contact_id, f.received_at, 'contact', e.contact_id, e.customer_id, e.received_at, e.received_at,
           e.department_id, e.staff_id
    FROM flagged f JOIN flagged e ON e.customer_id = f.customer_id AND NOT e.failure AND e.contact_id <> f.contact_id
    WHERE f.failure
), ranked AS (
    SELECT k.*, row_number() OVER (PARTITION BY k.contact_id ORDER BY
               (k.linked_type = 'request' AND coalesce(k.linked_id = f.request_id, false)) DESC,
               (k.closed_at IS NULL OR k.closed_at > k.received_at) DESC,
               k.linked_type = 'contact', k.opened_at DESC, k.linked_type, k.linked_id) AS rank
    FROM cand k JOIN flagged f ON f.contact_id = k.contact_id AND f.failure CROSS JOIN settings s
    WHERE (k.opened_at < k.received_at OR (k.linked_type = 'request' AND k.linked_id = f.request_id))
      AND (k.closed_at IS NULL OR k.closed_at >= k.received_at - to_days(s.window_days))
      AND (k.closed_at IS NOT NULL OR k.opened_at >= k.received_at - to_days(s.stale_after_days))
), linked AS (
    SELECT f.*, i.linked_type, i.linked_id, i.opened_at AS linked_opened_at, i.owner, i.owner_staff
    FROM flagged f LEFT JOIN ranked i ON i.contact_id = f.contact_id AND i.rank = 1
), held AS (
    -- the stage open at the call; none for a request the call itself raised (it is its owner's)
    SELECT l.contact_id, s.ord, s.department_id, s.staff_id
    FROM linked l JOIN case_stages s ON s.case_type = l.linked_type AND s.case_id = l.linked_id
    WHERE l.linked_opened_at < l.received_at
      AND (s.stage_from IS NULL OR s.stage_from < l.received_at) AND (s.stage_to IS NULL OR s.stage_to >= l.received_at)
)
SELECT l.contact_id, l.demand_class, l.linked_type, l.linked_id,
       CASE WHEN l.linked_id IS NOT NULL THEN coalesce(h.department_id, l.owner) END AS cause_department_id,
       CASE WHEN l.linked_id IS NOT NULL THEN
           CASE WHEN h.ord > 0 THEN h.staff_id
                WHEN coalesce(h.department_id, l.owner) = l.owner THEN l.owner_staff END END AS cause_staff_id
FROM linked l LEFT JOIN held h USING (contact_id) LEFT JOIN settings s ON true
-- every other contact is its reason's class (no reason: otherwise_class) and chases nothing
WHERE l.failure OR l.demand_class IS DISTINCT FROM coalesce(l.reason_class, s.otherwise_class);

-- The rules' result, kept (metrics.store.database.refresh_derived): one row per contact that is failure demand or
-- whose class is not simply its reason's (the no-reason rule found it waiting); derived_state says which state of
-- its inputs it was computed from.
CREATE TABLE contact_links AS SELECT * FROM contact_demand_rules LIMIT 0;
CREATE TABLE derived_state (
    table_name VARCHAR NOT NULL PRIMARY KEY,
    inputs     VARCHAR NOT NULL         -- the row counts of the input tables and config's rules when computed
);

-- Every contact with its class, link, cause, what it is about and its cost: what people's own SQL, the metrics
-- (sources demand, failure_caused, request_contacts) and the Parquet export read.
CREATE VIEW contact_demand AS
WITH settings AS (
    SELECT * FROM demand_settings LIMIT 1
), seconds AS (                         -- each channel's average handling time, for contacts without one
    SELECT channel, avg(handle_seconds) AS seconds FROM contacts GROUP BY channel
), classed AS (
    SELECT c.*, k.linked_type, k.linked_id, k.cause_department_id, k.cause_staff_id,
           coalesce(k.demand_class, r.demand_class, s.otherwise_class) AS demand_class,
           coalesce(CASE WHEN k.linked_type = 'request' THEN k.linked_id END, c.request_id) AS about_request_id,
           s.default_handle_seconds
    FROM contacts c LEFT JOIN contact_links k USING (contact_id)
    LEFT JOIN demand_reasons r ON r.reason = c.reason
    LEFT JOIN settings s ON true
)
SELECT d.contact_id, d.channel, d.received_at, d.department_id, d.staff_id, d.customer_id, d.reason,
       d.demand_class, g.label AS demand_label, coalesce(g.failure, false) AS failure, d.linked_type, d.linked_id,
       d.cause_department_id, d.cause_staff_id, d.about_request_id, q.department_id AS about_department_id,
       d.handle_seconds,
       CASE WHEN d.abandoned THEN 0 ELSE   -- nobody handled an abandoned call
           coalesce(d.handle_seconds, a.seconds, d.default_handle_seconds) END AS cost_seconds
FROM classed d LEFT JOIN demand_classes g ON g.demand_class = d.demand_class
LEFT JOIN seconds a ON a.channel = d.channel
LEFT JOIN requests q ON q.request_id = d.about_request_id;
