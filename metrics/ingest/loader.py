"""Loading an export: read → map → validate everything → write all of it in one transaction, or nothing.

The file is read by DuckDB into a temporary table with every column as text (no pandas, flat memory),
converted and checked in SQL, and every problem is collected as (row, column, value, reason). Only a
file with no problems is written: in one transaction, upserting by the table's natural key, keeping
the rows it replaced (replaced_<table>) so the batch can be unloaded exactly, and recording the batch
in load_batches. A file already loaded (same checksum) is skipped.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from metrics.catalogue.definitions import Config
from metrics.store import csvsafe
from metrics.store.database import refresh_derived
from metrics.ingest import fast
from metrics.errors import MetricsError
from metrics.ingest.convert import conversion_sql, problems_sql
from metrics.ingest.readers import is_sheet, open_as_text, read_failure
from metrics.ingest.profiles import KEYS, Column, Profile
from metrics.sql import ident

DUCK_TYPES = {"VARCHAR": "varchar", "BIGINT": "integer", "INTEGER": "integer", "SMALLINT": "integer",
              "DOUBLE": "double", "BOOLEAN": "boolean", "TIMESTAMP": "timestamp", "DATE": "date"}


@dataclass
class LoadResult:
    table: str
    file: str
    checksum: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    dropped: dict = field(default_factory=dict)
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "column", "value", "reason"]))
    problem_count: int = 0
    report: str | None = None
    batch_id: int | None = None
    seconds: float = 0.0
    skipped: bool = False
    dry_run: bool = False
    preview: pd.DataFrame | None = None    # a dry run's first converted rows (the profile builder), when asked for

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def summary(self) -> str:
        """One line: what happened, rows and speed."""
        if self.skipped:
            return f"{self.file} was already loaded into {self.table} (batch {self.batch_id}, same checksum); skipped"
        rate = f"{self.rows_read / self.seconds:,.0f} rows/s" if self.seconds else ""
        dropped = "".join(f", dropped {n:,} ({why})" for why, n in self.dropped.items())
        if not self.ok:
            return (f"{self.file}: {self.problem_count:,} problem(s) in {self.rows_read:,} rows; nothing was written"
                    + (f"; all problems in {self.report}" if self.report else ""))
        verb = "would insert" if self.dry_run else "inserted"
        batch = "" if self.batch_id is None else f" as batch {self.batch_id}"
        return (f"{self.file} → {self.table}{batch}: read {self.rows_read:,} rows, {verb} {self.inserted:,}, "
                f"updated {self.updated:,}{dropped} in {self.seconds:.1f} s ({rate})")


def checksum(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# Work recorded in the dashboard that a re-loaded export must not wipe out (see keep_dashboard_work).
DASHBOARD_ONLY = {"feedback": ("assigned_to", "assigned_at", "follow_up_note", "reopened_at", "reopen_count",
                               "shared_at", "shared_by", "version"),
                  "suggestions": ("detail", "reviewed_at", "decided_by", "version")}
SHARED_WORK = {"feedback": ("acknowledged_at", "followed_up_at", "follow_up_by", "action_taken", "resolved_at", "theme",
                            "shared_with_staff"),
               "suggestions": ("status", "decided_at", "implemented_at", "what_we_did", "decline_reason",
                               "linked_metric")}


# Columns a file in the schema's own names may leave out (NULL then): staff.assigned_from, the day a person's team and
# manager took effect, is known to few exports; without it a move takes effect on the day it is loaded. A contact's
# reason and handling time (migration 014) are in few telephony exports.
OPTIONAL = {"staff": ("assigned_from",), "contacts": ("reason", "handle_seconds")}


def default_profile(con, table: str, path: Path | None = None) -> Profile:
    """A file whose header uses the table's own column names and ISO dates (not the dashboard's own columns; the
    OPTIONAL ones only when the file's header has them)."""
    header = _csv_header(path) if path is not None and table in OPTIONAL else None
    cols = []
    for name, ctype, *_ in con.execute(f"DESCRIBE {ident(table)}").fetchall():
        if name == "batch_id" or name in DASHBOARD_ONLY.get(table, ()):
            continue
        if name in OPTIONAL.get(table, ()) and header is not None and name not in header:
            continue
        kind = DUCK_TYPES.get(ctype.split("(")[0], "double" if ctype.startswith("DECIMAL") else "varchar")
        cols.append(Column(name, name, kind))        # ISO dates and times: a plain cast
    return Profile(f"{table} (column names as in the schema)", table, "", "csv", ",", "utf-8", True, '"', 0, None,
                   tuple(cols), (), KEYS[table])


