-- 004: listening and acting. Negative feedback is worked as a case on its own row (who has it, the
-- follow-up said to the customer, reopening); `version` counts edits so two people editing the same
-- case cannot overwrite each other silently. Suggestions record who reviewed and decided them.
-- Every change made through the dashboard is written to audit_log in the same transaction.
ALTER TABLE feedback ADD COLUMN assigned_to VARCHAR;      -- staff_id of the person working the case
ALTER TABLE feedback ADD COLUMN assigned_at TIMESTAMP;
ALTER TABLE feedback ADD COLUMN follow_up_note VARCHAR;   -- what was said to the customer
ALTER TABLE feedback ADD COLUMN reopened_at TIMESTAMP;
ALTER TABLE feedback ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feedback ADD COLUMN shared_at TIMESTAMP;
ALTER TABLE feedback ADD COLUMN shared_by VARCHAR;
ALTER TABLE feedback ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

ALTER TABLE suggestions ADD COLUMN detail VARCHAR;           -- the idea in the submitter's words
ALTER TABLE suggestions ADD COLUMN reviewed_at TIMESTAMP;
ALTER TABLE suggestions ADD COLUMN decided_by VARCHAR;
ALTER TABLE suggestions ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- replaced_<table> must keep the column order of <table> followed by replaced_by.
CREATE TABLE replaced_feedback_004 AS SELECT f.*, CAST(NULL AS BIGINT) AS replaced_by FROM feedback f WHERE false;
INSERT INTO replaced_feedback_004 BY NAME SELECT * FROM replaced_feedback;
DROP TABLE replaced_feedback;
ALTER TABLE replaced_feedback_004 RENAME TO replaced_feedback;
CREATE TABLE replaced_suggestions_004 AS SELECT s.*, CAST(NULL AS BIGINT) AS replaced_by FROM suggestions s WHERE false;
INSERT INTO replaced_suggestions_004 BY NAME SELECT * FROM replaced_suggestions;
DROP TABLE replaced_suggestions;
ALTER TABLE replaced_suggestions_004 RENAME TO replaced_suggestions;

CREATE SEQUENCE audit_seq START 1;
CREATE TABLE audit_log (
    audit_id  BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'),
    acted_at  TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,                -- the signed-in user
    role      VARCHAR NOT NULL,
    staff_id  VARCHAR,
    action    VARCHAR NOT NULL,                -- e.g. case.assign, suggestion.decide, recognition.give
    entity    VARCHAR NOT NULL,                -- the table written
    entity_id VARCHAR NOT NULL,
    changes   VARCHAR NOT NULL                 -- JSON: {column: [before, after]}
);
