"""The DuckDB file: opening it, numbered schema migrations, and the tables written from config.

Migrations are the files metrics/migrations/NNN_description.sql, applied in order, each in its own
transaction and recorded in `schema_version`. A database written by a newer version of the code is
refused rather than guessed at. The `departments` and `calendar` tables are copies of config.yaml
(for people's own SQL and for business-day arithmetic); they are rewritten when config changes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import duckdb

from metrics.catalogue import calendar
from metrics.catalogue.definitions import Config
from metrics.errors import SchemaError

# The tables data files are loaded into, each with its natural key: re-loading a corrected export replaces rows
# with the same key instead of duplicating.
LOADABLE = {"staff": ("staff_id",), "contacts": ("contact_id",), "requests": ("request_id",),
            "handoffs": ("handoff_id",), "feedback": ("feedback_id",), "suggestions": ("suggestion_id",),
            "recognitions": ("recognition_id",), "invoices": ("invoice_id",),
            "surveys_sent": ("sent_on", "department_id", "staff_id", "channel"),
            "kpi_observations": ("metric_key", "department_id", "period_start", "period_end", "source"),
            "benchmarks": ("source", "organisation", "period", "metric_key")}
# Views made from tables (and their load bookkeeping): they change exactly when those tables do, so they are versioned
# as they are (ServedState.table_versions) — a cached result or a stored figure reading one is recomputed with them.
# (contact_demand also reads the demand_* copies of config, which change "*".)
DERIVED = {"staff_assignments": ("staff",), "case_stages": ("handoffs",),
           "contact_links": ("contacts", "requests", "handoffs"), "contact_demand": ("contacts", "requests", "handoffs")}
# Tables computed from others by a view of rules (migration 014), kept because the rules cost half a second a query
# over a few hundred thousand contacts: table → (its rules view, the tables it is computed from). Rewritten in the same
# transaction as every load, unload or demo build of an input and every change of config's rules (refresh_derived);
# an engine opened on a database written some other way (SQL of one's own, the tests' fixtures) brings them up to date
# first (up_to_date).
MATERIALISED = {"contact_links": ("contact_demand_rules", ("contacts", "requests", "handoffs"))}
DEMAND_SCHEMA = 14                   # the migration that made the demand_* tables, contact_links and contact_demand
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """Every migration shipped with the code: (version, description, SQL), in order."""
    out = []
    for path in sorted(MIGRATIONS_DIR.iterdir()):
        m = _NAME.match(path.name)
        if m:
            out.append((int(m.group(1)), m.group(2).replace("_", " "), path.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in out]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 001, 002, ... without gaps; found {versions}")
    return out


def latest_version() -> int:
    """The schema version this code writes and reads."""
    return len(migrations())


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version recorded in a database (0 for an empty one)."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
                         " AND table_schema = current_schema()").fetchone()[0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def migrate(con: duckdb.DuckDBPyConnection, where: str = "database") -> list[int]:
    """Bring a database up to the latest schema.

    Args:
        con: an open, writable connection.
        where: how to name the database in messages (its path).
    Returns:
        The versions applied (empty when already current). Raises SchemaError for a newer database.
    """
    current, latest = schema_version(con), latest_version()
    if current > latest:
        raise SchemaError(f"{where} has schema version {current}, newer than this code understands ({latest}); "
                          "upgrade the code or open a database written by this version")
    applied = []
    for version, description, sql in migrations():
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            if version == 1:
                con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description VARCHAR,"
                            " applied_at TIMESTAMP)")
            con.execute(sql)
            con.execute("INSERT INTO schema_version VALUES ($v, $d, $t)",
                        {"v": version, "d": description, "t": dt.datetime.now().replace(microsecond=0)})
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def _meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = $k", {"k": key}).fetchone()
    return row[0] if row else None


def _set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES ($k, $v)", {"k": key, "v": value})


def _inputs_state(cur, inputs: tuple[str, ...]) -> str:
    """What a derived table was computed from: its inputs' row counts and config's rules (their fingerprint)."""
    counts = [str(cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in inputs]
    return "/".join(counts + [_meta(cur, "demand_fingerprint") or ""])


def refresh_derived(cur, changed: set[str] | None = None) -> None:
    """Rewrite every MATERIALISED table one of whose inputs is in `changed` (None: all of them) from its rules, in
    the caller's transaction."""
    for table, (rules, inputs) in MATERIALISED.items():
        if changed is None or set(changed) & set(inputs):
            cur.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {rules}")
            cur.execute("INSERT OR REPLACE INTO derived_state VALUES ($t, $s)",
                        {"t": table, "s": _inputs_state(cur, inputs)})


