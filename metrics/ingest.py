"""Loading an export: read → map → validate everything → write all of it in one transaction, or nothing.

The file is read by DuckDB into a temporary table with every column as text (no pandas, flat memory),
converted and checked in SQL, and every problem is collected as (row, column, value, reason). Only a
file with no problems is written: in one transaction, upserting by the table's natural key, keeping
the rows it replaced (replaced_<table>) so the batch can be unloaded exactly, and recording the batch
in load_batches. A file already loaded (same checksum) is skipped.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from metrics.definitions import Config
from metrics import ingest_fast
from metrics.errors import MetricsError
from metrics.ingest_sql import conversion_sql, problems_sql, source_sql
from metrics.profiles import KEYS, Column, Profile
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


def default_profile(con, table: str) -> Profile:
    """A file whose header uses the table's own column names and ISO dates (not the dashboard's own columns)."""
    cols = []
    for name, ctype, *_ in con.execute(f"DESCRIBE {ident(table)}").fetchall():
        if name == "batch_id" or name in DASHBOARD_ONLY.get(table, ()):
            continue
        kind = DUCK_TYPES.get(ctype.split("(")[0], "double" if ctype.startswith("DECIMAL") else "varchar")
        cols.append(Column(name, name, kind))        # ISO dates and times: a plain cast
    return Profile(f"{table} (column names as in the schema)", table, "", "csv", ",", "utf-8", True, '"', 0, None,
                   tuple(cols), (), KEYS[table])


def _open(cur, path: Path, profile: Profile) -> tuple[Path, str, dict, list[str]]:
    """The file as a text relation (a spreadsheet is first streamed to CSV) and its header's columns."""
    if profile.format == "excel" or path.suffix.lower() in (".xlsx", ".xlsm"):
        import dataclasses
        path = _sheet_as_csv(path, profile, cur)
        profile = dataclasses.replace(profile, format="csv", delimiter=",", encoding="utf-8", skip_rows=0)
    source, params = source_sql(profile, str(path))
    try:
        columns = [r[0] for r in cur.execute(f"DESCRIBE SELECT * FROM {source}", params).fetchall()]
    except duckdb.Error as exc:
        raise _failure(path, profile, exc) from None
    return path, source, params, columns


def _failure(path: Path, profile: Profile, exc: Exception) -> MetricsError:
    cut = _cut_off(path, profile) if profile.format == "csv" else None
    return MetricsError(cut) if cut else _read_error(path, exc)


def _sheet_as_csv(path: Path, profile: Profile, cur) -> Path:
    """Stream a worksheet into a temporary CSV (flat memory). Formula errors stay as their text
    (e.g. '#DIV/0!'), so a number column reports them instead of silently reading an empty cell."""
    import csv
    import tempfile

    from openpyxl import load_workbook
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise MetricsError(f"{path.name} cannot be read as an .xlsx spreadsheet ({exc})") from None
    try:
        ws = wb[profile.sheet] if isinstance(profile.sheet, str) else wb.worksheets[profile.sheet or 0]
    except (KeyError, IndexError):
        raise MetricsError(f"{path.name} has no sheet {profile.sheet!r} (sheets: {', '.join(wb.sheetnames)})") from None
    out = Path(tempfile.mkdtemp()) / (path.stem + ".csv")
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        for row in ws.iter_rows(values_only=True):
            w.writerow(["" if v is None else (v.isoformat(sep=" ") if hasattr(v, "isoformat") else v) for v in row])
    wb.close()
    return out


