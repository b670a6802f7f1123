-- 013: events marked on the trends (metrics.features.events): a date or a range, a scope (the organisation or
-- a unit; never a person), a kind (config annotations.kinds), a title and perhaps some detail. Shown on every chart
-- of the scope and of the units under it; a change point re-calculates the SPC limits from its first day. Removing
-- one keeps the row (removed_at), so the audit trail and a printed pack can still be explained.
CREATE TABLE annotations (
    annotation_id VARCHAR NOT NULL PRIMARY KEY,
    scope_kind    VARCHAR NOT NULL,          -- organisation, directorate, department or team
    scope_key     VARCHAR NOT NULL,          -- the unit's key; '' for the organisation
    starts        DATE NOT NULL,
    ends          DATE,                      -- NULL: the one day
    kind          VARCHAR NOT NULL,
    title         VARCHAR NOT NULL,
    detail        VARCHAR,
    metric_key    VARCHAR,                   -- about this figure only; NULL: every figure of the scope
    change_point  BOOLEAN NOT NULL DEFAULT FALSE,
    created_by    VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    removed_by    VARCHAR,
    removed_at    TIMESTAMP,
    version       INTEGER NOT NULL DEFAULT 0
);
