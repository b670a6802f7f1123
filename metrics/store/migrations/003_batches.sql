-- 003: loads that can be undone. Every loadable table records the batch that wrote each row, and
-- replaced_<table> keeps the rows a batch overwrote (re-loading a corrected export upserts by
-- natural key), so `python -m metrics unload BATCH` restores exactly what was there before.
ALTER TABLE load_batches ADD COLUMN rows_inserted BIGINT DEFAULT 0;
ALTER TABLE load_batches ADD COLUMN rows_updated BIGINT DEFAULT 0;
ALTER TABLE load_batches ADD COLUMN rows_rejected BIGINT DEFAULT 0;
ALTER TABLE load_batches ADD COLUMN rows_dropped BIGINT DEFAULT 0;
ALTER TABLE load_batches ADD COLUMN seconds DOUBLE;
ALTER TABLE load_batches ADD COLUMN profile VARCHAR;
ALTER TABLE load_batches ADD COLUMN unloaded_at TIMESTAMP;

ALTER TABLE staff ADD COLUMN batch_id BIGINT;
ALTER TABLE contacts ADD COLUMN batch_id BIGINT;
ALTER TABLE requests ADD COLUMN batch_id BIGINT;
ALTER TABLE handoffs ADD COLUMN batch_id BIGINT;
ALTER TABLE feedback ADD COLUMN batch_id BIGINT;
ALTER TABLE surveys_sent ADD COLUMN batch_id BIGINT;
ALTER TABLE suggestions ADD COLUMN batch_id BIGINT;
ALTER TABLE recognitions ADD COLUMN batch_id BIGINT;
ALTER TABLE invoices ADD COLUMN batch_id BIGINT;
ALTER TABLE kpi_observations ADD COLUMN batch_id BIGINT;
ALTER TABLE benchmarks ADD COLUMN batch_id BIGINT;
CREATE TABLE replaced_staff AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM staff WHERE false;
CREATE TABLE replaced_contacts AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM contacts WHERE false;
CREATE TABLE replaced_requests AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM requests WHERE false;
CREATE TABLE replaced_handoffs AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM handoffs WHERE false;
CREATE TABLE replaced_feedback AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM feedback WHERE false;
CREATE TABLE replaced_surveys_sent AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM surveys_sent WHERE false;
CREATE TABLE replaced_suggestions AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM suggestions WHERE false;
CREATE TABLE replaced_recognitions AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM recognitions WHERE false;
CREATE TABLE replaced_invoices AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM invoices WHERE false;
CREATE TABLE replaced_kpi_observations AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM kpi_observations WHERE false;
CREATE TABLE replaced_benchmarks AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM benchmarks WHERE false;
