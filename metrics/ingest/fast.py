"""The fast path of a load, for profiles that map columns one to one (no maps, formats or expressions).

DuckDB's CSV reader parses the typed columns itself (in parallel) straight into the target table,
inside the load's transaction; rows it cannot parse go to a rejects table. The same checks as the
general path then run on the batch's rows. Only a file with no rejects and no problems is committed;
anything else is rolled back and the caller runs the general path, which writes the row-level report.
"""
from __future__ import annotations

import duckdb

from metrics.catalogue.definitions import Config
from metrics.ingest.convert import SQL_TYPES, problems_sql, quote_name, source_sql
from metrics.ingest.profiles import Profile
from metrics.sql import ident


def eligible(profile: Profile) -> bool:
    """A CSV whose columns are all taken as they are (typed by the reader)."""
    return (profile.format == "csv" and not profile.drops and
            all(c.source and not c.map and not c.formats and not c.null_if and c.expr is None and c.constant is None
                for c in profile.columns))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def try_fast(cur, config: Config, profile: Profile, path: str, header: list[str], target_cols: dict,
             batch: int) -> tuple[int, int] | None:
    """Insert the file as `batch` inside the caller's open transaction.

    Returns:
        (rows, problems) — problems > 0 means the caller must roll back; None if the reader refused
        the file outright or it has no data rows (the caller rolls back and takes the general path).
    """
    by_source = {c.source: c for c in profile.columns}
    types = ", ".join(f"{_literal(h)}: {_literal(SQL_TYPES[by_source[h].type] if h in by_source else 'VARCHAR')}"
                      for h in header)
    source, params = source_sql(profile, path)
    source = source.replace("all_varchar = true", f"columns = {{{types}}}, store_rejects = true, "
                            "rejects_table = '_rejects', rejects_scan = '_reject_scans'")
    targets = ", ".join(ident(c.target) for c in profile.columns)
    # Text is trimmed and a blank is no value, exactly as the general path reads every field (convert._source).
    sources = ", ".join(f"nullif(trim({quote_name(c.source)}), '')" if SQL_TYPES[c.type] == "VARCHAR"
                        else quote_name(c.source) for c in profile.columns)
    table = ident(profile.table)
    try:
        rows = cur.execute(f"INSERT INTO {table} ({targets}, batch_id) SELECT {sources}, {int(batch)} FROM {source}",
                           params).fetchone()[0]
    except duckdb.Error:
        return None
    if rows == 0:              # a header and no data: the general path refuses it in a sentence
        return None
    rejected = cur.execute("SELECT count(*) FROM _rejects").fetchone()[0]
    if rejected:
        return rows, rejected
    view = ", ".join(["rowid AS _row", "CAST(NULL AS VARCHAR) AS _drop"] +
                     [ident(c.target) for c in profile.columns] +
                     [f"CAST({ident(c.target)} AS VARCHAR) AS {ident('_src_' + c.target)}"
                      for c in profile.columns if c.type != "varchar"])
    cur.execute(f"CREATE OR REPLACE TEMP VIEW _stage AS SELECT {view} FROM {table} WHERE batch_id = {int(batch)}")
    psql, pparams = problems_sql(profile, target_cols, config)
    problems = cur.execute(f"SELECT count(*) FROM ({psql})", pparams).fetchone()[0]
    return rows, problems


def replace_older(cur, profile: Profile, batch: int) -> int:
    """Move rows that the new batch replaces (same natural key) to replaced_<table>; returns how many."""
    table = ident(profile.table)
    on = " AND ".join(f"n.{ident(k)} IS NOT DISTINCT FROM t.{ident(k)}" for k in profile.key)
    older = (f"t.batch_id IS DISTINCT FROM {int(batch)} AND EXISTS (SELECT 1 FROM {table} n "
             f"WHERE n.batch_id = {int(batch)} AND {on})")
    cur.execute(f"INSERT INTO replaced_{profile.table} SELECT t.*, {int(batch)} FROM {table} t WHERE {older}")
    return cur.execute(f"DELETE FROM {table} t WHERE {older}").fetchone()[0]