def _cut_off(path: Path, profile: Profile) -> str | None:
    """A sentence if the file ends in the middle of a row (an interrupted export), else None."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - 65536))
        tail = f.read()
        f.seek(0)
        head = f.readline()
    if tail.endswith(b"\n") or b"\n" not in tail:
        return None
    last = tail.rsplit(b"\n", 1)[1]
    delim = profile.delimiter.encode()
    if last.count(delim) < head.count(delim):
        return (f"{path.name}: the last line is cut off ({last.count(delim) + 1} of {head.count(delim) + 1} fields and "
                "no line break): the export was probably interrupted; export the file again")
    return None


def _read_error(path: Path, exc: Exception) -> MetricsError:
    text = str(exc)
    first = next((ln for ln in text.splitlines() if ln.strip()), text)
    line = next((ln.strip() for ln in text.splitlines() if "line" in ln.lower() and any(c.isdigit() for c in ln)), "")
    hint = ""
    if "unicode" in text.lower():
        hint = "; the file is not UTF-8: set file.encoding in the profile (e.g. latin-1) or save it as UTF-8"
    elif "expected" in text.lower() and "column" in text.lower():
        hint = "; a row has the wrong number of fields (a truncated last line, or the wrong delimiter)"
    where = f" ({line})" if line and line not in first else ""
    return MetricsError(f"{path.name} cannot be read as the profile describes: {first.split(': ', 1)[-1]}{where}{hint}")


def load_file(con: duckdb.DuckDBPyConnection, config: Config, table: str, path: str | Path,
              profile: Profile | None = None, loaded_by: str = "cli", dry_run: bool = False,
              report_dir: str | Path | None = None, log=None) -> LoadResult:
    """Validate a file in full and, if it has no problems, load it in one transaction.

    Args:
        con: a writable connection (the load uses its own cursor, so temp tables stay private).
        config: departments to check against.
        table: the target table.
        path: the file.
        profile: how to map it (default: columns named as in the schema).
        loaded_by: who, for load_batches.
        dry_run: validate and count, write nothing.
        report_dir: where the CSV report of problems goes (default: beside the file... or the cwd).
        log: optional callable(str) told about each stage.
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
    try:
        profile = profile or default_profile(cur, table)
        if profile.table != table:
            raise MetricsError(f"profile {profile.name!r} is for table {profile.table}, not {table}")
        digest = checksum(path)
        result = LoadResult(table, path.name, digest, dry_run=dry_run)
        done = cur.execute("SELECT batch_id FROM load_batches WHERE checksum = $c AND table_name = $t AND "
                           "status = 'loaded'", {"c": digest, "t": table}).fetchone()
        if done:
            result.skipped, result.batch_id = True, done[0]
            return result
        data_path, source, source_params, columns = _open(cur, path, profile)
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
        if not dry_run and ingest_fast.eligible(profile):
            done = _fast(cur, config, profile, result, str(data_path), columns, target_cols, loaded_by, started)
            if done:
                say(f"loaded in {time.perf_counter() - started:.1f} s")
                return _finish(result, started, report_dir, path)
            say("the file needs checking row by row")
        sql, params = conversion_sql(profile, target_cols, source)
        try:
            cur.execute(sql, {**params, **source_params})
        except duckdb.Error as exc:
            raise _failure(data_path, profile, exc) from None
        result.rows_read = cur.execute("SELECT count(*) FROM _stage").fetchone()[0]
        say(f"read and converted {result.rows_read:,} rows in {time.perf_counter() - started:.1f} s")
        if result.rows_read == 0:
            raise MetricsError(f"{path.name} has a header but no data rows")
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


def _fast(cur, config, profile, result: LoadResult, path: str, header, target_cols, loaded_by, started) -> bool:
    """Try the fast path (ingest_fast) in one transaction; True if the file was committed."""
    cur.execute("BEGIN TRANSACTION")
    try:
        batch = cur.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM load_batches").fetchone()[0]
        got = ingest_fast.try_fast(cur, config, profile, path, header, target_cols, batch)
        if got is None or got[1] > 0:
            cur.execute("ROLLBACK")
            return False
        result.rows_read = got[0]
        result.updated = ingest_fast.replace_older(cur, profile, batch)
        keep_dashboard_work(cur, result.table, profile.key, batch)
        result.inserted = got[0] - result.updated
        _record(cur, result, profile, loaded_by, batch, started)
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    result.batch_id = batch
    return True


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
    folder = Path(report_dir) if report_dir else Path.cwd()
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{path.stem}.problems.csv"
    cur.execute(f"COPY (SELECT * FROM _problems ORDER BY row, \"column\") TO '{_literal_path(out)}' (HEADER)")
    return str(out)


def _literal_path(p: Path) -> str:
    text = str(p.resolve())
    if "'" in text:
        raise MetricsError(f"the report folder {text} may not contain a quote character")
    return text


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
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return {"table": table, "removed": removed, "restored": restored}
    finally:
        cur.close()
