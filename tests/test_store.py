"""The database file: public schema, numbered migrations, refusing newer files, config copies."""
import datetime as dt
import shutil

import duckdb
import pytest

from metrics.store import database
from metrics.catalogue.parse import load_config
from metrics.errors import SchemaError

# The public schema of data-and-metrics.md, typed out from the document (not from the migration).
SPEC = {
    "departments": "department_id, name, parent_id, is_front_line",
    "staff": "staff_id, name, email, department_id, manager_id, active, started_on",
    "contacts": "contact_id, channel, received_at, answered_at, abandoned, wait_seconds, department_id, staff_id, "
                "resolved_first_contact, request_id, referred",
    "requests": "request_id, category, department_id, staff_id, requester_department_id, created_at, due_at, "
                "first_response_at, closed_at, status, decline_reason, priority, channel",
    "handoffs": "handoff_id, case_type, case_id, from_department_id, to_department_id, to_staff_id, handed_at, "
                "responded_at, completed_at, due_at",
    "feedback": "feedback_id, kind, source, received_at, department_id, staff_id, request_id, contact_id, csat, nps, "
                "effort, comment, theme, acknowledged_at, followed_up_at, follow_up_by, action_taken, resolved_at, "
                "shared_with_staff",
    "suggestions": "suggestion_id, source, submitted_by, department_id, submitted_at, status, decided_at, "
                   "implemented_at, what_we_did, linked_metric",
    "recognitions": "recognition_id, given_at, from_kind, from_staff_id, to_staff_id, to_department_id, value, message",
    "invoices": "supplier_id, supplier_name, local_supplier, small_business, department_id, received_at, approved_at, "
                "paid_at, amount, terms_days",
    "kpi_observations": "metric_key, department_id, period_start, period_end, numerator, denominator, value, source",
    "benchmarks": "source, organisation, cohort, period, metric_key, value",
    "load_batches": "batch_id, checksum, rows, loaded_at, loaded_by, status",
    "surveys_sent": "",
}


@pytest.fixture(scope="module")
def config():
    return load_config("config.yaml")


def test_fresh_database_has_the_public_schema(config, tmp_path):
    con = database.connect(tmp_path / "a.duckdb", config, create=True)
    for table, columns in SPEC.items():
        have = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
        want = {c.strip() for c in columns.split(",") if c.strip()}
        assert want <= have, (table, want - have)
    assert database.schema_version(con) == database.latest_version()
    rows = con.execute("SELECT version, description FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, database.latest_version() + 1))


def test_departments_and_calendar_are_copied_from_config(config, tmp_path):
    con = database.connect(tmp_path / "a.duckdb", config, create=True)
    assert con.execute("SELECT count(*) FROM departments").fetchone()[0] == len(config.departments)
    assert con.execute("SELECT parent_id, level FROM departments WHERE department_id = 'cc_phones'").fetchone() == \
        ("contact_centre", "team")
    # Fri 3 May 2024, Mon 6 May 2024 = Early May bank holiday (England), Tue 7 May.
    cal = dict(con.execute("SELECT day, bd_before FROM calendar WHERE day BETWEEN DATE '2024-05-03' AND "
                           "DATE '2024-05-08'").fetchall())
    assert cal[dt.date(2024, 5, 7)] - cal[dt.date(2024, 5, 3)] == 1      # only Friday counts
    assert cal[dt.date(2024, 5, 8)] - cal[dt.date(2024, 5, 3)] == 2      # Friday and Tuesday
    holiday = con.execute("SELECT is_business_day, holiday FROM calendar WHERE day = DATE '2024-12-27'").fetchone()
    assert holiday == (False, "Local closure day")                       # a local day from config.yaml


def _with_next_migration(config, tmp_path, monkeypatch, name, sql):
    """A database at today's version, and code that ships one more migration."""
    path = tmp_path / "old.duckdb"
    database.connect(path, config, create=True).close()
    newer = tmp_path / "migrations"
    shutil.copytree(database.MIGRATIONS_DIR, newer)
    n = database.latest_version() + 1
    (newer / f"{n:03d}_{name}.sql").write_text(sql)
    monkeypatch.setattr(database, "MIGRATIONS_DIR", newer)
    return path, n


def test_older_database_is_upgraded(config, tmp_path, monkeypatch):
    """A file written at version 1 gains migration 2 when opened by code that has it."""
    path, n = _with_next_migration(config, tmp_path, monkeypatch, "add_contact_language",
                                   "ALTER TABLE contacts ADD COLUMN language VARCHAR;")
    con = database.connect(path, config)
    assert database.schema_version(con) == n
    assert "language" in {r[0] for r in con.execute("DESCRIBE contacts").fetchall()}
    assert con.execute("SELECT description FROM schema_version WHERE version = $v", {"v": n}).fetchone()[0] == \
        "add contact language"


def test_failed_migration_leaves_the_database_as_it_was(config, tmp_path, monkeypatch):
    path, n = _with_next_migration(config, tmp_path, monkeypatch, "broken",
                                   "ALTER TABLE contacts ADD COLUMN x INTEGER; SELECT * FROM nowhere;")
    with pytest.raises(duckdb.Error):
        database.connect(path, config)
    monkeypatch.undo()
    con = database.connect(path, config)
    assert database.schema_version(con) == n - 1
    assert "x" not in {r[0] for r in con.execute("DESCRIBE contacts").fetchall()}


def test_newer_database_is_refused(config, tmp_path):
    path = tmp_path / "new.duckdb"
    con = database.connect(path, config, create=True)
    con.execute("INSERT INTO schema_version VALUES (99, 'from the future', now())")
    con.close()
    with pytest.raises(SchemaError, match="schema version 99, newer than this code understands"):
        database.connect(path, config)


def test_missing_file_says_how_to_build_one(config, tmp_path):
    with pytest.raises(SchemaError, match="python -m metrics demo"):
        database.connect(tmp_path / "none.duckdb", config)


def test_not_a_database(config, tmp_path):
    path = tmp_path / "junk.duckdb"
    path.write_text("this is not a database")
    with pytest.raises(SchemaError, match="cannot be opened as a DuckDB database"):
        database.connect(path, config)


def test_read_only_needs_a_current_schema(config, tmp_path):
    path = tmp_path / "a.duckdb"
    con = database.connect(path, config, create=True)
    con.execute("DELETE FROM schema_version WHERE version = (SELECT max(version) FROM schema_version)")
    con.close()
    with pytest.raises(SchemaError, match="open it once without read-only"):
        database.connect(path, config, read_only=True)