def load_file(con: duckdb.DuckDBPyConnection, config: Config, table: str, path: str | Path,
              profile: Profile | None = None, loaded_by: str = "cli", dry_run: bool = False,
              report_dir: str | Path | None = None, log=None, preview: int = 0) -> LoadResult:
    """Validate a file in full and, if it has no problems, load it in one transaction.

    Args:
        con: a writable connection (the load uses its own cursor, so temp tables stay private).
        config: departments to check against.
        table: the target table.
        path: the file.
        profile: how to map it (default: columns named as in the schema).
        loaded_by: who, for load_batches.
        dry_run: validate and count, write nothing.
        report_dir: where the CSV report of problems goes (default: beside the file, or the temporary
            folder when that one cannot be written; the summary says where).
        log: optional callable(str) told about each stage.
        preview: with dry_run, keep this many converted rows (those not dropped) in result.preview, and check the
            file even when the same file was loaded before.
    Returns:
        A LoadResult; `ok` False means nothing was written and `problems` says why.
    """
    started = time.perf_counter()
    path = Path(path)
    say = log or (lambda _msg: None)
    if table not in KEYS:
        raise MetricsError(f"{table!r} is not a loadable table (one of {', '.join(KEYS)})")
    if not path.exists() or not path.is_file():
        raise MetricsError(f"no file {path}")
    if path.stat().st_size == 0:
        raise MetricsError(f"{path.name} is empty: expected a header row and data rows")
    cur = con.cursor()
    scratch = None             # a spreadsheet's text form lives here until the load is over
    try:
        profile = profile or default_profile(cur, table, path)
        if profile.table != table:
            raise MetricsError(f"profile {profile.name!r} is for table {profile.table}, not {table}")
        _check_mapped_values(profile, config)
        digest = checksum(path)
        result = LoadResult(table, path.name, digest, dry_run=dry_run)
        done = cur.execute("SELECT batch_id FROM load_batches WHERE checksum = $c AND table_name = $t AND "
                           "status = 'loaded'", {"c": digest, "t": table}).fetchone()
        if done and not (dry_run and preview):
            result.skipped, result.batch_id = True, done[0]
            return result
        if is_sheet(path, profile):
            scratch = Path(tempfile.mkdtemp(prefix="cx-sheet-"))
        data_path, source, source_params, columns = open_as_text(cur, path, profile, config, scratch)
        target_cols = {r[0]: r for r in cur.execute(f"DESCRIBE {ident(table)}").fetchall()}
        missing = sorted({c.source for c in profile.columns if c.source} - set(columns))
        if missing and len(columns) == 1 and any(d in columns[0] for d in (";", "\t", "|", ",")):
            seen = next(d for d in (";", "\t", "|", ",") if d in columns[0])
            raise MetricsError(f"{path.name}: the header reads as a single column {columns[0][:60]!r}...; the file looks "
                               f"{seen!r}-separated, but the profile says {profile.delimiter!r} (set file.delimiter)")
        if missing:
            shown = ", ".join(columns[:12]) + (" ..." if len(columns) > 12 else "")
            result.problems = pd.DataFrame([{"row": 0, "column": m, "value": None,
                                             "reason": f"column missing from the header (the file has: {shown})"}
                                            for m in missing])
            result.problem_count = len(missing)
            return _finish(result, started, report_dir, path)
        if not dry_run and fast.eligible(profile):
            done = _fast(cur, config, profile, result, str(data_path), columns, target_cols, loaded_by, started)
            if done:
                say(f"loaded in {time.perf_counter() - started:.1f} s")
                return _finish(result, started, report_dir, path)
            say("the file needs checking row by row")
        sql, params = conversion_sql(profile, target_cols, source, columns)
        try:
            cur.execute(sql, {**params, **source_params})
        except duckdb.Error as exc:
            raise read_failure(data_path, profile, exc) from None
        result.rows_read = cur.execute("SELECT count(*) FROM _stage").fetchone()[0]
        say(f"read and converted {result.rows_read:,} rows in {time.perf_counter() - started:.1f} s")
        if result.rows_read == 0:
            raise MetricsError(f"{path.name} has a header but no data rows")
        if dry_run and preview:
            shown = ", ".join(ident(c.target) for c in profile.columns)
            result.preview = cur.execute(f"SELECT _row AS row, {shown} FROM _stage WHERE _drop IS NULL ORDER BY _row "
                                         "LIMIT $n", {"n": int(preview)}).df()
        psql, pparams = problems_sql(profile, target_cols, config)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _problems AS {psql}", pparams)
        result.problem_count = cur.execute("SELECT count(*) FROM _problems").fetchone()[0]
        result.dropped = dict(cur.execute("SELECT _drop, count(*) FROM _stage WHERE _drop IS NOT NULL GROUP BY 1 "
                                          "ORDER BY 1").fetchall())
        say(f"validated in {time.perf_counter() - started:.1f} s: {result.problem_count:,} problem(s)")
        if result.problem_count:
            result.problems = cur.execute("SELECT * FROM _problems ORDER BY row, \"column\" LIMIT 50").df()
            result.report = _report(cur, report_dir, path)
            return _finish(result, started, report_dir, path)
        on = " AND ".join(f"t.{ident(k)} IS NOT DISTINCT FROM s.{ident(k)}" for k in profile.key)
        result.updated = cur.execute(f"SELECT count(*) FROM {ident(table)} t WHERE EXISTS (SELECT 1 FROM _stage s "
                                     f"WHERE s._drop IS NULL AND {on})").fetchone()[0]
        kept = cur.execute("SELECT count(*) FROM _stage WHERE _drop IS NULL").fetchone()[0]
        result.inserted = kept - result.updated
        if not dry_run:
            result.batch_id = _write(cur, result, profile, loaded_by, on, started)
            say(f"written in {time.perf_counter() - started:.1f} s")
        return _finish(result, started, report_dir, path)
    finally:
        for name, kind in cur.execute("""SELECT table_name, table_type FROM information_schema.tables
                                         WHERE table_name IN ('_stage', '_problems', '_rejects', '_reject_scans')
                                         AND table_schema = 'main' AND table_catalog = 'temp'""").fetchall():
            cur.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")
        cur.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def load_upload(con: duckdb.DuckDBPyConnection, config: Config, table: str, name: str, data: bytes,
                profile: Profile | None = None, loaded_by: str = "dashboard", dry_run: bool = False,
                log=None, preview: int = 0) -> tuple[LoadResult, bytes | None]:
    """Load an uploaded file (the dashboard's Data page): load_file on a copy in a temporary folder that
    is removed whatever happens, the problems report read into memory first.

    Args:
        name: the file name as uploaded (only its last part is used).
        data: the file's bytes.
        (the rest as load_file)
    Returns:
        (the LoadResult, the problems report as CSV bytes or None).
    """
    with tempfile.TemporaryDirectory(prefix="cx-upload-") as folder:
        path = Path(folder) / (Path(name.replace("\\", "/")).name or "upload")
        path.write_bytes(data)
        result = load_file(con, config, table, path, profile, loaded_by=loaded_by, dry_run=dry_run,
                           report_dir=folder, log=log, preview=preview)
        report = Path(result.report).read_bytes() if result.report else None
    return result, report


