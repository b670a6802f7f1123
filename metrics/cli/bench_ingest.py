"""`python -m metrics bench ingest`: the loader against a bare DuckDB read_csv of the same file, side by side.

Timings are printed as measured ratios, never asserted in tests (the machine decides the numbers).
`bench` without a subject (bench.py) runs this too, at each size.
"""
from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from metrics.catalogue.definitions import Config
from metrics.ingest.loader import load_file
from metrics.sql import literal
from metrics.store.database import connect


def contacts_csv(path: Path, rows: int) -> None:
    """A contacts export of `rows` rows with the schema's column names (written by DuckDB, fast)."""
    duckdb.connect().execute(f"""
        COPY (SELECT 'K' || i AS contact_id, CASE WHEN i % 5 = 0 THEN 'email' ELSE 'phone' END AS channel,
                     TIMESTAMP '2024-01-01 08:00:00' + (i % 31536000) * INTERVAL 1 SECOND AS received_at,
                     TIMESTAMP '2024-01-01 08:00:30' + (i % 31536000) * INTERVAL 1 SECOND AS answered_at,
                     i % 17 = 0 AS abandoned, (i % 97) * 1.0 AS wait_seconds, 'cc_phones' AS department_id,
                     NULL AS staff_id, i % 4 <> 0 AS resolved_first_contact, NULL AS request_id,
                     i % 6 = 0 AS referred, 'P' || (i % 50000) AS customer_id
              FROM range({int(rows)}) t(i)) TO {literal(path)} (HEADER)""")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_ingest(config: Config, rows: int) -> dict:
    """Time a validated load and a bare read_csv of the same generated file into fresh databases."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv = tmp / "contacts.csv"
        t = time.perf_counter()
        contacts_csv(csv, rows)
        made = time.perf_counter() - t
        bare_db = duckdb.connect(str(tmp / "bare.duckdb"))
        t = time.perf_counter()
        bare_db.execute("CREATE TABLE contacts AS SELECT * FROM read_csv($f)", {"f": str(csv)})
        bare = time.perf_counter() - t
        bare_db.close()
        con = connect(tmp / "load.duckdb", config, create=True)
        t = time.perf_counter()
        result = load_file(con, config, "contacts", csv, loaded_by="bench")
        ours = time.perf_counter() - t
        con.close()
    if not result.ok:
        raise RuntimeError(f"the benchmark file did not load: {result.summary()}")
    return {"rows": rows, "file_mb": None, "generate_s": made, "bare_read_csv_s": bare, "load_s": ours,
            "bare_rows_per_s": rows / bare, "load_rows_per_s": rows / ours, "ratio": bare / ours,
            "peak_rss_mb": _peak_mb()}


def print_ingest(r: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(r, indent=2))
        return
    print(f"ingest, {r['rows']:,} rows of contacts")
    print(f"  bare DuckDB read_csv into a table : {r['bare_read_csv_s']:7.2f} s  {r['bare_rows_per_s']:>12,.0f} rows/s")
    print(f"  validated load (metrics load)     : {r['load_s']:7.2f} s  {r['load_rows_per_s']:>12,.0f} rows/s")
    print(f"  ratio (load / bare throughput)    : {r['ratio']:.2f}   (target ≥ 0.50)")
    print(f"  peak memory of this process       : {r['peak_rss_mb']:,.0f} MB")
