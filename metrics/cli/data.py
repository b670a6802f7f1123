"""The commands that build, check, load and move data: demo, check, load, unload, batches, export-parquet, bench."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from metrics.catalogue.definitions import Config
from metrics.cli.bench import DEMO_ROWS_PER_SCALE, bench_all, print_all
from metrics.cli.bench_ingest import bench_ingest, print_ingest
from metrics.cli.bench_pdf import bench_pdf, print_pdf
from metrics.cli.common import open_engine, records, writer
from metrics.demo.build import build_demo_database
from metrics.features import alerts
from metrics.errors import MetricsError, SchemaError
from metrics.ingest.loader import load_file, unload
from metrics.ingest.profiles import load_profile
from metrics.store.database import connect, schema_version
from metrics.store.export import export_parquet


def cmd_demo(args, config: Config) -> None:
    path = Path(args.db or config.database_path)
    if args.if_missing and path.exists():
        try:                         # opening it for writing upgrades an older file's schema (numbered migrations)
            con = connect(path, config)
        except SchemaError as exc:   # e.g. a running dashboard holds it (and upgraded it when it opened it)
            print(f"{path} exists; leaving it as it is ({exc})")
            return
        try:
            version = schema_version(con)
        finally:
            con.close()
        print(f"{path} exists; leaving its data as it is (schema version {version})")
        return
    result = build_demo_database(path, config, scale=args.scale, seed=args.seed, force=args.force)
    rows = result["rows"]
    print(f"built {result['path']} in {result['seconds']:.1f} s: "
          + ", ".join(f"{n:,} {t}" for t, n in rows.items() if t != "meta"))


def cmd_check(args, config: Config) -> None:
    print(f"{config.path}: OK — {len(config.departments)} departments, {len(config.sources)} sources, "
          f"{len(config.metrics)} metrics, {len(config.goals)} shared goals")


def cmd_load(args, config: Config) -> None:
    profile = load_profile(args.mapping) if args.mapping else None
    con = writer(args, config)
    log = lambda m: print(f"  {m}", file=sys.stderr, flush=True)    # noqa: E731 — stage lines
    if sys.stderr.isatty():                                          # DuckDB's own bar for long steps
        con.execute("SET enable_progress_bar = true")
    try:
        r = load_file(con, config, args.table, args.file, profile, loaded_by="cli", dry_run=args.dry_run,
                      report_dir=args.report_dir, log=log)
        fired = alerts.after_load(con, config) if r.ok and r.batch_id is not None and not r.skipped else []
    finally:
        con.close()
    if not r.ok:
        for _, p in r.problems.iterrows():
            print(f"row {p['row']}, column {p['column']}, value {p['value']!r}: {p['reason']}", file=sys.stderr)
        if r.problem_count > len(r.problems):
            print(f"... and {r.problem_count - len(r.problems):,} more", file=sys.stderr)
        raise MetricsError(r.summary())
    print(r.summary())
    if fired:
        print(f"{len(fired)} alert{'s' if len(fired) != 1 else ''} fired (python -m metrics alerts list)")


def cmd_unload(args, config: Config) -> None:
    con = writer(args, config)
    try:
        r = unload(con, args.batch)
    finally:
        con.close()
    print(f"unloaded batch {args.batch}: removed {r['removed']:,} rows from {r['table']}, restored {r['restored']:,}")


def cmd_batches(args, config: Config) -> None:
    engine = open_engine(args, config)
    df = engine.read_store("SELECT batch_id, table_name, file_name, status, rows, rows_inserted, rows_updated, "
                      "rows_dropped, round(seconds, 1) AS seconds, loaded_by, loaded_at, profile "
                      "FROM load_batches ORDER BY batch_id DESC")
    print(json.dumps(records(df), indent=2) if args.json else (df.to_string(index=False) if len(df) else "no loads yet"))


def cmd_export_parquet(args, config: Config) -> None:
    engine = open_engine(args, config)
    t = time.perf_counter()
    counts = export_parquet(engine.con, args.dir, force=args.force)
    print(f"exported {sum(counts.values()):,} rows of {len(counts)} tables to {args.dir} in {time.perf_counter() - t:.1f} s: "
          + ", ".join(f"{n:,} {k}" for k, n in counts.items() if n))


def cmd_figure_store(args, config: Config) -> None:
    """Build the figure store for the data as it is now — on Spark in batch with --engine spark — and keep it in
    the DuckDB file, where the dashboard and the command line read it."""
    engine = open_engine(args, config)
    t = time.perf_counter()
    store = engine.refresh_figures()
    took = time.perf_counter() - t
    if store.recomputed or engine.last_save_seconds is not None:
        what = (f"{len(store.recomputed)} of {len(store.metric_versions)} metrics computed on {engine.engine} in "
                f"{store.seconds:.1f} s ({store.queries} queries)")
    else:
        what = "already current"
    saved = f", kept in the file in {engine.last_save_seconds:.1f} s" if engine.last_save_seconds is not None else ""
    print(f"figure store: {store.size():,} figures; {what}{saved}; {took:.1f} s in all")


def cmd_bench(args, config: Config) -> None:
    rows = int(args.scale * DEMO_ROWS_PER_SCALE) if args.scale else (args.rows or 1_000_000)
    if rows < 1000:
        raise MetricsError("--rows must be at least 1,000 (or --scale at least 0.003)")
    if args.what == "ingest":
        return print_ingest(bench_ingest(config, rows), args.json)
    if args.what == "pdf":
        return print_pdf(bench_pdf(config), args.json)
    sizes = (sorted({int(x) for x in args.sizes.split(",")}) if args.sizes
             else sorted({s for s in (1_000_000, 3_000_000) if s < rows} | {rows}))
    print_all(bench_all(config, sizes, Path("data/bench"), pages=not args.no_pages, ingest=not args.no_ingest,
                        engine=args.engine, serve=args.serve,
                        spark_sizes={int(x) for x in args.spark_sizes.split(",")} if args.spark_sizes else None), args.json)