def _check_mapped_values(profile: Profile, config: Config) -> None:
    """A profile whose `map` (or `default`) gives a coded column a value config does not accept (loader.allowed_values,
    and a contact's reason: config demand.reasons) is wrong in one place, the profile: one sentence, before any row
    is read (not one problem per row)."""
    for c in profile.columns:
        allowed = config.allowed_values.get((profile.table, c.target))
        if not c.map or allowed is None:
            continue
        bad = {str(k): v for k, v in c.map.items() if v is not None and str(v) not in allowed}
        if c.default is not None and str(c.default) not in allowed:
            bad["(default)"] = c.default
        if bad:
            k, v = next(iter(bad.items()))
            raise MetricsError(f"profile {profile.name}: columns.{c.target}.map.{k} gives {v!r}, which is not one of "
                               f"the values {profile.table}.{c.target} accepts ({', '.join(allowed)}); change the map, "
                               f"or add the value to config.yaml" + (f" ({len(bad) - 1} more such)" if len(bad) > 1 else ""))


def _fast(cur, config, profile, result: LoadResult, path: str, header, target_cols, loaded_by, started) -> bool:
    """Try the fast path (ingest_fast) in one transaction; True if the file was committed."""
    cur.execute("BEGIN TRANSACTION")
    try:
        batch = cur.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM load_batches").fetchone()[0]
        got = fast.try_fast(cur, config, profile, path, header, target_cols, batch)
        if got is None or got[1] > 0:
            cur.execute("ROLLBACK")
            return False
        result.rows_read = got[0]
        result.updated = fast.replace_older(cur, profile, batch)
        keep_dashboard_work(cur, result.table, profile.key, batch)
        result.inserted = got[0] - result.updated
        refresh_derived(cur, {result.table})
        _record(cur, result, profile, loaded_by, batch, started)
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    result.batch_id = batch
    return True


