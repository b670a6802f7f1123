"""`python -m metrics export-parquet DIR`: the database's tables as Parquet, for other engines (e.g. Spark).

Each table becomes DIR/<table>/; the big fact tables are partitioned by month of their time column
(hive style: `<table>/year=2025/month=12/*.parquet`, the partition values derived from that column and
added as `year` and `month`), the rest are one file each. The export is written to a temporary folder
beside DIR and moved into place only when every table is written, so DIR is never half-written.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb

from metrics.errors import MetricsError
from metrics.sql import ident, literal
from metrics.store.database import up_to_date

# table → the time column its month partitions come from
PARTITIONED = {"contacts": "received_at", "contact_demand": "received_at", "requests": "created_at", "handoffs": "handed_at", "feedback": "received_at",
               "invoices": "received_at"}
TABLES = ("departments", "staff", "staff_assignments", "contacts", "contact_demand", "requests", "handoffs", "feedback", "surveys_sent", "suggestions",
          "recognitions", "invoices", "kpi_observations", "benchmarks", "calendar", "load_batches", "audit_log", "meta")
# Not exported: users and sessions (password hashes and session tokens stay in the database) and the
# loader's replaced_<table> bookkeeping.


def export_parquet(con: duckdb.DuckDBPyConnection, folder: str | Path, force: bool = False) -> dict[str, int]:
    """Write every table as Parquet under `folder`; returns rows per table.

    Args:
        con: an open database.
        folder: the target directory; it must not exist (or be empty) unless force.
        force: replace an existing export.
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not force:
        raise MetricsError(f"{folder} already holds files; choose an empty folder or pass --force to replace them")
    tmp = folder.parent / f".{folder.name}.exporting-{int(time.time())}"
    tmp.mkdir(parents=True)
    counts = {}
    try:
        up_to_date(con)                            # derived tables of rows written without the loader
        cur = con.cursor()
        cur.execute("BEGIN TRANSACTION")           # one consistent state of every table
        for table in TABLES:
            target = tmp / table
            n = cur.execute(f"SELECT count(*) FROM {ident(table)}").fetchone()[0]
            if table in PARTITIONED and n:         # (an empty table is one file, so its columns are known)
                col = ident(PARTITIONED[table])
                cur.execute(f"COPY (SELECT *, year({col}) AS year, month({col}) AS month FROM {ident(table)}) "
                            f"TO {literal(target)} (FORMAT parquet, PARTITION_BY (year, month))")
            else:
                target.mkdir()
                cur.execute(f"COPY (SELECT * FROM {ident(table)}) TO {literal(target / 'data.parquet')} (FORMAT parquet)")
            counts[table] = n
        cur.execute("ROLLBACK")
        cur.close()
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return counts
