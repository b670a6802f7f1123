-- 009: alerts (metrics.features.alerts). A rule is one person's: a metric for a scope they may see, and what should
-- alert them — the figure crossing a threshold, its status turning off target, or a straight-line projection from
-- the period so far missing the target at the period's end. Each time a rule fires, an alert row; a rule does not
-- fire again within config's alerts.quiet_hours of its last alert, nor while that alert is snoozed.
CREATE TABLE alert_rules (
    rule_id     VARCHAR NOT NULL PRIMARY KEY,
    user_id     VARCHAR NOT NULL,          -- whose rule: alerts are evaluated as this user sees the figures
    role        VARCHAR NOT NULL,          -- the owner as they were when they made it: used only with demo sign-in,
    department_id VARCHAR,                 -- where people have no account; otherwise the account as it is now
    staff_id    VARCHAR,                   -- (and active) is who the rule is evaluated as
    metric_key  VARCHAR NOT NULL,
    scope_kind  VARCHAR NOT NULL,          -- organisation, directorate, department, team, staff
    scope_key   VARCHAR,
    kind        VARCHAR NOT NULL,          -- threshold, off_target, projected_miss
    threshold   DOUBLE,                    -- threshold rules: the value, in the metric's own units (shares 0–1)
    crosses     VARCHAR,                   -- threshold rules: above or below
    grain       VARCHAR NOT NULL,          -- the period watched: month, quarter or year containing the day
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE alerts (
    alert_id      VARCHAR NOT NULL PRIMARY KEY,
    rule_id       VARCHAR NOT NULL,
    user_id       VARCHAR NOT NULL,
    fired_at      TIMESTAMP NOT NULL,
    period_start  DATE NOT NULL,
    period_end    DATE NOT NULL,
    as_of         DATE NOT NULL,           -- the last day of data the figure covers
    value         DOUBLE,
    projected     DOUBLE,                  -- projected_miss: the value at the period's end at the pace so far
    target        DOUBLE,
    message       VARCHAR NOT NULL,
    snoozed_until TIMESTAMP,
    resolved_at   TIMESTAMP,
    version       INTEGER NOT NULL DEFAULT 0
);