def _csv_header(path: Path) -> set[str] | None:
    """The column names on a CSV file's first line, or None when it cannot be read as one."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return {h.strip() for h in next(csv.reader(f), [])}
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def keep_dashboard_work(cur, table: str, key: tuple[str, ...], batch: int) -> None:
    """After an upsert: rows people worked on in the dashboard keep that work.

    Columns only the dashboard writes are carried over from the replaced row; columns both write keep the
    dashboard's value where the export leaves them empty (a reopened case stays reopened when yesterday's
    export, which knows nothing of it, is loaded again). `unload` still restores the replaced rows exactly.
    """
    if table not in DASHBOARD_ONLY:
        return
    on = " AND ".join(f"r.{ident(k)} IS NOT DISTINCT FROM t.{ident(k)}" for k in key)
    sets = [f"{ident(c)} = r.{ident(c)}" for c in DASHBOARD_ONLY[table]]
    sets += [f"{ident(c)} = CASE WHEN r.version > 0 AND t.{ident(c)} IS NULL THEN r.{ident(c)} ELSE t.{ident(c)} END"
             for c in SHARED_WORK[table] if c != "shared_with_staff"]
    if "shared_with_staff" in SHARED_WORK[table]:
        sets.append("shared_with_staff = t.shared_with_staff OR (r.version > 0 AND r.shared_with_staff)")
    cur.execute(f"UPDATE {ident(table)} t SET {', '.join(sets)} FROM replaced_{table} r "
                f"WHERE r.replaced_by = $b AND t.batch_id = $b AND {on}", {"b": batch})


def _write(cur, result: LoadResult, profile: Profile, loaded_by: str, on: str, started: float) -> int:
    table = ident(result.table)
    cols = ", ".join(ident(c.target) for c in profile.columns)
    cur.execute("BEGIN TRANSACTION")
    try:
        batch = cur.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM load_batches").fetchone()[0]
        cur.execute(f"INSERT INTO replaced_{result.table} SELECT t.*, $b FROM {table} t "
                    f"WHERE EXISTS (SELECT 1 FROM _stage s WHERE s._drop IS NULL AND {on})", {"b": batch})
        cur.execute(f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM _stage s WHERE s._drop IS NULL AND {on})")
        cur.execute(f"INSERT INTO {table} ({cols}, batch_id) SELECT {cols}, $b FROM _stage WHERE _drop IS NULL",
                    {"b": batch})
        keep_dashboard_work(cur, result.table, profile.key, batch)
        refresh_derived(cur, {result.table})
        _record(cur, result, profile, loaded_by, batch, started)
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    return batch


def _record(cur, result: LoadResult, profile: Profile, loaded_by: str, batch: int, started: float) -> None:
    cur.execute("""INSERT INTO load_batches (batch_id, table_name, file_name, checksum, rows, loaded_at, loaded_by,
                       status, rows_inserted, rows_updated, rows_rejected, rows_dropped, seconds, profile)
                   VALUES ($b, $t, $f, $c, $n, $at, $by, 'loaded', $i, $u, 0, $d, $s, $p)""",
                {"b": batch, "t": result.table, "f": result.file, "c": result.checksum, "n": result.rows_read,
                 "at": dt.datetime.now().replace(microsecond=0), "by": loaded_by, "i": result.inserted,
                 "u": result.updated, "d": sum(result.dropped.values()), "s": time.perf_counter() - started,
                 "p": profile.name})


def _report(cur, report_dir, path: Path) -> str:
    """Write every problem to <file>.problems.csv: in report_dir, else beside the file, else (that folder
    being read-only) in the temporary folder. Returns where it went, for the summary to say."""
    folders = [Path(report_dir)] if report_dir else [path.resolve().parent, Path(tempfile.gettempdir())]
    for folder in folders:
        out = folder.resolve() / f"{path.stem}.problems.csv"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return csvsafe.copy_query(cur, 'SELECT * FROM _problems ORDER BY row, "column"', out)   # values quoted
        except (OSError, duckdb.IOException):
            continue
    raise MetricsError(f"the problems report cannot be written to {folders[-1]} (the folder cannot be written); "
                       "choose another report folder")


def _finish(result: LoadResult, started: float, report_dir, path) -> LoadResult:
    result.seconds = time.perf_counter() - started
    return result


def unload(con: duckdb.DuckDBPyConnection, batch_id: int) -> dict:
    """Remove exactly what a batch added and put back the rows it replaced, in one transaction.

    Returns:
        {"table", "removed", "restored"}. Refuses (MetricsError) an unknown or already unloaded batch,
        or one whose rows a later batch replaced (unload that one first).
    """
    cur = con.cursor()
    try:
        row = cur.execute("SELECT table_name, status FROM load_batches WHERE batch_id = $b", {"b": batch_id}).fetchone()
        if row is None:
            raise MetricsError(f"no batch {batch_id}; `python -m metrics batches` lists them")
        table, status = row
        if status != "loaded":
            raise MetricsError(f"batch {batch_id} is {status}, so there is nothing to unload")
        later = cur.execute(f"SELECT min(replaced_by) FROM replaced_{table} WHERE batch_id = $b", {"b": batch_id}).fetchone()[0]
        if later is not None:
            raise MetricsError(f"batch {later} replaced rows of batch {batch_id}; unload batch {later} first")
        cols = [r[0] for r in cur.execute(f"DESCRIBE {ident(table)}").fetchall()]
        col_list = ", ".join(ident(c) for c in cols)
        cur.execute("BEGIN TRANSACTION")
        try:
            removed = cur.execute(f"DELETE FROM {ident(table)} WHERE batch_id = $b", {"b": batch_id}).fetchone()[0]
            restored = cur.execute(f"INSERT INTO {ident(table)} ({col_list}) SELECT {col_list} FROM replaced_{table} "
                                   f"WHERE replaced_by = $b", {"b": batch_id}).fetchone()[0]
            cur.execute(f"DELETE FROM replaced_{table} WHERE replaced_by = $b", {"b": batch_id})
            cur.execute("UPDATE load_batches SET status = 'unloaded', unloaded_at = $t WHERE batch_id = $b",
                        {"t": dt.datetime.now().replace(microsecond=0), "b": batch_id})
            refresh_derived(cur, {table})
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return {"table": table, "removed": removed, "restored": restored}
    finally:
        cur.close()