def up_to_date(con: duckdb.DuckDBPyConnection) -> bool:
    """Refresh the MATERIALISED tables of a writable database whose inputs changed without them (rows inserted by
    hand); True if any was rewritten. A read-only database is left as it is (its writer refreshed it)."""
    if (con.execute("SELECT current_setting('access_mode')").fetchone()[0] == "read_only"
            or schema_version(con) < DEMAND_SCHEMA):
        return False
    known = dict(con.execute("SELECT table_name, inputs FROM derived_state").fetchall())
    stale = {t for t, (_, inputs) in MATERIALISED.items() if known.get(t) != _inputs_state(con, inputs)}
    if not stale:
        return False
    con.execute("BEGIN TRANSACTION")
    try:
        refresh_derived(con, {i for t in stale for i in MATERIALISED[t][1]})
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return True


def _departments_fingerprint(config: Config) -> str:
    return hashlib.sha256(repr(list(config.departments.values())).encode()).hexdigest()[:16]


def _demand_fingerprint(config: Config) -> str:
    return hashlib.sha256(repr(config.demand).encode()).hexdigest()[:16]


def sync_from_config(con: duckdb.DuckDBPyConnection, config: Config) -> bool:
    """Rewrite `departments`, `calendar` and the `demand_*` tables when config.yaml changed them; True if anything
    was written."""
    cal_fp, dep_fp, dem_fp = (calendar.fingerprint(config.organisation), _departments_fingerprint(config),
                              _demand_fingerprint(config))
    has_demand = schema_version(con) >= DEMAND_SCHEMA      # a file kept at an older version has no demand_* tables
    if (_meta(con, "calendar_fingerprint") == cal_fp and _meta(con, "departments_fingerprint") == dep_fp
            and (not has_demand or _meta(con, "demand_fingerprint") == dem_fp)):
        return False
    demand = config.demand
    frame = calendar.calendar_frame(config.organisation)
    rows = [(d.key, d.name, d.parent, d.front_line, d.level) for d in config.departments.values()]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM calendar")
        con.execute("INSERT INTO calendar SELECT * FROM frame")
        con.execute("DELETE FROM departments")
        con.executemany("INSERT INTO departments (department_id, name, parent_id, is_front_line, level)"
                        " VALUES (?, ?, ?, ?, ?)", rows)
        _set_meta(con, "calendar_fingerprint", cal_fp)
        _set_meta(con, "departments_fingerprint", dep_fp)
        if has_demand:
            _write_demand(con, demand, dem_fp)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return True


def _write_demand(con: duckdb.DuckDBPyConnection, demand, fingerprint: str) -> None:
    """Config's demand section into demand_classes, demand_reasons and demand_settings, and contact_links rewritten
    (its rules read those and the departments), in the caller's transaction."""
    con.execute("DELETE FROM demand_classes")
    con.execute("DELETE FROM demand_reasons")
    con.execute("DELETE FROM demand_settings")
    if demand.classes:
        con.executemany("INSERT INTO demand_classes VALUES (?, ?, ?)",
                        [(k, c.label, c.failure) for k, c in demand.classes.items()])
    if demand.reasons:
        con.executemany("INSERT INTO demand_reasons VALUES (?, ?)", list(demand.reasons.items()))
    con.execute("INSERT INTO demand_settings VALUES ($w, $s, $a, $b, $h)",
                {"w": demand.window_days, "s": demand.stale_after_days, "a": demand.waiting_class,
                 "b": demand.otherwise_class, "h": demand.default_handle_seconds})
    _set_meta(con, "demand_fingerprint", fingerprint)
    refresh_derived(con)


def connect(path: str | Path, config: Config, read_only: bool = False, create: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a database file ready for the metrics layer.

    Args:
        path: the DuckDB file (":memory:" for a scratch database).
        config: the validated config (departments and calendar are kept in step with it).
        read_only: open without writing; the file must then already be current.
        create: allow creating a new file.
    Returns:
        A connection; give each thread its own `.cursor()`. Raises SchemaError with a clear sentence.
    """
    where = str(path)
    if where != ":memory:" and not Path(path).exists() and not create:
        raise SchemaError(f"no database at {where}; build the demo with `python -m metrics demo --db {where}` "
                          "or pass --db with an existing file")
    try:
        con = duckdb.connect(where, read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise SchemaError(f"{where} is open for writing by another process (DuckDB allows one writer per "
                              "file); stop that process or wait for its load to finish") from None
        raise SchemaError(f"{where} cannot be opened as a DuckDB database ({exc})") from None
    except duckdb.Error as exc:
        raise SchemaError(f"{where} cannot be opened as a DuckDB database ({exc})") from None
    con.execute("SET enable_progress_bar = false")     # callers that want DuckDB's bar turn it on
    try:
        if read_only:
            version = schema_version(con)
            if version != latest_version():
                raise SchemaError(f"{where} has schema version {version}, this code needs {latest_version()}; "
                                  "open it once without read-only to upgrade it")
        else:
            migrate(con, where)
            sync_from_config(con, config)
    except Exception:
        con.close()
        raise
    return con
