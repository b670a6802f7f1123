-- 007: targets as data, by period of effect (metrics.features.targets). config.yaml's targets stay the defaults;
-- an approved row here is the target for its metric and unit from `effective_from` until the next approved row for
-- the same metric and unit, so a 2024 figure keeps the target it had in 2024 after the 2025 target changes.
-- Heads propose for their own department, executives approve or reject, administrators and executives set
-- directly; every change is audited (entity 'targets'), and nothing is deleted: a replaced proposal stays as
-- history.
CREATE TABLE targets (
    target_id      VARCHAR NOT NULL PRIMARY KEY,
    metric_key     VARCHAR NOT NULL,
    department_id  VARCHAR,                   -- NULL: the organisation as a whole
    effective_from DATE NOT NULL,             -- in force from this day
    target         DOUBLE NOT NULL,
    warning        DOUBLE,                    -- the warning threshold, or NULL for none
    status         VARCHAR NOT NULL,          -- proposed, approved, rejected
    reason         VARCHAR,                   -- why: given with the proposal or the setting
    proposed_by    VARCHAR NOT NULL,          -- user name
    proposed_at    TIMESTAMP NOT NULL,
    decided_by     VARCHAR,                   -- who approved or rejected (the setter, for a target set directly)
    decided_at     TIMESTAMP,
    decision_note  VARCHAR,
    version        INTEGER NOT NULL DEFAULT 0
);
