-- 008: people move. A staff row says where a person works today; staff_assignments says where they worked when, so
-- that a team's headcount at the end of a past month counts the people it had then (metrics.features.people).
-- Each version of a person's staff row — the one now and the ones loads replaced, kept in replaced_staff with the
-- batch that replaced them — is one assignment: from `assigned_from` when the export gives it, else the day the
-- load that brought it ran (the first: the day they started), until the next version's first day or the day they
-- left. An unload restores the version it replaced, and with it the assignments. Access follows the staff row: the
-- line of management in force today.
ALTER TABLE staff ADD COLUMN assigned_from DATE;     -- the day the current team and manager took effect (optional)

-- replaced_<table> must keep the column order of <table> followed by replaced_by.
CREATE TABLE replaced_staff_008 AS SELECT s.*, CAST(NULL AS BIGINT) AS replaced_by FROM staff s WHERE false;
INSERT INTO replaced_staff_008 BY NAME SELECT * FROM replaced_staff;
DROP TABLE replaced_staff;
ALTER TABLE replaced_staff_008 RENAME TO replaced_staff;

CREATE VIEW staff_assignments AS
WITH versions AS (
    SELECT s.staff_id, s.department_id, s.manager_id, s.started_on, s.left_on, s.assigned_from, b.loaded_at,
           9223372036854775807 AS replaced_by                    -- the version in force now comes last
    FROM staff s LEFT JOIN load_batches b ON b.batch_id = s.batch_id
    UNION ALL
    SELECT r.staff_id, r.department_id, r.manager_id, r.started_on, r.left_on, r.assigned_from, b.loaded_at,
           r.replaced_by
    FROM replaced_staff r LEFT JOIN load_batches b ON b.batch_id = r.batch_id
), ordered AS (
    SELECT *, row_number() OVER (PARTITION BY staff_id ORDER BY replaced_by) AS n FROM versions
), dated AS (
    SELECT *, coalesce(assigned_from, CASE WHEN n = 1 THEN started_on END, CAST(loaded_at AS DATE), started_on)
              AS valid_from
    FROM ordered
)
SELECT staff_id, department_id, manager_id, started_on, left_on, valid_from,
       coalesce(lead(valid_from) OVER (PARTITION BY staff_id ORDER BY n), left_on) AS valid_to
FROM dated;
